#!/usr/bin/env bash
# The test command: Swift unit and integration tests, then the end-to-end tests that drive
# the real `tern serve` binary with the official openai client and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test --disable-xctest
python3 -m pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt
python3 -m pytest -q tests/e2e
