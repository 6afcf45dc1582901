#!/usr/bin/env bash
# Structured output's cost: `tern serve` on FILE, 1 and 16 streaming clients (scripts/bench_serve.py),
# each without a constraint and with a JSON schema, alternated ROUNDS times (default 3) after one
# warm-up round that fills the schema's mask cache. Prints every run's output tokens/s and the
# engine's non-forward share, then medians and with/without ratios.
# SCHEMA (default scripts/bench/numbers_schema.json) keeps every answer longer than MAX_TOKENS, so
# both sides generate the same token counts; scripts/bench/people_schema.json is a realistic one.
# Usage: scripts/bench_structured.sh FILE.gguf [CHAT_TEMPLATE]
set -euo pipefail
cd "$(dirname "$0")/.."
file=$1 template=${2:-Tests/Fixtures/templates/llama3.jinja}
port=18798 rounds=${ROUNDS:-3} max_tokens=${MAX_TOKENS:-64} schema=${SCHEMA:-scripts/bench/numbers_schema.json}
swift build -c release --product tern >/dev/null
.build/release/tern serve --model "$file" --served-model-name bench --port $port --threads 2 --max-num-seqs 16 \
    --chat-template "$template" --host 127.0.0.1 >/tmp/bench-structured.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.2; done
results=$(mktemp)
run() { # clients label extra-args...
    local clients=$1 label=$2; shift 2
    local out
    out=$(python3 scripts/bench_serve.py --url "http://127.0.0.1:$port" --model bench --clients "$clients" --requests "$clients" \
        --max-tokens "$max_tokens" "$@")
    local rate overhead
    rate=$(echo "$out" | sed -n 's/^output \([0-9.]*\) tokens.*/\1/p')
    overhead=$(echo "$out" | sed -n 's/^scheduler overhead \([0-9.]*\)%.*/\1/p')
    echo "$clients $label $rate $overhead" | tee -a "$results"
}
for clients in 1 16; do run "$clients" warmup --schema "$schema" >/dev/null; done
: >"$results"
echo "clients kind tokens/s non-forward-%"
for round in $(seq "$rounds"); do
    for clients in 1 16; do
        run "$clients" plain
        run "$clients" schema --schema "$schema"
    done
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for clients in ("1", "16"):
    plain = statistics.median(float(r[2]) for r in rows if r[0] == clients and r[1] == "plain")
    schema = statistics.median(float(r[2]) for r in rows if r[0] == clients and r[1] == "schema")
    print(f"{clients:>2} clients: median {plain:.1f} tokens/s without, {schema:.1f} with a schema: {schema / plain:.3f} of the rate without")
PY
