// The x86 dot products for AVX-512 machines with VNNI (int8 dot products in one instruction).
#if defined(__x86_64__)
#define TERN_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define TERN_SUFFIX avx512
#define TERN_VNNI 1
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

const tern_kernel_table *tern_kernels_avx512(void) {
    static const tern_kernel_table table = {
        "avx512", dot_f32_avx512, dot_f16_avx512, dot_bf16_avx512, dot_q8_0_avx512, dot_q4_0_avx512, dot_q4_k_avx512, dot4_q8_0_avx512, dot4_q4_0_avx512,
        dot_q4_0x4_avx512, dot_q8_0x4_avx512,
    };
    int ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    return ok ? &table : 0;
}
#else
#include "CTernKernels.h"
const tern_kernel_table *tern_kernels_avx512(void) { return 0; }
#endif
