// The interleaved layouts (Q4_0 / Q8_0 four rows block by block; Q8_0, Q4_0, Q4_1, Q4_K, Q5_K and
// Q6_K sixteen rows packed for VNNI; F16 / BF16 sixteen rows element by element): building them,
// reading a row back, and the reference kernels.
#include "CTernKernels.h"
#include <string.h>

static int base_type(int type) {
    return type == TERN_WEIGHT_Q4_0X4 ? TERN_WEIGHT_Q4_0 : type == TERN_WEIGHT_Q8_0X4 ? TERN_WEIGHT_Q8_0 : type;
}

/// Quant bytes per 32-weight block: a plain block is an f16 scale then these bytes; an interleaved
/// block is four scales then four rows' bytes.
static size_t quant_bytes(int type) {
    return base_type(type) == TERN_WEIGHT_Q4_0 ? TERN_QK / 2 : TERN_QK;
}

typedef struct {
    int type, layout;
    const uint8_t *source;
    uint8_t *target;
    size_t rows, columns;
} interleave_task;

/// Four-row groups: each row's scale, then each row's quant bytes, block by block.
static void interleave_x4(const interleave_task *t, size_t g) {
    size_t blocks = t->columns / TERN_QK, n = quant_bytes(t->type), plain = 2 + n, group = 8 + 4 * n;
    for (size_t k = 0; k < blocks; k++) {
        uint8_t *block = t->target + (g * blocks + k) * group;
        for (size_t r = 0; r < 4; r++) {
            const uint8_t *from = t->source + ((g * 4 + r) * blocks + k) * plain;
            memcpy(block + 2 * r, from, 2);
            memcpy(block + 8 + r * n, from + 2, n);
        }
    }
}

/// The VNNI vector (0-7) that holds weight i of a 32-weight sub-block in a sixteen-row layout:
/// vectors 0-3 weights 0-15 four at a time (low nibbles), vectors 4-7 weights 16-31 (high nibbles).
static int vector_of(int i) { return i < 16 ? i / 4 : 4 + (i - 16) / 4; }

/// Sub-block j's nibbles of quants q[32] (only their low four bits) in the Q4_0x16 arrangement, row r.
static void put_nibbles(const int *q, uint8_t nibbles[TERN_QK / 8][16][4], size_t r) {
    for (int i = 0; i < TERN_QK / 2; i++) nibbles[i / 4][r][i % 4] = (uint8_t)((q[i] & 0xF) | (q[i + 16] & 0xF) << 4);
}

/// Sixteen-row groups of the 256-weight types: per row, its super-block scales, the integer
/// sub-block scales, the low nibbles as Q4_0x16 has them and the higher bits in their planes.
static void interleave_k_x16(const interleave_task *t, size_t g) {
    size_t blocks = t->columns / TERN_QK_K;
    for (size_t k = 0; k < blocks; k++) {
        for (size_t r = 0; r < 16; r++) {
            size_t index = (g * 16 + r) * blocks + k;
            int q[TERN_QK_K];
            if (t->type == TERN_WEIGHT_Q6_K) {
                const tern_block_q6_k *from = (const tern_block_q6_k *)t->source + index;
                tern_block_q6_kx16 *out = (tern_block_q6_kx16 *)t->target + g * blocks + k;
                tern_unpacked_block u;
                tern_unpack_q6_k(from, &u);
                out->d[r] = from->d;
                for (int s = 0; s < 16; s++) out->scales[s][r] = from->scales[s];
                for (int i = 0; i < TERN_QK_K; i++) q[i] = u.q[i] + 32;
                for (int j = 0; j < 8; j++) {
                    put_nibbles(q + 32 * j, out->qs[j], r);
                    for (int b = 0; b < 4; b++) out->high[j][0][r][b] = out->high[j][1][r][b] = 0;
                    for (int i = 0; i < TERN_QK; i++) {
                        int v = vector_of(i);
                        out->high[j][v / 4][r][i % 4] |= (uint8_t)((q[32 * j + i] >> 4) << (2 * (v % 4)));
                    }
                }
                continue;
            }
            // Q4_K and Q5_K share the scale packing and the nibbles; Q5_K adds a fifth bit.
            const tern_block_q4_k *q4 = (const tern_block_q4_k *)t->source + index;
            const tern_block_q5_k *q5 = (const tern_block_q5_k *)t->source + index;
            int five = t->type == TERN_WEIGHT_Q5_K;
            const uint8_t *scales = five ? q5->scales : q4->scales, *qs = five ? q5->qs : q4->qs;
            uint16_t d = five ? q5->d : q4->d, dmin = five ? q5->dmin : q4->dmin;
            tern_block_q4_kx16 *out4 = (tern_block_q4_kx16 *)t->target + g * blocks + k;
            tern_block_q5_kx16 *out5 = (tern_block_q5_kx16 *)t->target + g * blocks + k;
            uint16_t *d_out = five ? out5->d : out4->d, *dmin_out = five ? out5->dmin : out4->dmin;
            d_out[r] = d;
            dmin_out[r] = dmin;
            for (int j = 0; j < 8; j++) {
                uint8_t *scale = five ? &out5->scales[j][r] : &out4->scales[j][r], *min = five ? &out5->mins[j][r] : &out4->mins[j][r];
                tern_q4k_scale_min(j, scales, scale, min);
                for (int i = 0; i < TERN_QK; i++) q[i] = tern_q4k_quant(qs, j, i) | (five ? ((q5->qh[i] >> j) & 1) << 4 : 0);
                put_nibbles(q, five ? out5->qs[j] : out4->qs[j], r);
                if (!five) continue;
                for (int b = 0; b < 4; b++) out5->high[j][r][b] = 0;
                for (int i = 0; i < TERN_QK; i++) out5->high[j][r][i % 4] |= (uint8_t)((q[i] >> 4) << vector_of(i));
            }
        }
    }
}

/// Sixteen-row groups: Q8_0 weights regrouped by four and offset by 128 (tern_block_q8_0x16),
/// Q4_0 / Q4_1 nibbles regrouped by four, weights i and i + 16 sharing a byte (tern_block_q4_0x16).
static void interleave_x16(const interleave_task *t, size_t g) {
    if (t->type == TERN_WEIGHT_Q4_K || t->type == TERN_WEIGHT_Q5_K || t->type == TERN_WEIGHT_Q6_K) {
        interleave_k_x16(t, g);
        return;
    }
    size_t blocks = t->columns / TERN_QK;
    for (size_t k = 0; k < blocks; k++) {
        for (size_t r = 0; r < 16; r++) {
            size_t index = (g * 16 + r) * blocks + k;
            if (t->type == TERN_WEIGHT_Q8_0) {
                const tern_block_q8_0 *from = (const tern_block_q8_0 *)t->source + index;
                tern_block_q8_0x16 *out = (tern_block_q8_0x16 *)t->target + g * blocks + k;
                out->d[r] = from->d;
                for (int i = 0; i < TERN_QK; i++) out->qs[i / 4][r][i % 4] = (uint8_t)(from->qs[i] + 128);
            } else if (t->type == TERN_WEIGHT_Q4_1) {
                const tern_block_q4_1 *from = (const tern_block_q4_1 *)t->source + index;
                tern_block_q4_1x16 *out = (tern_block_q4_1x16 *)t->target + g * blocks + k;
                out->d[r] = from->d;
                out->m[r] = from->m;
                for (int i = 0; i < TERN_QK / 2; i++) out->qs[i / 4][r][i % 4] = from->qs[i];
            } else {
                const tern_block_q4_0 *from = (const tern_block_q4_0 *)t->source + index;
                tern_block_q4_0x16 *out = (tern_block_q4_0x16 *)t->target + g * blocks + k;
                out->d[r] = from->d;
                // The plain block already pairs weight i (low nibble) with weight i + 16 (high).
                for (int i = 0; i < TERN_QK / 2; i++) out->qs[i / 4][r][i % 4] = from->qs[i];
            }
        }
    }
}

/// Sixteen-row 16-bit groups: element i of the sixteen rows side by side.
static void interleave_halves(const interleave_task *t, size_t g) {
    const uint16_t *src = (const uint16_t *)t->source + g * 16 * t->columns;
    uint16_t *out = (uint16_t *)t->target + g * 16 * t->columns;
    for (size_t i = 0; i < t->columns; i++)
        for (size_t r = 0; r < 16; r++) out[i * 16 + r] = src[r * t->columns + i];
}

/// Interleaves this thread's share of row groups.
static void interleave_part(void *context, int thread, int threads) {
    const interleave_task *t = context;
    size_t size = t->layout == TERN_WEIGHT_Q8_0X4 || t->layout == TERN_WEIGHT_Q4_0X4 ? 4 : 16, groups = t->rows / size;
    for (size_t g = groups * thread / threads; g < groups * (thread + 1) / threads; g++) {
        if (t->type == TERN_WEIGHT_F16 || t->type == TERN_WEIGHT_BF16) interleave_halves(t, g);
        else if (size == 16) interleave_x16(t, g);
        else interleave_x4(t, g);
    }
}

void tern_interleave_rows(tern_pool *pool, int type, int layout, const void *source, void *target, size_t rows, size_t columns) {
    interleave_task task = {type, layout, source, target, rows, columns};
    tern_pool_run(pool, interleave_part, &task);
}

static int is_packed16(int type) {
    return type == TERN_WEIGHT_Q8_0X16 || type == TERN_WEIGHT_Q4_0X16 || type == TERN_WEIGHT_Q4_1X16 || type == TERN_WEIGHT_Q4_KX16
        || type == TERN_WEIGHT_Q5_KX16 || type == TERN_WEIGHT_Q6_KX16;
}

/// Row r of sub-block sb (32 weights) of a sixteen-row packed group: integer weights w[32] with
/// weight i = scale[i / 16] * w[i] - offset[i / 16].
static void x16_sub_block_row(int layout, const void *group, size_t sb, int r, int w[TERN_QK], float scale[2], float offset[2]) {
    offset[0] = offset[1] = 0;
    if (layout == TERN_WEIGHT_Q8_0X16) {
        const tern_block_q8_0x16 *b = (const tern_block_q8_0x16 *)group + sb;
        for (int i = 0; i < TERN_QK; i++) w[i] = (int)b->qs[i / 4][r][i % 4] - 128;
        scale[0] = scale[1] = tern_f16_to_f32(b->d[r]);
        return;
    }
    const uint8_t (*nibbles)[16][4];
    int zero = 0;
    if (layout == TERN_WEIGHT_Q4_0X16) {
        const tern_block_q4_0x16 *b = (const tern_block_q4_0x16 *)group + sb;
        nibbles = b->qs;
        scale[0] = tern_f16_to_f32(b->d[r]);
        zero = 8;
    } else if (layout == TERN_WEIGHT_Q4_1X16) {
        const tern_block_q4_1x16 *b = (const tern_block_q4_1x16 *)group + sb;
        nibbles = b->qs;
        scale[0] = tern_f16_to_f32(b->d[r]);
        offset[0] = -tern_f16_to_f32(b->m[r]);
    } else if (layout == TERN_WEIGHT_Q4_KX16) {
        const tern_block_q4_kx16 *b = (const tern_block_q4_kx16 *)group + sb / 8;
        nibbles = b->qs[sb % 8];
        scale[0] = tern_f16_to_f32(b->d[r]) * b->scales[sb % 8][r];
        offset[0] = tern_f16_to_f32(b->dmin[r]) * b->mins[sb % 8][r];
    } else if (layout == TERN_WEIGHT_Q5_KX16) {
        const tern_block_q5_kx16 *b = (const tern_block_q5_kx16 *)group + sb / 8;
        nibbles = b->qs[sb % 8];
        scale[0] = tern_f16_to_f32(b->d[r]) * b->scales[sb % 8][r];
        offset[0] = tern_f16_to_f32(b->dmin[r]) * b->mins[sb % 8][r];
    } else {
        const tern_block_q6_kx16 *b = (const tern_block_q6_kx16 *)group + sb / 8;
        nibbles = b->qs[sb % 8];
        scale[0] = tern_f16_to_f32(b->d[r]) * b->scales[2 * (sb % 8)][r];
        scale[1] = tern_f16_to_f32(b->d[r]) * b->scales[2 * (sb % 8) + 1][r];
        zero = 32;
    }
    if (layout != TERN_WEIGHT_Q6_KX16) {
        scale[1] = scale[0];
        offset[1] = offset[0];
    }
    for (int i = 0; i < TERN_QK / 2; i++) {
        w[i] = nibbles[i / 4][r][i % 4] & 0xF;
        w[i + TERN_QK / 2] = nibbles[i / 4][r][i % 4] >> 4;
    }
    for (int i = 0; i < TERN_QK; i++) {
        int v = vector_of(i);
        if (layout == TERN_WEIGHT_Q5_KX16) w[i] |= ((((const tern_block_q5_kx16 *)group + sb / 8)->high[sb % 8][r][i % 4] >> v) & 1) << 4;
        if (layout == TERN_WEIGHT_Q6_KX16) w[i] |= ((((const tern_block_q6_kx16 *)group + sb / 8)->high[sb % 8][v / 4][r][i % 4] >> (2 * (v % 4))) & 3) << 4;
        w[i] -= zero;
    }
}

void tern_matrix_row(int type, const void *matrix, size_t row, size_t columns, float *dst) {
    if (type == TERN_WEIGHT_F16X16 || type == TERN_WEIGHT_BF16X16) {
        const uint16_t *group = (const uint16_t *)matrix + (row / 16) * 16 * columns + row % 16;
        for (size_t i = 0; i < columns; i++)
            dst[i] = type == TERN_WEIGHT_F16X16 ? tern_f16_to_f32(group[i * 16]) : tern_bf16_to_f32(group[i * 16]);
        return;
    }
    if (is_packed16(type)) {
        const char *group = (const char *)matrix + (row / 16) * 16 * tern_quant_row_bytes(type, columns);
        for (size_t sb = 0; sb < columns / TERN_QK; sb++) {
            int weights[TERN_QK];
            float scale[2], offset[2];
            x16_sub_block_row(type, group, sb, (int)(row % 16), weights, scale, offset);
            for (int i = 0; i < TERN_QK; i++) dst[sb * TERN_QK + i] = scale[i / 16] * (float)weights[i] - offset[i / 16];
        }
        return;
    }
    if (type != TERN_WEIGHT_Q4_0X4 && type != TERN_WEIGHT_Q8_0X4) {
        tern_convert_row(type, (const char *)matrix + row * tern_quant_row_bytes(type, columns), dst, columns);
        return;
    }
    // Gather the row's blocks into the plain layout, then dequantize each.
    size_t blocks = columns / TERN_QK, n = quant_bytes(type), group = 8 + 4 * n, r = row % 4;
    uint8_t block[2 + TERN_QK];
    for (size_t k = 0; k < blocks; k++) {
        const uint8_t *from = (const uint8_t *)matrix + ((row / 4) * blocks + k) * group;
        memcpy(block, from + 2 * r, 2);
        memcpy(block + 2, from + 8 + r * n, n);
        tern_dequantize_row(base_type(type), block, dst + k * TERN_QK, TERN_QK);
    }
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

void tern_dot_x16_scalar(int layout, const void *w, const tern_block_q8a *x, size_t stride, size_t count, size_t tokens, float *out,
                         size_t out_stride) {
    for (size_t t = 0; t < tokens; t++) {
        for (int r = 0; r < 16; r++) {
            float sum = 0;
            for (size_t sb = 0; sb < count / TERN_QK; sb++) {
                const tern_block_q8a *a = x + t * stride + sb;
                int weights[TERN_QK], low = 0, high = 0;
                float scale[2], offset[2];
                x16_sub_block_row(layout, w, sb, r, weights, scale, offset);
                for (int i = 0; i < TERN_QK / 2; i++) low += weights[i] * a->qs[i];
                for (int i = TERN_QK / 2; i < TERN_QK; i++) high += weights[i] * a->qs[i];
                sum += a->d * (scale[0] * (float)low + scale[1] * (float)high) - offset[0] * a->s_low - offset[1] * (a->s - a->s_low);
            }
            out[t * out_stride + r] = sum;
        }
    }
}

static void dot_halves_x16(int bf16, const void *w, const float *x, size_t token_step, size_t column_step, size_t count, size_t tokens,
                           float *out, size_t out_stride) {
    const uint16_t *h = w;
    for (size_t t = 0; t < tokens; t++)
        for (int r = 0; r < 16; r++) {
            float sum = 0;
            for (size_t i = 0; i < count; i++)
                sum += (bf16 ? tern_bf16_to_f32(h[i * 16 + r]) : tern_f16_to_f32(h[i * 16 + r])) * x[t * token_step + i * column_step];
            out[t * out_stride + r] = sum;
        }
}

void tern_dot_f16x16_scalar(const void *w, const float *x, size_t token_step, size_t column_step, size_t count, size_t tokens, float *out,
                            size_t out_stride) {
    dot_halves_x16(0, w, x, token_step, column_step, count, tokens, out, out_stride);
}

void tern_dot_bf16x16_scalar(const void *w, const float *x, size_t token_step, size_t column_step, size_t count, size_t tokens, float *out,
                             size_t out_stride) {
    dot_halves_x16(1, w, x, token_step, column_step, count, tokens, out, out_stride);
}

int tern_interleaved_layout(int type, size_t rows) {
    const tern_kernel_table *k = tern_kernels();
    if (rows % 16 == 0 && k->dot_x16 != tern_dot_x16_scalar) {
        switch (type) {
        case TERN_WEIGHT_Q8_0: return TERN_WEIGHT_Q8_0X16;
        case TERN_WEIGHT_Q4_0: return TERN_WEIGHT_Q4_0X16;
        case TERN_WEIGHT_Q4_1: return TERN_WEIGHT_Q4_1X16;
        case TERN_WEIGHT_Q4_K: return TERN_WEIGHT_Q4_KX16;
        case TERN_WEIGHT_Q5_K: return TERN_WEIGHT_Q5_KX16;
        case TERN_WEIGHT_Q6_K: return TERN_WEIGHT_Q6_KX16;
        }
    }
    if (type == TERN_WEIGHT_F16 && rows % 16 == 0 && k->dot_f16x16 != tern_dot_f16x16_scalar) return TERN_WEIGHT_F16X16;
    if (type == TERN_WEIGHT_BF16 && rows % 16 == 0 && k->dot_bf16x16 != tern_dot_bf16x16_scalar) return TERN_WEIGHT_BF16X16;
    if (rows % 4 != 0) return type;
    if (type == TERN_WEIGHT_Q4_0 && k->dot_q4_0x4 != tern_dot_q4_0x4_scalar) return TERN_WEIGHT_Q4_0X4;
    if (type == TERN_WEIGHT_Q8_0 && k->dot_q8_0x4 != tern_dot_q8_0x4_scalar) return TERN_WEIGHT_Q8_0X4;
    return type;
}
