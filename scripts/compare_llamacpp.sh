#!/usr/bin/env bash
# Tern and llama.cpp on the same shapes and weight types, in one run, alternating so that the
# machine's drift hits both alike. Needs: shape models from make_shape_models.py, their GGUF
# twins from make_llamacpp_gguf.py, and LLAMA_BENCH pointing at a llama-bench binary.
# A Q4_K twin comes from llama.cpp's own quantizer (`llama-quantize --pure --output-tensor-type q8_0
# --token-embedding-type q8_0 F16.gguf OUT.gguf Q4_K_S`); a type whose twin is missing is skipped.
# Types: q8_0, q4_0, q4_k (Tern quantizes the safetensors at load), none (Tern's BF16 safetensors
# against llama.cpp's F16 file), f16 (both run the same F16 GGUF file).
# Usage: LLAMA_BENCH=/path/llama-bench scripts/compare_llamacpp.sh MODELS_DIR qwen2.5-0.5b "q8_0 q4_0 q4_k f16"
set -euo pipefail
cd "$(dirname "$0")/.."
models=$1 shape=$2 types=${3:-"q8_0 q4_0 none"}
swift build -c release --product tern >/dev/null
for q in $types; do
    gguf="$models/$shape-${q/none/f16}.gguf"
    [ -f "$gguf" ] || { echo "== $shape $q: no $gguf, skipped"; continue; }
    echo "== $shape $q"
    # "f16": Tern runs llama.cpp's own F16 file; the other types quantize the safetensors at load.
    if [ "$q" = f16 ]; then source=(--model "$gguf"); else source=(--model "$models/$shape" --quantization "$q"); fi
    .build/release/tern bench "${source[@]}" --prompt-tokens 512 --gen-tokens 128 --repeats 3 --json
    LD_LIBRARY_PATH="$(dirname "$LLAMA_BENCH")" "$LLAMA_BENCH" -m "$gguf" -p 512 -n 128 -t 2 -r 3 -o csv 2>/dev/null \
        | tr -d '"' | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
            { printf "llama.cpp %s weights %.1f MiB: pp%s/tg%s %.2f tokens/s\n", $col["model_type"], $col["model_size"] / 1048576, $col["n_prompt"], $col["n_gen"], $col["avg_ts"] }' 
done
