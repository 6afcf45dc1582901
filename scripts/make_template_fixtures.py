#!/usr/bin/env python3
"""Renders the chat templates in Tests/Fixtures/templates with jinja2 exactly as transformers
configures it, over a set of conversations, and writes the expected outputs to
Tests/Fixtures/templates/expected.json. Run by hand: pip install transformers==5.24.0 jinja2.

The templates are the ones published with the models (their tokenizer_config.json or
chat_template.jinja), collected as llama.cpp's models/templates keeps them, plus Tern's own
constructs.jinja. strftime_now answers a fixed date so the outputs do not depend on the day.
"""
import glob
import json
import os
from datetime import datetime

from transformers.utils.chat_template_utils import _compile_jinja_template

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "templates")

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "城市"},
                                                    "days": {"type": "integer"}},
                   "required": ["city"]}}}]

# As the server passes them: OpenAI's JSON-string arguments parsed into objects (what templates expect).
OPENAI_TOOL_CALLS = [
    {"id": "call_7f3a", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
    {"id": "call_9b21", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo", "days": 3}}},
]

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
    "tools_first_turn": {"tools": TOOLS, "messages": [
        {"role": "system", "content": "You can look up the weather."},
        {"role": "user", "content": "Is it raining in Shanghai?"}]},
    "parallel_tool_calls": {"tools": TOOLS, "messages": [
        {"role": "user", "content": "Weather in Paris and Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": OPENAI_TOOL_CALLS},
        {"role": "tool", "tool_call_id": "call_7f3a", "name": "get_weather", "content": "{\"temperature\": 18}"},
        {"role": "tool", "tool_call_id": "call_9b21", "name": "get_weather", "content": "{\"temperature\": 4}"}]},
}

FIXED_NOW = datetime(2026, 7, 26, 9, 30)

SPECIAL = {"bos_token": "<s>", "eos_token": "</s>"}


def main():
    expected = []
    for path in sorted(glob.glob(os.path.join(HERE, "*.jinja"))):
        name = os.path.splitext(os.path.basename(path))[0]
        template = _compile_jinja_template(open(path, encoding="utf-8").read())
        template.globals["strftime_now"] = FIXED_NOW.strftime
        for conversation, data in CONVERSATIONS.items():
            for add_generation_prompt in (False, True):
                case = {"template": name, "conversation": conversation, "add_generation_prompt": add_generation_prompt}
                try:
                    case["output"] = template.render(messages=data["messages"], tools=data.get("tools"), documents=None,
                                                     add_generation_prompt=add_generation_prompt, **SPECIAL)
                except Exception as error:  # raise_exception in the template, or what it cannot handle
                    case["error"] = str(error)
                    case["raised"] = type(error).__name__ == "TemplateError"
                expected.append(case)
    json.dump({"conversations": CONVERSATIONS, "special_tokens": SPECIAL, "now": FIXED_NOW.isoformat(), "cases": expected},
              open(os.path.join(HERE, "expected.json"), "w"), indent=1, ensure_ascii=False)
    print(len(expected), "cases,", sum("error" in c for c in expected), "of them errors")


if __name__ == "__main__":
    main()
