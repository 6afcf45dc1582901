// Tern's compute kernels: every hot loop of a forward pass lives here, in plain C.
#ifndef CTERN_KERNELS_H
#define CTERN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Storage types of weight matrices, matching TernOps.WeightType's raw values.
enum tern_weight_type {
    TERN_WEIGHT_F32 = 0,
    TERN_WEIGHT_F16 = 1,
    TERN_WEIGHT_BF16 = 2,
};

float tern_f16_to_f32(uint16_t h);
float tern_bf16_to_f32(uint16_t h);

/// Converts `count` elements of a weight row of type `type` to f32.
void tern_convert_row(int type, const void *src, float *dst, size_t count);

/// y[n x m] = x[n x k] * W^T, W stored row-major [m x k] (PyTorch Linear layout).
/// Each weight row is read once for all n rows of x. `scratch` holds k floats.
void tern_matmul(const float *x, size_t n, size_t k, int type, const void *w, size_t m,
                 float *y, float *scratch);

/// y = x / rms(x) * weight, for `rows` rows of `dim` elements.
void tern_rmsnorm(const float *x, const float *weight, float *y, size_t rows, size_t dim, float eps);

/// Rotates pairs (i, i + head_dim/2) of each head by the angles whose cos/sin are given
/// (head_dim/2 values each), as Hugging Face's rotate_half does.
void tern_rope(float *vec, size_t heads, size_t head_dim, const float *cos_t, const float *sin_t);

/// gate = silu(gate) * up, elementwise.
void tern_silu_mul(float *gate, const float *up, size_t count);

/// In-place softmax over n values.
void tern_softmax(float *x, size_t n);

/// Causal attention of one token's query heads over a paged KV cache.
/// K and V blocks are [block_size][n_kv_heads][head_dim] floats; block `b` of the sequence
/// starts at cache + block_table[b] * block_size * n_kv_heads * head_dim.
/// Positions first_pos..last_pos (inclusive) are attended. `scores` holds last_pos+1 floats.
void tern_attention(const float *q, const float *k_cache, const float *v_cache,
                    const int32_t *block_table, size_t block_size,
                    size_t first_pos, size_t last_pos,
                    size_t n_heads, size_t n_kv_heads, size_t head_dim, float scale,
                    float *scores, float *out);

#endif
