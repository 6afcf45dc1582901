#!/usr/bin/env python3
"""Writes Tests/Fixtures/families-gguf/<name>.gguf.gz: llama.cpp's own converter (convert_hf_to_gguf.py,
from the llama-cpp-python 0.3.36 source package) run on the family fixtures, in bf16 so the weights
are exactly the checkpoints'. Needs the same environment and original-code folders as
make_family_fixtures.py (the converter loads Qwen's tokenizer through its remote code).

Two shims for that llama.cpp snapshot, neither changing what it writes:
- it imports transformers.convert_slow_tokenizer.bytes_to_unicode, which transformers 4.33 keeps in
  the GPT-2 tokenizer module;
- BaichuanModel.modify_tensors calls itself instead of the base class for every tensor but W_pack,
  recursing without end; the shim sends those to the base class as intended.
"""
import argparse
import glob
import gzip
import os
import runpy
import shutil
import sys
import tempfile

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(REPO, "Tests", "Fixtures")
CODE = {"chatglm3-6b": "chatglm3", "baichuan2-13b-chat": "baichuan2", "baichuan2-7b-chat": "baichuan2", "qwen-7b-chat": "qwen"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llama-cpp", required=True, help="llama.cpp source folder (vendor/llama.cpp of the sdist)")
    for family in ["chatglm3", "baichuan2", "qwen"]:
        parser.add_argument(f"--{family}", required=True, help=f"folder with the original {family} code files")
    args = parser.parse_args()
    sys.path[:0] = [os.path.join(args.llama_cpp, "gguf-py"), args.llama_cpp]

    import transformers.convert_slow_tokenizer as slow
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode
    slow.bytes_to_unicode = bytes_to_unicode
    import conversion.baichuan as baichuan
    from conversion.base import TextModel
    unpack = baichuan.BaichuanModel.modify_tensors

    def modify_tensors(self, data, name, bid):
        if bid is not None and name == f"model.layers.{bid}.self_attn.W_pack.weight":
            yield from unpack(self, data, name, bid)
        else:
            yield from TextModel.modify_tensors(self, data, name, bid)
    baichuan.BaichuanModel.modify_tensors = modify_tensors

    out_dir = os.path.join(FIXTURES, "families-gguf")
    os.makedirs(out_dir, exist_ok=True)
    for name, family in CODE.items():
        scratch = tempfile.mkdtemp()
        for f in glob.glob(os.path.join(FIXTURES, "families", name, "*")) + glob.glob(os.path.join(getattr(args, family), "*.py")):
            shutil.copy(f, scratch)
        output = os.path.join(out_dir, f"{name}.gguf")
        sys.argv = ["convert_hf_to_gguf.py", scratch, "--outfile", output, "--outtype", "bf16"]
        runpy.run_path(os.path.join(args.llama_cpp, "convert_hf_to_gguf.py"), run_name="__main__")
        # Mostly zero embedding rows: stored compressed (the tests unpack them).
        with open(output, "rb") as raw, gzip.GzipFile(output + ".gz", "wb", compresslevel=9, mtime=0) as packed:
            shutil.copyfileobj(raw, packed)
        os.remove(output)


if __name__ == "__main__":
    main()
