/* Reference CPU kernels for op set version 1 (docs/ops.md).
 *
 * These kernels define what every op means: portable C11, no SIMD, no
 * threads, written to be read. Every other backend is tested against them.
 * The backend glue (core/src/cpu_ref/buffer.c) turns a weft_node_t and its
 * tensor descriptors into the plain structs below, asks
 * weft__cpu_ref_node_check whether the node is supported (op_query) and runs
 * it with weft__cpu_ref_node_run (segment_submit).
 *
 * Everything here is pure: no allocation, no global state, no logging. All
 * functions are thread-safe for distinct destinations. */
#ifndef WEFT_CORE_CPU_REF_OPS_KERNELS_H_
#define WEFT_CORE_CPU_REF_OPS_KERNELS_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/abi/dtype.h"
#include "weft/abi/graph.h"
#include "weft/abi/op.h"

/* The op set these kernels implement (docs/ops.md, "Op set version 1"). */
#define WEFT_CPU_REF_OP_SET_VERSION 1

/* A tensor as the kernels see it: shape, byte strides and the address of
 * element 0 (buffer base + descriptor offset). The caller guarantees that
 * every element the shape and strides address lies inside the memory at
 * data; the kernels cannot check that. */
typedef struct weft_cpu_ref_tensor_t {
  uint32_t dtype;   /* weft_dtype_t */
  int64_t ne[4];    /* elements per dimension, ne[0] innermost */
  int64_t nb[4];    /* byte strides */
  void* data;       /* element 0 */
} weft_cpu_ref_tensor_t;

/* One node. src[i] is NULL where the op leaves operand i unused. params is
 * the op's parameter struct (weft/abi/op.h) or NULL for all defaults, with
 * params_size its size in bytes (equal to its struct_size). */
typedef struct weft_cpu_ref_node_t {
  uint32_t op; /* weft_op_t */
  const weft_cpu_ref_tensor_t* src[WEFT_MAX_SRC];
  const weft_cpu_ref_tensor_t* dst;
  const void* params;
  uint32_t params_size;
} weft_cpu_ref_node_t;

/* Validates op, dtypes, shapes, strides and params exactly as docs/ops.md
 * states, from the descriptors alone: data may be NULL (op queries and graph
 * building have no memory yet). Returns true when this backend runs the node; otherwise false with
 * a precise reason in `reason` (always terminated when reason_cap > 0), e.g.
 * "mul_mat: src1 must be f32, got f16". reason may be NULL. */
bool weft__cpu_ref_node_check(const weft_cpu_ref_node_t* node, char* reason,
                              size_t reason_cap);

/* Bytes of scratch memory weft__cpu_ref_node_run needs for a node that passed
 * the check (0 for a node that did not). It depends only on the node
 * (shapes, strides, dtypes, data addresses), never on tensor contents, and
 * saturates at SIZE_MAX rather than overflowing. */
size_t weft__cpu_ref_node_scratch_size(const weft_cpu_ref_node_t* node);

/* Runs a node. scratch/scratch_size: a work area the caller provides, at
 * least weft__cpu_ref_node_scratch_size(node) bytes, any alignment; may be
 * NULL when that size is 0. Returns true, or false with a message in `error`
 * (a node that fails the check, an operand without data, a row id outside its
 * table, a scratch area too small). On false the contents of dst are unspecified. dst may be the
 * very same view as src0 (same data and strides) for the ops docs/ops.md
 * marks in-place safe; any other overlap of dst with an input is undefined. */
bool weft__cpu_ref_node_run(const weft_cpu_ref_node_t* node, void* scratch,
                            size_t scratch_size, char* error, size_t error_cap);

/* The same two for a node that already passed weft__cpu_ref_node_check, so
 * that a backend which checks once (when it prepares a segment) does not pay
 * for the check again on every run. Passing an unchecked node is undefined. */
size_t weft__cpu_ref_node_scratch_size_checked(const weft_cpu_ref_node_t* node);
bool weft__cpu_ref_node_run_checked(const weft_cpu_ref_node_t* node, void* scratch,
                                    size_t scratch_size, char* error, size_t error_cap);

/* IEEE binary16 <-> binary32. Round to nearest, ties to even; subnormals
 * kept; overflow gives infinity; NaN stays NaN (quiet, sign and the top
 * payload bits kept). */
float weft__fp16_to_fp32(uint16_t h);
uint16_t weft__fp32_to_fp16(float f);

/* bfloat16 <-> binary32. Same rounding rules as fp16 (subnormals kept). */
float weft__bf16_to_fp32(uint16_t h);
uint16_t weft__fp32_to_bf16(float f);

/* Converts n elements of one row stored as `dtype` (GGUF block layout, see
 * docs/ops.md "Dequantization") to f32. Supports f32, f16, bf16, q4_0, q4_1,
 * q5_0, q5_1, q8_0, q8_1, q2_K, q3_K, q4_K, q5_K, q6_K and q8_K. src needs no
 * alignment. Returns false (writing nothing) for another dtype or an n that
 * is not a whole number of blocks. */
bool weft__dequantize_row(uint32_t dtype, const void* src, float* dst, int64_t n);

/* True when weft__dequantize_row handles dtype. */
bool weft__dequantize_supported(uint32_t dtype);

/* Quantizes n floats to q8_0 blocks as ggml does: per block of 32,
 * d = amax / 127, q = round(x * (1 / d)) with halves away from zero, d stored
 * as f16. Returns false for n not a multiple of 32. dst needs no alignment. */
bool weft__quantize_row_q8_0(const float* src, void* dst, int64_t n);

/* Maps a plugin's buffer handle to its memory; false with a reason for a
 * handle the backend does not recognise. */
typedef bool (*weft_cpu_ref_buffer_resolve_fn)(void* ctx, const weft_plugin_buffer_t* buffer,
                                               void** out_data, uint64_t* out_size,
                                               char* error, size_t error_cap);

/* Turns an ABI node, whose operands index `tensors`, into a kernel node whose
 * tensors live in `storage`. With `resolve`, data addresses are resolved and
 * each tensor's whole extent is checked against its buffer; without it (op
 * queries) data stays NULL. Returns false with a reason naming the operand
 * ("silu: src0 (tensor 0): tensor spans [0, +128) but its buffer has 64
 * bytes"). Does not run the node check. */
bool weft__cpu_ref_node_from_abi(const weft_node_t* node,
                                 const weft_tensor_desc_t* const* tensors,
                                 uint32_t tensor_count, weft_cpu_ref_buffer_resolve_fn resolve,
                                 void* ctx, weft_cpu_ref_tensor_t storage[WEFT_MAX_SRC + 1],
                                 weft_cpu_ref_node_t* out, char* error, size_t error_cap);

/* The dtype's name as docs/ops.md and GGUF spell it ("q4_K"), or "unknown". */
const char* weft__dtype_name(uint32_t dtype);

#endif /* WEFT_CORE_CPU_REF_OPS_KERNELS_H_ */
