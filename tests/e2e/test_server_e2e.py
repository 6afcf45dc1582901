"""The real `tern serve` binary driven by the official openai client, curl, and raw HTTP."""
import json
import signal
import subprocess
import threading
import time

import openai
import pytest
import requests

from conftest import API_KEY, Server
from openapi_schemas import validate


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)


def test_models_list(client, server):
    models = client.models.list()
    assert [m.id for m in models.data] == ["tern-e2e"]
    body = requests.get(server.url + "/v1/models", headers=server.headers()).json()
    validate(body, "ListModelsResponse")
    validate(body["data"][0], "Model")


def test_chat_completion_with_openai_client(client, server):
    response = client.chat.completions.create(
        model="tern-e2e", messages=[{"role": "user", "content": "写一首诗"}], max_tokens=8, temperature=0)
    assert response.object == "chat.completion"
    assert response.choices[0].message.role == "assistant"
    assert response.choices[0].finish_reason in ("stop", "length")
    assert response.usage.completion_tokens <= 8
    validate(response.model_dump(exclude_unset=True), "CreateChatCompletionResponse")
    raw = requests.post(server.url + "/v1/chat/completions", headers=server.headers(),
                        json={"model": "tern-e2e", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4,
                              "logprobs": True, "top_logprobs": 2}).json()
    validate(raw, "CreateChatCompletionResponse")


def test_chat_streaming_with_openai_client(client):
    whole = client.chat.completions.create(
        model="tern-e2e", messages=[{"role": "user", "content": "你好"}], max_tokens=10, temperature=0, extra_body={"ignore_eos": True})
    stream = client.chat.completions.create(
        model="tern-e2e", messages=[{"role": "user", "content": "你好"}], max_tokens=10, temperature=0, stream=True,
        stream_options={"include_usage": True}, extra_body={"ignore_eos": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 10
    finishing = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finishing) == 1 and finishing[0] is chunks[-2]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    for chunk in chunks:
        validate(chunk.model_dump(exclude_unset=True), "CreateChatCompletionStreamResponse")


def test_completions_with_openai_client(client):
    response = client.completions.create(model="tern-e2e", prompt="Once upon a time", max_tokens=6, temperature=0)
    assert response.object == "text_completion"
    validate(response.model_dump(exclude_unset=True), "CreateCompletionResponse")
    stream = client.completions.create(model="tern-e2e", prompt="Once upon a time", max_tokens=6, temperature=0, stream=True)
    assert "".join(c.choices[0].text for c in stream) == response.choices[0].text


def test_curl_streams_server_sent_events(server):
    body = json.dumps({"model": "tern-e2e", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "stream": True})
    out = subprocess.run(["curl", "-sNi", server.url + "/v1/chat/completions", "-H", f"Authorization: Bearer {API_KEY}",
                          "-H", "Content-Type: application/json", "-d", body], capture_output=True, text=True, timeout=30).stdout
    head, out = out.split("\n\n", 1)  # text mode reads CRLF as LF
    # Proxies (nginx) must pass events on as they come.
    assert "x-accel-buffering: no" in head.lower()
    events = [e for e in out.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[0][6:])["choices"][0]["delta"]["role"] == "assistant"


def test_errors_have_openai_shape(client, server):
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.url + "/v1", api_key="wrong", max_retries=0).models.list()
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model="tern-e2e", messages=[{"role": "user", "content": "hi"}], temperature=5)
    assert error.value.body["param"] == "temperature"
    bad = requests.post(server.url + "/v1/completions", headers=server.headers(), data="{oops")
    assert bad.status_code == 400
    validate(bad.json(), "ErrorResponse")


def metric(server, selector):
    """The value of a metric line: `selector` is a name, or a name with its full label set."""
    text = requests.get(server.url + "/metrics").text
    prefixes = (selector + " ",) if "{" in selector else (selector + "{", selector + " ")
    for line in text.splitlines():
        if line.startswith(prefixes):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exported")


def test_client_disconnect_aborts_generation(server):
    aborted_before = metric(server, 'vllm:request_success_total{model_name="tern-e2e",finished_reason="abort"}')
    generated_before = metric(server, "vllm:generation_tokens_total")
    response = requests.post(server.url + "/v1/completions", headers=server.headers(), stream=True,
                             json={"model": "tern-e2e", "prompt": "Once", "max_tokens": 500, "stream": True, "ignore_eos": True})
    lines = response.iter_lines()
    next(lines)
    response.close()
    deadline = time.time() + 10
    while time.time() < deadline and metric(server, "vllm:num_requests_running") > 0:
        time.sleep(0.05)
    assert metric(server, "vllm:num_requests_running") == 0
    assert metric(server, 'vllm:request_success_total{model_name="tern-e2e",finished_reason="abort"}') == aborted_before + 1
    assert metric(server, "vllm:kv_cache_usage_perc") == 0
    assert metric(server, "vllm:generation_tokens_total") - generated_before < 500, "generation stopped early"


def test_bounded_load_and_memory_returns(server):
    def stream_one(results, i):
        try:
            r = requests.post(server.url + "/v1/chat/completions", headers=server.headers(), stream=True, timeout=60,
                              json={"model": "tern-e2e", "messages": [{"role": "user", "content": f"poem {i}"}],
                                    "max_tokens": 24, "stream": True, "ignore_eos": True})
            events = [line for line in r.iter_lines() if line]
            results[i] = r.status_code == 200 and events[-1] == b"data: [DONE]"
        except Exception:  # noqa: BLE001 - any failure counts against the load test
            results[i] = False

    def sequential(count):
        for i in range(count):
            r = requests.post(server.url + "/v1/completions", headers=server.headers(), timeout=30,
                              json={"model": "tern-e2e", "prompt": f"request {i}", "max_tokens": 4})
            assert r.status_code == 200

    sequential(20)
    baseline = server.rss_kib()
    results = [None] * 16
    threads = [threading.Thread(target=stream_one, args=(results, i)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(results), results
    sequential(200)
    assert metric(server, "vllm:num_requests_running") == 0
    grown = server.rss_kib() - baseline
    assert grown < 64 * 1024, f"resident memory grew by {grown} KiB under load"


def test_sigterm_lets_running_requests_finish():
    server = Server()
    try:
        result = {}

        def long_request():
            r = requests.post(server.url + "/v1/completions", headers=server.headers(), timeout=60,
                              json={"model": "tern-e2e", "prompt": "Once", "max_tokens": 300, "ignore_eos": True})
            result["status"] = r.status_code
            result["tokens"] = r.json()["usage"]["completion_tokens"]

        thread = threading.Thread(target=long_request)
        thread.start()
        deadline = time.time() + 10
        while time.time() < deadline and metric(server, "vllm:num_requests_running") == 0:
            time.sleep(0.01)
        server.process.send_signal(signal.SIGTERM)
        thread.join(timeout=60)
        assert result == {"status": 200, "tokens": 300}
        assert server.process.wait(timeout=30) == 0
    finally:
        server.stop()


def test_serve_without_a_model_serves_the_demo():
    demo = Server(model=None)
    try:
        client = openai.OpenAI(base_url=demo.url + "/v1", api_key=API_KEY, max_retries=0)
        assert [m.id for m in client.models.list().data] == ["tern-demo"]
        stream = client.chat.completions.create(model="tern-demo", messages=[{"role": "user", "content": "写一首诗"}],
                                                max_tokens=48, stream=True, seed=1)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text.strip(), "the demo model answers"
    finally:
        demo.stop()
