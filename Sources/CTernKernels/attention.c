// Attention of one token over its sequence's paged KV cache (grouped-query heads share K/V).
#include "CTernKernels.h"
#include <string.h>

static const float *cache_row(const float *cache, const int32_t *block_table, size_t block_size,
                              size_t pos, size_t kv_dim) {
    size_t block = (size_t)block_table[pos / block_size];
    return cache + (block * block_size + pos % block_size) * kv_dim;
}

void tern_attention(const float *q, const float *k_cache, const float *v_cache,
                    const int32_t *block_table, size_t block_size,
                    size_t first_pos, size_t last_pos,
                    size_t n_heads, size_t n_kv_heads, size_t head_dim, float scale,
                    float *scores, float *out) {
    size_t kv_dim = n_kv_heads * head_dim;
    size_t group = n_heads / n_kv_heads;
    size_t count = last_pos - first_pos + 1;
    for (size_t h = 0; h < n_heads; h++) {
        const float *qh = q + h * head_dim;
        size_t kv_offset = (h / group) * head_dim;
        for (size_t p = first_pos; p <= last_pos; p++) {
            const float *k = cache_row(k_cache, block_table, block_size, p, kv_dim) + kv_offset;
            float s = 0;
            for (size_t d = 0; d < head_dim; d++) s += qh[d] * k[d];
            scores[p - first_pos] = s * scale;
        }
        tern_softmax(scores, count);
        float *oh = out + h * head_dim;
        memset(oh, 0, head_dim * sizeof(float));
        for (size_t p = first_pos; p <= last_pos; p++) {
            const float *v = cache_row(v_cache, block_table, block_size, p, kv_dim) + kv_offset;
            float weight = scores[p - first_pos];
            for (size_t d = 0; d < head_dim; d++) oh[d] += weight * v[d];
        }
    }
}
