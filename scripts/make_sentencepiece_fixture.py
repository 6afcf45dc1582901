#!/usr/bin/env python3
"""Writes Tests/Fixtures/sentencepiece: a small SentencePiece BPE tokenizer.model trained here (byte
fallback, ChatML markers as user-defined pieces, whitespace kept as Yi's and LLaMA's models keep it)
and the ids the `sentencepiece` library gives for llama.cpp's SPM test strings plus Chinese text;
then, in subfolders, models exercising the rest of the format: unigram models with the NFKC
character map and whitespace collapsing (with and without byte fallback) and a BPE model with them.
Run by hand: pip install sentencepiece.
"""
import io
import json
import os

import sentencepiece as spm

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")
OUT = os.path.join(ROOT, "sentencepiece")
CHINESE = ["你好，世界！今天天气很好。", "部署私有化大模型需要量化、批处理和分页缓存。", "通义千问、智谱、百川和零一万物的模型。"]


def main():
    with open(os.path.join(ROOT, "vocab", "ggml-vocab-llama-spm.gguf.inp"), encoding="utf-8") as f:
        tests = [t for t in f.read().split("\n__ggml_vocab_test__\n") if t]
    # A fixed training text (llama.cpp's test strings), so the models come out the same every run.
    corpus = tests * 3 + CHINESE * 20
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus), model_writer=model, model_type="bpe", vocab_size=900,
                                   byte_fallback=True, character_coverage=0.9995, normalization_rule_name="identity",
                                   remove_extra_whitespaces=False, add_dummy_prefix=True, split_digits=True,
                                   user_defined_symbols=["<|im_start|>", "<|im_end|>"], allow_whitespace_only_pieces=True)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "tokenizer.model"), "wb") as f:
        f.write(model.getvalue())
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    # Text only: how special tokens split the text around them is each family's own choice (#12).
    strings = tests + CHINESE + ["emoji 🦙 and bytes \u0007"]
    vectors = [{"text": s, "ids": processor.encode(s)} for s in strings]
    with open(os.path.join(OUT, "vectors.json"), "w", encoding="utf-8") as f:
        json.dump({"bos_id": processor.bos_id(), "eos_id": processor.eos_id(), "vectors": vectors}, f, ensure_ascii=False, indent=1)
    with open(os.path.join(OUT, "tokenizer_config.json"), "w") as f:
        json.dump({"add_bos_token": True, "tokenizer_class": "LlamaTokenizer"}, f, indent=1)
    print("wrote", len(vectors), "vectors")
    for name, options in VARIANTS.items():
        write_variant(name, options, corpus, strings + EXTRA)


EXTRA = ["ＦＵＬＬ ｗｉｄｔｈ　１２３ and ①②③ ﬁ ligature", "   leading,   inner   and trailing spaces   ", "\ttab\nnewline\r\n",
         "rare 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ሰላም ⅷ", ""]
VARIANTS = {
    "unigram-nfkc": dict(model_type="unigram", normalization_rule_name="nmt_nfkc", remove_extra_whitespaces=True, byte_fallback=True),
    "unigram-unknown": dict(model_type="unigram", normalization_rule_name="identity", remove_extra_whitespaces=False, byte_fallback=False,
                            add_dummy_prefix=False),
    "bpe-nfkc": dict(model_type="bpe", normalization_rule_name="nmt_nfkc", remove_extra_whitespaces=True, byte_fallback=True),
}


def write_variant(name, options, corpus, strings):
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus), model_writer=model, vocab_size=400, character_coverage=0.995, hard_vocab_limit=False,
                                   split_digits=True, user_defined_symbols=["<|im_start|>"], **options)
    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tokenizer.model"), "wb") as f:
        f.write(model.getvalue())
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    vectors = [{"text": s, "ids": processor.encode(s), "decoded": processor.decode(processor.encode(s))} for s in strings]
    with open(os.path.join(out, "vectors.json"), "w", encoding="utf-8") as f:
        json.dump({"bos_id": processor.bos_id(), "eos_id": processor.eos_id(), "vectors": vectors}, f, ensure_ascii=False, indent=1)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"add_bos_token": False}, f, indent=1)
    print("wrote", name, len(vectors), "vectors")


if __name__ == "__main__":
    main()
