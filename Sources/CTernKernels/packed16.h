// The sixteen-row VNNI layouts of the quantized types (packed16.c), for interleave.c.
#ifndef TERN_PACKED16_H
#define TERN_PACKED16_H

#include "CTernKernels.h"

/// The sixteen-row layout of a quantized type, or 0 when it has none.
int tern_packed16_layout_of(int type);

/// Whether `layout` is one of the sixteen-row quantized layouts.
int tern_is_packed16(int layout);

/// Packs row group g (rows 16g..16g+15 of `source`, rows of `columns` weights of `type`) into `layout`.
void tern_pack16_group(int type, int layout, const void *source, void *target, size_t columns, size_t g);

#if defined(__x86_64__)
/// tern_pack16_group with AVX-512 for Q8_0, Q4_0, IQ4_NL, Q4_K, Q5_K and Q6_K (the others go to it).
/// Sixteen rows packed in any sixteen-row layout against exactly sixteen tokens on AMX tiles, the
/// same floats as the VNNI kernel; call only when tern_amx_ready().
void tern_dot_x16_amx(int layout, const void *w, const tern_block_q8a *x, size_t stride, size_t count, float *out, size_t out_stride);
/// Pairs of tile multiplies in that kernel's shapes (2 x 8,192 multiply-adds each), for the peak probe.
void tern_amx_spin(size_t steps);

/// AMX's tile configuration (palette 1).
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t columns_bytes[16];
    uint8_t rows[16];
} tern_tile_config;

/// Which configuration this thread's tiles hold (a kernel loads its own when they differ).
enum { TERN_TILES_NONE, TERN_TILES_INT8, TERN_TILES_BF16 };
extern __thread int tern_amx_tile_shape;

/// Sixteen rows packed in a quantized sixteen-row layout, dequantized into `panel` (16 x columns
/// bf16): per 32 columns, sixteen 64-byte rows holding each of the sixteen rows' weights 2p, 2p + 1.
void tern_x16_bf16_panel(int layout, const void *group, size_t columns, uint16_t *panel);
/// A panel, and the next group's panel unless NULL, against tokens [from, from + tokens) of bf16
/// activations laid out by tern_row_to_bf16_chunks (`rows` of them, a multiple of 32, every token
/// up to the next multiple of 32 present): out[token * out_stride + row] for the sixteen or 32 rows.
void tern_x16_bf16_amx(const uint16_t *panel, const uint16_t *second_panel, const uint16_t *xb, size_t rows, size_t from, size_t tokens,
                       size_t columns, float *out, size_t out_stride);
/// One f32 activation row (NULL: zeros) in bf16, rounded to nearest even, as AMX reads it: its
/// columns 32c..32c + 31 at out[c * rows * 32], where `out` is the token's place in chunk 0.
void tern_row_to_bf16_chunks(const float *x, size_t columns, uint16_t *out, size_t rows);
void tern_pack16_group_avx512(int type, int layout, const void *source, void *target, size_t columns, size_t g);
#endif

/// Row r (0..15) of a packed group as f32.
void tern_packed16_row(int layout, const void *group, size_t columns, int r, float *dst);

#endif
