#!/usr/bin/env bash
# llama.cpp reading what `tern quantize` writes: the demo model in every type, greedy text from
# llama.cpp's llama-simple and from `tern run` on the same file, printed one under the other.
# Usage: LLAMA_SIMPLE=/path/llama-simple scripts/check_gguf_llamacpp.sh ["Once upon a time"]
set -euo pipefail
cd "$(dirname "$0")/.."
prompt=${1:-"Once upon a time"}
swift build -c release --product tern >/dev/null 2>&1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for q in none q8_0 q4_0 q4_k; do
    .build/release/tern quantize --model Models/tern-demo --type "$q" --output "$out/$q.gguf" >/dev/null
    echo "== $q"
    echo "llama.cpp: $(LD_LIBRARY_PATH="$(dirname "$LLAMA_SIMPLE")" "$LLAMA_SIMPLE" -m "$out/$q.gguf" -n 24 "$prompt" 2>/dev/null | tr '\n\t' '  ')"
    echo "tern:      $prompt$(.build/release/tern run --model "$out/$q.gguf" --prompt "$prompt" --max-tokens 24 --temperature 0 | tr '\n\t' '  ')"
done
