/* Test tensors for the reference kernels (see ref_tensor.h). */
#include "ref_tensor.h"

#include "cts_tensor.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

const ref_layout_t REF_CONTIGUOUS = {{0, 1, 2, 3}, 0, 0};

void ref_tensor_init(ref_tensor_t* t, uint32_t dtype, int64_t ne0, int64_t ne1, int64_t ne2,
                     int64_t ne3, ref_layout_t layout) {
  memset(t, 0, sizeof(*t));
  const int64_t block = weft_dtype_block_elements(dtype);
  const int64_t unit = weft_dtype_block_bytes(dtype);
  assert_true(block > 0);
  const int64_t ne[4] = {ne0, ne1, ne2, ne3};
  const bool blocked = block > 1;
  if (blocked) assert_int_equal(layout.order[0], 0);
  int64_t stride = unit * (blocked ? 1 : 1 + layout.gap);
  int64_t size = 0;
  for (int k = 0; k < 4; ++k) {
    const int d = layout.order[k];
    const int64_t n = d == 0 ? ne0 / block : ne[d];
    t->view.nb[d] = stride;
    size = stride * n;
    stride = size + layout.gap * unit;
  }
  t->storage_size = (size_t)(size + layout.offset + 16);
  t->storage = (unsigned char*)calloc(1, t->storage_size);
  assert_non_null(t->storage);
  t->view.dtype = dtype;
  for (int i = 0; i < 4; ++i) t->view.ne[i] = ne[i];
  t->view.data = t->storage + layout.offset;
}

void ref_tensor_free(ref_tensor_t* t) {
  free(t->storage);
  memset(t, 0, sizeof(*t));
}

int64_t ref_tensor_count(const ref_tensor_t* t) {
  return t->view.ne[0] * t->view.ne[1] * t->view.ne[2] * t->view.ne[3];
}

static unsigned char* ref_at(const ref_tensor_t* t, int64_t i0, int64_t i1, int64_t i2,
                             int64_t i3) {
  return (unsigned char*)t->view.data + i0 * t->view.nb[0] + i1 * t->view.nb[1] +
         i2 * t->view.nb[2] + i3 * t->view.nb[3];
}

double ref_get(const ref_tensor_t* t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  /* Element conversions are the conformance suite's (tests/cts/cts_tensor.c). */
  return cts_load(t->view.dtype, (const uint8_t*)ref_at(t, i0, i1, i2, i3));
}

void ref_set(ref_tensor_t* t, int64_t i0, int64_t i1, int64_t i2, int64_t i3, double v) {
  cts_store(t->view.dtype, (uint8_t*)ref_at(t, i0, i1, i2, i3), v);
}

static void ref_unlinear(const ref_tensor_t* t, int64_t i, int64_t idx[4]) {
  for (int d = 0; d < 4; ++d) {
    idx[d] = i % t->view.ne[d];
    i /= t->view.ne[d];
  }
}

double ref_get_linear(const ref_tensor_t* t, int64_t i) {
  int64_t idx[4];
  ref_unlinear(t, i, idx);
  return ref_get(t, idx[0], idx[1], idx[2], idx[3]);
}

void ref_set_linear(ref_tensor_t* t, int64_t i, double v) {
  int64_t idx[4];
  ref_unlinear(t, i, idx);
  ref_set(t, idx[0], idx[1], idx[2], idx[3], v);
}

void ref_row_dequantized(const ref_tensor_t* t, int64_t i1, int64_t i2, int64_t i3, float* out) {
  if (weft_dtype_block_elements(t->view.dtype) > 1) {
    assert_true(weft__dequantize_row(t->view.dtype, ref_at(t, 0, i1, i2, i3), out, t->view.ne[0]));
    return;
  }
  for (int64_t i = 0; i < t->view.ne[0]; ++i) out[i] = (float)ref_get(t, i, i1, i2, i3);
}

uint64_t ref_rng_next(ref_rng_t* rng) {
  uint64_t x = rng->state ? rng->state : 0x9E3779B97F4A7C15ull;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng->state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

double ref_rng_uniform(ref_rng_t* rng, double lo, double hi) {
  return lo + (hi - lo) * (double)(ref_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

int64_t ref_rng_int(ref_rng_t* rng, int64_t lo, int64_t hi) {
  return lo + (int64_t)(ref_rng_next(rng) % (uint64_t)(hi - lo + 1));
}

void ref_fill_uniform(ref_tensor_t* t, ref_rng_t* rng, double lo, double hi) {
  const int64_t n = ref_tensor_count(t);
  for (int64_t i = 0; i < n; ++i) ref_set_linear(t, i, ref_rng_uniform(rng, lo, hi));
}

static void ref_put_half(unsigned char* p, float v) {
  uint16_t h = weft__fp32_to_fp16(v);
  p[0] = (unsigned char)(h & 0xFF);
  p[1] = (unsigned char)(h >> 8);
}

void ref_fill_blocks(ref_tensor_t* t, ref_rng_t* rng) {
  const uint32_t dtype = t->view.dtype;
  const int64_t bytes = weft_dtype_block_bytes(dtype);
  const int64_t blocks = t->view.ne[0] / weft_dtype_block_elements(dtype);
  for (int64_t i3 = 0; i3 < t->view.ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < t->view.ne[2]; ++i2) {
      for (int64_t i1 = 0; i1 < t->view.ne[1]; ++i1) {
        unsigned char* row = ref_at(t, 0, i1, i2, i3);
        for (int64_t b = 0; b < blocks; ++b) {
          unsigned char* block = row + b * bytes;
          for (int64_t k = 0; k < bytes; ++k) block[k] = (unsigned char)ref_rng_next(rng);
          const float d = (float)ref_rng_uniform(rng, 0.001, 0.05);
          const float m = (float)ref_rng_uniform(rng, 0.001, 0.05);
          switch (dtype) {
            case WEFT_DTYPE_Q4_0: case WEFT_DTYPE_Q5_0: case WEFT_DTYPE_Q8_0:
            case WEFT_DTYPE_Q4_K: case WEFT_DTYPE_Q5_K:
              ref_put_half(block, d);
              if (dtype == WEFT_DTYPE_Q4_K || dtype == WEFT_DTYPE_Q5_K) ref_put_half(block + 2, m);
              break;
            case WEFT_DTYPE_Q4_1: case WEFT_DTYPE_Q5_1: case WEFT_DTYPE_Q8_1:
              ref_put_half(block, d);
              ref_put_half(block + 2, m);
              break;
            case WEFT_DTYPE_Q2_K:
              ref_put_half(block + 80, d);
              ref_put_half(block + 82, m);
              break;
            case WEFT_DTYPE_Q3_K: ref_put_half(block + 108, d); break;
            case WEFT_DTYPE_Q6_K: ref_put_half(block + 208, d); break;
            case WEFT_DTYPE_Q8_K: memcpy(block, &d, 4); break;
            default: fail_msg("ref_fill_blocks: dtype %s", weft__dtype_name(dtype));
          }
        }
      }
    }
  }
}

double ref_nmse(const double* actual, const double* expected, int64_t n) {
  double err = 0.0, ref = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = actual[i] - expected[i];
    err += d * d;
    ref += expected[i] * expected[i];
  }
  if (ref == 0.0) return err == 0.0 ? 0.0 : INFINITY;
  return err / ref;
}

weft_cpu_ref_node_t ref_node(uint32_t op, const ref_tensor_t* dst, const ref_tensor_t* src0,
                             const ref_tensor_t* src1, const void* params,
                             uint32_t params_size) {
  weft_cpu_ref_node_t node;
  memset(&node, 0, sizeof(node));
  node.op = op;
  node.dst = dst ? &dst->view : NULL;
  node.src[0] = src0 ? &src0->view : NULL;
  node.src[1] = src1 ? &src1->view : NULL;
  node.params = params;
  node.params_size = params_size;
  return node;
}

bool ref_try_run(const weft_cpu_ref_node_t* node, char* error, size_t error_cap) {
  if (!weft__cpu_ref_node_check(node, error, error_cap)) return false;
  const size_t need = weft__cpu_ref_node_scratch_size(node);
  /* Exactly the size asked for, at an odd address: the kernels align
   * themselves and must not touch a byte past it (AddressSanitizer). */
  unsigned char* block = need ? (unsigned char*)malloc(need + 1) : NULL;
  if (need) assert_non_null(block);
  bool ok = weft__cpu_ref_node_run(node, block ? block + 1 : NULL, need, error, error_cap);
  free(block);
  return ok;
}

void ref_run(const weft_cpu_ref_node_t* node) {
  char error[256];
  if (!ref_try_run(node, error, sizeof(error))) {
    fail_msg("%s failed: %s", weft_op_name(node->op), error);
  }
}
