#!/usr/bin/env python3
"""Renders the chat templates in Tests/Fixtures/templates with jinja2 exactly as transformers
configures it, over a set of conversations, and writes the expected outputs to
Tests/Fixtures/templates/expected.json. Run by hand: pip install transformers jinja2.
"""
import glob
import json
import os

from transformers.utils.chat_template_utils import _compile_jinja_template

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "templates")

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "城市"},
                                                    "days": {"type": "integer"}},
                   "required": ["city"]}}}]

CONVERSATIONS = {
    "single_user": {"messages": [{"role": "user", "content": "Hello!"}]},
    "system_multi_turn": {"messages": [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Hello there, how are you?"},
        {"role": "assistant", "content": "Fine.\nThanks."},
        {"role": "user", "content": "  Tell me a joke.  "}]},
    "empty_content": {"messages": [{"role": "user", "content": ""}]},
    "non_ascii": {"messages": [
        {"role": "system", "content": "你是一个有帮助的助手。"},
        {"role": "user", "content": "写一首诗"},
        {"role": "assistant", "content": "床前明月光，疑是地上霜。"},
        {"role": "user", "content": "🦙 again? “quotes” & <tags>"}]},
    "tools": {"tools": TOOLS, "messages": [
        {"role": "user", "content": "What's the weather in Beijing?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Beijing", "days": 2}}}]},
        {"role": "tool", "content": "{\"temperature\": 21}"},
        {"role": "tool", "content": "sunny"},
        {"role": "assistant", "content": "It is 21 degrees and sunny."},
        {"role": "user", "content": "Thanks"}]},
}

SPECIAL = {"bos_token": "<s>", "eos_token": "</s>"}


def main():
    expected = []
    for path in sorted(glob.glob(os.path.join(HERE, "*.jinja"))):
        name = os.path.splitext(os.path.basename(path))[0]
        template = _compile_jinja_template(open(path, encoding="utf-8").read())
        for conversation, data in CONVERSATIONS.items():
            for add_generation_prompt in (False, True):
                case = {"template": name, "conversation": conversation, "add_generation_prompt": add_generation_prompt}
                try:
                    case["output"] = template.render(messages=data["messages"], tools=data.get("tools"),
                                                     add_generation_prompt=add_generation_prompt, **SPECIAL)
                except Exception as error:  # raise_exception in the template
                    case["error"] = str(error)
                expected.append(case)
    json.dump({"conversations": CONVERSATIONS, "special_tokens": SPECIAL, "cases": expected},
              open(os.path.join(HERE, "expected.json"), "w"), indent=1, ensure_ascii=False)
    print(len(expected), "cases,", sum("error" in c for c in expected), "of them errors")


if __name__ == "__main__":
    main()
