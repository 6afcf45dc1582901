// The x86 dot products for AVX-512 machines with VNNI (int8 dot products in one instruction).
#if defined(__x86_64__)
#define TERN_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define TERN_SUFFIX avx512
#define TERN_VNNI 1
#include "dot_x86.h"

const tern_kernel_table *tern_kernels_avx512(void) {
    static const tern_kernel_table table = {
        "avx512", dot_f32_avx512, dot_f16_avx512, dot_bf16_avx512, dot_q8_0_avx512, dot_q4_0_avx512, dot_q4_k_avx512, dot4_q8_0_avx512, dot4_q4_0_avx512,
    };
    int ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    return ok ? &table : 0;
}
#else
#include "CTernKernels.h"
const tern_kernel_table *tern_kernels_avx512(void) { return 0; }
#endif
