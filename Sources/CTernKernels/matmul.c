// Matrix products of f32 activations with weight matrices of any stored type.
#include "CTernKernels.h"

static size_t weight_row_bytes(int type, size_t k) {
    return type == TERN_WEIGHT_F32 ? k * 4 : k * 2;
}

static float dot(const float *a, const float *b, size_t k) {
    // Four partial sums shorten the dependency chain without changing the result much.
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= k; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < k; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

void tern_matmul(const float *x, size_t n, size_t k, int type, const void *w, size_t m,
                 float *y, float *scratch) {
    const char *row = (const char *)w;
    size_t stride = weight_row_bytes(type, k);
    for (size_t j = 0; j < m; j++, row += stride) {
        const float *wr;
        if (type == TERN_WEIGHT_F32) {
            wr = (const float *)row;
        } else {
            tern_convert_row(type, row, scratch, k);
            wr = scratch;
        }
        for (size_t i = 0; i < n; i++) y[i * m + j] = dot(x + i * k, wr, k);
    }
}
