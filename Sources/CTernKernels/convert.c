// Scalar conversions between f16/bf16 and f32, bit-exact with IEEE 754 round-to-nearest-even.
#include "CTernKernels.h"
#include <string.h>

float tern_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F;
    uint32_t mantissa = h & 0x3FF;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {
            // Subnormal: normalise the mantissa.
            int e = -1;
            do { e++; mantissa <<= 1; } while ((mantissa & 0x400) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mantissa & 0x3FF) << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float tern_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void tern_convert_row(int type, const void *src, float *dst, size_t count) {
    switch (type) {
    case TERN_WEIGHT_F32:
        memcpy(dst, src, count * sizeof(float));
        break;
    case TERN_WEIGHT_F16: {
        const uint16_t *h = (const uint16_t *)src;
        for (size_t i = 0; i < count; i++) dst[i] = tern_f16_to_f32(h[i]);
        break;
    }
    case TERN_WEIGHT_BF16: {
        const uint16_t *h = (const uint16_t *)src;
        for (size_t i = 0; i < count; i++) dst[i] = tern_bf16_to_f32(h[i]);
        break;
    }
    }
}
