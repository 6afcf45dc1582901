// Sixteen packed Q8_0 rows against sixteen tokens on AMX tiles (Intel Sapphire Rapids and later):
// one tile multiply per 32-weight block does the 8,192 int8 products that take 128 VNNI
// instructions, and the block's scales are applied to the 16 x 16 int32 sums with AVX-512 exactly
// as the VNNI kernel applies them, so both give the same floats. The packed block's eight
// 64-byte vectors (row r's four weights in lane r) are already the layout of AMX's second
// operand; the activation blocks of the sixteen tokens are the rows of the first.
#include "CTernKernels.h"
#include "packed16.h"

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,f16c,amx-tile,amx-int8")))

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

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t columns_bytes[16];
    uint8_t rows[16];
} tile_config;

/// Tiles 0 and 3: 16 x 16 int32 sums; 1 and 4: sixteen tokens' 32 activation bytes; 2 and 5: a
/// block's weights, eight rows of sixteen rows' four bytes (two blocks in flight). Tile state is per thread.
AMX_TARGET static void configure_tiles(void) {
    static __thread int configured;
    if (configured) return;
    tile_config config = {0};
    config.palette = 1;
    for (int set = 0; set < 6; set += 3) {
        config.rows[set] = 16, config.columns_bytes[set] = 64;
        config.rows[set + 1] = 16, config.columns_bytes[set + 1] = TERN_QK;
        config.rows[set + 2] = TERN_QK / 4, config.columns_bytes[set + 2] = 64;
    }
    _tile_loadconfig(&config);
    configured = 1;
}

AMX_TARGET static inline __attribute__((always_inline)) __m512 halves_to_floats(const uint16_t h[16]) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)h));
}

/// Adds one block's 16 x 16 sums, scaled by the weights' and each token's block scale, less the
/// weights' +128 times the token's scaled sum, to the tokens' running rows.
AMX_TARGET static inline __attribute__((always_inline)) void add_block(__m512 acc[16], const int32_t sums[16][16], const tern_block_q8_0x16 *b,
                                                                        const tern_block_q8a *x, size_t stride) {
    __m512 scale = halves_to_floats(b->d), offset = _mm512_mul_ps(scale, _mm512_set1_ps(128.0f));
#pragma clang loop unroll(full)
    for (int t = 0; t < 16; t++) {
        const tern_block_q8a *a = x + (size_t)t * stride;
        __m512i sum = _mm512_load_si512(sums[t]);
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(scale, _mm512_set1_ps(a->d)), acc[t]);
        acc[t] = _mm512_fnmadd_ps(offset, _mm512_set1_ps(a->s), acc[t]);
    }
}

AMX_TARGET void tern_dot_q8_0x16_amx(const void *w, const tern_block_q8a *x, size_t stride, size_t count, float *out, size_t out_stride) {
    configure_tiles();
    const tern_block_q8_0x16 *b = w;
    size_t blocks = count / TERN_QK;
    long x_bytes = (long)(stride * sizeof(tern_block_q8a));
    int32_t even[16][16] __attribute__((aligned(64))), odd[16][16] __attribute__((aligned(64)));
    __m512 acc[16];
#pragma clang loop unroll(full)
    for (int t = 0; t < 16; t++) acc[t] = _mm512_setzero_ps();
    size_t sb = 0;
    // Two blocks per step in separate tiles, so the second multiply runs while the first block's
    // sums are scaled.
    for (; sb + 2 <= blocks; sb += 2) {
        // Every line of the blocks eight ahead, as the VNNI kernel asks for them.
        for (size_t line = 0; line < 2 * sizeof *b; line += 64) _mm_prefetch((const char *)(b + sb + 8) + line, _MM_HINT_T0);
        _tile_zero(0);
        _tile_loadd(1, x[sb].qs, x_bytes);
        _tile_loadd(2, b[sb].qs, 64);
        _tile_dpbsud(0, 1, 2);  // signed activations times weights stored plus 128
        _tile_zero(3);
        _tile_loadd(4, x[sb + 1].qs, x_bytes);
        _tile_loadd(5, b[sb + 1].qs, 64);
        _tile_dpbsud(3, 4, 5);
        _tile_stored(0, even, 64);
        add_block(acc, (const int32_t(*)[16])even, b + sb, x + sb, stride);
        _tile_stored(3, odd, 64);
        add_block(acc, (const int32_t(*)[16])odd, b + sb + 1, x + sb + 1, stride);
    }
    if (sb < blocks) {
        _tile_zero(0);
        _tile_loadd(1, x[sb].qs, x_bytes);
        _tile_loadd(2, b[sb].qs, 64);
        _tile_dpbsud(0, 1, 2);
        _tile_stored(0, even, 64);
        add_block(acc, (const int32_t(*)[16])even, b + sb, x + sb, stride);
    }
#pragma clang loop unroll(full)
    for (int t = 0; t < 16; t++) _mm512_storeu_ps(out + (size_t)t * out_stride, acc[t]);
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
void tern_dot_q8_0x16_amx(const void *w, const tern_block_q8a *x, size_t stride, size_t count, float *out, size_t out_stride) {
    (void)w, (void)x, (void)stride, (void)count, (void)out, (void)out_stride;
}
#endif
