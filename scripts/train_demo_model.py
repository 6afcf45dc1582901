#!/usr/bin/env python3
"""Trains Tern's built-in demo model, `tern-demo`: a small LLaMA-architecture model that writes
Tang/Song-style poems and English fortunes, on the text of Debian's `fortunes` and `fortunes-zh`.

Run by hand on CPU (about 20 minutes on 2 cores, fixed seed):
    apt-get install fortunes fortunes-zh && pip install torch transformers tokenizers
    python3 scripts/train_demo_model.py [--minutes 20]

Writes Models/tern-demo (bf16 safetensors, config, tokenizer with a ChatML template, generation
config) and Tests/Fixtures/references/tern-demo.json (transformers' greedy continuations).
"""
import argparse
import json
import math
import os
import random
import re
import time

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Models", "tern-demo")
FORTUNES = "/usr/share/games/fortunes"
SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
         r"|\s*[\r\n]+|\s+(?!\S)|\s+")
# Messages with tool calls (content null) render their calls as Qwen-style <tool_call> blocks; arguments may
# come as JSON text or (as the server passes them) as an object.
CHAT_TEMPLATE = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + (message['content'] or '') }}"
                 "{% for call in message['tool_calls'] or [] %}{{ '\\n<tool_call>\\n{\"name\": \"' + call['function']['name'] + "
                 "'\", \"arguments\": ' + (call['function']['arguments'] if call['function']['arguments'] is string "
                 "else call['function']['arguments'] | tojson) + '}\\n</tool_call>' }}{% endfor %}"
                 "{{ '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
THEMES = "月山春秋风花雪水云酒夜雨江梅柳"


def entries(name):
    with open(os.path.join(FORTUNES, name), encoding="utf-8", errors="ignore") as f:
        text = re.sub(r"\x1b\[[0-9;]*m", "", f.read())
    return [e.strip() for e in text.split("\n%\n") if e.strip()]


def poems():
    result = []
    for name in ["tang300", "song100"]:
        for entry in entries(name):
            lines = entry.split("\n")
            if len(lines) < 3:
                continue
            title = re.sub(r"^题目[:：]", "", lines[0]).strip()
            author = re.sub(r"[（(].*", "", re.sub(r"^作者[:：]", "", lines[1])).strip()
            body = "\n".join(lines[2:]).strip()
            result.append((title, author, body))
    return result


def chat(user, assistant):
    return f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n{assistant}<|im_end|>\n"


def documents(rng):
    docs = []
    for title, author, body in poems():
        answer = f"{title}\n作者：{author}\n{body}"
        docs.append(answer)
        docs.append(chat(rng.choice(["写一首诗", "写一首诗吧", "请写一首诗", "来一首诗"]), answer))
        docs.append(chat(title.strip("《》"), answer))
        theme = next((c for c in THEMES if c in body), None)
        if theme:
            docs.append(chat(f"写一首关于{theme}的诗", answer))
    english = [e for n in ["fortunes", "wisdom", "literature", "science", "people"] for e in entries(n) if len(e) < 600]
    for text in english:
        docs.append(text)
        docs.append(chat(rng.choice(["Tell me a fortune", "Tell me a fortune.", "Give me some wisdom", "Say something wise"]), text))
    chinese = [e for e in entries("chinese") if len(e) < 300]
    rng.shuffle(chinese)
    for text in chinese[:1500]:
        docs.append(text)
        docs.append(chat(rng.choice(["说一句有道理的话", "给我讲一句格言", "你好"]), text))
    rng.shuffle(docs)
    return docs


def train_tokenizer(docs):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=4096, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(docs, trainer)
    return tok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=20)
    args = parser.parse_args()
    rng = random.Random(0)
    torch.manual_seed(0)
    torch.set_num_threads(2)
    docs = documents(rng)
    tok = train_tokenizer(docs)
    eos = tok.token_to_id("<|endoftext|>")
    ids = []
    for d in docs:
        ids += tok.encode(d).ids + [eos]
    data = torch.tensor(ids, dtype=torch.long)
    split = int(len(data) * 0.95)
    train, valid = data[:split], data[split:]
    print(f"{len(docs)} documents, {len(data)} tokens, vocab {tok.get_vocab_size()}")

    config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=256, intermediate_size=704, num_hidden_layers=4,
                         num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-5,
                         rope_theta=10000.0, tie_word_embeddings=True, bos_token_id=None,
                         eos_token_id=[tok.token_to_id("<|im_end|>"), eos])
    model = LlamaForCausalLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05, betas=(0.9, 0.95))
    seq, batch, deadline = 192, 24, time.time() + args.minutes * 60
    expected_steps = 100000

    def batch_of(source):
        starts = torch.randint(0, len(source) - seq - 1, (batch,))
        x = torch.stack([source[s:s + seq] for s in starts])
        y = torch.stack([source[s + 1:s + seq + 1] for s in starts])
        return x, y

    def evaluate():
        model.eval()
        with torch.no_grad():
            losses = [model(input_ids=x, labels=x).loss.item() for x, _ in (batch_of(valid) for _ in range(8))]
        model.train()
        return sum(losses) / len(losses)

    step, start = 0, time.time()
    while time.time() < deadline:
        # Cosine decay over the time budget, after a short warm-up.
        progress = (time.time() - start) / (deadline - start)
        lr = 3e-3 * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, _ = batch_of(train)
        loss = model(input_ids=x, labels=x).loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 100 == 0:
            print(f"step {step} train loss {loss.item():.3f} lr {lr:.5f} ({time.time() - start:.0f}s)", flush=True)
        step += 1
        if step >= expected_steps:
            break
    train_loss = sum(model(input_ids=x, labels=x).loss.item() for x, _ in (batch_of(train) for _ in range(8))) / 8
    valid_loss = evaluate()
    print(f"final: {step} steps, train loss {train_loss:.3f}, validation loss {valid_loss:.3f}")

    os.makedirs(OUT, exist_ok=True)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(OUT)
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.do_sample = True
    model.generation_config.temperature = 0.8
    model.generation_config.top_p = 0.95
    model.to(torch.bfloat16).save_pretrained(OUT)
    with open(os.path.join(OUT, "training.json"), "w") as f:
        json.dump({"steps": step, "train_loss": round(train_loss, 4), "validation_loss": round(valid_loss, 4),
                   "tokens": len(data), "seconds": round(time.time() - start)}, f, indent=1)
    write_reference(fast)


def write_reference(fast):
    """transformers' greedy continuations of the saved model, computed in f32 over the bf16 weights."""
    model = LlamaForCausalLM.from_pretrained(OUT, dtype=torch.float32).eval()
    prompts = []
    for messages in ([{"role": "user", "content": "写一首诗"}], [{"role": "user", "content": "写一首关于月亮的诗"}],
                     [{"role": "user", "content": "Tell me a fortune"}]):
        ids = fast.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=False)
        prompts.append({"messages": messages, "ids": list(ids)})
    for text in ["床前明月光，", "The best way to"]:
        prompts.append({"text": text, "ids": fast.encode(text)})
    for p in prompts:
        tokens, margins = list(p["ids"]), []
        with torch.no_grad():
            for _ in range(32):
                logits = model(torch.tensor([tokens])).logits[0, -1]
                top = torch.topk(logits, 2)
                margins.append(float(top.values[0] - top.values[1]))
                tokens.append(int(top.indices[0]))
        p["greedy"] = tokens[len(p["ids"]):]
        p["min_margin"] = min(margins)
        p["text_out"] = fast.decode(p["greedy"])
        print(p.get("text") or p["messages"][0]["content"], "->", repr(p["text_out"]), "margin", round(min(margins), 4))
    with open(os.path.join(ROOT, "Tests", "Fixtures", "references", "tern-demo.json"), "w") as f:
        json.dump({"prompts": prompts}, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
