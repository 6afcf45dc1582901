// Helpers shared by kernels written in plain C: per-CPU clones of vectorisable loops, an
// exponential the compiler can vectorise, and the quantizers' largest value.
#ifndef TERN_MATH_H
#define TERN_MATH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/// Compiles a plain-C loop once per x86 vector level (AVX-512; AVX2 with FMA and F16C; baseline),
/// chosen at load time by the CPU; other architectures get their baseline vectors.
#if defined(__x86_64__)
#define TERN_VECTOR_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define TERN_VECTOR_CLONES
#endif

/// exp(x) for x <= 0, to about 2 ulp, in plain arithmetic the compiler vectorises; exactly 0
/// below -87 (so masked -inf scores get no weight).
static inline float tern_exp_nonpositive(float x) {
    float clamped = x < -87.0f ? -87.0f : x;
    float k = __builtin_floorf(clamped * 1.44269504088896341f + 0.5f);
    float r = clamped - k * 0.693359375f + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < -87.0f ? 0.0f : p * scale;
}

/// The value of largest magnitude among n (0 when all are 0): quantizers map it to the end of
/// their range with more room, so its sign decides the scale's.
static inline float tern_signed_absmax(const float *x, size_t n) {
    float amax = 0, max = 0;
    for (size_t i = 0; i < n; i++) {
        float a = x[i] < 0 ? -x[i] : x[i];
        if (a > amax) { amax = a; max = x[i]; }
    }
    return max;
}

#endif
