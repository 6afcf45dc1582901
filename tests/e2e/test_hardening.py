"""Hostile and sloppy clients: each case here once crashed the server, lost data or gave the
wrong status. Raw sockets where a client library would hide the behaviour."""
import json

import pytest
import requests

from conftest import Server, server_fixture

DOUBLING = ('{% set ns = namespace(s="x") %}{% for i in range(33) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}'
            '{{ ns.s|length }}')
CHAT = {"model": "tern-e2e", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}


# 2 GiB of address space: a template that doubled its way to gigabytes would abort the server.
trusting_server = server_fixture("--trust-request-chat-template", wrapper=("prlimit", "--as=2147483648"))


def post_chat(server, **fields):
    return requests.post(server.url + "/v1/chat/completions", headers=server.headers(), json={**CHAT, **fields}, timeout=60)


def test_template_bomb_is_a_400_and_the_server_lives(trusting_server):
    for bomb in [DOUBLING, "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
                 "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l }}"]:
        r = post_chat(trusting_server, chat_template=bomb)
        assert r.status_code == 400, r.text
        assert "chat template" in r.json()["error"]["message"]
    assert trusting_server.process.poll() is None
    ok = post_chat(trusting_server, chat_template="{% for m in messages %}{{ m.content }}{% endfor %}")
    assert ok.status_code == 200, ok.text


def test_request_templates_need_the_operators_consent(server):
    for field, value in [("chat_template", "{{ messages[0].content }}"), ("chat_template_kwargs", {"enable_thinking": False})]:
        r = post_chat(server, **{field: value})
        assert r.status_code == 400
        assert r.json()["error"]["param"] == field
        assert "--trust-request-chat-template" in r.json()["error"]["message"]


def test_chat_template_kwargs_reach_the_template(trusting_server):
    template = "{% if shout %}{{ messages[0].content | upper }}{% else %}{{ messages[0].content }}{% endif %}"
    def tokens(**kwargs):
        r = requests.post(trusting_server.url + "/tokenize", headers=trusting_server.headers(),
                          json={"messages": [{"role": "user", "content": "hello"}], "chat_template": template, **kwargs})
        assert r.status_code == 200, r.text
        return r.json()["tokens"]
    shouted = requests.post(trusting_server.url + "/tokenize", headers=trusting_server.headers(), json={"prompt": "HELLO"}).json()["tokens"]
    assert tokens(chat_template_kwargs={"shout": True}) == shouted
    assert tokens(chat_template_kwargs={"shout": False}) != shouted


def test_continue_final_message_ends_the_prompt_inside_the_assistant_turn(server):
    import jinja2
    from conftest import MODEL
    with open(f"{MODEL}/chat_template.jinja") as f:
        template = f.read()
    messages = [{"role": "user", "content": "Name a colour"}, {"role": "assistant", "content": "The colour is"}]
    environment = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    rendered = environment.from_string(template).render(messages=messages, add_generation_prompt=False, tools=None, documents=None)
    # transformers' rule: cut the rendering right after the final message's text.
    expected_text = rendered[: rendered.rindex("The colour is") + len("The colour is")]
    expected = requests.post(server.url + "/tokenize", headers=server.headers(),
                             json={"prompt": expected_text, "add_special_tokens": False}).json()["tokens"]
    got = requests.post(server.url + "/tokenize", headers=server.headers(),
                        json={"messages": messages, "continue_final_message": True, "add_generation_prompt": False})
    assert got.status_code == 200, got.text
    assert got.json()["tokens"] == expected
    both = post_chat(server, messages=messages, continue_final_message=True, add_generation_prompt=True)
    assert both.status_code == 400 and both.json()["error"]["param"] == "continue_final_message"
    r = post_chat(server, messages=messages, continue_final_message=True, max_tokens=3)
    assert r.status_code == 200, r.text


import socket
import threading
import time

from raw_http import Connection, request


def auth():
    from conftest import API_KEY
    return {"Authorization": f"Bearer {API_KEY}"}


def completion_body(**fields):
    return json.dumps({"model": "tern-e2e", "prompt": "Once", "max_tokens": 3, **fields}).encode()


def test_half_closed_client_gets_its_answer(server):
    connection = Connection(server.port)
    connection.send(request("POST", "/v1/completions", completion_body(), auth()))
    connection.half_close()
    response = connection.read_response()
    assert response.status == 200, response.body
    assert json.loads(response.body)["usage"]["completion_tokens"] == 3
    assert connection.is_closed_by_server()


def test_body_shorter_than_content_length_then_fin_is_a_400(server):
    connection = Connection(server.port)
    body = completion_body()
    connection.send(request("POST", "/v1/completions", body[:-5], {**auth(), "Content-Length": str(len(body))}))
    connection.half_close()
    response = connection.read_response()
    assert response.status == 400
    assert "Content-Length" in json.loads(response.body)["error"]["message"]


impatient_server = server_fixture("--body-timeout", "1", "--header-timeout", "2")


def test_stalled_body_gets_a_408_and_the_connection_ends(impatient_server):
    connection = Connection(impatient_server.port)
    body = completion_body()
    started = time.time()
    connection.send(request("POST", "/v1/completions", body[:-5], {**auth(), "Content-Length": str(len(body))}))
    response = connection.read_response()
    assert response.status == 408
    assert time.time() - started < 10
    assert connection.is_closed_by_server()


def test_slow_header_client_is_cut_off_while_others_are_served(impatient_server):
    slow = Connection(impatient_server.port)
    head = request("GET", "/v1/models", headers=auth())
    stop = threading.Event()
    outcome = {}

    def trickle():
        try:
            for byte in head:
                if stop.is_set():
                    return
                slow.send(bytes([byte]))
                time.sleep(0.25)
            outcome["finished"] = True
        except OSError:
            outcome["cut"] = True

    thread = threading.Thread(target=trickle)
    started = time.time()
    thread.start()
    served = 0
    while time.time() - started < 3:
        r = requests.get(impatient_server.url + "/v1/models", headers=auth(), timeout=5)
        served += r.status_code == 200
    assert slow.is_closed_by_server(wait=5)
    assert time.time() - started < 8
    stop.set()
    thread.join()
    assert "finished" not in outcome
    assert served >= 3


def test_http_1_0_gets_a_1_0_answer_that_closes_and_is_not_chunked(server):
    connection = Connection(server.port)
    connection.send(request("GET", "/v1/models", headers=auth(), version="HTTP/1.0"))
    response = connection.read_response()
    assert response.version == "HTTP/1.0" and response.status == 200
    assert response.header("connection") == "close"
    assert connection.is_closed_by_server()
    stream = Connection(server.port)
    stream.send(request("POST", "/v1/completions", completion_body(stream=True), auth(), version="HTTP/1.0"))
    response = stream.read_response()
    assert response.version == "HTTP/1.0" and response.status == 200
    assert response.header("transfer-encoding") is None
    assert response.body.startswith(b"data: {") and response.body.rstrip().endswith(b"data: [DONE]")


def test_expect_100_continue_is_answered(server):
    connection = Connection(server.port)
    body = completion_body()
    connection.send(request("POST", "/v1/completions", headers={**auth(), "Content-Length": str(len(body)), "Expect": "100-continue"}))
    interim = connection.read_response()
    assert interim.status == 100
    connection.send(body)
    assert connection.read_response().status == 200
    too_big = Connection(server.port)
    too_big.send(request("POST", "/v1/completions", headers={**auth(), "Content-Length": str(64 << 20), "Expect": "100-continue"}))
    response = too_big.read_response()
    assert response.status == 413
    assert too_big.is_closed_by_server()


def test_head_and_wrong_methods(server):
    get = requests.get(server.url + "/v1/models", headers=auth())
    head = requests.head(server.url + "/v1/models", headers=auth())
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    for method, path, allow in [("PUT", "/v1/models", "GET, HEAD"), ("DELETE", "/v1/chat/completions", "POST"),
                                ("GET", "/v1/completions", "POST")]:
        r = requests.request(method, server.url + path, headers=auth())
        assert r.status_code == 405, (method, path, r.status_code)
        assert r.headers["allow"] == allow
        assert r.json()["error"]["message"]
    assert requests.get(server.url + "/v1/nothing-here", headers=auth()).status_code == 404


def test_auth_scheme_is_case_insensitive(server):
    key = auth()["Authorization"].split(" ", 1)[1]
    for scheme in ["bearer", "BEARER", "Bearer"]:
        assert requests.get(server.url + "/v1/models", headers={"Authorization": f"{scheme} {key}"}).status_code == 200
    assert requests.get(server.url + "/v1/models", headers={"Authorization": f"Basic {key}"}).status_code == 401


@pytest.mark.parametrize("number", ["02", "+2", ".5", "NaN", "Infinity", "-Infinity", "1.", "1e", "-"])
def test_json_outside_rfc_8259_is_a_400_with_the_offset(server, number):
    body = b'{"model": "tern-e2e", "prompt": "Once", "max_tokens": ' + number.encode() + b'}'
    r = requests.post(server.url + "/v1/completions", headers={**auth(), "Content-Type": "application/json"}, data=body)
    assert r.status_code == 400, (number, r.text)
    assert "byte" in r.json()["error"]["message"]


def test_invalid_utf8_is_a_400(server):
    body = b'{"model": "tern-e2e", "prompt": "bad \xff\xfe text", "max_tokens": 2}'
    r = requests.post(server.url + "/v1/completions", headers={**auth(), "Content-Type": "application/json"}, data=body)
    assert r.status_code == 400
    assert "UTF-8" in r.json()["error"]["message"]


@pytest.mark.parametrize("fields, param", [
    ({"stop_token_ids": [-1]}, "stop_token_ids"), ({"best_of": 1000}, "best_of"), ({"best_of": 3}, "best_of"),
    ({"stop": ""}, "stop"), ({"stop": ["ok", ""]}, "stop"), ({"response_format": {"type": "json_schema"}}, "response_format.json_schema"),
    ({"tool_choice": "required"}, "tool_choice"), ({"use_beam_search": True}, "use_beam_search"),
    ({"prompt_logprobs": 1}, "prompt_logprobs"), ({"guided_json": {"type": "object", "uniqueItems": True}}, "guided_json.uniqueItems"),
    ({"store": True}, "store"), ({"metadata": {"k": "v"}}, "metadata"), ({"service_tier": "flex"}, "service_tier"),
    ({"verbosity": "low"}, "verbosity"), ({"prompt_cache_retention": "24h"}, "prompt_cache_retention"),
    ({"temprature": 0.5}, "temprature"), ({"logits_processors": ["x"]}, "logits_processors"), ({"prompt_cache_key": 3}, "prompt_cache_key"),
])
def test_fields_that_would_be_ignored_or_are_unknown_are_refused(server, fields, param):
    r = post_chat(server, **fields)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param


def test_neutral_values_of_unsupported_fields_pass(server):
    r = post_chat(server, best_of=1, response_format={"type": "text"}, tool_choice="none", use_beam_search=False, stop_token_ids=[0],
                  store=False, metadata={}, service_tier="auto", prompt_cache_key="app-1", prompt_cache_retention="in_memory",
                  user="u-1", safety_identifier="s-1")
    assert r.status_code == 200, r.text


def test_model_ids_with_a_slash():
    s = Server("--served-model-name", "org/model-x")
    try:
        for path in ["/v1/models/org/model-x", "/v1/models/org%2Fmodel-x"]:
            r = requests.get(s.url + path, headers=auth())
            assert r.status_code == 200, (path, r.text)
            assert r.json()["id"] == "org/model-x"
        assert requests.get(s.url + "/v1/models/org/other", headers=auth()).status_code == 404
        r = requests.post(s.url + "/v1/chat/completions", headers=auth(), json={**CHAT, "model": "org/model-x"})
        assert r.status_code == 200
    finally:
        s.stop()


def test_demo_template_renders_tool_calls_with_null_content():
    demo = Server(model=None)
    try:
        messages = [{"role": "user", "content": "weather?"},
                    {"role": "assistant", "content": None,
                     "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
                    {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]
        r = requests.post(demo.url + "/v1/chat/completions", headers=auth(),
                          json={"model": "tern-demo", "messages": messages, "max_tokens": 4})
        assert r.status_code == 200, r.text
    finally:
        demo.stop()


small_server = server_fixture("--max-num-seqs", "2", "--max-num-queued-reqs", "2")


def test_request_that_fits_only_as_a_whole_is_served_and_one_that_never_fits_is_a_400(small_server):
    r = post_chat(small_server, n=3, max_tokens=4)
    assert r.status_code == 200, r.text
    assert len(r.json()["choices"]) == 3
    never = post_chat(small_server, n=5, max_tokens=4)
    assert never.status_code == 400
    assert "at most 4" in never.json()["error"]["message"]
    assert "retry-after" not in never.headers


def test_burst_admission_counts_running_slots_and_queue(small_server):
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(30)

    def one():
        barrier.wait()
        r = requests.post(small_server.url + "/v1/completions", headers=auth(), timeout=120,
                          json={"model": "tern-e2e", "prompt": "Once", "max_tokens": 200, "ignore_eos": True})
        with lock:
            results.append((r.status_code, r.headers.get("retry-after")))

    threads = [threading.Thread(target=one) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    admitted = [s for s, _ in results if s == 200]
    refused = [after for s, after in results if s == 429]
    assert len(admitted) + len(refused) == 30, results
    assert len(admitted) >= 4, results
    assert all(after is not None and 1 <= int(after) <= 60 for after in refused), results


def test_sigterm_drains_then_ends_streams_with_an_error_event_and_done():
    import signal
    s = Server("--shutdown-grace-seconds", "1")
    try:
        outcomes = [None] * 8

        def stream(i):
            r = requests.post(s.url + "/v1/completions", headers=auth(), stream=True, timeout=60,
                              json={"model": "tern-e2e", "prompt": f"story {i}", "max_tokens": 480, "ignore_eos": True, "stream": True,
                                    "n": 4})
            events = [line for line in r.iter_lines() if line]
            outcomes[i] = events

        threads = [threading.Thread(target=stream, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        s.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        health = requests.get(s.url + "/health", timeout=5)
        assert health.status_code == 503 and health.json()["status"] == "draining"
        late = post_chat(s)
        assert late.status_code == 503 and late.headers["retry-after"]
        for t in threads:
            t.join(timeout=60)
        assert s.process.wait(timeout=30) == 0
        for events in outcomes:
            assert events[-1] == b"data: [DONE]", events[-3:]
            last = json.loads(events[-2][len(b"data: "):])
            finished = "choices" in last and last["choices"][0]["finish_reason"] == "length"
            # Choices interleave; every stream ends with a finished choice or the error event.
            assert finished or "error" in last, last
        assert any(b'"error"' in events[-2] for events in outcomes), "the grace ended before the streams did"
    finally:
        s.stop()


def test_a_model_template_that_breaks_the_limits_stops_startup(tmp_path):
    import subprocess
    from conftest import BINARY, MODEL
    bomb = tmp_path / "bomb.jinja"
    bomb.write_text(DOUBLING)
    result = subprocess.run([BINARY, "serve", "--model", MODEL, "--port", "0", "--host", "127.0.0.1", "--chat-template", str(bomb)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "render limits" in result.stderr and "string grew longer" in result.stderr
