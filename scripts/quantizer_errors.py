#!/usr/bin/env python3
"""llama.cpp's quantizers on the rows Tests/TernTests/QuantizerTests.swift uses: the relative RMS
error of each mix type, for comparing Tern's quantizers with llama.cpp's (no importance matrix).
Run by hand with llama.cpp's shared library built (see BENCHMARKS.md):
    python3 scripts/quantizer_errors.py /path/to/llama.cpp/build/bin/libggml-base.so
"""
import ctypes
import sys

import numpy as np
from gguf import GGMLQuantizationType as T, GGML_QUANT_SIZES
from gguf.quants import dequantize


def kernel_test_random(count, seed):
    """KernelTests.random: a 64-bit LCG, values in [-1, 1]."""
    state, mask, out = seed, (1 << 64) - 1, []
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        out.append(np.float32(((state >> 11) % 2_000_001) / 1_000_000) - np.float32(1))
    return np.array(out, np.float32)


def weights(count, seed):
    uniform = (kernel_test_random(2 * count, seed) + 1) / 2
    u1, u2 = np.maximum(uniform[0::2], 1e-7), uniform[1::2]
    normal = np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.float32(np.pi) * u2)
    scale = np.where(np.arange(count) % 97 == 0, 5, 1).astype(np.float32)
    return (normal * scale * np.float32(0.02)).astype(np.float32)


def main():
    ggml = ctypes.CDLL(sys.argv[1])
    ggml.ggml_quantize_chunk.restype = ctypes.c_size_t
    ggml.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                         ctypes.c_int64, ctypes.c_void_p]
    rows, columns = 64, 512
    x = weights(rows * columns, 3).reshape(rows, columns)
    for kind in [T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q5_0, T.Q5_1]:
        block, size = GGML_QUANT_SIZES[kind]
        out = np.zeros(rows * columns // block * size, np.uint8)
        ggml.ggml_quantize_chunk(int(kind), x.ctypes.data, out.ctypes.data, 0, rows, columns, None)
        y = dequantize(out.reshape(rows, -1), kind)
        print(f"{kind.name}: relative RMS error {np.sqrt(np.sum((x - y) ** 2) / np.sum(x ** 2)):.4f}")


if __name__ == "__main__":
    main()
