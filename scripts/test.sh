#!/usr/bin/env bash
# The test command: Swift unit and integration tests, then the end-to-end tests that drive
# the real `tern serve` binary with the official openai client and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
# The end-to-end tests drive curl, openssl (test certificates) and prlimit (a memory cap).
missing=$(for tool in curl openssl prlimit; do command -v "$tool" >/dev/null || echo "$tool"; done)
if [ -n "$missing" ]; then
    apt-get update -qq && apt-get install -y -qq curl openssl util-linux >/dev/null
fi
swift build
swift test --disable-xctest
python3 -m pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt
python3 -m pytest -q tests/e2e
