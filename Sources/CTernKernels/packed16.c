// Sixteen rows of a quantized type packed for VNNI (tern_block_*x16 in tern_quant.h): lane r of
// each 64-byte vector is row r's four consecutive weights of a 32-weight sub-block. Vectors 0-3
// hold weights 0-15 and vectors 4-7 weights 16-31, four at a time. The low four bits live in the
// Q4_0x16 nibble arrangement; higher bits in planes beside them. Built from the plain GGUF
// blocks; read back and multiplied here for reference.
#include "packed16.h"
#include <string.h>

/// The VNNI vector (0-7) that holds weight i of a 32-weight sub-block.
static int vector_of(int i) { return i < 16 ? i / 4 : 4 + (i - 16) / 4; }

// ---- Writing the planes of one row (lane r) of a 32-weight sub-block, from its levels q[32].

/// Bits 0-3 of q in the nibble arrangement: byte i % 4 of lane r of quad i / 4 holds weight i in
/// its low nibble and weight i + 16 in its high one.
static void put_nibbles(const int *q, uint8_t nibbles[TERN_QK / 8][16][4], size_t r) {
    for (int i = 0; i < TERN_QK / 2; i++) nibbles[i / 4][r][i % 4] = (uint8_t)((q[i] & 0xF) | (q[i + 16] & 0xF) << 4);
}

/// Bit `bit` of each q into a one-bit plane: bit v of byte i % 4 of lane r, v = vector_of(i).
static void put_bit(const int *q, int bit, uint8_t plane[16][4], size_t r) {
    memset(plane[r], 0, 4);
    for (int i = 0; i < TERN_QK; i++) plane[r][i % 4] |= (uint8_t)(((q[i] >> bit) & 1) << vector_of(i));
}

/// Bits `bit` and `bit` + 1 of each q into two-bit planes: bits 2(v % 4) of planes[v / 4].
static void put_pair(const int *q, int bit, uint8_t planes[2][16][4], size_t r) {
    memset(planes[0][r], 0, 4);
    memset(planes[1][r], 0, 4);
    for (int i = 0; i < TERN_QK; i++) {
        int v = vector_of(i);
        planes[v / 4][r][i % 4] |= (uint8_t)(((q[i] >> bit) & 3) << (2 * (v % 4)));
    }
}

// ---- Reading them back.

static int get_nibble(const uint8_t nibbles[TERN_QK / 8][16][4], int r, int i) {
    uint8_t byte = nibbles[(i % 16) / 4][r][i % 4];
    return i < 16 ? byte & 0xF : byte >> 4;
}

static int get_bit(const uint8_t plane[16][4], int r, int i) { return (plane[r][i % 4] >> vector_of(i)) & 1; }

static int get_pair(const uint8_t planes[2][16][4], int r, int i) {
    int v = vector_of(i);
    return (planes[v / 4][r][i % 4] >> (2 * (v % 4))) & 3;
}

int tern_packed16_layout_of(int type) {
    switch (type) {
    case TERN_WEIGHT_Q8_0: return TERN_WEIGHT_Q8_0X16;
    case TERN_WEIGHT_Q4_0: return TERN_WEIGHT_Q4_0X16;
    case TERN_WEIGHT_Q4_1: return TERN_WEIGHT_Q4_1X16;
    case TERN_WEIGHT_Q5_0: return TERN_WEIGHT_Q5_0X16;
    case TERN_WEIGHT_Q5_1: return TERN_WEIGHT_Q5_1X16;
    case TERN_WEIGHT_IQ4_NL: return TERN_WEIGHT_IQ4_NLX16;
    case TERN_WEIGHT_IQ4_XS: return TERN_WEIGHT_IQ4_XSX16;
    case TERN_WEIGHT_Q2_K: return TERN_WEIGHT_Q2_KX16;
    case TERN_WEIGHT_Q3_K: return TERN_WEIGHT_Q3_KX16;
    case TERN_WEIGHT_Q4_K: return TERN_WEIGHT_Q4_KX16;
    case TERN_WEIGHT_Q5_K: return TERN_WEIGHT_Q5_KX16;
    case TERN_WEIGHT_Q6_K: return TERN_WEIGHT_Q6_KX16;
    default: return 0;
    }
}

int tern_is_packed16(int layout) {
    return layout == TERN_WEIGHT_Q8_0X16 || layout == TERN_WEIGHT_Q4_0X16 || layout == TERN_WEIGHT_Q4_KX16
        || (layout >= TERN_WEIGHT_Q4_1X16 && layout <= TERN_WEIGHT_Q2_KX16);
}

/// Weights per block of the plain type a layout packs.
static size_t block_weights(int type) {
    return type == TERN_WEIGHT_Q8_0 || type == TERN_WEIGHT_Q4_0 ? TERN_QK : type == TERN_WEIGHT_Q4_K ? TERN_QK_K
        : tern_unpacked_block_weights(type);
}

static inline uint32_t load_word(const uint8_t *p) {
    uint32_t word;
    memcpy(&word, p, 4);
    return word;
}

/// A 32-weight sub-block whose low four bits sit at bit `shift` of 32 bytes (`source`, weight i in
/// byte i) as the nibble arrangement, four bytes at a time.
static void put_nibble_words(const uint8_t *pair, int shift, uint8_t nibbles[TERN_QK / 8][16][4], size_t r) {
    for (int w = 0; w < 4; w++) {
        uint32_t low = (load_word(pair + 4 * w) >> shift) & 0x0F0F0F0F, high = (load_word(pair + 16 + 4 * w) >> shift) & 0x0F0F0F0F;
        uint32_t word = low | high << 4;
        memcpy(nibbles[w][r], &word, 4);
    }
}

/// Row r of one plain block (`type`) into the packed block `out` (its layout). Loading a model
/// packs every block of it, so the common types move four bytes at a time.
static void pack_block(int type, const void *block, void *out, size_t r) {
    tern_unpacked_block u;
    int q[TERN_QK_K];
    switch (type) {
    case TERN_WEIGHT_Q8_0: {
        const tern_block_q8_0 *b = block;
        tern_block_q8_0x16 *o = out;
        o->d[r] = b->d;
        for (int w = 0; w < TERN_QK / 4; w++) {
            uint32_t word = load_word((const uint8_t *)b->qs + 4 * w) ^ 0x80808080u;  // + 128 in every byte
            memcpy(o->qs[w][r], &word, 4);
        }
        return;
    }
    case TERN_WEIGHT_Q4_0: case TERN_WEIGHT_IQ4_NL: {
        // The plain block already pairs weight i (low nibble) with weight i + 16 (high).
        const tern_block_q4_0 *b = block;  // IQ4_NL has the same fields
        tern_block_q4_0x16 *o = out;       // and tern_block_iq4_nlx16 the same layout
        o->d[r] = b->d;
        for (int w = 0; w < TERN_QK / 8; w++) memcpy(o->qs[w][r], b->qs + 4 * w, 4);
        return;
    }
    case TERN_WEIGHT_Q4_1: {
        const tern_block_q4_1 *b = block;
        tern_block_q4_1x16 *o = out;
        o->d[r] = b->d;
        o->m[r] = b->m;
        for (int i = 0; i < TERN_QK / 2; i++) o->qs[i / 4][r][i % 4] = b->qs[i];
        return;
    }
    case TERN_WEIGHT_Q5_0: {
        const tern_block_q5_0 *b = block;
        tern_block_q5_0x16 *o = out;
        tern_unpack_q5_0(b, &u);
        for (int i = 0; i < TERN_QK; i++) q[i] = u.q[i] + 16;
        o->d[r] = b->d;
        put_nibbles(q, o->qs, r);
        put_bit(q, 4, o->high, r);
        return;
    }
    case TERN_WEIGHT_Q5_1: {
        const tern_block_q5_1 *b = block;
        tern_block_q5_1x16 *o = out;
        tern_unpack_q5_1(b, &u);
        for (int i = 0; i < TERN_QK; i++) q[i] = u.q[i];
        o->d[r] = b->d;
        o->m[r] = b->m;
        put_nibbles(q, o->qs, r);
        put_bit(q, 4, o->high, r);
        return;
    }
    case TERN_WEIGHT_IQ4_XS: {
        const tern_block_iq4_xs *b = block;
        tern_block_iq4_xsx16 *o = out;
        o->d[r] = b->d;
        for (int j = 0; j < 8; j++) {
            o->scales[j][r] = (int8_t)tern_iq4xs_scale(b, j);
            for (int i = 0; i < TERN_QK / 2; i++) o->qs[j][i / 4][r][i % 4] = b->qs[16 * j + i];
        }
        return;
    }
    case TERN_WEIGHT_Q2_K: {
        const tern_block_q2_k *b = block;
        tern_block_q2_kx16 *o = out;
        tern_unpack_crumbs(b->qs, u.q);
        o->d[r] = b->d;
        o->dmin[r] = b->dmin;
        for (int s = 0; s < 16; s++) {
            o->scales[s][r] = b->scales[s] & 0xF;
            o->mins[s][r] = b->scales[s] >> 4;
        }
        for (int i = 0; i < TERN_QK_K; i++) q[i] = u.q[i];
        for (int j = 0; j < 8; j++) put_pair(q + 32 * j, 0, o->low[j], r);
        return;
    }
    case TERN_WEIGHT_Q3_K: {
        const tern_block_q3_k *b = block;
        tern_block_q3_kx16 *o = out;
        tern_unpack_q3_k(b, &u);
        o->d[r] = b->d;
        for (int s = 0; s < 16; s++) o->scales[s][r] = (int8_t)tern_q3k_scale(b, s);
        for (int i = 0; i < TERN_QK_K; i++) q[i] = u.q[i] + 4;
        for (int j = 0; j < 8; j++) {
            put_pair(q + 32 * j, 0, o->low[j], r);
            put_bit(q + 32 * j, 2, o->high[j], r);
        }
        return;
    }
    case TERN_WEIGHT_Q6_K: {
        const tern_block_q6_k *b = block;
        tern_block_q6_kx16 *o = out;
        o->d[r] = b->d;
        for (int s = 0; s < 16; s++) o->scales[s][r] = b->scales[s];
        // Sub-block j = 4h + m: low bits at nibble m / 2 of ql[64h + 32(m % 2) + i], top two bits at
        // bits 2m of qh[32h + i]; plane p's byte i % 4 gathers the top bits of weights 16p + 4k + i % 4
        // at bits 2k (put_pair's arrangement), four bytes at a time.
        for (int j = 0; j < 8; j++) {
            int h = j / 4, m = j % 4;
            put_nibble_words(b->ql + 64 * h + 32 * (m % 2), 4 * (m / 2), o->qs[j], r);
            for (int p = 0; p < 2; p++) {
                uint32_t word = 0;
                for (int k = 0; k < 4; k++) word |= ((load_word(b->qh + 32 * h + 16 * p + 4 * k) >> (2 * m)) & 0x03030303u) << (2 * k);
                memcpy(o->high[j][p][r], &word, 4);
            }
        }
        return;
    }
    default: {
        // Q4_K and Q5_K share the scale packing and the nibbles; Q5_K adds a fifth bit.
        int five = type == TERN_WEIGHT_Q5_K;
        const tern_block_q4_k *b4 = block;
        const tern_block_q5_k *b5 = block;
        tern_block_q4_kx16 *o4 = out;
        tern_block_q5_kx16 *o5 = out;
        const uint8_t *scales = five ? b5->scales : b4->scales, *qs = five ? b5->qs : b4->qs;
        (five ? o5->d : o4->d)[r] = five ? b5->d : b4->d;
        (five ? o5->dmin : o4->dmin)[r] = five ? b5->dmin : b4->dmin;
        for (int j = 0; j < 8; j++) {
            tern_q4k_scale_min(j, scales, five ? &o5->scales[j][r] : &o4->scales[j][r], five ? &o5->mins[j][r] : &o4->mins[j][r]);
            // Sub-blocks 2p and 2p + 1 share 32 bytes, the even one in the low nibbles.
            put_nibble_words(qs + 32 * (j / 2), 4 * (j % 2), five ? o5->qs[j] : o4->qs[j], r);
            if (five) {
                for (int i = 0; i < TERN_QK; i++) q[i] = ((b5->qh[i] >> j) & 1) << 4;
                put_bit(q, 4, o5->high[j], r);
            }
        }
    }
    }
}

void tern_pack16_group(int type, int layout, const void *source, void *target, size_t columns, size_t g) {
    size_t per_block = block_weights(type), blocks = columns / per_block;
    size_t plain = tern_quant_row_bytes(type, per_block), packed = 16 * tern_quant_row_bytes(layout, per_block);
    for (size_t k = 0; k < blocks; k++)
        for (size_t r = 0; r < 16; r++)
            pack_block(type, (const char *)source + ((g * 16 + r) * blocks + k) * plain, (char *)target + (g * blocks + k) * packed, r);
}

/// Row r of sub-block sb (32 weights) of a packed group: integer weights w[32] with
/// weight i = scale[i / 16] * w[i] - offset[i / 16].
static void sub_block_row(int layout, const void *group, size_t sb, int r, int w[TERN_QK], float scale[2], float offset[2]) {
    size_t j = sb % 8;  // sub-block within a 256-weight super-block
    offset[0] = offset[1] = 0;
    switch (layout) {
    case TERN_WEIGHT_Q8_0X16: {
        const tern_block_q8_0x16 *b = (const tern_block_q8_0x16 *)group + sb;
        for (int i = 0; i < TERN_QK; i++) w[i] = (int)b->qs[i / 4][r][i % 4] - 128;
        scale[0] = tern_f16_to_f32(b->d[r]);
        break;
    }
    case TERN_WEIGHT_Q4_0X16: case TERN_WEIGHT_IQ4_NLX16: {
        const tern_block_q4_0x16 *b = (const tern_block_q4_0x16 *)group + sb;
        for (int i = 0; i < TERN_QK; i++) {
            int n = get_nibble(b->qs, r, i);
            w[i] = layout == TERN_WEIGHT_IQ4_NLX16 ? tern_iq4_values[n] : n - 8;
        }
        scale[0] = tern_f16_to_f32(b->d[r]);
        break;
    }
    case TERN_WEIGHT_Q4_1X16: {
        const tern_block_q4_1x16 *b = (const tern_block_q4_1x16 *)group + sb;
        for (int i = 0; i < TERN_QK; i++) w[i] = get_nibble(b->qs, r, i);
        scale[0] = tern_f16_to_f32(b->d[r]);
        offset[0] = -tern_f16_to_f32(b->m[r]);
        break;
    }
    case TERN_WEIGHT_Q5_0X16: {
        const tern_block_q5_0x16 *b = (const tern_block_q5_0x16 *)group + sb;
        for (int i = 0; i < TERN_QK; i++) w[i] = (get_nibble(b->qs, r, i) | get_bit(b->high, r, i) << 4) - 16;
        scale[0] = tern_f16_to_f32(b->d[r]);
        break;
    }
    case TERN_WEIGHT_Q5_1X16: {
        const tern_block_q5_1x16 *b = (const tern_block_q5_1x16 *)group + sb;
        for (int i = 0; i < TERN_QK; i++) w[i] = get_nibble(b->qs, r, i) | get_bit(b->high, r, i) << 4;
        scale[0] = tern_f16_to_f32(b->d[r]);
        offset[0] = -tern_f16_to_f32(b->m[r]);
        break;
    }
    case TERN_WEIGHT_IQ4_XSX16: {
        const tern_block_iq4_xsx16 *b = (const tern_block_iq4_xsx16 *)group + sb / 8;
        for (int i = 0; i < TERN_QK; i++) w[i] = tern_iq4_values[get_nibble(b->qs[j], r, i)];
        scale[0] = tern_f16_to_f32(b->d[r]) * b->scales[j][r];
        break;
    }
    case TERN_WEIGHT_Q4_KX16: {
        const tern_block_q4_kx16 *b = (const tern_block_q4_kx16 *)group + sb / 8;
        for (int i = 0; i < TERN_QK; i++) w[i] = get_nibble(b->qs[j], r, i);
        scale[0] = tern_f16_to_f32(b->d[r]) * b->scales[j][r];
        offset[0] = tern_f16_to_f32(b->dmin[r]) * b->mins[j][r];
        break;
    }
    case TERN_WEIGHT_Q5_KX16: {
        const tern_block_q5_kx16 *b = (const tern_block_q5_kx16 *)group + sb / 8;
        for (int i = 0; i < TERN_QK; i++) w[i] = get_nibble(b->qs[j], r, i) | get_bit(b->high[j], r, i) << 4;
        scale[0] = tern_f16_to_f32(b->d[r]) * b->scales[j][r];
        offset[0] = tern_f16_to_f32(b->dmin[r]) * b->mins[j][r];
        break;
    }
    case TERN_WEIGHT_Q6_KX16: {
        const tern_block_q6_kx16 *b = (const tern_block_q6_kx16 *)group + sb / 8;
        for (int i = 0; i < TERN_QK; i++) w[i] = (get_nibble(b->qs[j], r, i) | get_pair(b->high[j], r, i) << 4) - 32;
        for (int h = 0; h < 2; h++) scale[h] = tern_f16_to_f32(b->d[r]) * b->scales[2 * j + h][r];
        return;
    }
    case TERN_WEIGHT_Q3_KX16: {
        const tern_block_q3_kx16 *b = (const tern_block_q3_kx16 *)group + sb / 8;
        for (int i = 0; i < TERN_QK; i++) w[i] = (get_pair(b->low[j], r, i) | get_bit(b->high[j], r, i) << 2) - 4;
        for (int h = 0; h < 2; h++) scale[h] = tern_f16_to_f32(b->d[r]) * b->scales[2 * j + h][r];
        return;
    }
    default: {  // Q2_KX16
        const tern_block_q2_kx16 *b = (const tern_block_q2_kx16 *)group + sb / 8;
        for (int i = 0; i < TERN_QK; i++) w[i] = get_pair(b->low[j], r, i);
        for (int h = 0; h < 2; h++) {
            scale[h] = tern_f16_to_f32(b->d[r]) * b->scales[2 * j + h][r];
            offset[h] = tern_f16_to_f32(b->dmin[r]) * b->mins[2 * j + h][r];
        }
        return;
    }
    }
    // One scale and offset for the whole sub-block.
    scale[1] = scale[0];
    offset[1] = offset[0];
}

void tern_packed16_row(int layout, const void *group, size_t columns, int r, float *dst) {
    for (size_t sb = 0; sb < columns / TERN_QK; sb++) {
        int weights[TERN_QK];
        float scale[2], offset[2];
        sub_block_row(layout, group, sb, r, weights, scale, offset);
        for (int i = 0; i < TERN_QK; i++) dst[sb * TERN_QK + i] = scale[i / 16] * (float)weights[i] - offset[i / 16];
    }
}

void tern_dot_x16_scalar(int layout, const void *w, const tern_block_q8a *x, size_t stride, size_t count, size_t tokens, float *out,
                         size_t out_stride) {
    for (size_t t = 0; t < tokens; t++) {
        for (int r = 0; r < 16; r++) {
            float sum = 0;
            for (size_t sb = 0; sb < count / TERN_QK; sb++) {
                const tern_block_q8a *a = x + t * stride + sb;
                int weights[TERN_QK], low = 0, high = 0;
                float scale[2], offset[2];
                sub_block_row(layout, w, sb, r, weights, scale, offset);
                for (int i = 0; i < TERN_QK / 2; i++) low += weights[i] * a->qs[i];
                for (int i = TERN_QK / 2; i < TERN_QK; i++) high += weights[i] * a->qs[i];
                sum += a->d * (scale[0] * (float)low + scale[1] * (float)high) - offset[0] * a->s_low - offset[1] * (a->s - a->s_low);
            }
            out[t * out_stride + r] = sum;
        }
    }
}
