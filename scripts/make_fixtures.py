#!/usr/bin/env python3
"""Makes the tiny test models under Tests/Fixtures and records Hugging Face's answers for them.

Run by hand (needs torch, transformers, tokenizers; text from Debian's fortunes and fortunes-zh):
    pip install torch transformers tokenizers && apt-get install fortunes fortunes-zh
    python3 scripts/make_fixtures.py

Each model is random but has a real configuration of its family; the tokenizers are trained on
local text with the pipeline their family uses. For every model it writes
references/NAME.json: tokenizer ids for test strings, prompts, greedy continuations, and the
logits file references/NAME.logits.f32 (little-endian float32, rows in the JSON's order).
"""
import glob
import json
import json.decoder
import os
import re
import struct

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (AutoModelForCausalLM, LlamaConfig, MistralConfig, PreTrainedTokenizerFast,
                          Qwen2Config)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")
FORTUNES = "/usr/share/games/fortunes"

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

TEST_STRINGS = [
    "Hello world",
    " Hello world",
    "Hello, World! How are you today?",
    "The quick brown fox jumps over the lazy dog.",
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
    "你好，世界！今天天气很好。",
    "def add(a, b):\n    return a + b  # sum\n",
    "for (int i = 0; i < 10; ++i) { printf(\"%d\\n\", i); }",
    "emoji: 🦙🔥👍🏽 and 😀!",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines\n\n\nand\r\nwindows",
    "",
    " ",
    "\n",
    "numbers 1234567 and 3.14159 and 1,000,000",
    "I'm sure it's what they've said, you'll see. DON'T SHOUT",
    "Ünïcödé àccents ça va? naïve café",
    "mixed 中文 and English 混合 text",
    "weird bytes: \u00ad\u200b\ufeff zero width",
    "<s>not special in the middle</s> of text",
]


def corpus():
    texts = []
    for name in ["fortunes", "computers", "linux", "science", "wisdom", "literature", "tang300", "song100", "chinese"]:
        path = os.path.join(FORTUNES, name)
        with open(path, encoding="utf-8", errors="ignore") as f:
            for entry in f.read().split("\n%\n"):
                entry = re.sub(r"\x1b\[[0-9;]*m", "", entry).strip()
                if entry:
                    texts.append(entry)
    texts += [s for s in TEST_STRINGS if s] * 3
    texts.append(open(json.decoder.__file__, encoding="utf-8").read())  # some code
    return texts


def train_spm_style(texts, vocab_size):
    """LLaMA 2 style: BPE over '▁'-marked words, byte fallback, <unk>/<s>/</s> at ids 0-2."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = [f"<0x{i:02X}>" for i in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - 256, special_tokens=specials, show_progress=False,
                                  limit_alphabet=300)
    tok.train_from_iterator(texts, trainer)
    data = json.loads(tok.to_str())
    trained = [t for t, _ in sorted(data["model"]["vocab"].items(), key=lambda kv: kv[1]) if t not in specials]
    vocab = specials + byte_tokens + trained
    data["model"]["vocab"] = {t: i for i, t in enumerate(vocab)}
    data["added_tokens"] = [
        {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
         "special": True} for i, t in enumerate(specials)]
    tok = Tokenizer.from_str(json.dumps(data))
    tok.pre_tokenizer = None
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    return tok, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, True


def train_byte_level(texts, vocab_size, split, specials, bos, eos, nfc):
    """LLaMA 3 / Qwen2 style: byte-level BPE after the family's split regex."""
    tok = Tokenizer(models.BPE())
    if nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(split), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    tok.decoder = decoders.ByteLevel()
    if bos:
        bos_id = tok.token_to_id(bos)
        tok.post_processor = processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                                           special_tokens=[(bos, bos_id)])
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok, {"bos_token": bos, "eos_token": eos}, bool(bos)


def save_tokenizer(tok, special, add_bos, out_dir, chat_template):
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **{k: v for k, v in special.items() if v})
    if chat_template:
        with open(os.path.join(ROOT, "templates", f"{chat_template}.jinja"), encoding="utf-8") as f:
            fast.chat_template = f.read()
    fast.save_pretrained(out_dir)
    path = os.path.join(out_dir, "tokenizer_config.json")
    cfg = json.load(open(path))
    cfg["add_bos_token"] = add_bos
    json.dump(cfg, open(path, "w"), indent=2, ensure_ascii=False)
    return fast


def randomize(model, seed):
    """Weights large enough that greedy choices are clear (default init gives near-ties)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5 * 1.5)


def greedy(model, ids, steps):
    tokens, margins = list(ids), []
    with torch.no_grad():
        for _ in range(steps):
            logits = model(torch.tensor([tokens])).logits[0, -1]
            top = torch.topk(logits, 2)
            margins.append(float(top.values[0] - top.values[1]))
            tokens.append(int(top.indices[0]))
    return tokens[len(ids):], min(margins)


def build(name, config, tok, special, add_bos, dtype=torch.float32, shard=None, seed=0, chat_template=None):
    """Writes the model; a seed whose greedy runs have a near-tie is replaced by the next one."""
    while build_once(name, config, tok, special, add_bos, dtype, shard, seed, chat_template) < 1e-3:
        seed += 100


CHAT = [{"role": "system", "content": "你是一个诗人。"}, {"role": "user", "content": "写一首关于月亮的诗"},
        {"role": "assistant", "content": "床前明月光"}, {"role": "user", "content": "Tell me a fortune 🦙"}]


def build_once(name, config, tok, special, add_bos, dtype, shard, seed, chat_template):
    out_dir = os.path.join(ROOT, "models", name)
    os.makedirs(out_dir, exist_ok=True)
    for old in glob.glob(os.path.join(out_dir, "*")):
        os.remove(old)
    fast = save_tokenizer(tok, special, add_bos, out_dir, chat_template)
    config.vocab_size = tok.get_vocab_size()
    config.bos_token_id = tok.token_to_id(special["bos_token"]) if special.get("bos_token") else None
    config.eos_token_id = tok.token_to_id(special["eos_token"])
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    randomize(model, seed)
    model = model.to(dtype)
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.bos_token_id = config.bos_token_id
    model.save_pretrained(out_dir, max_shard_size=shard or "50MB")
    # Reference computations in f32 over exactly the stored (possibly bf16) weights.
    ref = AutoModelForCausalLM.from_pretrained(out_dir, dtype=torch.float32, attn_implementation="eager").eval()

    strings = []
    for s in TEST_STRINGS:
        strings.append({"text": s, "ids": fast.encode(s, add_special_tokens=False),
                        "ids_with_special": fast.encode(s, add_special_tokens=True)})
        ids = strings[-1]["ids"]
        strings[-1]["decoded"] = fast.decode(ids)
    prompts_text = ["Once upon a time", "床前明月光", "def fib(n):\n    return"]
    prompts, logit_rows = [], []
    with torch.no_grad():
        for text in prompts_text:
            ids = fast.encode(text, add_special_tokens=True)
            logits = ref(torch.tensor([ids])).logits[0]
            logit_rows.append(logits)
            continuation, margin = greedy(ref, ids, 32)
            prompts.append({"text": text, "ids": ids, "greedy": continuation, "min_margin": margin,
                            "logit_rows": len(ids)})
    with open(os.path.join(ROOT, "references", f"{name}.logits.f32"), "wb") as f:
        for rows in logit_rows:
            f.write(struct.pack(f"<{rows.numel()}f", *rows.flatten().tolist()))
    reference = {"model": name, "vocab_size": config.vocab_size, "dtype": str(dtype).replace("torch.", ""),
                 "strings": strings, "prompts": prompts}
    if chat_template:
        text = fast.apply_chat_template(CHAT, add_generation_prompt=True, tokenize=False)
        ids = fast.apply_chat_template(CHAT, add_generation_prompt=True, tokenize=True, return_dict=False)
        reference["chat"] = {"messages": CHAT, "text": text, "ids": list(ids)}
    with open(os.path.join(ROOT, "references", f"{name}.json"), "w") as f:
        json.dump(reference, f, indent=1, ensure_ascii=False)
    margin = min(p["min_margin"] for p in prompts)
    print(name, "seed", seed, "vocab", config.vocab_size, "min greedy margin", margin)
    return margin


def main():
    os.makedirs(os.path.join(ROOT, "references"), exist_ok=True)
    texts = corpus()
    small = dict(hidden_size=64, intermediate_size=160, num_hidden_layers=2, max_position_embeddings=512)

    spm, spm_special, spm_bos = train_spm_style(texts, 1500)
    build("llama2-spm", LlamaConfig(num_attention_heads=4, num_key_value_heads=4, rms_norm_eps=1e-5,
                                    tie_word_embeddings=False, **small),
          spm, spm_special, spm_bos, shard="300KB", seed=1)

    llama3, l3_special, l3_bos = train_byte_level(
        texts, 1500, LLAMA3_SPLIT, ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>",
                                    "<|start_header_id|>", "<|end_header_id|>"],
        "<|begin_of_text|>", "<|end_of_text|>", nfc=False)
    llama3_config = lambda: LlamaConfig(num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5,
                                        tie_word_embeddings=True, rope_theta=500000.0,
                                        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                      "high_freq_factor": 4.0,
                                                      "original_max_position_embeddings": 64},
                                        **small)
    build("llama3-bpe", llama3_config(), llama3, l3_special, l3_bos, seed=2, chat_template="llama3")
    build("llama3-f16", llama3_config(), llama3, l3_special, l3_bos, dtype=torch.float16, seed=6)

    qwen, qwen_special, qwen_bos = train_byte_level(
        texts, 1500, QWEN2_SPLIT, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], None, "<|endoftext|>", nfc=True)
    qwen_config = lambda: Qwen2Config(num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6,
                                      tie_word_embeddings=True, rope_theta=1000000.0, **small)
    build("qwen2-bpe", qwen_config(), qwen, qwen_special, qwen_bos, seed=3, chat_template="qwen2")
    build("qwen2-bf16", qwen_config(), qwen, qwen_special, qwen_bos, dtype=torch.bfloat16, seed=4)

    build("mistral-window", MistralConfig(num_attention_heads=4, num_key_value_heads=2, sliding_window=4,
                                          rms_norm_eps=1e-5, tie_word_embeddings=False,
                                          rope_scaling={"rope_type": "linear", "factor": 2.0}, **small),
          spm, spm_special, spm_bos, seed=5)


if __name__ == "__main__":
    main()
