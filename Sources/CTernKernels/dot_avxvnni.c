// The x86 dot products for AVX2 machines with AVX-VNNI (Intel cores without AVX-512 since Alder
// Lake, AMD Zen 5 in 256-bit mode): the int8 products in one instruction instead of two.
#if defined(__x86_64__)
#define TERN_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))
#define TERN_SUFFIX avxvnni
#define TERN_VNNI TERN_VNNI_AVX
#define TERN_WIDE_FLOAT_DOTS 0
#include "dot_x86.h"
#include <cpuid.h>

const tern_kernel_table *tern_kernels_avxvnni(void) {
    static const tern_kernel_table table = TERN_NARROW_TABLE("avxvnni");
    unsigned a, b, c, d;
    int vnni = __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1);  // CPUID.(7,1):EAX bit 4, AVX-VNNI
    return vnni && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") ? &table : 0;
}
#else
#include "CTernKernels.h"
const tern_kernel_table *tern_kernels_avxvnni(void) { return 0; }
#endif
