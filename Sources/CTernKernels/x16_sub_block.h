// A sub-block of a sixteen-row packed group unpacked into the eight 64-byte vectors of unsigned
// weights that both VNNI (dot_avx512.c) and AMX (dot_amx.c) multiply, with its scales and offsets.
// Included by those files after they define TERN_TARGET.
#ifndef TERN_X16_SUB_BLOCK_H
#define TERN_X16_SUB_BLOCK_H
#include "packed16.h"
#include <immintrin.h>

/// Bit `from` of every byte of `plane` moved to bit `to` (the caller masks the other bits; a
/// 16-bit shift only spills bits the mask drops).
TERN_TARGET static inline __attribute__((always_inline)) __m512i moved_bits(__m512i plane, int from, int to) {
    return from > to ? _mm512_srli_epi16(plane, (unsigned)(from - to)) : _mm512_slli_epi16(plane, (unsigned)(to - from));
}

/// Whether a layout has a scale per sixteen weights (two per 32-weight sub-block).
static inline int x16_halves(int layout) {
    return layout == TERN_WEIGHT_Q6_KX16 || layout == TERN_WEIGHT_Q3_KX16 || layout == TERN_WEIGHT_Q2_KX16;
}

TERN_TARGET static inline __attribute__((always_inline)) __m512 x16_halves_to_floats(const uint16_t *halves) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)halves));
}

TERN_TARGET static inline __attribute__((always_inline)) __m512 x16_bytes_to_floats(const void *bytes, int is_signed) {
    __m128i b = _mm_loadu_si128((const __m128i *)bytes);
    return _mm512_cvtepi32_ps(is_signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b));
}

/// Sub-block sb of a sixteen-row group in `layout`: its eight VNNI vectors of unsigned weights
/// (vectors 0-3 are weights 0-15, vectors 4-7 weights 16-31) and per half a scale and offset:
/// weight = scale * q - offset. The low four bits come from the nibbles (or, for the two-bit
/// types, the low planes), higher bits from their planes, IQ4 values through a byte lookup.
TERN_TARGET static inline __attribute__((always_inline)) void x16_sub_block(const void *w, int layout, size_t sb, __m512i v[8],
                                                                            __m512 scale[2], __m512 offset[2]) {
    const __m512i low = _mm512_set1_epi8(0x0F);
    size_t j = sb % 8;  // sub-block within a 256-weight super-block
    const uint8_t(*nibbles)[16][4] = 0, (*fifth)[4] = 0, (*third)[4] = 0, (*top)[16][4] = 0, (*crumbs)[16][4] = 0;
    int lookup = 0;
    switch (layout) {
    case TERN_WEIGHT_Q8_0X16: {
        const tern_block_q8_0x16 *b = (const tern_block_q8_0x16 *)w + sb;
        for (int u = 0; u < 8; u++) v[u] = _mm512_loadu_si512(b->qs[u]);
        scale[0] = x16_halves_to_floats(b->d);
        offset[0] = _mm512_mul_ps(scale[0], _mm512_set1_ps(128.0f));  // stored as w + 128
        return;
    }
    case TERN_WEIGHT_Q4_0X16: case TERN_WEIGHT_IQ4_NLX16: {
        const tern_block_q4_0x16 *b = (const tern_block_q4_0x16 *)w + sb;
        nibbles = b->qs;
        lookup = layout == TERN_WEIGHT_IQ4_NLX16;
        scale[0] = x16_halves_to_floats(b->d);
        offset[0] = _mm512_mul_ps(scale[0], _mm512_set1_ps(lookup ? 128.0f : 8.0f));
        break;
    }
    case TERN_WEIGHT_Q4_1X16: {
        const tern_block_q4_1x16 *b = (const tern_block_q4_1x16 *)w + sb;
        nibbles = b->qs;
        scale[0] = x16_halves_to_floats(b->d);
        offset[0] = _mm512_sub_ps(_mm512_setzero_ps(), x16_halves_to_floats(b->m));
        break;
    }
    case TERN_WEIGHT_Q5_0X16: {
        const tern_block_q5_0x16 *b = (const tern_block_q5_0x16 *)w + sb;
        nibbles = b->qs;
        fifth = b->high;
        scale[0] = x16_halves_to_floats(b->d);
        offset[0] = _mm512_mul_ps(scale[0], _mm512_set1_ps(16.0f));
        break;
    }
    case TERN_WEIGHT_Q5_1X16: {
        const tern_block_q5_1x16 *b = (const tern_block_q5_1x16 *)w + sb;
        nibbles = b->qs;
        fifth = b->high;
        scale[0] = x16_halves_to_floats(b->d);
        offset[0] = _mm512_sub_ps(_mm512_setzero_ps(), x16_halves_to_floats(b->m));
        break;
    }
    case TERN_WEIGHT_IQ4_XSX16: {
        const tern_block_iq4_xsx16 *b = (const tern_block_iq4_xsx16 *)w + sb / 8;
        nibbles = b->qs[j];
        lookup = 1;
        scale[0] = _mm512_mul_ps(x16_halves_to_floats(b->d), x16_bytes_to_floats(b->scales[j], 1));
        offset[0] = _mm512_mul_ps(scale[0], _mm512_set1_ps(128.0f));
        break;
    }
    case TERN_WEIGHT_Q4_KX16: case TERN_WEIGHT_Q5_KX16: {
        // The same scales, mins and nibbles; Q5_K adds a plane of fifth bits.
        const tern_block_q4_kx16 *b4 = (const tern_block_q4_kx16 *)w + sb / 8;
        const tern_block_q5_kx16 *b5 = (const tern_block_q5_kx16 *)w + sb / 8;
        int five = layout == TERN_WEIGHT_Q5_KX16;
        nibbles = five ? b5->qs[j] : b4->qs[j];
        fifth = five ? b5->high[j] : 0;
        scale[0] = _mm512_mul_ps(x16_halves_to_floats(five ? b5->d : b4->d), x16_bytes_to_floats(five ? b5->scales[j] : b4->scales[j], 0));
        offset[0] = _mm512_mul_ps(x16_halves_to_floats(five ? b5->dmin : b4->dmin), x16_bytes_to_floats(five ? b5->mins[j] : b4->mins[j], 0));
        break;
    }
    case TERN_WEIGHT_Q6_KX16: {
        const tern_block_q6_kx16 *b = (const tern_block_q6_kx16 *)w + sb / 8;
        nibbles = b->qs[j];
        top = b->high[j];
        for (int h = 0; h < 2; h++) {
            scale[h] = _mm512_mul_ps(x16_halves_to_floats(b->d), x16_bytes_to_floats(b->scales[2 * j + h], 1));
            offset[h] = _mm512_mul_ps(scale[h], _mm512_set1_ps(32.0f));
        }
        break;
    }
    case TERN_WEIGHT_Q3_KX16: {
        const tern_block_q3_kx16 *b = (const tern_block_q3_kx16 *)w + sb / 8;
        crumbs = b->low[j];
        third = b->high[j];
        for (int h = 0; h < 2; h++) {
            scale[h] = _mm512_mul_ps(x16_halves_to_floats(b->d), x16_bytes_to_floats(b->scales[2 * j + h], 1));
            offset[h] = _mm512_mul_ps(scale[h], _mm512_set1_ps(4.0f));
        }
        break;
    }
    default: {  // Q2_KX16
        const tern_block_q2_kx16 *b = (const tern_block_q2_kx16 *)w + sb / 8;
        crumbs = b->low[j];
        for (int h = 0; h < 2; h++) {
            scale[h] = _mm512_mul_ps(x16_halves_to_floats(b->d), x16_bytes_to_floats(b->scales[2 * j + h], 0));
            offset[h] = _mm512_mul_ps(x16_halves_to_floats(b->dmin), x16_bytes_to_floats(b->mins[2 * j + h], 0));
        }
        break;
    }
    }
    if (!x16_halves(layout)) {
        scale[1] = scale[0];
        offset[1] = offset[0];
    }
    if (nibbles) {
        for (int u = 0; u < 4; u++) {
            __m512i quad = _mm512_loadu_si512(nibbles[u]);
            v[u] = _mm512_and_si512(quad, low);
            v[u + 4] = _mm512_and_si512(_mm512_srli_epi16(quad, 4), low);
        }
    } else {
        for (int u = 0; u < 8; u++) v[u] = _mm512_and_si512(moved_bits(_mm512_loadu_si512(crumbs[u / 4]), 2 * (u % 4), 0), _mm512_set1_epi8(3));
    }
    if (lookup) {
        // tern_iq4_values plus 128, so the weights are the unsigned operand.
        const __m512i table = _mm512_broadcast_i32x4(_mm_xor_si128(_mm_loadu_si128((const __m128i *)tern_iq4_values), _mm_set1_epi8((char)0x80)));
        for (int u = 0; u < 8; u++) v[u] = _mm512_shuffle_epi8(table, v[u]);
    }
    if (fifth) {
        __m512i plane = _mm512_loadu_si512(fifth);
        for (int u = 0; u < 8; u++) v[u] = _mm512_ternarylogic_epi32(v[u], moved_bits(plane, u, 4), _mm512_set1_epi8(0x10), 0xF8);  // v | (bits & mask)
    }
    if (third) {
        __m512i plane = _mm512_loadu_si512(third);
        for (int u = 0; u < 8; u++) v[u] = _mm512_ternarylogic_epi32(v[u], moved_bits(plane, u, 2), _mm512_set1_epi8(0x04), 0xF8);
    }
    if (top) {
        for (int u = 0; u < 8; u++)
            v[u] = _mm512_ternarylogic_epi32(v[u], moved_bits(_mm512_loadu_si512(top[u / 4]), 2 * (u % 4), 4), _mm512_set1_epi8(0x30), 0xF8);
    }
}

#define PREFETCH_SUB_BLOCKS 8

/// Bytes of one 32-weight sub-block of sixteen rows in `layout` (the step between sub-blocks).
static inline size_t x16_sub_block_bytes(int layout) {
    return tern_quant_row_bytes(layout, TERN_QK_K) * 16 / (TERN_QK_K / TERN_QK);
}

/// Whether single tokens need software prefetch too: the hardware prefetcher follows one stream
/// well, not the several places of a super-block that K-quants and IQ4_XS keep a sub-block's bits
/// in, nor Q4_0 / IQ4_NL's 288-byte sub-blocks, every other one split across cache lines (Llama-2-7B
/// Q4_0 decode read 14.3-15.9 GB/s without, 18.1-18.3 with, same run).
static inline int x16_needs_prefetch(int layout) {
    return layout == TERN_WEIGHT_Q6_KX16 || layout == TERN_WEIGHT_Q5_KX16 || layout == TERN_WEIGHT_Q3_KX16 || layout == TERN_WEIGHT_Q2_KX16
        || layout == TERN_WEIGHT_IQ4_XSX16 || layout == TERN_WEIGHT_Q4_KX16 || layout == TERN_WEIGHT_Q4_0X16 || layout == TERN_WEIGHT_IQ4_NLX16;
}

#endif
