/* The reference CPU device through the plugin ABI: op_query answers from the
 * kernels' check (with the reason), segment_submit runs nodes on buffers the
 * device allocated, waits on and signals host events, and refuses tensors
 * that reach outside their buffer instead of reading past it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buffer_impl.h"
#include "cpu_ref/ops/kernels.h"
#include "event.h"
#include "runtime_impl.h"
#include "weft/weft.h"

typedef struct fixture_t {
  weft_runtime_t* runtime;
  weft_device_t* device;
  const weft_plugin_interface_t* table;
} fixture_t;

static int setup(void** state) {
  static fixture_t fixture;
  memset(&fixture, 0, sizeof(fixture));
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  options.flags = WEFT_RUNTIME_FLAG_IGNORE_ENV | WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  if (weft_runtime_create(&options, weft_allocator_system(), &fixture.runtime) != WEFT_OK) {
    return -1;
  }
  if (weft_runtime_device_find(fixture.runtime, "cpu-ref:0", &fixture.device) != WEFT_OK) {
    return -1;
  }
  fixture.table = &fixture.device->plugin->table;
  *state = &fixture;
  return 0;
}

static int teardown(void** state) {
  fixture_t* fixture = (fixture_t*)*state;
  weft_runtime_destroy(fixture->runtime);
  return 0;
}

static weft_tensor_desc_t desc_contiguous(uint32_t dtype, int64_t ne0, int64_t ne1,
                                          weft_buffer_t* buffer, uint64_t offset) {
  weft_tensor_desc_t desc;
  memset(&desc, 0, sizeof(desc));
  desc.struct_size = sizeof(desc);
  desc.dtype = dtype;
  desc.ne[0] = ne0;
  desc.ne[1] = ne1;
  desc.ne[2] = desc.ne[3] = 1;
  desc.nb[0] = weft_dtype_block_bytes(dtype);
  desc.nb[1] = desc.nb[0] * (ne0 / weft_dtype_block_elements(dtype));
  desc.nb[2] = desc.nb[3] = desc.nb[1] * ne1;
  desc.buffer = buffer ? buffer->handle : NULL;
  desc.offset = offset;
  return desc;
}

static weft_node_t node_of(uint32_t op, uint32_t src0, uint32_t src1, uint32_t dst,
                           const void* params, uint32_t params_size) {
  weft_node_t node;
  memset(&node, 0, sizeof(node));
  node.struct_size = sizeof(node);
  node.op = op;
  for (int i = 0; i < WEFT_MAX_SRC; ++i) node.src[i] = WEFT_NODE_NO_TENSOR;
  node.src[0] = src0;
  node.src[1] = src1;
  node.dst = dst;
  node.params = params;
  node.params_size = params_size;
  return node;
}

static void test_op_query_answers_from_the_kernels(void** state) {
  fixture_t* fixture = (fixture_t*)*state;
  weft_plugin_device_t* opened = NULL;
  weft_buffer_t* keep_open = NULL;
  assert_null(weft_buffer_create(fixture->device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 64, &keep_open));
  opened = fixture->device->opened;

  weft_tensor_desc_t w = desc_contiguous(WEFT_DTYPE_Q8_0, 64, 8, NULL, 0);
  weft_tensor_desc_t x = desc_contiguous(WEFT_DTYPE_F32, 64, 3, NULL, 0);
  weft_tensor_desc_t y = desc_contiguous(WEFT_DTYPE_F32, 8, 3, NULL, 0);
  const weft_tensor_desc_t* tensors[] = {&w, &x, &y};
  weft_node_t node = node_of(WEFT_OP_MUL_MAT, 0, 1, 2, NULL, 0);
  weft_op_support_t support = {.struct_size = sizeof(support)};
  assert_null(fixture->table->op_query(opened, &node, tensors, 3, &support));
  assert_string_equal(support.reason, "");
  assert_int_equal(support.supported, 1);

  x.dtype = WEFT_DTYPE_F16; /* activations must be f32 */
  x.nb[0] = 2;
  x.nb[1] = 128;
  x.nb[2] = x.nb[3] = 384;
  assert_null(fixture->table->op_query(opened, &node, tensors, 3, &support));
  assert_int_equal(support.supported, 0);
  assert_non_null(strstr(support.reason, "mul_mat: src1 must be f32, got f16"));

  node.src[1] = 7; /* no such tensor */
  assert_null(fixture->table->op_query(opened, &node, tensors, 3, &support));
  assert_int_equal(support.supported, 0);
  assert_non_null(strstr(support.reason, "src1 is tensor 7 of 3"));
  weft_buffer_destroy(keep_open);
}

static void test_segment_runs_nodes_and_signals(void** state) {
  fixture_t* fixture = (fixture_t*)*state;
  enum { K = 64, N = 8, M = 3 };
  weft_buffer_t* weights = NULL;
  weft_buffer_t* acts = NULL;
  uint64_t q8_bytes = (uint64_t)N * (K / 32) * weft_dtype_block_bytes(WEFT_DTYPE_Q8_0);
  assert_null(weft_buffer_create(fixture->device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, q8_bytes, &weights));
  assert_null(weft_buffer_create(fixture->device, WEFT_MEMORY_TYPE_DEVICE_LOCAL,
                                 sizeof(float) * (K * M + N * M + N * M), &acts));

  float w[N][K], x[M][K];
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) w[n][k] = sinf((float)(n * K + k) * 0.37f);
  for (int m = 0; m < M; ++m)
    for (int k = 0; k < K; ++k) x[m][k] = cosf((float)(m * K + k) * 0.11f);
  unsigned char packed[N * (K / 32) * 34];
  for (int n = 0; n < N; ++n) {
    assert_true(weft__quantize_row_q8_0(w[n], packed + n * (K / 32) * 34, K));
  }
  assert_null(weft_buffer_write(weights, 0, packed, sizeof(packed)));
  assert_null(weft_buffer_write(acts, 0, x, sizeof(x)));

  /* y = w x (mul_mat), then z = y * 2 + 1 (scale), in one segment. */
  weft_tensor_desc_t tw = desc_contiguous(WEFT_DTYPE_Q8_0, K, N, weights, 0);
  weft_tensor_desc_t tx = desc_contiguous(WEFT_DTYPE_F32, K, M, acts, 0);
  weft_tensor_desc_t ty = desc_contiguous(WEFT_DTYPE_F32, N, M, acts, sizeof(x));
  weft_tensor_desc_t tz = desc_contiguous(WEFT_DTYPE_F32, N, M, acts, sizeof(x) + sizeof(float) * N * M);
  const weft_tensor_desc_t* tensors[] = {&tw, &tx, &ty, &tz};
  weft_op_scale_params_t scale = {sizeof(scale), 2.0f, 1.0f};
  weft_node_t mul = node_of(WEFT_OP_MUL_MAT, 0, 1, 2, NULL, 0);
  weft_node_t scl = node_of(WEFT_OP_SCALE, 2, WEFT_NODE_NO_TENSOR, 3, &scale, sizeof(scale));
  const weft_node_t* nodes[] = {&mul, &scl};
  weft_segment_t segment = {sizeof(segment), 4, 2, 0, tensors, nodes};

  weft_event_t* before = NULL;
  weft_event_t* after = NULL;
  assert_null(weft__event_create(weft_allocator_system(), &before));
  assert_null(weft__event_create(weft_allocator_system(), &after));
  weft__event_signal(before, WEFT_STATUS_OK);
  assert_null(fixture->table->segment_submit(fixture->device->opened, &segment, &before, 1, after));
  assert_int_equal(weft__event_wait(after, 0), WEFT_STATUS_OK);

  float z[M][N];
  assert_null(weft_buffer_read(acts, sizeof(x) + sizeof(float) * N * M, z, sizeof(z)));
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      float row[K];
      assert_true(weft__dequantize_row(WEFT_DTYPE_Q8_0, packed + n * (K / 32) * 34, row, K));
      double dot = 0.0;
      for (int k = 0; k < K; ++k) dot += (double)row[k] * (double)x[m][k];
      assert_float_equal(z[m][n], (float)(dot * 2.0 + 1.0), 1e-4);
    }
  }
  weft__event_destroy(weft_allocator_system(), before);
  weft__event_destroy(weft_allocator_system(), after);
  weft_buffer_destroy(weights);
  weft_buffer_destroy(acts);
}

static void test_segment_refuses_tensor_outside_its_buffer(void** state) {
  fixture_t* fixture = (fixture_t*)*state;
  weft_buffer_t* small = NULL;
  assert_null(weft_buffer_create(fixture->device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 64, &small));
  /* 16 floats fit; a [16, 2] tensor does not. */
  weft_tensor_desc_t a = desc_contiguous(WEFT_DTYPE_F32, 16, 2, small, 0);
  weft_tensor_desc_t b = desc_contiguous(WEFT_DTYPE_F32, 16, 1, small, 0);
  const weft_tensor_desc_t* tensors[] = {&a, &b};
  weft_node_t node = node_of(WEFT_OP_SILU, 0, WEFT_NODE_NO_TENSOR, 1, NULL, 0);
  const weft_node_t* nodes[] = {&node};
  weft_segment_t segment = {sizeof(segment), 2, 1, 0, tensors, nodes};
  weft_status_t status = fixture->table->segment_submit(fixture->device->opened, &segment,
                                                        NULL, 0, NULL);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr(weft_status_message(status),
                         "silu: src0 (tensor 0): tensor spans [0, +128) but its buffer has "
                         "64 bytes"));
  weft_status_free(status);
  weft_buffer_destroy(small);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_op_query_answers_from_the_kernels),
      cmocka_unit_test(test_segment_runs_nodes_and_signals),
      cmocka_unit_test(test_segment_refuses_tensor_outside_its_buffer),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
