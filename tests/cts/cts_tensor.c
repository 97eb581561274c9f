/* Tensors of the conformance cases (see cts_tensor.h). */
#include "cts_tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_ref/ops/kernels.h" /* conversions and dequantizers of docs/ops.md */

/* ---- random numbers ---- */

static uint64_t cts_splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

cts_rng_t cts_rng_make(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
  uint64_t x = cts_splitmix(seed);
  x = cts_splitmix(x ^ a);
  x = cts_splitmix(x ^ (b << 20));
  x = cts_splitmix(x ^ (c << 40));
  cts_rng_t rng = {x != 0 ? x : 0x9E3779B97F4A7C15ull};
  return rng;
}

uint64_t cts_rng_next(cts_rng_t* rng) {
  uint64_t x = rng->state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng->state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

double cts_rng_uniform(cts_rng_t* rng, double lo, double hi) {
  return lo + (hi - lo) * (double)(cts_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

int64_t cts_rng_int(cts_rng_t* rng, int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  return lo + (int64_t)(cts_rng_next(rng) % (uint64_t)(hi - lo + 1));
}

bool cts_rng_one_in(cts_rng_t* rng, int64_t n) { return cts_rng_int(rng, 0, n - 1) == 0; }

/* ---- dtypes ---- */

bool cts_dtype_is_block(uint32_t dtype) { return weft_dtype_block_elements(dtype) > 1; }

bool cts_dtype_is_float(uint32_t dtype) {
  return dtype == WEFT_DTYPE_F32 || dtype == WEFT_DTYPE_F16 || dtype == WEFT_DTYPE_BF16 ||
         dtype == WEFT_DTYPE_F64;
}

const char* cts_dtype_name(uint32_t dtype) { return weft__dtype_name(dtype); }

/* ---- layouts ---- */

uint32_t cts_tensor_unit(const cts_tensor_t* t) { return weft_dtype_block_bytes(t->dtype); }

int64_t cts_tensor_count(const cts_tensor_t* t) {
  return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

uint64_t cts_tensor_span(const cts_tensor_t* t) {
  const int64_t block = weft_dtype_block_elements(t->dtype);
  uint64_t last = 0;
  for (int d = 0; d < 4; ++d) {
    const int64_t n = d == 0 ? t->ne[0] / block : t->ne[d];
    last += (uint64_t)(n - 1) * (uint64_t)t->nb[d];
  }
  return last + cts_tensor_unit(t);
}

uint64_t cts_tensor_at(const cts_tensor_t* t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  const int64_t block = weft_dtype_block_elements(t->dtype);
  return (uint64_t)((i0 / block) * t->nb[0] + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3]);
}

/* Strides for dims stored in `order` (innermost first) with `gap` unused
 * units after each dimension's run (and between elements of plain dtypes). */
static void cts_tensor_strides(cts_tensor_t* t, const int order[4], int64_t gap) {
  const int64_t block = weft_dtype_block_elements(t->dtype);
  const int64_t unit = weft_dtype_block_bytes(t->dtype);
  const bool blocked = block > 1;
  int64_t stride = unit * (blocked ? 1 : 1 + gap);
  for (int k = 0; k < 4; ++k) {
    const int d = order[k];
    const int64_t n = d == 0 ? t->ne[0] / block : t->ne[d];
    t->nb[d] = stride;
    stride = stride * n + gap * unit;
  }
}

void cts_tensor_contiguous(cts_tensor_t* t) {
  static const int kOrder[4] = {0, 1, 2, 3};
  cts_tensor_strides(t, kOrder, 0);
  snprintf(t->layout_text, sizeof(t->layout_text), "contig");
}

void cts_tensor_layout(cts_tensor_t* t, cts_layout_kind_t kind, bool allow_broadcast,
                       cts_rng_t* rng) {
  if (kind == CTS_LAYOUT_CONTIGUOUS) {
    cts_tensor_contiguous(t);
    return;
  }
  int order[4] = {0, 1, 2, 3};
  const bool rows = kind == CTS_LAYOUT_ROWS || cts_dtype_is_block(t->dtype);
  /* Fisher-Yates over the dims that may move. */
  const int first = rows ? 1 : 0;
  for (int i = 3; i > first; --i) {
    int j = (int)cts_rng_int(rng, first, i);
    int tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  const int64_t gap = cts_rng_int(rng, 0, 2);
  cts_tensor_strides(t, order, gap);
  snprintf(t->layout_text, sizeof(t->layout_text), "perm %d%d%d%d gap %d", order[0], order[1],
           order[2], order[3], (int)gap);
  if (allow_broadcast && cts_rng_one_in(rng, 6)) {
    /* Stride 0 over one dimension that has more than one element. */
    int candidates[4];
    int count = 0;
    for (int d = cts_dtype_is_block(t->dtype) ? 1 : 0; d < 4; ++d) {
      if (t->ne[d] > 1) candidates[count++] = d;
    }
    if (count > 0) {
      const int d = candidates[cts_rng_int(rng, 0, count - 1)];
      t->nb[d] = 0;
      snprintf(t->layout_text, sizeof(t->layout_text), "perm %d%d%d%d nb[%d]=0", order[0],
               order[1], order[2], order[3], d);
    }
  }
}

void cts_tensor_describe(const cts_tensor_t* t, char* out, size_t cap) {
  snprintf(out, cap, "[%lld,%lld,%lld,%lld] %s %s", (long long)t->ne[0], (long long)t->ne[1],
           (long long)t->ne[2], (long long)t->ne[3], cts_dtype_name(t->dtype), t->layout_text);
}

/* ---- elements ---- */

double cts_load(uint32_t dtype, const uint8_t* p) {
  switch (dtype) {
    case WEFT_DTYPE_F32: {
      float v;
      memcpy(&v, p, 4);
      return v;
    }
    case WEFT_DTYPE_F16: {
      uint16_t h;
      memcpy(&h, p, 2);
      return weft__fp16_to_fp32(h);
    }
    case WEFT_DTYPE_BF16: {
      uint16_t h;
      memcpy(&h, p, 2);
      return weft__bf16_to_fp32(h);
    }
    case WEFT_DTYPE_F64: {
      double v;
      memcpy(&v, p, 8);
      return v;
    }
    case WEFT_DTYPE_I8:
      return (int8_t)p[0];
    case WEFT_DTYPE_I16: {
      int16_t v;
      memcpy(&v, p, 2);
      return v;
    }
    case WEFT_DTYPE_I32: {
      int32_t v;
      memcpy(&v, p, 4);
      return v;
    }
    case WEFT_DTYPE_I64: {
      int64_t v;
      memcpy(&v, p, 8);
      return (double)v;
    }
    default:
      return NAN;
  }
}

void cts_store(uint32_t dtype, uint8_t* p, double v) {
  switch (dtype) {
    case WEFT_DTYPE_F32: {
      float f = (float)v;
      memcpy(p, &f, 4);
      break;
    }
    case WEFT_DTYPE_F16: {
      uint16_t h = weft__fp32_to_fp16((float)v);
      memcpy(p, &h, 2);
      break;
    }
    case WEFT_DTYPE_BF16: {
      uint16_t h = weft__fp32_to_bf16((float)v);
      memcpy(p, &h, 2);
      break;
    }
    case WEFT_DTYPE_F64:
      memcpy(p, &v, 8);
      break;
    case WEFT_DTYPE_I8:
      p[0] = (uint8_t)(int8_t)v;
      break;
    case WEFT_DTYPE_I16: {
      int16_t i = (int16_t)v;
      memcpy(p, &i, 2);
      break;
    }
    case WEFT_DTYPE_I32: {
      int32_t i = (int32_t)v;
      memcpy(p, &i, 4);
      break;
    }
    case WEFT_DTYPE_I64: {
      int64_t i = (int64_t)v;
      memcpy(p, &i, 8);
      break;
    }
    default:
      break;
  }
}

void cts_tensor_set(const cts_tensor_t* t, uint8_t* base, int64_t i0, int64_t i1, int64_t i2,
                    int64_t i3, double v) {
  cts_store(t->dtype, base + t->offset + cts_tensor_at(t, i0, i1, i2, i3), v);
}

double cts_tensor_get(const cts_tensor_t* t, const uint8_t* base, int64_t i0, int64_t i1,
                      int64_t i2, int64_t i3) {
  return cts_load(t->dtype, base + t->offset + cts_tensor_at(t, i0, i1, i2, i3));
}

static void cts_put_half(uint8_t* p, float v) {
  uint16_t h = weft__fp32_to_fp16(v);
  p[0] = (uint8_t)(h & 0xFF);
  p[1] = (uint8_t)(h >> 8);
}

/* Random quants with scales in [0.001, 0.05): every element finite and of
 * order 1 at most (docs/ops.md's conformance inputs). */
static void cts_fill_block(uint32_t dtype, uint8_t* block, cts_rng_t* rng) {
  const uint32_t bytes = weft_dtype_block_bytes(dtype);
  for (uint32_t k = 0; k < bytes; ++k) block[k] = (uint8_t)cts_rng_next(rng);
  const float d = (float)cts_rng_uniform(rng, 0.001, 0.05);
  const float m = (float)cts_rng_uniform(rng, 0.001, 0.05);
  switch (dtype) {
    case WEFT_DTYPE_Q4_0: case WEFT_DTYPE_Q5_0: case WEFT_DTYPE_Q8_0:
      cts_put_half(block, d);
      break;
    case WEFT_DTYPE_Q4_1: case WEFT_DTYPE_Q5_1: case WEFT_DTYPE_Q8_1:
    case WEFT_DTYPE_Q4_K: case WEFT_DTYPE_Q5_K:
      cts_put_half(block, d);
      cts_put_half(block + 2, m);
      break;
    case WEFT_DTYPE_Q2_K:
      cts_put_half(block + 80, d);
      cts_put_half(block + 82, m);
      break;
    case WEFT_DTYPE_Q3_K: cts_put_half(block + 108, d); break;
    case WEFT_DTYPE_Q6_K: cts_put_half(block + 208, d); break;
    case WEFT_DTYPE_Q8_K: memcpy(block, &d, 4); break;
    default: break;
  }
}

void cts_tensor_fill(const cts_tensor_t* t, uint8_t* base, cts_rng_t* rng, double lo, double hi) {
  const int64_t block = weft_dtype_block_elements(t->dtype);
  for (int64_t i3 = 0; i3 < t->ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < t->ne[2]; ++i2) {
      for (int64_t i1 = 0; i1 < t->ne[1]; ++i1) {
        for (int64_t i0 = 0; i0 < t->ne[0]; i0 += block) {
          uint8_t* p = base + t->offset + cts_tensor_at(t, i0, i1, i2, i3);
          if (block > 1) {
            cts_fill_block(t->dtype, p, rng);
          } else if (cts_dtype_is_float(t->dtype)) {
            cts_store(t->dtype, p, cts_rng_uniform(rng, lo, hi));
          } else {
            const uint64_t bits = cts_rng_next(rng);
            memcpy(p, &bits, cts_tensor_unit(t));
          }
        }
      }
    }
  }
}

void cts_tensor_values(const cts_tensor_t* t, const uint8_t* base, double* out) {
  int64_t k = 0;
  if (cts_dtype_is_block(t->dtype)) {
    float* row = (float*)malloc((size_t)t->ne[0] * sizeof(float));
    for (int64_t i3 = 0; i3 < t->ne[3]; ++i3) {
      for (int64_t i2 = 0; i2 < t->ne[2]; ++i2) {
        for (int64_t i1 = 0; i1 < t->ne[1]; ++i1) {
          const uint8_t* p = base + t->offset + cts_tensor_at(t, 0, i1, i2, i3);
          if (row == NULL || !weft__dequantize_row(t->dtype, p, row, t->ne[0])) {
            for (int64_t i = 0; i < t->ne[0]; ++i) out[k++] = NAN;
            continue;
          }
          for (int64_t i = 0; i < t->ne[0]; ++i) out[k++] = row[i];
        }
      }
    }
    free(row);
    return;
  }
  for (int64_t i3 = 0; i3 < t->ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < t->ne[2]; ++i2) {
      for (int64_t i1 = 0; i1 < t->ne[1]; ++i1) {
        for (int64_t i0 = 0; i0 < t->ne[0]; ++i0) {
          out[k++] = cts_tensor_get(t, base, i0, i1, i2, i3);
        }
      }
    }
  }
}

void cts_tensor_mark(const cts_tensor_t* t, uint8_t* mask) {
  const int64_t block = weft_dtype_block_elements(t->dtype);
  const uint32_t unit = cts_tensor_unit(t);
  for (int64_t i3 = 0; i3 < t->ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < t->ne[2]; ++i2) {
      for (int64_t i1 = 0; i1 < t->ne[1]; ++i1) {
        for (int64_t i0 = 0; i0 < t->ne[0]; i0 += block) {
          memset(mask + t->offset + cts_tensor_at(t, i0, i1, i2, i3), 1, unit);
        }
      }
    }
  }
}

/* ---- comparisons ---- */

cts_compare_t cts_compare_nmse(const double* actual, const double* expected, int64_t n,
                               double limit) {
  cts_compare_t r = {true, 0.0, -1, 0.0, 0.0, 0};
  double err = 0.0, ref = 0.0, worst = -1.0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = actual[i], e = expected[i];
    double d;
    if (isnan(e) || isinf(e)) {
      /* Must match exactly: a NaN for a NaN, the same infinity. */
      const bool same = isnan(e) ? isnan(a) : a == e;
      d = same ? 0.0 : INFINITY;
      if (!same) r.mismatches++;
    } else if (!isfinite(a)) {
      d = INFINITY;
      r.mismatches++;
    } else {
      d = (a - e) * (a - e);
      ref += e * e;
    }
    err += d;
    if (d > worst) {
      worst = d;
      r.worst = i;
      r.got = a;
      r.want = e;
    }
  }
  if (ref == 0.0) {
    r.nmse = err == 0.0 ? 0.0 : INFINITY;
  } else {
    r.nmse = err / ref;
  }
  r.ok = r.nmse <= limit;
  if (r.ok) r.worst = -1;
  return r;
}

cts_compare_t cts_compare_exact(const cts_tensor_t* t, const uint8_t* actual_base,
                                const uint8_t* expected_base) {
  cts_compare_t r = {true, 0.0, -1, 0.0, 0.0, 0};
  const int64_t n = cts_tensor_count(t);
  if (cts_dtype_is_block(t->dtype) || cts_dtype_is_float(t->dtype)) {
    double* a = (double*)malloc((size_t)n * sizeof(double));
    double* e = (double*)malloc((size_t)n * sizeof(double));
    if (a == NULL || e == NULL) {
      free(a);
      free(e);
      r.ok = false;
      return r;
    }
    cts_tensor_values(t, actual_base, a);
    cts_tensor_values(t, expected_base, e);
    for (int64_t i = 0; i < n; ++i) {
      const bool same = (isnan(a[i]) && isnan(e[i])) || a[i] == e[i];
      if (!same) {
        if (r.mismatches == 0) {
          r.worst = i;
          r.got = a[i];
          r.want = e[i];
        }
        r.mismatches++;
      }
    }
    free(a);
    free(e);
  } else {
    const uint32_t unit = cts_tensor_unit(t);
    int64_t k = 0;
    for (int64_t i3 = 0; i3 < t->ne[3]; ++i3) {
      for (int64_t i2 = 0; i2 < t->ne[2]; ++i2) {
        for (int64_t i1 = 0; i1 < t->ne[1]; ++i1) {
          for (int64_t i0 = 0; i0 < t->ne[0]; ++i0, ++k) {
            const uint64_t at = t->offset + cts_tensor_at(t, i0, i1, i2, i3);
            if (memcmp(actual_base + at, expected_base + at, unit) != 0) {
              if (r.mismatches == 0) {
                r.worst = k;
                r.got = cts_load(t->dtype, actual_base + at);
                r.want = cts_load(t->dtype, expected_base + at);
              }
              r.mismatches++;
            }
          }
        }
      }
    }
  }
  r.ok = r.mismatches == 0;
  return r;
}
