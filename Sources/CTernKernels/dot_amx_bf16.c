// Prefill on AMX BF16 tiles. The int8 kernels rescale every 32-weight sub-block's sums in floats
// (block scales differ), which bounds them far below the tiles' speed; here a group of sixteen
// rows is dequantized once into bf16 (a panel) and every prompt token runs against it, the sums
// accumulating in the tiles over all columns with no rescaling. Activations are rounded to bf16
// instead of quantized to int8 per block, an error of the same order.
#include "CTernKernels.h"
#include "packed16.h"

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16,avx2,fma,f16c,amx-tile,amx-bf16")))
#define TERN_TARGET BF16_TARGET
#include "x16_sub_block.h"

int tern_amx_bf16_ready(void) {
    static int state = -1;
    if (!tern_amx_ready()) return 0;
    int ready = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    if (ready < 0) {
        unsigned a, b, c, d;
        ready = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 22 & 1);        // AMX-BF16
        ready = ready && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 5 & 1);  // AVX512-BF16
        __atomic_store_n(&state, ready, __ATOMIC_RELEASE);
    }
    return ready;
}

/// Tiles 0-3: 16 tokens x 16 rows of f32 sums (two token tiles x two row groups); 4 and 5: sixteen
/// tokens' 32 bf16 activations; 6 and 7: two panels' 32 columns.
BF16_TARGET static void configure_tiles(void) {
    if (tern_amx_tile_shape == TERN_TILES_BF16) return;
    tern_tile_config config = {0};
    config.palette = 1;
    for (int tile = 0; tile < 8; tile++) config.rows[tile] = 16, config.columns_bytes[tile] = 64;
    _tile_loadconfig(&config);
    tern_amx_tile_shape = TERN_TILES_BF16;
}

/// Byte `byte` of every 32-bit lane of v as floats.
BF16_TARGET static inline __m512 lane_byte(__m512i v, int byte) {
    return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(v, (unsigned)(8 * byte)), _mm512_set1_epi32(0xFF)));
}

BF16_TARGET void tern_x16_bf16_panel(int layout, const void *group, size_t columns, uint16_t *panel) {
    // Element 2r of a panel row is row r's first weight (from the low 16 bf16), 2r + 1 its second.
    const __m512i pairs = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                           23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const int halves = x16_halves(layout);
    for (size_t sb = 0; sb < columns / TERN_QK; sb++) {
        __m512i v[8];
        __m512 scale[2], offset[2];
        x16_sub_block(group, layout, sb, v, scale, offset);
        uint16_t *rows = panel + sb * 16 * 32;
        for (int u = 0; u < 8; u++) {
            int h = halves && u >= 4;
            for (int pair = 0; pair < 2; pair++) {
                __m512 first = _mm512_fmsub_ps(lane_byte(v[u], 2 * pair), scale[h], offset[h]);
                __m512 second = _mm512_fmsub_ps(lane_byte(v[u], 2 * pair + 1), scale[h], offset[h]);
                __m512i both = (__m512i)_mm512_cvtne2ps_pbh(second, first);
                _mm512_storeu_si512(rows + (2 * u + pair) * 32, _mm512_permutexvar_epi16(pairs, both));
            }
        }
    }
}

BF16_TARGET void tern_x16_bf16_amx(const uint16_t *panel, const uint16_t *second_panel, const uint16_t *xb, size_t rows, size_t from,
                                   size_t tokens, size_t columns, float *out, size_t out_stride) {
    configure_tiles();
    const long x_bytes = 64, chunk = (long)rows * 32;  // a tile's sixteen tokens are 1 KiB in a row
    float sums[4][16][16] __attribute__((aligned(64)));
    for (size_t i = 0; i < tokens; i += 32) {
        const uint16_t *first = xb + (from + i) * 32, *second = first + 16 * 32;
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        if (second_panel) {
            // Four tile loads feed four multiplies: each activation tile serves both groups.
            for (size_t c = 0; c < columns / 32; c++) {
                _tile_loadd(6, panel + c * 16 * 32, 64);
                _tile_loadd(7, second_panel + c * 16 * 32, 64);
                _tile_loadd(4, first + c * chunk, x_bytes);
                _tile_loadd(5, second + c * chunk, x_bytes);
                _tile_dpbf16ps(0, 4, 6);
                _tile_dpbf16ps(1, 4, 7);
                _tile_dpbf16ps(2, 5, 6);
                _tile_dpbf16ps(3, 5, 7);
            }
        } else {
            for (size_t c = 0; c < columns / 32; c++) {
                _tile_loadd(6, panel + c * 16 * 32, 64);
                _tile_loadd(4, first + c * chunk, x_bytes);
                _tile_loadd(5, second + c * chunk, x_bytes);
                _tile_dpbf16ps(0, 4, 6);
                _tile_dpbf16ps(2, 5, 6);
            }
        }
        _tile_stored(0, sums[0], 64);
        _tile_stored(1, sums[1], 64);
        _tile_stored(2, sums[2], 64);
        _tile_stored(3, sums[3], 64);
        for (size_t t = 0; t < 32 && i + t < tokens; t++) {
            float *row = out + (i + t) * out_stride;
            _mm512_storeu_ps(row, _mm512_load_ps(sums[t / 16 * 2][t % 16]));
            if (second_panel) _mm512_storeu_ps(row + 16, _mm512_load_ps(sums[t / 16 * 2 + 1][t % 16]));
        }
    }
}

BF16_TARGET void tern_row_to_bf16_chunks(const float *x, size_t columns, uint16_t *out, size_t rows) {
    for (size_t c = 0; c < columns / 32; c++) {
        __m512 low = x ? _mm512_loadu_ps(x + 32 * c) : _mm512_setzero_ps(), high = x ? _mm512_loadu_ps(x + 32 * c + 16) : _mm512_setzero_ps();
        _mm512_storeu_si512(out + c * rows * 32, (__m512i)_mm512_cvtne2ps_pbh(high, low));
    }
}
#else
int tern_amx_bf16_ready(void) { return 0; }
void tern_x16_bf16_panel(int layout, const void *group, size_t columns, uint16_t *panel) {
    (void)layout, (void)group, (void)columns, (void)panel;
}
void tern_x16_bf16_amx(const uint16_t *panel, const uint16_t *second_panel, const uint16_t *xb, size_t rows, size_t from, size_t tokens,
                       size_t columns, float *out, size_t out_stride) {
    (void)panel, (void)second_panel, (void)xb, (void)rows, (void)from, (void)tokens, (void)columns, (void)out, (void)out_stride;
}
void tern_row_to_bf16_chunks(const float *x, size_t columns, uint16_t *out, size_t rows) { (void)x, (void)columns, (void)out, (void)rows; }
#endif
