"""The OpenAI server end to end on each remote-code family's fixture: a chat request streams the
text of the original code's greedy continuation (Chinese split across tokens arrives whole), usage
counts the built-in chat format's prompt, and generation stops on the family's own stop token."""
import json
import os
import subprocess

import pytest
import requests

from conftest import BINARY, ROOT, Server

FAMILIES = os.path.join(ROOT, "Tests", "Fixtures", "families")
# name: (a token the family's chat stops on, its id in the fixture's vocabulary)
STOPS = {"chatglm3-6b": [906, 908, 2], "baichuan2-13b-chat": [2], "baichuan2-7b-chat": [2], "qwen-7b-chat": [151645, 151644, 151643]}


def reference(name):
    with open(os.path.join(ROOT, "Tests", "Fixtures", "references", f"{name}.json"), encoding="utf-8") as f:
        return json.load(f)


def chat_messages(name):
    chat = reference(name)["chat"]
    if "messages" in chat:
        return chat["messages"]
    messages = [{"role": "system", "content": chat["system"]}] if "system" in chat else []
    for turn in chat["history"]:
        if isinstance(turn, list):
            messages += [{"role": "user", "content": turn[0]}, {"role": "assistant", "content": turn[1]}]
        else:  # ChatGLM3's observation is what OpenAI's API calls a tool message
            messages.append({**turn, "role": "tool" if turn["role"] == "observation" else turn["role"]})
    return messages + [{"role": "user", "content": chat["query"]}]


@pytest.fixture(scope="module", params=sorted(STOPS))
def family(request):
    server = Server(model=os.path.join(FAMILIES, request.param))
    yield request.param, server
    server.stop()


def stream(server, body):
    response = requests.post(server.url + "/v1/chat/completions", headers=server.headers(), stream=True, timeout=60,
                             json={"model": "tern-e2e", "stream": True, "stream_options": {"include_usage": True}, **body})
    assert response.status_code == 200, response.text
    response.encoding = "utf-8"
    chunks = [json.loads(line[6:]) for line in response.iter_lines(decode_unicode=True) if line.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    usage = [c["usage"] for c in chunks if c.get("usage")]
    return text, finish, usage[-1]


def test_chat_streams_the_original_greedy_text(family):
    name, server = family
    greedy = next(p for p in reference(name)["prompts"] if p["text"] == "chat")["greedy"][:12]
    # ChatGLM's embedding is padded past its tokenizer (1024 rows, 909 tokens): those ids have no text.
    known = [t for t in greedy if name != "chatglm3-6b" or t < 909]
    expected = subprocess.run([BINARY, "detokenize", "--model", os.path.join(FAMILIES, name), "--ids", ",".join(map(str, known)), "--skip-special-tokens"],
                              capture_output=True, text=True, check=True).stdout.rstrip("\n")
    # The greedy continuation may itself contain a stop token; then the text ends there.
    stops = [i for i, t in enumerate(greedy) if t in STOPS[name]]
    text, finish, usage = stream(server, {"messages": chat_messages(name), "temperature": 0, "max_tokens": 12})
    assert usage["prompt_tokens"] == len(reference(name)["chat"]["ids"])
    if stops:
        assert finish == ["stop"] and usage["completion_tokens"] == stops[0] + 1
    else:
        assert text == expected
        assert finish == ["length"] and usage["completion_tokens"] == 12


@pytest.mark.parametrize("which", [0, -1])
def test_generation_stops_on_the_familys_stop_tokens(family, which):
    name, server = family
    stop = STOPS[name][which]
    text, finish, usage = stream(server, {"messages": [{"role": "user", "content": "你好"}], "temperature": 0, "max_tokens": 20,
                                          "logit_bias": {str(stop): 100}})
    assert finish == ["stop"], (name, stop)
    assert usage["completion_tokens"] == 1 and text == ""


@pytest.mark.parametrize("case, message", [("malicious-pickle", "posix.system"), ("mixed-config", "mixes families")])
def test_bad_checkpoints_stop_the_server_before_it_serves(tmp_path, case, message):
    folder = os.path.join(FAMILIES, case)
    if case == "mixed-config":
        folder = str(tmp_path)
        with open(os.path.join(FAMILIES, "qwen-7b-chat", "config.json")) as f:
            config = json.load(f)
        config["architectures"] = ["ChatGLMModel"]
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f)
    result = subprocess.run([BINARY, "serve", "--model", folder, "--host", "127.0.0.1", "--port", "0"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert message in result.stderr and folder in result.stderr, result.stderr
    assert not os.path.exists("/tmp/tern-pickle-ran")
