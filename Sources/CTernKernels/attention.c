// Causal attention of a chunk of one sequence's tokens over its paged KV cache, split over the
// pool by (token, head) pairs. Grouped-query heads share their K/V head.
#include "CTernKernels.h"
#include <string.h>

static const float *cache_row(const float *cache, const int32_t *block_table, size_t block_size,
                              size_t pos, size_t kv_dim) {
    size_t block = (size_t)block_table[pos / block_size];
    return cache + (block * block_size + pos % block_size) * kv_dim;
}

typedef struct {
    const float *q;
    const float *k_cache, *v_cache;
    const int32_t *block_table;
    size_t block_size, start_pos, tokens, window;
    size_t n_heads, n_kv_heads, head_dim;
    float scale;
    float *scores;        // [threads][start_pos + tokens]
    float *out;
    tern_dot_f_fn dot;
} attention_task;

static void attend_one(const attention_task *t, size_t token, size_t h, float *scores) {
    size_t kv_dim = t->n_kv_heads * t->head_dim, q_dim = t->n_heads * t->head_dim;
    size_t pos = t->start_pos + token;
    size_t first = t->window && pos + 1 > t->window ? pos + 1 - t->window : 0;
    size_t kv_offset = (h / (t->n_heads / t->n_kv_heads)) * t->head_dim;
    const float *qh = t->q + token * q_dim + h * t->head_dim;
    for (size_t p = first; p <= pos; p++) {
        const float *k = cache_row(t->k_cache, t->block_table, t->block_size, p, kv_dim) + kv_offset;
        scores[p - first] = t->dot(k, qh, t->head_dim) * t->scale;
    }
    tern_softmax(scores, pos - first + 1);
    float *oh = t->out + token * q_dim + h * t->head_dim;
    memset(oh, 0, t->head_dim * sizeof(float));
    for (size_t p = first; p <= pos; p++) {
        const float *v = cache_row(t->v_cache, t->block_table, t->block_size, p, kv_dim) + kv_offset;
        float weight = scores[p - first];
        for (size_t d = 0; d < t->head_dim; d++) oh[d] += weight * v[d];
    }
}

static void attention_part(void *context, int thread, int threads) {
    const attention_task *t = context;
    size_t pairs = t->tokens * t->n_heads;
    float *scores = t->scores + (size_t)thread * (t->start_pos + t->tokens);
    for (size_t i = pairs * thread / threads; i < pairs * (thread + 1) / threads; i++) {
        attend_one(t, i / t->n_heads, i % t->n_heads, scores);
    }
}

void tern_attention(tern_pool *pool, const float *q, const float *k_cache, const float *v_cache,
                    const int32_t *block_table, size_t block_size, size_t start_pos, size_t tokens, size_t window,
                    size_t n_heads, size_t n_kv_heads, size_t head_dim, float scale, float *scores, float *out) {
    attention_task task = {q, k_cache, v_cache, block_table, block_size, start_pos, tokens, window,
                           n_heads, n_kv_heads, head_dim, scale, scores, out, tern_kernels()->dot_f32};
    tern_pool_run(pool, attention_part, &task);
}
