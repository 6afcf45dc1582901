// Matrix products of f32 activations with weight matrices of every stored type, split over the
// pool: activations are quantized once (in parallel) for the quantized types, then each thread
// takes a band of weight rows and runs them against all tokens, a tile at a time.
#include "CTernKernels.h"

#define ROW_TILE 16
#define TOKEN_TILE 32

typedef struct {
    const float *x;
    size_t n, k, m;
    int type;
    const char *w;
    size_t row_bytes;
    float *y;
    tern_block_q8a *xq;
    const tern_kernel_table *kernels;
} matmul_task;

static int is_quantized(int type) {
    return type == TERN_WEIGHT_Q8_0 || type == TERN_WEIGHT_Q4_0 || type == TERN_WEIGHT_Q4_K;
}

size_t tern_matmul_scratch_bytes(size_t k, size_t n) {
    return n * (k / TERN_QK) * sizeof(tern_block_q8a);
}

static void quantize_part(void *context, int thread, int threads) {
    matmul_task *t = context;
    size_t blocks = t->k / TERN_QK;
    for (size_t i = t->n * thread / threads; i < t->n * (thread + 1) / threads; i++) {
        tern_quantize_row_q8a(t->x + i * t->k, t->xq + i * blocks, t->k);
    }
}

static void matmul_part(void *context, int thread, int threads) {
    matmul_task *t = context;
    size_t first = t->m * thread / threads, last = t->m * (thread + 1) / threads;
    size_t blocks = t->k / TERN_QK;
    tern_dot_q_fn dot_q = t->type == TERN_WEIGHT_Q8_0 ? t->kernels->dot_q8_0
        : t->type == TERN_WEIGHT_Q4_0 ? t->kernels->dot_q4_0 : t->kernels->dot_q4_k;
    tern_dot_f_fn dot_f = t->type == TERN_WEIGHT_F32 ? t->kernels->dot_f32
        : t->type == TERN_WEIGHT_F16 ? t->kernels->dot_f16 : t->kernels->dot_bf16;
    int quantized = is_quantized(t->type);
    for (size_t r0 = first; r0 < last; r0 += ROW_TILE) {
        size_t r1 = r0 + ROW_TILE < last ? r0 + ROW_TILE : last;
        for (size_t i0 = 0; i0 < t->n; i0 += TOKEN_TILE) {
            size_t i1 = i0 + TOKEN_TILE < t->n ? i0 + TOKEN_TILE : t->n;
            for (size_t r = r0; r < r1; r++) {
                const char *row = t->w + r * t->row_bytes;
                for (size_t i = i0; i < i1; i++) {
                    t->y[i * t->m + r] = quantized ? dot_q(row, t->xq + i * blocks, t->k) : dot_f(row, t->x + i * t->k, t->k);
                }
            }
        }
    }
}

void tern_matmul(tern_pool *pool, const float *x, size_t n, size_t k, int type, const void *w, size_t m,
                 float *y, void *activations) {
    matmul_task task = {x, n, k, m, type, w, tern_quant_row_bytes(type, k), y, activations, tern_kernels()};
    if (is_quantized(type)) tern_pool_run(pool, quantize_part, &task);
    tern_pool_run(pool, matmul_part, &task);
}
