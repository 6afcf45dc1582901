// Sixteen packed rows of any sixteen-row layout against sixteen tokens on AMX tiles (Intel
// Sapphire Rapids and later): one tile multiply per 32-weight sub-block does the 8,192 int8
// products that take 128 VNNI instructions, and the sub-block's scales are applied to the 16 x 16
// int32 sums with AVX-512 exactly as the VNNI kernel applies them, so both give the same floats.
// A sub-block's eight 64-byte vectors of unsigned weights (row r's four weights in lane r) are the
// layout of AMX's second operand: Q8_0X16 stores them so, the others are unpacked as for VNNI;
// the activation blocks of the sixteen tokens are the rows of the first.
#include "CTernKernels.h"
#include "packed16.h"

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c,amx-tile,amx-int8")))
#define TERN_TARGET AMX_TARGET
#include "x16_sub_block.h"

/// -1: not asked yet; 0: no AMX (or the kernel refused it); 1: ready. Also 0 when switched off.
static int amx_state = -1;
static int amx_switched_off = 0;

int tern_amx_ready(void) {
    if (amx_switched_off) return 0;
    int state = __atomic_load_n(&amx_state, __ATOMIC_ACQUIRE);
    if (state >= 0) return state;
    unsigned a, b, c, d;
    int ok = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 24 & 1) && (d >> 25 & 1);  // AMX-TILE, AMX-INT8
    // Linux hands out the tile state only to processes that ask (ARCH_REQ_XCOMP_PERM, XTILEDATA).
    if (ok) ok = syscall(SYS_arch_prctl, 0x1023, 18) == 0;
    __atomic_store_n(&amx_state, ok, __ATOMIC_RELEASE);
    return ok;
}

void tern_amx_switch(int enabled) { amx_switched_off = !enabled; }

__thread int tern_amx_tile_shape;

/// Tiles 0 and 3: 16 x 16 int32 sums; 1 and 4: sixteen tokens' 32 activation bytes; 2 and 5: a
/// block's weights, eight rows of sixteen rows' four bytes (two blocks in flight). Tile state is per thread.
AMX_TARGET static void configure_tiles(void) {
    if (tern_amx_tile_shape == TERN_TILES_INT8) return;
    tern_tile_config config = {0};
    config.palette = 1;
    for (int set = 0; set < 6; set += 3) {
        config.rows[set] = 16, config.columns_bytes[set] = 64;
        config.rows[set + 1] = 16, config.columns_bytes[set + 1] = TERN_QK;
        config.rows[set + 2] = TERN_QK / 4, config.columns_bytes[set + 2] = 64;
    }
    _tile_loadconfig(&config);
    tern_amx_tile_shape = TERN_TILES_INT8;
}

/// Adds one sub-block's 16 x 16 sums, scaled by the weights' and each token's block scale, less
/// the weights' offset times the token's scaled sum, to the tokens' running rows (x16_tile's
/// arithmetic in its order).
AMX_TARGET static inline __attribute__((always_inline)) void add_sums(__m512 acc[16], const int32_t sums[16][16], __m512 scale,
                                                                       __m512 offset, const tern_block_q8a *x, size_t stride) {
#pragma clang loop unroll(full)
    for (int t = 0; t < 16; t++) {
        const tern_block_q8a *a = x + (size_t)t * stride;
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(sums[t])), _mm512_mul_ps(scale, _mm512_set1_ps(a->d)), acc[t]);
        acc[t] = _mm512_fnmadd_ps(offset, _mm512_set1_ps(a->s), acc[t]);
    }
}

/// The same for layouts with a scale per sixteen weights: the sums of each half come separately.
AMX_TARGET static inline __attribute__((always_inline)) void add_half_sums(__m512 acc[16], const int32_t low[16][16],
                                                                            const int32_t high[16][16], const __m512 scale[2],
                                                                            const __m512 offset[2], const tern_block_q8a *x, size_t stride) {
#pragma clang loop unroll(full)
    for (int t = 0; t < 16; t++) {
        const tern_block_q8a *a = x + (size_t)t * stride;
        __m512 da = _mm512_set1_ps(a->d);
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(low[t])), _mm512_mul_ps(scale[0], da), acc[t]);
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(high[t])), _mm512_mul_ps(scale[1], da), acc[t]);
        acc[t] = _mm512_fnmadd_ps(offset[0], _mm512_set1_ps(a->s_low), acc[t]);
        acc[t] = _mm512_fnmadd_ps(offset[1], _mm512_set1_ps(a->s - a->s_low), acc[t]);
    }
}

/// Sub-block sb's second operand and its scales: Q8_0X16 blocks are stored in that layout; the
/// others are unpacked (x16_sub_block) into `staged`, eight 64-byte rows. The kernels prepare a
/// sub-block one step before its tiles are loaded, so the stores have reached the cache by then
/// (a tile load does not take data from pending stores).
AMX_TARGET static inline __attribute__((always_inline)) const void *prepare(int layout, const void *w, size_t sb, uint8_t staged[8][64],
                                                                            __m512 *scale, __m512 *offset) {
    __m512i v[8];
    __m512 scales[2], offsets[2];
    x16_sub_block(w, layout, sb, v, scales, offsets);
    *scale = scales[0], *offset = offsets[0];
    if (layout == TERN_WEIGHT_Q8_0X16) return ((const tern_block_q8_0x16 *)w + sb)->qs;
#pragma clang loop unroll(full)
    for (int u = 0; u < 8; u++) _mm512_store_si512(staged[u], v[u]);
    return staged;
}

/// The same for layouts with a scale per sixteen weights, whose halves are multiplied on their
/// own: staged[0] holds weights 0-15 (rows 4-7 stay zero), staged[1] weights 16-31 (rows 0-3 zero).
AMX_TARGET static inline __attribute__((always_inline)) void prepare_halves(int layout, const void *w, size_t sb, uint8_t staged[2][8][64],
                                                                            __m512 scale[2], __m512 offset[2]) {
    __m512i v[8];
    x16_sub_block(w, layout, sb, v, scale, offset);
#pragma clang loop unroll(full)
    for (int u = 0; u < 4; u++) _mm512_store_si512(staged[0][u], v[u]), _mm512_store_si512(staged[1][u + 4], v[u + 4]);
}

/// Asks for sub-blocks sb + PREFETCH_SUB_BLOCKS onwards, `count` of them, while sb computes.
static inline void prefetch_sub_blocks(const void *w, size_t sb, size_t count, size_t sub_block_bytes) {
    for (size_t line = 0; line < count * sub_block_bytes; line += 64)
        _mm_prefetch((const char *)w + (sb + PREFETCH_SUB_BLOCKS) * sub_block_bytes + line, _MM_HINT_T0);
}

/// Layouts with one scale per sub-block, two sub-blocks in flight: while sub-block a's sums are
/// scaled, b's multiply runs in the other tiles and a + 2 is unpacked into the buffer a came from.
AMX_TARGET static inline __attribute__((always_inline)) void amx_x16_whole(int layout, const void *w, const tern_block_q8a *x,
                                                                            long x_bytes, size_t stride, size_t n, __m512 acc[16]) {
    size_t sub_block_bytes = x16_sub_block_bytes(layout);
    uint8_t staged[2][8][64] __attribute__((aligned(64)));
    int32_t sums[16][16] __attribute__((aligned(64))), sums_b[16][16] __attribute__((aligned(64)));
    __m512 scale[2], offset[2];
    const void *source[2];
    source[0] = prepare(layout, w, 0, staged[0], &scale[0], &offset[0]);
    if (n > 1) source[1] = prepare(layout, w, 1, staged[1], &scale[1], &offset[1]);
    _tile_zero(0);
    _tile_loadd(1, x[0].qs, x_bytes);
    _tile_loadd(2, source[0], 64);
    _tile_dpbsud(0, 1, 2);  // signed activations times unsigned weights
    for (size_t a = 0; a < n; a += 2) {
        size_t b = a + 1;
        prefetch_sub_blocks(w, a, 2, sub_block_bytes);
        if (b < n) {
            _tile_zero(3);
            _tile_loadd(4, x[b].qs, x_bytes);
            _tile_loadd(5, source[1], 64);
            _tile_dpbsud(3, 4, 5);
        }
        __m512 scale_a = scale[0], offset_a = offset[0];
        if (a + 2 < n) source[0] = prepare(layout, w, a + 2, staged[0], &scale[0], &offset[0]);
        _tile_stored(0, sums, 64);
        add_sums(acc, (const int32_t(*)[16])sums, scale_a, offset_a, x + a, stride);
        if (b < n) {
            __m512 scale_b = scale[1], offset_b = offset[1];
            if (b + 2 < n) source[1] = prepare(layout, w, b + 2, staged[1], &scale[1], &offset[1]);
            // Stored before the next multiply is queued behind it.
            _tile_stored(3, sums_b, 64);
            if (a + 2 < n) {
                _tile_zero(0);
                _tile_loadd(1, x[a + 2].qs, x_bytes);
                _tile_loadd(2, source[0], 64);
                _tile_dpbsud(0, 1, 2);
            }
            add_sums(acc, (const int32_t(*)[16])sums_b, scale_b, offset_b, x + b, stride);
        }
    }
}

/// Layouts with a scale per sixteen weights: a sub-block's halves in tiles 0 and 3 against the
/// same activations, the next sub-block unpacked while they multiply.
AMX_TARGET static inline __attribute__((always_inline)) void amx_x16_halves(int layout, const void *w, const tern_block_q8a *x,
                                                                             long x_bytes, size_t stride, size_t n, __m512 acc[16]) {
    size_t sub_block_bytes = x16_sub_block_bytes(layout);
    uint8_t staged[2][2][8][64] __attribute__((aligned(64)));
    int32_t low[16][16] __attribute__((aligned(64))), high[16][16] __attribute__((aligned(64)));
    for (int set = 0; set < 2; set++)
        for (int u = 0; u < 4; u++) _mm512_store_si512(staged[set][0][u + 4], _mm512_setzero_si512()), _mm512_store_si512(staged[set][1][u], _mm512_setzero_si512());
    __m512 scale[2][2], offset[2][2];
    prepare_halves(layout, w, 0, staged[0], scale[0], offset[0]);
    for (size_t sb = 0; sb < n; sb++) {
        prefetch_sub_blocks(w, sb, 1, sub_block_bytes);
        int set = (int)(sb % 2);
        _tile_zero(0);
        _tile_zero(3);
        _tile_loadd(1, x[sb].qs, x_bytes);
        _tile_loadd(2, staged[set][0], 64);
        _tile_loadd(5, staged[set][1], 64);
        _tile_dpbsud(0, 1, 2);
        _tile_dpbsud(3, 1, 5);
        if (sb + 1 < n) prepare_halves(layout, w, sb + 1, staged[1 - set], scale[1 - set], offset[1 - set]);
        _tile_stored(0, low, 64);
        _tile_stored(3, high, 64);
        add_half_sums(acc, (const int32_t(*)[16])low, (const int32_t(*)[16])high, scale[set], offset[set], x + sb, stride);
    }
}

AMX_TARGET static inline __attribute__((always_inline)) void amx_x16(int layout, const void *w, const tern_block_q8a *x, size_t stride,
                                                                      size_t sub_blocks, float *out, size_t out_stride) {
    configure_tiles();
    long x_bytes = (long)(stride * sizeof(tern_block_q8a));
    __m512 acc[16];
#pragma clang loop unroll(full)
    for (int t = 0; t < 16; t++) acc[t] = _mm512_setzero_ps();
    if (x16_halves(layout)) amx_x16_halves(layout, w, x, x_bytes, stride, sub_blocks, acc);
    else amx_x16_whole(layout, w, x, x_bytes, stride, sub_blocks, acc);
#pragma clang loop unroll(full)
    for (int t = 0; t < 16; t++) _mm512_storeu_ps(out + (size_t)t * out_stride, acc[t]);
}

#define AMX_CASE(LAYOUT) case LAYOUT: amx_x16(LAYOUT, w, x, stride, count / TERN_QK, out, out_stride); break;

AMX_TARGET void tern_dot_x16_amx(int layout, const void *w, const tern_block_q8a *x, size_t stride, size_t count, float *out, size_t out_stride) {
    switch (layout) {
    AMX_CASE(TERN_WEIGHT_Q8_0X16) AMX_CASE(TERN_WEIGHT_Q4_0X16) AMX_CASE(TERN_WEIGHT_Q4_1X16) AMX_CASE(TERN_WEIGHT_Q4_KX16)
    AMX_CASE(TERN_WEIGHT_Q5_KX16) AMX_CASE(TERN_WEIGHT_Q6_KX16) AMX_CASE(TERN_WEIGHT_Q5_0X16) AMX_CASE(TERN_WEIGHT_Q5_1X16)
    AMX_CASE(TERN_WEIGHT_IQ4_NLX16) AMX_CASE(TERN_WEIGHT_IQ4_XSX16) AMX_CASE(TERN_WEIGHT_Q3_KX16)
    default: amx_x16(TERN_WEIGHT_Q2_KX16, w, x, stride, count / TERN_QK, out, out_stride); break;
    }
}
/// `steps` pairs of tile multiplies in the kernel's tile shapes on data already in the tiles, for
/// the peak probe: 2 x 16 x 16 x 32 multiply-adds a step.
AMX_TARGET void tern_amx_spin(size_t steps) {
    configure_tiles();
    _tile_zero(0), _tile_zero(1), _tile_zero(2), _tile_zero(3), _tile_zero(4), _tile_zero(5);
    for (size_t i = 0; i < steps; i++) {
        _tile_dpbsud(0, 1, 2);
        _tile_dpbsud(3, 4, 5);
    }
}
#else
void tern_amx_spin(size_t steps) { (void)steps; }
int tern_amx_ready(void) { return 0; }
void tern_amx_switch(int enabled) { (void)enabled; }
void tern_dot_x16_amx(int layout, const void *w, const tern_block_q8a *x, size_t stride, size_t count, float *out, size_t out_stride) {
    (void)layout, (void)w, (void)x, (void)stride, (void)count, (void)out, (void)out_stride;
}
#endif
