"""`tern quantize` output read by llama.cpp's own Python reader (the `gguf` package): llama.cpp's
names, q/k row order, block bytes, rotary factors and metadata types, checked against the
safetensors weights with llama.cpp's reference quantizer."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader
from gguf.quants import dequantize, quantize

from conftest import BINARY, ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from make_llamacpp_gguf import gguf_name, read_safetensors  # noqa: E402  (the scripts folder is not a package)

MODELS = os.path.join(ROOT, "Tests", "Fixtures", "models")


def read_checkpoint(folder):
    return {name: weight for file in sorted(os.listdir(folder)) if file.endswith(".safetensors")
            for name, weight in read_safetensors(os.path.join(folder, file))}


def llama_permute(weight, heads):
    """llama.cpp's converter order for LLaMA q/k rows: rotated pairs adjacent."""
    return weight.reshape(heads, 2, weight.shape[0] // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def write_gguf(tmp_path, model, kind):
    output = str(tmp_path / f"{model}-{kind}.gguf")
    subprocess.run([BINARY, "quantize", "--model", os.path.join(MODELS, model), "--type", kind, "--output", output], check=True,
                   capture_output=True)
    return GGUFReader(output)


def field(reader, key):
    return reader.fields[key].contents()


def expected_tensors(folder):
    """The folder's weights by GGUF name, q/k rows in llama.cpp's order for LLaMA models."""
    config = json.load(open(os.path.join(folder, "config.json")))
    permute = config["model_type"] != "qwen2"
    kv_heads = config.get("num_key_value_heads", config["num_attention_heads"])
    for name, weight in read_checkpoint(folder).items():
        if permute and ".q_proj." in name:
            weight = llama_permute(weight, config["num_attention_heads"])
        if permute and ".k_proj." in name:
            weight = llama_permute(weight, kv_heads)
        yield gguf_name(name), weight


def relative_rms_error(values, reference):
    return np.sqrt(np.mean((values - reference) ** 2)) / np.sqrt(np.mean(reference ** 2))


@pytest.mark.parametrize("model", ["llama3-bpe", "qwen2-bpe", "llama2-spm"])
def test_q8_0_blocks_equal_llama_cpp_quantizer(tmp_path, model):
    reader = write_gguf(tmp_path, model, "q8_0")
    stored = {t.name: t for t in reader.tensors}
    for name, weight in expected_tensors(os.path.join(MODELS, model)):
        tensor = stored.pop(name)
        if weight.ndim == 1:
            assert tensor.tensor_type == GGMLQuantizationType.F32
            np.testing.assert_array_equal(np.asarray(tensor.data), weight, err_msg=name)
        else:
            assert tensor.tensor_type == GGMLQuantizationType.Q8_0, name
            assert bytes(np.asarray(tensor.data)) == bytes(quantize(weight, GGMLQuantizationType.Q8_0)), name
    assert set(stored) <= {"rope_freqs.weight"}


def test_q4_k_dequantizes_near_the_weights(tmp_path):
    reader = write_gguf(tmp_path, "llama3-bpe", "q4_k")
    stored = {t.name: t for t in reader.tensors}
    types = {t.tensor_type for t in reader.tensors}
    # Rows of 64 weights cannot be Q4_K super-blocks: those fall back to Q4_0.
    assert GGMLQuantizationType.Q4_0 in types or GGMLQuantizationType.Q4_K in types
    for name, weight in expected_tensors(os.path.join(MODELS, "llama3-bpe")):
        if weight.ndim == 1:
            continue
        tensor = stored[name]
        values = dequantize(np.asarray(tensor.data), tensor.tensor_type).reshape(weight.shape)
        error = relative_rms_error(values, weight)
        assert error < 0.12, f"{name} ({tensor.tensor_type.name}): relative RMS error {error:.3f}"


def test_demo_model_q4_k_uses_k_blocks(tmp_path):
    output = str(tmp_path / "demo.gguf")
    subprocess.run([BINARY, "quantize", "--model", os.path.join(ROOT, "Models", "tern-demo"), "--type", "q4_k", "--output", output],
                   check=True, capture_output=True)
    reader = GGUFReader(output)
    stored = {t.name: t for t in reader.tensors}
    weights = dict(expected_tensors(os.path.join(ROOT, "Models", "tern-demo")))
    gate = stored["blk.0.ffn_gate.weight"]
    assert gate.tensor_type == GGMLQuantizationType.Q4_K
    values = dequantize(np.asarray(gate.data), GGMLQuantizationType.Q4_K).reshape(weights["blk.0.ffn_gate.weight"].shape)
    reference = weights["blk.0.ffn_gate.weight"]
    assert relative_rms_error(values, reference) < 0.12
    assert field(reader, "general.file_type") == 14


def test_metadata_has_llama_cpp_keys_and_types(tmp_path):
    reader = write_gguf(tmp_path, "llama3-bpe", "q8_0")
    config = json.load(open(os.path.join(MODELS, "llama3-bpe", "config.json")))
    assert field(reader, "general.architecture") == "llama"
    assert field(reader, "llama.block_count") == config["num_hidden_layers"]
    assert field(reader, "llama.attention.head_count_kv") == config["num_key_value_heads"]
    assert reader.fields["llama.context_length"].types[0].name == "UINT32"
    assert reader.fields["llama.rope.freq_base"].types[0].name == "FLOAT32"
    assert field(reader, "tokenizer.ggml.model") == "gpt2"
    assert field(reader, "tokenizer.ggml.pre") == "llama-bpe"
    tokens = field(reader, "tokenizer.ggml.tokens")
    vocab = json.load(open(os.path.join(MODELS, "llama3-bpe", "tokenizer.json")))["model"]["vocab"]
    assert all(tokens[i] == text for text, i in vocab.items())
    assert "output.weight" not in {t.name for t in reader.tensors}  # tied embeddings
    # LLaMA-3 scaling as llama.cpp's converter computes its rope_freqs factors.
    rope = config.get("rope_parameters") or config["rope_scaling"]
    theta = rope.get("rope_theta", config.get("rope_theta"))
    dim = config.get("head_dim", config["hidden_size"] // config["num_attention_heads"])
    factor, low, high, old = rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"], rope["original_max_position_embeddings"]
    expected = []
    for i in range(0, dim, 2):
        wavelength = 2 * math.pi * theta ** (i / dim)
        if wavelength < old / high:
            expected.append(1.0)
        elif wavelength > old / low:
            expected.append(factor)
        else:
            smooth = (old / wavelength - low) / (high - low)
            expected.append(1 / ((1 - smooth) / factor + smooth))
    stored = next(t for t in reader.tensors if t.name == "rope_freqs.weight")
    np.testing.assert_allclose(np.asarray(stored.data), expected, rtol=1e-5)


def test_sliding_window_and_linear_scaling_are_written(tmp_path):
    reader = write_gguf(tmp_path, "mistral-window", "none")
    assert field(reader, "llama.attention.sliding_window") == 4
    assert field(reader, "llama.rope.scaling.type") == "linear"
    assert field(reader, "tokenizer.ggml.model") == "llama"
