// Normalisation, rotary embedding and activation kernels.
#include "CTernKernels.h"
#include "tern_math.h"
#include <math.h>

typedef struct {
    const float *x, *weight;
    float *y;
    size_t rows, dim;
    float eps;
} rmsnorm_task;

static void rmsnorm_part(void *context, int thread, int threads) {
    const rmsnorm_task *t = context;
    for (size_t r = t->rows * thread / threads; r < t->rows * (thread + 1) / threads; r++) {
        const float *xr = t->x + r * t->dim;
        float *yr = t->y + r * t->dim;
        double sum = 0;
        for (size_t i = 0; i < t->dim; i++) sum += (double)xr[i] * xr[i];
        float inv = 1.0f / sqrtf((float)(sum / (double)t->dim) + t->eps);
        for (size_t i = 0; i < t->dim; i++) yr[i] = xr[i] * inv * t->weight[i];
    }
}

void tern_rmsnorm(tern_pool *pool, const float *x, const float *weight, float *y, size_t rows, size_t dim, float eps) {
    rmsnorm_task task = {x, weight, y, rows, dim, eps};
    // One row is too little work to be worth waking the other threads for.
    if (rows > 1) tern_pool_run(pool, rmsnorm_part, &task);
    else rmsnorm_part(&task, 0, 1);
}

void tern_rope(float *vec, size_t heads, size_t head_dim, size_t rotary_dims, const float *cos_t, const float *sin_t) {
    size_t half = rotary_dims / 2;
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
static void silu_mul_range(float *gate, const float *up, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float g = gate[i], e = tern_exp_nonpositive(g < 0 ? g : -g);
        gate[i] = (g < 0 ? g * e : g) / (1.0f + e) * up[i];
    }
}

typedef struct {
    float *gate;
    const float *up;
    size_t count;
} silu_task;

static void silu_part(void *context, int thread, int threads) {
    const silu_task *t = context;
    // Shares in whole cache lines of floats.
    size_t lines = (t->count + 15) / 16, first = lines * thread / threads * 16, last = lines * (thread + 1) / threads * 16;
    if (last > t->count) last = t->count;
    if (first < last) silu_mul_range(t->gate + first, t->up + first, last - first);
}

void tern_silu_mul(tern_pool *pool, float *gate, const float *up, size_t count) {
    silu_task task = {gate, up, count};
    // A decode step's few thousand values take less time than waking the other threads.
    if (count >= 16384) tern_pool_run(pool, silu_part, &task);
    else silu_part(&task, 0, 1);
}

