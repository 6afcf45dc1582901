#!/usr/bin/env bash
# llama.cpp reading what `tern quantize` writes: each model in each type, greedy text from
# llama.cpp's llama-simple and from `tern run` on the same file, printed one under the other.
# Usage: LLAMA_SIMPLE=/path/llama-simple scripts/check_gguf_llamacpp.sh ["Once upon a time"]
#   MODELS: folders to write (default the demo model), e.g. the family fixtures:
#     MODELS="$(echo Tests/Fixtures/families/{chatglm3-6b,baichuan2-7b-chat,baichuan2-13b-chat,qwen-7b-chat})" TYPES="none q8_0"
#   TYPES: quantizations (default none q8_0 q4_0 q4_k).
set -euo pipefail
cd "$(dirname "$0")/.."
prompt=${1:-"Once upon a time"}
swift build -c release --product tern >/dev/null 2>&1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for model in ${MODELS:-Models/tern-demo}; do
    for q in ${TYPES:-none q8_0 q4_0 q4_k}; do
        .build/release/tern quantize --model "$model" --type "$q" --output "$out/$q.gguf" >/dev/null
        echo "== $(basename "$model") $q"
        echo "llama.cpp: $(LD_LIBRARY_PATH="$(dirname "$LLAMA_SIMPLE")" "$LLAMA_SIMPLE" -m "$out/$q.gguf" -n 24 "$prompt" 2>/dev/null | tr '\n\t' '  ')"
        echo "tern:      $prompt$(.build/release/tern run --model "$out/$q.gguf" --prompt "$prompt" --max-tokens 24 --temperature 0 | tr '\n\t' '  ')"
    done
done
