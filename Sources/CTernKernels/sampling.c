// Drawing a token from softmax(scores / temperature) without building the distribution: two
// vectorised passes (maximum, then exponentials summed per chunk), then a walk inside one chunk.
#include "CTernKernels.h"
#include "tern_math.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 1024

#define LANES 16

// Both loops keep LANES independent partial results, so the compiler vectorises them without
// reordering a single floating-point sum.
TERN_VECTOR_CLONES
static float maximum(const float *x, size_t n) {
    float lanes[LANES];
    for (int j = 0; j < LANES; j++) lanes[j] = -INFINITY;
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) lanes[j] = x[i + j] > lanes[j] ? x[i + j] : lanes[j];
    float m = -INFINITY;
    for (int j = 0; j < LANES; j++) m = lanes[j] > m ? lanes[j] : m;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

TERN_VECTOR_CLONES
static double exp_sum(const float *x, size_t n, float shift, float scale) {
    float lanes[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) lanes[j] += tern_exp_nonpositive((x[i + j] - shift) * scale);
    double s = 0;
    for (int j = 0; j < LANES; j++) s += lanes[j];
    for (; i < n; i++) s += tern_exp_nonpositive((x[i] - shift) * scale);
    return s;
}

size_t tern_sample_softmax(const float *scores, size_t n, float temperature, double unit) {
    float best = maximum(scores, n), scale = 1.0f / temperature;
    if (!(best > -INFINITY)) return 0;
    size_t chunks = (n + CHUNK - 1) / CHUNK;
    double *sums = malloc(chunks * sizeof(double));
    double total = 0;
    for (size_t c = 0; c < chunks; c++) {
        size_t begin = c * CHUNK, count = n - begin < CHUNK ? n - begin : CHUNK;
        sums[c] = exp_sum(scores + begin, count, best, scale);
        total += sums[c];
    }
    double target = unit * total;
    size_t chosen = n;
    for (size_t c = 0; c < chunks && chosen == n; c++) {
        if (target >= sums[c] && c + 1 < chunks) { target -= sums[c]; continue; }
        size_t begin = c * CHUNK, end = begin + CHUNK < n ? begin + CHUNK : n;
        for (size_t i = begin; i < end; i++) {
            float p = tern_exp_nonpositive((scores[i] - best) * scale);
            if (p > 0) chosen = i;  // rounding can leave a little target past the last token: keep the last likely one
            target -= p;
            if (target < 0) break;
        }
    }
    free(sums);
    if (chosen == n) {  // only rounding in a vocabulary whose last chunk has no probability
        for (size_t i = 0; i < n; i++) if (scores[i] == best) return i;
    }
    return chosen;
}
