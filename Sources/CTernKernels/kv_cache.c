// Writing one token's keys and values into the paged KV cache in its element type.
#include "CTernKernels.h"
#include <math.h>
#include <string.h>

/// Scale and int8 values of `count` floats: scale = absmax / 127, value = round(x / scale).
static float quantize_group(const float *x, size_t count, int8_t *q, size_t q_stride) {
    float amax = 0;
    for (size_t i = 0; i < count; i++) amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
    float scale = amax / 127, inverse = amax > 0 ? 127 / amax : 0;
    for (size_t i = 0; i < count; i++) q[i * q_stride] = (int8_t)lrintf(x[i] * inverse);
    return scale;
}

void tern_kv_store(const tern_kv_layer *c, size_t block, size_t slot, const float *key, const float *value) {
    size_t d = c->head_dim, bs = c->block_size, kv_dim = c->n_kv_heads * d;
    // Element e of the key row sits at (block * kv_dim + e) * bs + slot, of the value row at
    // (block * bs + slot) * kv_dim + e.
    size_t key_at = block * kv_dim * bs + slot, value_at = (block * bs + slot) * kv_dim;
    switch (c->type) {
    case TERN_KV_F32:
        for (size_t e = 0; e < kv_dim; e++) ((float *)c->keys)[key_at + e * bs] = key[e];
        memcpy((float *)c->values + value_at, value, kv_dim * sizeof(float));
        break;
    case TERN_KV_F16:
        for (size_t e = 0; e < kv_dim; e++) {
            ((uint16_t *)c->keys)[key_at + e * bs] = tern_f32_to_f16(key[e]);
            ((uint16_t *)c->values)[value_at + e] = tern_f32_to_f16(value[e]);
        }
        break;
    case TERN_KV_BF16:
        for (size_t e = 0; e < kv_dim; e++) {
            ((uint16_t *)c->keys)[key_at + e * bs] = tern_f32_to_bf16(key[e]);
            ((uint16_t *)c->values)[value_at + e] = tern_f32_to_bf16(value[e]);
        }
        break;
    case TERN_KV_Q8_0: {
        size_t groups = (d + TERN_KV_Q8_GROUP - 1) / TERN_KV_Q8_GROUP;
        for (size_t h = 0; h < c->n_kv_heads; h++)
            for (size_t g = 0; g < groups; g++) {
                size_t first = h * d + g * TERN_KV_Q8_GROUP;
                size_t count = d - g * TERN_KV_Q8_GROUP < TERN_KV_Q8_GROUP ? d - g * TERN_KV_Q8_GROUP : TERN_KV_Q8_GROUP;
                c->key_scales[((block * c->n_kv_heads + h) * groups + g) * bs + slot] =
                    quantize_group(key + first, count, (int8_t *)c->keys + key_at + first * bs, bs);
                c->value_scales[((block * bs + slot) * c->n_kv_heads + h) * groups + g] =
                    quantize_group(value + first, count, (int8_t *)c->values + value_at + first, 1);
            }
        break;
    }
    }
}
