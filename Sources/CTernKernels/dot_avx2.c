// The x86 dot products for AVX2 + FMA + F16C machines.
#if defined(__x86_64__)
#define TERN_TARGET __attribute__((target("avx2,fma,f16c")))
#define TERN_SUFFIX avx2
#define TERN_VNNI 0
#define TERN_WIDE_FLOAT_DOTS 0
#include "dot_x86.h"

const tern_kernel_table *tern_kernels_avx2(void) {
    static const tern_kernel_table table = TERN_NARROW_TABLE("avx2");
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") ? &table : 0;
}
#else
#include "CTernKernels.h"
const tern_kernel_table *tern_kernels_avx2(void) { return 0; }
#endif
