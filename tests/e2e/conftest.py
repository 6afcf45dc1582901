"""Starts the real `tern serve` binary on 127.0.0.1 with a fixture model for the end-to-end tests."""
import os
import socket
import subprocess
import time

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("TERN_BINARY", os.path.join(ROOT, ".build", "debug", "tern"))
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "models", "qwen2-bpe")
API_KEY = "e2e-secret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`model=None` starts the server with no model argument, so it serves the built-in demo;
    `wrapper` is a command the server runs under (e.g. prlimit); `env` adds environment variables;
    `health_verify` is the CA file that checks an HTTPS server's certificate; `health_status` is what
    /health answers once the server is up (403 for a server that refuses this client)."""

    def __init__(self, *extra_args, model=MODEL, wrapper=(), env=None, scheme="http", api_key=True, health_verify=None,
                 health_status=200):
        self.port = free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        model_args = ["--model", model, "--served-model-name", "tern-e2e"] if model else []
        key_args = ["--api-key", API_KEY] if api_key else []
        environment = {k: v for k, v in os.environ.items() if k != "MODEL_PATH"}
        environment.update(env or {})
        self.process = subprocess.Popen(
            [*wrapper, BINARY, "serve", *model_args, "--host", "127.0.0.1", "--port", str(self.port),
             *key_args, "--log-level", "warning", *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=1, verify=health_verify).status_code == health_status:
                    return
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"tern serve exited with status {self.process.returncode}")
            time.sleep(0.1)
        raise RuntimeError("tern serve did not become healthy")

    def headers(self):
        return {"Authorization": f"Bearer {API_KEY}"}

    def rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def server_fixture(*args, **kwargs):
    """A module-wide server started with these arguments."""
    @pytest.fixture(scope="module")
    def fixture():
        s = Server(*args, **kwargs)
        yield s
        s.stop()
    return fixture


server = server_fixture()
