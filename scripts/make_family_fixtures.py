#!/usr/bin/env python3
"""Writes Tests/Fixtures/families: tiny random ChatGLM3, Baichuan2 (7B RoPE, 13B ALiBi) and Qwen
(first generation) checkpoints laid out as their repositories ship them (config keys, .bin shards
or safetensors, tokenizer.model / qwen.tiktoken), and Tests/Fixtures/references/<name>.json with
what the ORIGINAL modeling and tokenization code of each repository computes for them: logits at
the last prompt position, greedy continuations (through the code's own KV-cache path, so Qwen's
NTK alpha is the one cached at prefill), tokenizer ids and chat-prompt ids from each family's helper.

The original code is not part of this repository. Get it from the repositories' git mirrors and
pass the folders (see research notes: czk1997/chatglm3-copy, jrd77/Baichuan2-13B-Chat,
zhangningboo/Qwen-7B); it runs under transformers 4.33 with a current torch:
  pip install torch transformers==4.33.3 "tokenizers<0.14" sentencepiece tiktoken einops accelerate safetensors
  python scripts/make_family_fixtures.py --chatglm3 DIR --baichuan2 DIR --qwen DIR
Baichuan2-7B's modeling file has no public mirror; its reference is transformers' own LLaMA with
W_pack split and the head normalised (the 7B code is LLaMA plus those two).
"""
import argparse
import glob
import io
import json
import os
import shutil
import struct
import sys
import tempfile

import sentencepiece as spm
import torch
from safetensors.torch import save_file
from sentencepiece import sentencepiece_model_pb2 as spmodel
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(REPO, "Tests", "Fixtures")
STRINGS = ["你好", "你好，世界！今天天气很好。", "部署私有化大模型需要量化、批处理和分页缓存。", "Hello world, 世界 and 🦙 emoji",
           "  leading spaces\n\nand\ttabs", "def add(a, b):\n    return a + b", "通义千问、智谱、百川和零一万物的模型。123 456"]
PROMPTS = ["Once upon a time", "床前明月光，疑是地上霜。", "def fib(n):\n    return fib(n - 1) + fib(n - 2)"]
# llama.cpp's tokenizer test strings: a fixed training text, so the tokenizers come out the same every run.
CORPUS_FILE = os.path.join(FIXTURES, "vocab", "ggml-vocab-llama-spm.gguf.inp")


def corpus():
    with open(CORPUS_FILE, encoding="utf-8") as f:
        return f.read().splitlines() * 3 + STRINGS * 20 + PROMPTS * 20


def train_sentencepiece(add_dummy_prefix, size, reserved=None):
    """A small BPE SentencePiece model with byte fallback; `reserved` = {id: piece} user-defined pieces placed at those ids."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus()), model_writer=model, model_type="bpe", vocab_size=size,
                                   byte_fallback=True, character_coverage=0.9995, normalization_rule_name="identity",
                                   remove_extra_whitespaces=False, add_dummy_prefix=add_dummy_prefix, split_digits=True,
                                   user_defined_symbols=list((reserved or {}).values()), allow_whitespace_only_pieces=True)
    proto = spmodel.ModelProto()
    proto.ParseFromString(model.getvalue())
    if reserved:
        # Piece order is only ids for a BPE model (merges follow scores), so the reserved pieces can move.
        pieces = list(proto.pieces)
        chosen = {p.piece: p for p in pieces if p.piece in reserved.values()}
        rest = [p for p in pieces if p.piece not in chosen]
        for index, piece in sorted(reserved.items()):
            rest.insert(index, chosen[piece])
        del proto.pieces[:]
        proto.pieces.extend(rest)
    return proto.SerializeToString()


def randomize(model, seed, live_rows=None):
    """Weights large enough that greedy choices are clear. Embedding and head rows outside `live_rows`
    stay zero, so a real-size vocabulary costs little in git."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5 * 1.5)
                if live_rows is not None and p.shape[0] == model.config.vocab_size:
                    mask = torch.zeros(p.shape[0], dtype=torch.bool)
                    mask[live_rows] = True
                    p[~mask] = 0


def save_bin(state, out, shards):
    """torch.save shards named as the repositories name them, with their index."""
    names = list(state)
    per = (len(names) + shards - 1) // shards
    weight_map = {}
    for i in range(shards):
        file = "pytorch_model.bin" if shards == 1 else f"pytorch_model-{i + 1:05d}-of-{shards:05d}.bin"
        part = {n: state[n].contiguous() for n in names[i * per:(i + 1) * per]}
        torch.save(part, os.path.join(out, file))
        weight_map.update({n: file for n in part})
    if shards > 1:
        total = sum(t.numel() * t.element_size() for t in state.values())
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, open(os.path.join(out, "pytorch_model.bin.index.json"), "w"), indent=2)


def save_safetensors(state, out, shards):
    names = list(state)
    per = (len(names) + shards - 1) // shards
    weight_map = {}
    for i in range(shards):
        file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = {n: state[n].contiguous() for n in names[i * per:(i + 1) * per]}
        save_file(part, os.path.join(out, file), metadata={"format": "pt"})
        weight_map.update({n: file for n in part})
    total = sum(t.numel() * t.element_size() for t in state.values())
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, open(os.path.join(out, "model.safetensors.index.json"), "w"), indent=2)


def with_code(out, code_dir, code_files):
    """A scratch copy of the fixture with the original code beside it, as the repository has it."""
    scratch = tempfile.mkdtemp()
    for f in glob.glob(os.path.join(out, "*")):
        shutil.copy(f, scratch)
    for f in code_files:
        shutil.copy(os.path.join(code_dir, f), scratch)
    return scratch


def greedy(model, ids, steps, positions=False):
    """Greedy decoding through the model's own KV cache (one prefill call, then one token per call).
    ChatGLM's forward needs the positions of a decode step given (its generate() passes them)."""
    tokens, margins, past = list(ids), [], None
    with torch.no_grad():
        step_input = torch.tensor([ids])
        for _ in range(steps):
            extra = {"position_ids": torch.arange(len(tokens) - step_input.shape[1], len(tokens))[None]} if positions else {}
            out = model(input_ids=step_input, past_key_values=past, use_cache=True, **extra)
            past = out.past_key_values
            logits = out.logits[0, -1].float()
            top = torch.topk(logits, 2)
            margins.append(float(top.values[0] - top.values[1]))
            tokens.append(int(top.indices[0]))
            step_input = torch.tensor([[tokens[-1]]])
    return tokens[len(ids):], min(margins)


def write_reference(name, model, prompt_ids, dtype, extra, checked_ids, positions=False):
    logits, prompts = [], []
    with torch.no_grad():
        for text, ids in prompt_ids:
            last = model(input_ids=torch.tensor([ids])).logits[0, -1].float()
            logits.append(last[checked_ids])
            continuation, margin = greedy(model, ids, 16, positions)
            prompts.append({"text": text, "ids": ids, "greedy": continuation, "min_margin": margin,
                            "top_logit": float(last.max())})
    with open(os.path.join(FIXTURES, "references", f"{name}.logits.f32"), "wb") as f:
        for row in logits:
            f.write(struct.pack(f"<{row.numel()}f", *row.tolist()))
    reference = {"model": name, "dtype": dtype, "checked_ids": checked_ids, "prompts": prompts, **extra}
    with open(os.path.join(FIXTURES, "references", f"{name}.json"), "w") as f:
        json.dump(reference, f, indent=1, ensure_ascii=False)
    margin = min(p["min_margin"] for p in prompts)
    print(name, "min greedy margin", margin)
    return margin


def fresh(name):
    out = os.path.join(FIXTURES, "families", name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    return out


def chatglm3(code, seed=0):
    name = "chatglm3-6b"
    out = fresh(name)
    with open(os.path.join(out, "tokenizer.model"), "wb") as f:
        f.write(train_sentencepiece(add_dummy_prefix=True, size=900))
    config = {"_name_or_path": "THUDM/chatglm3-6b", "model_type": "chatglm", "architectures": ["ChatGLMModel"],
              "auto_map": {"AutoConfig": "configuration_chatglm.ChatGLMConfig", "AutoModel": "modeling_chatglm.ChatGLMForConditionalGeneration",
                           "AutoModelForCausalLM": "modeling_chatglm.ChatGLMForConditionalGeneration"},
              "add_bias_linear": False, "add_qkv_bias": True, "apply_query_key_layer_scaling": True,
              "apply_residual_connection_post_layernorm": False, "attention_dropout": 0.0, "attention_softmax_in_fp32": True,
              "bias_dropout_fusion": True, "ffn_hidden_size": 48, "fp32_residual_connection": False, "hidden_dropout": 0.0,
              "hidden_size": 64, "kv_channels": 16, "layernorm_epsilon": 1e-05, "multi_query_attention": True,
              "multi_query_group_num": 2, "num_attention_heads": 4, "num_layers": 2, "original_rope": True,
              "padded_vocab_size": 1024, "post_layer_norm": True, "rmsnorm": True, "seq_length": 512, "use_cache": True,
              "torch_dtype": "float16", "transformers_version": "4.30.2", "tie_word_embeddings": False, "eos_token_id": 2, "pad_token_id": 0}
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    json.dump({"name_or_path": "THUDM/chatglm3-6b", "remove_space": False, "do_lower_case": False, "tokenizer_class": "ChatGLMTokenizer",
               "auto_map": {"AutoTokenizer": ["tokenization_chatglm.ChatGLMTokenizer", None]}},
              open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2)
    files = ["configuration_chatglm.py", "modeling_chatglm.py", "tokenization_chatglm.py", "quantization.py"]
    scratch = with_code(out, code, files)
    cfg = AutoConfig.from_pretrained(scratch, trust_remote_code=True)
    model = AutoModelForCausalLM.from_config(cfg, trust_remote_code=True, torch_dtype=torch.float32)
    randomize(model, seed)
    save_bin({k: v.to(torch.float16) for k, v in model.state_dict().items()}, out, shards=2)
    scratch = with_code(out, code, files)
    reference = AutoModelForCausalLM.from_pretrained(scratch, trust_remote_code=True, torch_dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(scratch, trust_remote_code=True)
    history = [{"role": "system", "content": "You are ChatGLM3, a helpful assistant."},
               {"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好👋！有什么可以帮你？"},
               {"role": "observation", "content": "{\"temperature\": 22}"}]
    chat = {"history": history, "query": "今天天气怎么样？", "ids": tokenizer.build_chat_input("今天天气怎么样？", history=history)["input_ids"][0].tolist()}
    extra = {"strings": [{"text": s, "ids": tokenizer.encode(s), "ids_without_special": tokenizer.encode(s, add_special_tokens=False)} for s in STRINGS],
             "chat": chat, "decode_checks": [{"ids": tokenizer.encode(s, add_special_tokens=False), "text": tokenizer.decode(tokenizer.encode(s, add_special_tokens=False))} for s in STRINGS]}
    prompts = [(t, tokenizer.encode(t)) for t in PROMPTS] + [("chat", chat["ids"])]
    return write_reference(name, reference, prompts, "float16", extra, list(range(1024)), positions=True)


BAICHUAN_VOCAB = 125696


def baichuan_tokenizer_files(out):
    with open(os.path.join(out, "tokenizer.model"), "wb") as f:
        f.write(train_sentencepiece(add_dummy_prefix=False, size=900, reserved={195: "<reserved_106>", 196: "<reserved_107>"}))
    token = lambda s: {"__type": "AddedToken", "content": s, "lstrip": False, "normalized": True, "rstrip": False, "single_word": True}
    json.dump({"add_bos_token": False, "add_eos_token": False, "auto_map": {"AutoTokenizer": ["tokenization_baichuan.BaichuanTokenizer", None]},
               "bos_token": token("<s>"), "eos_token": token("</s>"), "pad_token": token("<unk>"), "unk_token": token("<unk>"),
               "clean_up_tokenization_spaces": False, "model_max_length": 4096, "sp_model_kwargs": {}, "tokenizer_class": "BaichuanTokenizer"},
              open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2)
    json.dump({"bos_token": token("<s>"), "eos_token": token("</s>"), "pad_token": token("<unk>"), "unk_token": token("<unk>")},
              open(os.path.join(out, "special_tokens_map.json"), "w"), indent=2)
    json.dump({"pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "user_token_id": 195, "assistant_token_id": 196,
               "max_new_tokens": 2048, "temperature": 0.3, "top_k": 5, "top_p": 0.85, "repetition_penalty": 1.05, "do_sample": True,
               "transformers_version": "4.29.2"}, open(os.path.join(out, "generation_config.json"), "w"), indent=2)


CHAT_MESSAGES = [{"role": "system", "content": "你是百川助手。"}, {"role": "user", "content": "你好呀"},
                 {"role": "assistant", "content": "你好！有什么可以帮你？"}, {"role": "user", "content": "你叫什么名字？"}]


def baichuan_chat(tokenizer, code):
    sys.path.insert(0, code)
    from generation_utils import build_chat_input  # the repository's own helper
    sys.path.pop(0)

    class Settings:  # what build_chat_input reads off the model
        device = torch.device("cpu")

        class generation_config:
            user_token_id, assistant_token_id, max_new_tokens = 195, 196, 2048

        class config:
            model_max_length = 4096
    ids = build_chat_input(Settings, tokenizer, CHAT_MESSAGES, max_new_tokens=64)[0].tolist()
    return {"messages": CHAT_MESSAGES, "ids": ids}


def baichuan2_13b(code, seed=0):
    """40 layers and 32 for the 7B below: llama.cpp tells Baichuan's 13B (ALiBi) from its 7B (RoPE) by the layer count."""
    name = "baichuan2-13b-chat"
    out = fresh(name)
    baichuan_tokenizer_files(out)
    config = {"_from_model_config": True, "architectures": ["BaichuanForCausalLM"],
              "auto_map": {"AutoConfig": "configuration_baichuan.BaichuanConfig", "AutoModelForCausalLM": "modeling_baichuan.BaichuanForCausalLM"},
              "tokenizer_class": "BaichuanTokenizer", "bos_token_id": 1, "eos_token_id": 2, "gradient_checkpointing": False,
              "hidden_act": "silu", "hidden_size": 20, "initializer_range": 0.02, "intermediate_size": 48, "model_max_length": 4096,
              "model_type": "baichuan", "num_attention_heads": 5, "num_hidden_layers": 40, "pad_token_id": 0, "rms_norm_eps": 1e-06,
              "tie_word_embeddings": False, "torch_dtype": "bfloat16", "transformers_version": "4.29.2", "use_cache": True,
              "vocab_size": BAICHUAN_VOCAB}
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    files = ["configuration_baichuan.py", "modeling_baichuan.py", "tokenization_baichuan.py", "generation_utils.py", "quantizer.py"]
    scratch = with_code(out, code, files)
    cfg = AutoConfig.from_pretrained(scratch, trust_remote_code=True)
    model = AutoModelForCausalLM.from_config(cfg, trust_remote_code=True, torch_dtype=torch.float32)
    randomize(model, seed, live_rows=list(range(900)))
    save_bin({k: v.to(torch.bfloat16) for k, v in model.state_dict().items()}, out, shards=3)
    scratch = with_code(out, code, files)
    reference = AutoModelForCausalLM.from_pretrained(scratch, trust_remote_code=True, torch_dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(scratch, trust_remote_code=True, use_fast=False)
    chat = baichuan_chat(tokenizer, scratch)
    extra = {"strings": [{"text": s, "ids": tokenizer.encode(s)} for s in STRINGS], "chat": chat, "position_encoding": "ALiBi"}
    prompts = [(t, tokenizer.encode(t)) for t in PROMPTS] + [("chat", chat["ids"])]
    return write_reference(name, reference, prompts, "bfloat16", extra, list(range(900)))


def baichuan2_7b(code, seed=0):
    """Baichuan2-7B: W_pack, rotary, NormHead. Reference: transformers' LLaMA on the split weights, head normalised."""
    name = "baichuan2-7b-chat"
    out = fresh(name)
    baichuan_tokenizer_files(out)
    hidden, heads, inter, layers = 16, 2, 48, 32
    config = {"architectures": ["BaichuanForCausalLM"], "auto_map": {"AutoConfig": "configuration_baichuan.BaichuanConfig",
              "AutoModelForCausalLM": "modeling_baichuan.BaichuanForCausalLM"}, "tokenizer_class": "BaichuanTokenizer",
              "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": hidden, "initializer_range": 0.02,
              "intermediate_size": inter, "max_position_embeddings": 4096, "model_max_length": 4096, "model_type": "baichuan",
              "num_attention_heads": heads, "num_hidden_layers": layers, "pad_token_id": 0, "rms_norm_eps": 1e-06,
              "tie_word_embeddings": False, "torch_dtype": "bfloat16", "use_cache": True, "vocab_size": BAICHUAN_VOCAB}
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    llama = LlamaForCausalLM(LlamaConfig(vocab_size=BAICHUAN_VOCAB, hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
                                         num_attention_heads=heads, max_position_embeddings=4096, rms_norm_eps=1e-6))
    randomize(llama, seed, live_rows=list(range(900)))
    with torch.no_grad():  # stored in bf16; the rotary tables (buffers) stay f32 as the original code computes them
        for p in llama.parameters():
            p.copy_(p.to(torch.bfloat16).float())
    llama = llama.eval()
    state = {}
    for k, v in llama.state_dict().items():
        if ".self_attn.q_proj." in k:
            p = k.replace("q_proj", "W_pack")
            state[p] = torch.cat([v, llama.state_dict()[k.replace("q_proj", "k_proj")], llama.state_dict()[k.replace("q_proj", "v_proj")]])
        elif ".self_attn.k_proj." in k or ".self_attn.v_proj." in k or "rotary_emb" in k:
            continue
        else:
            state[k] = v
    save_bin({k: v.to(torch.bfloat16) for k, v in state.items()}, out, shards=1)
    with torch.no_grad():  # NormHead: what the 7B code does to lm_head before its first forward
        llama.lm_head.weight.copy_(torch.nn.functional.normalize(llama.lm_head.weight))
    scratch = with_code(out, code, ["tokenization_baichuan.py", "generation_utils.py"])
    tokenizer = AutoTokenizer.from_pretrained(scratch, trust_remote_code=True, use_fast=False)
    chat = baichuan_chat(tokenizer, scratch)
    extra = {"strings": [{"text": s, "ids": tokenizer.encode(s)} for s in STRINGS], "chat": chat, "position_encoding": "RoPE"}
    prompts = [(t, tokenizer.encode(t)) for t in PROMPTS] + [("chat", chat["ids"])]
    return write_reference(name, llama, prompts, "bfloat16", extra, list(range(900)))


QWEN_LIVE = list(range(4096)) + list(range(151643, 151936))


def qwen(code, seed=0):
    """Qwen-7B-Chat layout with seq_length 8, so the test prompts run past it: dynamic NTK and logn are exercised."""
    name = "qwen-7b-chat"
    out = fresh(name)
    shutil.copy(os.path.join(code, "qwen.tiktoken"), out)
    config = {"architectures": ["QWenLMHeadModel"], "auto_map": {"AutoConfig": "configuration_qwen.QWenConfig",
              "AutoModelForCausalLM": "modeling_qwen.QWenLMHeadModel"}, "attn_dropout_prob": 0.0, "bf16": False,
              "emb_dropout_prob": 0.0, "fp16": False, "fp32": False, "hidden_size": 16, "intermediate_size": 96,
              "initializer_range": 0.02, "kv_channels": 8, "layer_norm_epsilon": 1e-06, "max_position_embeddings": 32768,
              "model_type": "qwen", "no_bias": True, "num_attention_heads": 2, "num_hidden_layers": 2, "onnx_safe": None,
              "rotary_emb_base": 10000, "rotary_pct": 1.0, "scale_attn_weights": True, "seq_length": 8, "tie_word_embeddings": False,
              "tokenizer_class": "QWenTokenizer", "transformers_version": "4.32.0", "use_cache": True, "use_dynamic_ntk": True,
              "use_flash_attn": False, "use_logn_attn": True, "vocab_size": 151936}
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    json.dump({"chat_format": "chatml", "eos_token_id": 151643, "pad_token_id": 151643, "max_window_size": 6144,
               "max_new_tokens": 512, "do_sample": True, "top_k": 0, "top_p": 0.8, "repetition_penalty": 1.1,
               "transformers_version": "4.31.0"}, open(os.path.join(out, "generation_config.json"), "w"), indent=2)
    json.dump({"model_max_length": 8192, "tokenizer_class": "QWenTokenizer",
               "auto_map": {"AutoTokenizer": ["tokenization_qwen.QWenTokenizer", None]}},
              open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2)
    files = ["configuration_qwen.py", "modeling_qwen.py", "tokenization_qwen.py", "qwen_generation_utils.py", "cpp_kernels.py"]
    scratch = with_code(out, code, files)
    cfg = AutoConfig.from_pretrained(scratch, trust_remote_code=True)
    model = AutoModelForCausalLM.from_config(cfg, trust_remote_code=True, torch_dtype=torch.float32)
    randomize(model, seed, live_rows=QWEN_LIVE)
    save_safetensors({k: v.to(torch.bfloat16) for k, v in model.state_dict().items()}, out, shards=2)
    scratch = with_code(out, code, files)
    reference = AutoModelForCausalLM.from_pretrained(scratch, trust_remote_code=True, torch_dtype=torch.float32, fp32=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(scratch, trust_remote_code=True)
    sys.path.insert(0, scratch)
    from qwen_generation_utils import make_context  # the repository's own helper
    sys.path.pop(0)
    history = [("你好", "你好！有什么可以帮你？"), ("\n\nhi", "hello")]
    text, ids = make_context(tokenizer, "讲个笑话", history=history, system="You are a helpful assistant.", chat_format="chatml")
    chat = {"history": history, "query": "讲个笑话", "system": "You are a helpful assistant.", "text": text, "ids": ids}
    extra = {"strings": [{"text": s, "ids": tokenizer.encode(s, allowed_special=set()), "parse_special": False} for s in STRINGS + ["<|im_start|>user"]]
             + [{"text": "<|im_start|>user", "ids": tokenizer.encode("<|im_start|>user")}],
             "chat": chat}
    # Short prompt (alpha 1, logn from position 8 on during decode) and long ones (alpha 3 and 7).
    prompts = [("Hi", tokenizer.encode("Hi")), (PROMPTS[0], tokenizer.encode(PROMPTS[0])), (PROMPTS[2], tokenizer.encode(PROMPTS[2])),
               ("chat", ids)]
    return write_reference(name, reference, prompts, "bfloat16", extra, QWEN_LIVE)


class RunsCode:
    """What a hostile checkpoint holds: unpickling it calls os.system."""
    def __reduce__(self):
        return (os.system, ("touch /tmp/tern-pickle-ran",))


def malicious():
    """A .bin whose pickle would create /tmp/tern-pickle-ran if Python's unpickler read it."""
    out = fresh("malicious-pickle")
    shutil.copy(os.path.join(FIXTURES, "families", "baichuan2-7b-chat", "config.json"), out)
    torch.save({"model.embed_tokens.weight": torch.zeros(2, 2), "payload": RunsCode()}, os.path.join(out, "pytorch_model.bin"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chatglm3", required=True, help="folder with THUDM/chatglm3-6b's code files")
    parser.add_argument("--baichuan2", required=True, help="folder with baichuan-inc/Baichuan2-13B-Chat's code files")
    parser.add_argument("--qwen", required=True, help="folder with Qwen/Qwen-7B's code files and qwen.tiktoken")
    parser.add_argument("--only", help="one fixture: chatglm3, baichuan2_13b, baichuan2_7b, qwen (or none)")
    args = parser.parse_args()
    torch.manual_seed(0)
    builds = [(chatglm3, args.chatglm3), (baichuan2_13b, args.baichuan2), (baichuan2_7b, args.baichuan2), (qwen, args.qwen)]
    for build, code in [b for b in builds if args.only in (None, b[0].__name__)]:
        seed = 0
        while build(code, seed) < 1e-2:
            seed += 100
    malicious()


if __name__ == "__main__":
    main()
