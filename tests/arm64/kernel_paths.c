// The arm64 kernels against the scalar reference and an f32 product, for every stored weight
// type, 1 to 40 tokens, 1 and 2 threads; attention over every KV cache type against a plain softmax. Built for aarch64 and run under qemu by run.sh (the
// Swift tests cover the x86 paths on this machine; this covers the NEON one).
#include "CTernKernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 7;

static float uniform(void) {  // in [-1, 1]
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((state >> 11) % 2000001) / 1000000.0f - 1.0f;
}

/// A [rows x columns] matrix of `type`: quantized from random floats, or random blocks with a small
/// f16 scale first for the types Tern has no quantizer for.
static void *matrix(int type, size_t rows, size_t columns, tern_pool *pool) {
    size_t bytes = rows * tern_quant_row_bytes(type, columns);
    uint8_t *out = malloc(bytes);
    if (type == TERN_WEIGHT_IQ4_NL || type == TERN_WEIGHT_IQ4_XS || type == TERN_WEIGHT_Q8_0M) {
        size_t block = tern_quant_row_bytes(type, tern_unpacked_block_weights(type));
        for (size_t i = 0; i < bytes; i++) out[i] = (uint8_t)(uniform() * 127 + 128);
        for (size_t b = 0; b < bytes / block; b++) {
            uint16_t d = tern_f32_to_f16(fabsf(uniform()) / 20 + 0.001f);
            memcpy(out + b * block, &d, 2);
            if (type == TERN_WEIGHT_Q8_0M) {
                uint16_t m = tern_f32_to_f16(uniform() / 5);
                memcpy(out + b * block + 2, &m, 2);
            }
        }
        return out;
    }
    float *values = malloc(rows * columns * sizeof(float));
    for (size_t i = 0; i < rows * columns; i++) values[i] = uniform();
    if (type == TERN_WEIGHT_F32) memcpy(out, values, bytes);
    else if (type == TERN_WEIGHT_F16 || type == TERN_WEIGHT_BF16)
        for (size_t i = 0; i < rows * columns; i++) {
            uint32_t bits;
            memcpy(&bits, &values[i], 4);
            uint16_t h = type == TERN_WEIGHT_F16 ? tern_f32_to_f16(values[i]) : (uint16_t)(bits >> 16);
            memcpy(out + 2 * i, &h, 2);
        }
    else tern_quantize_matrix(pool, TERN_WEIGHT_F32, values, type, out, rows, columns);
    free(values);
    return out;
}

static void product(const char *path, int type, const void *w, size_t rows, size_t columns, const float *x, size_t tokens, int threads,
                    float *y) {
    if (tern_set_kernel_path(path) != 0) {
        fprintf(stderr, "kernel path %s is not available\n", path);
        exit(2);
    }
    tern_pool *pool = tern_pool_create(threads);
    void *scratch = malloc(tern_matmul_scratch_bytes(columns, tokens, threads));
    tern_matmul(pool, x, tokens, columns, type, w, rows, y, scratch);
    free(scratch);
    tern_pool_destroy(pool);
}

/// Attention over a cache of `type` (a 37-token prompt over three query tiles, 6 query heads on 2
/// KV heads of 40 dimensions, blocks of 16 in reverse order) against softmax(q.k)v in doubles.
static int attention_agrees(int type, const char *name, double tolerance, tern_pool *pool) {
    enum { heads = 6, kv_heads = 2, d = 40, tokens = 37, bs = 16, blocks = 3 };
    size_t elements = blocks * bs * kv_heads * d, groups = (d + TERN_KV_Q8_GROUP - 1) / TERN_KV_Q8_GROUP;
    size_t element_bytes = type == TERN_KV_F32 ? 4 : type == TERN_KV_Q8_0 ? 1 : 2;
    tern_kv_layer cache = {type, bs, kv_heads, d, calloc(elements, element_bytes), calloc(elements, element_bytes),
                           calloc(blocks * bs * kv_heads * groups, 4), calloc(blocks * bs * kv_heads * groups, 4)};
    static float k[tokens][kv_heads * d], v[tokens][kv_heads * d], q[tokens][heads * d], out[tokens][heads * d];
    int32_t table[blocks] = {2, 1, 0};
    for (size_t t = 0; t < tokens; t++) {
        for (size_t i = 0; i < kv_heads * d; i++) k[t][i] = uniform(), v[t][i] = uniform();
        for (size_t i = 0; i < heads * d; i++) q[t][i] = uniform();
        tern_kv_store(&cache, (size_t)table[t / bs], t % bs, k[t], v[t]);
    }
    tern_attention_sequence sequence = {table, 0, tokens};
    float *scratch = malloc(tern_attention_scratch_floats(heads, kv_heads, d, bs, tern_pool_threads(pool)) * sizeof(float));
    float scale = 1 / sqrtf(d);
    tern_attention(pool, &q[0][0], &cache, &sequence, 1, 0, heads, scale, NULL, scratch, &out[0][0]);
    double worst = 0;
    for (size_t t = 0; t < tokens; t++)
        for (size_t h = 0; h < heads; h++) {
            size_t kv = h / (heads / kv_heads);
            double scores[tokens], top = -INFINITY, total = 0;
            for (size_t p = 0; p <= t; p++) {
                double s = 0;
                for (size_t i = 0; i < d; i++) s += (double)q[t][h * d + i] * k[p][kv * d + i];
                scores[p] = s * scale, top = fmax(top, scores[p]);
            }
            for (size_t p = 0; p <= t; p++) total += (scores[p] = exp(scores[p] - top));
            for (size_t i = 0; i < d; i++) {
                double expected = 0;
                for (size_t p = 0; p <= t; p++) expected += scores[p] * v[p][kv * d + i] / total;
                double error = fabs(out[t][h * d + i] - expected);
                worst = isnan(error) ? INFINITY : fmax(worst, error);
            }
        }
    free(cache.keys), free(cache.values), free(cache.key_scales), free(cache.value_scales), free(scratch);
    if (worst > tolerance) {
        printf("FAIL attention over a %s cache differs from softmax(q.k)v by %g\n", name, worst);
        return 1;
    }
    printf("%-7s attention cache agrees with softmax(q.k)v (max error %.2g)\n", name, worst);
    return 0;
}

int main(void) {
    static const struct { int type; const char *name; size_t columns; } cases[] = {
        {TERN_WEIGHT_F32, "F32", 96}, {TERN_WEIGHT_F16, "F16", 96}, {TERN_WEIGHT_BF16, "BF16", 96},
        {TERN_WEIGHT_Q8_0, "Q8_0", 96}, {TERN_WEIGHT_Q4_0, "Q4_0", 96}, {TERN_WEIGHT_Q4_1, "Q4_1", 96},
        {TERN_WEIGHT_Q5_0, "Q5_0", 96}, {TERN_WEIGHT_Q5_1, "Q5_1", 96}, {TERN_WEIGHT_IQ4_NL, "IQ4_NL", 96},
        {TERN_WEIGHT_Q8_0M, "Q8_0M", 96}, {TERN_WEIGHT_Q2_K, "Q2_K", 512}, {TERN_WEIGHT_Q3_K, "Q3_K", 512},
        {TERN_WEIGHT_Q4_K, "Q4_K", 512}, {TERN_WEIGHT_Q5_K, "Q5_K", 512}, {TERN_WEIGHT_Q6_K, "Q6_K", 512},
        {TERN_WEIGHT_IQ4_XS, "IQ4_XS", 512},
    };
    static const size_t token_counts[] = {1, 3, 19, 40};
    const size_t rows = 20;
    int failures = 0;
    tern_pool *pool = tern_pool_create(1);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t columns = cases[c].columns;
        void *w = matrix(cases[c].type, rows, columns, pool);
        float *dense = malloc(rows * columns * sizeof(float));
        for (size_t r = 0; r < rows; r++) tern_matrix_row(cases[c].type, w, r, columns, dense + r * columns);
        for (size_t n = 0; n < sizeof token_counts / sizeof token_counts[0]; n++) {
            size_t tokens = token_counts[n];
            float *x = malloc(tokens * columns * sizeof(float)), *reference = malloc(tokens * rows * sizeof(float));
            float *exact = malloc(tokens * rows * sizeof(float)), *y = malloc(tokens * rows * sizeof(float));
            for (size_t i = 0; i < tokens * columns; i++) x[i] = uniform();
            for (size_t t = 0; t < tokens; t++)
                for (size_t r = 0; r < rows; r++) {
                    double s = 0;
                    for (size_t i = 0; i < columns; i++) s += (double)dense[r * columns + i] * x[t * columns + i];
                    exact[t * rows + r] = (float)s;
                }
            product("scalar", cases[c].type, w, rows, columns, x, tokens, 1, reference);
            double error = 0, norm = 0, worst = 0, largest = 1;
            for (size_t i = 0; i < tokens * rows; i++) {
                error += (reference[i] - exact[i]) * (reference[i] - exact[i]);
                norm += exact[i] * exact[i];
                largest = fmax(largest, fabs(reference[i]));
            }
            // The scalar reference against the dequantized weights: the 8-bit activations' error only.
            if (sqrt(error / norm) > 0.02) {
                printf("FAIL %s tokens %zu: scalar reference off the f32 product by %.4f\n", cases[c].name, tokens, sqrt(error / norm));
                failures++;
            }
            for (int threads = 1; threads <= 2; threads++) {
                product("neon", cases[c].type, w, rows, columns, x, tokens, threads, y);
                for (size_t i = 0; i < tokens * rows; i++) worst = fmax(worst, fabs(y[i] - reference[i]));
            }
            if (worst > 1e-4 * largest) {
                printf("FAIL %s tokens %zu: neon differs from scalar by %g\n", cases[c].name, tokens, worst);
                failures++;
            }
            free(x), free(reference), free(exact), free(y);
        }
        printf("%-7s neon agrees with scalar and the f32 product (1-40 tokens, 1-2 threads)\n", cases[c].name);
        free(w), free(dense);
    }
    static const struct { int type; const char *name; double tolerance; } kv_types[] = {
        {TERN_KV_F32, "f32", 1e-5}, {TERN_KV_F16, "f16", 2e-3}, {TERN_KV_BF16, "bf16", 1.5e-2}, {TERN_KV_Q8_0, "q8_0", 1.5e-2}};
    for (size_t c = 0; c < sizeof kv_types / sizeof kv_types[0]; c++)
        failures += attention_agrees(kv_types[c].type, kv_types[c].name, kv_types[c].tolerance, pool);
    tern_pool_destroy(pool);
    printf(failures ? "%d failures\n" : "all kernel paths agree\n", failures);
    return failures != 0;
}
