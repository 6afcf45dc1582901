#!/usr/bin/env bash
# Tern and llama.cpp on the same GGUF files of llama-quantize's mixes, in one run, alternating so
# the machine's drift hits both alike: `tern bench` and `llama-bench` (pp512, tg128, 2 threads)
# on each mix made from one F16 GGUF (e.g. from make_shape_models.py + make_llamacpp_gguf.py).
# Usage: LLAMA_BIN=/path/to/llama.cpp/build/bin scripts/compare_gguf_mixes.sh F16.gguf ["Q6_K Q5_K_M Q4_K_M"]
set -euo pipefail
cd "$(dirname "$0")/.."
source=$1
mixes=${2:-"Q6_K Q5_K_M Q5_0 Q5_1 Q4_K_M Q4_1 IQ4_NL IQ4_XS Q3_K_M Q2_K"}
swift build -c release --product tern >/dev/null
export LD_LIBRARY_PATH="$LLAMA_BIN"
for mix in $mixes; do
    file="${source%-f16.gguf}-$mix.gguf"
    [ -f "$file" ] || "$LLAMA_BIN/llama-quantize" "$source" "$file" "$mix" >/dev/null 2>&1
    echo "== $mix $(du -m "$file" | cut -f1) MiB"
    .build/release/tern bench --model "$file" --prompt-tokens 512 --gen-tokens 128 --repeats 3 --threads 2 \
        | grep -E "prefill|decode" | sed 's/^/tern: /'
    "$LLAMA_BIN/llama-bench" -m "$file" -p 512 -n 128 -t 2 -r 3 -o csv 2>/dev/null | tr -d '"' \
        | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
            { printf "llama.cpp: pp%s/tg%s %.2f tokens/s\n", $col["n_prompt"], $col["n_gen"], $col["avg_ts"] }'
done
