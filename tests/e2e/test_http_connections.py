"""Keep-alive and pipelining: every request on a reused connection is answered, none dropped."""
import json

import requests

from raw_http import Connection, request


def completion(server, i, stream=False):
    return {"model": "tern-e2e", "prompt": f"request {i}", "max_tokens": 3, "stream": stream}


def test_sequential_keep_alive_requests_are_never_dropped(server):
    session = requests.Session()
    session.headers.update(server.headers())
    failures = []
    for i in range(300):
        kind = i % 3
        try:
            if kind == 0:
                r = session.post(server.url + "/v1/completions", json=completion(server, i), timeout=30)
                ok = r.status_code == 200 and r.json()["choices"][0]["finish_reason"] in ("length", "stop")
            elif kind == 1:
                r = session.post(server.url + "/v1/chat/completions", timeout=30,
                                 json={"model": "tern-e2e", "max_tokens": 3, "messages": [{"role": "user", "content": f"hi {i}"}]})
                ok = r.status_code == 200 and r.json()["choices"][0]["message"]["role"] == "assistant"
            else:
                r = session.post(server.url + "/v1/completions", json=completion(server, i, stream=True), timeout=30)
                ok = r.status_code == 200 and r.text.rstrip().endswith("data: [DONE]")
            if not ok:
                failures.append((i, r.status_code, r.text[:200]))
        except requests.RequestException as error:
            failures.append((i, repr(error)))
    assert failures == []


def test_pipelined_get_after_post_is_answered(server):
    auth = {"Authorization": server.headers()["Authorization"]}
    body = json.dumps({"model": "tern-e2e", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}).encode()
    connection = Connection(server.port)
    connection.send(request("POST", "/v1/chat/completions", body, auth) + request("GET", "/v1/models", headers=auth)
                    + request("POST", "/v1/completions", json.dumps(completion(server, 0, stream=True)).encode(), auth)
                    + request("GET", "/version", headers=auth))
    first, second, third, fourth = (connection.read_response() for _ in range(4))
    assert (first.status, second.status, third.status, fourth.status) == (200, 200, 200, 200)
    assert json.loads(first.body)["object"] == "chat.completion"
    assert json.loads(second.body)["data"][0]["id"] == "tern-e2e"
    assert third.body.rstrip().endswith(b"data: [DONE]")
    assert "version" in json.loads(fourth.body)
    connection.close()
