// Packing sixteen rows into the VNNI layouts (packed16.c) with AVX-512, for the types models
// mostly come in: every word of a packed block is "one 32-bit word per row", and each row's word
// is the same shifts and masks of words of that row's plain block — so the sixteen rows' source
// words transposed into vectors and the same operations on them build sixteen lanes at once. Loading a
// 7B model packs gigabytes; the scalar packer (packed16.c) stays the reference and does the rest.
#include "packed16.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>
#include <string.h>
#include <stdint.h>

#define TERN_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

/// Words w = 0..3 at byte `at` of the sixteen rows' blocks (row r at block + r * row_bytes), lane r
/// of words[w] holding row r's word w: four 128-bit rows per register, then a 4 x 4 transpose of
/// words within each 128-bit lane (gathers are several times slower on current Xeons).
TERN_TARGET static inline void row_words(const uint8_t *block, size_t at, size_t row_bytes, __m512i words[4]) {
    __m512i z[4];
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = block + at + i * row_bytes;
        z[i] = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)p));
        z[i] = _mm512_inserti32x4(z[i], _mm_loadu_si128((const __m128i *)(p + 4 * row_bytes)), 1);
        z[i] = _mm512_inserti32x4(z[i], _mm_loadu_si128((const __m128i *)(p + 8 * row_bytes)), 2);
        z[i] = _mm512_inserti32x4(z[i], _mm_loadu_si128((const __m128i *)(p + 12 * row_bytes)), 3);
    }
    // Lane L of z[i] is row i + 4L; after the unpacks lane L of words[w] is word w of rows 4L..4L+3.
    __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    words[0] = _mm512_unpacklo_epi64(t0, t2);
    words[1] = _mm512_unpackhi_epi64(t0, t2);
    words[2] = _mm512_unpacklo_epi64(t1, t3);
    words[3] = _mm512_unpackhi_epi64(t1, t3);
}

TERN_TARGET static inline void store_halves(uint16_t out[16], __m512i words) { _mm256_storeu_si256((__m256i *)out, _mm512_cvtepi32_epi16(words)); }

TERN_TARGET static inline void store_bytes(uint8_t out[16], __m512i words) { _mm_storeu_si128((__m128i *)out, _mm512_cvtepi32_epi8(words)); }

TERN_TARGET static inline void store_words(uint8_t out[16][4], __m512i words) { _mm512_storeu_si512(out, words); }

/// Byte `i` of each lane's word, as that lane's value.
TERN_TARGET static inline __m512i byte_of(__m512i words, int i) { return _mm512_and_si512(_mm512_srli_epi32(words, 8 * i), _mm512_set1_epi32(0xFF)); }

/// put_nibble_words for sixteen rows, both sub-blocks of the 32 bytes at `at`: the even one's
/// nibbles (low) into even[], the odd one's (high) into odd[].
TERN_TARGET static void nibble_pairs(const uint8_t *block, size_t at, size_t row_bytes, uint8_t even[4][16][4], uint8_t odd[4][16][4]) {
    const __m512i nibbles = _mm512_set1_epi32(0x0F0F0F0F);
    __m512i first[4], second[4];
    row_words(block, at, row_bytes, first);
    row_words(block, at + 16, row_bytes, second);
    for (int w = 0; w < 4; w++) {
        for (int shift = 0; shift <= 4; shift += 4) {
            __m512i low = _mm512_and_si512(_mm512_srli_epi32(first[w], shift), nibbles);
            __m512i high = _mm512_and_si512(_mm512_srli_epi32(second[w], shift), nibbles);
            store_words((shift ? odd : even)[w], _mm512_or_si512(low, _mm512_slli_epi32(high, 4)));
        }
    }
}

/// Q8_0 and Q4_0 / IQ4_NL: the scale, then `words` quant words (Q8_0's bytes offset by 128).
TERN_TARGET static void pack_words(const uint8_t *block, size_t row_bytes, int words, uint32_t flip, uint16_t d[16], uint8_t qs[][16][4]) {
    __m512i quads[4];
    for (int r = 0; r < 16; r++) memcpy(&d[r], block + r * row_bytes, 2);
    for (int from = 0; from < words; from += 4) {
        row_words(block, 2 + 4 * (size_t)from, row_bytes, quads);
        for (int w = 0; w < 4; w++) store_words(qs[from + w], _mm512_xor_si512(quads[w], _mm512_set1_epi32((int)flip)));
    }
}

/// Q4_K and Q5_K: scales, the unpacked six-bit sub-block scales and mins, and the nibbles (and Q5_K's fifth bits).
TERN_TARGET static void pack_k4(const uint8_t *block, size_t row_bytes, int five, tern_block_q4_kx16 *o4, tern_block_q5_kx16 *o5) {
    __m512i head[4];  // d and dmin, then the twelve packed scale bytes
    row_words(block, 0, row_bytes, head);
    store_halves(five ? o5->d : o4->d, head[0]);
    store_halves(five ? o5->dmin : o4->dmin, _mm512_srli_epi32(head[0], 16));
    // tern_q4k_scale_min, sixteen rows at once.
    const __m512i six = _mm512_set1_epi32(63), four = _mm512_set1_epi32(0xF);
    for (int j = 0; j < 4; j++) {
        __m512i low = byte_of(head[1], j), middle = byte_of(head[2], j), top = byte_of(head[3], j);
        store_bytes(five ? o5->scales[j] : o4->scales[j], _mm512_and_si512(low, six));
        store_bytes(five ? o5->mins[j] : o4->mins[j], _mm512_and_si512(middle, six));
        store_bytes(five ? o5->scales[j + 4] : o4->scales[j + 4],
                    _mm512_or_si512(_mm512_and_si512(top, four), _mm512_slli_epi32(_mm512_srli_epi32(low, 6), 4)));
        store_bytes(five ? o5->mins[j + 4] : o4->mins[j + 4], _mm512_or_si512(_mm512_srli_epi32(top, 4), _mm512_slli_epi32(_mm512_srli_epi32(middle, 6), 4)));
    }
    size_t qs = five ? offsetof(tern_block_q5_k, qs) : offsetof(tern_block_q4_k, qs);
    for (int p = 0; p < 4; p++) nibble_pairs(block, qs + 32 * p, row_bytes, (five ? o5->qs : o4->qs)[2 * p], (five ? o5->qs : o4->qs)[2 * p + 1]);
    if (!five) return;
    // Fifth bits (put_bit's plane): bit v of a plane word is bit j of qh word v.
    __m512i qh[8];
    row_words(block, offsetof(tern_block_q5_k, qh), row_bytes, qh);
    row_words(block, offsetof(tern_block_q5_k, qh) + 16, row_bytes, qh + 4);
    for (int j = 0; j < 8; j++) {
        __m512i plane = _mm512_setzero_si512();
        for (int v = 0; v < 8; v++)
            plane = _mm512_or_si512(plane, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(qh[v], j), _mm512_set1_epi32(0x01010101)), v));
        store_words(o5->high[j], plane);
    }
}

/// Q6_K: scale, sixteen-weight scales, low nibbles and the top two bits (as the scalar packer arranges them).
TERN_TARGET static void pack_q6_k(const uint8_t *block, size_t row_bytes, tern_block_q6_kx16 *o) {
    __m512i scales[4], tail[4], qh[16];
    row_words(block, offsetof(tern_block_q6_k, scales), row_bytes, scales);
    // The sixteen bytes ending at the block's end: their last word holds the last two scales, then d.
    row_words(block, sizeof(tern_block_q6_k) - 16, row_bytes, tail);
    store_halves(o->d, _mm512_srli_epi32(tail[3], 16));
    for (int w = 0; w < 4; w++)
        for (int i = 0; i < 4; i++) store_bytes((uint8_t *)o->scales[4 * w + i], byte_of(scales[w], i));
    for (int w = 0; w < 16; w += 4) row_words(block, offsetof(tern_block_q6_k, qh) + 4 * (size_t)w, row_bytes, qh + w);
    // Sub-blocks 4h + m and 4h + m + 2 share the 32 low-bit bytes at 64h + 32m.
    for (int h = 0; h < 2; h++)
        for (int m = 0; m < 2; m++) nibble_pairs(block, offsetof(tern_block_q6_k, ql) + 64 * h + 32 * m, row_bytes, o->qs[4 * h + m], o->qs[4 * h + m + 2]);
    for (int j = 0; j < 8; j++) {
        int h = j / 4, m = j % 4;
        for (int p = 0; p < 2; p++) {
            __m512i word = _mm512_setzero_si512();
            for (int k = 0; k < 4; k++) {
                __m512i bits = _mm512_and_si512(_mm512_srli_epi32(qh[8 * h + 4 * p + k], 2 * m), _mm512_set1_epi32(0x03030303));
                word = _mm512_or_si512(word, _mm512_slli_epi32(bits, 2 * k));
            }
            store_words(o->high[j][p], word);
        }
    }
}

TERN_TARGET void tern_pack16_group_avx512(int type, int layout, const void *source, void *target, size_t columns, size_t g) {
    int handled = type == TERN_WEIGHT_Q8_0 || type == TERN_WEIGHT_Q4_0 || type == TERN_WEIGHT_IQ4_NL || type == TERN_WEIGHT_Q4_K
        || type == TERN_WEIGHT_Q5_K || type == TERN_WEIGHT_Q6_K;
    size_t row_bytes = tern_quant_row_bytes(type, columns);
    if (!handled) {
        tern_pack16_group(type, layout, source, target, columns, g);
        return;
    }
    size_t per_block = type == TERN_WEIGHT_Q8_0 || type == TERN_WEIGHT_Q4_0 || type == TERN_WEIGHT_IQ4_NL ? TERN_QK : TERN_QK_K;
    size_t blocks = columns / per_block, plain = row_bytes / blocks, packed = 16 * tern_quant_row_bytes(layout, per_block);
    const uint8_t *group = (const uint8_t *)source + g * 16 * row_bytes;
    uint8_t *out = (uint8_t *)target + g * blocks * packed;
    for (size_t k = 0; k < blocks; k++, out += packed) {
        const uint8_t *block = group + k * plain;
        switch (type) {
        case TERN_WEIGHT_Q8_0: {
            tern_block_q8_0x16 *o = (tern_block_q8_0x16 *)out;
            pack_words(block, row_bytes, TERN_QK / 4, 0x80808080u, o->d, o->qs);
            break;
        }
        case TERN_WEIGHT_Q6_K: pack_q6_k(block, row_bytes, (tern_block_q6_kx16 *)out); break;
        case TERN_WEIGHT_Q4_K: case TERN_WEIGHT_Q5_K:
            pack_k4(block, row_bytes, type == TERN_WEIGHT_Q5_K, (tern_block_q4_kx16 *)out, (tern_block_q5_kx16 *)out);
            break;
        default: {  // Q4_0, IQ4_NL
            tern_block_q4_0x16 *o = (tern_block_q4_0x16 *)out;
            pack_words(block, row_bytes, TERN_QK / 8, 0, o->d, o->qs);
        }
        }
    }
}
#endif
