#!/usr/bin/env python3
"""Writes random-weight checkpoints with the exact shapes and configs of Qwen2.5-0.5B and
Llama-3.2-1B (bf16 safetensors), so `tern bench` measures on real shapes without a download.

    python3 scripts/make_shape_models.py OUTPUT_DIR [qwen2.5-0.5b] [llama-3.2-1b]
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

CONFIGS = {
    "qwen2.5-0.5b": {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864,
        "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
        "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": True,
        "use_sliding_window": False, "sliding_window": 32768, "bos_token_id": 151643, "eos_token_id": 151643,
        "torch_dtype": "bfloat16",
    },
    "llama-3.2-1b": {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192,
        "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64,
        "vocab_size": 128256, "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
        "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 8192},
        "tie_word_embeddings": True, "attention_bias": False, "mlp_bias": False, "bos_token_id": 128000,
        "eos_token_id": 128001, "torch_dtype": "bfloat16",
    },
}


def tensors(c):
    h, ff, heads, kv = c["hidden_size"], c["intermediate_size"], c["num_attention_heads"], c["num_key_value_heads"]
    d = c.get("head_dim", h // heads)
    bias = c["model_type"] == "qwen2"
    yield "model.embed_tokens.weight", (c["vocab_size"], h)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}"
        yield f"{p}.input_layernorm.weight", (h,)
        yield f"{p}.post_attention_layernorm.weight", (h,)
        for name, shape in [("q_proj", (heads * d, h)), ("k_proj", (kv * d, h)), ("v_proj", (kv * d, h))]:
            yield f"{p}.self_attn.{name}.weight", shape
            if bias:
                yield f"{p}.self_attn.{name}.bias", (shape[0],)
        yield f"{p}.self_attn.o_proj.weight", (h, heads * d)
        yield f"{p}.mlp.gate_proj.weight", (ff, h)
        yield f"{p}.mlp.up_proj.weight", (ff, h)
        yield f"{p}.mlp.down_proj.weight", (h, ff)
    yield "model.norm.weight", (h,)


def bf16(values):
    return (values.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)


def write(name, out_dir):
    c = CONFIGS[name]
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    # A small real tokenizer (the Qwen2-style test fixture's) so `tern serve` can load the folder too.
    fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "models", "qwen2-bpe")
    for file in ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja"]:
        shutil.copy(os.path.join(fixture, file), folder)
    json.dump(c, open(os.path.join(folder, "config.json"), "w"), indent=2)
    rng = np.random.default_rng(0)
    header, offset, shapes = {}, 0, list(tensors(c))
    for tensor, shape in shapes:
        size = int(np.prod(shape)) * 2
        header[tensor] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for tensor, shape in shapes:
            if tensor.endswith("norm.weight"):
                values = np.ones(shape, dtype=np.float32)
            else:
                values = rng.standard_normal(shape, dtype=np.float32) * (0.5 / np.sqrt(shape[-1]))
            f.write(bf16(values).tobytes())
    print("wrote", folder, f"{offset / 2**20:.0f} MiB")


if __name__ == "__main__":
    target = sys.argv[1]
    for model in sys.argv[2:] or list(CONFIGS):
        write(model, target)
