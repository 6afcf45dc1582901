// Normalisation, rotary embedding and activation kernels.
#include "CTernKernels.h"
#include "tern_math.h"
#include <math.h>

void tern_rmsnorm(const float *x, const float *weight, float *y, size_t rows, size_t dim, float eps) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * dim;
        float *yr = y + r * dim;
        double sum = 0;
        for (size_t i = 0; i < dim; i++) sum += (double)xr[i] * xr[i];
        float inv = 1.0f / sqrtf((float)(sum / (double)dim) + eps);
        for (size_t i = 0; i < dim; i++) yr[i] = xr[i] * inv * weight[i];
    }
}

void tern_rope(float *vec, size_t heads, size_t head_dim, const float *cos_t, const float *sin_t) {
    size_t half = head_dim / 2;
    for (size_t h = 0; h < heads; h++) {
        float *v = vec + h * head_dim;
        for (size_t i = 0; i < half; i++) {
            float a = v[i], b = v[i + half];
            v[i] = a * cos_t[i] - b * sin_t[i];
            v[i + half] = b * cos_t[i] + a * sin_t[i];
        }
    }
}

/// silu(g) = g / (1 + e^-g), written with e = exp(-|g|) <= 1 so one vectorised exponential serves
/// both signs: g / (1 + e) for g >= 0, g * e / (1 + e) below.
TERN_VECTOR_CLONES
void tern_silu_mul(float *gate, const float *up, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float g = gate[i], e = tern_exp_nonpositive(g < 0 ? g : -g);
        gate[i] = (g < 0 ? g * e : g) / (1.0f + e) * up[i];
    }
}

