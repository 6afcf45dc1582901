// The sixteen-row kernel alone, one thread, sixteen tokens (a prefill tile or a 16-stream decode
// step) against a 4864 x 896 matrix (Qwen2.5-0.5B's FFN down shape, bigger than L2; 1024 columns
// for the 256-weight K-quants): multiply-adds per second on the VNNI path and, where the CPU has
// them, on AMX tiles, for Q8_0, Q4_0, Q4_K and Q6_K weights.
//   swift build -c release --product tern
//   clang -O2 -I Sources/CTernKernels/include -I Sources/CTernKernels scripts/bench_x16_kernel.c \
//       .build/release/CTernKernels.build/*.o -lpthread -lm -o /tmp/bench_x16 && /tmp/bench_x16
#include "CTernKernels.h"
#include "tern_dispatch.h"
#include "tern_pool.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void bench(tern_pool *pool, const char *name, int type, int layout, size_t k) {
    const size_t rows = 4864, tokens = 16, blocks = k / TERN_QK;
    float *values = malloc(sizeof(float) * rows * k);
    for (size_t i = 0; i < rows * k; i++) values[i] = (float)(rand() % 2001) / 1000 - 1;
    size_t row_bytes = tern_quant_row_bytes(type, k), group_bytes = 16 * tern_quant_row_bytes(layout, k);
    void *plain = malloc(row_bytes * rows), *w = aligned_alloc(64, group_bytes * (rows / 16));
    tern_quantize_matrix(pool, TERN_WEIGHT_F32, values, type, plain, rows, k);
    tern_interleave_rows(pool, type, layout, plain, w, rows, k);
    tern_block_q8a *x = aligned_alloc(64, sizeof(tern_block_q8a) * blocks * tokens);
    for (size_t i = 0; i < blocks * tokens; i++) {
        x[i].d = 1, x[i].s = 1, x[i].s_low = 0;
        for (int j = 0; j < TERN_QK; j++) x[i].qs[j] = (int8_t)rand();
    }
    float out[16 * 16];
    const tern_kernel_table *kernels = tern_kernels();
    for (int amx = 0; amx <= tern_amx_ready(); amx++) {
        tern_amx_switch(amx);
        for (int repeat = 0; repeat < 3; repeat++) {
            const int passes = 20;
            double start = now();
            for (int p = 0; p < passes; p++)
                for (size_t g = 0; g < rows / 16; g++) kernels->dot_x16(layout, (const char *)w + g * group_bytes, x, blocks, k, tokens, out, 16);
            double macs = (double)passes * rows * tokens * k;
            printf("%-5s %-4s %.1f GMAC/s\n", name, amx ? "AMX" : "VNNI", macs / (now() - start) / 1e9);
        }
        tern_amx_switch(1);
    }
    free(values), free(plain), free(w), free(x);
}

int main(void) {
    tern_pool *pool = tern_pool_create(1);
    printf("kernels %s, AMX %s\n", tern_kernels()->name, tern_amx_ready() ? "ready" : "absent");
    bench(pool, "Q8_0", TERN_WEIGHT_Q8_0, TERN_WEIGHT_Q8_0X16, 896);
    bench(pool, "Q4_0", TERN_WEIGHT_Q4_0, TERN_WEIGHT_Q4_0X16, 896);
    bench(pool, "Q4_K", TERN_WEIGHT_Q4_K, TERN_WEIGHT_Q4_KX16, 1024);
    bench(pool, "Q6_K", TERN_WEIGHT_Q6_K, TERN_WEIGHT_Q6_KX16, 1024);
    return 0;
}
