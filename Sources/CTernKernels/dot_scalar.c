// Reference dot products: one weight row against one activation row. Every SIMD path is
// tested against these.
#include "CTernKernels.h"

static float dot_f32(const void *w, const float *x, size_t count) {
    const float *a = w;
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += (double)a[i] * x[i];
    return (float)sum;
}

static float dot_f16(const void *w, const float *x, size_t count) {
    const uint16_t *a = w;
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += (double)tern_f16_to_f32(a[i]) * x[i];
    return (float)sum;
}

static float dot_bf16(const void *w, const float *x, size_t count) {
    const uint16_t *a = w;
    double sum = 0;
    for (size_t i = 0; i < count; i++) sum += (double)tern_bf16_to_f32(a[i]) * x[i];
    return (float)sum;
}

static float dot_q8_0(const void *w, const tern_block_q8a *x, size_t count) {
    const tern_block_q8_0 *b = w;
    float sum = 0;
    for (size_t k = 0; k < count / TERN_QK; k++) {
        int acc = 0;
        for (int i = 0; i < TERN_QK; i++) acc += b[k].qs[i] * x[k].qs[i];
        sum += tern_f16_to_f32(b[k].d) * x[k].d * (float)acc;
    }
    return sum;
}

static float dot_q4_0(const void *w, const tern_block_q8a *x, size_t count) {
    const tern_block_q4_0 *b = w;
    float sum = 0;
    for (size_t k = 0; k < count / TERN_QK; k++) {
        int acc = 0;
        for (int i = 0; i < TERN_QK / 2; i++) {
            acc += ((b[k].qs[i] & 0xF) - 8) * x[k].qs[i];
            acc += ((b[k].qs[i] >> 4) - 8) * x[k].qs[i + TERN_QK / 2];
        }
        sum += tern_f16_to_f32(b[k].d) * x[k].d * (float)acc;
    }
    return sum;
}

static float dot_q4_k(const void *w, const tern_block_q8a *x, size_t count) {
    const tern_block_q4_k *b = w;
    float sum = 0;
    for (size_t k = 0; k < count / TERN_QK_K; k++) {
        float d = tern_f16_to_f32(b[k].d), dmin = tern_f16_to_f32(b[k].dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            tern_q4k_scale_min(j, b[k].scales, &sc, &m);
            const tern_block_q8a *a = &x[k * 8 + j];
            int acc = 0;
            for (int l = 0; l < 32; l++) acc += tern_q4k_quant(b[k].qs, j, l) * a->qs[l];
            sum += d * sc * a->d * (float)acc - dmin * m * a->s;
        }
    }
    return sum;
}

const tern_kernel_table tern_kernels_scalar = {
    "scalar", dot_f32, dot_f16, dot_bf16, dot_q8_0, dot_q4_0, dot_q4_k, 0, 0, tern_dot_q4_0x4_scalar, tern_dot_q8_0x4_scalar, 0, 0, 0, 0, 0, tern_dot_q8_0x16_scalar, tern_dot_q4_0x16_scalar, tern_dot_q4_kx16_scalar,
        tern_dot_f16x16_scalar, tern_dot_bf16x16_scalar,
};
