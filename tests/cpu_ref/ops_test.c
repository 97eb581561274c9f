/* The reference kernels against naive double-precision implementations
 * written here from docs/ops.md, on random shapes with odd sizes (ne[0] of
 * 1, 3, 33, 257), broadcasting, permuted and gapped (non-contiguous) views at
 * misaligned addresses, in place where docs/ops.md allows it. Tolerances are
 * far below the conformance tolerances of docs/ops.md: the kernels and these
 * implementations compute the same formulas in double, so they differ by
 * the final rounding to the dst dtype only. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu_ref/ops/kernels.h"
#include "ref_tensor.h"

/* Layouts for plain dtypes: contiguous; transposed with gaps at an odd
 * address; dims 2 and 1 swapped; everything permuted. */
static const ref_layout_t PLAIN_LAYOUTS[] = {
    {{0, 1, 2, 3}, 0, 0},
    {{1, 0, 2, 3}, 1, 2},
    {{0, 2, 1, 3}, 2, 1},
    {{3, 2, 0, 1}, 0, 6},
};
#define PLAIN_LAYOUT_COUNT (sizeof(PLAIN_LAYOUTS) / sizeof(PLAIN_LAYOUTS[0]))
/* Layouts for block dtypes (rows stay contiguous). */
static const ref_layout_t BLOCK_LAYOUTS[] = {
    {{0, 1, 2, 3}, 0, 0},
    {{0, 2, 1, 3}, 1, 3},
};

static const int64_t ODD_NE0[] = {1, 3, 33, 257};

static ref_layout_t pick_layout(ref_rng_t* rng) {
  return PLAIN_LAYOUTS[ref_rng_int(rng, 0, PLAIN_LAYOUT_COUNT - 1)];
}

static double* alloc_doubles(int64_t n) {
  double* p = (double*)calloc((size_t)(n > 0 ? n : 1), sizeof(double));
  assert_non_null(p);
  return p;
}

/* Rounds v as storing it in dtype would. */
static double round_to(uint32_t dtype, double v) {
  switch (dtype) {
    case WEFT_DTYPE_F16: return weft__fp16_to_fp32(weft__fp32_to_fp16((float)v));
    case WEFT_DTYPE_BF16: return weft__bf16_to_fp32(weft__fp32_to_bf16((float)v));
    default: return (float)v;
  }
}

/* Tolerance for a result computed in double and rounded once to dtype. */
static double rounding_tolerance(uint32_t dtype) {
  switch (dtype) {
    case WEFT_DTYPE_F16: return 1e-6;
    case WEFT_DTYPE_BF16: return 5e-5;
    default: return 1e-12;
  }
}

/* dst (logical order) against want, NMSE <= max_nmse (0: exact). */
static void expect_values(const ref_tensor_t* dst, const double* want, double max_nmse,
                          const char* what) {
  const int64_t n = ref_tensor_count(dst);
  double* got = alloc_doubles(n);
  for (int64_t i = 0; i < n; ++i) got[i] = ref_get_linear(dst, i);
  const double nmse = ref_nmse(got, want, n);
  if (!(nmse <= max_nmse)) {
    int64_t worst = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (fabs(got[i] - want[i]) > fabs(got[worst] - want[worst]) || isnan(got[i])) worst = i;
    }
    const double g = got[worst], w = want[worst];
    free(got);
    fail_msg("%s: NMSE %g > %g (worst element %lld: got %.9g, want %.9g)", what, nmse, max_nmse,
             (long long)worst, g, w);
  }
  free(got);
}

/* ---- add, mul ------------------------------------------------------------ */

static void run_binary(uint32_t op, ref_rng_t* rng, int trial) {
  const int64_t ne[4] = {ODD_NE0[trial % 4], ref_rng_int(rng, 1, 5), ref_rng_int(rng, 1, 3),
                         ref_rng_int(rng, 1, 2)};
  /* src1 dims: full, 1, or (for even sizes) half; all divide src0's. */
  int64_t ne1[4];
  for (int d = 0; d < 4; ++d) {
    const int64_t pick = ref_rng_int(rng, 0, 2);
    ne1[d] = pick == 0 ? ne[d] : pick == 1 ? 1 : (ne[d] % 2 == 0 ? ne[d] / 2 : ne[d]);
  }
  const uint32_t dtypes[] = {WEFT_DTYPE_F32, WEFT_DTYPE_F32, WEFT_DTYPE_F16, WEFT_DTYPE_BF16};
  const uint32_t t0 = trial < 8 ? WEFT_DTYPE_F32 : dtypes[ref_rng_int(rng, 0, 3)];
  const uint32_t t1 = trial < 8 ? WEFT_DTYPE_F32 : dtypes[ref_rng_int(rng, 0, 3)];
  const uint32_t td = trial < 8 ? WEFT_DTYPE_F32 : dtypes[ref_rng_int(rng, 0, 3)];
  ref_tensor_t a, b, dst;
  ref_tensor_init(&a, t0, ne[0], ne[1], ne[2], ne[3], pick_layout(rng));
  ref_tensor_init(&b, t1, ne1[0], ne1[1], ne1[2], ne1[3], pick_layout(rng));
  ref_tensor_init(&dst, td, ne[0], ne[1], ne[2], ne[3], pick_layout(rng));
  ref_fill_uniform(&a, rng, -2, 2);
  ref_fill_uniform(&b, rng, -2, 2);
  const int64_t n = ref_tensor_count(&dst);
  double* want = alloc_doubles(n);
  int64_t k = 0;
  for (int64_t i3 = 0; i3 < ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < ne[1]; ++i1)
        for (int64_t i0 = 0; i0 < ne[0]; ++i0) {
          const double x = ref_get(&a, i0, i1, i2, i3);
          const double y = ref_get(&b, i0 % ne1[0], i1 % ne1[1], i2 % ne1[2], i3 % ne1[3]);
          want[k++] = op == WEFT_OP_ADD ? x + y : x * y;
        }
  weft_cpu_ref_node_t node = ref_node(op, &dst, &a, &b, NULL, 0);
  ref_run(&node);
  expect_values(&dst, want, rounding_tolerance(td), weft_op_name(op));
  free(want);
  ref_tensor_free(&a);
  ref_tensor_free(&b);
  ref_tensor_free(&dst);
}

static void test_add_mul(void** state) {
  (void)state;
  ref_rng_t rng = {1};
  for (int trial = 0; trial < 24; ++trial) {
    run_binary(WEFT_OP_ADD, &rng, trial);
    run_binary(WEFT_OP_MUL, &rng, trial);
  }
}

/* ---- scale, silu, gelu, swiglu, geglu ---------------------------------------- */

static double silu(double x) { return x / (1.0 + exp(-x)); }

static double gelu(double x, uint32_t mode) {
  if (mode == WEFT_GELU_MODE_ERF) return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
  const double c = sqrt(2.0 / 3.14159265358979323846);
  return 0.5 * x * (1.0 + tanh(c * (x + 0.044715 * x * x * x)));
}

typedef enum unary_kind_t { U_SCALE, U_SILU, U_GELU_TANH, U_GELU_ERF, U_SWIGLU, U_GEGLU_TANH, U_GEGLU_ERF } unary_kind_t;

static void run_activation(unary_kind_t kind, ref_rng_t* rng, int trial) {
  const int64_t ne[4] = {ODD_NE0[trial % 4], ref_rng_int(rng, 1, 4), ref_rng_int(rng, 1, 3), 1};
  const uint32_t dtypes[] = {WEFT_DTYPE_F32, WEFT_DTYPE_F16, WEFT_DTYPE_BF16};
  const uint32_t td = trial < 6 ? WEFT_DTYPE_F32 : dtypes[ref_rng_int(rng, 0, 2)];
  const uint32_t ts = trial < 6 ? WEFT_DTYPE_F32 : dtypes[ref_rng_int(rng, 0, 2)];
  const bool glu = kind >= U_SWIGLU;
  ref_tensor_t a, b, dst;
  ref_tensor_init(&a, ts, ne[0], ne[1], ne[2], ne[3], pick_layout(rng));
  ref_tensor_init(&b, WEFT_DTYPE_F32, ne[0], ne[1], ne[2], ne[3], pick_layout(rng));
  ref_tensor_init(&dst, td, ne[0], ne[1], ne[2], ne[3], pick_layout(rng));
  ref_fill_uniform(&a, rng, -8, 8);
  ref_fill_uniform(&b, rng, -3, 3);
  const weft_op_scale_params_t scale = {sizeof(scale), (float)ref_rng_uniform(rng, -2, 2),
                                        (float)ref_rng_uniform(rng, -1, 1)};
  const weft_op_gelu_params_t gelu_erf = {sizeof(gelu_erf), WEFT_GELU_MODE_ERF};
  const int64_t n = ref_tensor_count(&dst);
  double* want = alloc_doubles(n);
  for (int64_t i = 0; i < n; ++i) {
    const double x = ref_get_linear(&a, i);
    const double y = ref_get_linear(&b, i);
    switch (kind) {
      case U_SCALE: want[i] = (double)((float)(x * scale.scale) + scale.bias); break;
      case U_SILU: want[i] = silu(x); break;
      case U_GELU_TANH: want[i] = gelu(x, WEFT_GELU_MODE_TANH); break;
      case U_GELU_ERF: want[i] = gelu(x, WEFT_GELU_MODE_ERF); break;
      case U_SWIGLU: want[i] = silu(x) * y; break;
      case U_GEGLU_TANH: want[i] = gelu(x, WEFT_GELU_MODE_TANH) * y; break;
      case U_GEGLU_ERF: want[i] = gelu(x, WEFT_GELU_MODE_ERF) * y; break;
    }
  }
  uint32_t op;
  const void* params = NULL;
  uint32_t params_size = 0;
  switch (kind) {
    case U_SCALE: op = WEFT_OP_SCALE; params = &scale; params_size = sizeof(scale); break;
    case U_SILU: op = WEFT_OP_SILU; break;
    case U_GELU_TANH: op = WEFT_OP_GELU; break; /* default mode: tanh */
    case U_GELU_ERF: op = WEFT_OP_GELU; params = &gelu_erf; params_size = sizeof(gelu_erf); break;
    case U_SWIGLU: op = WEFT_OP_SWIGLU; break;
    case U_GEGLU_TANH: op = WEFT_OP_GEGLU; break;
    default: op = WEFT_OP_GEGLU; params = &gelu_erf; params_size = sizeof(gelu_erf); break;
  }
  weft_cpu_ref_node_t node = ref_node(op, &dst, &a, glu ? &b : NULL, params, params_size);
  ref_run(&node);
  char what[64];
  snprintf(what, sizeof(what), "%s (kind %d, trial %d)", weft_op_name(op), (int)kind, trial);
  expect_values(&dst, want, rounding_tolerance(td), what);
  free(want);
  ref_tensor_free(&a);
  ref_tensor_free(&b);
  ref_tensor_free(&dst);
}

static void test_scale_and_activations(void** state) {
  (void)state;
  ref_rng_t rng = {2};
  for (int trial = 0; trial < 12; ++trial) {
    for (int kind = U_SCALE; kind <= U_GEGLU_ERF; ++kind) run_activation((unary_kind_t)kind, &rng, trial);
  }
}

/* Params from an older writer (a prefix) take defaults for the rest; params
 * from a newer writer (longer) are read up to what op set 1 knows. */
static void test_params_versions(void** state) {
  (void)state;
  ref_tensor_t a, dst;
  ref_tensor_init(&a, WEFT_DTYPE_F32, 4, 1, 1, 1, REF_CONTIGUOUS);
  ref_tensor_init(&dst, WEFT_DTYPE_F32, 4, 1, 1, 1, REF_CONTIGUOUS);
  for (int i = 0; i < 4; ++i) ref_set(&a, i, 0, 0, 0, i + 1);
  struct {
    uint32_t struct_size;
    float scale;
  } older = {8, 3.0f};
  weft_cpu_ref_node_t node = ref_node(WEFT_OP_SCALE, &dst, &a, NULL, &older, sizeof(older));
  ref_run(&node);
  for (int i = 0; i < 4; ++i) assert_true(ref_get(&dst, i, 0, 0, 0) == 3.0 * (i + 1));
  struct {
    uint32_t struct_size;
    float scale, bias, future;
  } newer = {16, 2.0f, 0.5f, 123.0f};
  node = ref_node(WEFT_OP_SCALE, &dst, &a, NULL, &newer, sizeof(newer));
  ref_run(&node);
  for (int i = 0; i < 4; ++i) assert_true(ref_get(&dst, i, 0, 0, 0) == 2.0 * (i + 1) + 0.5);
  node = ref_node(WEFT_OP_SCALE, &dst, &a, NULL, NULL, 0); /* all defaults: identity */
  ref_run(&node);
  for (int i = 0; i < 4; ++i) assert_true(ref_get(&dst, i, 0, 0, 0) == i + 1);
  ref_tensor_free(&a);
  ref_tensor_free(&dst);
}

/* ---- rms_norm ------------------------------------------------------------ */

static void test_rms_norm(void** state) {
  (void)state;
  ref_rng_t rng = {3};
  for (int trial = 0; trial < 12; ++trial) {
    const int64_t ne[4] = {ODD_NE0[trial % 4], ref_rng_int(&rng, 1, 4), ref_rng_int(&rng, 1, 3),
                           ref_rng_int(&rng, 1, 2)};
    const uint32_t td = trial % 3 == 2 ? WEFT_DTYPE_F16 : WEFT_DTYPE_F32;
    ref_tensor_t a, dst;
    ref_tensor_init(&a, WEFT_DTYPE_F32, ne[0], ne[1], ne[2], ne[3], pick_layout(&rng));
    ref_tensor_init(&dst, td, ne[0], ne[1], ne[2], ne[3], pick_layout(&rng));
    ref_fill_uniform(&a, &rng, -3, 3);
    const weft_op_rms_norm_params_t params = {sizeof(params), trial % 2 ? 1e-5f : 1e-6f};
    double* want = alloc_doubles(ref_tensor_count(&dst));
    int64_t k = 0;
    for (int64_t i3 = 0; i3 < ne[3]; ++i3)
      for (int64_t i2 = 0; i2 < ne[2]; ++i2)
        for (int64_t i1 = 0; i1 < ne[1]; ++i1) {
          double sum = 0;
          for (int64_t i0 = 0; i0 < ne[0]; ++i0) {
            const double x = ref_get(&a, i0, i1, i2, i3);
            sum += x * x;
          }
          const double inv = 1.0 / sqrt(sum / (double)ne[0] + (double)params.eps);
          for (int64_t i0 = 0; i0 < ne[0]; ++i0) want[k++] = ref_get(&a, i0, i1, i2, i3) * inv;
        }
    weft_cpu_ref_node_t node = ref_node(WEFT_OP_RMS_NORM, &dst, &a, NULL, &params, sizeof(params));
    ref_run(&node);
    expect_values(&dst, want, rounding_tolerance(td), "rms_norm");
    /* In place: dst is the very view of src0. */
    node = ref_node(WEFT_OP_RMS_NORM, &a, &a, NULL, &params, sizeof(params));
    ref_run(&node);
    expect_values(&a, want, 1e-12, "rms_norm in place");
    free(want);
    ref_tensor_free(&a);
    ref_tensor_free(&dst);
  }
}

/* ---- rope ---------------------------------------------------------------- */

static void test_rope(void** state) {
  (void)state;
  ref_rng_t rng = {4};
  const int64_t head_dims[] = {2, 8, 64, 6};
  for (int trial = 0; trial < 16; ++trial) {
    const int64_t d = head_dims[trial % 4];
    const int64_t heads = ref_rng_int(&rng, 1, 3), tokens = ref_rng_int(&rng, 1, 5);
    const uint32_t mode = (uint32_t)(trial / 4) % 2;
    /* n_dims: all (0), or a partial even count. */
    const int32_t n_dims = trial % 3 == 0 ? 0 : (int32_t)(2 * ref_rng_int(&rng, 1, d / 2));
    const weft_op_rope_params_t params = {sizeof(params), mode, n_dims,
                                          trial % 2 ? 1000000.0f : 10000.0f,
                                          trial % 5 == 0 ? 0.25f : 1.0f};
    const uint32_t td = trial % 4 == 3 ? WEFT_DTYPE_F16 : WEFT_DTYPE_F32;
    ref_tensor_t x, pos, dst;
    ref_tensor_init(&x, WEFT_DTYPE_F32, d, heads, tokens, 1, pick_layout(&rng));
    ref_tensor_init(&pos, WEFT_DTYPE_I32, tokens, 1, 1, 1, pick_layout(&rng));
    ref_tensor_init(&dst, td, d, heads, tokens, 1, pick_layout(&rng));
    ref_fill_uniform(&x, &rng, -1, 1);
    for (int64_t t = 0; t < tokens; ++t) ref_set(&pos, t, 0, 0, 0, (double)ref_rng_int(&rng, 0, 4000));
    const int64_t nd = n_dims ? n_dims : d;
    double* want = alloc_doubles(ref_tensor_count(&dst));
    for (int64_t t = 0; t < tokens; ++t) {
      const double p = ref_get(&pos, t, 0, 0, 0);
      for (int64_t h = 0; h < heads; ++h) {
        double* row = want + (t * heads + h) * d;
        for (int64_t i = 0; i < d; ++i) row[i] = ref_get(&x, i, h, t, 0);
        for (int64_t i = 0; i < nd / 2; ++i) {
          const double theta = p * params.freq_scale * pow(params.freq_base, -2.0 * (double)i / (double)nd);
          const int64_t j0 = mode == WEFT_ROPE_MODE_NEOX ? i : 2 * i;
          const int64_t j1 = mode == WEFT_ROPE_MODE_NEOX ? i + nd / 2 : 2 * i + 1;
          const double a = row[j0], b = row[j1];
          row[j0] = a * cos(theta) - b * sin(theta);
          row[j1] = a * sin(theta) + b * cos(theta);
        }
      }
    }
    weft_cpu_ref_node_t node = ref_node(WEFT_OP_ROPE, &dst, &x, &pos, &params, sizeof(params));
    ref_run(&node);
    char what[64];
    snprintf(what, sizeof(what), "rope trial %d (mode %u, n_dims %d)", trial, mode, n_dims);
    expect_values(&dst, want, rounding_tolerance(td), what);
    node = ref_node(WEFT_OP_ROPE, &x, &x, &pos, &params, sizeof(params));
    ref_run(&node);
    expect_values(&x, want, 1e-12, "rope in place");
    free(want);
    ref_tensor_free(&x);
    ref_tensor_free(&pos);
    ref_tensor_free(&dst);
  }
}

/* ---- soft_max ------------------------------------------------------------ */

static void test_soft_max(void** state) {
  (void)state;
  ref_rng_t rng = {5};
  for (int trial = 0; trial < 16; ++trial) {
    const int64_t ne[4] = {ODD_NE0[trial % 4], ref_rng_int(&rng, 1, 4), ref_rng_int(&rng, 1, 4),
                           ref_rng_int(&rng, 1, 2)};
    const bool with_mask = trial % 4 != 0;
    /* Mask: f32 or f16, with padding rows and ne[2] broadcast. */
    const int64_t mask_rows = ne[1] + ref_rng_int(&rng, 0, 2);
    const int64_t mask_ne2 = ne[2] % 2 == 0 && trial % 2 ? 2 : 1;
    const uint32_t mask_type = trial % 3 == 0 ? WEFT_DTYPE_F16 : WEFT_DTYPE_F32;
    ref_tensor_t a, mask, dst;
    ref_tensor_init(&a, WEFT_DTYPE_F32, ne[0], ne[1], ne[2], ne[3], pick_layout(&rng));
    ref_tensor_init(&mask, mask_type, ne[0], mask_rows, mask_ne2, 1, pick_layout(&rng));
    ref_tensor_init(&dst, WEFT_DTYPE_F32, ne[0], ne[1], ne[2], ne[3], pick_layout(&rng));
    ref_fill_uniform(&a, &rng, -6, 6);
    ref_fill_uniform(&mask, &rng, -2, 0);
    /* Some -inf entries, and in trial 5 one fully masked row. */
    for (int64_t i = 0; i < ref_tensor_count(&mask); ++i) {
      if (ref_rng_int(&rng, 0, 3) == 0) ref_set_linear(&mask, i, -INFINITY);
    }
    if (trial == 5) {
      for (int64_t i0 = 0; i0 < ne[0]; ++i0) ref_set(&mask, i0, 0, 0, 0, -INFINITY);
    }
    const weft_op_soft_max_params_t params = {sizeof(params), trial % 2 ? 0.125f : 1.0f};
    double* want = alloc_doubles(ref_tensor_count(&dst));
    double* w = alloc_doubles(ne[0]);
    int64_t k = 0;
    for (int64_t i3 = 0; i3 < ne[3]; ++i3)
      for (int64_t i2 = 0; i2 < ne[2]; ++i2)
        for (int64_t i1 = 0; i1 < ne[1]; ++i1) {
          double max = -INFINITY;
          for (int64_t i0 = 0; i0 < ne[0]; ++i0) {
            w[i0] = ref_get(&a, i0, i1, i2, i3) * params.scale;
            if (with_mask) w[i0] += ref_get(&mask, i0, i1, i2 % mask_ne2, 0);
            max = fmax(max, w[i0]);
          }
          double sum = 0;
          for (int64_t i0 = 0; i0 < ne[0]; ++i0) sum += max == -INFINITY ? 0 : exp(w[i0] - max);
          for (int64_t i0 = 0; i0 < ne[0]; ++i0) {
            want[k++] = max == -INFINITY ? 0.0 : exp(w[i0] - max) / sum;
          }
        }
    weft_cpu_ref_node_t node =
        ref_node(WEFT_OP_SOFT_MAX, &dst, &a, with_mask ? &mask : NULL, &params, sizeof(params));
    ref_run(&node);
    expect_values(&dst, want, 1e-12, "soft_max");
    for (int64_t i = 0; i < ref_tensor_count(&dst); ++i) assert_false(isnan(ref_get_linear(&dst, i)));
    node = ref_node(WEFT_OP_SOFT_MAX, &a, &a, with_mask ? &mask : NULL, &params, sizeof(params));
    ref_run(&node);
    expect_values(&a, want, 1e-12, "soft_max in place");
    free(w);
    free(want);
    ref_tensor_free(&a);
    ref_tensor_free(&mask);
    ref_tensor_free(&dst);
  }
}

/* ---- get_rows ------------------------------------------------------------ */

static void test_get_rows(void** state) {
  (void)state;
  ref_rng_t rng = {6};
  const uint32_t tables[] = {WEFT_DTYPE_F32,  WEFT_DTYPE_F16,  WEFT_DTYPE_BF16, WEFT_DTYPE_Q4_0,
                             WEFT_DTYPE_Q4_1, WEFT_DTYPE_Q5_0, WEFT_DTYPE_Q5_1, WEFT_DTYPE_Q8_0,
                             WEFT_DTYPE_Q8_1, WEFT_DTYPE_Q2_K, WEFT_DTYPE_Q3_K, WEFT_DTYPE_Q4_K,
                             WEFT_DTYPE_Q5_K, WEFT_DTYPE_Q6_K, WEFT_DTYPE_Q8_K};
  for (size_t trial = 0; trial < 2 * sizeof(tables) / sizeof(tables[0]); ++trial) {
    const uint32_t type = tables[trial % (sizeof(tables) / sizeof(tables[0]))];
    const bool blocked = weft_dtype_block_elements(type) > 1;
    const int64_t ne0 = blocked ? (int64_t)weft_dtype_block_elements(type) * ref_rng_int(&rng, 1, 2)
                                : ODD_NE0[trial % 4];
    const int64_t rows = ref_rng_int(&rng, 1, 9);
    const int64_t ids_ne1 = ref_rng_int(&rng, 1, 3);
    const int64_t table_ne2 = trial % 2 ? ids_ne1 : 1; /* per-slice table or broadcast */
    const uint32_t id_type = trial % 3 ? WEFT_DTYPE_I32 : WEFT_DTYPE_I64;
    const int64_t m = ref_rng_int(&rng, 1, 6);
    ref_tensor_t table, ids, dst;
    ref_tensor_init(&table, type, ne0, rows, table_ne2, 1,
                    blocked ? BLOCK_LAYOUTS[trial % 2] : pick_layout(&rng));
    ref_tensor_init(&ids, id_type, m, ids_ne1, 1, 1, pick_layout(&rng));
    ref_tensor_init(&dst, WEFT_DTYPE_F32, ne0, m, ids_ne1, 1, pick_layout(&rng));
    if (blocked) {
      ref_fill_blocks(&table, &rng);
    } else {
      ref_fill_uniform(&table, &rng, -4, 4);
    }
    for (int64_t i = 0; i < ref_tensor_count(&ids); ++i) {
      ref_set_linear(&ids, i, (double)ref_rng_int(&rng, 0, rows - 1));
    }
    double* want = alloc_doubles(ref_tensor_count(&dst));
    float* row = (float*)calloc((size_t)ne0, sizeof(float));
    assert_non_null(row);
    int64_t k = 0;
    for (int64_t i11 = 0; i11 < ids_ne1; ++i11)
      for (int64_t i10 = 0; i10 < m; ++i10) {
        const int64_t id = (int64_t)ref_get(&ids, i10, i11, 0, 0);
        ref_row_dequantized(&table, id, table_ne2 == 1 ? 0 : i11, 0, row);
        for (int64_t i0 = 0; i0 < ne0; ++i0) want[k++] = row[i0];
      }
    weft_cpu_ref_node_t node = ref_node(WEFT_OP_GET_ROWS, &dst, &table, &ids, NULL, 0);
    ref_run(&node);
    expect_values(&dst, want, 0.0, weft__dtype_name(type));
    /* An id outside the table fails with the id in the message. */
    ref_set(&ids, m - 1, ids_ne1 - 1, 0, 0, (double)rows);
    char error[256];
    assert_false(ref_try_run(&node, error, sizeof(error)));
    char expect[64];
    snprintf(expect, sizeof(expect), "row id %lld", (long long)rows);
    if (!strstr(error, expect)) fail_msg("get_rows error \"%s\" lacks \"%s\"", error, expect);
    free(row);
    free(want);
    ref_tensor_free(&table);
    ref_tensor_free(&ids);
    ref_tensor_free(&dst);
  }
}

/* ---- mul_mat ------------------------------------------------------------- */

static void run_mul_mat(uint32_t type, int64_t k, ref_rng_t* rng, int trial) {
  const bool blocked = weft_dtype_block_elements(type) > 1;
  const int64_t n = ref_rng_int(rng, 1, 7), m = ref_rng_int(rng, 1, 5);
  /* Broadcast: src0 ne[2] 1 or 2 against src1 ne[2] 2 or 4; ne[3] 1 vs 1..2. */
  const int64_t a2 = ref_rng_int(rng, 1, 2), b2 = a2 * ref_rng_int(rng, 1, 2);
  const int64_t b3 = ref_rng_int(rng, 1, 2), a3 = trial % 2 ? 1 : b3;
  ref_tensor_t a, b, dst;
  ref_tensor_init(&a, type, k, n, a2, a3, blocked ? BLOCK_LAYOUTS[trial % 2] : pick_layout(rng));
  ref_tensor_init(&b, WEFT_DTYPE_F32, k, m, b2, b3, pick_layout(rng));
  ref_tensor_init(&dst, WEFT_DTYPE_F32, n, m, b2, b3, pick_layout(rng));
  if (blocked) {
    ref_fill_blocks(&a, rng);
  } else {
    ref_fill_uniform(&a, rng, -1, 1);
  }
  ref_fill_uniform(&b, rng, -1, 1);
  float* w = (float*)calloc((size_t)k, sizeof(float));
  assert_non_null(w);
  double* want = alloc_doubles(ref_tensor_count(&dst));
  int64_t idx = 0;
  for (int64_t i3 = 0; i3 < b3; ++i3)
    for (int64_t i2 = 0; i2 < b2; ++i2)
      for (int64_t im = 0; im < m; ++im)
        for (int64_t in = 0; in < n; ++in) {
          ref_row_dequantized(&a, in, i2 / (b2 / a2), i3 / (b3 / a3), w);
          double sum = 0;
          for (int64_t ik = 0; ik < k; ++ik) sum += (double)w[ik] * ref_get(&b, ik, im, i2, i3);
          want[idx++] = sum;
        }
  weft_cpu_ref_node_t node = ref_node(WEFT_OP_MUL_MAT, &dst, &a, &b, NULL, 0);
  ref_run(&node);
  char what[64];
  snprintf(what, sizeof(what), "mul_mat %s k %lld", weft__dtype_name(type), (long long)k);
  expect_values(&dst, want, 1e-12, what);
  free(want);
  free(w);
  ref_tensor_free(&a);
  ref_tensor_free(&b);
  ref_tensor_free(&dst);
}

static void test_mul_mat(void** state) {
  (void)state;
  ref_rng_t rng = {7};
  const uint32_t plain[] = {WEFT_DTYPE_F32, WEFT_DTYPE_F16, WEFT_DTYPE_BF16};
  for (int trial = 0; trial < 12; ++trial) run_mul_mat(plain[trial % 3], ODD_NE0[trial % 4], &rng, trial);
  const uint32_t quant[] = {WEFT_DTYPE_Q4_0, WEFT_DTYPE_Q4_1, WEFT_DTYPE_Q5_0, WEFT_DTYPE_Q5_1,
                            WEFT_DTYPE_Q8_0, WEFT_DTYPE_Q8_1, WEFT_DTYPE_Q2_K, WEFT_DTYPE_Q3_K,
                            WEFT_DTYPE_Q4_K, WEFT_DTYPE_Q5_K, WEFT_DTYPE_Q6_K, WEFT_DTYPE_Q8_K};
  for (size_t i = 0; i < sizeof(quant) / sizeof(quant[0]); ++i) {
    const int64_t block = weft_dtype_block_elements(quant[i]);
    run_mul_mat(quant[i], block, &rng, (int)i);
    run_mul_mat(quant[i], block * 3, &rng, (int)i + 1);
  }
}

/* ---- cpy, cont ----------------------------------------------------------- */

static void test_cpy_conversions(void** state) {
  (void)state;
  ref_rng_t rng = {8};
  const uint32_t types[] = {WEFT_DTYPE_F32, WEFT_DTYPE_F16, WEFT_DTYPE_BF16};
  for (int trial = 0; trial < 27; ++trial) {
    const uint32_t from = types[trial % 3], to = types[(trial / 3) % 3];
    const int64_t ne[4] = {ODD_NE0[trial % 4], ref_rng_int(&rng, 1, 4), ref_rng_int(&rng, 1, 3), 1};
    ref_tensor_t src, dst;
    ref_tensor_init(&src, from, ne[0], ne[1], ne[2], ne[3], pick_layout(&rng));
    /* Odd trials reshape: same element count, dst as one long row. */
    if (trial % 2) {
      ref_tensor_init(&dst, to, ne[0] * ne[1] * ne[2], 1, 1, 1, pick_layout(&rng));
    } else {
      ref_tensor_init(&dst, to, ne[0], ne[1], ne[2], ne[3], pick_layout(&rng));
    }
    ref_fill_uniform(&src, &rng, -1000, 1000);
    const int64_t count = ref_tensor_count(&src);
    double* want = alloc_doubles(count);
    for (int64_t i = 0; i < count; ++i) want[i] = round_to(to, ref_get_linear(&src, i));
    weft_cpu_ref_node_t node = ref_node(WEFT_OP_CPY, &dst, &src, NULL, NULL, 0);
    ref_run(&node);
    expect_values(&dst, want, 0.0, "cpy");
    free(want);
    ref_tensor_free(&src);
    ref_tensor_free(&dst);
  }
}

static void test_cpy_q8_0(void** state) {
  (void)state;
  ref_rng_t rng = {9};
  const uint32_t types[] = {WEFT_DTYPE_F32, WEFT_DTYPE_F16, WEFT_DTYPE_BF16};
  for (int trial = 0; trial < 6; ++trial) {
    const int64_t ne0 = 32 * ref_rng_int(&rng, 1, 3), ne1 = ref_rng_int(&rng, 1, 3);
    const uint32_t plain = types[trial % 3];
    ref_tensor_t src, q, q2, back;
    ref_tensor_init(&src, plain, ne0, ne1, 2, 1, pick_layout(&rng));
    ref_tensor_init(&q, WEFT_DTYPE_Q8_0, ne0, ne1, 2, 1, BLOCK_LAYOUTS[trial % 2]);
    ref_tensor_init(&q2, WEFT_DTYPE_Q8_0, ne0, ne1, 2, 1, BLOCK_LAYOUTS[(trial + 1) % 2]);
    ref_tensor_init(&back, plain, ne0, ne1, 2, 1, pick_layout(&rng));
    ref_fill_uniform(&src, &rng, -3, 3);
    /* plain -> q8_0: each row quantized as weft__quantize_row_q8_0 does. */
    weft_cpu_ref_node_t node = ref_node(WEFT_OP_CPY, &q, &src, NULL, NULL, 0);
    ref_run(&node);
    float* row = (float*)calloc((size_t)ne0, sizeof(float));
    unsigned char* blocks = (unsigned char*)calloc((size_t)(ne0 / 32 * 34), 1);
    assert_true(row && blocks);
    for (int64_t i2 = 0; i2 < 2; ++i2)
      for (int64_t i1 = 0; i1 < ne1; ++i1) {
        for (int64_t i0 = 0; i0 < ne0; ++i0) row[i0] = (float)ref_get(&src, i0, i1, i2, 0);
        assert_true(weft__quantize_row_q8_0(row, blocks, ne0));
        const unsigned char* got = (const unsigned char*)q.view.data + i1 * q.view.nb[1] + i2 * q.view.nb[2];
        assert_memory_equal(got, blocks, (size_t)(ne0 / 32 * 34));
      }
    /* q8_0 -> q8_0 copies blocks; q8_0 -> plain dequantizes. */
    node = ref_node(WEFT_OP_CPY, &q2, &q, NULL, NULL, 0);
    ref_run(&node);
    node = ref_node(WEFT_OP_CPY, &back, &q2, NULL, NULL, 0);
    ref_run(&node);
    const int64_t count = ref_tensor_count(&src);
    double* want = alloc_doubles(count);
    double* orig = alloc_doubles(count);
    int64_t k = 0;
    for (int64_t i2 = 0; i2 < 2; ++i2)
      for (int64_t i1 = 0; i1 < ne1; ++i1) {
        ref_row_dequantized(&q, i1, i2, 0, row);
        for (int64_t i0 = 0; i0 < ne0; ++i0) {
          orig[k] = ref_get(&src, i0, i1, i2, 0);
          want[k++] = round_to(plain, row[i0]);
        }
      }
    expect_values(&back, want, 0.0, "cpy q8_0 -> plain");
    /* And the round trip stays within q8_0's resolution. */
    expect_values(&back, orig, 1e-4, "q8_0 round trip");
    free(orig);
    free(want);
    free(row);
    free(blocks);
    ref_tensor_free(&src);
    ref_tensor_free(&q);
    ref_tensor_free(&q2);
    ref_tensor_free(&back);
  }
}

static void test_cont(void** state) {
  (void)state;
  ref_rng_t rng = {10};
  const uint32_t types[] = {WEFT_DTYPE_F32, WEFT_DTYPE_F16, WEFT_DTYPE_I32, WEFT_DTYPE_BF16};
  for (int trial = 0; trial < 12; ++trial) {
    const uint32_t type = types[trial % 4];
    const int64_t ne[4] = {ODD_NE0[trial % 4], ref_rng_int(&rng, 1, 4), ref_rng_int(&rng, 1, 3),
                           ref_rng_int(&rng, 1, 2)};
    ref_tensor_t src, dst;
    ref_tensor_init(&src, type, ne[0], ne[1], ne[2], ne[3], PLAIN_LAYOUTS[1 + trial % 3]);
    ref_tensor_init(&dst, type, ne[0], ne[1], ne[2], ne[3], REF_CONTIGUOUS);
    const int64_t count = ref_tensor_count(&src);
    double* want = alloc_doubles(count);
    for (int64_t i = 0; i < count; ++i) {
      ref_set_linear(&src, i, (double)ref_rng_int(&rng, -1000, 1000));
      want[i] = ref_get_linear(&src, i);
    }
    weft_cpu_ref_node_t node = ref_node(WEFT_OP_CONT, &dst, &src, NULL, NULL, 0);
    ref_run(&node);
    expect_values(&dst, want, 0.0, "cont");
    free(want);
    ref_tensor_free(&src);
    ref_tensor_free(&dst);
  }
}

/* ---- set_rows ------------------------------------------------------------ */

static void test_set_rows(void** state) {
  (void)state;
  ref_rng_t rng = {11};
  const uint32_t targets[] = {WEFT_DTYPE_F32, WEFT_DTYPE_F16, WEFT_DTYPE_BF16, WEFT_DTYPE_Q8_0};
  for (int trial = 0; trial < 16; ++trial) {
    const uint32_t type = targets[trial % 4];
    const bool blocked = type == WEFT_DTYPE_Q8_0;
    const int64_t ne0 = blocked ? 64 : ODD_NE0[trial % 4];
    const int64_t dst_rows = ref_rng_int(&rng, 4, 10), n = ref_rng_int(&rng, 1, 4);
    const int64_t heads = ref_rng_int(&rng, 1, 2) * 2;
    const int64_t ids_ne1 = trial % 2 ? heads : 1; /* ids per head or shared */
    ref_tensor_t src, ids, dst;
    ref_tensor_init(&src, trial % 3 ? WEFT_DTYPE_F32 : WEFT_DTYPE_F16, ne0, n, heads, 1,
                    pick_layout(&rng));
    ref_tensor_init(&ids, trial % 2 ? WEFT_DTYPE_I64 : WEFT_DTYPE_I32, n, ids_ne1, 1, 1,
                    pick_layout(&rng));
    ref_tensor_init(&dst, type, ne0, dst_rows, heads, 1,
                    blocked ? BLOCK_LAYOUTS[trial % 2] : pick_layout(&rng));
    ref_fill_uniform(&src, &rng, -2, 2);
    /* Distinct ids per slice, so that the expected result has no order. */
    for (int64_t s = 0; s < ids_ne1; ++s) {
      int64_t perm[16];
      for (int64_t i = 0; i < dst_rows; ++i) perm[i] = i;
      for (int64_t i = dst_rows - 1; i > 0; --i) {
        const int64_t j = ref_rng_int(&rng, 0, i);
        const int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      for (int64_t i = 0; i < n; ++i) ref_set(&ids, i, s, 0, 0, (double)perm[i]);
    }
    /* Rows not named keep their contents: fill dst with a pattern first. */
    const int64_t row_bytes = blocked ? ne0 / 32 * 34 : 0;
    if (blocked) {
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t r = 0; r < dst_rows; ++r)
          memset((unsigned char*)dst.view.data + r * dst.view.nb[1] + h * dst.view.nb[2], 0x11,
                 (size_t)row_bytes);
    } else {
      for (int64_t i = 0; i < ref_tensor_count(&dst); ++i) ref_set_linear(&dst, i, 7.0);
    }
    weft_cpu_ref_node_t node = ref_node(WEFT_OP_SET_ROWS, &dst, &src, &ids, NULL, 0);
    ref_run(&node);
    float* row = (float*)calloc((size_t)ne0, sizeof(float));
    unsigned char* blocks = (unsigned char*)calloc((size_t)(row_bytes + 1), 1);
    assert_true(row && blocks);
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t r = 0; r < dst_rows; ++r) {
        int64_t from = -1;
        for (int64_t i = 0; i < n; ++i) {
          if ((int64_t)ref_get(&ids, i, h % ids_ne1, 0, 0) == r) from = i;
        }
        if (blocked) {
          const unsigned char* got =
              (const unsigned char*)dst.view.data + r * dst.view.nb[1] + h * dst.view.nb[2];
          if (from < 0) {
            memset(blocks, 0x11, (size_t)row_bytes);
          } else {
            for (int64_t i0 = 0; i0 < ne0; ++i0) row[i0] = (float)ref_get(&src, i0, from, h, 0);
            assert_true(weft__quantize_row_q8_0(row, blocks, ne0));
          }
          assert_memory_equal(got, blocks, (size_t)row_bytes);
        } else {
          for (int64_t i0 = 0; i0 < ne0; ++i0) {
            const double want = from < 0 ? 7.0 : round_to(type, ref_get(&src, i0, from, h, 0));
            const double got = ref_get(&dst, i0, r, h, 0);
            if (got != want) {
              fail_msg("set_rows %s: dst [%lld, %lld, %lld] = %g, want %g", weft__dtype_name(type),
                       (long long)i0, (long long)r, (long long)h, got, want);
            }
          }
        }
      }
    }
    ref_set(&ids, 0, 0, 0, 0, -1.0);
    char error[256];
    assert_false(ref_try_run(&node, error, sizeof(error)));
    assert_non_null(strstr(error, "set_rows: row id -1"));
    free(row);
    free(blocks);
    ref_tensor_free(&src);
    ref_tensor_free(&ids);
    ref_tensor_free(&dst);
  }
}

/* ---- flash_attn ---------------------------------------------------------- */

static void run_flash_attn(ref_rng_t* rng, int trial) {
  const int64_t d = trial % 3 == 0 ? 64 : 16;
  const int64_t dv = trial % 4 == 1 ? 24 : d;
  const int64_t n_q = ref_rng_int(rng, 1, 5);
  const int64_t n_kv = n_q + ref_rng_int(rng, 0, 30);
  const int64_t h_kv = ref_rng_int(rng, 1, 2);
  const int64_t h = h_kv * ref_rng_int(rng, 1, 3);
  const int64_t batch = trial % 5 == 4 ? 2 : 1;
  const uint32_t kv_type = trial % 2 ? WEFT_DTYPE_F16 : WEFT_DTYPE_F32;
  const bool with_mask = trial % 3 != 2;
  const uint32_t mask_type = trial % 4 < 2 ? WEFT_DTYPE_F16 : WEFT_DTYPE_F32;
  const int64_t mask_ne2 = trial % 2 && with_mask ? h : 1;
  weft_op_flash_attn_params_t params = {sizeof(params), trial % 2 ? 0.0f : 0.3f,
                                        trial % 4 == 3 ? 20.0f : 0.0f,
                                        trial % 3 == 1 ? (int32_t)ref_rng_int(rng, 1, 6) : 0};
  ref_tensor_t q, k, v, mask, dst;
  ref_tensor_init(&q, WEFT_DTYPE_F32, d, n_q, h, batch, pick_layout(rng));
  ref_tensor_init(&k, kv_type, d, n_kv, h_kv, 1, pick_layout(rng));
  ref_tensor_init(&v, kv_type, dv, n_kv, h_kv, 1, pick_layout(rng));
  /* Padded mask rows, as graph builders pad n_q. */
  ref_tensor_init(&mask, mask_type, n_kv, n_q + 2, mask_ne2, 1, pick_layout(rng));
  /* dst as a permuted view: memory [dv, h, n_q], ggml's attention output. */
  ref_tensor_init(&dst, WEFT_DTYPE_F32, dv, n_q, h, batch,
                  trial % 2 ? (ref_layout_t){{0, 2, 1, 3}, 0, 0} : pick_layout(rng));
  ref_fill_uniform(&q, rng, -1, 1);
  ref_fill_uniform(&k, rng, -1, 1);
  ref_fill_uniform(&v, rng, -1, 1);
  /* Causal mask, with one fully masked query row in some trials. */
  for (int64_t s = 0; s < mask_ne2; ++s)
    for (int64_t i = 0; i < n_q + 2; ++i)
      for (int64_t j = 0; j < n_kv; ++j) {
        const bool future = j > n_kv - n_q + i;
        const bool blank = trial % 5 == 0 && i == 0;
        ref_set(&mask, j, i, s, 0, future || blank ? -INFINITY : ref_rng_uniform(rng, -1, 0));
      }
  const double scale = params.scale != 0.0f ? params.scale : 1.0 / sqrt((double)d);
  double* want = alloc_doubles(ref_tensor_count(&dst));
  double* s = alloc_doubles(n_kv);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t hh = 0; hh < h; ++hh)
      for (int64_t i = 0; i < n_q; ++i) {
        const int64_t kh = hh / (h / h_kv);
        double max = -INFINITY;
        for (int64_t j = 0; j < n_kv; ++j) {
          double dot = 0;
          for (int64_t c = 0; c < d; ++c) dot += ref_get(&q, c, i, hh, b) * ref_get(&k, c, j, kh, 0);
          double x = dot * scale;
          if (params.logit_softcap > 0) x = params.logit_softcap * tanh(x / params.logit_softcap);
          if (with_mask) x += ref_get(&mask, j, i, hh % mask_ne2, 0);
          if (params.sliding_window > 0 && j < (n_kv - n_q + i) - params.sliding_window + 1) x = -INFINITY;
          s[j] = x;
          max = fmax(max, x);
        }
        double sum = 0;
        for (int64_t j = 0; j < n_kv; ++j) sum += max == -INFINITY ? 0 : exp(s[j] - max);
        for (int64_t c = 0; c < dv; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < n_kv && max != -INFINITY; ++j) acc += exp(s[j] - max) * ref_get(&v, c, j, kh, 0);
          /* dst logical order: [dv, n_q, h, batch] */
          want[((b * h + hh) * n_q + i) * dv + c] = sum > 0 ? acc / sum : 0.0;
        }
      }
  weft_cpu_ref_node_t node = ref_node(WEFT_OP_FLASH_ATTN, &dst, &q, &k, &params, sizeof(params));
  node.src[2] = &v.view;
  node.src[3] = with_mask ? &mask.view : NULL;
  ref_run(&node);
  char what[96];
  snprintf(what, sizeof(what), "flash_attn trial %d (d %lld, n_q %lld, n_kv %lld, h %lld/%lld)", trial,
           (long long)d, (long long)n_q, (long long)n_kv, (long long)h, (long long)h_kv);
  expect_values(&dst, want, 1e-12, what);
  free(s);
  free(want);
  ref_tensor_free(&q);
  ref_tensor_free(&k);
  ref_tensor_free(&v);
  ref_tensor_free(&mask);
  ref_tensor_free(&dst);
}

static void test_flash_attn(void** state) {
  (void)state;
  ref_rng_t rng = {12};
  for (int trial = 0; trial < 40; ++trial) run_flash_attn(&rng, trial);
}

/* ---- argmax, concat ------------------------------------------------------- */

static void test_argmax(void** state) {
  (void)state;
  ref_rng_t rng = {13};
  for (int trial = 0; trial < 8; ++trial) {
    const int64_t n = ODD_NE0[trial % 4], m = ref_rng_int(&rng, 1, 6);
    ref_tensor_t a, dst;
    ref_tensor_init(&a, trial % 3 == 2 ? WEFT_DTYPE_F16 : WEFT_DTYPE_F32, n, m, 1, 1, pick_layout(&rng));
    ref_tensor_init(&dst, WEFT_DTYPE_I32, m, 1, 1, 1, pick_layout(&rng));
    /* Small integers: many ties. */
    for (int64_t i = 0; i < n * m; ++i) ref_set_linear(&a, i, (double)ref_rng_int(&rng, -3, 3));
    if (n > 3 && a.view.dtype == WEFT_DTYPE_F32) ref_set(&a, 0, 0, 0, 0, NAN);
    double* want = alloc_doubles(m);
    for (int64_t r = 0; r < m; ++r) {
      int64_t best = -1;
      for (int64_t i = 0; i < n; ++i) {
        const double x = ref_get(&a, i, r, 0, 0);
        if (isnan(x)) continue;
        if (best < 0 || x > ref_get(&a, best, r, 0, 0)) best = i;
      }
      want[r] = (double)(best < 0 ? 0 : best);
    }
    weft_cpu_ref_node_t node = ref_node(WEFT_OP_ARGMAX, &dst, &a, NULL, NULL, 0);
    ref_run(&node);
    expect_values(&dst, want, 0.0, "argmax");
    free(want);
    ref_tensor_free(&a);
    ref_tensor_free(&dst);
  }
}

static void test_concat(void** state) {
  (void)state;
  ref_rng_t rng = {14};
  const uint32_t types[] = {WEFT_DTYPE_F32, WEFT_DTYPE_F16, WEFT_DTYPE_I32};
  for (int trial = 0; trial < 12; ++trial) {
    const int dim = trial % 4;
    const uint32_t type = types[trial % 3];
    int64_t ne[4] = {ODD_NE0[trial % 4], ref_rng_int(&rng, 1, 3), ref_rng_int(&rng, 1, 3),
                     ref_rng_int(&rng, 1, 2)};
    int64_t ne_b[4] = {ne[0], ne[1], ne[2], ne[3]};
    ne_b[dim] = ref_rng_int(&rng, 1, 3);
    int64_t ne_d[4] = {ne[0], ne[1], ne[2], ne[3]};
    ne_d[dim] += ne_b[dim];
    ref_tensor_t a, b, dst;
    ref_tensor_init(&a, type, ne[0], ne[1], ne[2], ne[3], pick_layout(&rng));
    ref_tensor_init(&b, type, ne_b[0], ne_b[1], ne_b[2], ne_b[3], pick_layout(&rng));
    ref_tensor_init(&dst, type, ne_d[0], ne_d[1], ne_d[2], ne_d[3], pick_layout(&rng));
    for (int64_t i = 0; i < ref_tensor_count(&a); ++i) ref_set_linear(&a, i, (double)(i + 1));
    for (int64_t i = 0; i < ref_tensor_count(&b); ++i) ref_set_linear(&b, i, (double)(-i - 1));
    double* want = alloc_doubles(ref_tensor_count(&dst));
    int64_t k = 0;
    for (int64_t i3 = 0; i3 < ne_d[3]; ++i3)
      for (int64_t i2 = 0; i2 < ne_d[2]; ++i2)
        for (int64_t i1 = 0; i1 < ne_d[1]; ++i1)
          for (int64_t i0 = 0; i0 < ne_d[0]; ++i0) {
            int64_t idx[4] = {i0, i1, i2, i3};
            if (idx[dim] < ne[dim]) {
              want[k++] = ref_get(&a, i0, i1, i2, i3);
            } else {
              idx[dim] -= ne[dim];
              want[k++] = ref_get(&b, idx[0], idx[1], idx[2], idx[3]);
            }
          }
    const weft_op_concat_params_t params = {sizeof(params), dim};
    weft_cpu_ref_node_t node = ref_node(WEFT_OP_CONCAT, &dst, &a, &b, &params, sizeof(params));
    ref_run(&node);
    expect_values(&dst, want, 0.0, "concat");
    free(want);
    ref_tensor_free(&a);
    ref_tensor_free(&b);
    ref_tensor_free(&dst);
  }
}

/* ---- in place, scratch ---------------------------------------------------- */

static void test_add_in_place(void** state) {
  (void)state;
  ref_rng_t rng = {15};
  ref_tensor_t a, b, out;
  ref_tensor_init(&a, WEFT_DTYPE_F32, 33, 3, 2, 1, PLAIN_LAYOUTS[1]);
  ref_tensor_init(&b, WEFT_DTYPE_F32, 33, 1, 2, 1, REF_CONTIGUOUS);
  ref_tensor_init(&out, WEFT_DTYPE_F32, 33, 3, 2, 1, REF_CONTIGUOUS);
  ref_fill_uniform(&a, &rng, -1, 1);
  ref_fill_uniform(&b, &rng, -1, 1);
  weft_cpu_ref_node_t node = ref_node(WEFT_OP_ADD, &out, &a, &b, NULL, 0);
  ref_run(&node);
  double* want = alloc_doubles(ref_tensor_count(&out));
  for (int64_t i = 0; i < ref_tensor_count(&out); ++i) want[i] = ref_get_linear(&out, i);
  node = ref_node(WEFT_OP_ADD, &a, &a, &b, NULL, 0);
  ref_run(&node);
  expect_values(&a, want, 0.0, "add in place");
  free(want);
  ref_tensor_free(&a);
  ref_tensor_free(&b);
  ref_tensor_free(&out);
}

static void test_scratch_too_small(void** state) {
  (void)state;
  ref_tensor_t w, x, dst;
  ref_tensor_init(&w, WEFT_DTYPE_Q4_0, 64, 4, 1, 1, REF_CONTIGUOUS);
  ref_tensor_init(&x, WEFT_DTYPE_F32, 64, 2, 1, 1, REF_CONTIGUOUS);
  ref_tensor_init(&dst, WEFT_DTYPE_F32, 4, 2, 1, 1, REF_CONTIGUOUS);
  weft_cpu_ref_node_t node = ref_node(WEFT_OP_MUL_MAT, &dst, &w, &x, NULL, 0);
  const size_t need = weft__cpu_ref_node_scratch_size(&node);
  assert_true(need >= (64 + 2 * 64) * sizeof(float));
  unsigned char* scratch = (unsigned char*)malloc(need);
  assert_non_null(scratch);
  char error[256];
  assert_false(weft__cpu_ref_node_run(&node, scratch, need - 1, error, sizeof(error)));
  assert_non_null(strstr(error, "mul_mat: scratch of"));
  assert_false(weft__cpu_ref_node_run(&node, NULL, need, error, sizeof(error)));
  assert_non_null(strstr(error, "scratch of 0 bytes"));
  assert_true(weft__cpu_ref_node_run(&node, scratch, need, error, sizeof(error)));
  free(scratch);
  /* Ops without scratch run with none. */
  node = ref_node(WEFT_OP_ADD, &x, &x, &x, NULL, 0);
  assert_int_equal(weft__cpu_ref_node_scratch_size(&node), 0);
  assert_true(weft__cpu_ref_node_run(&node, NULL, 0, error, sizeof(error)));
  ref_tensor_free(&w);
  ref_tensor_free(&x);
  ref_tensor_free(&dst);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_mul),
      cmocka_unit_test(test_scale_and_activations),
      cmocka_unit_test(test_params_versions),
      cmocka_unit_test(test_rms_norm),
      cmocka_unit_test(test_rope),
      cmocka_unit_test(test_soft_max),
      cmocka_unit_test(test_get_rows),
      cmocka_unit_test(test_mul_mat),
      cmocka_unit_test(test_cpy_conversions),
      cmocka_unit_test(test_cpy_q8_0),
      cmocka_unit_test(test_cont),
      cmocka_unit_test(test_set_rows),
      cmocka_unit_test(test_flash_attn),
      cmocka_unit_test(test_argmax),
      cmocka_unit_test(test_concat),
      cmocka_unit_test(test_add_in_place),
      cmocka_unit_test(test_scratch_too_small),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
