"""Running in production: TLS, who may connect, API key files, the metrics port, logs with
request ids and rotation, and a keep-alive soak."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time

import httpx2
import openai
import pytest
import requests

from conftest import API_KEY, Server
from tls_certificates import make_ca, make_certificate

AUTH = {"Authorization": f"Bearer {API_KEY}"}
CHAT = {"model": "tern-e2e", "max_tokens": 3, "messages": [{"role": "user", "content": "a secret prompt"}]}


def peer_common_name(port, ca):
    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", port)) as raw, context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        return dict(pair[0] for pair in tls.getpeercert()["subject"])["commonName"]


@pytest.mark.parametrize("key", ["rsa", "ec"])
def test_https_with_curl_and_the_openai_client(tmp_path, key):
    ca = make_ca(tmp_path)
    certificate, private_key = make_certificate(tmp_path, "server", "tern-one", key=key)
    server = Server("--ssl-certfile", str(certificate), "--ssl-keyfile", str(private_key), scheme="https", health_verify=str(ca))
    try:
        curl = subprocess.run(["curl", "-sS", "--cacert", str(ca), "-H", f"Authorization: Bearer {API_KEY}", server.url + "/v1/models"],
                              capture_output=True, text=True, timeout=30)
        assert json.loads(curl.stdout)["data"][0]["id"] == "tern-e2e", curl.stderr
        client = openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0, http_client=httpx2.Client(verify=ssl.create_default_context(cafile=str(ca))))
        reply = client.chat.completions.create(model="tern-e2e", messages=[{"role": "user", "content": "hi"}], max_tokens=3)
        assert reply.choices[0].message.role == "assistant"
        # Plain HTTP to the TLS port fails cleanly, and the server keeps serving.
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://127.0.0.1:{server.port}/health", timeout=5)
        assert requests.get(server.url + "/health", verify=str(ca), timeout=5).status_code == 200

        # A new certificate in the same files is picked up without a restart; a running stream survives.
        stream = requests.post(server.url + "/v1/completions", headers=AUTH, verify=str(ca), stream=True, timeout=60,
                               json={"model": "tern-e2e", "prompt": "Once", "max_tokens": 300, "ignore_eos": True, "stream": True})
        lines = stream.iter_lines()
        next(lines)
        renewed, renewed_key = make_certificate(tmp_path, "renewed", "tern-two", key=key)
        shutil.copy(renewed_key, private_key)
        shutil.copy(renewed, certificate)
        deadline = time.time() + 15
        while time.time() < deadline and peer_common_name(server.port, ca) != "tern-two":
            time.sleep(0.3)
        assert peer_common_name(server.port, ca) == "tern-two"
        assert [line for line in lines if line][-1] == b"data: [DONE]"
    finally:
        server.stop()


def test_mutual_tls_accepts_a_signed_client_and_refuses_others(tmp_path):
    ca = make_ca(tmp_path)
    certificate, private_key = make_certificate(tmp_path, "server", "tern-server")
    client_certificate, client_key = make_certificate(tmp_path, "client", "a-client", client=True)
    other_ca_dir = tmp_path / "other"
    other_ca_dir.mkdir()
    make_ca(other_ca_dir, name="Someone Else")
    stranger_certificate, stranger_key = make_certificate(other_ca_dir, "stranger", "stranger", client=True)
    from conftest import free_port, BINARY, MODEL
    port = free_port()
    process = subprocess.Popen([BINARY, "serve", "--model", MODEL, "--served-model-name", "tern-e2e", "--host", "127.0.0.1",
                                "--port", str(port), "--log-level", "warning", "--ssl-certfile", str(certificate),
                                "--ssl-keyfile", str(private_key), "--ssl-ca-certs", str(ca)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"https://127.0.0.1:{port}/health"
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(url, verify=str(ca), cert=(str(client_certificate), str(client_key)), timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert requests.get(url, verify=str(ca), cert=(str(client_certificate), str(client_key)), timeout=5).status_code == 200
        for cert in [None, (str(stranger_certificate), str(stranger_key))]:
            with pytest.raises(requests.exceptions.RequestException):
                requests.get(url, verify=str(ca), cert=cert, timeout=5)
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_allow_list_and_trusted_proxies():
    refused = Server("--allowed-ips", "10.0.0.0/8,fd00::/8", health_status=403)
    try:
        r = requests.get(refused.url + "/v1/models", headers=AUTH)
        assert r.status_code == 403 and r.json()["error"]["code"] == "ip_not_allowed"
        # X-Forwarded-For counts only from trusted proxies.
        assert requests.get(refused.url + "/v1/models", headers={**AUTH, "X-Forwarded-For": "10.1.2.3"}).status_code == 403
    finally:
        refused.stop()
    allowed = Server("--allowed-ips", "127.0.0.1/32, ::1")
    try:
        assert requests.get(allowed.url + "/v1/models", headers=AUTH).status_code == 200
    finally:
        allowed.stop()
    proxied = Server("--allowed-ips", "10.0.0.0/8", "--trusted-proxies", "127.0.0.0/8", health_status=403)
    try:
        # /health refuses the proxy itself at once, loaded or not: wait until an allowed client sees 200.
        deadline = time.time() + 60
        while requests.get(proxied.url + "/health", headers={"X-Forwarded-For": "10.1.2.3"}).status_code != 200 and time.time() < deadline:
            time.sleep(0.1)
        assert requests.get(proxied.url + "/v1/models", headers={**AUTH, "X-Forwarded-For": "10.1.2.3"}).status_code == 200
        assert requests.get(proxied.url + "/v1/models", headers={**AUTH, "X-Forwarded-For": "10.1.2.3, 192.0.2.9"}).status_code == 403
        assert requests.get(proxied.url + "/v1/models", headers=AUTH).status_code == 403
    finally:
        proxied.stop()


def test_cors_preflight_for_allowed_and_other_origins():
    server = Server(env={"ALLOWED_ORIGINS": "https://app.example"})
    try:
        preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization, content-type"}
        r = requests.options(server.url + "/v1/chat/completions", headers=preflight)
        assert r.status_code == 204
        assert r.headers["access-control-allow-origin"] == "https://app.example"
        assert "POST" in r.headers["access-control-allow-methods"]
        assert r.headers["access-control-allow-headers"] == "authorization, content-type"
        other = requests.options(server.url + "/v1/chat/completions", headers={**preflight, "Origin": "https://evil.example"})
        assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
        ok = requests.post(server.url + "/v1/chat/completions", headers={**AUTH, "Origin": "https://app.example"}, json=CHAT)
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://app.example"
    finally:
        server.stop()
    closed = Server()
    try:
        r = requests.options(closed.url + "/v1/models", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
        assert r.status_code == 403
    finally:
        closed.stop()


def test_api_key_file_is_reread_on_sighup_and_keys_never_logged(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# team keys\nsk-first\n\n  sk-second  \n")
    log = tmp_path / "tern.log"
    server = Server("--api-key-file", str(keys), "--log-file", str(log), "--log-level", "info", api_key=False)
    try:
        def status(key):
            return requests.get(server.url + "/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code
        assert (status("sk-first"), status("sk-second"), status("sk-third"), status("# team keys")) == (200, 200, 401, 401)
        keys.write_text("sk-third\n")
        server.process.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and status("sk-third") != 200:
            time.sleep(0.1)
        assert (status("sk-first"), status("sk-third")) == (401, 200)
        text = log.read_text()
        assert "GET /v1/models 200" in text
        assert not any(key in text for key in ["sk-first", "sk-second", "sk-third"])
    finally:
        server.stop()


def test_metrics_on_their_own_port_or_off():
    from conftest import free_port
    metrics_port = free_port()
    server = Server(env={"PROMETHEUS_PORT": str(metrics_port)})
    try:
        r = requests.get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert r.status_code == 200 and "vllm:num_requests_running" in r.text
        assert requests.get(server.url + "/metrics", headers=AUTH).status_code == 404
    finally:
        server.stop()
    off = Server(env={"ENABLE_METRICS": "false"})
    try:
        assert requests.get(off.url + "/metrics", headers=AUTH).status_code == 404
    finally:
        off.stop()


def test_json_logs_carry_the_request_id_and_rotate(tmp_path):
    log = tmp_path / "tern.log"
    config = tmp_path / "tern.yaml"
    config.write_text(f"log-format: json\nlog-file: {log}\nlog-max-size: 4KiB\nlog-backups: 2\n")
    server = Server("--config", str(config), "--log-level", "info")
    try:
        given = requests.post(server.url + "/v1/chat/completions", headers={**AUTH, "X-Request-Id": "client-chosen-42"}, json=CHAT)
        assert given.headers["x-request-id"] == "client-chosen-42"
        made = requests.post(server.url + "/v1/completions", headers=AUTH, json={"model": "tern-e2e", "prompt": "Once", "max_tokens": 2})
        made_id = made.headers["x-request-id"]
        error = requests.post(server.url + "/v1/completions", headers=AUTH, json={"model": "tern-e2e"})
        assert error.status_code == 400
        assert error.json()["error"]["request_id"] == error.headers["x-request-id"]
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        by_id = {line.get("request_id"): line for line in lines if "status" in line}
        chat = by_id["client-chosen-42"]
        assert (chat["method"], chat["path"], chat["status"], chat["level"]) == ("POST", "/v1/chat/completions", 200, "info")
        assert chat["client"] == "127.0.0.1" and chat["prompt_tokens"] > 0 and chat["completion_tokens"] == 3
        assert {"time", "logger", "message", "latency_ms"} <= chat.keys()
        assert by_id[made_id]["path"] == "/v1/completions"
        assert "a secret prompt" not in log.read_text()

        for i in range(200):
            requests.get(server.url + "/v1/models", headers=AUTH)
        files = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("tern.log"))
        assert files == ["tern.log", "tern.log.1", "tern.log.2"]
        assert all((tmp_path / name).stat().st_size <= 4096 for name in files)

        # logrotate's way: rename, then SIGHUP; logging goes on in a new file.
        os.rename(log, tmp_path / "moved.log")
        server.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        requests.get(server.url + "/v1/models", headers={**AUTH, "X-Request-Id": "after-rotate"})
        deadline = time.time() + 5
        while time.time() < deadline and not (log.exists() and "after-rotate" in log.read_text()):
            time.sleep(0.1)
        assert "after-rotate" in log.read_text()
    finally:
        server.stop()


def test_log_requests_logs_prompts_only_when_asked(tmp_path):
    log = tmp_path / "tern.log"
    server = Server("--log-file", str(log), "--log-level", "info", "--log-requests")
    try:
        requests.post(server.url + "/v1/chat/completions", headers=AUTH, json=CHAT)
        time.sleep(0.2)
        assert "a secret prompt" in log.read_text()
    finally:
        server.stop()


def test_keep_alive_soak(server):
    """2,000 sequential keep-alive requests of every kind, then 64 concurrent keep-alive clients for 20 s."""
    def rss_kib():
        return server.rss_kib()

    session = requests.Session()
    session.headers.update(AUTH)
    bodies = [("/v1/completions", {"model": "tern-e2e", "prompt": "soak", "max_tokens": 2}),
              ("/v1/chat/completions", {**CHAT, "max_tokens": 2}),
              ("/v1/completions", {"model": "tern-e2e", "prompt": "soak", "max_tokens": 2, "stream": True}),
              ("/v1/chat/completions", {**CHAT, "max_tokens": 2, "stream": True})]
    failures = []
    for i in range(2000):
        path, body = bodies[i % 4]
        try:
            r = session.post(server.url + path, json=body, timeout=30)
            complete = r.status_code == 200 and (r.text.rstrip().endswith("data: [DONE]") if body.get("stream") else "choices" in r.json())
            if not complete:
                failures.append((i, r.status_code))
        except requests.RequestException as error:
            failures.append((i, repr(error)))
        if i == 200:
            baseline = rss_kib()
    assert failures == []

    stop = time.time() + 20
    errors, counts = [], [0] * 64

    def client(index):
        own = requests.Session()
        own.headers.update(AUTH)
        while time.time() < stop:
            path, body = bodies[(index + counts[index]) % 4]
            try:
                r = own.post(server.url + path, json=body, timeout=60)
                if r.status_code != 200:
                    errors.append(r.status_code)
            except requests.RequestException as error:
                errors.append(repr(error))
            counts[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], errors[:5]
    assert all(count > 0 for count in counts)
    grown = rss_kib() - baseline
    assert grown < 64 * 1024, f"resident memory grew by {grown} KiB"


def test_oversized_headers_are_refused_and_the_server_serves_on():
    server = Server("--max-header-bytes", "2048")
    try:
        r = requests.get(server.url + "/v1/models", headers={**AUTH, "X-Padding": "x" * 4096})
        assert r.status_code in (400, 431)
        assert requests.get(server.url + "/v1/models", headers=AUTH).status_code == 200
    finally:
        server.stop()


def test_exposed_server_without_a_key_warns_at_startup():
    from conftest import BINARY, MODEL, free_port
    process = subprocess.Popen([BINARY, "serve", "--model", MODEL, "--host", "0.0.0.0", "--port", str(free_port())],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 30
        text = ""
        while time.time() < deadline and "NO API KEY" not in text:
            text += process.stderr.readline()
        assert "NO API KEY" in text
    finally:
        process.terminate()
        process.wait(timeout=20)
