// Drawing a token from softmax(scores / temperature) without building the distribution: each
// chunk of the vocabulary gets its maximum and its sum of exponentials relative to it (the chunks
// split over the pool's threads), the chunk sums are rescaled to the overall maximum, and the walk
// to the drawn token recomputes exponentials inside one chunk only.
#include "CTernKernels.h"
#include "tern_math.h"
#include <math.h>
#include <stdlib.h>

#define CHUNK 1024
#define LANES 16

typedef struct {
    const float *scores;
    size_t n, chunks;
    float scale;        // 1 / temperature
    float *maxima;      // per chunk
    double *sums;       // per chunk, relative to the chunk's maximum
} sample_task;

// Both loops keep LANES independent partial results, so the compiler vectorises them without
// reordering a single floating-point sum.
TERN_VECTOR_CLONES
static void chunk_part(void *context, int thread, int threads) {
    sample_task *t = context;
    for (size_t c = t->chunks * thread / threads; c < t->chunks * (thread + 1) / threads; c++) {
        const float *x = t->scores + c * CHUNK;
        size_t n = t->n - c * CHUNK < CHUNK ? t->n - c * CHUNK : CHUNK, i = 0;
        float top[LANES];
        for (int j = 0; j < LANES; j++) top[j] = -INFINITY;
        for (; i + LANES <= n; i += LANES)
            for (int j = 0; j < LANES; j++) top[j] = x[i + j] > top[j] ? x[i + j] : top[j];
        float m = -INFINITY;
        for (int j = 0; j < LANES; j++) m = top[j] > m ? top[j] : m;
        for (; i < n; i++) m = x[i] > m ? x[i] : m;
        float lanes[LANES] = {0};
        for (i = 0; i + LANES <= n; i += LANES)
            for (int j = 0; j < LANES; j++) lanes[j] += tern_exp_nonpositive((x[i + j] - m) * t->scale);
        double s = 0;
        for (int j = 0; j < LANES; j++) s += lanes[j];
        for (; i < n; i++) s += tern_exp_nonpositive((x[i] - m) * t->scale);
        t->maxima[c] = m;
        t->sums[c] = m > -INFINITY ? s : 0;
    }
}

size_t tern_sample_softmax(tern_pool *pool, const float *scores, size_t n, float temperature, double unit) {
    size_t chunks = (n + CHUNK - 1) / CHUNK;
    sample_task task = {scores, n, chunks, 1.0f / temperature, malloc(chunks * sizeof(float)), malloc(chunks * sizeof(double))};
    if (pool && chunks > 1) tern_pool_run(pool, chunk_part, &task);
    else chunk_part(&task, 0, 1);
    float best = -INFINITY;
    for (size_t c = 0; c < chunks; c++) best = task.maxima[c] > best ? task.maxima[c] : best;
    size_t chosen = n;
    if (best > -INFINITY) {
        double total = 0;
        for (size_t c = 0; c < chunks; c++) {
            task.sums[c] *= tern_exp_nonpositive((task.maxima[c] - best) * task.scale);
            total += task.sums[c];
        }
        double target = unit * total;
        for (size_t c = 0; c < chunks && chosen == n; c++) {
            if (target >= task.sums[c] && c + 1 < chunks) { target -= task.sums[c]; continue; }
            size_t end = (c + 1) * CHUNK < n ? (c + 1) * CHUNK : n;
            for (size_t i = c * CHUNK; i < end; i++) {
                float p = tern_exp_nonpositive((scores[i] - best) * task.scale);
                if (p > 0) chosen = i;  // rounding can leave a little target past the last token: keep the last likely one
                target -= p;
                if (target < 0) break;
            }
        }
        if (chosen == n) {  // only rounding in a vocabulary whose last chunk has no probability
            for (size_t i = 0; i < n; i++) if (scores[i] == best) { chosen = i; break; }
        }
    }
    free(task.maxima);
    free(task.sums);
    return chosen == n ? 0 : chosen;
}
