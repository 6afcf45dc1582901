#!/usr/bin/env python3
"""Writes Tests/Fixtures/quant/reference.json: rows quantized and dequantized by the `gguf`
package (llama.cpp's reference formats in numpy), for checking Tern's Q8_0/Q4_0/Q4_K layouts.
Run by hand: pip install gguf numpy.
"""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "quant", "reference.json")


def main():
    rng = np.random.default_rng(0)
    cases = []
    for name, kind, count in [("Q8_0", T.Q8_0, 96), ("Q4_0", T.Q4_0, 96)]:
        x = (rng.standard_normal(count) * rng.uniform(0.01, 3)).astype(np.float32)
        x[5] = 0  # a zero weight and an all-zero block exercise the zero scale
        if kind == T.Q8_0:
            x[64:96] = 0
        packed = quantize(x.reshape(1, -1), kind)
        cases.append({"type": name, "input": x.tolist(), "bytes": packed.tobytes().hex(),
                      "dequantized": dequantize(packed, kind).reshape(-1).tolist()})
    # Q4_K: random bytes with finite f16 scales, dequantized by the reference.
    blocks = []
    for _ in range(2):
        d = np.array([rng.uniform(0.001, 0.05), rng.uniform(0.001, 0.05)], dtype=np.float16).tobytes()
        blocks.append(d + rng.integers(0, 256, 12 + 128, dtype=np.uint8).tobytes())
    packed = np.frombuffer(b"".join(blocks), dtype=np.uint8).reshape(1, -1)
    cases.append({"type": "Q4_K", "bytes": packed.tobytes().hex(),
                  "dequantized": dequantize(packed, T.Q4_K).reshape(-1).tolist()})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"cases": cases}, f)
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
