// Matrix products of f32 activations with weight matrices of every stored type, split over the
// pool. Several matrices that read the same input (q/k/v, gate/up) run as one task, so a layer
// needs few dispatches. Activations are quantized once for the quantized types: by each thread
// for itself when there are few tokens (no extra barrier), else in a parallel pass first.
#include "packed16.h"
#include <stdatomic.h>

#define ROW_TILE 16
#define TOKEN_TILE 32
#define FEW_TOKENS 8
#define ROWS_PER_CLAIM 64   // rows a thread takes at a time (a multiple of every interleaved group)
#define BF16_MIN_TOKENS 64  // prompts at least this long run quantized sixteen-row matrices on AMX BF16
#define BF16_TOKEN_BLOCK_BYTES (1 << 20)  // bf16 activations one pass over a thread's panels reads (in L2)

typedef struct {
    const float *x;
    size_t n, k;
    size_t count;
    tern_matrix matrices[TERN_MAX_MATRICES];
    size_t total_rows;
    size_t blocks;              // activation blocks per token
    tern_block_q8a *xq;         // shared quantized activations, or per-thread regions when few tokens
    int per_thread_quantize;
    size_t activation_group;    // values per activation scale: 256 when every quantized matrix has super-blocks
    float *xt;                  // for 16-bit sixteen-row matrices: each group of 16 tokens as [column][16]
    uint16_t *xb;               // for the AMX BF16 prefill: the activations in bf16, 32 columns of all tokens (up to a multiple of 32) at a time
    uint16_t *panels;           // and two sixteen-row panels of bf16 weights per thread
    _Atomic size_t next_claim;  // the next ROWS_PER_CLAIM rows no thread has taken yet
    const tern_kernel_table *kernels;
} matmul_task;

static int is_sixteen_halves(int type) {
    return type == TERN_WEIGHT_F16X16 || type == TERN_WEIGHT_BF16X16;
}

static int is_sixteen_rows(int type) {
    return tern_is_packed16(type) || is_sixteen_halves(type);
}

static int is_interleaved(int type) {
    return type == TERN_WEIGHT_Q4_0X4 || type == TERN_WEIGHT_Q8_0X4 || is_sixteen_rows(type);
}

/// Rows an interleaved layout packs together; a thread's share of a matrix is whole groups of them.
static size_t group_rows(int type) {
    return is_sixteen_rows(type) ? 16 : is_interleaved(type) ? 4 : 1;
}

static int is_quantized(int type) {
    return type == TERN_WEIGHT_Q8_0 || type == TERN_WEIGHT_Q4_0 || type == TERN_WEIGHT_Q4_K || (is_interleaved(type) && !is_sixteen_halves(type))
        || tern_unpacked_block_weights(type) != 0;
}

/// Whether a quantized type is made of 256-weight super-blocks (llama.cpp multiplies those with
/// activations scaled per 256, its Q8_K; Tern does the same so both round alike).
static int has_super_blocks(int type) {
    switch (type) {
    case TERN_WEIGHT_Q4_K: case TERN_WEIGHT_Q4_KX16: case TERN_WEIGHT_Q2_K: case TERN_WEIGHT_Q2_KX16: case TERN_WEIGHT_Q3_K:
    case TERN_WEIGHT_Q3_KX16: case TERN_WEIGHT_Q5_K: case TERN_WEIGHT_Q5_KX16: case TERN_WEIGHT_Q6_K: case TERN_WEIGHT_Q6_KX16:
    case TERN_WEIGHT_IQ4_XS: case TERN_WEIGHT_IQ4_XSX16: return 1;
    default: return 0;
    }
}

/// Rows first..last of a matrix in a type read through unpacking: each row's blocks are unpacked
/// once per tile of tokens.
static void unpacked_rows_of_matrix(const matmul_task *t, const tern_matrix *mat, size_t first, size_t last, const tern_block_q8a *xq) {
    size_t row_bytes = tern_quant_row_bytes(mat->type, t->k);
    float sums[TERN_UNPACKED_TOKENS];
    for (size_t r0 = first; r0 < last; r0 += ROW_TILE) {
        size_t r1 = r0 + ROW_TILE < last ? r0 + ROW_TILE : last;
        for (size_t i0 = 0; i0 < t->n; i0 += TERN_UNPACKED_TOKENS) {
            size_t tokens = t->n - i0 < TERN_UNPACKED_TOKENS ? t->n - i0 : TERN_UNPACKED_TOKENS;
            for (size_t r = r0; r < r1; r++) {
                t->kernels->dot_unpacked(mat->type, (const char *)mat->weights + r * row_bytes, xq + i0 * t->blocks, t->blocks, t->k, tokens, sums);
                for (size_t u = 0; u < tokens; u++) mat->out[(i0 + u) * mat->rows + r] = sums[u];
            }
        }
    }
}

/// Rows first..last (multiples of 4) of a four-row interleaved matrix, in tiles of rows x tokens
/// whose activations stay in the L1 cache; four tokens at a time where a kernel exists.
static void row_groups_of_matrix(const matmul_task *t, const tern_matrix *mat, size_t first, size_t last, const tern_block_q8a *xq) {
    tern_dot_x4_fn dot = mat->type == TERN_WEIGHT_Q4_0X4 ? t->kernels->dot_q4_0x4 : t->kernels->dot_q8_0x4;
    tern_dot_x4_t4_fn dot_t4 = mat->type == TERN_WEIGHT_Q4_0X4 ? t->kernels->dot_q4_0x4_t4 : t->kernels->dot_q8_0x4_t4;
    size_t group_bytes = 4 * tern_quant_row_bytes(mat->type, t->k);
    for (size_t r0 = first; r0 < last; r0 += ROW_TILE) {
        size_t r1 = r0 + ROW_TILE < last ? r0 + ROW_TILE : last;
        for (size_t i0 = 0; i0 < t->n; i0 += TOKEN_TILE) {
            size_t i1 = i0 + TOKEN_TILE < t->n ? i0 + TOKEN_TILE : t->n;
            for (size_t r = r0; r < r1; r += 4) {
                const char *group = (const char *)mat->weights + (r / 4) * group_bytes;
                size_t i = i0;
                for (; dot_t4 && i + 4 <= i1; i += 4) {
                    float sixteen[16];
                    dot_t4(group, xq + i * t->blocks, t->blocks, t->k, sixteen);
                    for (int u = 0; u < 4; u++)
                        for (int j = 0; j < 4; j++) mat->out[(i + u) * mat->rows + r + j] = sixteen[4 * u + j];
                }
                for (; i < i1; i++) {
                    float four[4];
                    dot(group, xq + i * t->blocks, t->k, four);
                    for (int j = 0; j < 4; j++) mat->out[i * mat->rows + r + j] = four[j];
                }
            }
        }
    }
}

/// Rows first..last (multiples of 16) of a sixteen-row packed matrix, sixteen tokens per call:
/// the group's weights stay in cache while every token passes over them. 16-bit groups read the
/// f32 activations, quantized groups the 8-bit ones.
static void row16_groups_of_matrix(const matmul_task *t, const tern_matrix *mat, size_t first, size_t last, const tern_block_q8a *xq,
                                   uint16_t *panel) {
    size_t group_bytes = 16 * tern_quant_row_bytes(mat->type, t->k);
    if (t->xb && !is_sixteen_halves(mat->type)) {
        // Long prompts on AMX BF16: each group dequantized once per block of tokens whose
        // activations stay in L2, then every token of the block against it.
        size_t block = BF16_TOKEN_BLOCK_BYTES / (t->k * sizeof(uint16_t)) / 32 * 32;
        if (block < 32) block = 32;
        for (size_t i = 0; i < t->n; i += block) {
            size_t tokens = t->n - i < block ? t->n - i : block;
            // Two groups at a time where there are two.
            for (size_t r = first; r < last; r += 32) {
                uint16_t *second = r + 16 < last ? panel + 16 * t->k : 0;
                tern_x16_bf16_panel(mat->type, (const char *)mat->weights + (r / 16) * group_bytes, t->k, panel);
                if (second) tern_x16_bf16_panel(mat->type, (const char *)mat->weights + (r / 16 + 1) * group_bytes, t->k, second);
                tern_x16_bf16_amx(panel, second, t->xb, (t->n + 31) / 32 * 32, i, tokens, t->k, mat->out + i * mat->rows + r, mat->rows);
            }
        }
        return;
    }
    tern_dot_x16_f_fn dot_f = mat->type == TERN_WEIGHT_F16X16 ? t->kernels->dot_f16x16 : t->kernels->dot_bf16x16;
    for (size_t r = first; r < last; r += 16) {
        const char *group = (const char *)mat->weights + (r / 16) * group_bytes;
        for (size_t i = 0; i < t->n; i += 16) {
            size_t tokens = t->n - i < 16 ? t->n - i : 16;
            float *out = mat->out + i * mat->rows + r;
            if (is_sixteen_halves(mat->type) && t->n == 1) dot_f(group, t->x, t->k, 1, t->k, 1, out, mat->rows);
            else if (is_sixteen_halves(mat->type)) dot_f(group, t->xt + i * t->k, 1, 16, t->k, tokens, out, mat->rows);
            else t->kernels->dot_x16(mat->type, group, xq + i * t->blocks, t->blocks, t->k, tokens, out, mat->rows);
        }
    }
}

/// The quantized activations, then room for the transposed f32 activations of 16-bit matrices.
static size_t quantized_bytes(size_t k, size_t n, int threads) {
    size_t tokens = n <= FEW_TOKENS ? n * (size_t)threads : n;
    return (tokens * (k / TERN_QK) * sizeof(tern_block_q8a) + 63) / 64 * 64;
}

/// The transposed f32 activations of 16-bit matrices.
static size_t transposed_bytes(size_t k, size_t n) {
    return (n + 15) / 16 * 16 * k * sizeof(float);
}

/// The bf16 activations (rows up to a multiple of 32), then two panels per thread.
static size_t bf16_bytes(size_t k, size_t n, int threads) {
    return n < BF16_MIN_TOKENS ? 0 : ((n + 31) / 32 * 32 + 32 * (size_t)threads) * k * sizeof(uint16_t);
}

size_t tern_matmul_scratch_bytes(size_t k, size_t n, int threads) {
    return quantized_bytes(k, n, threads) + transposed_bytes(k, n) + bf16_bytes(k, n, threads);
}

static void bf16_part(void *context, int thread, int threads) {
    matmul_task *t = context;
    size_t rows = (t->n + 31) / 32 * 32;
    for (size_t i = rows * thread / threads; i < rows * (thread + 1) / threads; i++)
        tern_row_to_bf16_chunks(i < t->n ? t->x + i * t->k : 0, t->k, t->xb + i * 32, rows);
}

/// Groups of sixteen tokens laid out column by column, so a 16-bit kernel reads each column's
/// activations from one cache line (rows of a power-of-two width would alias in the L1 cache).
static void transpose_part(void *context, int thread, int threads) {
    matmul_task *t = context;
    size_t groups = (t->n + 15) / 16;
    for (size_t g = groups * thread / threads; g < groups * (thread + 1) / threads; g++) {
        float *out = t->xt + g * 16 * t->k;
        for (size_t i = 0; i < t->k; i++)
            for (size_t u = 0; u < 16; u++) out[i * 16 + u] = g * 16 + u < t->n ? t->x[(g * 16 + u) * t->k + i] : 0;
    }
}

static void quantize_rows(const matmul_task *t, tern_block_q8a *xq, size_t first, size_t last) {
    for (size_t i = first; i < last; i++) tern_quantize_row_q8a(t->x + i * t->k, xq + i * t->blocks, t->k, t->activation_group);
}

static void quantize_part(void *context, int thread, int threads) {
    matmul_task *t = context;
    quantize_rows(t, t->xq, t->n * thread / threads, t->n * (thread + 1) / threads);
}

static void rows_of_matrix(const matmul_task *t, const tern_matrix *mat, size_t first, size_t last, const tern_block_q8a *xq, uint16_t *panel) {
    tern_dot_q_fn dot_q = mat->type == TERN_WEIGHT_Q8_0 ? t->kernels->dot_q8_0
        : mat->type == TERN_WEIGHT_Q4_0 ? t->kernels->dot_q4_0 : t->kernels->dot_q4_k;
    tern_dot_f_fn dot_f = mat->type == TERN_WEIGHT_F32 ? t->kernels->dot_f32
        : mat->type == TERN_WEIGHT_F16 ? t->kernels->dot_f16 : t->kernels->dot_bf16;
    tern_dot4_q_fn dot4 = mat->type == TERN_WEIGHT_Q8_0 ? t->kernels->dot4_q8_0
        : mat->type == TERN_WEIGHT_Q4_0 ? t->kernels->dot4_q4_0 : 0;
    if (is_sixteen_rows(mat->type)) {
        row16_groups_of_matrix(t, mat, first, last, xq, panel);
        return;
    }
    if (is_interleaved(mat->type)) {
        row_groups_of_matrix(t, mat, first, last, xq);
        return;
    }
    if (tern_unpacked_block_weights(mat->type)) {
        unpacked_rows_of_matrix(t, mat, first, last, xq);
        return;
    }
    int quantized = is_quantized(mat->type);
    size_t row_bytes = tern_quant_row_bytes(mat->type, t->k);
    tern_dot4x4_f_fn tile = mat->type == TERN_WEIGHT_F32 ? t->kernels->dot4x4_f32
        : mat->type == TERN_WEIGHT_F16 ? t->kernels->dot4x4_f16 : mat->type == TERN_WEIGHT_BF16 ? t->kernels->dot4x4_bf16 : 0;
    size_t tiled_last = first;
    if (tile && t->n >= 4) {
        // Prefill with 16- or 32-bit weights: tiles of 4 rows x 4 tokens; leftovers below.
        tiled_last = first + (last - first) / 4 * 4;
        for (size_t r0 = first; r0 < tiled_last; r0 += ROW_TILE) {
            size_t r1 = r0 + ROW_TILE < tiled_last ? r0 + ROW_TILE : tiled_last;
            for (size_t i0 = 0; i0 + 4 <= t->n; i0 += TOKEN_TILE) {
                size_t i1 = i0 + TOKEN_TILE < t->n ? i0 + TOKEN_TILE : t->n;
                for (size_t r = r0; r < r1; r += 4) {
                    for (size_t i = i0; i + 4 <= i1; i += 4) {
                        float sixteen[16];
                        tile((const char *)mat->weights + r * row_bytes, row_bytes, t->x + i * t->k, t->k, sixteen);
                        for (int u = 0; u < 4; u++)
                            for (int j = 0; j < 4; j++) mat->out[(i + u) * mat->rows + r + j] = sixteen[4 * u + j];
                    }
                }
            }
        }
        // Tokens beyond the last whole group of four, for the tiled rows.
        for (size_t r = first; r < tiled_last; r++) {
            const char *row = (const char *)mat->weights + r * row_bytes;
            for (size_t i = t->n / 4 * 4; i < t->n; i++) mat->out[i * mat->rows + r] = dot_f(row, t->x + i * t->k, t->k);
        }
        first = tiled_last;
    }
    for (size_t r0 = first; r0 < last; r0 += ROW_TILE) {
        size_t r1 = r0 + ROW_TILE < last ? r0 + ROW_TILE : last;
        for (size_t i0 = 0; i0 < t->n; i0 += TOKEN_TILE) {
            size_t i1 = i0 + TOKEN_TILE < t->n ? i0 + TOKEN_TILE : t->n;
            for (size_t r = r0; r < r1; r++) {
                const char *row = (const char *)mat->weights + r * row_bytes;
                size_t i = i0;
                if (quantized && dot4) {
                    for (; i + 4 <= i1; i += 4) {
                        float four[4];
                        dot4(row, xq + i * t->blocks, t->blocks, t->k, four);
                        for (int j = 0; j < 4; j++) mat->out[(i + j) * mat->rows + r] = four[j];
                    }
                }
                for (; i < i1; i++) {
                    mat->out[i * mat->rows + r] = quantized ? dot_q(row, xq + i * t->blocks, t->k) : dot_f(row, t->x + i * t->k, t->k);
                }
            }
        }
    }
}

static void matmul_part(void *context, int thread, int threads) {
    matmul_task *t = context;
    const tern_block_q8a *xq = t->xq;
    if (t->per_thread_quantize) {
        tern_block_q8a *mine = t->xq + (size_t)thread * t->n * t->blocks;
        quantize_rows(t, mine, 0, t->n);
        xq = mine;
    }
    // Threads claim runs of rows of the matrices taken end to end until none are left, so a thread
    // that other work on the machine slows down simply takes fewer. Within a matrix both ends of a
    // run round up to its row groups (interleaved matrices have whole groups), so runs meet exactly.
    (void)threads;
    size_t first;
    while ((first = atomic_fetch_add(&t->next_claim, ROWS_PER_CLAIM)) < t->total_rows) {
        size_t last = first + ROWS_PER_CLAIM < t->total_rows ? first + ROWS_PER_CLAIM : t->total_rows;
        size_t base = 0;
        for (size_t m = 0; m < t->count && base < last; base += t->matrices[m].rows, m++) {
            const tern_matrix *mat = &t->matrices[m];
            size_t g = group_rows(mat->type);
            size_t lo = first > base ? first - base : 0, hi = last - base;
            if (lo > mat->rows) lo = mat->rows;
            if (hi > mat->rows) hi = mat->rows;
            lo = (lo + g - 1) / g * g;
            hi = (hi + g - 1) / g * g;
            if (lo < hi) rows_of_matrix(t, mat, lo, hi, xq, t->panels ? t->panels + (size_t)thread * 32 * t->k : 0);
        }
    }
}

void tern_matmul_many(tern_pool *pool, const float *x, size_t n, size_t k, const tern_matrix *matrices, size_t count,
                      void *activations) {
    matmul_task task = {0};
    task.x = x;
    task.n = n;
    task.k = k;
    task.count = count < TERN_MAX_MATRICES ? count : TERN_MAX_MATRICES;
    int any_quantized = 0, any_halves = 0, any_packed = 0, all_packed = 1, all_super_blocks = 1;
    for (size_t m = 0; m < task.count; m++) {
        task.matrices[m] = matrices[m];
        task.total_rows += matrices[m].rows;
        any_quantized |= is_quantized(matrices[m].type);
        any_halves |= is_sixteen_halves(matrices[m].type);
        any_packed |= tern_is_packed16(matrices[m].type);
        all_packed &= tern_is_packed16(matrices[m].type);
        if (is_quantized(matrices[m].type)) all_super_blocks &= has_super_blocks(matrices[m].type);
    }
    task.activation_group = all_super_blocks && k % TERN_QK_K == 0 ? TERN_QK_K : TERN_QK;
    task.blocks = k / TERN_QK;
    task.xq = activations;
    task.kernels = tern_kernels();
    task.per_thread_quantize = any_quantized && n <= FEW_TOKENS;
    int threads = tern_pool_threads(pool);
    task.xt = (float *)((char *)activations + quantized_bytes(k, n, threads));
    if (any_packed && n >= BF16_MIN_TOKENS && task.kernels == tern_kernels_avx512() && tern_amx_bf16_ready()) {
        task.xb = (uint16_t *)((char *)task.xt + transposed_bytes(k, n));
        task.panels = task.xb + (n + 31) / 32 * 32 * k;
        tern_pool_run(pool, bf16_part, &task);
    }
    if (any_halves && n > 1) tern_pool_run(pool, transpose_part, &task);
    // (Matrices on the BF16 path do not read the int8 activations.)
    if (any_quantized && !task.per_thread_quantize && !(task.xb && all_packed)) tern_pool_run(pool, quantize_part, &task);
    tern_pool_run(pool, matmul_part, &task);
}

void tern_matmul(tern_pool *pool, const float *x, size_t n, size_t k, int type, const void *w, size_t m,
                 float *y, void *activations) {
    tern_matrix matrix = {type, w, m, y};
    tern_matmul_many(pool, x, n, k, &matrix, 1, activations);
}
