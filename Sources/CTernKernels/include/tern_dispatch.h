// The kernel table, filled once from the CPU's features; a path can be forced for tests.
#ifndef TERN_DISPATCH_H
#define TERN_DISPATCH_H

#include <stddef.h>
#include "tern_quant.h"

typedef float (*tern_dot_q_fn)(const void *w, const tern_block_q8a *x, size_t count);
typedef float (*tern_dot_f_fn)(const void *w, const float *x, size_t count);
/// One weight row against four activation rows (x, x + stride, ...): the weights are unpacked
/// once for all four, which is what makes prefill fast. NULL where a path has no such kernel.
typedef void (*tern_dot4_q_fn)(const void *w, const tern_block_q8a *x, size_t stride, size_t count, float out[4]);

/// Four interleaved weight rows against one activation row.
typedef void (*tern_dot_x4_fn)(const void *w, const tern_block_q8a *x, size_t count, float out[4]);
/// Four interleaved weight rows against four activation rows (x, x + stride, ...): out[token * 4 + row].
typedef void (*tern_dot_x4_t4_fn)(const void *w, const tern_block_q8a *x, size_t stride, size_t count, float out[16]);

/// Sixteen rows packed for VNNI in `layout` (Q8_0X16, Q4_0X16, Q4_1X16, Q4_KX16, Q5_KX16 or Q6_KX16)
/// against `tokens` (1-16) activation rows (x, x + stride, ...): out[token * out_stride + row].
typedef void (*tern_dot_x16_fn)(int layout, const void *w, const tern_block_q8a *x, size_t stride, size_t count, size_t tokens,
                                float *out, size_t out_stride);

/// Sixteen interleaved F16 or BF16 rows against `tokens` (1-16) f32 activation rows, element i of
/// token t at x[t * token_step + i * column_step]: out[token * out_stride + row].
typedef void (*tern_dot_x16_f_fn)(const void *w, const float *x, size_t token_step, size_t column_step, size_t count, size_t tokens,
                                  float *out, size_t out_stride);

/// Four weight rows (w, w + row_bytes, ...) against four f32 activation rows (x, x + count, ...):
/// out[token * 4 + row]. For 16- and 32-bit weights in prefill.
typedef void (*tern_dot4x4_f_fn)(const void *w, size_t row_bytes, const float *x, size_t count, float out[16]);

/// One row of a type read through unpacking (tern_gguf_blocks.h) against `tokens` (1-32) activation
/// rows (x, x + stride, ...): each block is unpacked once for all of them. out[token].
typedef void (*tern_dot_unpacked_fn)(int type, const void *w, const tern_block_q8a *x, size_t stride, size_t count, size_t tokens,
                                     float *out);

/// Packs row group g of a matrix into a sixteen-row layout (packed16.h's tern_pack16_group).
typedef void (*tern_pack16_fn)(int type, int layout, const void *source, void *target, size_t columns, size_t g);

typedef struct {
    const char *name;
    tern_dot_f_fn dot_f32, dot_f16, dot_bf16;
    tern_dot_q_fn dot_q8_0, dot_q4_0, dot_q4_k;
    tern_dot4_q_fn dot4_q8_0, dot4_q4_0;
    tern_dot_x4_fn dot_q4_0x4, dot_q8_0x4;
    tern_dot_x4_t4_fn dot_q4_0x4_t4, dot_q8_0x4_t4;
    tern_dot4x4_f_fn dot4x4_f32, dot4x4_f16, dot4x4_bf16;
    tern_dot_x16_fn dot_x16;
    tern_dot_x16_f_fn dot_f16x16, dot_bf16x16;
    tern_dot_unpacked_fn dot_unpacked;
    tern_pack16_fn pack16_group;
    /// Whether dot_x16 multiplies `layout` itself (weights are packed into it only then); NULL: none.
    int (*has_x16)(int layout);
} tern_kernel_table;

/// Most activation rows one tern_dot_unpacked_fn call takes.
#define TERN_UNPACKED_TOKENS 32

// The reference four-row kernels, which paths without their own use too.
void tern_dot_q4_0x4_scalar(const void *w, const tern_block_q8a *x, size_t count, float out[4]);
void tern_dot_q8_0x4_scalar(const void *w, const tern_block_q8a *x, size_t count, float out[4]);
void tern_dot_x16_scalar(int layout, const void *w, const tern_block_q8a *x, size_t stride, size_t count, size_t tokens, float *out,
                         size_t out_stride);
void tern_dot_f16x16_scalar(const void *w, const float *x, size_t token_step, size_t column_step, size_t count, size_t tokens, float *out,
                            size_t out_stride);
void tern_dot_unpacked_scalar(int type, const void *w, const tern_block_q8a *x, size_t stride, size_t count, size_t tokens, float *out);
void tern_dot_bf16x16_scalar(const void *w, const float *x, size_t token_step, size_t column_step, size_t count, size_t tokens, float *out,
                             size_t out_stride);

/// The table in use: the best the CPU supports, unless a path was forced on this thread.
const tern_kernel_table *tern_kernels(void);

/// Forces a path by name ("scalar", "avx2", "avxvnni", "avx512", "neon") or back to the best ("auto"), for
/// the calling thread: the kernels it runs (the pool's threads take its table). Returns 0 on
/// success, -1 if this CPU or build cannot run that path.
int tern_set_kernel_path(const char *name);

/// Names of the paths this CPU can run, best last, separated by spaces.
const char *tern_available_kernel_paths(void);

// Per-path tables (defined in the dot_*.c files; NULL where the build has no such path).
extern const tern_kernel_table tern_kernels_scalar;
const tern_kernel_table *tern_kernels_avx2(void);
const tern_kernel_table *tern_kernels_avxvnni(void);
const tern_kernel_table *tern_kernels_avx512(void);
const tern_kernel_table *tern_kernels_neon(void);

#endif
