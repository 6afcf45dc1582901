"""`tern pull` against a fake Hugging Face Hub and ModelScope on loopback (tests/e2e/fake_hub.py):
the model it fetches serves; a cut connection, 503s and a killed run resume with ranges; a corrupted
file is refused and not kept; two pulls at once make one copy; ranged parts in parallel; offline
mode; the cache is huggingface_hub's own; the endpoints come from HF_ENDPOINT/MODELSCOPE_DOMAIN and
the token goes to the hub only, never to the CDN, and is never printed."""
import hashlib
import os
import signal
import subprocess
import time

import pytest
import requests

from conftest import BINARY, ROOT, Server
from fake_hub import FakeHub, Repo

FIXTURE = os.path.join(ROOT, "Tests", "Fixtures", "models", "qwen2-bpe")
REPO = "tern-test/qwen2-bpe"


def fixture_files():
    files = {name: open(os.path.join(FIXTURE, name), "rb").read() for name in sorted(os.listdir(FIXTURE))}
    files["README.md"] = b"# a model card, not needed to serve\n"
    files["onnx/model.onnx"] = os.urandom(4096)
    return files


@pytest.fixture
def hub():
    fake = FakeHub()
    fake.repos[REPO] = Repo(fixture_files())
    fake.repos["tern-test/private"] = Repo(fixture_files(), private=True)
    fake.repos["tern-test/gguf"] = Repo({"model-Q4_K_M.gguf": os.urandom(5000), "model-Q8_0.gguf": os.urandom(6000), "README.md": b"x"})
    yield fake
    fake.stop()


@pytest.fixture
def env(hub, tmp_path):
    return {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(tmp_path / "hf"), "MODELSCOPE_DOMAIN": hub.url,
            "MODELSCOPE_CACHE": str(tmp_path / "ms"), "HF_TOKEN": ""}


def pull(env, *args, timeout=120):
    return subprocess.run([BINARY, "pull", *args], env=env, capture_output=True, text=True, timeout=timeout)


def expect_completion(server, tokens):
    """The served model answers a completion of `tokens` tokens."""
    answer = requests.post(server.url + "/v1/completions", headers=server.headers(), timeout=60,
                           json={"model": "tern-e2e", "prompt": "Hello", "max_tokens": tokens}).json()
    assert answer["usage"]["completion_tokens"] == tokens, answer


def blobs(env, repo=REPO):
    folder = os.path.join(env["HF_HUB_CACHE"], "models--" + repo.replace("/", "--"), "blobs")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_pulled_model_serves_and_the_cache_is_huggingface_hubs(hub, env):
    result = pull(env, REPO)
    assert result.returncode == 0, result.stderr
    folder = result.stdout.strip().splitlines()[-1]
    assert sorted(os.listdir(folder)) == sorted(os.listdir(FIXTURE)), "only what Tern reads: no README, no onnx/"
    for name in os.listdir(FIXTURE):
        assert open(os.path.join(folder, name), "rb").read() == open(os.path.join(FIXTURE, name), "rb").read()
    server = Server(model=folder)
    try:
        expect_completion(server, 4)
    finally:
        server.stop()
    from huggingface_hub import snapshot_download
    found = snapshot_download(REPO, cache_dir=env["HF_HUB_CACHE"], local_files_only=True, allow_patterns=["*.json", "*.safetensors"])
    assert os.path.realpath(os.path.join(found, "model.safetensors")) == os.path.realpath(os.path.join(folder, "model.safetensors"))
    # The LFS file came from the CDN the hub redirected to; the small ones from the hub itself.
    assert hub.requests_for("path=model.safetensors") and all(r["server"] == "cdn" for r in hub.requests_for("path=model.safetensors"))


def test_token_goes_to_the_hub_only_and_is_never_printed(hub, env):
    denied = pull(env, "tern-test/private")
    assert denied.returncode == 1 and "token" in denied.stderr
    before = len(hub.requests)
    result = pull({**env, "HF_TOKEN": "hub-secret"}, "tern-test/private")
    assert result.returncode == 0, result.stderr
    assert "hub-secret" not in result.stdout + result.stderr
    hub_requests = [r for r in hub.requests[before:] if r["server"] == "hub" and "private" in r["path"]]
    assert hub_requests and all(r["authorization"] == "Bearer hub-secret" for r in hub_requests)
    assert all(r["authorization"] is None for r in hub.requests if r["server"] == "cdn")


def test_cut_connections_and_503s_resume_with_ranges(hub, env):
    hub.cut_after[f"{REPO}/model.safetensors"] = 100_000
    hub.fail_503[f"{REPO}/tokenizer.json"] = 2
    result = pull(env, REPO)
    assert result.returncode == 0, result.stderr
    ranges = [r["range"] for r in hub.requests_for("path=model.safetensors")]
    size = os.path.getsize(os.path.join(FIXTURE, "model.safetensors"))
    # The retry asks only for what did not arrive (what the socket delivered before the cut).
    start, end = (int(x) for x in ranges[-1][6:].split("-"))
    assert len(ranges) == 2 and 0 < start <= 100_000 and end == size - 1, ranges
    assert len(hub.requests_for("path=tokenizer.json")) == 3
    data = open(os.path.join(FIXTURE, "model.safetensors"), "rb").read()
    assert hashlib.sha256(data).hexdigest() in blobs(env)


def test_a_killed_pull_resumes_where_it_stopped(hub, env):
    hub.slow.add(f"{REPO}/model.safetensors")
    process = subprocess.Popen([BINARY, "pull", REPO], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    folder = os.path.join(env["HF_HUB_CACHE"], "models--tern-test--qwen2-bpe", "blobs")
    deadline = time.time() + 60
    while time.time() < deadline:
        parts = [f for f in os.listdir(folder)] if os.path.isdir(folder) else []
        partial = [os.path.join(folder, f) for f in parts if ".incomplete" in f]
        if partial and os.path.getsize(partial[0]) > 50_000:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    hub.slow.clear()
    result = pull(env, REPO)
    assert result.returncode == 0, result.stderr
    resumed = hub.requests_for("path=model.safetensors")[-1]["range"]
    assert resumed and int(resumed[6:].split("-")[0]) > 50_000, resumed


def test_a_corrupted_file_is_refused_and_not_kept(hub, env):
    hub.corrupt.add(f"{REPO}/model.safetensors")
    result = pull(env, REPO)
    assert result.returncode == 1
    assert "SHA-256" in result.stderr and "model.safetensors" in result.stderr
    digest = hashlib.sha256(open(os.path.join(FIXTURE, "model.safetensors"), "rb").read()).hexdigest()
    assert not [b for b in blobs(env) if b.startswith(digest)], blobs(env)


def test_two_pulls_at_once_make_one_copy(hub, env):
    hub.slow.add(f"{REPO}/model.safetensors")
    processes = [subprocess.Popen([BINARY, "pull", REPO], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    assert outputs[0][0] == outputs[1][0]
    assert len(hub.requests_for("path=model.safetensors")) == 1
    assert not [b for b in blobs(env) if "incomplete" in b]


def test_large_files_come_in_parallel_ranges(hub, env):
    result = pull(env, REPO, "--split-above", "50000", "--parts", "4")
    assert result.returncode == 0, result.stderr
    ranges = sorted(r["range"] for r in hub.requests_for("path=model.safetensors"))
    size = os.path.getsize(os.path.join(FIXTURE, "model.safetensors"))
    assert len(ranges) == 4 and ranges[0] == f"bytes=0-{size // 4 - 1}", ranges


def test_offline_mode_uses_the_cache_only(hub, env):
    offline = {**env, "HF_HUB_OFFLINE": "1"}
    missing = pull(offline, REPO)
    assert missing.returncode == 1 and "HF_HUB_OFFLINE" in missing.stderr
    assert pull(env, REPO).returncode == 0
    seen = len(hub.requests)
    result = pull(offline, REPO)
    assert result.returncode == 0 and os.path.isdir(result.stdout.strip())
    assert len(hub.requests) == seen


def test_modelscope_and_the_fallback_to_it(hub, env, tmp_path):
    result = pull(env, REPO, "--source", "modelscope")
    assert result.returncode == 0, result.stderr
    folder = result.stdout.strip()
    assert folder == os.path.join(env["MODELSCOPE_CACHE"], "models", "tern-test", "qwen2-bpe")
    assert sorted(os.listdir(folder)) == sorted(os.listdir(FIXTURE))
    assert hub.requests_for("/api/v1/models/tern-test/qwen2-bpe/repo/files")
    # Hugging Face unreachable (nothing listens there): auto falls back to ModelScope.
    unreachable = {**env, "HF_ENDPOINT": "http://127.0.0.1:9", "MODELSCOPE_CACHE": str(tmp_path / "ms2")}
    fallback = pull(unreachable, REPO)
    assert fallback.returncode == 0, fallback.stderr
    assert fallback.stdout.strip().startswith(str(tmp_path / "ms2"))


def test_gguf_repositories_ask_which_quantization(hub, env):
    listed = pull(env, "tern-test/gguf")
    assert listed.returncode == 1 and "model-Q4_K_M.gguf" in listed.stderr and "model-Q8_0.gguf" in listed.stderr
    chosen = pull(env, "tern-test/gguf", "--include", "*Q4_K_M.gguf")
    assert chosen.returncode == 0, chosen.stderr
    assert os.listdir(chosen.stdout.strip()) == ["model-Q4_K_M.gguf"]


def test_serve_takes_a_repository_id(hub, env):
    refused = subprocess.run([BINARY, "serve", "--model", REPO, "--no-download", "--host", "127.0.0.1", "--port", "0"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "tern pull" in refused.stderr and not hub.requests
    server = Server(model=REPO, env={k: env[k] for k in ("HF_ENDPOINT", "HF_HUB_CACHE", "MODELSCOPE_DOMAIN", "MODELSCOPE_CACHE")})
    try:
        expect_completion(server, 3)
    finally:
        server.stop()
    assert hub.requests_for("/api/models/tern-test/qwen2-bpe")
    # Cached now: a second start needs no hub (even with downloads off).
    seen = len(hub.requests)
    again = Server("--no-download", model=REPO, env={"HF_HUB_CACHE": env["HF_HUB_CACHE"], "HF_ENDPOINT": "http://127.0.0.1:9"})
    again.stop()
    assert len(hub.requests) == seen


def test_list_and_remove_cached_models(hub, env):
    assert pull(env, REPO).returncode == 0
    assert pull(env, REPO, "--source", "modelscope").returncode == 0
    listing = subprocess.run([BINARY, "list"], env=env, capture_output=True, text=True).stdout
    lines = [l for l in listing.splitlines() if l.startswith(REPO)]
    assert len(lines) == 2 and {"huggingface", "modelscope"} <= set(" ".join(lines).split()), listing
    removed = subprocess.run([BINARY, "rm", REPO], env=env, capture_output=True, text=True)
    assert removed.returncode == 0 and removed.stdout.count("removed") == 2
    assert REPO not in subprocess.run([BINARY, "list"], env=env, capture_output=True, text=True).stdout
    again = subprocess.run([BINARY, "rm", REPO], env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "not in the cache" in again.stderr


def test_files_downloaded_by_huggingface_hub_are_reused(hub, env):
    from huggingface_hub import snapshot_download
    snapshot_download(REPO, cache_dir=env["HF_HUB_CACHE"], endpoint=hub.url, allow_patterns=["*.json", "*.safetensors"])
    fetched = len(hub.requests_for("path=model.safetensors"))
    result = pull(env, REPO)
    assert result.returncode == 0, result.stderr
    assert len(hub.requests_for("path=model.safetensors")) == fetched, "tern fetched a blob the Python tool had already"
