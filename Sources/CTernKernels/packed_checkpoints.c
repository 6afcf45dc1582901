// GPTQ and AWQ checkpoints (integers packed into int32 words, with per-group f16 scales and
// packed zero points) rewritten into block types the kernels run: weight = scale * (q - zero).
#include "CTernKernels.h"
#include <math.h>

/// AWQ packs eight output columns per word in this order: nibble p holds column awq_column[p].
/// Its inverse, the nibble of column c, is what reading needs.
static const int awq_nibble_of_column[8] = {0, 4, 1, 5, 2, 6, 3, 7};

static int stored_quant(const tern_packed_ints *m, size_t input, size_t output) {
    int mask = (1 << m->bits) - 1;
    if (m->scheme == TERN_PACKING_AWQ) {
        uint32_t word = (uint32_t)m->qweight[input * (m->outputs / 8) + output / 8];
        return (int)(word >> (4 * awq_nibble_of_column[output % 8])) & mask;
    }
    size_t per_word = 32 / (size_t)m->bits;
    uint32_t word = (uint32_t)m->qweight[(input / per_word) * m->outputs + output];
    return (int)(word >> (m->bits * (input % per_word))) & mask;
}

int tern_packed_zero(const tern_packed_ints *m, size_t group, size_t output) {
    int mask = (1 << m->bits) - 1, stored;
    if (m->scheme == TERN_PACKING_AWQ) {
        uint32_t word = (uint32_t)m->qzeros[group * (m->outputs / 8) + output / 8];
        stored = (int)(word >> (4 * awq_nibble_of_column[output % 8])) & mask;
    } else {
        size_t per_word = 32 / (size_t)m->bits;
        uint32_t word = (uint32_t)m->qzeros[group * (m->outputs / per_word) + output / per_word];
        stored = (int)(word >> (m->bits * (output % per_word))) & mask;
    }
    return stored + m->zero_offset;
}

static size_t group_of(const tern_packed_ints *m, size_t input) {
    return m->group_of_input ? (size_t)m->group_of_input[input] : input / m->group_size;
}

typedef struct {
    const tern_packed_ints *matrix;
    int target;
    void *out;
} conversion;

/// Row `o`'s block of columns j0..j0+31 (stored inputs input_order[j], all of one group).
static void convert_block(const tern_packed_ints *m, int target, size_t o, size_t j0, void *block) {
    int q[TERN_QK];
    size_t first = m->input_order ? (size_t)m->input_order[j0] : j0;
    size_t group = group_of(m, first);
    for (int l = 0; l < TERN_QK; l++) q[l] = stored_quant(m, m->input_order ? (size_t)m->input_order[j0 + l] : j0 + l, o);
    uint16_t scale = m->scales[group * m->outputs + o];
    int zero = tern_packed_zero(m, group, o);
    float s = tern_f16_to_f32(scale);
    switch (target) {
    case TERN_WEIGHT_Q4_0: {  // zero is 8: weight = (q - 8) * d
        tern_block_q4_0 *b = block;
        b->d = scale;
        for (int l = 0; l < 16; l++) b->qs[l] = (uint8_t)(q[l] | q[l + 16] << 4);
        break;
    }
    case TERN_WEIGHT_Q4_1: {
        tern_block_q4_1 *b = block;
        b->d = scale;
        b->m = tern_f32_to_f16(-s * (float)zero);
        for (int l = 0; l < 16; l++) b->qs[l] = (uint8_t)(q[l] | q[l + 16] << 4);
        break;
    }
    case TERN_WEIGHT_Q8_0: {  // zero is 128
        tern_block_q8_0 *b = block;
        b->d = scale;
        for (int l = 0; l < TERN_QK; l++) b->qs[l] = (int8_t)(q[l] - 128);
        break;
    }
    default: {  // Q8_0M: weight = d * (q - 128) + d * (128 - zero)
        tern_block_q8_0m *b = block;
        b->d = scale;
        b->m = tern_f32_to_f16(s * (float)(128 - zero));
        for (int l = 0; l < TERN_QK; l++) b->qs[l] = (int8_t)(q[l] - 128);
        break;
    }
    }
}

static void convert_part(void *context, int thread, int threads) {
    const conversion *c = context;
    const tern_packed_ints *m = c->matrix;
    size_t row_bytes = tern_quant_row_bytes(c->target, m->inputs), block_bytes = row_bytes / (m->inputs / TERN_QK);
    for (size_t o = m->outputs * (size_t)thread / (size_t)threads; o < m->outputs * (size_t)(thread + 1) / (size_t)threads; o++) {
        char *row = (char *)c->out + o * row_bytes;
        for (size_t j0 = 0; j0 < m->inputs; j0 += TERN_QK) convert_block(m, c->target, o, j0, row + j0 / TERN_QK * block_bytes);
    }
}

void tern_convert_packed_ints(tern_pool *pool, const tern_packed_ints *matrix, int target, void *out) {
    conversion c = {matrix, target, out};
    tern_pool_run(pool, convert_part, &c);
}
