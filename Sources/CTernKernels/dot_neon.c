// The dot products for arm64 (baseline NEON: widening multiplies, no dot-product extension), for
// every stored type: the sixteen-row layouts are AVX-512 only, so arm64 keeps the plain layouts.
#include "packed16.h"

#if defined(__aarch64__)
#include <arm_neon.h>

static float dot_f32_neon(const void *w, const float *x, size_t count) {
    const float *a = w;
    float32x4_t s = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 4 <= count; i += 4) s = vfmaq_f32(s, vld1q_f32(a + i), vld1q_f32(x + i));
    float sum = vaddvq_f32(s);
    for (; i < count; i++) sum += a[i] * x[i];
    return sum;
}

static float dot_f16_neon(const void *w, const float *x, size_t count) {
    const uint16_t *a = w;
    float32x4_t s = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 4 <= count; i += 4) s = vfmaq_f32(s, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(a + i))), vld1q_f32(x + i));
    float sum = vaddvq_f32(s);
    for (; i < count; i++) sum += tern_f16_to_f32(a[i]) * x[i];
    return sum;
}

static float dot_bf16_neon(const void *w, const float *x, size_t count) {
    const uint16_t *a = w;
    float32x4_t s = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        float32x4_t wide = vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(a + i), 16));
        s = vfmaq_f32(s, wide, vld1q_f32(x + i));
    }
    float sum = vaddvq_f32(s);
    for (; i < count; i++) sum += tern_bf16_to_f32(a[i]) * x[i];
    return sum;
}

/// Sum of 32 products of signed bytes.
static inline int32_t dot32_s8(int8x16_t a0, int8x16_t a1, int8x16_t b0, int8x16_t b1) {
    int16x8_t p0 = vmull_s8(vget_low_s8(a0), vget_low_s8(b0));
    p0 = vmlal_s8(p0, vget_high_s8(a0), vget_high_s8(b0));
    int16x8_t p1 = vmull_s8(vget_low_s8(a1), vget_low_s8(b1));
    p1 = vmlal_s8(p1, vget_high_s8(a1), vget_high_s8(b1));
    return vaddvq_s32(vaddq_s32(vpaddlq_s16(p0), vpaddlq_s16(p1)));
}

static float dot_q8_0_neon(const void *w, const tern_block_q8a *x, size_t count) {
    const tern_block_q8_0 *b = w;
    float sum = 0;
    for (size_t k = 0; k < count / TERN_QK; k++) {
        int32_t acc = dot32_s8(vld1q_s8(b[k].qs), vld1q_s8(b[k].qs + 16), vld1q_s8(x[k].qs), vld1q_s8(x[k].qs + 16));
        sum += tern_f16_to_f32(b[k].d) * x[k].d * (float)acc;
    }
    return sum;
}

static float dot_q4_0_neon(const void *w, const tern_block_q8a *x, size_t count) {
    const tern_block_q4_0 *b = w;
    float sum = 0;
    for (size_t k = 0; k < count / TERN_QK; k++) {
        uint8x16_t packed = vld1q_u8(b[k].qs);
        int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(packed, vdupq_n_u8(0x0F))), vdupq_n_s8(8));
        int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(packed, 4)), vdupq_n_s8(8));
        int32_t acc = dot32_s8(lo, hi, vld1q_s8(x[k].qs), vld1q_s8(x[k].qs + 16));
        sum += tern_f16_to_f32(b[k].d) * x[k].d * (float)acc;
    }
    return sum;
}

static float dot_q4_k_neon(const void *w, const tern_block_q8a *x, size_t count) {
    const tern_block_q4_k *b = w;
    float sum = 0;
    for (size_t k = 0; k < count / TERN_QK_K; k++) {
        float d = tern_f16_to_f32(b[k].d), dmin = tern_f16_to_f32(b[k].dmin);
        const tern_block_q8a *a = x + 8 * k;
        for (int g = 0; g < 4; g++) {
            uint8x16_t p0 = vld1q_u8(b[k].qs + 32 * g), p1 = vld1q_u8(b[k].qs + 32 * g + 16);
            int8x16_t l0 = vreinterpretq_s8_u8(vandq_u8(p0, vdupq_n_u8(0x0F))), l1 = vreinterpretq_s8_u8(vandq_u8(p1, vdupq_n_u8(0x0F)));
            int8x16_t h0 = vreinterpretq_s8_u8(vshrq_n_u8(p0, 4)), h1 = vreinterpretq_s8_u8(vshrq_n_u8(p1, 4));
            uint8_t sc0, m0, sc1, m1;
            tern_q4k_scale_min(2 * g, b[k].scales, &sc0, &m0);
            tern_q4k_scale_min(2 * g + 1, b[k].scales, &sc1, &m1);
            int32_t s0 = dot32_s8(l0, l1, vld1q_s8(a[2 * g].qs), vld1q_s8(a[2 * g].qs + 16));
            int32_t s1 = dot32_s8(h0, h1, vld1q_s8(a[2 * g + 1].qs), vld1q_s8(a[2 * g + 1].qs + 16));
            sum += d * (sc0 * a[2 * g].d * (float)s0 + sc1 * a[2 * g + 1].d * (float)s1) - dmin * (m0 * a[2 * g].s + m1 * a[2 * g + 1].s);
        }
    }
    return sum;
}

/// Sum of 16 products of signed bytes (widening multiplies; |q| <= 128 keeps each pair in 16 bits).
static inline int32_t dot16_s8(int8x16_t a, int8x16_t b) {
    int16x8_t low = vmull_s8(vget_low_s8(a), vget_low_s8(b)), high = vmull_high_s8(a, b);
    return vaddvq_s32(vaddq_s32(vpaddlq_s16(low), vpaddlq_s16(high)));
}

/// Rows of the types read through unpacking (every GGUF type beyond Q8_0/Q4_0/Q4_K, and Q8_0M):
/// each block is unpacked once (the unpackers are loops the compiler vectorizes for NEON), then
/// every token's activations against it, sixteen weights with one scale and offset at a time.
static void dot_unpacked_neon(int type, const void *w, const tern_block_q8a *x, size_t stride, size_t count, size_t tokens, float *out) {
    size_t per_block = tern_unpacked_block_weights(type), bytes = tern_unpacked_block_bytes(type), chunks = per_block / TERN_QK;
    float sum[TERN_UNPACKED_TOKENS] = {0};
    tern_unpacked_block u;
    for (size_t b = 0; b < count / per_block; b++) {
        tern_unpack_block(type, (const char *)w + b * bytes, &u);
        for (size_t c = 0; c < chunks; c++) {
            int8x16_t low = vld1q_s8(u.q + 32 * c), high = vld1q_s8(u.q + 32 * c + 16);
            float scale_low = u.scale[2 * c], scale_high = u.scale[2 * c + 1];
            float offset_low = u.offset[2 * c], offset_high = u.offset[2 * c + 1];
            for (size_t t = 0; t < tokens; t++) {
                const tern_block_q8a *a = x + t * stride + b * chunks + c;
                int32_t products_low = dot16_s8(low, vld1q_s8(a->qs)), products_high = dot16_s8(high, vld1q_s8(a->qs + 16));
                // a->s_low and a->s - a->s_low are the halves' activation sums times a->d.
                sum[t] += a->d * (scale_low * (float)products_low + scale_high * (float)products_high) + offset_low * a->s_low
                    + offset_high * (a->s - a->s_low);
            }
        }
    }
    for (size_t t = 0; t < tokens; t++) out[t] = sum[t];
}

const tern_kernel_table *tern_kernels_neon(void) {
    static const tern_kernel_table table = {
        "neon", dot_f32_neon, dot_f16_neon, dot_bf16_neon, dot_q8_0_neon, dot_q4_0_neon, dot_q4_k_neon, 0, 0, tern_dot_q4_0x4_scalar, tern_dot_q8_0x4_scalar, 0, 0, 0, 0, 0, tern_dot_x16_scalar,
        tern_dot_f16x16_scalar, tern_dot_bf16x16_scalar, dot_unpacked_neon, tern_pack16_group,
    };
    return &table;
}
#else
const tern_kernel_table *tern_kernels_neon(void) { return 0; }
#endif
