// Chooses the kernel table once from the CPU's features; tests and benchmarks can force a path
// for the thread they run on (so tests that force one do not change what others running at the
// same time compute).
#include "CTernKernels.h"
#include <stdatomic.h>
#include <string.h>

static _Atomic(const tern_kernel_table *) current;
static _Thread_local const tern_kernel_table *forced;

static const tern_kernel_table *best(void) {
    const tern_kernel_table *t;
    if ((t = tern_kernels_avx512())) return t;
    if ((t = tern_kernels_avxvnni())) return t;
    if ((t = tern_kernels_avx2())) return t;
    if ((t = tern_kernels_neon())) return t;
    return &tern_kernels_scalar;
}

const tern_kernel_table *tern_kernels(void) {
    if (forced) return forced;
    const tern_kernel_table *t = atomic_load_explicit(&current, memory_order_acquire);
    if (!t) {
        t = best();
        atomic_store_explicit(&current, t, memory_order_release);
    }
    return t;
}

int tern_set_kernel_path(const char *name) {
    const tern_kernel_table *t = 0;
    if (!strcmp(name, "auto")) {
        forced = 0;
        return 0;
    }
    if (!strcmp(name, "scalar")) t = &tern_kernels_scalar;
    else if (!strcmp(name, "avx2")) t = tern_kernels_avx2();
    else if (!strcmp(name, "avxvnni")) t = tern_kernels_avxvnni();
    else if (!strcmp(name, "avx512")) t = tern_kernels_avx512();
    else if (!strcmp(name, "neon")) t = tern_kernels_neon();
    if (!t) return -1;
    forced = t;
    return 0;
}

const char *tern_available_kernel_paths(void) {
    static char names[64];
    strcpy(names, "scalar");
    if (tern_kernels_neon()) strcat(names, " neon");
    if (tern_kernels_avx2()) strcat(names, " avx2");
    if (tern_kernels_avxvnni()) strcat(names, " avxvnni");
    if (tern_kernels_avx512()) strcat(names, " avx512");
    return names;
}
