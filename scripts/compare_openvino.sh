#!/usr/bin/env bash
# Tern against OpenVINO GenAI on the same random-weight checkpoint, 2 threads, alternating runs:
# prefill of a 512-token prompt, one-stream decode, 16-stream aggregate decode; OpenVINO int8 vs
# Tern Q8_0 and OpenVINO int4 (group 128, symmetric) vs Tern Q4_0. Medians of ROUNDS (default 3)
# rounds, then Tern/OpenVINO ratios; Tern's rows also give the share of the int8 peak it measures.
#
# Setup, outside the repository (OpenVINO's optimum-intel 2.2 needs transformers < 5.6):
#   python3 -m venv /tmp/ovenv && /tmp/ovenv/bin/pip install openvino-genai openvino-tokenizers optimum-intel nncf "transformers<5.6"
#   python3 scripts/make_shape_models.py /tmp/shapes qwen2.5-0.5b
#   for t in Q8_0 Q4_0; do python3 scripts/make_llamacpp_gguf.py /tmp/shapes/qwen2.5-0.5b /tmp/shapes/qwen2.5-0.5b-$t.gguf $t; done
# Usage: OV_PYTHON=/tmp/ovenv/bin/python scripts/compare_openvino.sh /tmp/shapes/qwen2.5-0.5b
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 name=$(basename "$1") rounds=${ROUNDS:-3} python=${OV_PYTHON:-/tmp/ovenv/bin/python}
exports=${OV_EXPORTS:-/tmp/ov}
swift build -c release --product tern >/dev/null
results=$(mktemp)
for round in $(seq "$rounds"); do
    for pair in "int8 Q8_0" "int4 Q4_0"; do
        set -- $pair
        "$python" scripts/openvino_bench.py "$model" "$exports/$name-$1" "$1" --repeats 1 2>/dev/null | tail -1 | sed "s/^/$1 /" | tee -a "$results"
        .build/release/tern bench --model "$(dirname "$model")/$name-$2.gguf" --threads 2 --prompt-tokens 512 --gen-tokens 128 \
            --batch 16 --repeats 1 --json | sed "s/^/$1 /" | tee -a "$results"
    done
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    precision, text = line.split(" ", 1)
    data = json.loads(text)
    engine = data.get("engine", "tern")
    rows.setdefault((precision, engine), []).append(data)
def med(precision, engine, key):
    return statistics.median(float(r[key]) for r in rows[(precision, engine)])
print("figure | OpenVINO int8 | Tern Q8_0 | Tern/OV | OpenVINO int4 | Tern Q4_0 | Tern/OV")
for label, key in (("prefill pp512", "prefill_tokens_per_s"), ("decode, 1 stream", "decode_tokens_per_s"),
                   ("decode, 16 streams aggregate", "batch_decode_tokens_per_s")):
    cells = []
    for precision in ("int8", "int4"):
        ov, tern = med(precision, "openvino-genai", key), med(precision, "tern", key)
        cells += [f"{ov:.1f}", f"{tern:.1f}", f"{tern / ov:.2f}"]
    print(f"{label} | " + " | ".join(cells))
for precision, tern_type in (("int8", "Q8_0"), ("int4", "Q4_0")):
    print(f"Tern {tern_type}: prefill_peak_share {med(precision, 'tern', 'prefill_peak_share'):.3f}, "
          f"batch_peak_share {med(precision, 'tern', 'batch_peak_share'):.3f} of {med(precision, 'tern', 'mac_peak_gmacs'):.0f} GMAC/s measured")
PY
