// SHA-256 (FIPS 180-4), incrementally: what `tern pull` checks every downloaded file against.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[8];
    uint64_t length;        // bytes hashed so far
    uint8_t block[64];      // bytes waiting for a full block
    size_t filled;
} tern_sha256;

void tern_sha256_init(tern_sha256 *context);
void tern_sha256_update(tern_sha256 *context, const void *data, size_t count);
/// Writes the 32-byte digest; the context is spent.
void tern_sha256_final(tern_sha256 *context, uint8_t digest[32]);
