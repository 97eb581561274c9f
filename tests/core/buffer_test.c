/* Buffers that wrap memory: host memory wrapped without a copy, and files
 * mapped read-only (weights stay in the file) on a device that reads host
 * memory, or copied once into a device that cannot (test-split). */
#define _POSIX_C_SOURCE 200809L /* setenv, mkstemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "weft/weft.h"

static void expect_error(weft_status_t status, weft_status_code_t code, const char* text) {
  assert_int_equal(weft_status_code(status), code);
  if (!strstr(weft_status_message(status), text)) {
    print_error("message '%s' lacks '%s'\n", weft_status_message(status), text);
    fail();
  }
  weft_status_free(status);
}

static weft_runtime_t* runtime_with_split(void) {
  setenv("WEFT_TEST_SPLIT_DEVICES", "1", 1);
  unsetenv("WEFT_TEST_SPLIT_MEMORY");
  unsetenv("WEFT_TEST_SPLIT_FAIL_AFTER");
  unsetenv("WEFT_TEST_SPLIT_UNSUPPORTED");
  unsetenv("WEFT_TEST_SPLIT_UNIFIED");
  unsetenv("WEFT_PLUGIN_PATH");
  const char* paths[] = {WEFT_SPLIT_PLUGIN_PATH};
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  options.flags = WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  options.plugin_paths = paths;
  options.plugin_path_count = 1;
  weft_runtime_t* runtime = NULL;
  assert_null(weft_runtime_create(&options, weft_allocator_system(), &runtime));
  return runtime;
}

static weft_device_t* device(weft_runtime_t* runtime, const char* id) {
  weft_device_t* found = NULL;
  assert_null(weft_runtime_device_find(runtime, id, &found));
  return found;
}

static void test_wrap_host_memory(void** state) {
  (void)state;
  weft_runtime_t* runtime = runtime_with_split();
  weft_device_t* cpu = device(runtime, "cpu-ref:0");
  float* host = (float*)aligned_alloc(64, 64 * sizeof(float));
  assert_non_null(host);
  for (int i = 0; i < 64; ++i) host[i] = (float)i;
  weft_buffer_t* wrapped = NULL;
  assert_null(weft_buffer_wrap_host(cpu, host, 64 * sizeof(float), &wrapped));
  assert_true(weft_buffer_is_zero_copy(wrapped));
  float seen[64];
  assert_null(weft_buffer_read(wrapped, 0, seen, sizeof(seen)));
  assert_memory_equal(seen, host, sizeof(seen));
  float seven = 7.5f;
  assert_null(weft_buffer_write(wrapped, 3 * sizeof(float), &seven, sizeof(seven)));
  assert_true(host[3] == 7.5f); /* the same memory, no copy */
  host[5] = -1.0f;
  assert_null(weft_buffer_read(wrapped, 5 * sizeof(float), &seven, sizeof(seven)));
  assert_true(seven == -1.0f);
  weft_buffer_destroy(wrapped);

  weft_buffer_t* out = (weft_buffer_t*)1;
  expect_error(weft_buffer_wrap_host(cpu, (char*)host + 4, 16, &out),
               WEFT_STATUS_INVALID_ARGUMENT, "is not aligned to 64 bytes");
  assert_null(out);
  expect_error(weft_buffer_wrap_host(device(runtime, "test-split:0"), host, 256, &out),
               WEFT_STATUS_UNSUPPORTED, "a discrete device cannot read host memory in place");
  free(host);
  weft_runtime_destroy(runtime);
}

static void test_map_file(void** state) {
  (void)state;
  char path[] = "/tmp/weft-buffer-test-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  enum { K = 32, N = 4 };
  float weights[N * K];
  for (int i = 0; i < N * K; ++i) weights[i] = (float)(i % 7) - 3.0f;
  char header[96] = "not-a-tensor";
  assert_int_equal(write(fd, header, sizeof(header)), (ssize_t)sizeof(header));
  assert_int_equal(write(fd, weights, sizeof(weights)), (ssize_t)sizeof(weights));
  close(fd);

  weft_runtime_t* runtime = runtime_with_split();
  const char* ids[] = {"cpu-ref:0", "test-split:0"};
  for (int d = 0; d < 2; ++d) {
    weft_device_t* dev = device(runtime, ids[d]);
    weft_buffer_t* file = NULL;
    assert_null(weft_buffer_map_file(dev, path, &file));
    /* In place where the device reads host memory, copied once where not. */
    assert_int_equal(weft_buffer_is_zero_copy(file), d == 0);
    assert_int_equal(weft_buffer_size(file), sizeof(header) + sizeof(weights));
    float back[N * K];
    assert_null(weft_buffer_read(file, sizeof(header), back, sizeof(back)));
    assert_memory_equal(back, weights, sizeof(weights));
    expect_error(weft_buffer_write(file, 0, back, 4), WEFT_STATUS_FAILED_PRECONDITION,
                 "read-only mapped file");

    /* Weights bound at their offset in the file feed an op; writes into the
     * file through the graph are refused at once. */
    weft_graph_t* graph = NULL;
    assert_null(weft_graph_create(runtime, &graph));
    weft_tensor_t *w, *x, *y, *ids_t, *bad;
    int64_t ne_w[2] = {K, N}, ne_x[2] = {K, 1}, ne_i[1] = {1};
    assert_null(weft_graph_bind(graph, "w", WEFT_DTYPE_F32, 2, ne_w, file, sizeof(header), &w));
    assert_null(weft_graph_input(graph, "x", WEFT_DTYPE_F32, 2, ne_x, &x));
    assert_null(weft_graph_input(graph, "ids", WEFT_DTYPE_I32, 1, ne_i, &ids_t));
    assert_null(weft_graph_mul_mat(graph, w, x, &y));
    assert_null(weft_graph_output(graph, y));
    expect_error(weft_graph_set_rows(graph, w, x, ids_t, &bad), WEFT_STATUS_INVALID_ARGUMENT,
                 "cannot write into 'w': it is bound to a read-only mapped file");
    weft_program_t* program = NULL;
    assert_null(weft_graph_compile(graph, NULL, &program));
    float ones[K];
    for (int k = 0; k < K; ++k) ones[k] = 1.0f;
    int32_t zero = 0;
    assert_null(weft_program_set_input(program, x, ones, sizeof(ones)));
    assert_null(weft_program_set_input(program, ids_t, &zero, sizeof(zero)));
    assert_null(weft_program_execute(program));
    float sums[N];
    assert_null(weft_program_read(program, y, sums, sizeof(sums)));
    for (int n = 0; n < N; ++n) {
      float expected = 0.0f;
      for (int k = 0; k < K; ++k) expected += weights[n * K + k];
      assert_float_equal(sums[n], expected, 1e-4);
    }
    weft_program_destroy(program);
    weft_graph_destroy(graph);
    weft_buffer_destroy(file);
  }
  weft_buffer_t* none = (weft_buffer_t*)1;
  expect_error(weft_buffer_map_file(device(runtime, "cpu-ref:0"), "/nonexistent/weights.gguf",
                                    &none),
               WEFT_STATUS_NOT_FOUND, "cannot open '/nonexistent/weights.gguf'");
  assert_null(none);
  weft_runtime_destroy(runtime);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wrap_host_memory),
      cmocka_unit_test(test_map_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
