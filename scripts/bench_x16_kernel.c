// The sixteen-row Q8_0 kernel alone, one thread, sixteen tokens (a prefill tile or a 16-stream
// decode step) against a 4864 x 896 matrix (Qwen2.5-0.5B's FFN down shape, bigger than L2):
// multiply-adds per second on the VNNI path and, where the CPU has them, on AMX tiles.
//   swift build -c release --product tern
//   clang -O2 -I Sources/CTernKernels/include -I Sources/CTernKernels scripts/bench_x16_kernel.c \
//       .build/release/CTernKernels.build/*.o -lpthread -lm -o /tmp/bench_x16 && /tmp/bench_x16
#include "CTernKernels.h"
#include "tern_dispatch.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    const size_t k = 896, groups = 4864 / 16, tokens = 16, blocks = k / TERN_QK;
    const size_t group_bytes = blocks * sizeof(tern_block_q8_0x16);
    tern_block_q8_0x16 *w = aligned_alloc(64, group_bytes * groups);
    for (size_t b = 0; b < blocks * groups; b++) {
        for (int r = 0; r < 16; r++) w[b].d[r] = 0x3C00;  // 1.0 in f16
        for (size_t i = 0; i < sizeof w[b].qs; i++) ((uint8_t *)w[b].qs)[i] = (uint8_t)rand();
    }
    tern_block_q8a *x = aligned_alloc(64, sizeof(tern_block_q8a) * blocks * tokens);
    for (size_t i = 0; i < blocks * tokens; i++) {
        x[i].d = 1, x[i].s = 1, x[i].s_low = 0;
        for (int j = 0; j < TERN_QK; j++) x[i].qs[j] = (int8_t)rand();
    }
    float out[16 * 16];
    const tern_kernel_table *kernels = tern_kernels();
    const int has_amx = tern_amx_ready();
    printf("kernels %s, AMX %s\n", kernels->name, has_amx ? "ready" : "absent");
    for (int amx = 0; amx <= has_amx; amx++) {
        tern_amx_switch(amx);
        for (int repeat = 0; repeat < 3; repeat++) {
            const int passes = 20;
            double start = now();
            for (int p = 0; p < passes; p++)
                for (size_t g = 0; g < groups; g++)
                    kernels->dot_x16(TERN_WEIGHT_Q8_0X16, (const char *)w + g * group_bytes, x, blocks, k, tokens, out, 16);
            double macs = (double)passes * groups * 16 * tokens * k;
            printf("%s: %.1f GMAC/s\n", amx ? "AMX " : "VNNI", macs / (now() - start) / 1e9);
        }
    }
    tern_amx_switch(1);
    return 0;
}
