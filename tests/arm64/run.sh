#!/usr/bin/env bash
# Builds the C kernels and kernel_paths.c for aarch64 and runs them under qemu-user, so the NEON
# path is tested on an x86 machine. Needs Debian's gcc-aarch64-linux-gnu and qemu-user.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
aarch64-linux-gnu-gcc -O2 -std=gnu11 -static -pthread -ISources/CTernKernels/include -ISources/CTernKernels \
    Sources/CTernKernels/*.c tests/arm64/kernel_paths.c -lm -o "$out/kernel_paths"
qemu-aarch64 "$out/kernel_paths"
