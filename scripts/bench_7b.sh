#!/usr/bin/env bash
# The 7B rows of BENCHMARKS.md: Tern and llama.cpp on the same 7B-shape GGUF files (made by
# scripts/make_7b_shape_gguf.py and llama-quantize), in one run, engine after engine per file:
#   - startup: `tern serve` until /health answers 200 (median of 3), against `cat FILE > /dev/null` (warm cache)
#   - memory: resident memory after load and its peak, against the file size; `tern estimate`'s total
#   - speed: pp512 and tg128 (3 repeats; Tern medians, llama-bench means), default f16 KV caches
#   - with LONG=1 (first file only): pp4096 and tg128 after 4096 tokens of context (1 repeat)
# Usage: LLAMA_BIN=/path/to/llama.cpp/build/bin scripts/bench_7b.sh FILE.gguf [FILE.gguf ...]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product tern >/dev/null
tern=.build/release/tern
export LD_LIBRARY_PATH="$LLAMA_BIN"
llama_bench() {
    "$LLAMA_BIN/llama-bench" -m "$1" -t 2 "${@:2}" -o csv 2>/dev/null | tr -d '"' \
        | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
            { printf "llama.cpp: pp%s/tg%s depth %s %.2f tokens/s\n", $col["n_prompt"], $col["n_gen"], $col["n_depth"], $col["avg_ts"] }'
}
startup_once() {
    local port=18777 start
    start=$(date +%s.%N)
    $tern serve --model "$1" --port $port --threads 2 >/tmp/tern-bench-7b-serve.log 2>&1 &
    local pid=$!
    until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.05; done
    awk "BEGIN { printf \"%.2f\\n\", $(date +%s.%N) - $start }"
    kill $pid
    wait $pid 2>/dev/null || true
}
startup() {
    local times
    times=$(for _ in 1 2 3; do startup_once "$1"; done | sort -n | tr '\n' ' ')
    echo "tern serve: /health 200 after $(echo "$times" | awk '{ print $2 }') s (median of $times); $(grep -o 'resident memory.*' /tmp/tern-bench-7b-serve.log)"
}
first=1
for file in "$@"; do
    echo "== $(basename "$file") $(du -m "$file" | cut -f1) MiB ($(stat -c %s "$file") bytes)"
    cat "$file" >/dev/null
    /usr/bin/time -f "cat FILE > /dev/null: %e s" cat "$file" >/dev/null
    startup "$file"
    $tern estimate --model "$file" --max-model-len 640 --max-num-seqs 1 --max-num-batched-tokens 512 --json | sed 's/^/tern estimate (640 tokens, 1 sequence): /'
    $tern bench --model "$file" --prompt-tokens 512 --gen-tokens 128 --repeats 3 --threads 2 --json | sed 's/^/tern: /'
    llama_bench "$file" -p 512 -n 128 -r 3
    if [ "${LONG:-0}" = 1 ] && [ $first = 1 ]; then
        $tern bench --model "$file" --prompt-tokens 4096 --gen-tokens 128 --depth 4096 --repeats 1 --threads 2 --json | sed 's/^/tern long: /'
        llama_bench "$file" -p 4096 -n 0 -r 1
        llama_bench "$file" -p 0 -n 128 -d 4096 -r 1
    fi
    first=0
done
