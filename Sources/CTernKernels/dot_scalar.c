// Reference dot products: one weight row against one activation row. Every SIMD path is
// tested against these.
#include "packed16.h"

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

/// Each block unpacked once, then every token's activation blocks against it, 16 weights at a time.
void tern_dot_unpacked_scalar(int type, const void *w, const tern_block_q8a *x, size_t stride, size_t count, size_t tokens, float *out) {
    size_t per_block = tern_unpacked_block_weights(type), bytes = tern_unpacked_block_bytes(type), chunks = per_block / TERN_QK;
    float sum[TERN_UNPACKED_TOKENS] = {0};
    tern_unpacked_block u;
    for (size_t b = 0; b < count / per_block; b++) {
        tern_unpack_block(type, (const char *)w + b * bytes, &u);
        for (size_t t = 0; t < tokens; t++) {
            const tern_block_q8a *a = x + t * stride + b * chunks;
            for (size_t c = 0; c < chunks; c++)
                for (int h = 0; h < 2; h++) {
                    int products = 0, activations = 0;
                    for (int l = 16 * h; l < 16 * h + 16; l++) {
                        products += u.q[32 * c + l] * a[c].qs[l];
                        activations += a[c].qs[l];
                    }
                    sum[t] += a[c].d * (u.scale[2 * c + h] * (float)products + u.offset[2 * c + h] * (float)activations);
                }
        }
    }
    for (size_t t = 0; t < tokens; t++) out[t] = sum[t];
}

const tern_kernel_table tern_kernels_scalar = {
    "scalar", dot_f32, dot_f16, dot_bf16, dot_q8_0, dot_q4_0, dot_q4_k, 0, 0, tern_dot_q4_0x4_scalar, tern_dot_q8_0x4_scalar, 0, 0, 0, 0, 0, tern_dot_x16_scalar,
        tern_dot_f16x16_scalar, tern_dot_bf16x16_scalar, tern_dot_unpacked_scalar, tern_pack16_group,
};
