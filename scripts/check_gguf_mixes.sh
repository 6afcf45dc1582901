#!/usr/bin/env bash
# llama.cpp's own quantization mixes read by Tern: the demo model converted by `tern quantize`,
# quantized by llama-quantize into every mix, then on the same file
# - greedy text from llama.cpp's llama-simple and from `tern run` (both stop at the end token),
#   printed one under the other with "same" or "DIFFERENT";
# - perplexity on a text from llama-perplexity and from `tern perplexity --method llama.cpp` (the
#   same chunks and scored halves), with their ratio and "within 1%" or "APART".
# Usage: LLAMA_BIN=/path/to/llama.cpp/build/bin scripts/check_gguf_mixes.sh ["Tell me a fortune"] [MIXES] [TEXT] [CONTEXT]
set -euo pipefail
cd "$(dirname "$0")/.."
prompt=${1:-"Once upon a time"}
mixes=${2:-"Q8_0 Q6_K Q5_K_M Q5_K_S Q5_1 Q5_0 Q4_K_M Q4_K_S Q4_1 Q4_0 IQ4_NL IQ4_XS Q3_K_L Q3_K_M Q3_K_S Q2_K"}
text=${3:-README.md}
context=${4:-128}
swift build -c release --product tern >/dev/null 2>&1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
.build/release/tern quantize --model Models/tern-demo --type none --output "$out/source.gguf" >/dev/null
export LD_LIBRARY_PATH="$LLAMA_BIN"
for mix in $mixes; do
    "$LLAMA_BIN/llama-quantize" "$out/source.gguf" "$out/$mix.gguf" "$mix" >"$out/quantize.log" 2>&1
    types=$(.build/release/tern info --model "$out/$mix.gguf" | grep -i "dtypes\|types" | head -1)
    theirs=$("$LLAMA_BIN/llama-simple" -m "$out/$mix.gguf" -n 32 "$prompt" 2>/dev/null | tr '\n\t' '  ')
    ours="$prompt$(.build/release/tern run --model "$out/$mix.gguf" --prompt "$prompt" --max-tokens 32 --temperature 0 | tr '\n\t' '  ')"
    verdict=$([ "${theirs# }" = "${ours# }" ] && echo same || echo DIFFERENT)
    echo "== $mix ($verdict) $types"
    echo "llama.cpp: $theirs"
    echo "tern:      $ours"
    theirs_ppl=$("$LLAMA_BIN/llama-perplexity" -m "$out/$mix.gguf" -f "$text" -c "$context" -b "$context" -t 2 2>&1 \
        | sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p')
    ours_ppl=$(.build/release/tern perplexity --model "$out/$mix.gguf" --file "$text" --context "$context" --method llama.cpp \
        | sed -n 's/.*perplexity \([0-9.]*\).*/\1/p')
    echo "perplexity: llama.cpp $theirs_ppl, tern $ours_ppl" \
        "$(awk -v a="$theirs_ppl" -v b="$ours_ppl" 'BEGIN { r = b / a; printf "(ratio %.4f, %s)", r, (r > 0.99 && r < 1.01) ? "within 1%" : "APART" }')"
done
