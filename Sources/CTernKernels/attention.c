// Causal attention of a batch of sequence chunks over the paged KV cache, in one dispatch per
// layer. A work item is up to QUERY_TILE consecutive tokens of one sequence for one KV head: all
// of their query heads that share the KV head are scored against each key block together, so the
// block is read once for all of them, and an online softmax (a running maximum and sum per query
// row, the output rescaled when the maximum grows) keeps the work per block independent of the
// context length. Items are taken from a shared counter, latest tokens (the longest contexts) first.
#include "CTernKernels.h"
#include "tern_math.h"
#include <math.h>
#include <string.h>

#define LANES 16
#define QUERY_TILE 16

typedef struct {
    const float *q;
    const tern_kv_layer *cache;
    const tern_attention_sequence *sequences;
    size_t count, window, n_heads, items;
    float scale;
    const float *alibi_slopes;
    float *scratch;
    float *out;
    size_t next_item;
} attention_task;

/// The query rows of one work item and their running softmax state.
typedef struct {
    size_t rows, group, head_dim, first_pos, window, q_stride;
    float scale;
    const float *q;       // first token's first query head of the group
    const float *slopes;  // the group's ALiBi slopes, or NULL
    float *acc;           // [rows][head_dim] weighted value sums
    float *max, *sum;     // [rows]
} query_tile;

static inline float bf16_value(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// LANES consecutive cached positions as one vector of floats (compiler vector extensions: one
// AVX-512 register, two AVX2 or four NEON ones); a plain loop here would not stay in registers.
typedef float lanes_f __attribute__((vector_size(LANES * sizeof(float))));
typedef _Float16 lanes_h __attribute__((vector_size(LANES * sizeof(_Float16))));
typedef uint16_t lanes_u16 __attribute__((vector_size(LANES * sizeof(uint16_t))));
typedef uint32_t lanes_u32 __attribute__((vector_size(LANES * sizeof(uint32_t))));

static inline __attribute__((always_inline)) lanes_f lanes_of_f32(const float *p) {
    lanes_f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) lanes_f lanes_of_f16(const _Float16 *p) {
    lanes_h h;
    memcpy(&h, p, sizeof h);
    return __builtin_convertvector(h, lanes_f);
}

static inline __attribute__((always_inline)) lanes_f lanes_of_bf16(const uint16_t *p) {
    lanes_u16 h;
    memcpy(&h, p, sizeof h);
    lanes_u32 bits = __builtin_convertvector(h, lanes_u32) << 16;
    lanes_f v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

// Reductions over one vector of scores as halving element-wise steps, which vectorise (a running
// max or sum over the lanes would not, being one long dependency chain).
static inline __attribute__((always_inline)) float lanes_max(const float s[LANES]) {
    float m[LANES / 2];
    for (int j = 0; j < LANES / 2; j++) m[j] = fmaxf(s[j], s[j + LANES / 2]);
    for (int width = LANES / 4; width > 0; width /= 2)
        for (int j = 0; j < width; j++) m[j] = fmaxf(m[j], m[j + width]);
    return m[0];
}

static inline __attribute__((always_inline)) float lanes_sum(const float s[LANES]) {
    float m[LANES / 2];
    for (int j = 0; j < LANES / 2; j++) m[j] = s[j] + s[j + LANES / 2];
    for (int width = LANES / 4; width > 0; width /= 2)
        for (int j = 0; j < width; j++) m[j] += m[j + width];
    return m[0];
}

/// Scores one chunk of up to LANES cached positions (first_pos c0) for query rows [r0, r1) and folds
/// them into the rows' softmax state. k: the chunk's keys, dimension i at k[i * k_stride + j];
/// v: its values, position j at v[j * v_stride]. Positions a row may not see are masked, and the
/// values of masked positions are never read (a slot not written yet may hold anything).
#define DEFINE_CHUNK(NAME, TYPE, TO_FLOAT, LOAD_LANES)                                                       \
    static inline __attribute__((always_inline)) void NAME(const query_tile *t, const TYPE *k, size_t k_stride, \
                                                           const TYPE *v, size_t v_stride, size_t c0, size_t count,   \
                                                           size_t r0, size_t r1) {                                    \
        size_t d = t->head_dim;                                                                              \
        for (size_t r = r0; r < r1; r++) {                                                                   \
            size_t token = r / t->group, g = r % t->group, pos = t->first_pos + token;                       \
            size_t seen_from = t->window && pos + 1 > t->window ? pos + 1 - t->window : 0;                   \
            size_t lo = seen_from > c0 ? seen_from - c0 : 0;                                                 \
            size_t hi = pos + 1 > c0 ? pos + 1 - c0 : 0;                                                     \
            if (hi > count) hi = count;                                                                      \
            if (lo >= hi) continue;                                                                          \
            const float *q = t->q + token * t->q_stride + g * d;                                             \
            float s[LANES] = {0};                                                                            \
            if (count == LANES) {                                                                            \
                /* four sums over alternate dimensions, so the adds do not wait on each other */             \
                lanes_f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};                                              \
                size_t i = 0;                                                                                \
                for (; i + 4 <= d; i += 4) {                                                                 \
                    s0 += LOAD_LANES(k + i * k_stride) * q[i];                                               \
                    s1 += LOAD_LANES(k + (i + 1) * k_stride) * q[i + 1];                                     \
                    s2 += LOAD_LANES(k + (i + 2) * k_stride) * q[i + 2];                                     \
                    s3 += LOAD_LANES(k + (i + 3) * k_stride) * q[i + 3];                                     \
                }                                                                                            \
                for (; i < d; i++) s0 += LOAD_LANES(k + i * k_stride) * q[i];                                \
                lanes_f scores = (s0 + s1) + (s2 + s3);                                                      \
                memcpy(s, &scores, sizeof scores);                                                           \
            } else {                                                                                         \
                for (size_t i = 0; i < d; i++)                                                               \
                    for (size_t j = 0; j < count; j++) s[j] += TO_FLOAT(k[i * k_stride + j]) * q[i];         \
            }                                                                                                \
            float slope = t->slopes ? t->slopes[g] : 0;                                                      \
            for (size_t j = 0; j < LANES; j++) {                                                             \
                float x = s[j] * t->scale - slope * ((float)pos - (float)(c0 + j));                          \
                s[j] = j >= lo && j < hi ? x : -INFINITY;                                                    \
            }                                                                                                \
            float old_max = t->max[r], new_max = fmaxf(lanes_max(s), old_max);                               \
            for (size_t j = 0; j < LANES; j++) s[j] = tern_exp_nonpositive(s[j] - new_max);                 \
            float rescale = tern_exp_nonpositive(old_max - new_max), weights = lanes_sum(s);                 \
            t->max[r] = new_max;                                                                             \
            t->sum[r] = t->sum[r] * rescale + weights;                                                       \
            float *acc = t->acc + r * d;                                                                     \
            if (lo == 0 && hi == LANES) {                                                                    \
                size_t i = 0;                                                                                \
                for (; i + LANES <= d; i += LANES) {                                                         \
                    lanes_f a0 = lanes_of_f32(acc + i) * rescale, a1 = {0}, a2 = {0}, a3 = {0};              \
                    for (size_t j = 0; j < LANES; j += 4) {                                                  \
                        a0 += LOAD_LANES(v + j * v_stride + i) * s[j];                                       \
                        a1 += LOAD_LANES(v + (j + 1) * v_stride + i) * s[j + 1];                             \
                        a2 += LOAD_LANES(v + (j + 2) * v_stride + i) * s[j + 2];                             \
                        a3 += LOAD_LANES(v + (j + 3) * v_stride + i) * s[j + 3];                             \
                    }                                                                                        \
                    lanes_f sum = (a0 + a1) + (a2 + a3);                                                     \
                    memcpy(acc + i, &sum, sizeof sum);                                                       \
                }                                                                                            \
                for (; i < d; i++) {                                                                         \
                    float a = acc[i] * rescale;                                                              \
                    for (size_t j = 0; j < LANES; j++) a += s[j] * TO_FLOAT(v[j * v_stride + i]);            \
                    acc[i] = a;                                                                              \
                }                                                                                            \
            } else {                                                                                         \
                for (size_t i = 0; i < d; i++) acc[i] *= rescale;                                            \
                for (size_t j = lo; j < hi; j++) {                                                           \
                    const TYPE *row = v + j * v_stride;                                                      \
                    for (size_t i = 0; i < d; i++) acc[i] += s[j] * TO_FLOAT(row[i]);                        \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
    }

#define AS_FLOAT(x) (x)
#define F16_VALUE(x) ((float)(x))
DEFINE_CHUNK(chunk_f32, float, AS_FLOAT, lanes_of_f32)
DEFINE_CHUNK(chunk_f16, _Float16, F16_VALUE, lanes_of_f16)
DEFINE_CHUNK(chunk_bf16, uint16_t, bf16_value, lanes_of_bf16)

/// Four query rows [r0, r0 + 4) against a chunk of LANES positions every one of them sees, without
/// ALiBi: each key and value vector is loaded once for the four rows, and the sums run in eight
/// independent chains, so a long prompt's attention is bound by multiply-adds, not loads.
static inline __attribute__((always_inline)) void chunk_rows4_f32(const query_tile *t, size_t r0, const float *k, size_t k_stride,
                                                                   const float *v, size_t v_stride) {
    size_t d = t->head_dim;
    const float *q0 = t->q + (r0 / t->group) * t->q_stride + (r0 % t->group) * d;
    const float *q1 = t->q + ((r0 + 1) / t->group) * t->q_stride + ((r0 + 1) % t->group) * d;
    const float *q2 = t->q + ((r0 + 2) / t->group) * t->q_stride + ((r0 + 2) % t->group) * d;
    const float *q3 = t->q + ((r0 + 3) / t->group) * t->q_stride + ((r0 + 3) % t->group) * d;
    lanes_f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
    size_t i = 0;
    for (; i + 2 <= d; i += 2) {
        lanes_f k0 = lanes_of_f32(k + i * k_stride), k1 = lanes_of_f32(k + (i + 1) * k_stride);
        a0 += k0 * q0[i], a1 += k0 * q1[i], a2 += k0 * q2[i], a3 += k0 * q3[i];
        b0 += k1 * q0[i + 1], b1 += k1 * q1[i + 1], b2 += k1 * q2[i + 1], b3 += k1 * q3[i + 1];
    }
    if (i < d) {
        lanes_f k0 = lanes_of_f32(k + i * k_stride);
        a0 += k0 * q0[i], a1 += k0 * q1[i], a2 += k0 * q2[i], a3 += k0 * q3[i];
    }
    lanes_f scores[4] = {(a0 + b0) * t->scale, (a1 + b1) * t->scale, (a2 + b2) * t->scale, (a3 + b3) * t->scale};
    float s[4][LANES], rescale[4];
    for (int n = 0; n < 4; n++) {
        size_t r = r0 + (size_t)n;
        memcpy(s[n], &scores[n], sizeof scores[n]);
        float old_max = t->max[r], new_max = fmaxf(lanes_max(s[n]), old_max);
        for (size_t j = 0; j < LANES; j++) s[n][j] = tern_exp_nonpositive(s[n][j] - new_max);
        rescale[n] = tern_exp_nonpositive(old_max - new_max);
        t->max[r] = new_max;
        t->sum[r] = t->sum[r] * rescale[n] + lanes_sum(s[n]);
    }
    float *acc0 = t->acc + r0 * d, *acc1 = acc0 + d, *acc2 = acc1 + d, *acc3 = acc2 + d;
    size_t c = 0;
    for (; c + LANES <= d; c += LANES) {
        lanes_f x0 = lanes_of_f32(acc0 + c) * rescale[0], x1 = lanes_of_f32(acc1 + c) * rescale[1];
        lanes_f x2 = lanes_of_f32(acc2 + c) * rescale[2], x3 = lanes_of_f32(acc3 + c) * rescale[3];
        lanes_f y0 = {0}, y1 = {0}, y2 = {0}, y3 = {0};
        for (size_t j = 0; j < LANES; j += 2) {
            lanes_f v0 = lanes_of_f32(v + j * v_stride + c), v1 = lanes_of_f32(v + (j + 1) * v_stride + c);
            x0 += v0 * s[0][j], x1 += v0 * s[1][j], x2 += v0 * s[2][j], x3 += v0 * s[3][j];
            y0 += v1 * s[0][j + 1], y1 += v1 * s[1][j + 1], y2 += v1 * s[2][j + 1], y3 += v1 * s[3][j + 1];
        }
        x0 += y0, x1 += y1, x2 += y2, x3 += y3;
        memcpy(acc0 + c, &x0, sizeof x0);
        memcpy(acc1 + c, &x1, sizeof x1);
        memcpy(acc2 + c, &x2, sizeof x2);
        memcpy(acc3 + c, &x3, sizeof x3);
    }
    for (; c < d; c++) {
        float *rows[4] = {acc0, acc1, acc2, acc3};
        for (int n = 0; n < 4; n++) {
            float a = rows[n][c] * rescale[n];
            for (size_t j = 0; j < LANES; j++) a += s[n][j] * v[j * v_stride + c];
            rows[n][c] = a;
        }
    }
}

/// The first `slots` positions of a block of a f16, bf16 or q8_0 cache for one KV head as float
/// tiles: keys [head_dim][block_size], values [slots][head_dim]. Converted once per block, they
/// serve every query row of a work item.
static inline __attribute__((always_inline)) void block_to_floats(const tern_kv_layer *c, size_t block, size_t kv, size_t slots,
                                                                  float *keys, float *values) {
    size_t d = c->head_dim, bs = c->block_size, kv_dim = c->n_kv_heads * d;
    size_t key_at = (block * kv_dim + kv * d) * bs, value_at = block * bs * kv_dim + kv * d;
    switch (c->type) {
    case TERN_KV_F16:
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < slots; j++) keys[i * bs + j] = (float)((const _Float16 *)c->keys)[key_at + i * bs + j];
        for (size_t j = 0; j < slots; j++)
            for (size_t i = 0; i < d; i++) values[j * d + i] = (float)((const _Float16 *)c->values)[value_at + j * kv_dim + i];
        break;
    case TERN_KV_BF16:
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < slots; j++) keys[i * bs + j] = bf16_value(((const uint16_t *)c->keys)[key_at + i * bs + j]);
        for (size_t j = 0; j < slots; j++)
            for (size_t i = 0; i < d; i++) values[j * d + i] = bf16_value(((const uint16_t *)c->values)[value_at + j * kv_dim + i]);
        break;
    default: {  // q8_0
        size_t groups = (d + TERN_KV_Q8_GROUP - 1) / TERN_KV_Q8_GROUP;
        const float *ks = c->key_scales + (block * c->n_kv_heads + kv) * groups * bs;
        for (size_t i = 0; i < d; i++) {
            const float *scale = ks + (i / TERN_KV_Q8_GROUP) * bs;
            for (size_t j = 0; j < slots; j++) keys[i * bs + j] = (float)((const int8_t *)c->keys)[key_at + i * bs + j] * scale[j];
        }
        for (size_t j = 0; j < slots; j++) {
            const int8_t *v = (const int8_t *)c->values + value_at + j * kv_dim;
            const float *vs = c->value_scales + ((block * bs + j) * c->n_kv_heads + kv) * groups;
            for (size_t i = 0; i < d; i++) values[j * d + i] = (float)v[i] * vs[i / TERN_KV_Q8_GROUP];
        }
    }
    }
}

/// Floats of one thread's scratch: the tile's state and a dequantized key and value block.
static size_t thread_scratch_floats(size_t group, size_t head_dim, size_t block_size) {
    return QUERY_TILE * group * (head_dim + 2) + 2 * head_dim * block_size;
}

/// Tokens [first, first + tokens) of sequence `s` (batch rows from `row`) for KV head `kv`.
static inline __attribute__((always_inline)) void attend_tile(const attention_task *task, const tern_attention_sequence *s, size_t row,
                                                              size_t first, size_t tokens, size_t kv, float *scratch) {
    const tern_kv_layer *c = task->cache;
    size_t d = c->head_dim, bs = c->block_size, kv_dim = c->n_kv_heads * d, group = task->n_heads / c->n_kv_heads;
    size_t q_dim = task->n_heads * d, rows = tokens * group;
    query_tile t = {rows, group, d, s->start_pos + first, task->window, q_dim, task->scale,
                    task->q + (row + first) * q_dim + kv * group * d,
                    task->alibi_slopes ? task->alibi_slopes + kv * group : NULL,
                    scratch, scratch + rows * d, scratch + rows * (d + 1)};
    float *key_tile = scratch + QUERY_TILE * group * (d + 2), *value_tile = key_tile + d * bs;
    memset(t.acc, 0, rows * d * sizeof(float));
    memset(t.sum, 0, rows * sizeof(float));
    for (size_t r = 0; r < rows; r++) t.max[r] = -INFINITY;

    size_t last = t.first_pos + tokens - 1;
    size_t seen_from = task->window && t.first_pos + 1 > task->window ? t.first_pos + 1 - task->window : 0;
    for (size_t p0 = seen_from - seen_from % bs; p0 <= last; p0 += bs) {
        size_t block = (size_t)s->block_table[p0 / bs], slots = last + 1 - p0 < bs ? last + 1 - p0 : bs;
        size_t key_at = (block * kv_dim + kv * d) * bs, value_at = block * bs * kv_dim + kv * d;
        for (size_t c0 = 0; c0 < slots; c0 += LANES) {
            size_t count = slots - c0 < LANES ? slots - c0 : LANES;
            if (rows == 1 && c->type == TERN_KV_F16) {  // one query row: convert while reading
                chunk_f16(&t, (const _Float16 *)c->keys + key_at + c0, bs, (const _Float16 *)c->values + value_at + c0 * kv_dim, kv_dim, p0 + c0, count, 0, 1);
                continue;
            }
            if (rows == 1 && c->type == TERN_KV_BF16) {
                chunk_bf16(&t, (const uint16_t *)c->keys + key_at + c0, bs, (const uint16_t *)c->values + value_at + c0 * kv_dim, kv_dim, p0 + c0, count, 0, 1);
                continue;
            }
            const float *keys = key_tile + c0, *values = value_tile + c0 * d;
            size_t value_stride = d;
            if (c->type == TERN_KV_F32) {
                keys = (const float *)c->keys + key_at + c0;
                values = (const float *)c->values + value_at + c0 * kv_dim;
                value_stride = kv_dim;
            } else if (c0 == 0) {
                block_to_floats(c, block, kv, slots, key_tile, value_tile);
            }
            // Chunks every row of the tile sees whole (before its first token) go four rows at a time.
            size_t whole = count == LANES && !t.slopes && !task->window && p0 + c0 + LANES <= t.first_pos + 1 ? rows - rows % 4 : 0;
            for (size_t r = 0; r < whole; r += 4) chunk_rows4_f32(&t, r, keys, bs, values, value_stride);
            chunk_f32(&t, keys, bs, values, value_stride, p0 + c0, count, whole, rows);
        }
    }
    for (size_t r = 0; r < rows; r++) {
        float inverse = 1 / t.sum[r];
        float *out = task->out + (row + first + r / group) * q_dim + (kv * group + r % group) * d;
        for (size_t i = 0; i < d; i++) out[i] = t.acc[r * d + i] * inverse;
    }
}

TERN_VECTOR_CLONES
static void attention_part(void *context, int thread, int threads) {
    (void)threads;
    attention_task *task = context;
    size_t n_kv = task->cache->n_kv_heads, group = task->n_heads / n_kv;
    float *scratch = task->scratch + (size_t)thread * thread_scratch_floats(group, task->cache->head_dim, task->cache->block_size);
    for (size_t item; (item = __atomic_fetch_add(&task->next_item, 1, __ATOMIC_RELAXED)) < task->items;) {
        size_t row = 0, s = 0;
        for (;; row += task->sequences[s].tokens, s++) {
            size_t tiles = (task->sequences[s].tokens + QUERY_TILE - 1) / QUERY_TILE;
            if (item < tiles * n_kv) {
                size_t tile = tiles - 1 - item / n_kv, first = tile * QUERY_TILE;
                size_t tokens = task->sequences[s].tokens - first < QUERY_TILE ? task->sequences[s].tokens - first : QUERY_TILE;
                attend_tile(task, &task->sequences[s], row, first, tokens, item % n_kv, scratch);
                break;
            }
            item -= tiles * n_kv;
        }
    }
}

size_t tern_attention_scratch_floats(size_t n_heads, size_t n_kv_heads, size_t head_dim, size_t block_size, int threads) {
    return (size_t)threads * thread_scratch_floats(n_heads / n_kv_heads, head_dim, block_size);
}

void tern_attention(tern_pool *pool, const float *q, const tern_kv_layer *cache, const tern_attention_sequence *sequences,
                    size_t count, size_t window, size_t n_heads, float scale, const float *alibi_slopes, float *scratch, float *out) {
    attention_task task = {q, cache, sequences, count, window, n_heads, 0, scale, alibi_slopes, scratch, out, 0};
    for (size_t s = 0; s < count; s++) task.items += (sequences[s].tokens + QUERY_TILE - 1) / QUERY_TILE * cache->n_kv_heads;
    tern_pool_run(pool, attention_part, &task);
}
