"""The compose stack's own nginx and Prometheus files, run for real on loopback (Debian's nginx and
prometheus packages): 32 streamed chats through nginx over two `tern serve` processes, Prometheus
scraping both and answering the query KEDA runs, promtool on the alert rules, the Grafana panels'
metrics against what Tern exposes, and docker-compose validating the compose file. The files are
templated only for ports and paths."""
import json
import os
import re
import shutil
import subprocess
import threading
import time

import pytest
import requests

from conftest import API_KEY, BINARY, ROOT, Server, free_port

KIT = os.path.join(ROOT, "deploy", "compose")


def kit_file(name):
    with open(os.path.join(KIT, name)) as f:
        return f.read()


def require(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (scripts/test.sh installs them)")


def wait_until_ok(url, seconds=20):
    """Polls `url` until it answers 200 (a server this test just started)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered 200")


@pytest.fixture(scope="module")
def backends():
    # Few sequences at once, so 32 streams leave requests waiting for Prometheus to see.
    servers = [Server("--max-num-seqs", "2", model=None) for _ in range(2)]
    yield servers
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def nginx(backends, tmp_path_factory):
    require("nginx")
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    config = kit_file("nginx.conf").replace("tern-1:8000", f"127.0.0.1:{backends[0].port}") \
        .replace("tern-2:8000", f"127.0.0.1:{backends[1].port}").replace("listen 8080", f"listen 127.0.0.1:{port}") \
        .replace("/tmp/", f"{folder}/")
    (folder / "nginx.conf").write_text(config)
    process = subprocess.Popen(["nginx", "-c", str(folder / "nginx.conf"), "-p", str(folder), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    wait_until_ok(url + "/nginx-health")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def prometheus(backends, tmp_path_factory):
    require("prometheus")
    folder = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    targets = f'"127.0.0.1:{backends[0].port}", "127.0.0.1:{backends[1].port}"'
    (folder / "prometheus.yml").write_text(kit_file("prometheus.yml").replace('"tern-1:8000", "tern-2:8000"', targets))
    shutil.copy(os.path.join(KIT, "alerts.yml"), folder / "alerts.yml")
    process = subprocess.Popen(["prometheus", f"--config.file={folder / 'prometheus.yml'}", f"--storage.tsdb.path={folder / 'data'}",
                                f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until_ok(url + "/-/ready", seconds=40)
    yield url
    process.terminate()
    process.wait(timeout=20)


def query(prometheus, expression):
    result = requests.get(prometheus + "/api/v1/query", params={"query": expression}, timeout=5).json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def stream_chat(url, arrivals):
    """One streamed chat through nginx; `arrivals` gets the time of every event and whether it completed."""
    response = requests.post(url + "/v1/chat/completions", stream=True, timeout=300, headers={"Authorization": f"Bearer {API_KEY}"},
                             json={"model": "tern-demo", "stream": True, "max_tokens": 200, "ignore_eos": True,
                                   "messages": [{"role": "user", "content": "Tell me a long story."}]})
    times, done = [], False
    for line in response.iter_lines():
        if line.startswith(b"data: "):
            times.append(time.monotonic())
            done = done or line == b"data: [DONE]"
    arrivals.append((times, done, response.status_code))


def test_streams_through_nginx_are_complete_unbuffered_and_balanced(backends, nginx, prometheus):
    arrivals = []
    threads = [threading.Thread(target=stream_chat, args=(nginx, arrivals)) for _ in range(32)]
    for t in threads:
        t.start()
    # Under load, the query KEDA's prometheus trigger runs sees requests waiting.
    deadline, waiting = time.time() + 60, None
    while time.time() < deadline and any(t.is_alive() for t in threads):
        waiting = query(prometheus, "sum(vllm:num_requests_waiting)")
        if waiting:
            break
        time.sleep(1)
    for t in threads:
        t.join(timeout=300)
    assert len(arrivals) == 32 and all(status == 200 and done for _, done, status in arrivals)
    assert waiting and waiting > 0, "Prometheus never saw a waiting request under load"
    # Unbuffered: each stream's events arrive spread over its generation, not in one burst at the end.
    spread = sorted((times[-1] - times[0]) for times, _, _ in arrivals)
    assert spread[len(spread) // 2] > 0.05, spread
    # Both replicas served requests.
    for server in backends:
        metrics = requests.get(server.url + "/metrics", timeout=5).text
        served = sum(float(v) for v in re.findall(r'^vllm:request_success_total\{[^}]*\} (\S+)$', metrics, re.M))
        assert served > 0, server.url
    # And after the load, the same query comes back to 0.
    deadline = time.time() + 30
    while time.time() < deadline and query(prometheus, "sum(vllm:num_requests_waiting)") != 0:
        time.sleep(1)
    assert query(prometheus, "sum(vllm:num_requests_waiting)") == 0
    assert query(prometheus, 'sum(up{job="tern"})') == 2


def test_a_stream_through_nginx_is_not_held_back(nginx):
    """One long stream alone: its first event arrives with the first token, not when a proxy buffer
    (4-8 KiB, some 30-50 events) fills or the stream ends."""
    start = time.monotonic()
    response = requests.post(nginx + "/v1/chat/completions", stream=True, timeout=120, headers={"Authorization": f"Bearer {API_KEY}"},
                             json={"model": "tern-demo", "stream": True, "max_tokens": 400, "ignore_eos": True,
                                   "messages": [{"role": "user", "content": "Tell me a long story."}]})
    times = [time.monotonic() - start for line in response.iter_lines() if line.startswith(b"data: ")]
    assert len(times) > 300
    assert times[0] < 0.1 * times[-1], (times[0], times[-1])


def test_alert_rules_check_and_pass_their_tests():
    require("promtool")
    for command in (["promtool", "check", "rules", "alerts.yml"], ["promtool", "test", "rules", "alerts_test.yml"]):
        result = subprocess.run(command, cwd=KIT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_panels_use_metrics_tern_exposes(backends):
    exposed = set(re.findall(r"^# TYPE (\S+) ", requests.get(backends[0].url + "/metrics", timeout=5).text, re.M))
    with open(os.path.join(KIT, "grafana", "dashboards", "tern.json")) as f:
        dashboard = json.load(f)
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= {m for m in re.findall(r"(vllm:[a-z_]+|tern_[a-z_]+)", target["expr"])}
    # Histograms are queried through their _bucket series.
    missing = {m for m in used if m not in exposed and m.removesuffix("_bucket") not in exposed}
    assert not missing, missing
    assert {"vllm:time_to_first_token_seconds_bucket", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
            "tern_http_responses_total"} <= used


def test_compose_file_validates():
    require("docker-compose")
    result = subprocess.run(["docker-compose", "-f", os.path.join(KIT, "docker-compose.yml"), "config", "-q"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_healthcheck_command_follows_the_server(tmp_path):
    """`tern healthcheck` (the image's HEALTHCHECK, no curl needed): 0 while /health answers 200, 1 after."""
    server = Server(model=None)
    try:
        ok = subprocess.run([BINARY, "healthcheck", "--port", str(server.port)], capture_output=True, text=True, timeout=30)
        assert ok.returncode == 0, ok.stderr
        by_env = subprocess.run([BINARY, "healthcheck"], env={**os.environ, "PORT": str(server.port)}, capture_output=True, timeout=30)
        assert by_env.returncode == 0
    finally:
        server.stop()
    down = subprocess.run([BINARY, "healthcheck", "--port", str(server.port)], capture_output=True, text=True, timeout=30)
    assert down.returncode == 1 and "unhealthy" in down.stderr
