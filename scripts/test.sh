#!/usr/bin/env bash
# The test command: Swift unit and integration tests, the arm64 kernels under qemu, then the
# end-to-end tests that drive the real `tern serve` binary with the official openai client and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
# The end-to-end tests drive curl, openssl (test certificates) and prlimit (a memory cap), and the
# deployment kit's nginx, Prometheus (promtool), docker-compose, docker and debootstrap; the arm64 kernel test needs a
# cross compiler and qemu-user.
missing=$(for tool in curl openssl prlimit aarch64-linux-gnu-gcc qemu-aarch64 nginx prometheus promtool docker-compose dockerd debootstrap; do
    command -v "$tool" >/dev/null || echo "$tool"; done)
if [ -n "$missing" ]; then
    apt-get update -qq && apt-get install -y -qq curl openssl util-linux gcc-aarch64-linux-gnu qemu-user nginx prometheus docker-compose \
        docker.io debootstrap >/dev/null
fi
swift build
swift test --disable-xctest
tests/arm64/run.sh
# The container image test puts tern in an image, linked with the Swift runtime inside. It is built in
# a folder of its own: SwiftPM does not notice that such a link needs the modules compiled for it.
swift build --product tern --static-swift-stdlib --scratch-path .build-static
python3 -m pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt
python3 -m pytest -q tests/e2e
