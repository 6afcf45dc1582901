"""The bare-metal systemd unit: systemd accepts it, its sandboxing rates well in
`systemd-analyze security`, its stop timeout covers Tern's drain, and every setting its example
environment file names is one `tern serve` reads."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import BINARY, ROOT

UNIT = os.path.join(ROOT, "deploy", "systemd", "tern.service")
ENV = os.path.join(ROOT, "deploy", "systemd", "tern.env")


def unit_with_binary(tmp_path):
    with open(UNIT) as f:
        text = f.read().replace("/usr/local/bin/tern", BINARY)
    path = tmp_path / "tern.service"
    path.write_text(text)
    return path, text


def test_unit_verifies_and_is_sandboxed(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed")
    path, _ = unit_with_binary(tmp_path)
    verify = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(path)], capture_output=True, text=True)
    score = float(re.search(r"Overall exposure level for tern.service: ([0-9.]+)", security.stdout).group(1))
    assert score <= 2.0, security.stdout[-2000:]


def test_stop_timeout_covers_the_drain(tmp_path):
    _, text = unit_with_binary(tmp_path)
    with open(ENV) as f:
        grace = int(re.search(r"^SHUTDOWN_GRACE_SECONDS=(\d+)", f.read(), re.M).group(1))
    assert int(re.search(r"^TimeoutStopSec=(\d+)", text, re.M).group(1)) >= grace + 5
    assert re.search(r"^KillSignal=SIGTERM", text, re.M) and re.search(r"^Restart=on-failure", text, re.M)


def test_environment_file_names_real_settings():
    help_text = subprocess.run([BINARY, "serve", "--help"], capture_output=True, text=True).stdout
    flags = set(re.findall(r"--([a-z][a-z0-9-]+)", help_text))
    with open(ENV) as f:
        names = re.findall(r"^#? ?([A-Z][A-Z_]+)=", f.read(), re.M)
    assert names
    for name in names:
        flag = "model" if name == "MODEL_PATH" else name.lower().replace("_", "-")
        assert flag in flags, f"{name} is not a tern serve setting"
