// Quantizers for the GGUF block types of llama-quantize's mixes (Q4_1, Q5_0, Q5_1, Q2_K, Q3_K,
// Q4_K, Q5_K, Q6_K). Q4_1, Q5_0 and Q5_1 use the formats' plain range formulas. The K types fit each
// sub-block's scale (and offset) by least squares over a few starting points, quantize those
// against the super-block's f16 scales, then assign the weights again with the stored scales.
#include "CTernKernels.h"
#include "tern_math.h"
#include <math.h>
#include <string.h>

static int clamp_int(int v, int low, int high) { return v < low ? low : v > high ? high : v; }

/// Squared error of x against scale * q + offset with q = round((x - offset) / scale) in [low, high].
static float affine_error(const float *x, int n, float scale, float offset, int low, int high) {
    float error = 0;
    for (int i = 0; i < n; i++) {
        int q = scale ? clamp_int((int)lroundf((x[i] - offset) / scale), low, high) : 0;
        float e = x[i] - (scale * (float)q + offset);
        error += e * e;
    }
    return error;
}

/// Least-squares scale and offset (offset <= 0, as the K types store -dmin * min) of n values
/// on levels 0..top: from the range, then refitted to the levels they round to, from a few
/// narrowed ranges; the pair with the smallest error wins.
static void fit_affine(const float *x, int n, int top, float *scale, float *offset) {
    float low = 0, high = 0;
    for (int i = 0; i < n; i++) { low = fminf(low, x[i]); high = fmaxf(high, x[i]); }
    *scale = (high - low) / (float)top;
    *offset = low;
    if (*scale == 0) return;
    float best = affine_error(x, n, *scale, *offset, 0, top);
    for (int step = 0; step < 8; step++) {
        float s = (high - low) / ((float)top + 0.25f * (float)(step - 2)), m = low;
        for (int pass = 0; pass < 2; pass++) {
            // Solve for (s, m) given the levels: minimize sum (x - s q - m)^2.
            double sq = 0, sqq = 0, sx = 0, sxq = 0;
            for (int i = 0; i < n; i++) {
                int q = clamp_int((int)lroundf((x[i] - m) / s), 0, top);
                sq += q; sqq += (double)q * q; sx += x[i]; sxq += (double)x[i] * q;
            }
            double det = n * sqq - sq * sq;
            if (det <= 0) break;
            double fs = (n * sxq - sq * sx) / det, fm = (sx - fs * sq) / n;
            if (fm > 0) { fm = 0; fs = sqq ? sxq / sqq : 0; }
            if (fs <= 0) break;
            s = (float)fs;
            m = (float)fm;
        }
        float error = affine_error(x, n, s, m, 0, top);
        if (error < best) { best = error; *scale = s; *offset = m; }
    }
}

/// Least-squares scale of n values on the signed levels low..high (the value of largest
/// magnitude goes to the end with more room), from a few starting scales.
static float fit_symmetric(const float *x, int n, int low, int high) {
    float max = tern_signed_absmax(x, (size_t)n);
    if (max == 0) return 0;
    float best_scale = max / (float)low, best = affine_error(x, n, best_scale, 0, low, high);
    for (int step = -4; step <= 4; step++) {
        float s = max / ((float)low - 0.1f * (float)step);
        double sxq = 0, sqq = 0;
        for (int i = 0; i < n; i++) {
            int q = clamp_int((int)lroundf(x[i] / s), low, high);
            sxq += (double)x[i] * q; sqq += (double)q * q;
        }
        if (sqq == 0) continue;
        s = (float)(sxq / sqq);
        float error = affine_error(x, n, s, 0, low, high);
        if (error < best) { best = error; best_scale = s; }
    }
    return best_scale;
}

/// Sub-block values quantized against an f16 super-block scale: returns the scale as stored.
static uint16_t quantize_scales(const float *values, int count, int top, int *quantized) {
    float max = 0;
    for (int j = 0; j < count; j++) max = fmaxf(max, fabsf(values[j]));
    uint16_t stored = tern_f32_to_f16(max / (float)top);
    float d = tern_f16_to_f32(stored);
    for (int j = 0; j < count; j++) quantized[j] = d ? clamp_int((int)lroundf(values[j] / d), -top, top) : 0;
    return stored;
}

/// Levels of n weights for a stored scale and offset.
static void assign(const float *x, int n, float scale, float offset, int low, int high, int *q) {
    for (int i = 0; i < n; i++) q[i] = scale ? clamp_int((int)lroundf((x[i] - offset) / scale), low, high) : clamp_int(0, low, high);
}

void tern_quantize_row_q5_0(const float *x, tern_block_q5_0 *y, size_t count) {
    for (size_t b = 0; b < count / TERN_QK; b++, x += TERN_QK) {
        float d = tern_signed_absmax(x, TERN_QK) / -16.0f, id = d ? 1.0f / d : 0.0f;
        y[b].d = tern_f32_to_f16(d);
        uint32_t high = 0;
        memset(y[b].qs, 0, sizeof y[b].qs);
        for (int i = 0; i < TERN_QK; i++) {
            int q = clamp_int((int)(x[i] * id + 16.5f), 0, 31);
            y[b].qs[i % 16] |= (uint8_t)((q & 0xF) << (4 * (i / 16)));
            high |= (uint32_t)(q >> 4) << i;
        }
        memcpy(y[b].qh, &high, 4);
    }
}

void tern_quantize_row_q4_1(const float *x, tern_block_q4_1 *y, size_t count) {
    for (size_t b = 0; b < count / TERN_QK; b++, x += TERN_QK) {
        float low = x[0], top = x[0];
        for (int i = 1; i < TERN_QK; i++) { low = fminf(low, x[i]); top = fmaxf(top, x[i]); }
        float d = (top - low) / 15.0f, id = d ? 1.0f / d : 0.0f;
        y[b].d = tern_f32_to_f16(d);
        y[b].m = tern_f32_to_f16(low);
        for (int i = 0; i < TERN_QK / 2; i++) {
            int lo = clamp_int((int)((x[i] - low) * id + 0.5f), 0, 15), hi = clamp_int((int)((x[i + 16] - low) * id + 0.5f), 0, 15);
            y[b].qs[i] = (uint8_t)(lo | hi << 4);
        }
    }
}

void tern_quantize_row_q5_1(const float *x, tern_block_q5_1 *y, size_t count) {
    for (size_t b = 0; b < count / TERN_QK; b++, x += TERN_QK) {
        float low = x[0], top = x[0];
        for (int i = 1; i < TERN_QK; i++) { low = fminf(low, x[i]); top = fmaxf(top, x[i]); }
        float d = (top - low) / 31.0f, id = d ? 1.0f / d : 0.0f;
        y[b].d = tern_f32_to_f16(d);
        y[b].m = tern_f32_to_f16(low);
        uint32_t high = 0;
        memset(y[b].qs, 0, sizeof y[b].qs);
        for (int i = 0; i < TERN_QK; i++) {
            int q = clamp_int((int)((x[i] - low) * id + 0.5f), 0, 31);
            y[b].qs[i % 16] |= (uint8_t)((q & 0xF) << (4 * (i / 16)));
            high |= (uint32_t)(q >> 4) << i;
        }
        memcpy(y[b].qh, &high, 4);
    }
}

/// Q4_K / Q5_K: eight 32-weight sub-blocks, each with an affine map whose scale and -offset are
/// stored as six bits against d and dmin. Levels go to q (0..top).
static void quantize_k_affine(const float *x, int top, uint16_t *d_out, uint16_t *dmin_out, uint8_t scales[12], int q[TERN_QK_K]) {
    float scale[8], minimum[8];
    int sc[8], mn[8];
    for (int j = 0; j < 8; j++) {
        fit_affine(x + 32 * j, 32, top, &scale[j], &minimum[j]);
        minimum[j] = -minimum[j];
    }
    *d_out = quantize_scales(scale, 8, 63, sc);
    *dmin_out = quantize_scales(minimum, 8, 63, mn);
    float d = tern_f16_to_f32(*d_out), dmin = tern_f16_to_f32(*dmin_out);
    memset(scales, 0, 12);
    for (int j = 0; j < 4; j++) {
        scales[j] = (uint8_t)sc[j];
        scales[j + 4] = (uint8_t)mn[j];
    }
    for (int j = 4; j < 8; j++) {
        scales[j + 4] = (uint8_t)((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
        scales[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
        scales[j] |= (uint8_t)((mn[j] >> 4) << 6);
    }
    for (int j = 0; j < 8; j++) assign(x + 32 * j, 32, d * (float)sc[j], -dmin * (float)mn[j], 0, top, q + 32 * j);
}

void tern_quantize_row_q4_k(const float *x, tern_block_q4_k *y, size_t count) {
    int q[TERN_QK_K];
    for (size_t b = 0; b < count / TERN_QK_K; b++, x += TERN_QK_K) {
        quantize_k_affine(x, 15, &y[b].d, &y[b].dmin, y[b].scales, q);
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; l++) y[b].qs[32 * g + l] = (uint8_t)(q[64 * g + l] | (q[64 * g + 32 + l] << 4));
    }
}

void tern_quantize_row_q5_k(const float *x, tern_block_q5_k *y, size_t count) {
    int q[TERN_QK_K];
    for (size_t b = 0; b < count / TERN_QK_K; b++, x += TERN_QK_K) {
        quantize_k_affine(x, 31, &y[b].d, &y[b].dmin, y[b].scales, q);
        memset(y[b].qh, 0, sizeof y[b].qh);
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; l++) {
                int a = q[64 * g + l], c = q[64 * g + 32 + l];
                y[b].qs[32 * g + l] = (uint8_t)((a & 0xF) | ((c & 0xF) << 4));
                y[b].qh[l] |= (uint8_t)(((a >> 4) << (2 * g)) | ((c >> 4) << (2 * g + 1)));
            }
    }
}

/// Two-bit fields of a Q2_K / Q3_K quant array: element 128h + 32j + l at bits 2j of qs[32h + l].
static void pack_crumbs(const int *q, uint8_t qs[64]) {
    memset(qs, 0, 64);
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) qs[32 * h + l] |= (uint8_t)((q[128 * h + 32 * j + l] & 3) << (2 * j));
}

void tern_quantize_row_q2_k(const float *x, tern_block_q2_k *y, size_t count) {
    int q[TERN_QK_K];
    for (size_t b = 0; b < count / TERN_QK_K; b++, x += TERN_QK_K) {
        float scale[16], minimum[16];
        int sc[16], mn[16];
        for (int s = 0; s < 16; s++) {
            fit_affine(x + 16 * s, 16, 3, &scale[s], &minimum[s]);
            minimum[s] = -minimum[s];
        }
        y[b].d = quantize_scales(scale, 16, 15, sc);
        y[b].dmin = quantize_scales(minimum, 16, 15, mn);
        float d = tern_f16_to_f32(y[b].d), dmin = tern_f16_to_f32(y[b].dmin);
        for (int s = 0; s < 16; s++) {
            y[b].scales[s] = (uint8_t)(sc[s] | (mn[s] << 4));
            assign(x + 16 * s, 16, d * (float)sc[s], -dmin * (float)mn[s], 0, 3, q + 16 * s);
        }
        pack_crumbs(q, y[b].qs);
    }
}

void tern_quantize_row_q3_k(const float *x, tern_block_q3_k *y, size_t count) {
    int q[TERN_QK_K];
    for (size_t b = 0; b < count / TERN_QK_K; b++, x += TERN_QK_K) {
        float scale[16];
        int sc[16];
        for (int s = 0; s < 16; s++) scale[s] = fit_symmetric(x + 16 * s, 16, -4, 3);
        // Six-bit signed scales, stored plus 32: -32..31, so the largest magnitude maps to -32.
        y[b].d = tern_f32_to_f16(tern_signed_absmax(scale, 16) / -32.0f);
        float d = tern_f16_to_f32(y[b].d);
        memset(y[b].scales, 0, sizeof y[b].scales);
        for (int s = 0; s < 16; s++) {
            sc[s] = d ? clamp_int((int)lroundf(scale[s] / d), -32, 31) : 0;
            int stored = sc[s] + 32;
            y[b].scales[s % 8] |= (uint8_t)((stored & 0xF) << (4 * (s / 8)));
            y[b].scales[8 + s % 4] |= (uint8_t)((stored >> 4) << (2 * (s / 4)));
            assign(x + 16 * s, 16, d * (float)sc[s], 0, -4, 3, q + 16 * s);
        }
        // Stored as q + 4 in three bits: the low two in qs, the third in hmask.
        int stored[TERN_QK_K];
        memset(y[b].hmask, 0, sizeof y[b].hmask);
        for (int i = 0; i < TERN_QK_K; i++) {
            stored[i] = q[i] + 4;
            y[b].hmask[i % 32] |= (uint8_t)((stored[i] >> 2) << (i / 32));
        }
        pack_crumbs(stored, y[b].qs);
    }
}

void tern_quantize_row_q6_k(const float *x, tern_block_q6_k *y, size_t count) {
    int q[TERN_QK_K];
    for (size_t b = 0; b < count / TERN_QK_K; b++, x += TERN_QK_K) {
        float scale[16];
        int sc[16];
        for (int s = 0; s < 16; s++) scale[s] = fit_symmetric(x + 16 * s, 16, -32, 31);
        y[b].d = quantize_scales(scale, 16, 127, sc);
        float d = tern_f16_to_f32(y[b].d);
        for (int s = 0; s < 16; s++) {
            y[b].scales[s] = (int8_t)sc[s];
            assign(x + 16 * s, 16, d * (float)sc[s], 0, -32, 31, q + 16 * s);
        }
        memset(y[b].ql, 0, sizeof y[b].ql);
        memset(y[b].qh, 0, sizeof y[b].qh);
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++) {
                    int v = q[128 * h + 32 * j + l] + 32;
                    y[b].ql[64 * h + 32 * (j % 2) + l] |= (uint8_t)((v & 0xF) << (4 * (j / 2)));
                    y[b].qh[32 * h + l] |= (uint8_t)((v >> 4) << (2 * j));
                }
    }
}
