"""Tool calling through the real server and the openai client: the format found in the model's chat
template (the Qwen2 fixture has Qwen2.5's) or named by --tool-call-parser, a 400 where none is known
(the LLaMA 2 fixture), earlier calls with JSON-string arguments rendered, streamed and whole answers
the client parses."""
import os
import subprocess

import openai
import pytest

from conftest import API_KEY, BINARY, MODEL, ROOT, Server, server_fixture

LLAMA2 = os.path.join(ROOT, "Tests", "Fixtures", "models", "llama2-spm")
# Short: the fixture models have a 512-token context.
TOOLS = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
HISTORY = [
    {"role": "user", "content": "Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Paris\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
]

qwen_template_server = server_fixture()
plain_server = server_fixture("--chat-template", os.path.join(ROOT, "Tests", "Fixtures", "templates", "llama2.jinja"), model=LLAMA2)


def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY)


def test_a_reply_without_calls_is_text_whole_and_streamed(qwen_template_server):
    c = client(qwen_template_server)
    reply = c.chat.completions.create(model="tern-e2e", messages=HISTORY, tools=TOOLS, max_tokens=8, temperature=0)
    choice = reply.choices[0]
    assert choice.finish_reason in ("stop", "length")
    assert choice.message.tool_calls is None and isinstance(choice.message.content, str)
    chunks = list(c.chat.completions.create(model="tern-e2e", messages=HISTORY, tools=TOOLS, max_tokens=8, temperature=0, stream=True))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == choice.message.content
    assert chunks[-1].choices[0].finish_reason == choice.finish_reason
    assert not any(ch.choices[0].delta.tool_calls for ch in chunks if ch.choices)


def test_parallel_tool_calls_and_tool_choice_none_are_accepted(qwen_template_server):
    c = client(qwen_template_server)
    for extra in ({"parallel_tool_calls": False}, {"tool_choice": "none"}, {"tool_choice": "auto"}):
        reply = c.chat.completions.create(model="tern-e2e", messages=HISTORY, tools=TOOLS, max_tokens=4, **extra)
        assert reply.choices[0].message.role == "assistant"


def test_tools_for_a_model_without_a_known_format_are_a_400(plain_server):
    c = client(plain_server)
    with pytest.raises(openai.BadRequestError) as error:
        c.chat.completions.create(model="tern-e2e", messages=HISTORY, tools=TOOLS, max_tokens=4)
    assert "--tool-call-parser" in str(error.value) and error.value.body["param"] == "tools"
    question = [{"role": "user", "content": "Weather in Paris?"}]
    reply = c.chat.completions.create(model="tern-e2e", messages=question, tools=TOOLS, tool_choice="none", max_tokens=4)
    assert reply.choices[0].message.tool_calls is None


def test_the_parser_can_be_named():
    server = Server("--tool-call-parser", "llama3_json")
    try:
        reply = client(server).chat.completions.create(model="tern-e2e", messages=HISTORY, tools=TOOLS, max_tokens=4)
        assert reply.choices[0].message.role == "assistant"
    finally:
        server.stop()


def test_an_unknown_parser_stops_the_server_with_a_clear_message():
    run = subprocess.run([BINARY, "serve", "--model", MODEL, "--port", "1", "--tool-call-parser", "nope"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "unknown tool-call parser 'nope'" in run.stderr and "hermes" in run.stderr
