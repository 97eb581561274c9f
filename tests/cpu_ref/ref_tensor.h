/* Test tensors for the reference kernels: heap buffers with any memory
 * order of the dimensions, gaps between elements and an odd start address,
 * so that kernels are exercised on non-contiguous, misaligned views; plus
 * element access in double, a seeded random source and the NMSE measure of
 * docs/ops.md. Test-only code: failures end the test through cmocka. */
#ifndef WEFT_TESTS_CPU_REF_REF_TENSOR_H_
#define WEFT_TESTS_CPU_REF_REF_TENSOR_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu_ref/ops/kernels.h"

typedef struct ref_tensor_t {
  weft_cpu_ref_tensor_t view; /* what a node points at */
  unsigned char* storage;     /* the allocation, view.data lies inside */
  size_t storage_size;
} ref_tensor_t;

/* Layout of a test tensor. order[k] is the dimension stored k-th from the
 * innermost (order {0, 1, 2, 3} is the usual contiguous layout; block dtypes
 * need order[0] == 0); gap adds that many unused elements after each
 * dimension's run; offset shifts element 0 by that many bytes. */
typedef struct ref_layout_t {
  int order[4];
  int gap;
  int offset;
} ref_layout_t;

extern const ref_layout_t REF_CONTIGUOUS;

/* Allocates (zero-filled) and describes a tensor; free with ref_tensor_free. */
void ref_tensor_init(ref_tensor_t* t, uint32_t dtype, int64_t ne0, int64_t ne1, int64_t ne2,
                     int64_t ne3, ref_layout_t layout);
void ref_tensor_free(ref_tensor_t* t);

int64_t ref_tensor_count(const ref_tensor_t* t);

/* Element (i0..i3) of an f32, f16, bf16, i32 or i64 tensor. */
double ref_get(const ref_tensor_t* t, int64_t i0, int64_t i1, int64_t i2, int64_t i3);
/* Stores v rounded to the tensor's dtype. */
void ref_set(ref_tensor_t* t, int64_t i0, int64_t i1, int64_t i2, int64_t i3, double v);
/* Element i in logical order (i0 fastest). */
double ref_get_linear(const ref_tensor_t* t, int64_t i);
void ref_set_linear(ref_tensor_t* t, int64_t i, double v);

/* Row i1, i2, i3 of any dequantizable dtype as floats (out: ne[0]). */
void ref_row_dequantized(const ref_tensor_t* t, int64_t i1, int64_t i2, int64_t i3, float* out);

/* Deterministic pseudo-random numbers (xorshift64*). */
typedef struct ref_rng_t {
  uint64_t state;
} ref_rng_t;
uint64_t ref_rng_next(ref_rng_t* rng);
double ref_rng_uniform(ref_rng_t* rng, double lo, double hi);
int64_t ref_rng_int(ref_rng_t* rng, int64_t lo, int64_t hi); /* [lo, hi] */

/* Fills a float tensor with uniform values in [lo, hi). */
void ref_fill_uniform(ref_tensor_t* t, ref_rng_t* rng, double lo, double hi);
/* Fills a block-quantized tensor with random bytes, its scale fields with
 * f16 (f32 for q8_K) values in [0.001, 0.05) so every element is finite. */
void ref_fill_blocks(ref_tensor_t* t, ref_rng_t* rng);

/* sum (a - b)^2 / sum b^2 over n values; 0 when both are all zero. */
double ref_nmse(const double* actual, const double* expected, int64_t n);

/* Builds a node; unused sources NULL. */
weft_cpu_ref_node_t ref_node(uint32_t op, const ref_tensor_t* dst, const ref_tensor_t* src0,
                             const ref_tensor_t* src1, const void* params,
                             uint32_t params_size);

/* Runs a node with exactly the scratch it asks for; fails the test with the
 * kernel's message if the check or the run fails. */
void ref_run(const weft_cpu_ref_node_t* node);
/* Runs a node and returns false with its message in error (no test failure). */
bool ref_try_run(const weft_cpu_ref_node_t* node, char* error, size_t error_cap);

#endif /* WEFT_TESTS_CPU_REF_REF_TENSOR_H_ */
