// Measures the machine's multiply-add peak the way the matmul kernels use it: every thread runs
// independent chains of the widest int8 dot-product (AMX tiles where the kernels use them, else
// VNNI) or f32 FMA instruction it has on registers only, so the figure is the arithmetic
// ceiling, not memory. Benchmarks report their achieved multiply-adds as a share of it,
// measured in the same run.
#include "CTernKernels.h"
#include "packed16.h"
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define CHAINS 12
#define STEPS 4096

/// CHAINS independent accumulators, each stepped STEPS x rounds times by one instruction.
#define PEAK_KERNEL(NAME, TARGET, VECTOR, SET1, A, B, STEP, ADD, FIRST)               \
    __attribute__((target(TARGET))) static float NAME(int rounds) {                  \
        VECTOR acc[CHAINS];                                                            \
        const VECTOR a = A, b = B;                                                     \
        for (int c = 0; c < CHAINS; c++) acc[c] = SET1(c);                             \
        for (int r = 0; r < rounds; r++)                                               \
            for (int s = 0; s < STEPS; s++)                                            \
                for (int c = 0; c < CHAINS; c++) acc[c] = STEP(acc[c], a, b);          \
        VECTOR sum = acc[0];                                                           \
        for (int c = 1; c < CHAINS; c++) sum = ADD(sum, acc[c]);                       \
        return (float)FIRST(sum);                                                      \
    }

#define FIRST_EPI32(v) _mm256_extract_epi32(v, 0)
PEAK_KERNEL(int8_avx512, "avx512f,avx512vnni", __m512i, _mm512_set1_epi32, _mm512_set1_epi8(3), _mm512_set1_epi8(5),
            _mm512_dpbusd_epi32, _mm512_add_epi32, _mm512_reduce_add_epi32)
PEAK_KERNEL(int8_avxvnni, "avx2,avxvnni", __m256i, _mm256_set1_epi32, _mm256_set1_epi8(3), _mm256_set1_epi8(5),
            _mm256_dpbusd_avx_epi32, _mm256_add_epi32, FIRST_EPI32)
PEAK_KERNEL(f32_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_set1_ps(1.0001f), _mm512_set1_ps(0.9999f),
            _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps)
PEAK_KERNEL(f32_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_set1_ps(1.0001f), _mm256_set1_ps(0.9999f),
            _mm256_fmadd_ps, _mm256_add_ps, _mm256_cvtss_f32)
#endif

typedef struct {
    int int8;
    int rounds;
    /// Multiply-adds one round of one thread performs (0 where no vector path exists).
    double macs_per_round;
    volatile float sink[64];
} peak_task;

static void peak_part(void *context, int thread, int threads) {
    (void)threads;
    peak_task *t = context;
#if defined(__x86_64__)
    float result = 0;
    if (t->int8 && tern_amx_ready()) {
        tern_amx_spin((size_t)t->rounds * STEPS);
    } else if (t->int8) {
        if (__builtin_cpu_supports("avx512vnni")) result = int8_avx512(t->rounds);
        else if (__builtin_cpu_supports("avxvnni")) result = int8_avxvnni(t->rounds);
    } else {
        if (__builtin_cpu_supports("avx512f")) result = f32_avx512(t->rounds);
        else if (__builtin_cpu_supports("fma")) result = f32_avx2(t->rounds);
    }
    t->sink[thread % 64] = result;
#else
    (void)thread;
    (void)t;
#endif
}

static double macs_per_round(int int8) {
#if defined(__x86_64__)
    // 16 lanes x 4 int8 products per 512-bit VNNI instruction; 8 x 4 at 256 bits; 16 / 8 f32 FMAs.
    if (int8 && tern_amx_ready()) return 2.0 * 16 * 16 * TERN_QK * STEPS;  // per step of tern_amx_spin
    double lanes = 0;
    if (int8) lanes = __builtin_cpu_supports("avx512vnni") ? 64 : __builtin_cpu_supports("avxvnni") ? 32 : 0;
    else lanes = __builtin_cpu_supports("avx512f") ? 16 : __builtin_cpu_supports("fma") ? 8 : 0;
    return lanes * STEPS * CHAINS;
#else
    (void)int8;
    return 0;
#endif
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

double tern_measure_mac_peak(tern_pool *pool, int int8, int repeats) {
    peak_task task = {int8, 64, macs_per_round(int8), {0}};
    if (task.macs_per_round == 0) return 0;
    int threads = tern_pool_threads(pool);
    double best = 0;
    for (int r = 0; r < repeats; r++) {
        double start = now_seconds();
        tern_pool_run(pool, peak_part, &task);
        double rate = task.macs_per_round * task.rounds * threads / (now_seconds() - start);
        // Other tenants only ever slow a pass down, so the best pass is the machine's.
        if (rate > best) best = rate;
    }
    return best;
}
