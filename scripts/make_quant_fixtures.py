#!/usr/bin/env python3
"""Writes Tests/Fixtures/quant/reference.json: rows quantized and dequantized by the `gguf`
package (llama.cpp's reference formats in numpy), for checking Tern's block layouts: Q8_0/Q4_0
quantized from floats, every other type as random blocks with finite f16 scales.
Run by hand: pip install gguf numpy.
"""
import json
import os

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType as T
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
    # Random blocks: the f16 fields (at these byte offsets) get small finite values, the rest any bits.
    scale_offsets = {T.Q4_K: [0, 2], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q2_K: [80, 82], T.Q3_K: [108],
                     T.Q5_K: [0, 2], T.Q6_K: [208], T.IQ4_NL: [0], T.IQ4_XS: [0]}
    for kind, offsets in scale_offsets.items():
        block_weights, block_bytes = GGML_QUANT_SIZES[kind]
        blocks = []
        for _ in range(512 // block_weights):
            block = bytearray(rng.integers(0, 256, block_bytes, dtype=np.uint8).tobytes())
            for offset in offsets:
                block[offset:offset + 2] = np.float16(rng.uniform(0.001, 0.05)).tobytes()
            blocks.append(bytes(block))
        packed = np.frombuffer(b"".join(blocks), dtype=np.uint8).reshape(1, -1)
        cases.append({"type": kind.name, "bytes": packed.tobytes().hex(),
                      "dequantized": dequantize(packed, kind).reshape(-1).tolist()})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"cases": cases}, f)
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
