// Block-quantized weight formats, bit-exact with the GGUF layouts of llama.cpp, and the
// 8-bit activation blocks the quantized dot products read.
#ifndef TERN_QUANT_H
#define TERN_QUANT_H

#include <stddef.h>
#include <stdint.h>

#define TERN_QK 32      // weights per block of Q8_0 / Q4_0, and per activation block
#define TERN_QK_K 256   // weights per Q4_K super-block

typedef struct {
    uint16_t d;                 // f16 scale
    int8_t qs[TERN_QK];         // weight = qs[i] * d
} tern_block_q8_0;

typedef struct {
    uint16_t d;                 // f16 scale
    uint8_t qs[TERN_QK / 2];    // element i (< 16) in the low nibble of qs[i], element i + 16 in the high nibble; weight = (q - 8) * d
} tern_block_q4_0;

typedef struct {
    uint16_t d;                 // f16 super-block scale of the sub-block scales
    uint16_t dmin;              // f16 super-block scale of the sub-block mins
    uint8_t scales[12];         // 8 six-bit scales and 8 six-bit mins, packed
    uint8_t qs[TERN_QK_K / 2];  // per 64 weights: 32 bytes, low nibbles first sub-block, high nibbles second
} tern_block_q4_k;

/// Block k of four interleaved Q4_0 rows: their four scales, then each row's 16 bytes.
typedef struct {
    uint16_t d[4];
    uint8_t qs[4][TERN_QK / 2];
} tern_block_q4_0x4;

/// Block k of four interleaved Q8_0 rows.
typedef struct {
    uint16_t d[4];
    int8_t qs[4][TERN_QK];
} tern_block_q8_0x4;

/// Block k of sixteen Q8_0 rows packed for VNNI: lane r of a 64-byte vector is row r's four
/// consecutive weights, stored plus 128 so they are the unsigned operand of an int8 dot product.
typedef struct {
    uint16_t d[16];
    uint8_t qs[TERN_QK / 4][16][4];
} tern_block_q8_0x16;

/// Block k of sixteen Q4_0 rows packed for VNNI: byte j of lane r holds row r's weights 4j..4j+3
/// of the block in its low nibbles' four bytes and weights 16+4j.. in the high nibbles.
typedef struct {
    uint16_t d[16];
    uint8_t qs[TERN_QK / 8][16][4];
} tern_block_q4_0x16;

/// Super-block k of sixteen Q4_K rows packed for VNNI: the rows' super-block scales, their 6-bit
/// sub-block scales and mins unpacked, and each 32-weight sub-block's nibbles laid out as in
/// tern_block_q4_0x16. Weight = d * scale * q - dmin * min.
typedef struct {
    uint16_t d[16], dmin[16];
    uint8_t scales[8][16], mins[8][16];
    uint8_t qs[8][TERN_QK / 8][16][4];
} tern_block_q4_kx16;

/// Block k of sixteen Q4_1 rows packed for VNNI: nibbles as tern_block_q4_0x16. Weight = d * q + m.
typedef struct {
    uint16_t d[16], m[16];
    uint8_t qs[TERN_QK / 8][16][4];
} tern_block_q4_1x16;

/// Super-block k of sixteen Q5_K rows: tern_block_q4_kx16's fields, and per sub-block the fifth
/// bits: bit v of byte i of lane r belongs to the weight in byte i of lane r of VNNI vector v (the
/// low nibbles of qs[j] are vectors 0-3, the high nibbles vectors 4-7).
typedef struct {
    uint16_t d[16], dmin[16];
    uint8_t scales[8][16], mins[8][16];
    uint8_t qs[8][TERN_QK / 8][16][4];
    uint8_t high[8][16][4];
} tern_block_q5_kx16;

/// Super-block k of sixteen Q6_K rows: the rows' scales d, the sixteen-weight scales (half h of
/// sub-block j at scales[2j + h]), each sub-block's low four bits as tern_block_q4_0x16 and its top
/// two bits: bits 2(v % 4)..2(v % 4) + 1 of high[j][v / 4] belong to VNNI vector v. Weight = d * scale * (q - 32).
typedef struct {
    uint16_t d[16];
    int8_t scales[16][16];
    uint8_t qs[8][TERN_QK / 8][16][4];
    uint8_t high[8][2][16][4];
} tern_block_q6_kx16;

/// Block k of sixteen Q5_0 rows: nibbles as tern_block_q4_0x16, fifth bits as tern_block_q5_kx16's
/// plane. Weight = d * (q - 16).
typedef struct {
    uint16_t d[16];
    uint8_t qs[TERN_QK / 8][16][4];
    uint8_t high[16][4];
} tern_block_q5_0x16;

/// Block k of sixteen Q5_1 rows, as tern_block_q5_0x16 with offsets. Weight = d * q + m.
typedef struct {
    uint16_t d[16], m[16];
    uint8_t qs[TERN_QK / 8][16][4];
    uint8_t high[16][4];
} tern_block_q5_1x16;

/// Block k of sixteen IQ4_NL rows: the value indices as tern_block_q4_0x16's nibbles.
/// Weight = d * tern_iq4_values[q].
typedef struct {
    uint16_t d[16];
    uint8_t qs[TERN_QK / 8][16][4];
} tern_block_iq4_nlx16;

/// Super-block k of sixteen IQ4_XS rows: d, the signed six-bit sub-block scales (stored minus
/// 32), and each sub-block's value indices as nibbles. Weight = d * scale * tern_iq4_values[q].
typedef struct {
    uint16_t d[16];
    int8_t scales[8][16];
    uint8_t qs[8][TERN_QK / 8][16][4];
} tern_block_iq4_xsx16;

/// Super-block k of sixteen Q3_K rows: d, the signed sixteen-weight scales (stored minus 32), and
/// per sub-block the low two bits (bits 2(v % 4) of low[j][v / 4] for VNNI vector v) and the third
/// (bit v of high[j]). Weight = d * scale * (q - 4).
typedef struct {
    uint16_t d[16];
    int8_t scales[16][16];
    uint8_t low[8][2][16][4];
    uint8_t high[8][16][4];
} tern_block_q3_kx16;

/// Super-block k of sixteen Q2_K rows: d, dmin, the four-bit scales and mins per sixteen weights,
/// and the two-bit quants as tern_block_q3_kx16's low planes. Weight = d * scale * q - dmin * min.
typedef struct {
    uint16_t d[16], dmin[16];
    uint8_t scales[16][16], mins[16][16];
    uint8_t low[8][2][16][4];
} tern_block_q2_kx16;

/// An activation block: 32 signed bytes with their scale, the scale times their sum, and the
/// scale times the sum of the first sixteen (for weights with a scale per sixteen).
typedef struct {
    float d;
    float s;
    float s_low;
    int8_t qs[TERN_QK];
} tern_block_q8a;

/// Bytes of one row of `count` weights in a quantized type (count must be a multiple of its block).
size_t tern_quant_row_bytes(int type, size_t count);

void tern_quantize_row_q8_0(const float *x, tern_block_q8_0 *y, size_t count);
void tern_quantize_row_q4_0(const float *x, tern_block_q4_0 *y, size_t count);
void tern_quantize_row_q4_k(const float *x, tern_block_q4_k *y, size_t count);
/// Quantizes an activation row (count a multiple of `group`) for the quantized dot products;
/// `group` (32 or 256) values share a scale, as llama.cpp quantizes activations for 32-weight
/// types and for the 256-weight K types.
void tern_quantize_row_q8a(const float *x, tern_block_q8a *y, size_t count, size_t group);

void tern_dequantize_row(int type, const void *x, float *y, size_t count);

/// Unpacks sub-block j's six-bit scale and min from a Q4_K scales array.
static inline void tern_q4k_scale_min(int j, const uint8_t *q, uint8_t *scale, uint8_t *min) {
    if (j < 4) {
        *scale = q[j] & 63;
        *min = q[j + 4] & 63;
    } else {
        *scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/// Weight l (0..31) of sub-block j of a Q4_K super-block's quants, 0..15.
static inline int tern_q4k_quant(const uint8_t *qs, int j, int l) {
    uint8_t byte = qs[32 * (j / 2) + l];
    return (j % 2 == 0) ? (byte & 0xF) : (byte >> 4);
}

#endif
