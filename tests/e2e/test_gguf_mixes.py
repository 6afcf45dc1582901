"""`tern quantize --type` with llama-quantize's mixes, read by llama.cpp's Python reader: every
tensor has the type llama.cpp's rules give it (restated here from llama.cpp's
llama_tensor_get_type), its blocks dequantize near the weights, Q5_0/Q5_1 blocks equal llama.cpp's
reference quantizer byte for byte, and Tern serves the file."""
import os
import subprocess

import numpy as np
import pytest
from gguf import GGMLQuantizationType as T, GGUFReader
from gguf.quants import dequantize, quantize

from conftest import BINARY, ROOT
from test_gguf_export import expected_tensors, field, relative_rms_error

DEMO = os.path.join(ROOT, "Models", "tern-demo")
LAYERS, GROUPED_QUERY = 4, 4  # tern-demo: 4 layers, 8 heads over 2 KV heads

BULK = {"q2_k": T.Q2_K, "q3_k_m": T.Q3_K, "q4_k_m": T.Q4_K, "q5_k_m": T.Q5_K, "q6_k": T.Q6_K}
FILE_TYPE = {"q2_k": 10, "q3_k_m": 12, "q4_k_m": 15, "q5_k_m": 17, "q6_k": 18}
FALLBACK = {T.Q2_K: T.Q4_0, T.Q3_K: T.Q4_0, T.Q4_K: T.Q5_0, T.Q5_K: T.Q5_1, T.Q6_K: T.Q8_0}
# Relative RMS error bounds of dequantized tensors, per type.
BOUND = {T.Q2_K: 0.36, T.Q3_K: 0.2, T.Q4_0: 0.12, T.Q4_K: 0.1, T.Q5_0: 0.07, T.Q5_1: 0.05, T.Q5_K: 0.05, T.Q6_K: 0.03,
         T.Q8_0: 0.01}


def more_bits(layer, layers):
    return layer < layers // 8 or layer >= 7 * layers // 8 or (layer - layers // 8) % 3 == 2


def expected_type(mix, name, columns):
    """llama.cpp's choice for a LLaMA tensor under `mix` (no importance matrix, not 70B)."""
    bulk = BULK[mix]
    if name in ("output.weight", "token_embd.weight"):  # tern-demo ties them: both follow the output rule
        return T.Q6_K if columns % 256 == 0 else T.Q8_0
    layer = int(name.split(".")[1])
    kind = name.split(".")[2]
    chosen = bulk
    if kind == "attn_v":
        if mix == "q2_k":
            chosen = T.Q4_K if GROUPED_QUERY >= 4 else T.Q3_K
        elif mix == "q3_k_m":
            chosen = T.Q5_K if layer < 2 else T.Q4_K
        elif mix in ("q4_k_m", "q5_k_m") and more_bits(layer, LAYERS):
            chosen = T.Q6_K
    elif kind == "ffn_down":
        if mix == "q2_k":
            chosen = T.Q3_K
        elif mix == "q3_k_m":
            chosen = T.Q5_K if layer < LAYERS // 16 else T.Q4_K
        elif mix in ("q4_k_m", "q5_k_m") and more_bits(layer, LAYERS):
            chosen = T.Q6_K
    elif kind == "attn_output":
        chosen = {"q2_k": T.Q3_K, "q3_k_m": T.Q4_K}.get(mix, bulk)
    if columns % 256 != 0:
        chosen = FALLBACK.get(chosen, chosen)
    return chosen


@pytest.mark.parametrize("mix", sorted(BULK))
def test_mix_types_blocks_and_serving(tmp_path, mix):
    output = str(tmp_path / f"demo-{mix}.gguf")
    subprocess.run([BINARY, "quantize", "--model", DEMO, "--type", mix.upper(), "--output", output], check=True, capture_output=True)
    reader = GGUFReader(output)
    assert field(reader, "general.file_type") == FILE_TYPE[mix]
    stored = {t.name: t for t in reader.tensors}
    seen = set()
    for name, weight in expected_tensors(DEMO):
        tensor = stored[name]
        if weight.ndim == 1:
            assert tensor.tensor_type == T.F32, name
            continue
        want = expected_type(mix, name, weight.shape[1])
        assert tensor.tensor_type == want, f"{name}: {tensor.tensor_type.name}, llama.cpp's rules give {want.name}"
        seen.add(want)
        data = np.asarray(tensor.data)
        if want in (T.Q5_0, T.Q5_1):
            assert bytes(data) == bytes(quantize(weight, want)), f"{name}: {want.name} blocks differ from llama.cpp's quantizer"
        error = relative_rms_error(dequantize(data, want).reshape(weight.shape), weight)
        assert error < BOUND[want], f"{name} ({want.name}): relative RMS error {error:.3f}"
    # The demo's 704-wide ffn_down rows exercise the fallbacks.
    assert seen & set(FALLBACK.values())
    run = subprocess.run([BINARY, "run", "--model", output, "--prompt", "Once upon a time", "--max-tokens", "8"], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip(), run.stderr
