/* Shared pieces of the reference kernels: resolved op parameters, the
 * scratch area, element access through strides, and the kernel entry points
 * node.c dispatches to. Private to core/src/cpu_ref/ops/. */
#ifndef WEFT_CORE_CPU_REF_OPS_KERNELS_INTERNAL_H_
#define WEFT_CORE_CPU_REF_OPS_KERNELS_INTERNAL_H_

#include <stdarg.h>
#include <string.h>

#include "kernels.h"

/* Results must not depend on whether the compiler fuses a * b + c into one
 * FMA (docs/ops.md, section 2): GCC in ISO C mode (the build's -std=c11)
 * never contracts, clang contracts within an expression unless told not to. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Every op's parameters after defaults are applied (docs/ops.md). */
typedef struct weft_cpu_ref_params_t {
  float scale, bias;            /* scale */
  float eps;                    /* rms_norm */
  uint32_t rope_mode;           /* rope */
  int32_t n_dims;               /* rope, 0 already replaced by ne[0] */
  float freq_base, freq_scale;  /* rope */
  float softmax_scale;          /* soft_max */
  uint32_t gelu_mode;           /* gelu, geglu */
  float attn_scale;             /* flash_attn, 0 already replaced */
  float logit_softcap;          /* flash_attn */
  int32_t sliding_window;       /* flash_attn */
  int32_t dim;                  /* concat */
} weft_cpu_ref_params_t;

/* Resolves node->params for node->op (defaults for absent members). Checks
 * only the envelope (size, struct_size); values are checked by the caller. */
bool weft__cpu_ref_params_resolve(const weft_cpu_ref_node_t* node,
                                  weft_cpu_ref_params_t* out_params, char* reason,
                                  size_t reason_cap);

/* A bump allocator over the caller's scratch area. Every take is rounded
 * up to, and aligned at, 16 bytes; sizes computed with
 * weft_cpu_ref_scratch_need match what the kernels take. */
typedef struct weft_cpu_ref_scratch_t {
  char* next;
  size_t left;
} weft_cpu_ref_scratch_t;

#define WEFT_CPU_REF_SCRATCH_ALIGN 16u

/* Scratch bytes for one take of count x size bytes, added to total;
 * saturates at SIZE_MAX. */
static inline size_t weft_cpu_ref_scratch_need(size_t total, int64_t count, size_t size) {
  if (count < 0) return SIZE_MAX;
  size_t bytes;
  if (__builtin_mul_overflow((size_t)count, size, &bytes)) return SIZE_MAX;
  if (__builtin_add_overflow(bytes, (size_t)(2 * WEFT_CPU_REF_SCRATCH_ALIGN), &bytes)) {
    return SIZE_MAX;
  }
  if (__builtin_add_overflow(total, bytes, &total)) return SIZE_MAX;
  return total;
}

/* count x size bytes of scratch, aligned; NULL when the area is too small. */
void* weft__cpu_ref_scratch_take(weft_cpu_ref_scratch_t* scratch, int64_t count, size_t size);

/* Writes "<format>" into error (when cap > 0) and returns false. */
bool weft__cpu_ref_fail(char* error, size_t cap, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- elements ----------------------------------------------------------- */

static inline bool weft_cpu_ref_is_float(uint32_t dtype) {
  return dtype == WEFT_DTYPE_F32 || dtype == WEFT_DTYPE_F16 || dtype == WEFT_DTYPE_BF16;
}

static inline bool weft_cpu_ref_is_block(uint32_t dtype) {
  return weft_dtype_block_elements(dtype) > 1;
}

/* Address of element (i0, i1, i2, i3); for block types i0 counts blocks. */
static inline char* weft_cpu_ref_at(const weft_cpu_ref_tensor_t* t, int64_t i0, int64_t i1,
                                    int64_t i2, int64_t i3) {
  return (char*)t->data + i0 * t->nb[0] + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

/* One f32, f16 or bf16 element as float. Element addresses need no
 * alignment (strides are arbitrary), hence memcpy. */
static inline float weft_cpu_ref_load(uint32_t dtype, const void* p) {
  if (dtype == WEFT_DTYPE_F32) {
    float v;
    memcpy(&v, p, sizeof(v));
    return v;
  }
  uint16_t h;
  memcpy(&h, p, sizeof(h));
  return dtype == WEFT_DTYPE_F16 ? weft__fp16_to_fp32(h) : weft__bf16_to_fp32(h);
}

static inline void weft_cpu_ref_store(uint32_t dtype, void* p, float v) {
  if (dtype == WEFT_DTYPE_F32) {
    memcpy(p, &v, sizeof(v));
    return;
  }
  const uint16_t h = dtype == WEFT_DTYPE_F16 ? weft__fp32_to_fp16(v) : weft__fp32_to_bf16(v);
  memcpy(p, &h, sizeof(h));
}

/* An i32 or i64 row id. */
static inline int64_t weft_cpu_ref_load_id(uint32_t dtype, const void* p) {
  if (dtype == WEFT_DTYPE_I32) {
    int32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
  }
  int64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

/* Row (ne[0] elements) at `row` of tensor t to floats: float types through
 * nb[0], block types with weft__dequantize_row (their rows are contiguous). */
void weft__cpu_ref_row_load(const weft_cpu_ref_tensor_t* t, const char* row, float* out);
/* Floats to the row at `row` of t: float types through nb[0], q8_0 by
 * weft__quantize_row_q8_0. */
void weft__cpu_ref_row_store(const weft_cpu_ref_tensor_t* t, char* row, const float* in);

/* ---- kernels ------------------------------------------------------------ */

/* A kernel runs a node that passed weft__cpu_ref_node_check. */
typedef bool weft_cpu_ref_kernel_fn(const weft_cpu_ref_node_t* node,
                                    const weft_cpu_ref_params_t* params,
                                    weft_cpu_ref_scratch_t* scratch, char* error,
                                    size_t error_cap);

/* data.c */
weft_cpu_ref_kernel_fn weft__cpu_ref_get_rows;
weft_cpu_ref_kernel_fn weft__cpu_ref_cpy;
weft_cpu_ref_kernel_fn weft__cpu_ref_cont;
weft_cpu_ref_kernel_fn weft__cpu_ref_set_rows;
weft_cpu_ref_kernel_fn weft__cpu_ref_concat;
weft_cpu_ref_kernel_fn weft__cpu_ref_argmax;
/* elementwise.c */
weft_cpu_ref_kernel_fn weft__cpu_ref_add;
weft_cpu_ref_kernel_fn weft__cpu_ref_mul;
weft_cpu_ref_kernel_fn weft__cpu_ref_scale;
weft_cpu_ref_kernel_fn weft__cpu_ref_gelu;
weft_cpu_ref_kernel_fn weft__cpu_ref_silu;
weft_cpu_ref_kernel_fn weft__cpu_ref_swiglu;
weft_cpu_ref_kernel_fn weft__cpu_ref_geglu;
/* rows.c */
weft_cpu_ref_kernel_fn weft__cpu_ref_rms_norm;
weft_cpu_ref_kernel_fn weft__cpu_ref_rope;
weft_cpu_ref_kernel_fn weft__cpu_ref_soft_max;
/* mul_mat.c */
weft_cpu_ref_kernel_fn weft__cpu_ref_mul_mat;
size_t weft__cpu_ref_mul_mat_scratch(const weft_cpu_ref_node_t* node);
/* flash_attn.c */
weft_cpu_ref_kernel_fn weft__cpu_ref_flash_attn;
size_t weft__cpu_ref_flash_attn_scratch(const weft_cpu_ref_node_t* node);

#endif /* WEFT_CORE_CPU_REF_OPS_KERNELS_INTERNAL_H_ */
