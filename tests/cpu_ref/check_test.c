/* weft__cpu_ref_node_check: every way a node can be refused, each with the
 * reason it must give (the exact substrings docs/ops.md promises), and a
 * valid node of every op accepted. A refused node has no scratch size and
 * does not run. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cpu_ref/ops/kernels.h"
#include "ref_tensor.h"

/* Expects a refusal whose reason contains `want`, and that run refuses too. */
static void expect_reject(const weft_cpu_ref_node_t* node, const char* want) {
  char reason[256];
  memset(reason, 'x', sizeof(reason));
  if (weft__cpu_ref_node_check(node, reason, sizeof(reason))) {
    fail_msg("accepted a node that should fail with \"%s\"", want);
  }
  if (!strstr(reason, want)) fail_msg("reason \"%s\" lacks \"%s\"", reason, want);
  assert_int_equal(weft__cpu_ref_node_scratch_size(node), 0);
  char error[256];
  assert_false(weft__cpu_ref_node_run(node, NULL, 0, error, sizeof(error)));
  assert_string_equal(error, reason);
}

static void expect_accept(const weft_cpu_ref_node_t* node) {
  char reason[256];
  if (!weft__cpu_ref_node_check(node, reason, sizeof(reason))) {
    fail_msg("%s refused: %s", weft_op_name(node->op), reason);
  }
}

typedef struct fixture_t {
  ref_tensor_t f32_64x4, f32_64x2, f16_64x2, f32_4x2, q4_64x4, i32_2, i32_3, f32_64x4x3;
} fixture_t;

static int setup(void** state) {
  static fixture_t f;
  ref_tensor_init(&f.f32_64x4, WEFT_DTYPE_F32, 64, 4, 1, 1, REF_CONTIGUOUS);
  ref_tensor_init(&f.f32_64x2, WEFT_DTYPE_F32, 64, 2, 1, 1, REF_CONTIGUOUS);
  ref_tensor_init(&f.f16_64x2, WEFT_DTYPE_F16, 64, 2, 1, 1, REF_CONTIGUOUS);
  ref_tensor_init(&f.f32_4x2, WEFT_DTYPE_F32, 4, 2, 1, 1, REF_CONTIGUOUS);
  ref_tensor_init(&f.q4_64x4, WEFT_DTYPE_Q4_0, 64, 4, 1, 1, REF_CONTIGUOUS);
  ref_tensor_init(&f.i32_2, WEFT_DTYPE_I32, 2, 1, 1, 1, REF_CONTIGUOUS);
  ref_tensor_init(&f.i32_3, WEFT_DTYPE_I32, 3, 1, 1, 1, REF_CONTIGUOUS);
  ref_tensor_init(&f.f32_64x4x3, WEFT_DTYPE_F32, 64, 4, 3, 1, REF_CONTIGUOUS);
  *state = &f;
  return 0;
}

static int teardown(void** state) {
  fixture_t* f = (fixture_t*)*state;
  ref_tensor_free(&f->f32_64x4);
  ref_tensor_free(&f->f32_64x2);
  ref_tensor_free(&f->f16_64x2);
  ref_tensor_free(&f->f32_4x2);
  ref_tensor_free(&f->q4_64x4);
  ref_tensor_free(&f->i32_2);
  ref_tensor_free(&f->i32_3);
  ref_tensor_free(&f->f32_64x4x3);
  return 0;
}

static void test_unknown_and_missing(void** state) {
  fixture_t* f = (fixture_t*)*state;
  weft_cpu_ref_node_t node = ref_node(99, &f->f32_64x4, &f->f32_64x4, NULL, NULL, 0);
  expect_reject(&node, "unknown op 99");
  node.op = WEFT_OP_NONE;
  expect_reject(&node, "unknown op 0");
  char reason[64];
  assert_false(weft__cpu_ref_node_check(NULL, reason, sizeof(reason)));
  assert_string_equal(reason, "node is NULL");

  node = ref_node(WEFT_OP_ADD, &f->f32_64x4, &f->f32_64x4, NULL, NULL, 0);
  expect_reject(&node, "add: src1 is missing");
  node = ref_node(WEFT_OP_ADD, NULL, &f->f32_64x4, &f->f32_64x4, NULL, 0);
  expect_reject(&node, "add: dst is missing");
  node = ref_node(WEFT_OP_ADD, &f->f32_64x4, &f->f32_64x4, &f->f32_64x4, NULL, 0);
  node.src[2] = &f->f32_64x4.view;
  expect_reject(&node, "add: src2 must be unused");
  node = ref_node(WEFT_OP_SILU, &f->f32_64x4, &f->f32_64x4, &f->f32_64x4, NULL, 0);
  expect_reject(&node, "silu: src1 must be unused");

  /* A small reason buffer still ends in a terminator. */
  node = ref_node(WEFT_OP_ADD, &f->f32_64x4, &f->f32_64x4, NULL, NULL, 0);
  char tiny[8];
  assert_false(weft__cpu_ref_node_check(&node, tiny, sizeof(tiny)));
  assert_string_equal(tiny, "add: sr");
  assert_false(weft__cpu_ref_node_check(&node, NULL, 0));
}

static void test_tensor_rules(void** state) {
  fixture_t* f = (fixture_t*)*state;
  ref_tensor_t t;
  ref_tensor_init(&t, WEFT_DTYPE_F32, 64, 4, 1, 1, REF_CONTIGUOUS);
  weft_cpu_ref_node_t node = ref_node(WEFT_OP_SILU, &f->f32_64x4, &t, NULL, NULL, 0);
  t.view.ne[1] = 0;
  expect_reject(&node, "silu: src0 ne[1] is 0; every dimension needs >= 1 element");
  t.view.ne[1] = 4;
  t.view.nb[2] = -4;
  expect_reject(&node, "silu: src0 nb[2] is -4; strides must not be negative");
  t.view.nb[2] = 1024;
  t.view.dtype = 5;
  expect_reject(&node, "silu: src0 has unknown dtype 5");
  t.view.dtype = WEFT_DTYPE_F32;
  void* data = t.view.data;
  t.view.data = NULL;
  /* Descriptors alone pass the check (op queries have no data); running
   * without memory does not. */
  assert_true(weft__cpu_ref_node_check(&node, NULL, 0));
  char error[256];
  assert_false(weft__cpu_ref_node_run(&node, NULL, 0, error, sizeof(error)));
  assert_string_equal(error, "silu: src0 has no data");
  t.view.data = data;
  t.view.ne[0] = (int64_t)1 << 40;
  t.view.ne[1] = (int64_t)1 << 20;
  expect_reject(&node, "silu: src0 has more than 2^48 elements");
  ref_tensor_free(&t);

  ref_tensor_t q;
  ref_tensor_init(&q, WEFT_DTYPE_Q4_0, 64, 4, 1, 1, REF_CONTIGUOUS);
  node = ref_node(WEFT_OP_GET_ROWS, &f->f32_64x2, &q, &f->i32_2, NULL, 0);
  expect_accept(&node);
  q.view.ne[0] = 33;
  expect_reject(&node, "get_rows: src0 is q4_0 with ne[0] 33, not a multiple of its block of 32");
  q.view.ne[0] = 64;
  q.view.nb[0] = 20;
  expect_reject(&node, "get_rows: src0 is q4_0 with nb[0] 20; its rows must be contiguous blocks (nb[0] 18)");
  ref_tensor_free(&q);
}

static void test_params_envelope(void** state) {
  fixture_t* f = (fixture_t*)*state;
  weft_op_scale_params_t scale = {sizeof(scale), 2.0f, 0.0f};
  weft_cpu_ref_node_t node = ref_node(WEFT_OP_SCALE, &f->f32_64x4, &f->f32_64x4, NULL, &scale, 12);
  expect_accept(&node);
  node.params_size = 8;
  expect_reject(&node, "scale: params struct_size 12 differs from params_size 8");
  node.params_size = 6;
  expect_reject(&node, "scale: params_size 6 is not struct_size plus whole 4-byte members");
  node.params_size = 4;
  expect_reject(&node, "scale: params_size 4 is not struct_size plus whole 4-byte members");
  node.params = NULL;
  node.params_size = 8;
  expect_reject(&node, "scale: params is NULL but params_size is 8");
  node = ref_node(WEFT_OP_SILU, &f->f32_64x4, &f->f32_64x4, NULL, &scale, sizeof(scale));
  expect_reject(&node, "silu: takes no params, got 12 bytes");
}

static void test_dtype_and_shape_rules(void** state) {
  fixture_t* f = (fixture_t*)*state;
  /* mul_mat */
  weft_cpu_ref_node_t node = ref_node(WEFT_OP_MUL_MAT, &f->f32_4x2, &f->q4_64x4, &f->f32_64x2, NULL, 0);
  expect_accept(&node);
  node.src[1] = &f->f16_64x2.view;
  expect_reject(&node, "mul_mat: src1 must be f32, got f16");
  node = ref_node(WEFT_OP_MUL_MAT, &f->f32_4x2, &f->i32_2, &f->f32_64x2, NULL, 0);
  expect_reject(&node, "mul_mat: src0 must be f32, f16, bf16, q4_0");
  node = ref_node(WEFT_OP_MUL_MAT, &f->f32_64x2, &f->q4_64x4, &f->f32_64x2, NULL, 0);
  expect_reject(&node, "mul_mat: dst shape [64, 2, 1, 1] must be [4, 2, 1, 1]");
  node = ref_node(WEFT_OP_MUL_MAT, &f->f32_4x2, &f->q4_64x4, &f->f32_4x2, NULL, 0);
  expect_reject(&node, "mul_mat: src0 ne[0] 64 must equal src1 ne[0] 4");
  node = ref_node(WEFT_OP_MUL_MAT, &f->f32_4x2, &f->f32_64x4x3, &f->f32_64x2, NULL, 0);
  expect_reject(&node, "mul_mat: src1 ne[2] 1 must be a multiple of src0 ne[2] 3");

  /* get_rows */
  node = ref_node(WEFT_OP_GET_ROWS, &f->f16_64x2, &f->f32_64x4, &f->i32_2, NULL, 0);
  expect_reject(&node, "get_rows: dst must be f32, got f16");
  node = ref_node(WEFT_OP_GET_ROWS, &f->f32_64x2, &f->f32_64x4, &f->f32_4x2, NULL, 0);
  expect_reject(&node, "get_rows: src1 must be i32 or i64, got f32");
  node = ref_node(WEFT_OP_GET_ROWS, &f->f32_64x2, &f->f32_64x4, &f->i32_3, NULL, 0);
  expect_reject(&node, "get_rows: dst shape [64, 2, 1, 1] must be [64, 3, 1, 1]");

  /* add, mul */
  node = ref_node(WEFT_OP_ADD, &f->f32_64x4, &f->f32_64x4, &f->f32_64x2, NULL, 0);
  expect_accept(&node);
  node = ref_node(WEFT_OP_MUL, &f->f32_64x2, &f->f32_64x2, &f->f32_64x4, NULL, 0);
  expect_reject(&node, "mul: src0 ne[1] 2 must be a multiple of src1 ne[1] 4");
  node = ref_node(WEFT_OP_ADD, &f->f32_64x2, &f->q4_64x4, &f->f32_64x2, NULL, 0);
  expect_reject(&node, "add: src0 must be f32, f16 or bf16, got q4_0");
  node = ref_node(WEFT_OP_ADD, &f->f32_64x4, &f->f32_64x2, &f->f32_64x2, NULL, 0);
  expect_reject(&node, "add: dst shape [64, 4, 1, 1] must equal src0 shape [64, 2, 1, 1]");

  /* swiglu needs equal shapes */
  node = ref_node(WEFT_OP_SWIGLU, &f->f32_64x4, &f->f32_64x4, &f->f32_64x2, NULL, 0);
  expect_reject(&node, "swiglu: src1 shape [64, 2, 1, 1] must equal src0 shape [64, 4, 1, 1]");

  /* cpy, cont */
  node = ref_node(WEFT_OP_CPY, &f->f16_64x2, &f->q4_64x4, NULL, NULL, 0);
  expect_reject(&node, "cpy: cannot convert q4_0 to f16");
  node = ref_node(WEFT_OP_CPY, &f->f32_4x2, &f->f32_64x2, NULL, NULL, 0);
  expect_reject(&node, "cpy: dst [4, 2, 1, 1] and src0 [64, 2, 1, 1] differ in element count");
  ref_tensor_t q8;
  ref_tensor_init(&q8, WEFT_DTYPE_Q8_0, 128, 1, 1, 1, REF_CONTIGUOUS);
  node = ref_node(WEFT_OP_CPY, &q8, &f->f32_64x2, NULL, NULL, 0);
  expect_reject(&node, "cpy: dst shape [128, 1, 1, 1] must equal src0 shape [64, 2, 1, 1]");
  ref_tensor_free(&q8);
  ref_tensor_t strided;
  ref_tensor_init(&strided, WEFT_DTYPE_F32, 64, 2, 1, 1, (ref_layout_t){{1, 0, 2, 3}, 0, 0});
  node = ref_node(WEFT_OP_CONT, &strided, &f->f32_64x2, NULL, NULL, 0);
  expect_reject(&node, "cont: dst must be contiguous, got nb [8, 4, 512, 512]");
  node = ref_node(WEFT_OP_CONT, &f->f32_64x2, &strided, NULL, NULL, 0);
  expect_accept(&node);
  ref_tensor_free(&strided);
  node = ref_node(WEFT_OP_CONT, &f->f16_64x2, &f->f32_64x2, NULL, NULL, 0);
  expect_reject(&node, "cont: dst dtype f16 must equal src0 dtype f32");
  node = ref_node(WEFT_OP_CONT, &f->q4_64x4, &f->q4_64x4, NULL, NULL, 0);
  expect_reject(&node, "cont: src0 is q4_0; block-quantized dtypes are not supported");

  /* set_rows */
  node = ref_node(WEFT_OP_SET_ROWS, &f->f32_64x4, &f->f32_64x2, &f->i32_2, NULL, 0);
  expect_accept(&node);
  node = ref_node(WEFT_OP_SET_ROWS, &f->q4_64x4, &f->f32_64x2, &f->i32_2, NULL, 0);
  expect_reject(&node, "set_rows: dst must be f32, f16, bf16 or q8_0, got q4_0");
  node = ref_node(WEFT_OP_SET_ROWS, &f->f32_64x4, &f->f32_64x2, &f->i32_3, NULL, 0);
  expect_reject(&node, "set_rows: src1 ne[0] 3 must equal src0 ne[1] 2");

  /* argmax, concat */
  ref_tensor_t i32_4;
  ref_tensor_init(&i32_4, WEFT_DTYPE_I32, 4, 1, 1, 1, REF_CONTIGUOUS);
  node = ref_node(WEFT_OP_ARGMAX, &i32_4, &f->f32_64x4, NULL, NULL, 0);
  expect_accept(&node);
  node = ref_node(WEFT_OP_ARGMAX, &f->f32_4x2, &f->f32_64x4, NULL, NULL, 0);
  expect_reject(&node, "argmax: dst must be i32, got f32");
  node = ref_node(WEFT_OP_ARGMAX, &i32_4, &f->f32_64x4x3, NULL, NULL, 0);
  expect_reject(&node, "argmax: src0 shape [64, 4, 3, 1] must be a matrix");
  ref_tensor_free(&i32_4);
  weft_op_concat_params_t concat = {sizeof(concat), 1};
  node = ref_node(WEFT_OP_CONCAT, &f->f32_64x4, &f->f32_64x2, &f->f32_64x2, &concat, sizeof(concat));
  expect_accept(&node);
  concat.dim = 4;
  expect_reject(&node, "concat: dim 4 must be 0..3");
  concat.dim = 0;
  expect_reject(&node, "concat: dst shape [64, 4, 1, 1] must be [128, 2, 1, 1]");
  concat.dim = 1;
  node.src[1] = &f->f16_64x2.view;
  expect_reject(&node, "concat: src0 f32, src1 f16 and dst f32 must share one dtype");
}

static void test_op_params(void** state) {
  fixture_t* f = (fixture_t*)*state;
  /* rope: [head_dim 64, 4 heads, 3 tokens] with 3 positions */
  weft_op_rope_params_t rope = {sizeof(rope), WEFT_ROPE_MODE_NEOX, 32, 10000.0f, 1.0f};
  weft_cpu_ref_node_t node = ref_node(WEFT_OP_ROPE, &f->f32_64x4x3, &f->f32_64x4x3, &f->i32_3, &rope, sizeof(rope));
  expect_accept(&node);
  rope.n_dims = 65;
  expect_reject(&node, "rope: n_dims 65 must be even and <= ne[0] 64");
  rope.n_dims = 66;
  expect_reject(&node, "rope: n_dims 66 must be even and <= ne[0] 64");
  rope.n_dims = -2;
  expect_reject(&node, "rope: n_dims -2 must be even and <= ne[0] 64");
  rope.n_dims = 0;
  rope.mode = 2;
  expect_reject(&node, "rope: mode 2 must be 0 (normal) or 1 (neox)");
  rope.mode = 0;
  rope.freq_base = 0.0f;
  expect_reject(&node, "rope: freq_base 0 must be finite and > 0");
  rope.freq_base = 10000.0f;
  rope.freq_scale = INFINITY;
  expect_reject(&node, "rope: freq_scale inf must be finite and > 0");
  rope.freq_scale = 1.0f;
  node.src[1] = &f->i32_2.view;
  expect_reject(&node, "rope: src1 shape [2, 1, 1, 1] must be [3, 1, 1, 1]");
  node.src[1] = &f->f32_4x2.view;
  expect_reject(&node, "rope: src1 must be i32, got f32");

  /* rms_norm */
  weft_op_rms_norm_params_t norm = {sizeof(norm), -1.0f};
  node = ref_node(WEFT_OP_RMS_NORM, &f->f32_64x4, &f->f32_64x4, NULL, &norm, sizeof(norm));
  expect_reject(&node, "rms_norm: eps -1 must be finite and >= 0");
  norm.eps = NAN;
  expect_reject(&node, "rms_norm: eps nan must be finite and >= 0");

  /* gelu, geglu */
  weft_op_gelu_params_t gelu = {sizeof(gelu), 7};
  node = ref_node(WEFT_OP_GELU, &f->f32_64x4, &f->f32_64x4, NULL, &gelu, sizeof(gelu));
  expect_reject(&node, "gelu: mode 7 must be 0 (tanh) or 1 (erf)");
  node = ref_node(WEFT_OP_GEGLU, &f->f32_64x4, &f->f32_64x4, &f->f32_64x4, &gelu, sizeof(gelu));
  expect_reject(&node, "geglu: mode 7 must be 0 (tanh) or 1 (erf)");

  /* soft_max */
  weft_op_soft_max_params_t soft = {sizeof(soft), 0.5f};
  node = ref_node(WEFT_OP_SOFT_MAX, &f->f32_64x4, &f->f32_64x4, &f->f32_64x2, &soft, sizeof(soft));
  expect_reject(&node, "soft_max: src1 (mask) shape [64, 2, 1, 1] must have ne[0] 64 and ne[1] >= 4");
  node.src[1] = &f->f32_64x4x3.view;
  expect_reject(&node, "soft_max: src0 ne[2] 1 must be a multiple of src1 ne[2] 3");
  node.src[1] = NULL;
  expect_accept(&node);
  soft.scale = NAN;
  expect_reject(&node, "soft_max: scale nan must be finite");
}

static void test_flash_attn_rules(void** state) {
  (void)state;
  ref_tensor_t q, k, v, mask, dst, k8;
  ref_tensor_init(&q, WEFT_DTYPE_F32, 16, 3, 6, 1, REF_CONTIGUOUS);
  ref_tensor_init(&k, WEFT_DTYPE_F16, 16, 10, 2, 1, REF_CONTIGUOUS);
  ref_tensor_init(&v, WEFT_DTYPE_F16, 16, 10, 2, 1, REF_CONTIGUOUS);
  ref_tensor_init(&mask, WEFT_DTYPE_F16, 10, 4, 1, 1, REF_CONTIGUOUS);
  ref_tensor_init(&dst, WEFT_DTYPE_F32, 16, 3, 6, 1, REF_CONTIGUOUS);
  ref_tensor_init(&k8, WEFT_DTYPE_Q8_0, 32, 10, 2, 1, REF_CONTIGUOUS);
  weft_op_flash_attn_params_t params = {sizeof(params), 0.0f, 0.0f, 0};
  weft_cpu_ref_node_t node = ref_node(WEFT_OP_FLASH_ATTN, &dst, &q, &k, &params, sizeof(params));
  expect_reject(&node, "flash_attn: src2 is missing");
  node.src[2] = &v.view;
  expect_accept(&node);
  node.src[3] = &mask.view;
  expect_accept(&node);
  params.logit_softcap = -1.0f;
  expect_reject(&node, "flash_attn: logit_softcap -1 must be finite and >= 0");
  params.logit_softcap = 0.0f;
  params.sliding_window = -3;
  expect_reject(&node, "flash_attn: sliding_window -3 must be >= 0");
  params.sliding_window = 0;
  node.src[1] = &k8.view;
  expect_reject(&node, "flash_attn: src1 (k) must be f32, f16 or bf16, got q8_0");
  node.src[1] = &k.view;
  k.view.ne[2] = 4;
  v.view.ne[2] = 4;
  expect_reject(&node, "flash_attn: src0 (q) ne[2] 6 must be a multiple of src1 (k) ne[2] 4");
  k.view.ne[2] = 2;
  v.view.ne[2] = 2;
  v.view.ne[1] = 9;
  expect_reject(&node, "flash_attn: src2 (v) shape [16, 9, 2, 1] must match src1 (k) shape [16, 10, 2, 1] in ne[1..3]");
  v.view.ne[1] = 10;
  mask.view.ne[1] = 2;
  expect_reject(&node, "flash_attn: src3 (mask) shape [10, 2, 1, 1] must have ne[0] 10 (n_kv) and ne[1] >= 3 (n_q)");
  mask.view.ne[1] = 4;
  node.src[0] = &k.view;
  expect_reject(&node, "flash_attn: src0 (q) must be f32, got f16");
  node.src[0] = &q.view;
  dst.view.ne[1] = 6;
  dst.view.ne[2] = 3;
  expect_reject(&node, "flash_attn: dst shape [16, 6, 3, 1] must be [16, 3, 6, 1]");
  ref_tensor_free(&q);
  ref_tensor_free(&k);
  ref_tensor_free(&v);
  ref_tensor_free(&mask);
  ref_tensor_free(&dst);
  ref_tensor_free(&k8);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_unknown_and_missing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tensor_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(test_params_envelope, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dtype_and_shape_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(test_op_params, setup, teardown),
      cmocka_unit_test(test_flash_attn_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
