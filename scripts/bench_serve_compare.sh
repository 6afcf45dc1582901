#!/usr/bin/env bash
# `tern serve` against `llama-server -np 16` on the same GGUF file, one after the other on
# 127.0.0.1: scripts/bench_serve.py with one client, then 16 concurrent streaming clients
# (REQUESTS requests of MAX_TOKENS tokens each, default 16 and 64), aggregate output tokens/s.
# Usage: LLAMA_BIN=/path/to/llama.cpp/build/bin scripts/bench_serve_compare.sh FILE.gguf
set -euo pipefail
cd "$(dirname "$0")/.."
file=$1 port=18799 requests=${REQUESTS:-16} max_tokens=${MAX_TOKENS:-64}
swift build -c release --product tern >/dev/null
wait_healthy() { until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.2; done; }
load() {
    echo "-- $1, 1 client"
    python3 scripts/bench_serve.py --url "http://127.0.0.1:$port" --model bench --clients 1 --requests 2 --max-tokens "$max_tokens" | grep -E "requests,|output"
    echo "-- $1, 16 clients"
    python3 scripts/bench_serve.py --url "http://127.0.0.1:$port" --model bench --clients 16 --requests "$requests" --max-tokens "$max_tokens" \
        | grep -E "requests,|output|TTFT|inter-token"
}
.build/release/tern serve --model "$file" --served-model-name bench --port $port --threads 2 --max-num-seqs 16 --max-model-len 4096 \
    --host 127.0.0.1 >/tmp/bench-serve-tern.log 2>&1 &
pid=$!
wait_healthy
load "tern serve"
kill $pid && wait $pid 2>/dev/null || true
LD_LIBRARY_PATH="$LLAMA_BIN" "$LLAMA_BIN/llama-server" -m "$file" --alias bench --port $port -t 2 -np 16 -c $((16 * 1024)) \
    --host 127.0.0.1 >/tmp/bench-serve-llama.log 2>&1 &
pid=$!
wait_healthy
load "llama-server -np 16"
kill $pid && wait $pid 2>/dev/null || true
