// The interleaved layouts (Q4_0 / Q8_0 four rows block by block, F16 / BF16 sixteen rows element
// by element, and the sixteen-row VNNI layouts of packed16.c): choosing one, building it, reading a
// row back, and the reference kernels.
#include "packed16.h"
#include <stdatomic.h>
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
    _Atomic size_t next_group;  // groups are taken in turns: see interleave_part
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

/// Sixteen-row 16-bit groups: element i of the sixteen rows side by side.
static void interleave_halves(const interleave_task *t, size_t g) {
    const uint16_t *src = (const uint16_t *)t->source + g * 16 * t->columns;
    uint16_t *out = (uint16_t *)t->target + g * 16 * t->columns;
    for (size_t i = 0; i < t->columns; i++)
        for (size_t r = 0; r < 16; r++) out[i * 16 + r] = src[r * t->columns + i];
}

/// Interleaves row groups, a few at a time from a shared counter until none are left: the copy
/// writes fresh memory, and the kernel's zeroing of its pages takes one thread much longer than
/// another at times, so fixed halves would leave one thread waiting.
static void interleave_part(void *context, int thread, int threads) {
    (void)thread, (void)threads;
    interleave_task *t = context;
    size_t size = t->layout == TERN_WEIGHT_Q8_0X4 || t->layout == TERN_WEIGHT_Q4_0X4 ? 4 : 16, groups = t->rows / size, turn = 4;
    for (size_t first; (first = atomic_fetch_add_explicit(&t->next_group, turn, memory_order_relaxed)) < groups;) {
        for (size_t g = first; g < first + turn && g < groups; g++) {
            if (t->type == TERN_WEIGHT_F16 || t->type == TERN_WEIGHT_BF16) interleave_halves(t, g);
            else if (size == 16) tern_kernels()->pack16_group(t->type, t->layout, t->source, t->target, t->columns, g);
            else interleave_x4(t, g);
        }
    }
}

void tern_interleave_rows(tern_pool *pool, int type, int layout, const void *source, void *target, size_t rows, size_t columns) {
    interleave_task task = {type, layout, source, target, rows, columns, 0};
    tern_pool_run(pool, interleave_part, &task);
}

void tern_matrix_row(int type, const void *matrix, size_t row, size_t columns, float *dst) {
    if (type == TERN_WEIGHT_F16X16 || type == TERN_WEIGHT_BF16X16) {
        const uint16_t *group = (const uint16_t *)matrix + (row / 16) * 16 * columns + row % 16;
        for (size_t i = 0; i < columns; i++)
            dst[i] = type == TERN_WEIGHT_F16X16 ? tern_f16_to_f32(group[i * 16]) : tern_bf16_to_f32(group[i * 16]);
        return;
    }
    if (tern_is_packed16(type)) {
        tern_packed16_row(type, (const char *)matrix + (row / 16) * 16 * tern_quant_row_bytes(type, columns), columns, (int)(row % 16), dst);
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
    int packed = tern_packed16_layout_of(type);
    if (rows % 16 == 0 && packed && k->has_x16 && k->has_x16(packed)) return packed;
    if (type == TERN_WEIGHT_F16 && rows % 16 == 0 && k->dot_f16x16 != tern_dot_f16x16_scalar) return TERN_WEIGHT_F16X16;
    if (type == TERN_WEIGHT_BF16 && rows % 16 == 0 && k->dot_bf16x16 != tern_dot_bf16x16_scalar) return TERN_WEIGHT_BF16X16;
    if (rows % 4 != 0) return type;
    if (type == TERN_WEIGHT_Q4_0 && k->dot_q4_0x4 != tern_dot_q4_0x4_scalar) return TERN_WEIGHT_Q4_0X4;
    if (type == TERN_WEIGHT_Q8_0 && k->dot_q8_0x4 != tern_dot_q8_0x4_scalar) return TERN_WEIGHT_Q8_0X4;
    return type;
}
