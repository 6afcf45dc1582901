#!/usr/bin/env python3
"""Writes Tests/Fixtures/references/chatglm3-6b-tools.json: the prompt ids ChatGLM3's own
build_chat_input gives a conversation with tools (listed in the system message), an earlier tool
call and its observation, with the same conversation as an OpenAI request would send it.
Run by hand with the original tokenization_chatglm.py (git mirror czk1997/chatglm3-copy):
  pip install transformers==4.33.3 "tokenizers<0.14" sentencepiece torch
  python scripts/make_chatglm3_tools_fixture.py DIR_WITH_tokenization_chatglm.py
"""
import glob
import json
import os
import shutil
import sys
import tempfile

from transformers import AutoTokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURE = os.path.join(ROOT, "Tests", "Fixtures", "families", "chatglm3-6b")
PREAMBLE = "Answer the following questions as best as you can. You have access to the following tools:"
FUNCTIONS = [{"name": "get_weather", "description": "查询城市天气",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                             "required": ["city"]}}]


def main():
    scratch = tempfile.mkdtemp()
    for f in glob.glob(os.path.join(FIXTURE, "*")):
        shutil.copy(f, scratch)
    shutil.copy(os.path.join(sys.argv[1], "tokenization_chatglm.py"), scratch)
    tokenizer = AutoTokenizer.from_pretrained(scratch, trust_remote_code=True)
    history = [{"role": "system", "content": PREAMBLE, "tools": FUNCTIONS},
               {"role": "user", "content": "北京天气怎么样？"},
               {"role": "assistant", "metadata": "get_weather", "content": "```python\ntool_call(city='北京', days=2)\n```"},
               {"role": "observation", "content": "{\"temperature\": 22}"}]
    ids = tokenizer.build_chat_input("明天呢？", history=history)["input_ids"][0].tolist()
    openai = {"tools": [{"type": "function", "function": f} for f in FUNCTIONS], "messages": [
        {"role": "user", "content": "北京天气怎么样？"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"北京\", \"days\": 2}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temperature\": 22}"},
        {"role": "user", "content": "明天呢？"}]}
    out = os.path.join(ROOT, "Tests", "Fixtures", "references", "chatglm3-6b-tools.json")
    json.dump({"history": history, "query": "明天呢？", "ids": ids, "openai": openai}, open(out, "w"), ensure_ascii=False, indent=1)
    print(len(ids), "ids")


if __name__ == "__main__":
    main()
