#!/usr/bin/env bash
# Tern against OpenVINO GenAI on the same random-weight checkpoint, 2 threads, alternating runs:
# prefill of a 512-token prompt, one-stream decode, 16-stream aggregate decode; OpenVINO int8 vs
# Tern Q8_0 and OpenVINO int4 (group 128, symmetric) vs Tern Q4_0 and Q4_K_M. Medians of ROUNDS
# (default 3) rounds, then Tern/OpenVINO ratios; Tern's rows also give the share of the int8 peak
# it measures.
#
# Setup, outside the repository (OpenVINO's optimum-intel 2.2 needs transformers < 5.6):
#   python3 -m venv /tmp/ovenv && /tmp/ovenv/bin/pip install openvino-genai openvino-tokenizers optimum-intel nncf "transformers<5.6"
#   python3 scripts/make_shape_models.py /tmp/shapes qwen2.5-0.5b
#   for t in Q8_0 Q4_0 Q4_K_M; do python3 scripts/make_llamacpp_gguf.py /tmp/shapes/qwen2.5-0.5b /tmp/shapes/qwen2.5-0.5b-$t.gguf $t; done
# Usage: OV_PYTHON=/tmp/ovenv/bin/python scripts/compare_openvino.sh /tmp/shapes/qwen2.5-0.5b
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 name=$(basename "$1") rounds=${ROUNDS:-3} python=${OV_PYTHON:-/tmp/ovenv/bin/python}
exports=${OV_EXPORTS:-/tmp/ov}
swift build -c release --product tern >/dev/null
results=$(mktemp)
for round in $(seq "$rounds"); do
    for precision in int8 int4; do
        "$python" scripts/openvino_bench.py "$model" "$exports/$name-$precision" "$precision" --repeats 1 2>/dev/null | tail -1 \
            | sed "s/^/$precision OV /" | tee -a "$results"
        types=$([ "$precision" = int8 ] && echo Q8_0 || echo "Q4_0 Q4_K_M")
        for type in $types; do
            .build/release/tern bench --model "$(dirname "$model")/$name-$type.gguf" --threads 2 --prompt-tokens 512 --gen-tokens 128 \
                --batch 16 --repeats 1 --json | sed "s/^/$precision $type /" | tee -a "$results"
        done
    done
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    precision, engine, text = line.split(" ", 2)
    rows.setdefault((precision, engine), []).append(json.loads(text))
def med(precision, engine, key):
    return statistics.median(float(r[key]) for r in rows[(precision, engine)])
pairs = (("int8", "Q8_0"), ("int4", "Q4_0"), ("int4", "Q4_K_M"))
print("figure | " + " | ".join(f"OpenVINO {p} | Tern {t} | Tern/OV" for p, t in pairs))
for label, key in (("prefill pp512", "prefill_tokens_per_s"), ("decode, 1 stream", "decode_tokens_per_s"),
                   ("decode, 16 streams aggregate", "batch_decode_tokens_per_s")):
    cells = []
    for precision, tern_type in pairs:
        ov, tern = med(precision, "OV", key), med(precision, tern_type, key)
        cells += [f"{ov:.1f}", f"{tern:.1f}", f"{tern / ov:.2f}"]
    print(f"{label} | " + " | ".join(cells))
for precision, tern_type in pairs:
    print(f"Tern {tern_type}: prefill_peak_share {med(precision, tern_type, 'prefill_peak_share'):.3f}, "
          f"batch_peak_share {med(precision, tern_type, 'batch_peak_share'):.3f} of {med(precision, tern_type, 'mac_peak_gmacs'):.0f} GMAC/s measured")
PY
