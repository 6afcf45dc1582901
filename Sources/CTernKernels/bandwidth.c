// Measures the machine's memory read bandwidth the way a decode step reads weights: every
// thread streams its share of a buffer much larger than the caches.
#include "CTernKernels.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2"))) static float read_sum_avx2(const float *x, size_t count) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    for (size_t i = 0; i + 32 <= count; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_load_ps(x + i));
        s1 = _mm256_add_ps(s1, _mm256_load_ps(x + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_load_ps(x + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_load_ps(x + i + 24));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#endif

static float read_sum(const float *x, size_t count) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) return read_sum_avx2(x, count);
#endif
    float s[8] = {0};
    for (size_t i = 0; i + 8 <= count; i += 8) for (int j = 0; j < 8; j++) s[j] += x[i + j];
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

typedef struct {
    const float *data;
    size_t count;
    volatile float sink[64];
} read_task;

static void read_part(void *context, int thread, int threads) {
    read_task *t = context;
    size_t chunk = t->count / (size_t)threads / 32 * 32;
    t->sink[thread % 64] = read_sum(t->data + chunk * (size_t)thread, chunk);
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tern_measure_read_bandwidth(tern_pool *pool, size_t bytes, int repeats) {
    size_t huge = 2u << 20;
    bytes = (bytes + huge - 1) / huge * huge;
    float *data = aligned_alloc(huge, bytes);
    if (!data) return 0;
#if defined(__linux__)
    madvise(data, bytes, MADV_HUGEPAGE);  // as the weight buffers do
#endif
    memset(data, 1, bytes);  // touch every page so the timing reads memory, not page faults
    read_task task = {data, bytes / sizeof(float), {0}};
    double rates[64];
    if (repeats > 64) repeats = 64;
    for (int r = 0; r < repeats; r++) {
        double start = seconds();
        tern_pool_run(pool, read_part, &task);
        rates[r] = (double)bytes / (seconds() - start) / 1e9;
    }
    free(data);
    qsort(rates, (size_t)repeats, sizeof(double), compare_doubles);
    // Other tenants of a shared machine only ever lower a pass's rate, so the best pass is the machine's.
    return rates[repeats - 1];
}
