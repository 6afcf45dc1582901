// Tern's compute kernels: every hot loop of a forward pass lives here, in plain C.
#ifndef CTERN_KERNELS_H
#define CTERN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Storage types of weight matrices, matching TernOps.WeightType's raw values.
enum tern_weight_type {
    TERN_WEIGHT_F32 = 0,
    TERN_WEIGHT_F16 = 1,
    TERN_WEIGHT_BF16 = 2,
    TERN_WEIGHT_Q8_0 = 3,
    TERN_WEIGHT_Q4_0 = 4,
    TERN_WEIGHT_Q4_K = 5,
    // In-memory layouts only: Q4_0 / Q8_0 with every four rows interleaved block by block, so one
    // kernel call reads four rows with contiguous loads (made at load time for decode speed).
    TERN_WEIGHT_Q4_0X4 = 6,
    TERN_WEIGHT_Q8_0X4 = 7,
    // Q8_0 / Q4_0 / Q4_K with sixteen rows packed for VNNI (tern_block_q8_0x16, tern_block_q4_0x16,
    // tern_block_q4_kx16), where AVX-512 VNNI runs them.
    TERN_WEIGHT_Q8_0X16 = 8,
    TERN_WEIGHT_Q4_0X16 = 9,
    TERN_WEIGHT_Q4_KX16 = 10,
    // F16 / BF16 with sixteen rows interleaved element by element ([column][16 rows]), so one
    // vector holds a column of sixteen rows, where AVX-512 runs them.
    TERN_WEIGHT_F16X16 = 11,
    TERN_WEIGHT_BF16X16 = 12,
    // GGUF block types read by unpacking each block (tern_gguf_blocks.h).
    TERN_WEIGHT_Q4_1 = 13,
    TERN_WEIGHT_Q5_0 = 14,
    TERN_WEIGHT_Q5_1 = 15,
    TERN_WEIGHT_Q2_K = 16,
    TERN_WEIGHT_Q3_K = 17,
    TERN_WEIGHT_Q5_K = 18,
    TERN_WEIGHT_Q6_K = 19,
    TERN_WEIGHT_IQ4_NL = 20,
    TERN_WEIGHT_IQ4_XS = 21,
    // In memory only: asymmetric 8-bit checkpoints (GPTQ int8 with zero points), tern_block_q8_0m.
    TERN_WEIGHT_Q8_0M = 22,
    // The other GGUF types with sixteen rows packed for VNNI (tern_block_q4_1x16 ... in
    // tern_quant.h), where AVX-512 VNNI runs them.
    TERN_WEIGHT_Q4_1X16 = 23,
    TERN_WEIGHT_Q5_KX16 = 24,
    TERN_WEIGHT_Q6_KX16 = 25,
    TERN_WEIGHT_Q5_0X16 = 26,
    TERN_WEIGHT_Q5_1X16 = 27,
    TERN_WEIGHT_IQ4_NLX16 = 28,
    TERN_WEIGHT_IQ4_XSX16 = 29,
    TERN_WEIGHT_Q3_KX16 = 30,
    TERN_WEIGHT_Q2_KX16 = 31,
};

#include "tern_quant.h"
#include "tern_gguf_blocks.h"
#include "tern_dispatch.h"
#include "tern_pool.h"

/// A token drawn from softmax(scores / temperature), `unit` uniform in [0, 1): the first index
/// where the running probability passes it. Index 0 when every score is -infinity. The pool's
/// threads share the work when `pool` is not NULL.
size_t tern_sample_softmax(tern_pool *pool, const float *scores, size_t n, float temperature, double unit);

float tern_f16_to_f32(uint16_t h);
float tern_bf16_to_f32(uint16_t h);
uint16_t tern_f32_to_f16(float f);
uint16_t tern_f32_to_bf16(float f);

/// Converts `count` elements of a weight row of type `type` to f32 (not for interleaved types).
void tern_convert_row(int type, const void *src, float *dst, size_t count);

/// Row `row` of a [rows x columns] matrix of any type, interleaved ones included, as f32.
void tern_matrix_row(int type, const void *matrix, size_t row, size_t columns, float *dst);

/// The interleaved layout the kernels in use read a Q4_0 / Q8_0 matrix of `rows` rows fastest in,
/// or `type` itself when interleaving would only cost.
int tern_interleaved_layout(int type, size_t rows);

/// Rearranges a Q4_0 or Q8_0 matrix into `layout` (from tern_interleaved_layout).
void tern_interleave_rows(tern_pool *pool, int type, int layout, const void *source, void *target, size_t rows, size_t columns);

/// One weight matrix of a product: [rows x k] row-major (PyTorch Linear layout), and its output.
typedef struct {
    int type;
    const void *weights;
    size_t rows;
    float *out;             // [n x rows]
} tern_matrix;

#define TERN_MAX_MATRICES 4

/// out_m[n x rows_m] = x[n x k] * W_m^T for up to four matrices reading the same x, any weight
/// types, in one dispatch: their rows are split over the pool's threads, each row read once for
/// all n tokens. `activations` holds tern_matmul_scratch_bytes(k, n, threads) bytes.
void tern_matmul_many(tern_pool *pool, const float *x, size_t n, size_t k, const tern_matrix *matrices, size_t count,
                      void *activations);
/// The same for one matrix: y[n x m] = x[n x k] * W^T.
void tern_matmul(tern_pool *pool, const float *x, size_t n, size_t k, int type, const void *w, size_t m,
                 float *y, void *activations);
size_t tern_matmul_scratch_bytes(size_t k, size_t n, int threads);

/// Best read bandwidth in GB/s of `repeats` passes of the pool's threads over `bytes` of memory.
double tern_measure_read_bandwidth(tern_pool *pool, size_t bytes, int repeats);
/// Whether AMX int8 tiles are usable (the CPU has them and the kernel granted the tile state);
/// sixteen tokens against any sixteen-row layout then run on them. `tern_amx_switch(0)` turns them off (tests
/// compare both paths), `tern_amx_switch(1)` back on.
int tern_amx_ready(void);
void tern_amx_switch(int enabled);
/// Whether prompts of 64 tokens or more run the quantized sixteen-row matrices on AMX BF16 tiles:
/// AMX ready (and switched on) with AMX-BF16 and AVX512-BF16.
int tern_amx_bf16_ready(void);
/// Best multiply-adds per second of `repeats` passes of the pool's threads on registers alone: int8
/// dot products (VNNI) when `int8`, else f32 FMA; 0 where neither vector path exists.
double tern_measure_mac_peak(tern_pool *pool, int int8, int repeats);

// Quantizers of llama-quantize's mix types (quantize_blocks.c); count a multiple of the block.
void tern_quantize_row_q4_1(const float *x, tern_block_q4_1 *y, size_t count);
void tern_quantize_row_q5_0(const float *x, tern_block_q5_0 *y, size_t count);
void tern_quantize_row_q5_1(const float *x, tern_block_q5_1 *y, size_t count);
void tern_quantize_row_q2_k(const float *x, tern_block_q2_k *y, size_t count);
void tern_quantize_row_q3_k(const float *x, tern_block_q3_k *y, size_t count);
void tern_quantize_row_q5_k(const float *x, tern_block_q5_k *y, size_t count);
void tern_quantize_row_q6_k(const float *x, tern_block_q6_k *y, size_t count);

/// Converts a [rows x columns] matrix of source_type into a quantized target_type (Q8_0, Q4_0
/// or one of the types above), on the pool.
void tern_quantize_matrix(tern_pool *pool, int source_type, const void *source, int target_type, void *target,
                          size_t rows, size_t columns);

/// How a checkpoint packs integer weights into int32 words.
enum tern_packing {
    TERN_PACKING_GPTQ = 0,  // qweight [inputs / (32 / bits)][outputs], along the inputs, low bits first
    TERN_PACKING_AWQ = 1,   // qweight [inputs][outputs / 8], eight 4-bit columns per word in AWQ's order
};

/// A GPTQ or AWQ weight matrix as stored: weight[o][i] = scale[g][o] * (q[i][o] - zero[g][o]) with
/// g the group of input i; zeros pack along the outputs (as AWQ's qweight for AWQ).
typedef struct {
    int scheme;                     // enum tern_packing
    int bits;                       // 4 or 8
    int zero_offset;                // added to the stored zeros (1 for GPTQ's original format)
    const int32_t *qweight, *qzeros;
    const uint16_t *scales;         // f16 [groups][outputs]
    const int32_t *group_of_input;  // g_idx: group of each stored input; NULL for input / group_size
    size_t group_size;
    const int32_t *input_order;     // stored input of column j (act-order, sorted by group); NULL for j
    size_t inputs, outputs;
} tern_packed_ints;

/// Zero point of output `output` in group `group`, with the offset applied.
int tern_packed_zero(const tern_packed_ints *matrix, size_t group, size_t output);

/// Rewrites a packed matrix as [outputs x inputs] rows of `target`: Q4_0 (4-bit, every zero 8),
/// Q4_1 (4-bit), Q8_0 (8-bit, every zero 128) or Q8_0M (8-bit). Every 32 consecutive columns
/// must share one group.
void tern_convert_packed_ints(tern_pool *pool, const tern_packed_ints *matrix, int target, void *out);

/// y = x / rms(x) * weight, for `rows` rows of `dim` elements.
void tern_rmsnorm(tern_pool *pool, const float *x, const float *weight, float *y, size_t rows, size_t dim, float eps);

/// Rotates pairs (i, i + rotary_dims/2) among the first rotary_dims dimensions of each head by the
/// angles whose cos/sin are given (rotary_dims/2 values each), as Hugging Face's rotate_half does;
/// the head's other dimensions pass through (partial rotary, as ChatGLM and Qwen's rotary_pct).
void tern_rope(float *vec, size_t heads, size_t head_dim, size_t rotary_dims, const float *cos_t, const float *sin_t);

/// gate = silu(gate) * up, elementwise.
void tern_silu_mul(tern_pool *pool, float *gate, const float *up, size_t count);

/// Element types of the KV cache, matching TernOps.KVCacheType's raw values.
enum tern_kv_type { TERN_KV_F32 = 0, TERN_KV_F16 = 1, TERN_KV_BF16 = 2, TERN_KV_Q8_0 = 3 };

/// Dimensions of a head that share one scale in a q8_0 KV cache.
#define TERN_KV_Q8_GROUP 32

/// One layer of the paged KV cache. Keys are [block][n_kv_heads][head_dim][block_size] elements
/// (transposed within a block, so consecutive positions sit side by side and score in one vector),
/// values [block][block_size][n_kv_heads][head_dim]. q8_0 stores int8 elements and an f32 scale
/// per TERN_KV_Q8_GROUP dimensions of a head: key_scales [block][n_kv_heads][groups][block_size],
/// value_scales [block][block_size][n_kv_heads][groups] (groups = head_dim rounded up / 32).
typedef struct {
    int type;
    size_t block_size, n_kv_heads, head_dim;
    void *keys, *values;
    float *key_scales, *value_scales;
} tern_kv_layer;

/// Writes one token's keys and values (n_kv_heads * head_dim floats each) into slot `slot` of
/// block `block`, converted to the layer's type (round to nearest even; q8_0 as absmax / 127).
void tern_kv_store(const tern_kv_layer *layer, size_t block, size_t slot, const float *key, const float *value);

/// One sequence's chunk in a batched attention call: `tokens` consecutive tokens at positions
/// start_pos..., whose cache blocks the block table lists.
typedef struct {
    const int32_t *block_table;
    size_t start_pos, tokens;
} tern_attention_sequence;

/// Causal attention of a batch of sequence chunks (their tokens are consecutive rows of q and out,
/// [rows][n_heads * head_dim]) over one layer of the paged KV cache, with an online softmax over key
/// blocks (no score row as long as the context). window > 0 limits each token to the last `window`
/// positions. `alibi_slopes` (n_heads values, or NULL) adds slope * (key position - query position)
/// to every score. `scratch` holds tern_attention_scratch_floats(...) floats.
void tern_attention(tern_pool *pool, const float *q, const tern_kv_layer *cache, const tern_attention_sequence *sequences,
                    size_t count, size_t window, size_t n_heads, float scale, const float *alibi_slopes, float *scratch, float *out);
size_t tern_attention_scratch_floats(size_t n_heads, size_t n_kv_heads, size_t head_dim, size_t block_size, int threads);

#endif
