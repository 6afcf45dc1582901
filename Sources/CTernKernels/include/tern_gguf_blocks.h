// The other GGUF block types (Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS), bit-exact
// with llama.cpp's block structs, and one way to read them all: a block unpacked into signed
// 8-bit weights with a scale and an offset per 16 weights (weight = scale * q + offset). The
// unpackers are plain loops over 16 or 32 lanes, included by each dispatch path so the compiler
// vectorizes them for that path's instructions.
#ifndef TERN_GGUF_BLOCKS_H
#define TERN_GGUF_BLOCKS_H

#include <stddef.h>
#include <stdint.h>
#include "tern_quant.h"

typedef struct {
    uint16_t d, m;              // weight = d * q + m, q in 0..15
    uint8_t qs[TERN_QK / 2];    // as Q4_0: element i in the low nibble of qs[i], i + 16 in the high
} tern_block_q4_1;

typedef struct {
    uint16_t d;                 // weight = d * (q - 16), q in 0..31
    uint8_t qh[4];              // bit i: the fifth bit of element i
    uint8_t qs[TERN_QK / 2];
} tern_block_q5_0;

typedef struct {
    uint16_t d, m;              // weight = d * q + m, q in 0..31
    uint8_t qh[4];
    uint8_t qs[TERN_QK / 2];
} tern_block_q5_1;

typedef struct {
    uint8_t scales[16];         // per 16 weights: scale in the low nibble, min in the high nibble
    uint8_t qs[64];             // 2 bits each: element 128h + 32j + l at bits 2j of qs[32h + l]
    uint16_t d, dmin;           // weight = d * scale * q - dmin * min
} tern_block_q2_k;

typedef struct {
    uint8_t hmask[32];          // element 32j + l: bit j of hmask[l]; a clear bit subtracts 4
    uint8_t qs[64];             // low 2 bits, laid out as Q2_K
    uint8_t scales[12];         // 16 six-bit scales, stored plus 32
    uint16_t d;                 // weight = d * (scale - 32) * q
} tern_block_q3_k;

typedef struct {
    uint16_t d, dmin;
    uint8_t scales[12];         // as Q4_K
    uint8_t qh[32];             // element 32j + l: fifth bit at bit j of qh[l]
    uint8_t qs[TERN_QK_K / 2];  // as Q4_K
} tern_block_q5_k;

typedef struct {
    uint8_t ql[128];            // element 128h + 64n + l: low 4 bits at nibble n of ql[64h + l]
    uint8_t qh[64];             // element 128h + 32j + l: high 2 bits at bits 2j of qh[32h + l]
    int8_t scales[16];          // per 16 weights
    uint16_t d;                 // weight = d * scale * (q - 32)
} tern_block_q6_k;

typedef struct {
    uint16_t d;                 // weight = d * tern_iq4_values[q]
    uint8_t qs[TERN_QK / 2];    // as Q4_0
} tern_block_iq4_nl;

typedef struct {
    uint16_t d;
    uint16_t scales_h;          // per 32 weights: two high bits of the six-bit scale (stored plus 32)
    uint8_t scales_l[4];        // and its four low bits
    uint8_t qs[TERN_QK_K / 2];  // per 32 weights, 16 bytes laid out as Q4_0
} tern_block_iq4_xs;

/// Not a GGUF type: Q8_0 with an offset, for 8-bit checkpoints whose zero points are not the
/// middle of the range (asymmetric GPTQ int8).
typedef struct {
    uint16_t d, m;              // weight = d * q + m, q in -128..127
    int8_t qs[TERN_QK];
} tern_block_q8_0m;

/// The non-linear 4-bit values of IQ4_NL and IQ4_XS.
static const int8_t tern_iq4_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/// A block read as weight[i] = scale[i / 16] * q[i] + offset[i / 16]; blocks of 32 weights use
/// the first 32 entries of q and two of scale and offset.
typedef struct {
    int8_t q[TERN_QK_K];
    float scale[TERN_QK_K / 16];
    float offset[TERN_QK_K / 16];
} tern_unpacked_block;

/// f16 to f32 inline, exact for every value: the unpackers run once per block in hot loops,
/// where a call to the general converter costs more than the rest of the unpacking. No step
/// computes on a subnormal float (scales of small weights are often subnormal halves, and
/// subnormal arithmetic takes a slow microcode path on x86).
static inline float tern_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, magnitude = h & 0x7FFFu, bits;
    float f;
    if (magnitude >= 0x7C00u) {
        bits = sign | 0x7F800000u | ((magnitude & 0x3FFu) << 13);  // infinity or NaN
    } else if (magnitude >= 0x0400u) {
        bits = sign | ((magnitude << 13) + (112u << 23));          // normal: rebias the exponent
    } else {
        f = (float)magnitude * 0x1p-24f;                           // subnormal half: mantissa * 2^-24
        __builtin_memcpy(&bits, &f, 4);
        bits |= sign;
    }
    __builtin_memcpy(&f, &bits, 4);
    return f;
}

/// Q4_0-style nibbles of 32 weights (low nibbles first, then high ones) into q, minus `zero`.
static inline void tern_unpack_nibbles(const uint8_t *qs, int8_t *q, int zero) {
    for (int l = 0; l < 16; l++) {
        q[l] = (int8_t)((qs[l] & 0xF) - zero);
        q[l + 16] = (int8_t)((qs[l] >> 4) - zero);
    }
}

static inline void tern_set_scales(tern_unpacked_block *u, int sub_blocks, const float *scale, const float *offset) {
    for (int s = 0; s < sub_blocks; s++) {
        u->scale[2 * s] = u->scale[2 * s + 1] = scale[s];
        u->offset[2 * s] = u->offset[2 * s + 1] = offset[s];
    }
}

static inline void tern_unpack_q4_1(const tern_block_q4_1 *b, tern_unpacked_block *u) {
    tern_unpack_nibbles(b->qs, u->q, 0);
    float d = tern_half_to_float(b->d), m = tern_half_to_float(b->m);
    tern_set_scales(u, 1, &d, &m);
}

static inline void tern_unpack_fifth_bits(const uint8_t qh_bytes[4], int8_t *q) {
    uint32_t qh = (uint32_t)qh_bytes[0] | (uint32_t)qh_bytes[1] << 8 | (uint32_t)qh_bytes[2] << 16 | (uint32_t)qh_bytes[3] << 24;
    for (int l = 0; l < 32; l++) q[l] = (int8_t)(q[l] | (((qh >> l) & 1) << 4));
}

static inline void tern_unpack_q5_0(const tern_block_q5_0 *b, tern_unpacked_block *u) {
    tern_unpack_nibbles(b->qs, u->q, 0);
    tern_unpack_fifth_bits(b->qh, u->q);
    for (int l = 0; l < 32; l++) u->q[l] = (int8_t)(u->q[l] - 16);
    float d = tern_half_to_float(b->d), zero = 0;
    tern_set_scales(u, 1, &d, &zero);
}

static inline void tern_unpack_q5_1(const tern_block_q5_1 *b, tern_unpacked_block *u) {
    tern_unpack_nibbles(b->qs, u->q, 0);
    tern_unpack_fifth_bits(b->qh, u->q);
    float d = tern_half_to_float(b->d), m = tern_half_to_float(b->m);
    tern_set_scales(u, 1, &d, &m);
}

static inline void tern_unpack_iq4_nl(const tern_block_iq4_nl *b, tern_unpacked_block *u) {
    for (int l = 0; l < 16; l++) {
        u->q[l] = tern_iq4_values[b->qs[l] & 0xF];
        u->q[l + 16] = tern_iq4_values[b->qs[l] >> 4];
    }
    float d = tern_half_to_float(b->d), zero = 0;
    tern_set_scales(u, 1, &d, &zero);
}

static inline void tern_unpack_q8_0m(const tern_block_q8_0m *b, tern_unpacked_block *u) {
    for (int l = 0; l < 32; l++) u->q[l] = b->qs[l];
    float d = tern_half_to_float(b->d), m = tern_half_to_float(b->m);
    tern_set_scales(u, 1, &d, &m);
}

/// Two-bit fields of a Q2_K / Q3_K quant array: element 128h + 32j + l at bits 2j of qs[32h + l].
static inline void tern_unpack_crumbs(const uint8_t *qs, int8_t *q) {
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) q[128 * h + 32 * j + l] = (int8_t)((qs[32 * h + l] >> (2 * j)) & 3);
}

static inline void tern_unpack_q2_k(const tern_block_q2_k *b, tern_unpacked_block *u) {
    tern_unpack_crumbs(b->qs, u->q);
    float d = tern_half_to_float(b->d), dmin = tern_half_to_float(b->dmin);
    for (int s = 0; s < 16; s++) {
        u->scale[s] = d * (b->scales[s] & 0xF);
        u->offset[s] = -dmin * (b->scales[s] >> 4);
    }
}

/// Scale s (0..15) of a Q3_K block, -32..31.
static inline int tern_q3k_scale(const tern_block_q3_k *b, int s) {
    int low = s < 8 ? (b->scales[s] & 0xF) : (b->scales[s - 8] >> 4);
    int high = (b->scales[8 + s % 4] >> (2 * (s / 4))) & 3;
    return (low | high << 4) - 32;
}

static inline void tern_unpack_q3_k(const tern_block_q3_k *b, tern_unpacked_block *u) {
    tern_unpack_crumbs(b->qs, u->q);
    for (int j = 0; j < 8; j++)
        for (int l = 0; l < 32; l++) u->q[32 * j + l] = (int8_t)(u->q[32 * j + l] - (((b->hmask[l] >> j) & 1) ? 0 : 4));
    float d = tern_half_to_float(b->d);
    for (int s = 0; s < 16; s++) {
        u->scale[s] = d * tern_q3k_scale(b, s);
        u->offset[s] = 0;
    }
}

static inline void tern_unpack_q5_k(const tern_block_q5_k *b, tern_unpacked_block *u) {
    for (int g = 0; g < 4; g++)
        for (int l = 0; l < 32; l++) {
            u->q[64 * g + l] = (int8_t)((b->qs[32 * g + l] & 0xF) | (((b->qh[l] >> (2 * g)) & 1) << 4));
            u->q[64 * g + 32 + l] = (int8_t)((b->qs[32 * g + l] >> 4) | (((b->qh[l] >> (2 * g + 1)) & 1) << 4));
        }
    float d = tern_half_to_float(b->d), dmin = tern_half_to_float(b->dmin), scale[8], offset[8];
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        tern_q4k_scale_min(j, b->scales, &sc, &m);
        scale[j] = d * sc;
        offset[j] = -dmin * m;
    }
    tern_set_scales(u, 8, scale, offset);
}

static inline void tern_unpack_q6_k(const tern_block_q6_k *b, tern_unpacked_block *u) {
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) {
                int low = (b->ql[64 * h + 32 * (j % 2) + l] >> (4 * (j / 2))) & 0xF;
                int high = (b->qh[32 * h + l] >> (2 * j)) & 3;
                u->q[128 * h + 32 * j + l] = (int8_t)((low | high << 4) - 32);
            }
    float d = tern_half_to_float(b->d);
    for (int s = 0; s < 16; s++) {
        u->scale[s] = d * b->scales[s];
        u->offset[s] = 0;
    }
}

/// Scale j (0..7) of an IQ4_XS block, -32..31.
static inline int tern_iq4xs_scale(const tern_block_iq4_xs *b, int j) {
    int low = (b->scales_l[j / 2] >> (4 * (j % 2))) & 0xF, high = (b->scales_h >> (2 * j)) & 3;
    return (low | high << 4) - 32;
}

static inline void tern_unpack_iq4_xs(const tern_block_iq4_xs *b, tern_unpacked_block *u) {
    float d = tern_half_to_float(b->d), scale[8], zero[8] = {0};
    for (int j = 0; j < 8; j++) {
        const uint8_t *qs = b->qs + 16 * j;
        for (int l = 0; l < 16; l++) {
            u->q[32 * j + l] = tern_iq4_values[qs[l] & 0xF];
            u->q[32 * j + l + 16] = tern_iq4_values[qs[l] >> 4];
        }
        scale[j] = d * tern_iq4xs_scale(b, j);
    }
    tern_set_scales(u, 8, scale, zero);
}

/// Weights per block of a type read through unpacking, 0 for any other type.
static inline size_t tern_unpacked_block_weights(int type) {
    switch (type) {
    case TERN_WEIGHT_Q4_1: case TERN_WEIGHT_Q5_0: case TERN_WEIGHT_Q5_1: case TERN_WEIGHT_IQ4_NL: case TERN_WEIGHT_Q8_0M: return TERN_QK;
    case TERN_WEIGHT_Q2_K: case TERN_WEIGHT_Q3_K: case TERN_WEIGHT_Q5_K: case TERN_WEIGHT_Q6_K: case TERN_WEIGHT_IQ4_XS: return TERN_QK_K;
    default: return 0;
    }
}

static inline size_t tern_unpacked_block_bytes(int type) {
    switch (type) {
    case TERN_WEIGHT_Q4_1: return sizeof(tern_block_q4_1);
    case TERN_WEIGHT_Q5_0: return sizeof(tern_block_q5_0);
    case TERN_WEIGHT_Q5_1: return sizeof(tern_block_q5_1);
    case TERN_WEIGHT_IQ4_NL: return sizeof(tern_block_iq4_nl);
    case TERN_WEIGHT_Q8_0M: return sizeof(tern_block_q8_0m);
    case TERN_WEIGHT_Q2_K: return sizeof(tern_block_q2_k);
    case TERN_WEIGHT_Q3_K: return sizeof(tern_block_q3_k);
    case TERN_WEIGHT_Q5_K: return sizeof(tern_block_q5_k);
    case TERN_WEIGHT_Q6_K: return sizeof(tern_block_q6_k);
    case TERN_WEIGHT_IQ4_XS: return sizeof(tern_block_iq4_xs);
    default: return 0;
    }
}

static inline void tern_unpack_block(int type, const void *block, tern_unpacked_block *u) {
    switch (type) {
    case TERN_WEIGHT_Q4_1: tern_unpack_q4_1(block, u); break;
    case TERN_WEIGHT_Q5_0: tern_unpack_q5_0(block, u); break;
    case TERN_WEIGHT_Q5_1: tern_unpack_q5_1(block, u); break;
    case TERN_WEIGHT_IQ4_NL: tern_unpack_iq4_nl(block, u); break;
    case TERN_WEIGHT_Q8_0M: tern_unpack_q8_0m(block, u); break;
    case TERN_WEIGHT_Q2_K: tern_unpack_q2_k(block, u); break;
    case TERN_WEIGHT_Q3_K: tern_unpack_q3_k(block, u); break;
    case TERN_WEIGHT_Q5_K: tern_unpack_q5_k(block, u); break;
    case TERN_WEIGHT_Q6_K: tern_unpack_q6_k(block, u); break;
    case TERN_WEIGHT_IQ4_XS: tern_unpack_iq4_xs(block, u); break;
    }
}
#endif
