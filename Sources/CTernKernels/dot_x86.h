// The x86 dot products, written once and compiled three times: for AVX2+FMA+F16C (dot_avx2.c), for
// the same with AVX-VNNI (dot_avxvnni.c) and for AVX-512 with VNNI (dot_avx512.c), which define
// TERN_TARGET, TERN_SUFFIX, TERN_VNNI (0, TERN_VNNI_AVX or TERN_VNNI_512) and TERN_WIDE_FLOAT_DOTS first.
#include "packed16.h"
#include <immintrin.h>

#define TERN_VNNI_AVX 1  // the VEX-encoded 256-bit VNNI of AVX2-only cores (Alder Lake and later)
#define TERN_VNNI_512 2  // the EVEX-encoded VNNI of AVX-512 cores

#define TERN_FN2(name, suffix) name##_##suffix
#define TERN_FN(name, suffix) TERN_FN2(name, suffix)

/// f16 to f32 in one F16C instruction (the portable converter is a function call).
#define TERN_HALF(h) _cvtsh_ss(h)

TERN_TARGET static inline float TERN_FN(hsum, TERN_SUFFIX)(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// sum plus eight int32 sums of unsigned bytes u times signed bytes s, four pairs per lane. Without
/// VNNI the pairs pass through saturating int16: exact only while u stays below 128.
TERN_TARGET static inline __m256i TERN_FN(add_dot_u8s8, TERN_SUFFIX)(__m256i sum, __m256i u, __m256i s) {
#if TERN_VNNI == TERN_VNNI_512
    return _mm256_dpbusd_epi32(sum, u, s);
#elif TERN_VNNI == TERN_VNNI_AVX
    return _mm256_dpbusd_avx_epi32(sum, u, s);
#else
    return _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

/// Eight int32 sums of unsigned bytes u times signed bytes s, four pairs per lane.
TERN_TARGET static inline __m256i TERN_FN(dot_u8s8, TERN_SUFFIX)(__m256i u, __m256i s) {
#if TERN_VNNI
    return TERN_FN(add_dot_u8s8, TERN_SUFFIX)(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

#if !TERN_WIDE_FLOAT_DOTS  // the AVX-512 file has 512-bit versions of these
TERN_TARGET static float TERN_FN(dot_f32, TERN_SUFFIX)(const void *w, const float *x, size_t count) {
    const float *a = w;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(x + i + 8), s1);
    }
    float sum = TERN_FN(hsum, TERN_SUFFIX)(_mm256_add_ps(s0, s1));
    for (; i < count; i++) sum += a[i] * x[i];
    return sum;
}

TERN_TARGET static float TERN_FN(dot_f16, TERN_SUFFIX)(const void *w, const float *x, size_t count) {
    const uint16_t *a = w;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i))), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i + 8))), _mm256_loadu_ps(x + i + 8), s1);
    }
    float sum = TERN_FN(hsum, TERN_SUFFIX)(_mm256_add_ps(s0, s1));
    for (; i < count; i++) sum += TERN_HALF(a[i]) * x[i];
    return sum;
}

TERN_TARGET static inline __m256 TERN_FN(bf16x8, TERN_SUFFIX)(const uint16_t *a) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)a)), 16));
}

TERN_TARGET static float TERN_FN(dot_bf16, TERN_SUFFIX)(const void *w, const float *x, size_t count) {
    const uint16_t *a = w;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        s0 = _mm256_fmadd_ps(TERN_FN(bf16x8, TERN_SUFFIX)(a + i), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(TERN_FN(bf16x8, TERN_SUFFIX)(a + i + 8), _mm256_loadu_ps(x + i + 8), s1);
    }
    float sum = TERN_FN(hsum, TERN_SUFFIX)(_mm256_add_ps(s0, s1));
    for (; i < count; i++) sum += tern_bf16_to_f32(a[i]) * x[i];
    return sum;
}
#endif

/// Rows of the types read through unpacking: a block is unpacked (by loops the compiler vectorizes
/// for this path) once for all tokens; per 32 weights, lanes 0-3 of the products and activation
/// sums belong to the first 16 weights and lanes 4-7 to the second, each with its scale and offset.
__attribute__((always_inline)) TERN_TARGET static inline void TERN_FN(dot_unpacked_with, TERN_SUFFIX)(
    void (*unpack)(const void *, tern_unpacked_block *), int has_offsets, size_t per_block, size_t bytes, const void *w,
    const tern_block_q8a *x, size_t stride, size_t count, size_t tokens, float *out) {
    size_t chunks = per_block / TERN_QK;
    __m256 acc[TERN_UNPACKED_TOKENS];
    for (size_t t = 0; t < tokens; t++) acc[t] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi8(1);
    tern_unpacked_block u;
    for (size_t b = 0; b < count / per_block; b++) {
        unpack((const char *)w + b * bytes, &u);
        // Per chunk: the weights' magnitudes and their scale and offset vectors, shared by all tokens.
        __m256i magnitude[TERN_QK_K / TERN_QK], sign[TERN_QK_K / TERN_QK];
        __m256 scale[TERN_QK_K / TERN_QK], offset[TERN_QK_K / TERN_QK];
        for (size_t c = 0; c < chunks; c++) {
            sign[c] = _mm256_loadu_si256((const __m256i *)(u.q + 32 * c));
            magnitude[c] = _mm256_sign_epi8(sign[c], sign[c]);
            scale[c] = _mm256_set_m128(_mm_set1_ps(u.scale[2 * c + 1]), _mm_set1_ps(u.scale[2 * c]));
            offset[c] = _mm256_set_m128(_mm_set1_ps(u.offset[2 * c + 1]), _mm_set1_ps(u.offset[2 * c]));
        }
        for (size_t t = 0; t < tokens; t++) {
            // Two register accumulators per token within the block; memory is touched once per block.
            const tern_block_q8a *a = x + t * stride + b * chunks;
            __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();
            for (size_t c = 0; c < chunks; c++) {
                __m256i qa = _mm256_loadu_si256((const __m256i *)a[c].qs);
                __m256 products = _mm256_cvtepi32_ps(TERN_FN(dot_u8s8, TERN_SUFFIX)(magnitude[c], _mm256_sign_epi8(qa, sign[c])));
                __m256 d = _mm256_set1_ps(a[c].d);
                __m256 part = _mm256_mul_ps(scale[c], products);
                if (has_offsets) part = _mm256_fmadd_ps(offset[c], _mm256_cvtepi32_ps(TERN_FN(dot_u8s8, TERN_SUFFIX)(ones, qa)), part);
                if (c % 2) odd = _mm256_fmadd_ps(d, part, odd);
                else even = _mm256_fmadd_ps(d, part, even);
            }
            acc[t] = _mm256_add_ps(acc[t], _mm256_add_ps(even, odd));
        }
    }
    for (size_t t = 0; t < tokens; t++) out[t] = TERN_FN(hsum, TERN_SUFFIX)(acc[t]);
}

#define TERN_UNPACKER(kind) \
    TERN_TARGET static void TERN_FN(unpack_##kind, TERN_SUFFIX)(const void *b, tern_unpacked_block *u) { tern_unpack_##kind(b, u); }
TERN_UNPACKER(q2_k)
TERN_UNPACKER(q3_k)
TERN_UNPACKER(q5_k)
TERN_UNPACKER(q6_k)

/// IQ4_XS with its non-linear values looked up sixteen at a time (a byte shuffle) instead of one
/// table load per weight.
TERN_TARGET static void TERN_FN(unpack_iq4_xs, TERN_SUFFIX)(const void *block, tern_unpacked_block *u) {
    const tern_block_iq4_xs *b = block;
    const __m128i table = _mm_loadu_si128((const __m128i *)tern_iq4_values), low = _mm_set1_epi8(0x0F);
    float d = tern_half_to_float(b->d), scale[8], zero[8] = {0};
    for (int j = 0; j < 8; j++) {
        __m128i packed = _mm_loadu_si128((const __m128i *)(b->qs + 16 * j));
        _mm_storeu_si128((__m128i *)(u->q + 32 * j), _mm_shuffle_epi8(table, _mm_and_si128(packed, low)));
        _mm_storeu_si128((__m128i *)(u->q + 32 * j + 16), _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(packed, 4), low)));
        scale[j] = d * tern_iq4xs_scale(b, j);
    }
    tern_set_scales(u, 8, scale, zero);
}

/// The 32 nibbles of a Q4_0-style quant array as bytes 0..15: low nibbles (elements 0-15) in the
/// low lane, high nibbles (16-31) in the high lane.
TERN_TARGET static inline __m256i TERN_FN(nibbles, TERN_SUFFIX)(const uint8_t *qs) {
    __m128i packed = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
}

/// 0x10 in byte i where bit i of the 32-bit little-endian `qh` is set (the fifth bits of Q5_0/Q5_1).
TERN_TARGET static inline __m256i TERN_FN(fifth_bits, TERN_SUFFIX)(const uint8_t *qh) {
    uint32_t bits;
    __builtin_memcpy(&bits, qh, 4);
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i mask = _mm256_set1_epi64x(0x8040201008040201LL);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), spread);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bytes, mask), mask), _mm256_set1_epi8(0x10));
}

/// Whether a 32-weight type's quants are signed (products then need the sign trick).
static inline int TERN_FN(legacy_signed, TERN_SUFFIX)(int type) { return type == TERN_WEIGHT_IQ4_NL || type == TERN_WEIGHT_Q8_0M; }

/// A block of a 32-weight legacy type in registers: its quants (unsigned 0..31, or for IQ4_NL and
/// Q8_0M signed values), its scale d and offset m (weight = d * q + m; for Q5_0 m = -16 d).
__attribute__((always_inline)) TERN_TARGET static inline __m256i TERN_FN(legacy_quants, TERN_SUFFIX)(
    int type, const uint8_t *block, float *d, float *m) {
    if (type == TERN_WEIGHT_IQ4_NL) {
        const tern_block_iq4_nl *b = (const tern_block_iq4_nl *)block;
        const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)tern_iq4_values));
        *d = TERN_HALF(b->d);
        *m = 0;
        return _mm256_shuffle_epi8(table, TERN_FN(nibbles, TERN_SUFFIX)(b->qs));
    }
    if (type == TERN_WEIGHT_Q8_0M) {
        const tern_block_q8_0m *b = (const tern_block_q8_0m *)block;
        *d = TERN_HALF(b->d);
        *m = TERN_HALF(b->m);
        return _mm256_loadu_si256((const __m256i *)b->qs);
    }
    if (type == TERN_WEIGHT_Q4_1) {
        const tern_block_q4_1 *b = (const tern_block_q4_1 *)block;
        *d = TERN_HALF(b->d);
        *m = TERN_HALF(b->m);
        return TERN_FN(nibbles, TERN_SUFFIX)(b->qs);
    }
    if (type == TERN_WEIGHT_Q5_0) {
        const tern_block_q5_0 *b = (const tern_block_q5_0 *)block;
        *d = TERN_HALF(b->d);
        *m = -16 * *d;
        return _mm256_or_si256(TERN_FN(nibbles, TERN_SUFFIX)(b->qs), TERN_FN(fifth_bits, TERN_SUFFIX)(b->qh));
    }
    const tern_block_q5_1 *b = (const tern_block_q5_1 *)block;
    *d = TERN_HALF(b->d);
    *m = TERN_HALF(b->m);
    return _mm256_or_si256(TERN_FN(nibbles, TERN_SUFFIX)(b->qs), TERN_FN(fifth_bits, TERN_SUFFIX)(b->qh));
}

/// Eight int32 sums of a legacy block's quants times an activation block's bytes (signed times
/// signed via the sign trick for the signed types).
__attribute__((always_inline)) TERN_TARGET static inline __m256i TERN_FN(legacy_products, TERN_SUFFIX)(int type, __m256i q, __m256i a) {
    if (TERN_FN(legacy_signed, TERN_SUFFIX)(type)) return TERN_FN(dot_u8s8, TERN_SUFFIX)(_mm256_sign_epi8(q, q), _mm256_sign_epi8(a, q));
    return TERN_FN(dot_u8s8, TERN_SUFFIX)(q, a);
}

/// One block against one activation block: the int32 products in eight lanes, with d and m.
__attribute__((always_inline)) TERN_TARGET static inline __m256i TERN_FN(legacy_block, TERN_SUFFIX)(
    int type, const uint8_t *block, __m256i a, float *d, float *m) {
    return TERN_FN(legacy_products, TERN_SUFFIX)(type, TERN_FN(legacy_quants, TERN_SUFFIX)(type, block, d, m), a);
}

/// Rows of the 32-weight legacy types, fused: each block's quants are made in registers and dotted
/// with the activations: d * d_a * sum(q a) + m * s_a, where s_a = d_a * sum(a) comes with the
/// activation block. Two accumulators halve the chain of dependent multiply-adds.
__attribute__((always_inline)) TERN_TARGET static inline float TERN_FN(dot_legacy_of, TERN_SUFFIX)(
    int type, const void *w, const tern_block_q8a *x, size_t count) {
    __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();
    float offsets = 0, d, m;
    size_t bytes = tern_unpacked_block_bytes(type), blocks = count / TERN_QK, k = 0;
    for (; k + 2 <= blocks; k += 2) {
        const uint8_t *block = (const uint8_t *)w + k * bytes;
        __m256i p0 = TERN_FN(legacy_block, TERN_SUFFIX)(type, block, _mm256_loadu_si256((const __m256i *)x[k].qs), &d, &m);
        even = _mm256_fmadd_ps(_mm256_set1_ps(d * x[k].d), _mm256_cvtepi32_ps(p0), even);
        offsets += m * x[k].s;
        __m256i p1 = TERN_FN(legacy_block, TERN_SUFFIX)(type, block + bytes, _mm256_loadu_si256((const __m256i *)x[k + 1].qs), &d, &m);
        odd = _mm256_fmadd_ps(_mm256_set1_ps(d * x[k + 1].d), _mm256_cvtepi32_ps(p1), odd);
        offsets += m * x[k + 1].s;
    }
    if (k < blocks) {
        __m256i p0 = TERN_FN(legacy_block, TERN_SUFFIX)(type, (const uint8_t *)w + k * bytes, _mm256_loadu_si256((const __m256i *)x[k].qs), &d, &m);
        even = _mm256_fmadd_ps(_mm256_set1_ps(d * x[k].d), _mm256_cvtepi32_ps(p0), even);
        offsets += m * x[k].s;
    }
    return TERN_FN(hsum, TERN_SUFFIX)(_mm256_add_ps(even, odd)) + offsets;
}

/// Four tokens (x, x + stride, ...) against one row of a legacy type: each block's quants are made
/// once for the four, which is what prefill needs. out[token].
__attribute__((always_inline)) TERN_TARGET static inline void TERN_FN(dot4_legacy_of, TERN_SUFFIX)(
    int type, const void *w, const tern_block_q8a *x, size_t stride, size_t count, float out[4]) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float offsets[4] = {0, 0, 0, 0}, d, m;
    size_t bytes = tern_unpacked_block_bytes(type);
    for (size_t k = 0; k < count / TERN_QK; k++) {
        __m256i q = TERN_FN(legacy_quants, TERN_SUFFIX)(type, (const uint8_t *)w + k * bytes, &d, &m);
        for (int t = 0; t < 4; t++) {
            const tern_block_q8a *a = x + t * stride + k;
            __m256i p = TERN_FN(legacy_products, TERN_SUFFIX)(type, q, _mm256_loadu_si256((const __m256i *)a->qs));
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * a->d), _mm256_cvtepi32_ps(p), acc[t]);
            offsets[t] += m * a->s;
        }
    }
    for (int t = 0; t < 4; t++) out[t] = TERN_FN(hsum, TERN_SUFFIX)(acc[t]) + offsets[t];
}

TERN_TARGET static void TERN_FN(dot4_legacy, TERN_SUFFIX)(int type, const void *w, const tern_block_q8a *x, size_t stride, size_t count,
                                                         float out[4]) {
    switch (type) {
    case TERN_WEIGHT_Q4_1: TERN_FN(dot4_legacy_of, TERN_SUFFIX)(TERN_WEIGHT_Q4_1, w, x, stride, count, out); break;
    case TERN_WEIGHT_Q5_0: TERN_FN(dot4_legacy_of, TERN_SUFFIX)(TERN_WEIGHT_Q5_0, w, x, stride, count, out); break;
    case TERN_WEIGHT_Q5_1: TERN_FN(dot4_legacy_of, TERN_SUFFIX)(TERN_WEIGHT_Q5_1, w, x, stride, count, out); break;
    case TERN_WEIGHT_Q8_0M: TERN_FN(dot4_legacy_of, TERN_SUFFIX)(TERN_WEIGHT_Q8_0M, w, x, stride, count, out); break;
    default: TERN_FN(dot4_legacy_of, TERN_SUFFIX)(TERN_WEIGHT_IQ4_NL, w, x, stride, count, out); break;
    }
}

TERN_TARGET static float TERN_FN(dot_legacy, TERN_SUFFIX)(int type, const void *w, const tern_block_q8a *x, size_t count) {
    switch (type) {
    case TERN_WEIGHT_Q4_1: return TERN_FN(dot_legacy_of, TERN_SUFFIX)(TERN_WEIGHT_Q4_1, w, x, count);
    case TERN_WEIGHT_Q5_0: return TERN_FN(dot_legacy_of, TERN_SUFFIX)(TERN_WEIGHT_Q5_0, w, x, count);
    case TERN_WEIGHT_Q5_1: return TERN_FN(dot_legacy_of, TERN_SUFFIX)(TERN_WEIGHT_Q5_1, w, x, count);
    case TERN_WEIGHT_Q8_0M: return TERN_FN(dot_legacy_of, TERN_SUFFIX)(TERN_WEIGHT_Q8_0M, w, x, count);
    default: return TERN_FN(dot_legacy_of, TERN_SUFFIX)(TERN_WEIGHT_IQ4_NL, w, x, count);
    }
}

TERN_TARGET static void TERN_FN(dot_unpacked, TERN_SUFFIX)(int type, const void *w, const tern_block_q8a *x, size_t stride, size_t count,
                                                          size_t tokens, float *out) {
    size_t per_block = tern_unpacked_block_weights(type), bytes = tern_unpacked_block_bytes(type);
    if (per_block == TERN_QK) {
        // Small blocks: fused, four tokens at a time (unpacking a block costs as much as its dot).
        size_t t = 0;
        for (; t + 4 <= tokens; t += 4) TERN_FN(dot4_legacy, TERN_SUFFIX)(type, w, x + t * stride, stride, count, out + t);
        for (; t < tokens; t++) out[t] = TERN_FN(dot_legacy, TERN_SUFFIX)(type, w, x + t * stride, count);
        return;
    }
#define TERN_CASE(TYPE, kind, has_offsets)                                                                                      \
    case TYPE:                                                                                                                   \
        TERN_FN(dot_unpacked_with, TERN_SUFFIX)(TERN_FN(unpack_##kind, TERN_SUFFIX), has_offsets, per_block, bytes, w, x, stride, \
                                                count, tokens, out);                                                             \
        break;
    switch (type) {
    TERN_CASE(TERN_WEIGHT_Q2_K, q2_k, 1)
    TERN_CASE(TERN_WEIGHT_Q3_K, q3_k, 0)
    TERN_CASE(TERN_WEIGHT_Q5_K, q5_k, 1)
    TERN_CASE(TERN_WEIGHT_Q6_K, q6_k, 0)
    TERN_CASE(TERN_WEIGHT_IQ4_XS, iq4_xs, 0)
    }
#undef TERN_CASE
}

/// One Q8_0 block against one activation block, as eight partial int32 sums.
TERN_TARGET static inline __m256i TERN_FN(block_q8_0, TERN_SUFFIX)(const tern_block_q8_0 *b, const tern_block_q8a *x) {
    __m256i q = _mm256_loadu_si256((const __m256i *)b->qs);
    __m256i a = _mm256_loadu_si256((const __m256i *)x->qs);
    // Signed times signed via unsigned |q| times a carrying q's sign.
    return TERN_FN(dot_u8s8, TERN_SUFFIX)(_mm256_sign_epi8(q, q), _mm256_sign_epi8(a, q));
}

TERN_TARGET static float TERN_FN(dot_q8_0, TERN_SUFFIX)(const void *w, const tern_block_q8a *x, size_t count) {
    const tern_block_q8_0 *b = w;
    // Two accumulators halve the chain of dependent multiply-adds.
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t blocks = count / TERN_QK, k = 0;
    for (; k + 2 <= blocks; k += 2) {
        __m256i s0 = TERN_FN(block_q8_0, TERN_SUFFIX)(b + k, x + k);
        __m256i s1 = TERN_FN(block_q8_0, TERN_SUFFIX)(b + k + 1, x + k + 1);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(TERN_HALF(b[k].d) * x[k].d), _mm256_cvtepi32_ps(s0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(TERN_HALF(b[k + 1].d) * x[k + 1].d), _mm256_cvtepi32_ps(s1), acc1);
    }
    for (; k < blocks; k++) {
        __m256i s0 = TERN_FN(block_q8_0, TERN_SUFFIX)(b + k, x + k);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(TERN_HALF(b[k].d) * x[k].d), _mm256_cvtepi32_ps(s0), acc0);
    }
    return TERN_FN(hsum, TERN_SUFFIX)(_mm256_add_ps(acc0, acc1));
}

/// One Q4_0 block's unsigned nibbles (0..15) against one activation block, as eight int32 sums.
TERN_TARGET static inline __m256i TERN_FN(block_q4_0, TERN_SUFFIX)(const tern_block_q4_0 *b, const tern_block_q8a *x) {
    __m128i packed = _mm_loadu_si128((const __m128i *)b->qs);
    __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
    return TERN_FN(dot_u8s8, TERN_SUFFIX)(q, _mm256_loadu_si256((const __m256i *)x->qs));
}

TERN_TARGET static float TERN_FN(dot_q4_0, TERN_SUFFIX)(const void *w, const tern_block_q8a *x, size_t count) {
    const tern_block_q4_0 *b = w;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    // (q - 8) * a = q * a - 8 * a, and x[k].s is d_a times the sum of a.
    float offset = 0;
    size_t blocks = count / TERN_QK, k = 0;
    for (; k + 2 <= blocks; k += 2) {
        __m256i s0 = TERN_FN(block_q4_0, TERN_SUFFIX)(b + k, x + k);
        __m256i s1 = TERN_FN(block_q4_0, TERN_SUFFIX)(b + k + 1, x + k + 1);
        float d0 = TERN_HALF(b[k].d), d1 = TERN_HALF(b[k + 1].d);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * x[k].d), _mm256_cvtepi32_ps(s0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1 * x[k + 1].d), _mm256_cvtepi32_ps(s1), acc1);
        offset += d0 * x[k].s + d1 * x[k + 1].s;
    }
    for (; k < blocks; k++) {
        float d0 = TERN_HALF(b[k].d);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * x[k].d), _mm256_cvtepi32_ps(TERN_FN(block_q4_0, TERN_SUFFIX)(b + k, x + k)), acc0);
        offset += d0 * x[k].s;
    }
    return TERN_FN(hsum, TERN_SUFFIX)(_mm256_add_ps(acc0, acc1)) - 8 * offset;
}

TERN_TARGET static float TERN_FN(dot_q4_k, TERN_SUFFIX)(const void *w, const tern_block_q8a *x, size_t count) {
    const tern_block_q4_k *b = w;
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    const __m256i low = _mm256_set1_epi8(0x0F);
    for (size_t k = 0; k < count / TERN_QK_K; k++) {
        float d = TERN_HALF(b[k].d), dmin = TERN_HALF(b[k].dmin);
        const tern_block_q8a *a = x + 8 * k;
        for (int g = 0; g < 4; g++) {
            __m256i packed = _mm256_loadu_si256((const __m256i *)(b[k].qs + 32 * g));
            uint8_t sc0, m0, sc1, m1;
            tern_q4k_scale_min(2 * g, b[k].scales, &sc0, &m0);
            tern_q4k_scale_min(2 * g + 1, b[k].scales, &sc1, &m1);
            __m256i s0 = TERN_FN(dot_u8s8, TERN_SUFFIX)(_mm256_and_si256(packed, low), _mm256_loadu_si256((const __m256i *)a[2 * g].qs));
            __m256i s1 = TERN_FN(dot_u8s8, TERN_SUFFIX)(_mm256_and_si256(_mm256_srli_epi16(packed, 4), low),
                                                       _mm256_loadu_si256((const __m256i *)a[2 * g + 1].qs));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * sc0 * a[2 * g].d), _mm256_cvtepi32_ps(s0), acc);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * sc1 * a[2 * g + 1].d), _mm256_cvtepi32_ps(s1), acc);
            mins += dmin * (m0 * a[2 * g].s + m1 * a[2 * g + 1].s);
        }
    }
    return TERN_FN(hsum, TERN_SUFFIX)(acc) - mins;
}

/// Four activation rows against one Q8_0 row: |q| is formed once per block and reused.
TERN_TARGET static void TERN_FN(dot4_q8_0, TERN_SUFFIX)(const void *w, const tern_block_q8a *x, size_t stride, size_t count, float out[4]) {
    const tern_block_q8_0 *b = w;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (size_t k = 0; k < count / TERN_QK; k++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)b[k].qs);
        __m256i magnitude = _mm256_sign_epi8(q, q);
        float d = TERN_HALF(b[k].d);
        for (int t = 0; t < 4; t++) {
            const tern_block_q8a *a = x + t * stride + k;
            __m256i sums = TERN_FN(dot_u8s8, TERN_SUFFIX)(magnitude, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)a->qs), q));
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * a->d), _mm256_cvtepi32_ps(sums), acc[t]);
        }
    }
    for (int t = 0; t < 4; t++) out[t] = TERN_FN(hsum, TERN_SUFFIX)(acc[t]);
}

/// Four activation rows against one Q4_0 row: the nibbles are unpacked once per block.
TERN_TARGET static void TERN_FN(dot4_q4_0, TERN_SUFFIX)(const void *w, const tern_block_q8a *x, size_t stride, size_t count, float out[4]) {
    const tern_block_q4_0 *b = w;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float offset[4] = {0, 0, 0, 0};
    const __m256i low = _mm256_set1_epi8(0x0F);
    for (size_t k = 0; k < count / TERN_QK; k++) {
        __m128i packed = _mm_loadu_si128((const __m128i *)b[k].qs);
        __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), low);
        float d = TERN_HALF(b[k].d);
        for (int t = 0; t < 4; t++) {
            const tern_block_q8a *a = x + t * stride + k;
            __m256i sums = TERN_FN(dot_u8s8, TERN_SUFFIX)(q, _mm256_loadu_si256((const __m256i *)a->qs));
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * a->d), _mm256_cvtepi32_ps(sums), acc[t]);
            offset[t] += d * a->s;
        }
    }
    for (int t = 0; t < 4; t++) out[t] = TERN_FN(hsum, TERN_SUFFIX)(acc[t]) - 8 * offset[t];
}

#if !TERN_WIDE_FLOAT_DOTS
/// Sub-block sb of the eight rows `half` (0: rows 0-7, 1: rows 8-15) of a sixteen-row group in
/// Q8_0X16, Q4_0X16 or Q4_KX16: eight 32-byte vectors of unsigned weights (the halves of the
/// AVX-512 layout's 64-byte vectors) and weight = scale * q - offset per row.
__attribute__((always_inline)) TERN_TARGET static inline void TERN_FN(x16_narrow_sub_block, TERN_SUFFIX)(
    const void *w, int layout, size_t sb, int half, __m256i v[8], __m256 *scale, __m256 *offset) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    const uint8_t(*nibbles)[16][4];
    if (layout == TERN_WEIGHT_Q8_0X16) {
        const tern_block_q8_0x16 *b = (const tern_block_q8_0x16 *)w + sb;
        for (int u = 0; u < 8; u++) v[u] = _mm256_loadu_si256((const __m256i *)b->qs[u][8 * half]);
        *scale = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b->d + 8 * half)));
        *offset = _mm256_mul_ps(*scale, _mm256_set1_ps(128.0f));  // stored as w + 128
        return;
    }
    if (layout == TERN_WEIGHT_Q4_0X16) {
        const tern_block_q4_0x16 *b = (const tern_block_q4_0x16 *)w + sb;
        nibbles = b->qs;
        *scale = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b->d + 8 * half)));
        *offset = _mm256_mul_ps(*scale, _mm256_set1_ps(8.0f));
    } else {
        const tern_block_q4_kx16 *b = (const tern_block_q4_kx16 *)w + sb / 8;
        size_t j = sb % 8;
        nibbles = b->qs[j];
        __m256 scales = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b->scales[j] + 8 * half))));
        __m256 mins = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b->mins[j] + 8 * half))));
        *scale = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b->d + 8 * half))), scales);
        *offset = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b->dmin + 8 * half))), mins);
    }
    for (int u = 0; u < 4; u++) {
        __m256i quad = _mm256_loadu_si256((const __m256i *)nibbles[u][8 * half]);
        v[u] = _mm256_and_si256(quad, low);
        v[u + 4] = _mm256_and_si256(_mm256_srli_epi16(quad, 4), low);
    }
}

/// T tokens against a sixteen-row group, eight rows at a time: a sub-block is eight VNNI products
/// per token and half, the activations' four-byte groups broadcast (the AVX-512 kernel's scheme at
/// half width). Both halves of a sub-block are done before the next, so its cache lines are read
/// once; sixteen registers hold one half's weights and a few tokens, so the sums live in memory.
__attribute__((always_inline)) TERN_TARGET static inline void TERN_FN(x16_narrow, TERN_SUFFIX)(
    const void *w, int layout, const tern_block_q8a *x, size_t stride, size_t sub_blocks, size_t tokens, float *out, size_t out_stride) {
    __m256 acc[16][2];
    for (size_t t = 0; t < tokens; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
    for (size_t sb = 0; sb < sub_blocks; sb++) {
        for (int half = 0; half < 2; half++) {
            __m256i v[8];
            __m256 scale, offset;
            TERN_FN(x16_narrow_sub_block, TERN_SUFFIX)(w, layout, sb, half, v, &scale, &offset);
            for (size_t t = 0; t < tokens; t++) {
                const tern_block_q8a *a = x + t * stride + sb;
                const int32_t *quads = (const int32_t *)a->qs;
                __m256i sum = TERN_FN(dot_u8s8, TERN_SUFFIX)(v[0], _mm256_set1_epi32(quads[0]));
                for (int j = 1; j < 8; j++) sum = TERN_FN(add_dot_u8s8, TERN_SUFFIX)(sum, v[j], _mm256_set1_epi32(quads[j]));
                acc[t][half] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(scale, _mm256_set1_ps(a->d)), acc[t][half]);
                acc[t][half] = _mm256_fnmadd_ps(offset, _mm256_set1_ps(a->s), acc[t][half]);
            }
        }
    }
    for (size_t t = 0; t < tokens; t++) {
        _mm256_storeu_ps(out + t * out_stride, acc[t][0]);
        _mm256_storeu_ps(out + t * out_stride + 8, acc[t][1]);
    }
}

/// Whether this path multiplies a sixteen-row layout itself (the others stay plain here). Without
/// VNNI only the 4-bit ones: Q8_0X16 stores its weights plus 128, which int16 pairs would saturate.
static int TERN_FN(has_x16, TERN_SUFFIX)(int layout) {
    return (TERN_VNNI && layout == TERN_WEIGHT_Q8_0X16) || layout == TERN_WEIGHT_Q4_0X16 || layout == TERN_WEIGHT_Q4_KX16;
}

TERN_TARGET static void TERN_FN(dot_x16, TERN_SUFFIX)(int layout, const void *w, const tern_block_q8a *x, size_t stride, size_t count,
                                                     size_t tokens, float *out, size_t out_stride) {
    size_t sub_blocks = count / TERN_QK;
    switch (TERN_FN(has_x16, TERN_SUFFIX)(layout) ? layout : -1) {
    case TERN_WEIGHT_Q8_0X16: TERN_FN(x16_narrow, TERN_SUFFIX)(w, TERN_WEIGHT_Q8_0X16, x, stride, sub_blocks, tokens, out, out_stride); break;
    case TERN_WEIGHT_Q4_0X16: TERN_FN(x16_narrow, TERN_SUFFIX)(w, TERN_WEIGHT_Q4_0X16, x, stride, sub_blocks, tokens, out, out_stride); break;
    case TERN_WEIGHT_Q4_KX16: TERN_FN(x16_narrow, TERN_SUFFIX)(w, TERN_WEIGHT_Q4_KX16, x, stride, sub_blocks, tokens, out, out_stride); break;
    default: tern_dot_x16_scalar(layout, w, x, stride, count, tokens, out, out_stride); break;
    }
}

/// The kernel table of a 256-bit path: its own dot products and sixteen-row kernels, the scalar
/// references for the four-row interleaved layouts.
#define TERN_NARROW_TABLE(label)                                                                                                  \
    {                                                                                                                             \
        label, TERN_FN(dot_f32, TERN_SUFFIX), TERN_FN(dot_f16, TERN_SUFFIX), TERN_FN(dot_bf16, TERN_SUFFIX),                     \
            TERN_FN(dot_q8_0, TERN_SUFFIX), TERN_FN(dot_q4_0, TERN_SUFFIX), TERN_FN(dot_q4_k, TERN_SUFFIX),                      \
            TERN_FN(dot4_q8_0, TERN_SUFFIX), TERN_FN(dot4_q4_0, TERN_SUFFIX), tern_dot_q4_0x4_scalar, tern_dot_q8_0x4_scalar, 0, 0, \
            0, 0, 0, TERN_FN(dot_x16, TERN_SUFFIX), tern_dot_f16x16_scalar, tern_dot_bf16x16_scalar,                             \
            TERN_FN(dot_unpacked, TERN_SUFFIX), tern_pack16_group, TERN_FN(has_x16, TERN_SUFFIX)                                 \
    }
#endif
