// The x86 dot products for AVX-512 machines with VNNI (int8 dot products in one instruction).
#if defined(__x86_64__)
#define TERN_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define TERN_SUFFIX avx512
#define TERN_VNNI TERN_VNNI_512
#define TERN_WIDE_FLOAT_DOTS 1
#include "dot_x86.h"

/// Sums each group of `width` lanes (4 or 8) of v into out[0..16/width).
TERN_TARGET static inline void lane_group_sums(__m512 v, int width, float *out) {
    float lanes[16];
    _mm512_storeu_ps(lanes, v);
    for (int g = 0; g < 16 / width; g++) {
        float s = 0;
        for (int i = 0; i < width; i++) s += lanes[g * width + i];
        out[g] = s;
    }
}

/// Four interleaved Q4_0 rows: one 64-byte load holds block k of all four rows.
TERN_TARGET static void dot_q4_0x4_avx512(const void *w, const tern_block_q8a *x, size_t count, float out[4]) {
    const tern_block_q4_0x4 *b = w;
    const __m512i low = _mm512_set1_epi8(0x0F);
    // Lane i belongs to row i / 4: spread the four row scales over their lanes.
    const __m512i spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    __m512 acc = _mm512_setzero_ps(), offset = _mm512_setzero_ps();
    for (size_t k = 0; k < count / TERN_QK; k++) {
        __m512i packed = _mm512_loadu_si512(b[k].qs);
        __m512i lo = _mm512_and_si512(packed, low), hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low);
        __m512i alo = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)x[k].qs));
        __m512i ahi = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(x[k].qs + 16)));
        __m512i sums = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, alo), hi, ahi);
        __m512 d = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)b[k].d))));
        acc = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(x[k].d)), _mm512_cvtepi32_ps(sums), acc);
        offset = _mm512_fmadd_ps(d, _mm512_set1_ps(x[k].s), offset);
    }
    // (q - 8) * a = q * a - 8 * a; every lane of a row carries the row's whole offset, so a quarter each.
    lane_group_sums(_mm512_fnmadd_ps(_mm512_set1_ps(2.0f), offset, acc), 4, out);
}

/// Four interleaved Q8_0 rows: two 64-byte loads hold block k of rows 0-1 and 2-3.
TERN_TARGET static void dot_q8_0x4_avx512(const void *w, const tern_block_q8a *x, size_t count, float out[4]) {
    const tern_block_q8_0x4 *b = w;
    const __m512i spread01 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i spread23 = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2);
    __m512 acc01 = _mm512_setzero_ps(), acc23 = _mm512_setzero_ps();
    for (size_t k = 0; k < count / TERN_QK; k++) {
        __m512i a = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x[k].qs));
        __m512i w01 = _mm512_loadu_si512(b[k].qs[0]), w23 = _mm512_loadu_si512(b[k].qs[2]);
        // |w| times a carrying w's sign.
        __m512i s01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(w01),
                                          _mm512_mask_sub_epi8(a, _mm512_movepi8_mask(w01), _mm512_setzero_si512(), a));
        __m512i s23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(w23),
                                          _mm512_mask_sub_epi8(a, _mm512_movepi8_mask(w23), _mm512_setzero_si512(), a));
        __m512 d = _mm512_castps128_ps512(_mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)b[k].d)), _mm_set1_ps(x[k].d)));
        acc01 = _mm512_fmadd_ps(_mm512_permutexvar_ps(spread01, d), _mm512_cvtepi32_ps(s01), acc01);
        acc23 = _mm512_fmadd_ps(_mm512_permutexvar_ps(spread23, d), _mm512_cvtepi32_ps(s23), acc23);
    }
    lane_group_sums(acc01, 8, out);
    lane_group_sums(acc23, 8, out + 2);
}

/// Four interleaved Q4_0 rows against four tokens: the nibbles and row scales are unpacked once
/// per block and used for all four tokens (prefill).
TERN_TARGET static void dot_q4_0x4_t4_avx512(const void *w, const tern_block_q8a *x, size_t stride, size_t count, float out[16]) {
    const tern_block_q4_0x4 *b = w;
    const __m512i low = _mm512_set1_epi8(0x0F);
    const __m512i spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    __m512 acc[4], offset[4];
    for (int t = 0; t < 4; t++) { acc[t] = _mm512_setzero_ps(); offset[t] = _mm512_setzero_ps(); }
    for (size_t k = 0; k < count / TERN_QK; k++) {
        __m512i packed = _mm512_loadu_si512(b[k].qs);
        __m512i lo = _mm512_and_si512(packed, low), hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low);
        __m512 d = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)b[k].d))));
        for (int t = 0; t < 4; t++) {
            const tern_block_q8a *a = x + t * stride + k;
            __m512i alo = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)a->qs));
            __m512i ahi = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(a->qs + 16)));
            __m512i sums = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, alo), hi, ahi);
            acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(a->d)), _mm512_cvtepi32_ps(sums), acc[t]);
            offset[t] = _mm512_fmadd_ps(d, _mm512_set1_ps(a->s), offset[t]);
        }
    }
    for (int t = 0; t < 4; t++) lane_group_sums(_mm512_fnmadd_ps(_mm512_set1_ps(2.0f), offset[t], acc[t]), 4, out + 4 * t);
}

/// Four interleaved Q8_0 rows against four tokens: |w| and the row scales are formed once per block.
TERN_TARGET static void dot_q8_0x4_t4_avx512(const void *w, const tern_block_q8a *x, size_t stride, size_t count, float out[16]) {
    const tern_block_q8_0x4 *b = w;
    const __m512i spread01 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i spread23 = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2);
    __m512 acc01[4], acc23[4];
    for (int t = 0; t < 4; t++) { acc01[t] = _mm512_setzero_ps(); acc23[t] = _mm512_setzero_ps(); }
    for (size_t k = 0; k < count / TERN_QK; k++) {
        __m512i w01 = _mm512_loadu_si512(b[k].qs[0]), w23 = _mm512_loadu_si512(b[k].qs[2]);
        __m512i m01 = _mm512_abs_epi8(w01), m23 = _mm512_abs_epi8(w23);
        __mmask64 n01 = _mm512_movepi8_mask(w01), n23 = _mm512_movepi8_mask(w23);
        __m128 d4 = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)b[k].d));
        __m512 d01 = _mm512_permutexvar_ps(spread01, _mm512_castps128_ps512(d4));
        __m512 d23 = _mm512_permutexvar_ps(spread23, _mm512_castps128_ps512(d4));
        for (int t = 0; t < 4; t++) {
            const tern_block_q8a *a = x + t * stride + k;
            __m512i act = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)a->qs));
            __m512i s01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), m01, _mm512_mask_sub_epi8(act, n01, _mm512_setzero_si512(), act));
            __m512i s23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), m23, _mm512_mask_sub_epi8(act, n23, _mm512_setzero_si512(), act));
            __m512 da = _mm512_set1_ps(a->d);
            acc01[t] = _mm512_fmadd_ps(_mm512_mul_ps(d01, da), _mm512_cvtepi32_ps(s01), acc01[t]);
            acc23[t] = _mm512_fmadd_ps(_mm512_mul_ps(d23, da), _mm512_cvtepi32_ps(s23), acc23[t]);
        }
    }
    for (int t = 0; t < 4; t++) {
        lane_group_sums(acc01[t], 8, out + 4 * t);
        lane_group_sums(acc23[t], 8, out + 4 * t + 2);
    }
}

#include "x16_sub_block.h"

/// T tokens (1-16) against sixteen packed rows: every lane is one row, so a sub-block is eight
/// VNNI products per token with no shuffles or lane sums. The weights are the unsigned operand;
/// their offset times sum(a) per sub-block is subtracted with the activation block's stored sums
/// (per half where a layout has a scale per sixteen weights).
TERN_TARGET static inline __attribute__((always_inline)) void x16_tile(const void *w, int layout, const tern_block_q8a *x,
                                                                       size_t stride, size_t sub_blocks, const int T, float *out,
                                                                       size_t out_stride) {
    const int halves = x16_halves(layout);
    size_t stride_bytes = x16_sub_block_bytes(layout);
    __m512 acc[16];
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    for (size_t sb = 0; sb < sub_blocks; sb++) {
        // Weights stream from memory once per step: ask for a later sub-block while this one
        // computes (a single token is bound by memory alone, and the hardware prefetcher serves it best).
        if (T > 1 || x16_needs_prefetch(layout))
            for (size_t line = 0; line < stride_bytes; line += 64)
                _mm_prefetch((const char *)w + (sb + PREFETCH_SUB_BLOCKS) * stride_bytes + line, _MM_HINT_T0);
        __m512i v[8];
        __m512 scale[2], offset[2];
        x16_sub_block(w, layout, sb, v, scale, offset);
#pragma clang loop unroll(full)
        for (int t = 0; t < T; t++) {
            const tern_block_q8a *a = x + t * stride + sb;
            const int32_t *quads = (const int32_t *)a->qs;
            __m512 da = _mm512_set1_ps(a->d);
            if (halves) {
                __m512i low = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v[0], _mm512_set1_epi32(quads[0]));
                __m512i high = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v[4], _mm512_set1_epi32(quads[4]));
                for (int j = 1; j < 4; j++) {
                    low = _mm512_dpbusd_epi32(low, v[j], _mm512_set1_epi32(quads[j]));
                    high = _mm512_dpbusd_epi32(high, v[j + 4], _mm512_set1_epi32(quads[j + 4]));
                }
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(low), _mm512_mul_ps(scale[0], da), acc[t]);
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(high), _mm512_mul_ps(scale[1], da), acc[t]);
                acc[t] = _mm512_fnmadd_ps(offset[0], _mm512_set1_ps(a->s_low), acc[t]);
                acc[t] = _mm512_fnmadd_ps(offset[1], _mm512_set1_ps(a->s - a->s_low), acc[t]);
            } else {
                __m512i sum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v[0], _mm512_set1_epi32(quads[0]));
                for (int j = 1; j < 8; j++) sum = _mm512_dpbusd_epi32(sum, v[j], _mm512_set1_epi32(quads[j]));
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(scale[0], da), acc[t]);
                acc[t] = _mm512_fnmadd_ps(offset[0], _mm512_set1_ps(a->s), acc[t]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++) _mm512_storeu_ps(out + t * out_stride, acc[t]);
}

#define X16_CASE(n) case n: x16_tile(w, layout, x, stride, blocks, n, out, out_stride); break;
#define X16_KERNEL(name, LAYOUT)                                                                                   \
    TERN_TARGET static void name(const void *w, const tern_block_q8a *x, size_t stride, size_t count, size_t tokens, float *out,   \
                                 size_t out_stride) {                                                            \
        size_t blocks = count / TERN_QK;                                                                         \
        const int layout = LAYOUT;                                                                               \
        switch (tokens) {                                                                                        \
        X16_CASE(1) X16_CASE(2) X16_CASE(3) X16_CASE(4) X16_CASE(5) X16_CASE(6) X16_CASE(7) X16_CASE(8)         \
        X16_CASE(9) X16_CASE(10) X16_CASE(11) X16_CASE(12) X16_CASE(13) X16_CASE(14) X16_CASE(15)               \
        default: x16_tile(w, layout, x, stride, blocks, 16, out, out_stride); break;                             \
        }                                                                                                        \
    }

X16_KERNEL(dot_q8_0x16_avx512, TERN_WEIGHT_Q8_0X16)
X16_KERNEL(dot_q4_0x16_avx512, TERN_WEIGHT_Q4_0X16)
X16_KERNEL(dot_q4_1x16_avx512, TERN_WEIGHT_Q4_1X16)
X16_KERNEL(dot_q4_kx16_avx512, TERN_WEIGHT_Q4_KX16)
X16_KERNEL(dot_q5_kx16_avx512, TERN_WEIGHT_Q5_KX16)
X16_KERNEL(dot_q6_kx16_avx512, TERN_WEIGHT_Q6_KX16)
X16_KERNEL(dot_q5_0x16_avx512, TERN_WEIGHT_Q5_0X16)
X16_KERNEL(dot_q5_1x16_avx512, TERN_WEIGHT_Q5_1X16)
X16_KERNEL(dot_iq4_nlx16_avx512, TERN_WEIGHT_IQ4_NLX16)
X16_KERNEL(dot_iq4_xsx16_avx512, TERN_WEIGHT_IQ4_XSX16)
X16_KERNEL(dot_q3_kx16_avx512, TERN_WEIGHT_Q3_KX16)
X16_KERNEL(dot_q2_kx16_avx512, TERN_WEIGHT_Q2_KX16)

TERN_TARGET static void dot_x16_avx512(int layout, const void *w, const tern_block_q8a *x, size_t stride, size_t count, size_t tokens,
                                       float *out, size_t out_stride) {
    if (tokens == 16 && tern_amx_ready()) {
        tern_dot_x16_amx(layout, w, x, stride, count, out, out_stride);
        return;
    }
    switch (layout) {
    case TERN_WEIGHT_Q8_0X16: dot_q8_0x16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    case TERN_WEIGHT_Q4_0X16: dot_q4_0x16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    case TERN_WEIGHT_Q4_1X16: dot_q4_1x16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    case TERN_WEIGHT_Q4_KX16: dot_q4_kx16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    case TERN_WEIGHT_Q5_KX16: dot_q5_kx16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    case TERN_WEIGHT_Q6_KX16: dot_q6_kx16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    case TERN_WEIGHT_Q5_0X16: dot_q5_0x16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    case TERN_WEIGHT_Q5_1X16: dot_q5_1x16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    case TERN_WEIGHT_IQ4_NLX16: dot_iq4_nlx16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    case TERN_WEIGHT_IQ4_XSX16: dot_iq4_xsx16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    case TERN_WEIGHT_Q3_KX16: dot_q3_kx16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    default: dot_q2_kx16_avx512(w, x, stride, count, tokens, out, out_stride); break;
    }
}

/// T tokens (1-16) against sixteen interleaved 16-bit rows: each column of the group is one vector
/// of sixteen weights, multiplied by each token's activation broadcast. One token alone keeps four
/// running sums (the FMA latency would otherwise bound it); many tokens are independent already.
TERN_TARGET static inline __attribute__((always_inline)) void halves_x16_tile(const uint16_t *w, int bf16, const float *x, size_t token_step,
                                                                              size_t column_step, size_t count, const int T, float *out,
                                                                              size_t out_stride) {
    enum { U = 4 };
    const int parts = T >= 4 ? 1 : U;
    __m512 acc[16][U];
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++)
        for (int u = 0; u < U; u++) acc[t][u] = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + parts <= count; i += parts) {
        if (T > 1) _mm_prefetch((const char *)(w + (i + 64) * 16), _MM_HINT_T0);
#pragma clang loop unroll(full)
        for (int u = 0; u < parts; u++) {
            __m256i raw = _mm256_loadu_si256((const __m256i *)(w + (i + u) * 16));
            __m512 v = bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16)) : _mm512_cvtph_ps(raw);
#pragma clang loop unroll(full)
            for (int t = 0; t < T; t++) acc[t][u] = _mm512_fmadd_ps(v, _mm512_set1_ps(x[t * token_step + (i + u) * column_step]), acc[t][u]);
        }
    }
    for (; i < count; i++) {
        __m256i raw = _mm256_loadu_si256((const __m256i *)(w + i * 16));
        __m512 v = bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16)) : _mm512_cvtph_ps(raw);
        for (int t = 0; t < T; t++) acc[t][0] = _mm512_fmadd_ps(v, _mm512_set1_ps(x[t * token_step + i * column_step]), acc[t][0]);
    }
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++) {
        __m512 sum = acc[t][0];
        for (int u = 1; u < parts; u++) sum = _mm512_add_ps(sum, acc[t][u]);
        _mm512_storeu_ps(out + t * out_stride, sum);
    }
}

#define HALVES_CASE(n) case n: halves_x16_tile(w, bf16, x, token_step, column_step, count, n, out, out_stride); break;
#define HALVES_KERNEL(name, is_bf16)                                                                             \
    TERN_TARGET static void name(const void *w, const float *x, size_t token_step, size_t column_step, size_t count, size_t tokens, \
                                 float *out, size_t out_stride) {                                                \
        const int bf16 = is_bf16;                                                                                \
        switch (tokens) {                                                                                        \
        HALVES_CASE(1) HALVES_CASE(2) HALVES_CASE(3) HALVES_CASE(4) HALVES_CASE(5) HALVES_CASE(6) HALVES_CASE(7) \
        HALVES_CASE(8) HALVES_CASE(9) HALVES_CASE(10) HALVES_CASE(11) HALVES_CASE(12) HALVES_CASE(13)            \
        HALVES_CASE(14) HALVES_CASE(15)                                                                          \
        default: halves_x16_tile(w, bf16, x, token_step, column_step, count, 16, out, out_stride); break;       \
        }                                                                                                        \
    }

HALVES_KERNEL(dot_f16x16_avx512, 0)
HALVES_KERNEL(dot_bf16x16_avx512, 1)

/// Sixteen weights of row r as f32, for each 16- or 32-bit type.
#define LOAD_F32(p, i) _mm512_loadu_ps((const float *)(p) + (i))
#define LOAD_F16(p, i) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)(p) + (i))))
#define LOAD_BF16(p, i) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)((const uint16_t *)(p) + (i)))), 16))

/// A 4 rows x 4 tokens tile: 16 accumulators, each loaded weight vector used for four tokens and
/// each activation vector for four rows.
#define DOT4X4(name, LOAD, scalar_weight)                                                                      \
    TERN_TARGET static void name(const void *w, size_t row_bytes, const float *x, size_t count, float out[16]) { \
        const char *rows[4] = {w, (const char *)w + row_bytes, (const char *)w + 2 * row_bytes, (const char *)w + 3 * row_bytes}; \
        __m512 acc[16];                                                                                         \
        for (int j = 0; j < 16; j++) acc[j] = _mm512_setzero_ps();                                              \
        size_t i = 0;                                                                                           \
        for (; i + 16 <= count; i += 16) {                                                                      \
            __m512 w0 = LOAD(rows[0], i), w1 = LOAD(rows[1], i), w2 = LOAD(rows[2], i), w3 = LOAD(rows[3], i);   \
            for (int t = 0; t < 4; t++) {                                                                       \
                __m512 a = _mm512_loadu_ps(x + t * count + i);                                                  \
                acc[4 * t] = _mm512_fmadd_ps(w0, a, acc[4 * t]);                                                \
                acc[4 * t + 1] = _mm512_fmadd_ps(w1, a, acc[4 * t + 1]);                                        \
                acc[4 * t + 2] = _mm512_fmadd_ps(w2, a, acc[4 * t + 2]);                                        \
                acc[4 * t + 3] = _mm512_fmadd_ps(w3, a, acc[4 * t + 3]);                                        \
            }                                                                                                   \
        }                                                                                                       \
        for (int t = 0; t < 4; t++)                                                                             \
            for (int r = 0; r < 4; r++) {                                                                       \
                float s = _mm512_reduce_add_ps(acc[4 * t + r]);                                                 \
                for (size_t j = i; j < count; j++) s += scalar_weight(rows[r], j) * x[t * count + j];          \
                out[4 * t + r] = s;                                                                             \
            }                                                                                                   \
    }

#define SCALAR_F32(p, j) (((const float *)(p))[j])
#define SCALAR_F16(p, j) TERN_HALF(((const uint16_t *)(p))[j])
#define SCALAR_BF16(p, j) tern_bf16_to_f32(((const uint16_t *)(p))[j])
DOT4X4(dot4x4_f32_avx512, LOAD_F32, SCALAR_F32)
DOT4X4(dot4x4_f16_avx512, LOAD_F16, SCALAR_F16)
DOT4X4(dot4x4_bf16_avx512, LOAD_BF16, SCALAR_BF16)

/// One weight row against one token (decode): 64 weights per step in four independent sums, so
/// the loads, not the multiply-add latency, set the pace.
#define DOT1(name, LOAD, scalar_weight)                                                                \
    TERN_TARGET static float name(const void *w, const float *x, size_t count) {                       \
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps(); \
        size_t i = 0;                                                                                  \
        for (; i + 64 <= count; i += 64) {                                                             \
            s0 = _mm512_fmadd_ps(LOAD(w, i), _mm512_loadu_ps(x + i), s0);                              \
            s1 = _mm512_fmadd_ps(LOAD(w, i + 16), _mm512_loadu_ps(x + i + 16), s1);                    \
            s2 = _mm512_fmadd_ps(LOAD(w, i + 32), _mm512_loadu_ps(x + i + 32), s2);                    \
            s3 = _mm512_fmadd_ps(LOAD(w, i + 48), _mm512_loadu_ps(x + i + 48), s3);                    \
        }                                                                                              \
        for (; i + 16 <= count; i += 16) s0 = _mm512_fmadd_ps(LOAD(w, i), _mm512_loadu_ps(x + i), s0); \
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3))); \
        for (; i < count; i++) sum += scalar_weight(w, i) * x[i];                                      \
        return sum;                                                                                    \
    }

DOT1(dot1_f32_avx512, LOAD_F32, SCALAR_F32)
DOT1(dot1_f16_avx512, LOAD_F16, SCALAR_F16)
DOT1(dot1_bf16_avx512, LOAD_BF16, SCALAR_BF16)

const tern_kernel_table *tern_kernels_avx512(void) {
    static const tern_kernel_table table = {
        "avx512", dot1_f32_avx512, dot1_f16_avx512, dot1_bf16_avx512, dot_q8_0_avx512, dot_q4_0_avx512, dot_q4_k_avx512, dot4_q8_0_avx512, dot4_q4_0_avx512,
        dot_q4_0x4_avx512, dot_q8_0x4_avx512, dot_q4_0x4_t4_avx512, dot_q8_0x4_t4_avx512,
        dot4x4_f32_avx512, dot4x4_f16_avx512, dot4x4_bf16_avx512, dot_x16_avx512,
        dot_f16x16_avx512, dot_bf16x16_avx512, dot_unpacked_avx512, tern_pack16_group_avx512, tern_is_packed16,
    };
    int ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    return ok ? &table : 0;
}
#else
#include "CTernKernels.h"
const tern_kernel_table *tern_kernels_avx512(void) { return 0; }
#endif
