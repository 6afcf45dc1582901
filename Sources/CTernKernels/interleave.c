// The four-row interleaved Q4_0 / Q8_0 layouts: building them, reading a row back, and the
// reference kernels.
#include "CTernKernels.h"
#include <string.h>

static int base_type(int type) {
    return type == TERN_WEIGHT_Q4_0X4 ? TERN_WEIGHT_Q4_0 : type == TERN_WEIGHT_Q8_0X4 ? TERN_WEIGHT_Q8_0 : type;
}

void tern_interleave_rows(int type, const void *source, void *target, size_t rows, size_t columns) {
    size_t blocks = columns / TERN_QK;
    for (size_t g = 0; g < rows / 4; g++) {
        for (size_t k = 0; k < blocks; k++) {
            if (type == TERN_WEIGHT_Q4_0) {
                const tern_block_q4_0 *rowsrc = (const tern_block_q4_0 *)source + g * 4 * blocks;
                tern_block_q4_0x4 *out = (tern_block_q4_0x4 *)target + g * blocks + k;
                for (int r = 0; r < 4; r++) {
                    out->d[r] = rowsrc[r * blocks + k].d;
                    memcpy(out->qs[r], rowsrc[r * blocks + k].qs, sizeof out->qs[r]);
                }
            } else {
                const tern_block_q8_0 *rowsrc = (const tern_block_q8_0 *)source + g * 4 * blocks;
                tern_block_q8_0x4 *out = (tern_block_q8_0x4 *)target + g * blocks + k;
                for (int r = 0; r < 4; r++) {
                    out->d[r] = rowsrc[r * blocks + k].d;
                    memcpy(out->qs[r], rowsrc[r * blocks + k].qs, sizeof out->qs[r]);
                }
            }
        }
    }
}

void tern_matrix_row(int type, const void *matrix, size_t row, size_t columns, float *dst) {
    size_t blocks = columns / TERN_QK;
    if (type == TERN_WEIGHT_Q4_0X4 || type == TERN_WEIGHT_Q8_0X4) {
        // Gather the row's blocks into the plain layout, then dequantize.
        union { tern_block_q4_0 q4; tern_block_q8_0 q8; } block;
        int r = (int)(row % 4);
        for (size_t k = 0; k < blocks; k++) {
            if (type == TERN_WEIGHT_Q4_0X4) {
                const tern_block_q4_0x4 *src = (const tern_block_q4_0x4 *)matrix + (row / 4) * blocks + k;
                block.q4.d = src->d[r];
                memcpy(block.q4.qs, src->qs[r], sizeof block.q4.qs);
            } else {
                const tern_block_q8_0x4 *src = (const tern_block_q8_0x4 *)matrix + (row / 4) * blocks + k;
                block.q8.d = src->d[r];
                memcpy(block.q8.qs, src->qs[r], sizeof block.q8.qs);
            }
            tern_dequantize_row(base_type(type), &block, dst + k * TERN_QK, TERN_QK);
        }
        return;
    }
    tern_convert_row(type, (const char *)matrix + row * tern_quant_row_bytes(type, columns), dst, columns);
}

void tern_dot_q4_0x4_scalar(const void *w, const tern_block_q8a *x, size_t count, float out[4]) {
    const tern_block_q4_0x4 *b = w;
    for (int r = 0; r < 4; r++) {
        float sum = 0;
        for (size_t k = 0; k < count / TERN_QK; k++) {
            int acc = 0;
            for (int i = 0; i < TERN_QK / 2; i++) {
                acc += ((b[k].qs[r][i] & 0xF) - 8) * x[k].qs[i] + ((b[k].qs[r][i] >> 4) - 8) * x[k].qs[i + TERN_QK / 2];
            }
            sum += tern_f16_to_f32(b[k].d[r]) * x[k].d * (float)acc;
        }
        out[r] = sum;
    }
}

void tern_dot_q8_0x4_scalar(const void *w, const tern_block_q8a *x, size_t count, float out[4]) {
    const tern_block_q8_0x4 *b = w;
    for (int r = 0; r < 4; r++) {
        float sum = 0;
        for (size_t k = 0; k < count / TERN_QK; k++) {
            int acc = 0;
            for (int i = 0; i < TERN_QK; i++) acc += b[k].qs[r][i] * x[k].qs[i];
            sum += tern_f16_to_f32(b[k].d[r]) * x[k].d * (float)acc;
        }
        out[r] = sum;
    }
}

int tern_prefers_interleaved(int type) {
    const tern_kernel_table *k = tern_kernels();
    if (type == TERN_WEIGHT_Q4_0) return k->dot_q4_0x4 != tern_dot_q4_0x4_scalar;
    if (type == TERN_WEIGHT_Q8_0) return k->dot_q8_0x4 != tern_dot_q8_0x4_scalar;
    return 0;
}
