#!/usr/bin/env python3
"""Writes Tests/Fixtures/packed: the qwen2-bpe test model as GPTQ and AWQ checkpoints, each beside
the same model with every linear layer dequantized (`NAME-dequantized`), for checking Tern's
reading of those formats. Run by hand: pip install numpy safetensors.

The packing follows the formats' published layouts, written here from their descriptions:
- GPTQ: qweight int32 [inputs / (32 / bits), outputs], input i at bits (i % per_word) * bits of
  row i // per_word; qzeros int32 [groups, outputs / per_word] packed the same way along the
  outputs; scales f16 [groups, outputs]; g_idx int32 [inputs], the group of each input. The
  original format ("gptq") stores each zero point minus one, "gptq_v2" stores it as it is.
  Act-order (desc_act) quantizes inputs in a chosen order, so group k holds the inputs at order
  positions k * group_size ... (k + 1) * group_size - 1, while qweight stays in input order.
- AWQ (GEMM): qweight int32 [inputs, outputs / 8], eight output columns per word with column
  8c + ORDER[p] in nibble p; qzeros int32 [groups, outputs / 8] packed the same way; scales f16
  [groups, outputs]; group g holds inputs g * group_size ...; weight = (q - zero) * scale.

Scales are rounded to three significant bits so every dequantized weight, scale * (q - zero), is
exact in f16: the dequantized models are then the exact weights a reader must arrive at.

For benchmarks it also packs any model folder (F32, F16 or BF16 safetensors) without the
dequantized copy:
    python3 scripts/make_packed_fixtures.py --model DIR --variant gptq-int4 --out DIR
"""
import argparse
import json
import os
import shutil
import struct

import numpy as np
from safetensors.numpy import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")
BASE = os.path.join(ROOT, "models", "qwen2-bpe")
OUT = os.path.join(ROOT, "packed")
AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]
LINEAR = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
          "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]

# name: (method, bits, group size or -1, symmetric, act-order, checkpoint_format)
VARIANTS = {
    "gptq-int4": ("gptq", 4, 32, True, False, "gptq"),
    "gptq-int4-asym-actorder": ("gptq", 4, 32, False, True, "gptq_v2"),
    "gptq-int8": ("gptq", 8, -1, True, False, "gptq"),
    "gptq-int8-asym-actorder": ("gptq", 8, 64, False, True, "gptq"),
    "awq-int4": ("awq", 4, 128, False, False, None),
}


def load_floats(folder):
    """Every tensor of a single-file safetensors model as float32 (numpy has no bfloat16)."""
    path = os.path.join(folder, "model.safetensors")
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + length)
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        if entry["dtype"] == "BF16":
            values = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            values = raw.view({"F32": np.float32, "F16": np.float16}[entry["dtype"]]).astype(np.float32)
        tensors[name] = values.reshape(entry["shape"])
    return tensors


def three_bit_scale(s):
    mantissa, exponent = np.frexp(s)
    return np.ldexp(np.round(mantissa * 8) / 8, exponent).astype(np.float16)


def quantize(weight, bits, symmetric, groups_of_inputs, min_zero, rng, with_dequantized):
    """Per (group, output): scale and zero point; q for every weight, and the weights they stand
    for when asked. weight is [outputs, inputs]."""
    outputs, inputs = weight.shape
    groups = groups_of_inputs.max() + 1
    top = 2 ** bits - 1
    scales = np.zeros((groups, outputs), np.float16)
    zeros = np.zeros((groups, outputs), np.int64)
    q = np.zeros((inputs, outputs), np.int64)
    for g in range(groups):
        members = np.where(groups_of_inputs == g)[0]
        w = weight[:, members]
        if symmetric:
            zero = np.full(outputs, 2 ** (bits - 1))
            scale = three_bit_scale(np.abs(w).max(axis=1) / (2 ** (bits - 1) - 1) + 1e-6)
        else:
            low, high = np.minimum(w.min(axis=1), 0), np.maximum(w.max(axis=1), 0)
            scale = three_bit_scale((high - low) / top + 1e-6)
            zero = np.clip(np.round(-low / scale.astype(np.float32)), min_zero, top).astype(np.int64)
            # A few zero points at the ends of the range, as real checkpoints have.
            zero[rng.integers(0, outputs, 2)] = min_zero
        scales[g], zeros[g] = scale, zero
        q[members] = np.clip(np.round(w / scale.astype(np.float32)[:, None]) + zero[:, None], 0, top).T.astype(np.int64)
    if not with_dequantized:
        return q, zeros, scales, None
    dequantized = np.zeros_like(weight)
    for i in range(inputs):
        g = groups_of_inputs[i]
        dequantized[:, i] = (q[i] - zeros[g]) * scales[g].astype(np.float32)
    assert np.array_equal(dequantized.astype(np.float16).astype(np.float32), dequantized)
    return q, zeros, scales, dequantized


def pack_along_first(values, bits):
    """[n, m] integers into int32 [n / per_word, m], element r at bits (r % per_word) * bits."""
    per_word = 32 // bits
    words = np.zeros((values.shape[0] // per_word, values.shape[1]), np.uint32)
    for r in range(values.shape[0]):
        words[r // per_word] |= (values[r].astype(np.uint32) & (2 ** bits - 1)) << np.uint32((r % per_word) * bits)
    return words.view(np.int32)


def pack_awq(values):
    """[n, m] 4-bit integers into int32 [n, m / 8] in AWQ's column order."""
    words = np.zeros((values.shape[0], values.shape[1] // 8), np.uint32)
    for c in range(values.shape[1] // 8):
        for p in range(8):
            words[:, c] |= (values[:, 8 * c + AWQ_ORDER[p]].astype(np.uint32) & 15) << np.uint32(4 * p)
    return words.view(np.int32)


def write_variant(out, method, bits, group_size, symmetric, act_order, checkpoint_format, base, config, rng, with_dequantized=True):
    packed, plain = {}, {}
    for key, value in base.items():
        if not any(key.endswith(f"{part}.weight") for part in LINEAR):
            packed[key] = plain[key] = value.astype(np.float16) if value.ndim == 2 else value
    for key, weight in base.items():
        if not any(key.endswith(f"{part}.weight") for part in LINEAR):
            continue
        prefix = key[: -len(".weight")]
        outputs, inputs = weight.shape
        size = inputs if group_size == -1 else group_size
        order = rng.permutation(inputs) if act_order else np.arange(inputs)
        groups_of_inputs = np.zeros(inputs, np.int64)
        groups_of_inputs[order] = np.arange(inputs) // size
        min_zero = 1 if (method == "gptq" and checkpoint_format == "gptq" and not symmetric) else 0
        q, zeros, scales, dequantized = quantize(weight, bits, symmetric, groups_of_inputs, min_zero, rng, with_dequantized)
        if with_dequantized:
            plain[key] = dequantized.astype(np.float16)
        packed[f"{prefix}.scales"] = scales
        if method == "awq":
            packed[f"{prefix}.qweight"] = pack_awq(q)
            packed[f"{prefix}.qzeros"] = pack_awq(zeros)
        else:
            stored_zeros = zeros - (1 if checkpoint_format == "gptq" else 0)
            packed[f"{prefix}.qweight"] = pack_along_first(q, bits)
            packed[f"{prefix}.qzeros"] = pack_along_first(stored_zeros.T, bits).T.copy()
            packed[f"{prefix}.g_idx"] = groups_of_inputs.astype(np.int32)
    quantization = {"quant_method": method, "bits": bits, "group_size": group_size}
    if method == "gptq":
        quantization.update({"sym": symmetric, "desc_act": act_order, "checkpoint_format": checkpoint_format})
    else:
        quantization.update({"version": "gemm", "zero_point": True})
    folders = [(out, packed, {"quantization_config": quantization})]
    if with_dequantized:
        folders.append((f"{out}-dequantized", plain, {}))
    for path, tensors, extra in folders:
        os.makedirs(path, exist_ok=True)
        save_file(tensors, os.path.join(path, "model.safetensors"))
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump({**config, "dtype": "float16", **extra}, f, indent=2)


def pack_along_outputs_check():
    # The GPTQ zero packing runs along the outputs: pack the transpose along its first axis.
    zeros = np.arange(16).reshape(2, 8) % 16
    words = pack_along_first(zeros.T, 4).T
    assert words.shape == (2, 1) and (words[0, 0] & 0xF) == 0 and ((words[0, 0] >> 4) & 0xF) == 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="pack this folder instead of writing the fixtures")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="gptq-int4")
    parser.add_argument("--out")
    args = parser.parse_args()
    pack_along_outputs_check()
    rng = np.random.default_rng(7)
    if args.model:
        with open(os.path.join(args.model, "config.json")) as f:
            config = json.load(f)
        write_variant(args.out, *VARIANTS[args.variant], load_floats(args.model), config, rng, with_dequantized=False)
        for extra in ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"]:
            if os.path.exists(os.path.join(args.model, extra)):
                shutil.copy(os.path.join(args.model, extra), args.out)
        print("wrote", args.out)
        return
    with open(os.path.join(BASE, "config.json")) as f:
        config = json.load(f)
    shutil.rmtree(OUT, ignore_errors=True)
    for name, spec in VARIANTS.items():
        write_variant(os.path.join(OUT, name), *spec, load_floats(BASE), config, rng)
        print("wrote", name)


if __name__ == "__main__":
    main()
