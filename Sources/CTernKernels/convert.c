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

uint16_t tern_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t biased = (x >> 23) & 0xFF;
    uint32_t mantissa = x & 0x7FFFFF;
    if (biased == 0xFF) return (uint16_t)(sign | 0x7C00 | (mantissa ? 0x200 : 0));
    int32_t exponent = (int32_t)biased - 127 + 15;
    if (exponent >= 31) return (uint16_t)(sign | 0x7C00);
    if (exponent <= 0) {
        // Subnormal half: shift the mantissa (with its implicit bit) into place, rounding to even.
        if (exponent < -10) return (uint16_t)sign;
        mantissa |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exponent);
        uint32_t half = mantissa >> shift, rest = mantissa & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exponent << 10) | (mantissa >> 13);
    uint32_t rest = mantissa & 0x1FFF;
    // Rounding up may carry into the exponent, which is still the right result.
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
    return (uint16_t)half;
}

uint16_t tern_f32_to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if ((bits & 0x7FFFFFFF) > 0x7F800000) return (uint16_t)((bits >> 16) | 0x40); // NaN stays NaN
    bits += 0x7FFF + ((bits >> 16) & 1); // round to nearest, ties to even
    return (uint16_t)(bits >> 16);
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
    default:
        tern_dequantize_row(type, src, dst, count);
    }
}
