// Causal attention of a batch of sequence chunks over the paged KV cache, in one dispatch per
// layer. Work items are (token, KV head): the query heads that share a KV head are scored
// together, so each cached key and value row is read once for all of them.
#include "CTernKernels.h"
#include "tern_math.h"
#include <math.h>
#include <string.h>

#define LANES 16

typedef struct {
    const float *q;
    const float *k_cache, *v_cache;
    const tern_attention_sequence *sequences;
    size_t count, total_tokens, block_size, window;
    size_t n_heads, n_kv_heads, head_dim, max_context;
    float scale;
    const float *alibi_slopes;
    float *scores;        // [threads][heads per KV head][max_context]
    float *out;
} attention_task;

/// A value row: value blocks are [slot][kv head][dimension].
static const float *value_row(const float *cache, const int32_t *block_table, size_t block_size, size_t pos, size_t kv_dim) {
    size_t block = (size_t)block_table[pos / block_size];
    return cache + (block * block_size + pos % block_size) * kv_dim;
}

static inline __attribute__((always_inline)) void softmax(float *x, size_t n) {
    float max = -INFINITY;
    for (size_t i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    float lanes[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) lanes[j] += (x[i + j] = tern_exp_nonpositive(x[i + j] - max));
    double sum = 0;
    for (int j = 0; j < LANES; j++) sum += lanes[j];
    for (; i < n; i++) sum += (x[i] = tern_exp_nonpositive(x[i] - max));
    float inv = (float)(1.0 / sum);
    for (size_t k = 0; k < n; k++) x[k] *= inv;
}

/// Token `token` of sequence `s` (batch row `row`) for the query heads of KV head `kv`.
static inline __attribute__((always_inline)) void attend(const attention_task *t, const tern_attention_sequence *s, size_t token, size_t row, size_t kv, float *scores) {
    size_t kv_dim = t->n_kv_heads * t->head_dim, q_dim = t->n_heads * t->head_dim, d = t->head_dim;
    size_t group = t->n_heads / t->n_kv_heads;
    size_t pos = s->start_pos + token;
    size_t first = t->window && pos + 1 > t->window ? pos + 1 - t->window : 0, n = pos + 1 - first;
    const float *q = t->q + row * q_dim + kv * group * d;
    float *out = t->out + row * q_dim + kv * group * d;
    // Keys are stored transposed per block ([kv head][dimension][slot]), so the scores of up to
    // LANES consecutive positions build up in one vector, with no horizontal sums.
    size_t bs = t->block_size;
    for (size_t p0 = first - first % bs; p0 <= pos; p0 += bs) {
        const float *keys = t->k_cache + ((size_t)s->block_table[p0 / bs] * t->n_kv_heads + kv) * d * bs;
        size_t lo = p0 < first ? first - p0 : 0, hi = pos + 1 - p0 < bs ? pos + 1 - p0 : bs;
        for (size_t s0 = lo; s0 < hi; s0 += LANES) {
            size_t count = hi - s0 < LANES ? hi - s0 : LANES;
            for (size_t g = 0; g < group; g++) {
                const float *qg = q + g * d;
                float slope = t->alibi_slopes ? t->alibi_slopes[kv * group + g] : 0;
                float lanes[LANES] = {0};
                if (count == LANES) {
                    for (size_t i = 0; i < d; i++)
                        for (size_t j = 0; j < LANES; j++) lanes[j] += keys[i * bs + s0 + j] * qg[i];
                } else {
                    for (size_t i = 0; i < d; i++)
                        for (size_t j = 0; j < count; j++) lanes[j] += keys[i * bs + s0 + j] * qg[i];
                }
                // ALiBi: a bias linear in the key's distance behind the query (zero without it).
                for (size_t j = 0; j < count; j++)
                    scores[g * t->max_context + p0 + s0 + j - first] = lanes[j] * t->scale - slope * (float)(pos - (p0 + s0 + j));
            }
        }
    }
    for (size_t g = 0; g < group; g++) softmax(scores + g * t->max_context, n);
    memset(out, 0, group * d * sizeof(float));
    for (size_t p = first; p <= pos; p++) {
        const float *v = value_row(t->v_cache, s->block_table, t->block_size, p, kv_dim) + kv * d;
        for (size_t g = 0; g < group; g++) {
            float w = scores[g * t->max_context + p - first];
            float *o = out + g * d;
            for (size_t i = 0; i < d; i++) o[i] += w * v[i];
        }
    }
}

TERN_VECTOR_CLONES
static void attention_part(void *context, int thread, int threads) {
    const attention_task *t = context;
    size_t items = t->total_tokens * t->n_kv_heads;
    size_t first = items * thread / threads, last = items * (thread + 1) / threads;
    float *scores = t->scores + (size_t)thread * (t->n_heads / t->n_kv_heads) * t->max_context;
    size_t row = 0;
    for (size_t s = 0; s < t->count; row += t->sequences[s].tokens, s++) {
        const tern_attention_sequence *seq = &t->sequences[s];
        size_t begin = row * t->n_kv_heads, end = (row + seq->tokens) * t->n_kv_heads;
        size_t lo = first > begin ? first : begin, hi = last < end ? last : end;
        for (size_t i = lo; i < hi; i++) {
            size_t token = i / t->n_kv_heads - row;
            attend(t, seq, token, row + token, i % t->n_kv_heads, scores);
        }
    }
}

size_t tern_attention_scratch_floats(size_t n_heads, size_t n_kv_heads, size_t max_context, int threads) {
    return (size_t)threads * (n_heads / n_kv_heads) * max_context;
}

void tern_attention(tern_pool *pool, const float *q, const float *k_cache, const float *v_cache,
                    const tern_attention_sequence *sequences, size_t count, size_t block_size, size_t window,
                    size_t n_heads, size_t n_kv_heads, size_t head_dim, float scale, const float *alibi_slopes, float *scores, float *out) {
    attention_task task = {q, k_cache, v_cache, sequences, count, 0, block_size, window, n_heads, n_kv_heads, head_dim, 0, scale,
                           alibi_slopes, scores, out};
    for (size_t s = 0; s < count; s++) {
        task.total_tokens += sequences[s].tokens;
        size_t context = sequences[s].start_pos + sequences[s].tokens;
        if (context > task.max_context) task.max_context = context;
    }
    tern_pool_run(pool, attention_part, &task);
}
