#!/usr/bin/env bash
# GPTQ-Int4 and AWQ checkpoints of a shape model against the same model as llama-quantize's
# Q4_K_S and Q4_K_M GGUF files, all run by `tern bench` (pp512, tg128, 2 threads) in one run,
# alternating so the machine's drift hits all alike. The packed checkpoints keep their f16
# embedding and LM head as GPTQ and AWQ releases do; the GGUF files have llama-quantize's Q6_K head.
# Usage: LLAMA_BIN=/path/to/llama.cpp/build/bin scripts/compare_packed_checkpoints.sh SHAPE_DIR
#   (SHAPE_DIR from make_shape_models.py, with SHAPE_DIR-f16.gguf from make_llamacpp_gguf.py)
set -euo pipefail
cd "$(dirname "$0")/.."
shape=$1
swift build -c release --product tern >/dev/null
for variant in gptq-int4 awq-int4; do
    [ -d "$shape-$variant" ] || python3 scripts/make_packed_fixtures.py --model "$shape" --variant "$variant" --out "$shape-$variant" >/dev/null
done
for mix in Q4_K_S Q4_K_M; do
    [ -f "$shape-$mix.gguf" ] || LD_LIBRARY_PATH="$LLAMA_BIN" "$LLAMA_BIN/llama-quantize" "$shape-f16.gguf" "$shape-$mix.gguf" "$mix" >/dev/null 2>&1
done
for model in "$shape-gptq-int4" "$shape-awq-int4" "$shape-Q4_K_S.gguf" "$shape-Q4_K_M.gguf"; do
    echo "== $(basename "$model") $(du -sm "$model" | cut -f1) MiB"
    .build/release/tern bench --model "$model" --prompt-tokens 512 --gen-tokens 128 --repeats 3 --threads 2 | grep -E "^model |prefill|decode"
done
