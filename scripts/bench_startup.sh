#!/usr/bin/env bash
# Startup of a model saved by `tern quantize`: writes MODEL_DIR as GGUF once per type, then times
# whole `tern run` processes that load it (memory-mapped), read a prompt and make one token.
# Prints the median of 5 runs next to the same model quantized at load from safetensors.
# Usage: scripts/bench_startup.sh MODEL_DIR ["q8_0 q4_0 q4_k"]
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 types=${2:-"q8_0 q4_0 q4_k"}
swift build -c release --product tern >/dev/null 2>&1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
timed() { for _ in 1 2 3 4 5; do /usr/bin/time -f %e "$@" >/dev/null 2>>"$out/times" || exit 1; tail -1 "$out/times"; done | median; }
for q in $types; do
    .build/release/tern quantize --model "$model" --type "$q" --output "$out/$q.gguf" >/dev/null
    file=$(timed .build/release/tern run --model "$out/$q.gguf" --prompt "Hello" --max-tokens 1 --temperature 0)
    load=$(timed .build/release/tern run --model "$model" --quantization "$q" --prompt "Hello" --max-tokens 1 --temperature 0)
    echo "$q: GGUF $(du -m "$out/$q.gguf" | cut -f1) MiB starts in ${file}s; safetensors quantized at load ${load}s (median of 5 processes)"
done
