#!/usr/bin/env python3
"""Converts a shape-real checkpoint from make_shape_models.py into a GGUF file llama.cpp can
benchmark (F16, Q8_0 or Q4_0 via the gguf package), so both engines run the same weights.
The vocabulary comes from Tests/Fixtures/vocab (Qwen2's or LLaMA 3's).

    python3 scripts/make_llamacpp_gguf.py MODEL_DIR OUTPUT.gguf {F16,Q8_0,Q4_0}
"""
import json
import os
import struct
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
from gguf.quants import quantize

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "vocab")


def read_safetensors(path):
    """(name, f32 array) for every tensor of one safetensors file (F32, F16 or BF16)."""
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        base = 8 + length
    data = np.memmap(path, dtype=np.uint8, mode="r")
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = np.frombuffer(data[base + start:base + end], dtype={"F32": np.float32, "F16": np.float16, "BF16": np.uint16}[info["dtype"]])
        if info["dtype"] == "BF16":
            raw = (raw.astype(np.uint32) << 16).view(np.float32)
        yield name, raw.astype(np.float32).reshape(info["shape"])


def gguf_name(name):
    name = name.replace("model.embed_tokens", "token_embd").replace("model.norm", "output_norm").replace("lm_head", "output")
    name = name.replace("model.layers.", "blk.")
    for hf, ours in [("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"),
                     ("self_attn.o_proj", "attn_output"), ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"),
                     ("mlp.down_proj", "ffn_down"), ("input_layernorm", "attn_norm"), ("post_attention_layernorm", "ffn_norm")]:
        name = name.replace(hf, ours)
    return name


def copy_vocab(writer, vocab_file, pad_to=0):
    """The tokenizer keys of `vocab_file`; with `pad_to`, the token list grows to that many entries
    with unused "[PADn]" tokens, as llama.cpp's converter pads a vocabulary to the embedding rows."""
    reader = GGUFReader(vocab_file)
    for field in reader.fields.values():
        if not field.name.startswith("tokenizer."):
            continue
        kind = field.types[0]
        if kind == GGUFValueType.ARRAY:
            values = [field.parts[i] for i in field.data]
            if field.types[1] == GGUFValueType.STRING:
                strings = [bytes(v).decode("utf-8", errors="replace") for v in values]
                if field.name == "tokenizer.ggml.tokens":
                    strings += [f"[PAD{i}]" for i in range(len(strings), pad_to)]
                writer.add_array(field.name, strings)
            else:
                numbers = [v.tolist()[0] for v in values]
                if field.name == "tokenizer.ggml.token_type":
                    numbers += [5] * (pad_to - len(numbers))  # UNUSED
                elif field.name == "tokenizer.ggml.scores":
                    numbers += [0.0] * (pad_to - len(numbers))
                writer.add_array(field.name, numbers)
        elif kind == GGUFValueType.STRING:
            writer.add_string(field.name, bytes(field.parts[field.data[0]]).decode())
        else:
            writer.add_key_value(field.name, field.parts[field.data[0]].tolist()[0], kind)


def main():
    model_dir, output, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    config = json.load(open(os.path.join(model_dir, "config.json")))
    arch = "qwen2" if config["model_type"] == "qwen2" else "llama"
    writer = GGUFWriter(output, arch)
    h, heads = config["hidden_size"], config["num_attention_heads"]
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_context_length(4096)
    writer.add_embedding_length(h)
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_rope_freq_base(config.get("rope_theta", (config.get("rope_parameters") or {}).get("rope_theta", 10000.0)))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_file_type({"F16": 1, "Q8_0": 7, "Q4_0": 2}[kind])
    copy_vocab(writer, os.path.join(SHARED, "ggml-vocab-qwen2.gguf" if arch == "qwen2" else "ggml-vocab-llama-bpe.gguf"))
    target = {"F16": GGMLQuantizationType.F16, "Q8_0": GGMLQuantizationType.Q8_0, "Q4_0": GGMLQuantizationType.Q4_0}[kind]
    for name, tensor in read_safetensors(os.path.join(model_dir, "model.safetensors")):
        # Tern keeps the embedding / LM head in Q8_0 when it quantizes; do the same so both read equal bytes.
        kind_here = GGMLQuantizationType.Q8_0 if name.startswith(("model.embed_tokens", "lm_head")) and target != GGMLQuantizationType.F16 else target
        if tensor.ndim == 1 or kind_here == GGMLQuantizationType.F16:
            data = tensor.astype(np.float32 if tensor.ndim == 1 else np.float16)
            writer.add_tensor(gguf_name(name), data)
        else:
            writer.add_tensor(gguf_name(name), quantize(tensor, kind_here), raw_dtype=kind_here)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print("wrote", output)


if __name__ == "__main__":
    main()
