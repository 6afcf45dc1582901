#!/usr/bin/env python3
"""Writes a Q8_0 GGUF file with random weights and the exact shapes of Qwen2.5-7B or Llama-2-7B
(and the real vocabulary from Tests/Fixtures/vocab), streamed tensor by tensor so a 7B file never
needs a float copy in memory or on disk. Other types come from llama.cpp's own quantizer:

    python3 scripts/make_7b_shape_gguf.py OUT_DIR qwen2.5-7b          # OUT_DIR/qwen2.5-7b-Q8_0.gguf
    llama-quantize --allow-requantize OUT_DIR/qwen2.5-7b-Q8_0.gguf OUT_DIR/qwen2.5-7b-Q4_K_M.gguf Q4_K_M
"""
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_llamacpp_gguf import SHARED, copy_vocab  # noqa: E402

SHAPES = {
    "qwen2.5-7b": dict(arch="qwen2", vocab="ggml-vocab-qwen2.gguf", hidden=3584, ffn=18944, layers=28, heads=28, kv_heads=4,
                       vocab_rows=152064, context=32768, rope_base=1e6, eps=1e-6, qkv_bias=True),
    "llama-2-7b": dict(arch="llama", vocab="ggml-vocab-llama-spm.gguf", hidden=4096, ffn=11008, layers=32, heads=32, kv_heads=32,
                       vocab_rows=32000, context=4096, rope_base=1e4, eps=1e-5, qkv_bias=False),
}


def tensors(s):
    """(GGUF name, shape as rows x columns or a vector length) of every tensor."""
    h, d = s["hidden"], s["hidden"] // s["heads"]
    yield "token_embd.weight", (s["vocab_rows"], h)
    for i in range(s["layers"]):
        p = f"blk.{i}"
        yield f"{p}.attn_norm.weight", (h,)
        yield f"{p}.ffn_norm.weight", (h,)
        for name, rows in [("attn_q", s["heads"] * d), ("attn_k", s["kv_heads"] * d), ("attn_v", s["kv_heads"] * d)]:
            yield f"{p}.{name}.weight", (rows, h)
            if s["qkv_bias"]:
                yield f"{p}.{name}.bias", (rows,)
        yield f"{p}.attn_output.weight", (h, s["heads"] * d)
        yield f"{p}.ffn_gate.weight", (s["ffn"], h)
        yield f"{p}.ffn_up.weight", (s["ffn"], h)
        yield f"{p}.ffn_down.weight", (h, s["ffn"])
    yield "output_norm.weight", (h,)
    yield "output.weight", (s["vocab_rows"], h)


def q8_0_blocks(rng, rows, columns):
    """Random Q8_0 rows: per 32 weights an f16 scale, then 32 int8 values in [-64, 63], scaled so a
    row's weights have standard deviation about 0.5 / sqrt(columns), like the float shape models."""
    blocks = rows * columns // 32
    out = np.empty((blocks, 34), dtype=np.uint8)
    out[:, :2] = np.frombuffer(np.float16(0.5 / np.sqrt(columns) / 37).tobytes(), dtype=np.uint8)
    out[:, 2:] = (np.frombuffer(rng.bytes(blocks * 32), dtype=np.uint8).reshape(blocks, 32) & 0x7F) - 64
    return out.reshape(rows, columns // 32 * 34)


def main():
    out_dir, name = sys.argv[1], sys.argv[2]
    s = SHAPES[name]
    path = os.path.join(out_dir, f"{name}-Q8_0.gguf")
    writer = GGUFWriter(path, s["arch"])
    writer.add_block_count(s["layers"])
    writer.add_context_length(s["context"])
    writer.add_embedding_length(s["hidden"])
    writer.add_feed_forward_length(s["ffn"])
    writer.add_head_count(s["heads"])
    writer.add_head_count_kv(s["kv_heads"])
    writer.add_rope_freq_base(s["rope_base"])
    writer.add_layer_norm_rms_eps(s["eps"])
    writer.add_file_type(7)  # mostly Q8_0
    copy_vocab(writer, os.path.join(SHARED, s["vocab"]), pad_to=s["vocab_rows"])
    shapes = list(tensors(s))
    for tensor, shape in shapes:
        if len(shape) == 1:
            writer.add_tensor_info(tensor, shape, np.dtype(np.float32), shape[0] * 4)
        else:
            rows, columns = shape
            writer.add_tensor_info(tensor, (rows, columns // 32 * 34), np.dtype(np.uint8), rows * columns // 32 * 34,
                                   raw_dtype=GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    rng = np.random.default_rng(0)
    for tensor, shape in shapes:
        if len(shape) == 1:
            values = np.ones(shape, np.float32) if tensor.endswith("norm.weight") else rng.standard_normal(shape, dtype=np.float32) * 0.02
            writer.write_tensor_data(values)
        else:
            writer.write_tensor_data(q8_0_blocks(rng, *shape))
    writer.close()
    print("wrote", path, f"{os.path.getsize(path) / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
