#!/usr/bin/env bash
# Perplexity of a model in f32 and in each quantized type on a fixed text, to see what
# quantization costs. Usage: scripts/quant_perplexity.sh [MODEL_DIR] [TEXT_FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-Tests/Fixtures/models/qwen2-bpe}
text=${2:-Tests/Fixtures/perplexity.txt}
swift build -c release --product tern >/dev/null
for q in none q8_0 q4_0 q4_k; do
    .build/release/tern perplexity --model "$model" --file "$text" --quantization "$q"
done
