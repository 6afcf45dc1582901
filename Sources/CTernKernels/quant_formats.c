// Quantizing and dequantizing rows in the GGUF block formats, and quantizing activations.
#include "CTernKernels.h"
#include "tern_math.h"
#include <math.h>
#include <stdlib.h>

size_t tern_quant_row_bytes(int type, size_t count) {
    switch (type) {
    case TERN_WEIGHT_Q8_0: case TERN_WEIGHT_Q8_0X4: case TERN_WEIGHT_Q8_0X16: return count / TERN_QK * sizeof(tern_block_q8_0);
    case TERN_WEIGHT_Q4_0: case TERN_WEIGHT_Q4_0X4: case TERN_WEIGHT_Q4_0X16: return count / TERN_QK * sizeof(tern_block_q4_0);
    case TERN_WEIGHT_Q4_K: return count / TERN_QK_K * sizeof(tern_block_q4_k);
    case TERN_WEIGHT_Q4_KX16: return count / TERN_QK_K * (sizeof(tern_block_q4_kx16) / 16);
    case TERN_WEIGHT_Q4_1X16: return count / TERN_QK * (sizeof(tern_block_q4_1x16) / 16);
    case TERN_WEIGHT_Q5_KX16: return count / TERN_QK_K * (sizeof(tern_block_q5_kx16) / 16);
    case TERN_WEIGHT_Q6_KX16: return count / TERN_QK_K * (sizeof(tern_block_q6_kx16) / 16);
    case TERN_WEIGHT_Q5_0X16: return count / TERN_QK * (sizeof(tern_block_q5_0x16) / 16);
    case TERN_WEIGHT_Q5_1X16: return count / TERN_QK * (sizeof(tern_block_q5_1x16) / 16);
    case TERN_WEIGHT_IQ4_NLX16: return count / TERN_QK * (sizeof(tern_block_iq4_nlx16) / 16);
    case TERN_WEIGHT_IQ4_XSX16: return count / TERN_QK_K * (sizeof(tern_block_iq4_xsx16) / 16);
    case TERN_WEIGHT_Q3_KX16: return count / TERN_QK_K * (sizeof(tern_block_q3_kx16) / 16);
    case TERN_WEIGHT_Q2_KX16: return count / TERN_QK_K * (sizeof(tern_block_q2_kx16) / 16);
    case TERN_WEIGHT_F32: return count * 4;
    case TERN_WEIGHT_F16: case TERN_WEIGHT_BF16: case TERN_WEIGHT_F16X16: case TERN_WEIGHT_BF16X16: return count * 2;
    default: return count / tern_unpacked_block_weights(type) * tern_unpacked_block_bytes(type);
    }
}

void tern_quantize_row_q8_0(const float *x, tern_block_q8_0 *y, size_t count) {
    for (size_t b = 0; b < count / TERN_QK; b++, x += TERN_QK) {
        float amax = 0;
        for (int i = 0; i < TERN_QK; i++) amax = fmaxf(amax, fabsf(x[i]));
        float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
        y[b].d = tern_f32_to_f16(d);
        for (int i = 0; i < TERN_QK; i++) y[b].qs[i] = (int8_t)roundf(x[i] * id);  // half away from zero, as llama.cpp
    }
}

void tern_quantize_row_q4_0(const float *x, tern_block_q4_0 *y, size_t count) {
    for (size_t b = 0; b < count / TERN_QK; b++, x += TERN_QK) {
        float d = tern_signed_absmax(x, TERN_QK) / -8.0f, id = d ? 1.0f / d : 0.0f;
        y[b].d = tern_f32_to_f16(d);
        for (int i = 0; i < TERN_QK / 2; i++) {
            int lo = (int)(x[i] * id + 8.5f), hi = (int)(x[i + TERN_QK / 2] * id + 8.5f);
            lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
            hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
            y[b].qs[i] = (uint8_t)(lo | (hi << 4));
        }
    }
}

// Written so the compiler vectorises it: the maximum over sixteen lanes, rounding with rintf (the
// same round-to-nearest-even as llama.cpp's) and integer sums.
TERN_VECTOR_CLONES
void tern_quantize_row_q8a(const float *x, tern_block_q8a *y, size_t count, size_t group) {
    for (size_t g = 0; g < count / group; g++, x += group) {
        float lanes[16] = {0};
        for (size_t i = 0; i < group; i += 16)
            for (int l = 0; l < 16; l++) {
                float a = fabsf(x[i + (size_t)l]);
                lanes[l] = a > lanes[l] ? a : lanes[l];
            }
        float amax = 0;
        for (int l = 0; l < 16; l++) amax = lanes[l] > amax ? lanes[l] : amax;
        // Scaled as llama.cpp's x86 kernels scale activations, so near-ties round alike: by 127 / amax,
        // with the scale amax / 127 per 32 values (its Q8_0 path) or 1 / (127 / amax) per 256 (its Q8_K).
        float id = amax ? 127.0f / amax : 0.0f;
        float d = group == TERN_QK ? amax / 127.0f : (amax ? 1.0f / id : 0.0f);
        for (size_t b = 0; b < group / TERN_QK; b++, y++) {
            const float *v = x + b * TERN_QK;
            int low = 0, high = 0;
            for (int i = 0; i < TERN_QK / 2; i++) {
                int q = (int)rintf(v[i] * id);
                y->qs[i] = (int8_t)q;
                low += q;
            }
            for (int i = TERN_QK / 2; i < TERN_QK; i++) {
                int q = (int)rintf(v[i] * id);
                y->qs[i] = (int8_t)q;
                high += q;
            }
            y->d = d;
            y->s = d * (float)(low + high);
            y->s_low = d * (float)low;
        }
    }
}

void tern_dequantize_row(int type, const void *x, float *y, size_t count) {
    switch (type) {
    case TERN_WEIGHT_Q8_0: {
        const tern_block_q8_0 *b = x;
        for (size_t i = 0; i < count; i++) y[i] = b[i / TERN_QK].qs[i % TERN_QK] * tern_f16_to_f32(b[i / TERN_QK].d);
        break;
    }
    case TERN_WEIGHT_Q4_0: {
        const tern_block_q4_0 *b = x;
        for (size_t i = 0; i < count; i++) {
            const tern_block_q4_0 *blk = &b[i / TERN_QK];
            int j = (int)(i % TERN_QK);
            int q = j < 16 ? (blk->qs[j] & 0xF) : (blk->qs[j - 16] >> 4);
            y[i] = (q - 8) * tern_f16_to_f32(blk->d);
        }
        break;
    }
    case TERN_WEIGHT_Q4_K: {
        const tern_block_q4_k *b = x;
        for (size_t s = 0; s < count / TERN_QK_K; s++) {
            float d = tern_f16_to_f32(b[s].d), dmin = tern_f16_to_f32(b[s].dmin);
            for (int j = 0; j < 8; j++) {
                uint8_t sc, m;
                tern_q4k_scale_min(j, b[s].scales, &sc, &m);
                for (int l = 0; l < 32; l++) y[s * TERN_QK_K + 32 * j + l] = d * sc * tern_q4k_quant(b[s].qs, j, l) - dmin * m;
            }
        }
        break;
    }
    default:
        if (tern_unpacked_block_weights(type)) {
            size_t per_block = tern_unpacked_block_weights(type), bytes = tern_unpacked_block_bytes(type);
            tern_unpacked_block u;
            for (size_t b = 0; b < count / per_block; b++) {
                tern_unpack_block(type, (const char *)x + b * bytes, &u);
                for (size_t i = 0; i < per_block; i++) y[b * per_block + i] = u.scale[i / 16] * u.q[i] + u.offset[i / 16];
            }
        } else {
            tern_convert_row(type, x, y, count);
        }
    }
}

typedef struct {
    int source_type, target_type;
    const char *source;
    char *target;
    size_t rows, columns;
} quantize_task;

static void quantize_matrix_part(void *context, int thread, int threads) {
    const quantize_task *t = context;
    size_t source_row = tern_quant_row_bytes(t->source_type, t->columns);
    size_t target_row = tern_quant_row_bytes(t->target_type, t->columns);
    float *row = malloc(t->columns * sizeof(float));
    for (size_t r = t->rows * thread / threads; r < t->rows * (thread + 1) / threads; r++) {
        tern_convert_row(t->source_type, t->source + r * source_row, row, t->columns);
        void *out = t->target + r * target_row;
        switch (t->target_type) {
        case TERN_WEIGHT_Q8_0: tern_quantize_row_q8_0(row, out, t->columns); break;
        case TERN_WEIGHT_Q4_0: tern_quantize_row_q4_0(row, out, t->columns); break;
        case TERN_WEIGHT_Q4_K: tern_quantize_row_q4_k(row, out, t->columns); break;
        case TERN_WEIGHT_Q4_1: tern_quantize_row_q4_1(row, out, t->columns); break;
        case TERN_WEIGHT_Q5_0: tern_quantize_row_q5_0(row, out, t->columns); break;
        case TERN_WEIGHT_Q5_1: tern_quantize_row_q5_1(row, out, t->columns); break;
        case TERN_WEIGHT_Q2_K: tern_quantize_row_q2_k(row, out, t->columns); break;
        case TERN_WEIGHT_Q3_K: tern_quantize_row_q3_k(row, out, t->columns); break;
        case TERN_WEIGHT_Q5_K: tern_quantize_row_q5_k(row, out, t->columns); break;
        case TERN_WEIGHT_Q6_K: tern_quantize_row_q6_k(row, out, t->columns); break;
        }
    }
    free(row);
}

void tern_quantize_matrix(tern_pool *pool, int source_type, const void *source, int target_type, void *target,
                          size_t rows, size_t columns) {
    quantize_task task = {source_type, target_type, source, target, rows, columns};
    tern_pool_run(pool, quantize_matrix_part, &task);
}
