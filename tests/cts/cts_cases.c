/* Op cases of the conformance suite (see cts_cases.h). Shapes, dtypes and
 * tolerances follow docs/ops.md section 4 and the table of section 3. */
#include "cts_cases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t CTS_GUARD_PATTERN[4] = {0xFF, 0xFF, 0xFF, 0x7F};

/* ---- combinations ---- */

static const uint32_t kFloats[] = {WEFT_DTYPE_F32, WEFT_DTYPE_F16, WEFT_DTYPE_BF16};
static const uint32_t kDequant[] = {
    WEFT_DTYPE_F32,  WEFT_DTYPE_F16,  WEFT_DTYPE_BF16, WEFT_DTYPE_Q4_0, WEFT_DTYPE_Q4_1,
    WEFT_DTYPE_Q5_0, WEFT_DTYPE_Q5_1, WEFT_DTYPE_Q8_0, WEFT_DTYPE_Q8_1, WEFT_DTYPE_Q2_K,
    WEFT_DTYPE_Q3_K, WEFT_DTYPE_Q4_K, WEFT_DTYPE_Q5_K, WEFT_DTYPE_Q6_K, WEFT_DTYPE_Q8_K};
static const uint32_t kIds[] = {WEFT_DTYPE_I32, WEFT_DTYPE_I64};
static const uint32_t kPlain[] = {WEFT_DTYPE_F32, WEFT_DTYPE_F16, WEFT_DTYPE_BF16,
                                  WEFT_DTYPE_I8,  WEFT_DTYPE_I16, WEFT_DTYPE_I32,
                                  WEFT_DTYPE_I64, WEFT_DTYPE_F64};
/* cpy converts among these (docs/ops.md, cpy); set_rows writes into them. */
static const uint32_t kConvertible[] = {WEFT_DTYPE_F32, WEFT_DTYPE_F16, WEFT_DTYPE_BF16,
                                        WEFT_DTYPE_Q8_0};
static const uint32_t kCopyOnly[] = {
    WEFT_DTYPE_Q4_0, WEFT_DTYPE_Q4_1, WEFT_DTYPE_Q5_0, WEFT_DTYPE_Q5_1, WEFT_DTYPE_Q8_1,
    WEFT_DTYPE_Q2_K, WEFT_DTYPE_Q3_K, WEFT_DTYPE_Q4_K, WEFT_DTYPE_Q5_K, WEFT_DTYPE_Q6_K,
    WEFT_DTYPE_Q8_K, WEFT_DTYPE_I8,   WEFT_DTYPE_I16,  WEFT_DTYPE_I32,  WEFT_DTYPE_I64,
    WEFT_DTYPE_F64};
static const uint32_t kMasks[] = {CTS_DTYPE_NONE, WEFT_DTYPE_F32, WEFT_DTYPE_F16};
static const uint32_t kSoftMaxMasks[] = {CTS_DTYPE_NONE, WEFT_DTYPE_F32, WEFT_DTYPE_F16,
                                         WEFT_DTYPE_BF16};

#define CTS_COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct cts_combo_sink_t {
  cts_combo_def_t* out;
  size_t cap;
  size_t count;
} cts_combo_sink_t;

/* `shown` source slots appear in the label (absent ones as "none"). */
static void cts_combo_add(cts_combo_sink_t* sink, uint32_t op, int shown, uint32_t s0,
                          uint32_t s1, uint32_t s2, uint32_t s3, uint32_t dst) {
  if (sink->out != NULL && sink->count < sink->cap) {
    cts_combo_def_t* c = &sink->out[sink->count];
    memset(c, 0, sizeof(*c));
    c->op = op;
    const uint32_t dtypes[CTS_SLOTS] = {s0, s1, s2, s3, dst};
    memcpy(c->dtype, dtypes, sizeof(dtypes));
    size_t used = 0;
    for (int i = 0; i < shown; ++i) {
      used += (size_t)snprintf(c->label + used, sizeof(c->label) - used, "%s%s",
                               i > 0 ? "," : "",
                               dtypes[i] == CTS_DTYPE_NONE ? "none" : cts_dtype_name(dtypes[i]));
      if (used >= sizeof(c->label)) used = sizeof(c->label) - 1;
    }
    snprintf(c->label + used, sizeof(c->label) - used, "->%s", cts_dtype_name(dst));
  }
  sink->count++;
}

size_t cts_combos_build(cts_combo_def_t* out, size_t cap) {
  cts_combo_sink_t sink = {out, cap, 0};
  const uint32_t N = CTS_DTYPE_NONE;
  for (uint32_t op = 1; op < WEFT_OP_COUNT_; ++op) {
    switch (op) {
      case WEFT_OP_GET_ROWS:
        for (size_t a = 0; a < CTS_COUNT(kDequant); ++a)
          for (size_t i = 0; i < CTS_COUNT(kIds); ++i)
            cts_combo_add(&sink, op, 2, kDequant[a], kIds[i], N, N, WEFT_DTYPE_F32);
        break;
      case WEFT_OP_MUL_MAT:
        for (size_t a = 0; a < CTS_COUNT(kDequant); ++a)
          cts_combo_add(&sink, op, 2, kDequant[a], WEFT_DTYPE_F32, N, N, WEFT_DTYPE_F32);
        break;
      case WEFT_OP_ADD: case WEFT_OP_MUL: case WEFT_OP_SWIGLU: case WEFT_OP_GEGLU:
        for (size_t a = 0; a < 3; ++a)
          for (size_t b = 0; b < 3; ++b)
            for (size_t d = 0; d < 3; ++d)
              cts_combo_add(&sink, op, 2, kFloats[a], kFloats[b], N, N, kFloats[d]);
        break;
      case WEFT_OP_SCALE: case WEFT_OP_RMS_NORM: case WEFT_OP_GELU: case WEFT_OP_SILU:
        for (size_t a = 0; a < 3; ++a)
          for (size_t d = 0; d < 3; ++d)
            cts_combo_add(&sink, op, 1, kFloats[a], N, N, N, kFloats[d]);
        break;
      case WEFT_OP_ROPE:
        for (size_t a = 0; a < 3; ++a)
          for (size_t d = 0; d < 3; ++d)
            cts_combo_add(&sink, op, 2, kFloats[a], WEFT_DTYPE_I32, N, N, kFloats[d]);
        break;
      case WEFT_OP_SOFT_MAX:
        for (size_t a = 0; a < 3; ++a)
          for (size_t m = 0; m < CTS_COUNT(kSoftMaxMasks); ++m)
            for (size_t d = 0; d < 3; ++d)
              cts_combo_add(&sink, op, 2, kFloats[a], kSoftMaxMasks[m], N, N, kFloats[d]);
        break;
      case WEFT_OP_CPY:
        for (size_t a = 0; a < CTS_COUNT(kConvertible); ++a)
          for (size_t d = 0; d < CTS_COUNT(kConvertible); ++d)
            cts_combo_add(&sink, op, 1, kConvertible[a], N, N, N, kConvertible[d]);
        for (size_t a = 0; a < CTS_COUNT(kCopyOnly); ++a)
          cts_combo_add(&sink, op, 1, kCopyOnly[a], N, N, N, kCopyOnly[a]);
        break;
      case WEFT_OP_CONT:
        for (size_t a = 0; a < CTS_COUNT(kPlain); ++a)
          cts_combo_add(&sink, op, 1, kPlain[a], N, N, N, kPlain[a]);
        break;
      case WEFT_OP_SET_ROWS:
        for (size_t a = 0; a < 3; ++a)
          for (size_t i = 0; i < CTS_COUNT(kIds); ++i)
            for (size_t d = 0; d < CTS_COUNT(kConvertible); ++d)
              cts_combo_add(&sink, op, 2, kFloats[a], kIds[i], N, N, kConvertible[d]);
        break;
      case WEFT_OP_FLASH_ATTN:
        for (size_t k = 0; k < 3; ++k)
          for (size_t v = 0; v < 3; ++v)
            for (size_t m = 0; m < CTS_COUNT(kMasks); ++m)
              cts_combo_add(&sink, op, 4, WEFT_DTYPE_F32, kFloats[k], kFloats[v], kMasks[m],
                            WEFT_DTYPE_F32);
        break;
      case WEFT_OP_ARGMAX:
        for (size_t a = 0; a < 3; ++a)
          cts_combo_add(&sink, op, 1, kFloats[a], N, N, N, WEFT_DTYPE_I32);
        break;
      case WEFT_OP_CONCAT:
        for (size_t a = 0; a < CTS_COUNT(kPlain); ++a)
          cts_combo_add(&sink, op, 2, kPlain[a], kPlain[a], N, N, kPlain[a]);
        break;
      default:
        break;
    }
  }
  return sink.count;
}

uint32_t cts_cases_per_combo(cts_mode_t mode) {
  switch (mode) {
    case CTS_MODE_QUICK: return 1;
    case CTS_MODE_FULL: return 8;
    default: return 4;
  }
}

/* ---- generation ---- */

typedef struct cts_gen_t {
  cts_case_t* c;
  cts_rng_t rng;
  cts_mode_t mode;
  bool big; /* full mode: larger shapes */
  double lo[CTS_MAX_TENSORS];
  double hi[CTS_MAX_TENSORS];
  bool filled[CTS_MAX_TENSORS]; /* written by the op's own fill */
  char params_text[96];
} cts_gen_t;

static uint32_t cts_dt(const cts_gen_t* g, int slot) { return g->c->combo->dtype[slot]; }

static cts_tensor_t* cts_gen_tensor(cts_gen_t* g, uint32_t dtype, int64_t n0, int64_t n1,
                                    int64_t n2, int64_t n3) {
  cts_case_t* c = g->c;
  const uint32_t i = c->tensor_count++;
  cts_tensor_t* t = &c->t[i];
  memset(t, 0, sizeof(*t));
  t->dtype = dtype;
  t->ne[0] = n0;
  t->ne[1] = n1;
  t->ne[2] = n2;
  t->ne[3] = n3;
  t->alias_of = -1;
  g->lo[i] = -1.0;
  g->hi[i] = 1.0;
  return t;
}

static uint32_t cts_gen_index(const cts_gen_t* g, const cts_tensor_t* t) {
  return (uint32_t)(t - g->c->t);
}

/* Case 0 of each combination (outside quick mode) is contiguous: the
 * simplest layout, so that a backend's matrix shows what it runs at all. */
static void cts_gen_layout(cts_gen_t* g, cts_tensor_t* t, bool input) {
  const bool first = g->c->index == 0 && g->mode != CTS_MODE_QUICK;
  if (first || cts_rng_one_in(&g->rng, 3)) {
    cts_tensor_contiguous(t);
    return;
  }
  cts_tensor_layout(t, CTS_LAYOUT_ANY, input, &g->rng);
}

/* dst as the very same view as src (in place, docs/ops.md "Aliasing"). */
static cts_tensor_t* cts_gen_alias(cts_gen_t* g, const cts_tensor_t* src) {
  cts_tensor_t* t = cts_gen_tensor(g, src->dtype, src->ne[0], src->ne[1], src->ne[2], src->ne[3]);
  memcpy(t->nb, src->nb, sizeof(t->nb));
  t->alias_of = (int32_t)cts_gen_index(g, src);
  snprintf(t->layout_text, sizeof(t->layout_text), "in place");
  return t;
}

static bool cts_gen_in_place(cts_gen_t* g) {
  return g->c->index != 0 && cts_dt(g, 0) == cts_dt(g, CTS_SLOT_DST) &&
         cts_rng_one_in(&g->rng, 4);
}

/* ne[0] for a dtype: whole blocks for block dtypes; for plain dtypes the odd
 * sizes 1, 3, 33, 257 in turn on the first case, random sizes after. */
static int64_t cts_gen_ne0(cts_gen_t* g, uint32_t dtype) {
  const int64_t block = weft_dtype_block_elements(dtype);
  if (block == 256) return 256 * cts_rng_int(&g->rng, 1, g->big ? 3 : 2);
  if (block == 32) return 32 * cts_rng_int(&g->rng, 1, g->big ? 8 : 3);
  static const int64_t kOdd[] = {1, 3, 33, 257};
  static const int64_t kAny[] = {1, 2, 3, 5, 16, 33, 64, 128, 257};
  static const int64_t kBig[] = {1, 3, 33, 257, 511, 1024, 2049};
  if (g->c->index == 0) return kOdd[(g->c->combo_index + g->c->index) % 4];
  if (g->big) return kBig[cts_rng_int(&g->rng, 0, (int64_t)CTS_COUNT(kBig) - 1)];
  return kAny[cts_rng_int(&g->rng, 0, (int64_t)CTS_COUNT(kAny) - 1)];
}

/* A shape of up to ~8000 elements (~30000 in full mode). */
static void cts_gen_shape(cts_gen_t* g, uint32_t dtype, int64_t ne[4]) {
  ne[0] = cts_gen_ne0(g, dtype);
  ne[1] = cts_rng_int(&g->rng, 1, g->big ? 8 : 5);
  ne[2] = cts_rng_int(&g->rng, 1, 3);
  ne[3] = cts_rng_int(&g->rng, 1, 2);
  const int64_t cap = g->big ? 30000 : 8000;
  while (ne[0] * ne[1] * ne[2] * ne[3] > cap && ne[1] > 1) ne[1]--;
  while (ne[0] * ne[1] * ne[2] * ne[3] > cap && ne[2] > 1) ne[2]--;
}

/* A size that divides n: n, 1, or a proper divisor. */
static int64_t cts_gen_divisor(cts_gen_t* g, int64_t n) {
  switch (cts_rng_int(&g->rng, 0, 2)) {
    case 0: return n;
    case 1: return 1;
    default:
      for (int64_t d = 2; d <= n; ++d) {
        if (n % d == 0) return n / d;
      }
      return n;
  }
}

/* The f16/bf16 floor of docs/ops.md section 3 for non-exact limits. */
static double cts_gen_limit(uint32_t dst_dtype, double limit) {
  if (dst_dtype == WEFT_DTYPE_F16 && limit < 1e-6) return 1e-6;
  if (dst_dtype == WEFT_DTYPE_BF16 && limit < 2e-5) return 2e-5;
  return limit;
}

static void cts_gen_nmse(cts_gen_t* g, double limit) {
  g->c->exact = false;
  g->c->limit = cts_gen_limit(g->c->t[g->c->dst].dtype, limit);
}

/* 0: the full struct, 1: params NULL (every default), 2: a struct cut after
 * `short_size` bytes (an older writer; the rest take their defaults). The
 * first case always sends the full struct. */
static int cts_gen_params_form(cts_gen_t* g, uint32_t short_size) {
  if (g->c->index == 0) return 0;
  const int64_t top = short_size > 0 ? 2 : 1;
  return (int)cts_rng_int(&g->rng, 0, top);
}

static void cts_gen_params(cts_gen_t* g, int form, uint32_t full_size, uint32_t short_size) {
  cts_case_t* c = g->c;
  if (form == 1) {
    c->params_size = 0;
    return;
  }
  c->params_size = form == 2 ? short_size : full_size;
  c->params.struct_size = c->params_size;
}

/* The sources: tensors 0..count-1 in order. */
static void cts_gen_sources(cts_gen_t* g, int count) {
  for (int i = 0; i < WEFT_MAX_SRC; ++i) g->c->src[i] = i < count ? i : -1;
}

/* ---- ops ---- */

static void cts_gen_get_rows(cts_gen_t* g) {
  cts_case_t* c = g->c;
  const uint32_t table = cts_dt(g, 0);
  const int64_t K = cts_gen_ne0(g, table);
  const int64_t R = cts_rng_int(&g->rng, 1, 9);
  const int64_t M = cts_rng_int(&g->rng, 1, g->big ? 9 : 5);
  const int64_t B2 = cts_rng_int(&g->rng, 1, 3), B3 = cts_rng_int(&g->rng, 1, 2);
  const int64_t T2 = cts_rng_one_in(&g->rng, 2) ? 1 : B2;
  const int64_t T3 = cts_rng_one_in(&g->rng, 2) ? 1 : B3;
  cts_gen_layout(g, cts_gen_tensor(g, table, K, R, T2, T3), true);
  cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, 1), M, B2, B3, 1), true);
  cts_gen_layout(g, cts_gen_tensor(g, WEFT_DTYPE_F32, K, M, B2, B3), false);
  cts_gen_sources(g, 2);
  c->dst = 2;
  switch (table) {
    case WEFT_DTYPE_F32: case WEFT_DTYPE_F16: case WEFT_DTYPE_BF16: case WEFT_DTYPE_Q4_0:
    case WEFT_DTYPE_Q5_0: case WEFT_DTYPE_Q8_0: case WEFT_DTYPE_Q8_1: case WEFT_DTYPE_Q8_K:
      c->exact = true;
      break;
    default:
      cts_gen_nmse(g, 1e-12);
      break;
  }
}

static void cts_gen_ids_fill(cts_gen_t* g, uint32_t ti, int64_t rows, bool unique) {
  cts_case_t* c = g->c;
  const cts_tensor_t* t = &c->t[ti];
  uint8_t* base = c->image[t->buffer];
  int64_t* perm = (int64_t*)malloc((size_t)rows * sizeof(int64_t));
  for (int64_t i3 = 0; i3 < t->ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < t->ne[2]; ++i2) {
      for (int64_t i1 = 0; i1 < t->ne[1]; ++i1) {
        /* A fresh permutation per row of ids: unique within it. */
        if (perm != NULL) {
          for (int64_t r = 0; r < rows; ++r) perm[r] = r;
          for (int64_t r = rows - 1; r > 0; --r) {
            const int64_t j = cts_rng_int(&g->rng, 0, r);
            const int64_t tmp = perm[r];
            perm[r] = perm[j];
            perm[j] = tmp;
          }
        }
        for (int64_t i0 = 0; i0 < t->ne[0]; ++i0) {
          const int64_t id = unique && perm != NULL && i0 < rows ? perm[i0]
                                                                 : cts_rng_int(&g->rng, 0, rows - 1);
          cts_tensor_set(t, base, i0, i1, i2, i3, (double)id);
        }
      }
    }
  }
  free(perm);
  g->filled[ti] = true;
}

static void cts_gen_mul_mat(cts_gen_t* g) {
  cts_case_t* c = g->c;
  const uint32_t w = cts_dt(g, 0);
  static const int64_t kK[] = {1, 3, 16, 33, 64, 257};
  const int64_t K = cts_dtype_is_block(w)
                        ? cts_gen_ne0(g, w)
                        : (c->index == 0 ? kK[c->combo_index % CTS_COUNT(kK)]
                                         : kK[cts_rng_int(&g->rng, 0, (int64_t)CTS_COUNT(kK) - 1)]);
  const int64_t N = cts_rng_int(&g->rng, 1, g->big ? 24 : 12);
  int64_t M = cts_rng_int(&g->rng, 1, g->big ? 9 : 6);
  const int64_t A2 = cts_rng_int(&g->rng, 1, 2), A3 = cts_rng_one_in(&g->rng, 3) ? 2 : 1;
  const int64_t B2 = A2 * cts_rng_int(&g->rng, 1, 2);
  const int64_t B3 = A3 * (cts_rng_one_in(&g->rng, 3) ? 2 : 1);
  /* docs/ops.md: cases for the looser limits keep dst at <= 10^3 elements. */
  while (N * M * B2 * B3 > 1000 && M > 1) M--;
  cts_gen_layout(g, cts_gen_tensor(g, w, K, N, A2, A3), true);
  cts_gen_layout(g, cts_gen_tensor(g, WEFT_DTYPE_F32, K, M, B2, B3), true);
  cts_gen_layout(g, cts_gen_tensor(g, WEFT_DTYPE_F32, N, M, B2, B3), false);
  cts_gen_sources(g, 2);
  c->dst = 2;
  c->flops = 2.0 * (double)K * (double)N * (double)M * (double)B2 * (double)B3;
  if (w == WEFT_DTYPE_F32 || w == WEFT_DTYPE_F16) {
    cts_gen_nmse(g, 1e-6);
  } else if (w == WEFT_DTYPE_BF16) {
    cts_gen_nmse(g, 5e-5);
  } else {
    cts_gen_nmse(g, 5e-4);
  }
}

static void cts_gen_binary(cts_gen_t* g) {
  cts_case_t* c = g->c;
  int64_t n[4];
  cts_gen_shape(g, WEFT_DTYPE_F32, n);
  const bool in_place = cts_gen_in_place(g);
  cts_tensor_t* a = cts_gen_tensor(g, cts_dt(g, 0), n[0], n[1], n[2], n[3]);
  cts_gen_layout(g, a, !in_place);
  int64_t m[4];
  for (int d = 0; d < 4; ++d) m[d] = c->index == 0 ? n[d] : cts_gen_divisor(g, n[d]);
  cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, 1), m[0], m[1], m[2], m[3]), true);
  if (in_place) {
    cts_gen_alias(g, a);
  } else {
    cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, CTS_SLOT_DST), n[0], n[1], n[2], n[3]), false);
  }
  cts_gen_sources(g, 2);
  c->dst = 2;
  cts_gen_nmse(g, 1e-7);
}

/* src0 and dst of one shape, optionally in place; the unary ops. */
static void cts_gen_unary_shape(cts_gen_t* g, double lo, double hi) {
  cts_case_t* c = g->c;
  int64_t n[4];
  cts_gen_shape(g, WEFT_DTYPE_F32, n);
  const bool in_place = cts_gen_in_place(g);
  cts_tensor_t* a = cts_gen_tensor(g, cts_dt(g, 0), n[0], n[1], n[2], n[3]);
  cts_gen_layout(g, a, !in_place);
  g->lo[0] = lo;
  g->hi[0] = hi;
  if (in_place) {
    cts_gen_alias(g, a);
  } else {
    cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, CTS_SLOT_DST), n[0], n[1], n[2], n[3]), false);
  }
  cts_gen_sources(g, 1);
  c->dst = 1;
}

static void cts_gen_scale(cts_gen_t* g) {
  cts_gen_unary_shape(g, -1.0, 1.0);
  weft_op_scale_params_t* p = &g->c->params.scale;
  const int form = cts_gen_params_form(g, 8);
  p->scale = (float)cts_rng_uniform(&g->rng, -2.0, 2.0);
  p->bias = (float)cts_rng_uniform(&g->rng, -1.0, 1.0);
  if (form == 1) p->scale = 1.0f;
  if (form != 0) p->bias = 0.0f;
  cts_gen_params(g, form, sizeof(*p), 8);
  snprintf(g->params_text, sizeof(g->params_text), "scale %g bias %g", (double)p->scale,
           (double)p->bias);
  cts_gen_nmse(g, 1e-7);
}

static void cts_gen_rms_norm(cts_gen_t* g) {
  cts_gen_unary_shape(g, -1.0, 1.0);
  weft_op_rms_norm_params_t* p = &g->c->params.rms_norm;
  const int form = cts_gen_params_form(g, 0);
  p->eps = cts_rng_one_in(&g->rng, 2) && form == 0 ? 1e-5f : 1e-6f;
  cts_gen_params(g, form, sizeof(*p), 0);
  snprintf(g->params_text, sizeof(g->params_text), "eps %g", (double)p->eps);
  cts_gen_nmse(g, 1e-7);
}

static void cts_gen_gelu(cts_gen_t* g) {
  cts_gen_unary_shape(g, -3.0, 3.0);
  weft_op_gelu_params_t* p = &g->c->params.gelu;
  const int form = cts_gen_params_form(g, 0);
  p->mode = form == 1 ? WEFT_GELU_MODE_TANH : (uint32_t)cts_rng_int(&g->rng, 0, 1);
  cts_gen_params(g, form, sizeof(*p), 0);
  snprintf(g->params_text, sizeof(g->params_text), "mode %s", p->mode ? "erf" : "tanh");
  cts_gen_nmse(g, 1e-6);
}

static void cts_gen_silu(cts_gen_t* g) {
  cts_gen_unary_shape(g, -4.0, 4.0);
  cts_gen_nmse(g, 1e-6);
}

static void cts_gen_glu(cts_gen_t* g) {
  cts_case_t* c = g->c;
  int64_t n[4];
  cts_gen_shape(g, WEFT_DTYPE_F32, n);
  const bool in_place = cts_gen_in_place(g);
  cts_tensor_t* a = cts_gen_tensor(g, cts_dt(g, 0), n[0], n[1], n[2], n[3]);
  cts_gen_layout(g, a, !in_place);
  g->lo[0] = -3.0;
  g->hi[0] = 3.0;
  cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, 1), n[0], n[1], n[2], n[3]), true);
  if (in_place) {
    cts_gen_alias(g, a);
  } else {
    cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, CTS_SLOT_DST), n[0], n[1], n[2], n[3]), false);
  }
  cts_gen_sources(g, 2);
  c->dst = 2;
  if (c->op == WEFT_OP_GEGLU) {
    weft_op_gelu_params_t* p = &c->params.gelu;
    const int form = cts_gen_params_form(g, 0);
    p->mode = form == 1 ? WEFT_GELU_MODE_TANH : (uint32_t)cts_rng_int(&g->rng, 0, 1);
    cts_gen_params(g, form, sizeof(*p), 0);
    snprintf(g->params_text, sizeof(g->params_text), "mode %s", p->mode ? "erf" : "tanh");
  }
  cts_gen_nmse(g, 1e-6);
}

static void cts_gen_rope(cts_gen_t* g) {
  cts_case_t* c = g->c;
  static const int64_t kHeadDims[] = {2, 4, 8, 34, 64, 128, 33};
  const int64_t hd = c->index == 0 ? kHeadDims[c->combo_index % 6]
                                   : kHeadDims[cts_rng_int(&g->rng, 0, 6)];
  const int64_t heads = cts_rng_int(&g->rng, 1, 4), tokens = cts_rng_int(&g->rng, 1, 5);
  const int64_t r3 = cts_rng_int(&g->rng, 1, 2);
  weft_op_rope_params_t* p = &c->params.rope;
  int form = cts_gen_params_form(g, 12);
  /* params NULL means n_dims 0, all of ne[0]: only for an even head. */
  if (form == 1 && hd % 2 != 0) form = 0;
  p->mode = (uint32_t)cts_rng_int(&g->rng, 0, 1);
  /* n_dims 0 means all of an even head; an odd head rotates a prefix. */
  if (hd % 2 == 0 && cts_rng_one_in(&g->rng, 2)) {
    p->n_dims = 0;
  } else {
    const int64_t even = hd - hd % 2;
    p->n_dims = (int32_t)(2 * cts_rng_int(&g->rng, 1, even / 2));
  }
  static const float kBases[] = {10000.0f, 500000.0f, 1000000.0f};
  static const float kScales[] = {1.0f, 0.5f, 0.25f};
  p->freq_base = kBases[cts_rng_int(&g->rng, 0, 2)];
  p->freq_scale = kScales[cts_rng_int(&g->rng, 0, 2)];
  /* What the reader will take for the members the writer did not send. */
  if (form == 1) {
    p->mode = WEFT_ROPE_MODE_NORMAL;
    p->n_dims = 0;
  }
  if (form != 0) {
    p->freq_base = 10000.0f;
    p->freq_scale = 1.0f;
  }
  cts_gen_params(g, form, sizeof(*p), 12);
  snprintf(g->params_text, sizeof(g->params_text), "mode %s n_dims %d base %g fscale %g",
           p->mode ? "neox" : "normal", (int)p->n_dims, (double)p->freq_base,
           (double)p->freq_scale);
  const bool in_place = cts_gen_in_place(g);
  cts_tensor_t* a = cts_gen_tensor(g, cts_dt(g, 0), hd, heads, tokens, r3);
  cts_gen_layout(g, a, !in_place);
  cts_gen_layout(g, cts_gen_tensor(g, WEFT_DTYPE_I32, tokens, 1, 1, 1), true);
  if (in_place) {
    cts_gen_alias(g, a);
  } else {
    cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, CTS_SLOT_DST), hd, heads, tokens, r3), false);
  }
  cts_gen_sources(g, 2);
  c->dst = 2;
  cts_gen_nmse(g, 1e-6);
}

static void cts_gen_rope_fill(cts_gen_t* g) {
  const cts_tensor_t* pos = &g->c->t[1];
  for (int64_t i = 0; i < pos->ne[0]; ++i) {
    cts_tensor_set(pos, g->c->image[pos->buffer], i, 0, 0, 0,
                   (double)cts_rng_int(&g->rng, 0, 4095));
  }
  g->filled[1] = true;
}

static void cts_gen_soft_max(cts_gen_t* g) {
  cts_case_t* c = g->c;
  const int64_t n = cts_gen_ne0(g, WEFT_DTYPE_F32);
  const int64_t r1 = cts_rng_int(&g->rng, 1, 4), r2 = cts_rng_int(&g->rng, 1, 3);
  const int64_t r3 = cts_rng_int(&g->rng, 1, 2);
  const bool in_place = cts_gen_in_place(g);
  cts_tensor_t* a = cts_gen_tensor(g, cts_dt(g, 0), n, r1, r2, r3);
  cts_gen_layout(g, a, !in_place);
  g->lo[0] = -3.0;
  g->hi[0] = 3.0;
  const bool masked = cts_dt(g, 1) != CTS_DTYPE_NONE;
  if (masked) {
    const int64_t m1 = r1 + cts_rng_int(&g->rng, 0, 2);
    const int64_t m2 = cts_rng_one_in(&g->rng, 2) ? 1 : r2;
    const int64_t m3 = cts_rng_one_in(&g->rng, 2) ? 1 : r3;
    cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, 1), n, m1, m2, m3), true);
  }
  if (in_place) {
    cts_gen_alias(g, a);
  } else {
    cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, CTS_SLOT_DST), n, r1, r2, r3), false);
  }
  for (int i = 0; i < WEFT_MAX_SRC; ++i) c->src[i] = -1;
  c->src[0] = 0;
  if (masked) c->src[1] = 1;
  c->dst = c->tensor_count - 1;
  weft_op_soft_max_params_t* p = &c->params.soft_max;
  const int form = cts_gen_params_form(g, 0);
  static const float kScales[] = {1.0f, 0.125f, 0.7f, 2.0f};
  p->scale = kScales[cts_rng_int(&g->rng, 0, 3)];
  cts_gen_params(g, form, sizeof(*p), 0);
  if (form == 1) p->scale = 1.0f;
  snprintf(g->params_text, sizeof(g->params_text), "scale %g", (double)p->scale);
  cts_gen_nmse(g, 1e-6);
}

/* A causal-style additive mask: -inf where key j lies past the query's
 * position (rows' positions end at `last`), values in [lo, hi) elsewhere;
 * sometimes no -inf at all, sometimes a row of nothing but -inf (whose
 * result docs/ops.md defines as zeros). */
static void cts_gen_mask_fill(cts_gen_t* g, uint32_t ti, int64_t rows, int64_t last, double lo,
                              double hi) {
  cts_case_t* c = g->c;
  const cts_tensor_t* t = &c->t[ti];
  uint8_t* base = c->image[t->buffer];
  const bool causal = !cts_rng_one_in(&g->rng, 3);
  const bool empty_row = cts_rng_one_in(&g->rng, 6);
  for (int64_t i3 = 0; i3 < t->ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < t->ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < t->ne[1]; ++i1)
        for (int64_t j = 0; j < t->ne[0]; ++j) {
          double v = cts_rng_uniform(&g->rng, lo, hi);
          const int64_t position = last - (rows - 1) + i1;
          if ((causal && i1 < rows && j > position) || (empty_row && i1 == 0)) v = -INFINITY;
          cts_tensor_set(t, base, j, i1, i2, i3, v);
        }
  g->filled[ti] = true;
}

static void cts_gen_cpy(cts_gen_t* g) {
  cts_case_t* c = g->c;
  const uint32_t from = cts_dt(g, 0), to = cts_dt(g, CTS_SLOT_DST);
  const bool blocked = cts_dtype_is_block(from) || cts_dtype_is_block(to);
  int64_t n[4];
  cts_gen_shape(g, blocked ? (cts_dtype_is_block(from) ? from : to) : WEFT_DTYPE_F32, n);
  int64_t m[4] = {n[0], n[1], n[2], n[3]};
  if (!blocked && c->index != 0) {
    /* A reshape: same count, another shape (docs/ops.md, cpy). */
    switch (cts_rng_int(&g->rng, 0, 3)) {
      case 1: m[0] = n[0] * n[1] * n[2] * n[3], m[1] = m[2] = m[3] = 1; break;
      case 2: m[0] = n[0] * n[1], m[1] = n[2], m[2] = n[3], m[3] = 1; break;
      case 3: m[0] = n[0], m[1] = n[1] * n[2], m[2] = 1, m[3] = n[3]; break;
      default: break;
    }
  }
  cts_gen_layout(g, cts_gen_tensor(g, from, n[0], n[1], n[2], n[3]), true);
  cts_gen_layout(g, cts_gen_tensor(g, to, m[0], m[1], m[2], m[3]), false);
  cts_gen_sources(g, 1);
  c->dst = 1;
  if (to == WEFT_DTYPE_Q8_0 && from != WEFT_DTYPE_Q8_0) {
    cts_gen_nmse(g, 1e-6); /* compared dequantized */
  } else {
    c->exact = true;
  }
}

/* Values whose conversion docs/ops.md section 2 pins down: NaN, infinities,
 * f16 overflow, subnormals, ties, signed zero. */
static void cts_gen_special_fill(cts_gen_t* g, uint32_t ti) {
  static const double kSpecial[] = {NAN,       INFINITY, -INFINITY, 65519.0, 65520.0, -70000.0,
                                    1e-7,      -3e-8,    6.0e-8,    -0.0,    1.00048828125,
                                    1.0 + 1.0 / 512.0};
  cts_case_t* c = g->c;
  const cts_tensor_t* t = &c->t[ti];
  if (!cts_dtype_is_float(t->dtype) || t->dtype == WEFT_DTYPE_F64) return;
  uint8_t* base = c->image[t->buffer];
  const int64_t count = cts_tensor_count(t);
  for (int64_t k = 0; k < count; ++k) {
    if (!cts_rng_one_in(&g->rng, 8)) continue;
    int64_t rest = k, idx[4];
    for (int d = 0; d < 4; ++d) {
      idx[d] = rest % t->ne[d];
      rest /= t->ne[d];
    }
    const double v = kSpecial[cts_rng_int(&g->rng, 0, (int64_t)CTS_COUNT(kSpecial) - 1)];
    cts_tensor_set(t, base, idx[0], idx[1], idx[2], idx[3], v);
  }
}

static void cts_gen_cont(cts_gen_t* g) {
  cts_case_t* c = g->c;
  int64_t n[4];
  cts_gen_shape(g, WEFT_DTYPE_F32, n);
  cts_tensor_t* a = cts_gen_tensor(g, cts_dt(g, 0), n[0], n[1], n[2], n[3]);
  /* cont exists for strided views: after the first case, never contiguous. */
  if (c->index == 0 && g->mode != CTS_MODE_QUICK) {
    cts_tensor_contiguous(a);
  } else {
    cts_tensor_layout(a, CTS_LAYOUT_ANY, true, &g->rng);
  }
  cts_tensor_t* d = cts_rng_one_in(&g->rng, 3)
                        ? cts_gen_tensor(g, cts_dt(g, 0), n[0] * n[1] * n[2] * n[3], 1, 1, 1)
                        : cts_gen_tensor(g, cts_dt(g, 0), n[0], n[1], n[2], n[3]);
  cts_tensor_contiguous(d);
  cts_gen_sources(g, 1);
  c->dst = 1;
  c->exact = true;
}

static void cts_gen_set_rows(cts_gen_t* g) {
  cts_case_t* c = g->c;
  const uint32_t to = cts_dt(g, CTS_SLOT_DST);
  const int64_t K = to == WEFT_DTYPE_Q8_0 ? 32 * cts_rng_int(&g->rng, 1, g->big ? 8 : 3)
                                          : cts_gen_ne0(g, WEFT_DTYPE_F32);
  const int64_t M = cts_rng_int(&g->rng, 1, 4), R = M + cts_rng_int(&g->rng, 0, 4);
  const int64_t S2 = cts_rng_int(&g->rng, 1, 3), S3 = cts_rng_int(&g->rng, 1, 2);
  const int64_t I2 = cts_rng_one_in(&g->rng, 2) ? 1 : S2, I3 = cts_rng_one_in(&g->rng, 2) ? 1 : S3;
  cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, 0), K, M, S2, S3), true);
  /* No stride-0 ids: that would repeat ids, see below. */
  cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, 1), M, I2, I3, 1), false);
  cts_gen_layout(g, cts_gen_tensor(g, to, K, R, S2, S3), false);
  cts_gen_sources(g, 2);
  c->dst = 2;
  if (to == WEFT_DTYPE_Q8_0) {
    cts_gen_nmse(g, 1e-6);
  } else {
    c->exact = true;
  }
}

static void cts_gen_flash_attn(cts_gen_t* g) {
  cts_case_t* c = g->c;
  static const int64_t kDims[] = {8, 32, 40, 64, 3};
  const int64_t D = c->index == 0 ? kDims[c->combo_index % 4]
                                  : kDims[cts_rng_int(&g->rng, 0, 4)];
  const int64_t Dv = cts_rng_one_in(&g->rng, 3) ? kDims[cts_rng_int(&g->rng, 0, 3)] : D;
  const int64_t n_kv = c->index == 0 ? 33 : cts_rng_int(&g->rng, 1, 64);
  int64_t n_q = cts_rng_int(&g->rng, 1, 4);
  const int64_t H_kv = cts_rng_int(&g->rng, 1, 2), H = H_kv * cts_rng_int(&g->rng, 1, 2);
  const int64_t B = cts_rng_int(&g->rng, 1, 2), B_kv = cts_rng_one_in(&g->rng, 2) ? 1 : B;
  const bool loose = cts_dt(g, 1) != WEFT_DTYPE_F32 || cts_dt(g, 2) != WEFT_DTYPE_F32;
  /* docs/ops.md: the looser limit's cases keep dst at <= 10^3 elements. */
  while (loose && Dv * n_q * H * B > 1000 && n_q > 1) n_q--;
  const bool masked = cts_dt(g, 3) != CTS_DTYPE_NONE;
  cts_gen_layout(g, cts_gen_tensor(g, WEFT_DTYPE_F32, D, n_q, H, B), true);
  cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, 1), D, n_kv, H_kv, B_kv), true);
  cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, 2), Dv, n_kv, H_kv, B_kv), true);
  if (masked) {
    const int64_t m1 = n_q + cts_rng_int(&g->rng, 0, 2);
    const int64_t m2 = cts_rng_one_in(&g->rng, 2) ? 1 : H;
    const int64_t m3 = cts_rng_one_in(&g->rng, 2) ? 1 : B;
    cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, 3), n_kv, m1, m2, m3), true);
  }
  cts_tensor_t* dst = cts_gen_tensor(g, WEFT_DTYPE_F32, Dv, n_q, H, B);
  if (c->index != 0 && cts_rng_one_in(&g->rng, 3)) {
    /* ggml's output layout: [D_v, H, n_q] in memory (docs/ops.md). */
    dst->nb[0] = 4;
    dst->nb[2] = 4 * Dv;
    dst->nb[1] = 4 * Dv * H;
    dst->nb[3] = 4 * Dv * H * n_q;
    snprintf(dst->layout_text, sizeof(dst->layout_text), "[Dv,H,n_q] view");
  } else {
    cts_gen_layout(g, dst, false);
  }
  for (int i = 0; i < WEFT_MAX_SRC; ++i) c->src[i] = i < (masked ? 4 : 3) ? i : -1;
  c->dst = c->tensor_count - 1;
  weft_op_flash_attn_params_t* p = &c->params.flash_attn;
  const int form = cts_gen_params_form(g, 8);
  p->scale = cts_rng_one_in(&g->rng, 2) ? 0.0f : (float)cts_rng_uniform(&g->rng, 0.05, 0.3);
  p->logit_softcap = form == 0 && cts_rng_one_in(&g->rng, 3) ? 20.0f : 0.0f;
  p->sliding_window =
      form == 0 && cts_rng_one_in(&g->rng, 3) ? (int32_t)cts_rng_int(&g->rng, 1, n_kv) : 0;
  cts_gen_params(g, form, sizeof(*p), 8);
  if (form == 1) p->scale = 0.0f;
  snprintf(g->params_text, sizeof(g->params_text), "scale %g softcap %g window %d",
           (double)p->scale, (double)p->logit_softcap, (int)p->sliding_window);
  cts_gen_nmse(g, loose ? 5e-4 : 1e-5);
}

static void cts_gen_argmax(cts_gen_t* g) {
  cts_case_t* c = g->c;
  const int64_t n = cts_gen_ne0(g, WEFT_DTYPE_F32), m = cts_rng_int(&g->rng, 1, 6);
  cts_gen_layout(g, cts_gen_tensor(g, cts_dt(g, 0), n, m, 1, 1), true);
  cts_gen_layout(g, cts_gen_tensor(g, WEFT_DTYPE_I32, m, 1, 1, 1), false);
  cts_gen_sources(g, 1);
  c->dst = 1;
  c->exact = true;
}

/* Ties: the row's maximum again at a later index (the lowest index wins). */
static void cts_gen_argmax_fill(cts_gen_t* g) {
  const cts_tensor_t* t = &g->c->t[0];
  uint8_t* base = g->c->image[t->buffer];
  for (int64_t r = 0; r < t->ne[1]; ++r) {
    if (t->ne[0] < 2 || !cts_rng_one_in(&g->rng, 2)) continue;
    int64_t best = 0;
    for (int64_t i = 1; i < t->ne[0]; ++i) {
      if (cts_tensor_get(t, base, i, r, 0, 0) > cts_tensor_get(t, base, best, r, 0, 0)) best = i;
    }
    if (best + 1 < t->ne[0]) {
      const int64_t later = cts_rng_int(&g->rng, best + 1, t->ne[0] - 1);
      cts_tensor_set(t, base, later, r, 0, 0, cts_tensor_get(t, base, best, r, 0, 0));
    }
  }
}

static void cts_gen_concat(cts_gen_t* g) {
  cts_case_t* c = g->c;
  const uint32_t dtype = cts_dt(g, 0);
  weft_op_concat_params_t* p = &c->params.concat;
  const int form = cts_gen_params_form(g, 0);
  p->dim = form == 1 ? 0 : (int32_t)cts_rng_int(&g->rng, 0, 3);
  cts_gen_params(g, form, sizeof(*p), 0);
  snprintf(g->params_text, sizeof(g->params_text), "dim %d", (int)p->dim);
  int64_t a[4];
  cts_gen_shape(g, dtype, a);
  a[3] = cts_rng_int(&g->rng, 1, 2);
  int64_t b[4] = {a[0], a[1], a[2], a[3]};
  b[p->dim] = p->dim == 0 ? cts_gen_ne0(g, dtype) : cts_rng_int(&g->rng, 1, 4);
  int64_t d[4] = {a[0], a[1], a[2], a[3]};
  d[p->dim] = a[p->dim] + b[p->dim];
  cts_gen_layout(g, cts_gen_tensor(g, dtype, a[0], a[1], a[2], a[3]), true);
  cts_gen_layout(g, cts_gen_tensor(g, dtype, b[0], b[1], b[2], b[3]), true);
  cts_gen_layout(g, cts_gen_tensor(g, dtype, d[0], d[1], d[2], d[3]), false);
  cts_gen_sources(g, 2);
  c->dst = 2;
  c->exact = true;
}

/* ---- placement ---- */

static uint64_t cts_round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

/* Puts every tensor in a buffer with at least 64 guard bytes before and after
 * it: one buffer per tensor, or (some cases) all of them in one buffer at
 * offsets. Element 0 is usually 64-byte aligned, sometimes at a multiple of
 * the element size, rarely at an odd byte (docs/ops.md: any address). */
static bool cts_case_place(cts_gen_t* g) {
  cts_case_t* c = g->c;
  const bool shared = c->index != 0 && c->tensor_count > 1 && cts_rng_one_in(&g->rng, 4);
  uint64_t cursor = 0;
  c->buffer_count = shared ? 1 : 0;
  for (uint32_t i = 0; i < c->tensor_count; ++i) {
    cts_tensor_t* t = &c->t[i];
    t->span = cts_tensor_span(t);
    if (t->alias_of >= 0) continue;
    uint64_t misalign = 0;
    if (c->index != 0) {
      const int64_t pick = cts_rng_int(&g->rng, 0, 9);
      if (pick == 0) misalign = (uint64_t)cts_rng_int(&g->rng, 1, 3);
      if (pick == 1) misalign = cts_tensor_unit(t) * (uint64_t)cts_rng_int(&g->rng, 1, 3);
    }
    if (shared) {
      t->buffer = 0;
      t->offset = cts_round_up(cursor + 64, 64) + misalign;
      cursor = t->offset + t->span;
    } else {
      t->buffer = c->buffer_count++;
      t->offset = 64 + misalign;
      c->buffer_size[t->buffer] = cts_round_up(t->offset + t->span + 64, 64);
    }
  }
  if (shared) c->buffer_size[0] = cts_round_up(cursor + 64, 64);
  for (uint32_t i = 0; i < c->tensor_count; ++i) {
    cts_tensor_t* t = &c->t[i];
    if (t->alias_of >= 0) {
      t->buffer = c->t[t->alias_of].buffer;
      t->offset = c->t[t->alias_of].offset;
    }
    if (i == c->dst) t->is_dst = true;
  }
  for (uint32_t b = 0; b < c->buffer_count; ++b) {
    c->image[b] = (uint8_t*)malloc((size_t)c->buffer_size[b]);
    if (c->image[b] == NULL) return false;
    for (uint64_t k = 0; k < c->buffer_size[b]; ++k) c->image[b][k] = CTS_GUARD_PATTERN[k % 4];
  }
  return true;
}

/* ---- the case ---- */

static void cts_case_describe(cts_gen_t* g) {
  cts_case_t* c = g->c;
  snprintf(c->case_id, sizeof(c->case_id), "%s/%s/#%u", weft_op_name(c->op), c->combo->label,
           c->index);
  size_t used = 0;
  static const char* const kNames[] = {"src0", "src1", "src2", "src3"};
  for (int s = 0; s < WEFT_MAX_SRC && used < sizeof(c->shapes); ++s) {
    if (c->src[s] < 0) continue;
    char text[96];
    cts_tensor_describe(&c->t[c->src[s]], text, sizeof(text));
    used += (size_t)snprintf(c->shapes + used, sizeof(c->shapes) - used, "%s %s; ",
                             s < 4 ? kNames[s] : "src", text);
  }
  if (used < sizeof(c->shapes)) {
    char text[96];
    cts_tensor_describe(&c->t[c->dst], text, sizeof(text));
    used += (size_t)snprintf(c->shapes + used, sizeof(c->shapes) - used, "dst %s", text);
  }
  if (used < sizeof(c->shapes) && g->params_text[0] != '\0') {
    used += (size_t)snprintf(c->shapes + used, sizeof(c->shapes) - used, "; %s%s",
                             g->params_text, c->params_size == 0 ? " (params NULL)" : "");
  }
  if (used < sizeof(c->shapes) && c->params_size != 0) {
    used += (size_t)snprintf(c->shapes + used, sizeof(c->shapes) - used, " (%u-byte params)",
                             c->params_size);
  }
  if (used < sizeof(c->shapes) && c->buffer_count == 1 && c->tensor_count > 1) {
    snprintf(c->shapes + used, sizeof(c->shapes) - used, "; one shared buffer");
  }
}

bool cts_case_make(cts_case_t* out_case, const cts_combo_def_t* combo, uint32_t combo_index,
                   uint32_t index, uint64_t seed, cts_mode_t mode, char* error,
                   size_t error_cap) {
  cts_case_t* c = out_case;
  memset(c, 0, sizeof(*c));
  c->op = combo->op;
  c->combo = combo;
  c->combo_index = combo_index;
  c->index = index;
  cts_gen_t g;
  memset(&g, 0, sizeof(g));
  g.c = c;
  g.rng = cts_rng_make(seed, combo->op, combo_index, index);
  g.mode = mode;
  g.big = mode == CTS_MODE_FULL;
  switch (c->op) {
    case WEFT_OP_GET_ROWS: cts_gen_get_rows(&g); break;
    case WEFT_OP_MUL_MAT: cts_gen_mul_mat(&g); break;
    case WEFT_OP_ADD: case WEFT_OP_MUL: cts_gen_binary(&g); break;
    case WEFT_OP_SCALE: cts_gen_scale(&g); break;
    case WEFT_OP_RMS_NORM: cts_gen_rms_norm(&g); break;
    case WEFT_OP_ROPE: cts_gen_rope(&g); break;
    case WEFT_OP_SOFT_MAX: cts_gen_soft_max(&g); break;
    case WEFT_OP_GELU: cts_gen_gelu(&g); break;
    case WEFT_OP_SILU: cts_gen_silu(&g); break;
    case WEFT_OP_SWIGLU: case WEFT_OP_GEGLU: cts_gen_glu(&g); break;
    case WEFT_OP_CPY: cts_gen_cpy(&g); break;
    case WEFT_OP_CONT: cts_gen_cont(&g); break;
    case WEFT_OP_SET_ROWS: cts_gen_set_rows(&g); break;
    case WEFT_OP_FLASH_ATTN: cts_gen_flash_attn(&g); break;
    case WEFT_OP_ARGMAX: cts_gen_argmax(&g); break;
    case WEFT_OP_CONCAT: cts_gen_concat(&g); break;
    default:
      snprintf(error, error_cap, "no cases for op %u", c->op);
      return false;
  }
  if (!cts_case_place(&g)) {
    snprintf(error, error_cap, "out of memory building case %s #%u", combo->label, index);
    cts_case_free(c);
    return false;
  }
  /* Op-specific contents first, then everything else at random. */
  switch (c->op) {
    case WEFT_OP_GET_ROWS:
      cts_gen_ids_fill(&g, 1, c->t[0].ne[1], false);
      break;
    case WEFT_OP_SET_ROWS:
      /* Unique ids per row of ids; full mode's every fourth case repeats
       * ids, where the last row written must win (docs/ops.md). */
      cts_gen_ids_fill(&g, 1, c->t[2].ne[1], !(mode == CTS_MODE_FULL && index % 4 == 3));
      break;
    case WEFT_OP_ROPE:
      cts_gen_rope_fill(&g);
      break;
    case WEFT_OP_SOFT_MAX:
      if (c->src[1] >= 0) {
        cts_gen_mask_fill(&g, 1, c->t[0].ne[1], c->t[0].ne[0] - 1, -1.0, 1.0);
      }
      break;
    case WEFT_OP_FLASH_ATTN:
      if (c->src[3] >= 0) {
        cts_gen_mask_fill(&g, 3, c->t[0].ne[1], c->t[1].ne[1] - 1, -1.0, 0.0);
      }
      break;
    default:
      break;
  }
  for (uint32_t i = 0; i < c->tensor_count; ++i) {
    const cts_tensor_t* t = &c->t[i];
    if (t->alias_of >= 0 || g.filled[i]) continue;
    cts_tensor_fill(t, c->image[t->buffer], &g.rng, g.lo[i], g.hi[i]);
  }
  if (c->op == WEFT_OP_ARGMAX) cts_gen_argmax_fill(&g);
  if (c->op == WEFT_OP_CPY && index % 2 == 1 && c->t[1].dtype != WEFT_DTYPE_Q8_0) {
    cts_gen_special_fill(&g, 0);
  }
  cts_case_describe(&g);
  return true;
}

void cts_case_free(cts_case_t* c) {
  for (uint32_t b = 0; b < CTS_MAX_TENSORS; ++b) {
    free(c->image[b]);
    c->image[b] = NULL;
  }
  c->buffer_count = 0;
}
