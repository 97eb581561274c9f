/* The test-split plugin (tests/split/split.h): two discrete devices with their
 * own memory, which the host cannot map; handles of another device or plugin
 * refused; segments that run on a worker thread after their events, with the
 * reference kernels' exact results; a chain of events that ping-pongs between
 * the two devices' workers; injected device loss; a memory budget; a
 * disabled op with its reason; and a runtime destroyed with work still queued
 * that drains, joins its threads and frees everything.
 *
 * The plugin reads WEFT_TEST_SPLIT_* through the host's env_get, so each test
 * sets them with setenv before creating its runtime, which honours the
 * environment (no IGNORE_ENV) but has only the plugin on its search path. */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv, nanosleep under -std=c11 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "buffer_impl.h"
#include "cpu_ref/ops/kernels.h"
#include "event.h"
#include "plugins/plugin_harness.h"
#include "runtime_impl.h"
#include "testing/runtime_fixture.h"
#include "testing/test_allocator.h"
#include "weft/buffer.h"
#include "weft/runtime.h"

#ifndef WEFT_SPLIT_PLUGIN_PATH
#error "WEFT_SPLIT_PLUGIN_PATH must name libweft-test-split.so (link weft_split_testing)"
#endif

#define EXPECT_OK(expr)                                                                \
  do {                                                                                 \
    weft_status_t expect_status_ = (expr);                                             \
    if (expect_status_ != WEFT_OK) {                                                   \
      fail_msg("%s failed: %s", #expr, weft_status_message(expect_status_));           \
    }                                                                                  \
  } while (0)

/* Asserts the code and that the message contains `needle`; frees. */
static void expect_status(weft_status_t status, weft_status_code_t code, const char* needle) {
  if (status == WEFT_OK) fail_msg("expected %s, got OK", weft_status_code_name(code));
  if (weft_status_code(status) != code || strstr(weft_status_message(status), needle) == NULL) {
    fail_msg("expected %s with \"%s\", got %s: %s", weft_status_code_name(code), needle,
             weft_status_code_name(weft_status_code(status)), weft_status_message(status));
  }
  weft_status_free(status);
}

/* ---- runtime set-up ---- */

/* Sets the plugin's variables (NULL: unset) after clearing the runtime's. */
static void split_env_set(const char* devices, const char* memory, const char* unsupported,
                          const char* fail_after) {
  weft_test_env_clear();
  const char* names[4] = {"WEFT_TEST_SPLIT_DEVICES", "WEFT_TEST_SPLIT_MEMORY",
                          "WEFT_TEST_SPLIT_UNSUPPORTED", "WEFT_TEST_SPLIT_FAIL_AFTER"};
  const char* values[4] = {devices, memory, unsupported, fail_after};
  for (int i = 0; i < 4; ++i) {
    if (values[i] != NULL) {
      assert_int_equal(setenv(names[i], values[i], 1), 0);
    } else {
      assert_int_equal(unsetenv(names[i]), 0);
    }
  }
}

/* A runtime over the plugin alone that honours the environment. */
static weft_runtime_t* split_runtime_create(weft_test_allocator_t* allocator) {
  return plugin_harness_runtime_create_flags(WEFT_SPLIT_PLUGIN_PATH,
                                             WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS, allocator);
}

static weft_device_t* split_device(weft_runtime_t* runtime, const char* id) {
  weft_device_t* device = NULL;
  EXPECT_OK(weft_runtime_device_find(runtime, id, &device));
  return device;
}

/* The device's plugin handle, opening it if needed. */
static weft_plugin_device_t* split_opened(weft_device_t* device) {
  weft_buffer_t* opener = NULL;
  EXPECT_OK(weft_buffer_create(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 64, &opener));
  weft_buffer_destroy(opener);
  assert_non_null(device->opened);
  return device->opened;
}

static const weft_plugin_interface_t* split_table(weft_device_t* device) {
  return &device->plugin->table;
}

static weft_event_t* event_new(void) {
  weft_event_t* event = NULL;
  EXPECT_OK(weft__event_create(weft_allocator_system(), &event));
  return event;
}

static void event_free(weft_event_t* event) {
  weft__event_destroy(weft_allocator_system(), event);
}

static bool event_signalled(weft_event_t* event, uint32_t* out_code) {
  return weft__event_query(event, out_code) != 0;
}

/* "Threads:" of /proc/self/status. */
static long thread_count(void) {
  FILE* file = fopen("/proc/self/status", "r");
  assert_non_null(file);
  char line[256];
  long threads = -1;
  while (fgets(line, sizeof(line), file) != NULL) {
    if (strncmp(line, "Threads:", 8) == 0) threads = strtol(line + 8, NULL, 10);
  }
  fclose(file);
  assert_true(threads > 0);
  return threads;
}

static void sleep_ms(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&pause, NULL);
}

/* ---- a two-node segment: z = (w x) * 2 + 1 ---- */

enum { K = 64, N = 8, M = 3 };

typedef struct two_node_t {
  weft_buffer_t* weights; /* q8_0 [K, N] */
  weft_buffer_t* acts;    /* x f32 [K, M], then y and z f32 [N, M] */
  weft_tensor_desc_t descs[4];
  const weft_tensor_desc_t* tensors[4];
  weft_op_scale_params_t scale;
  weft_node_t nodes[2];
  const weft_node_t* node_list[2];
  weft_segment_t segment;
} two_node_t;

#define TWO_NODE_Z_OFFSET (sizeof(float) * (K * M + N * M))
#define TWO_NODE_Z_BYTES (sizeof(float) * N * M)

static weft_tensor_desc_t desc_contiguous(uint32_t dtype, int64_t ne0, int64_t ne1,
                                          weft_plugin_buffer_t* handle, uint64_t offset) {
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
  desc.buffer = handle;
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

/* Buffers on `device` with inputs derived from `seed`, and the segment. */
static void two_node_init(two_node_t* t, weft_device_t* device, int seed) {
  memset(t, 0, sizeof(*t));
  uint64_t q8_bytes = (uint64_t)N * (K / 32) * weft_dtype_block_bytes(WEFT_DTYPE_Q8_0);
  EXPECT_OK(weft_buffer_create(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, q8_bytes, &t->weights));
  EXPECT_OK(weft_buffer_create(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL,
                               TWO_NODE_Z_OFFSET + TWO_NODE_Z_BYTES, &t->acts));
  float w[N][K], x[M][K];
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) w[n][k] = sinf((float)(n * K + k + seed) * 0.37f);
  for (int m = 0; m < M; ++m)
    for (int k = 0; k < K; ++k) x[m][k] = cosf((float)(m * K + k + seed) * 0.11f);
  unsigned char packed[N * (K / 32) * 34];
  for (int n = 0; n < N; ++n) {
    assert_true(weft__quantize_row_q8_0(w[n], packed + n * (K / 32) * 34, K));
  }
  EXPECT_OK(weft_buffer_write(t->weights, 0, packed, sizeof(packed)));
  EXPECT_OK(weft_buffer_write(t->acts, 0, x, sizeof(x)));
  float poison = -12345.0f; /* so that "did not run" cannot pass as a result */
  EXPECT_OK(weft_buffer_fill(t->acts, sizeof(x), sizeof(float) * 2 * N * M, &poison, 4));

  t->descs[0] = desc_contiguous(WEFT_DTYPE_Q8_0, K, N, t->weights->handle, 0);
  t->descs[1] = desc_contiguous(WEFT_DTYPE_F32, K, M, t->acts->handle, 0);
  t->descs[2] = desc_contiguous(WEFT_DTYPE_F32, N, M, t->acts->handle, sizeof(x));
  t->descs[3] = desc_contiguous(WEFT_DTYPE_F32, N, M, t->acts->handle, TWO_NODE_Z_OFFSET);
  for (int i = 0; i < 4; ++i) t->tensors[i] = &t->descs[i];
  t->scale = (weft_op_scale_params_t){sizeof(t->scale), 2.0f, 1.0f};
  t->nodes[0] = node_of(WEFT_OP_MUL_MAT, 0, 1, 2, NULL, 0);
  t->nodes[1] = node_of(WEFT_OP_SCALE, 2, WEFT_NODE_NO_TENSOR, 3, &t->scale, sizeof(t->scale));
  t->node_list[0] = &t->nodes[0];
  t->node_list[1] = &t->nodes[1];
  t->segment = (weft_segment_t){sizeof(t->segment), 4, 2, 0, t->tensors, t->node_list};
}

static void two_node_deinit(two_node_t* t) {
  weft_buffer_destroy(t->weights);
  weft_buffer_destroy(t->acts);
}

/* What the reference CPU backend computes from the same inputs: the device
 * runs the same kernels, so the bytes must be equal. */
static void two_node_expected(weft_runtime_t* runtime, int seed, float out[N * M]) {
  weft_device_t* cpu = split_device(runtime, "cpu-ref:0");
  two_node_t ref;
  two_node_init(&ref, cpu, seed);
  weft_event_t* done = event_new();
  EXPECT_OK(split_table(cpu)->segment_submit(cpu->opened, &ref.segment, NULL, 0, done));
  assert_int_equal(weft__event_wait(done, UINT64_MAX), WEFT_STATUS_OK);
  EXPECT_OK(weft_buffer_read(ref.acts, TWO_NODE_Z_OFFSET, out, TWO_NODE_Z_BYTES));
  event_free(done);
  two_node_deinit(&ref);
}

static void two_node_expect_result(weft_runtime_t* runtime, two_node_t* t, int seed) {
  float want[N * M], got[N * M];
  two_node_expected(runtime, seed, want);
  EXPECT_OK(weft_buffer_read(t->acts, TWO_NODE_Z_OFFSET, got, TWO_NODE_Z_BYTES));
  assert_memory_equal(got, want, sizeof(got));
  assert_true(got[0] != -12345.0f);
}

/* ---- tests ---- */

static void test_registry_lists_discrete_devices(void** state) {
  (void)state;
  split_env_set("2", NULL, NULL, NULL);
  weft_runtime_t* runtime = split_runtime_create(NULL);
  const weft_plugin_record_t* record = plugin_harness_record_get(runtime, WEFT_SPLIT_PLUGIN_PATH);
  assert_int_equal(record->outcome, WEFT_PLUGIN_OUTCOME_ACTIVE);
  assert_string_equal(record->name, "test-split");
  assert_int_equal(record->device_count, 2);

  weft_device_info_t info[2];
  for (int i = 0; i < 2; ++i) {
    char id[32];
    snprintf(id, sizeof(id), "test-split:%d", i);
    weft_device_info_get(split_device(runtime, id), &info[i]);
    const weft_device_caps_t* caps = info[i].caps;
    assert_int_equal(caps->type, WEFT_DEVICE_TYPE_ACCELERATOR);
    assert_int_equal(caps->flags & WEFT_DEVICE_FLAG_UNIFIED_MEMORY, 0);
    assert_int_equal(caps->flags & WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL, 0);
    assert_int_not_equal(caps->flags & WEFT_DEVICE_FLAG_ASYNC, 0);
    assert_int_not_equal(caps->flags & WEFT_DEVICE_FLAG_HAS_UUID, 0);
    assert_string_equal(caps->stable_id, id);
    assert_int_equal(caps->memory_total, (uint64_t)256 << 20);
    assert_int_equal(caps->score, 700 - i);
    assert_int_equal(info[i].preferred, 1);
  }
  assert_int_not_equal(info[0].physical_index, info[1].physical_index);
  assert_memory_not_equal(info[0].caps->uuid, info[1].caps->uuid, 16);
  /* Highest score first: device 0, device 1, then the reference CPU. */
  weft_device_info_t first;
  weft_device_info_get(weft_runtime_device_get(runtime, 0), &first);
  assert_string_equal(first.id, "test-split:0");
  weft_device_info_get(weft_runtime_device_get(runtime, 1), &first);
  assert_string_equal(first.id, "test-split:1");
  weft_runtime_destroy(runtime);

  split_env_set("3", "1048576", NULL, NULL);
  runtime = split_runtime_create(NULL);
  assert_int_equal(plugin_harness_record_get(runtime, WEFT_SPLIT_PLUGIN_PATH)->device_count, 3);
  weft_device_info_get(split_device(runtime, "test-split:2"), &info[0]);
  assert_int_equal(info[0].caps->memory_total, 1048576);
  weft_runtime_destroy(runtime);
}

static void test_bad_settings_make_the_plugin_unavailable(void** state) {
  (void)state;
  static const struct {
    const char* devices;
    const char* memory;
    const char* unsupported;
    const char* fail_after;
    const char* needle;
  } cases[] = {
      {"9", NULL, NULL, NULL, "WEFT_TEST_SPLIT_DEVICES=\"9\": expected a device count from 1 to 8"},
      {"0", NULL, NULL, NULL, "WEFT_TEST_SPLIT_DEVICES=\"0\""},
      {NULL, "lots", NULL, NULL, "WEFT_TEST_SPLIT_MEMORY=\"lots\""},
      {NULL, NULL, "soft_max,sofmax", NULL, "unknown op \"sofmax\""},
      {NULL, NULL, NULL, "-1", "WEFT_TEST_SPLIT_FAIL_AFTER=\"-1\""},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    split_env_set(cases[i].devices, cases[i].memory, cases[i].unsupported, cases[i].fail_after);
    weft_runtime_t* runtime = split_runtime_create(NULL);
    const weft_plugin_record_t* record =
        plugin_harness_record_get(runtime, WEFT_SPLIT_PLUGIN_PATH);
    assert_int_equal(record->outcome, WEFT_PLUGIN_OUTCOME_UNAVAILABLE);
    if (strstr(record->reason, cases[i].needle) == NULL) {
      fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, record->reason, cases[i].needle);
    }
    weft_runtime_destroy(runtime);
  }
}

static void test_memory_is_separate_and_not_mappable(void** state) {
  (void)state;
  split_env_set(NULL, NULL, NULL, NULL);
  weft_runtime_t* runtime = split_runtime_create(NULL);
  weft_device_t* dev0 = split_device(runtime, "test-split:0");
  weft_device_t* dev1 = split_device(runtime, "test-split:1");
  for (int memory_type = 0; memory_type < 2; ++memory_type) {
    weft_buffer_t* buffer = NULL;
    EXPECT_OK(weft_buffer_create(dev0, (weft_memory_type_t)memory_type, 4096, &buffer));
    void* ptr = (void*)&ptr;
    expect_status(weft_buffer_map(buffer, &ptr), WEFT_STATUS_UNSUPPORTED, "not host-visible");
    assert_null(ptr);
    weft_buffer_destroy(buffer);
  }
  plugin_harness_round_trip(dev0, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 8192, 11);
  plugin_harness_round_trip(dev1, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 4096 + 60, 12);

  /* The same bytes written to both devices, then one changed: separate. */
  weft_buffer_t* a = NULL;
  weft_buffer_t* b = NULL;
  EXPECT_OK(weft_buffer_create(dev0, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 256, &a));
  EXPECT_OK(weft_buffer_create(dev1, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 256, &b));
  uint8_t zero = 0, ones = 0xff;
  EXPECT_OK(weft_buffer_fill(a, 0, 256, &zero, 1));
  EXPECT_OK(weft_buffer_fill(b, 0, 256, &zero, 1));
  EXPECT_OK(weft_buffer_fill(a, 0, 256, &ones, 1));
  uint8_t got[256], want[256];
  memset(want, 0, sizeof(want));
  EXPECT_OK(weft_buffer_read(b, 0, got, sizeof(got)));
  assert_memory_equal(got, want, sizeof(got));
  weft_buffer_destroy(a);
  weft_buffer_destroy(b);
  weft_runtime_destroy(runtime);
}

static void test_foreign_buffer_handles_are_refused(void** state) {
  (void)state;
  split_env_set(NULL, NULL, NULL, NULL);
  weft_runtime_t* runtime = split_runtime_create(NULL);
  weft_device_t* dev0 = split_device(runtime, "test-split:0");
  weft_device_t* dev1 = split_device(runtime, "test-split:1");
  weft_device_t* cpu = split_device(runtime, "cpu-ref:0");
  weft_buffer_t* mine = NULL;
  weft_buffer_t* other_device = NULL;
  weft_buffer_t* other_plugin = NULL;
  EXPECT_OK(weft_buffer_create(dev0, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 256, &mine));
  EXPECT_OK(weft_buffer_create(dev1, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 256, &other_device));
  EXPECT_OK(weft_buffer_create(cpu, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 256, &other_plugin));
  uint8_t bytes[64] = {1, 2, 3};
  EXPECT_OK(weft_buffer_write(other_device, 0, bytes, sizeof(bytes)));

  const weft_plugin_interface_t* table = split_table(dev0);
  weft_plugin_device_t* opened = dev0->opened;
  expect_status(table->buffer_upload(opened, other_device->handle, 0, bytes, 16),
                WEFT_STATUS_INVALID_ARGUMENT, "belongs to test-split:1, not to this device");
  expect_status(table->buffer_download(opened, other_plugin->handle, 0, bytes, 16),
                WEFT_STATUS_INVALID_ARGUMENT, "is not a test-split buffer");
  expect_status(table->buffer_copy(opened, mine->handle, 0, other_device->handle, 0, 16),
                WEFT_STATUS_INVALID_ARGUMENT, "copy target: buffer");
  expect_status(table->buffer_fill(opened, other_device->handle, 0, 16, bytes, 1),
                WEFT_STATUS_INVALID_ARGUMENT, "belongs to test-split:1");
  void* ptr = NULL;
  expect_status(table->buffer_map(opened, other_plugin->handle, &ptr),
                WEFT_STATUS_INVALID_ARGUMENT, "is not a test-split buffer");
  expect_status(weft_buffer_copy(mine, 0, other_device, 0, 16), WEFT_STATUS_INVALID_ARGUMENT,
                "different devices");
  /* Freeing another device's buffer through this one is refused (logged),
   * and that buffer keeps its contents. */
  table->buffer_free(opened, other_device->handle);
  uint8_t back[64];
  EXPECT_OK(weft_buffer_read(other_device, 0, back, sizeof(back)));
  assert_memory_equal(back, bytes, sizeof(back));

  /* A segment on device 0 whose tensor lives on device 1 or in cpu-ref. */
  weft_tensor_desc_t src = desc_contiguous(WEFT_DTYPE_F32, 16, 1, other_device->handle, 0);
  weft_tensor_desc_t dst = desc_contiguous(WEFT_DTYPE_F32, 16, 1, mine->handle, 0);
  const weft_tensor_desc_t* tensors[] = {&src, &dst};
  weft_node_t node = node_of(WEFT_OP_SILU, 0, WEFT_NODE_NO_TENSOR, 1, NULL, 0);
  const weft_node_t* nodes[] = {&node};
  weft_segment_t segment = {sizeof(segment), 2, 1, 0, tensors, nodes};
  expect_status(table->segment_submit(opened, &segment, NULL, 0, NULL),
                WEFT_STATUS_INVALID_ARGUMENT,
                "segment node 0: silu: src0 (tensor 0): buffer");
  src.buffer = other_plugin->handle;
  expect_status(table->segment_submit(opened, &segment, NULL, 0, NULL),
                WEFT_STATUS_INVALID_ARGUMENT, "is not a test-split buffer");
  /* A tensor reaching past its own buffer is refused too. */
  src = desc_contiguous(WEFT_DTYPE_F32, 16, 8, mine->handle, 0);
  expect_status(table->segment_submit(opened, &segment, NULL, 0, NULL),
                WEFT_STATUS_INVALID_ARGUMENT,
                "tensor spans [0, +512) but its buffer has 256 bytes");

  weft_buffer_destroy(mine);
  weft_buffer_destroy(other_device);
  weft_buffer_destroy(other_plugin);
  weft_runtime_destroy(runtime);
}

static void test_segment_runs_asynchronously(void** state) {
  (void)state;
  split_env_set(NULL, NULL, NULL, NULL);
  weft_runtime_t* runtime = split_runtime_create(NULL);
  weft_device_t* dev0 = split_device(runtime, "test-split:0");
  two_node_t t;
  two_node_init(&t, dev0, 1);
  weft_event_t* gate = event_new();
  weft_event_t* done = event_new();
  /* submit returns with the segment still waiting: it cannot have run. */
  EXPECT_OK(split_table(dev0)->segment_submit(dev0->opened, &t.segment, &gate, 1, done));
  uint32_t code = 0;
  assert_false(event_signalled(done, &code));
  assert_int_equal(weft__event_wait(done, 20 * 1000000ull), WEFT_STATUS_DEADLINE_EXCEEDED);
  weft__event_signal(gate, WEFT_STATUS_OK);
  assert_int_equal(weft__event_wait(done, UINT64_MAX), WEFT_STATUS_OK);
  two_node_expect_result(runtime, &t, 1);

  /* A download right after a submit sees its result (transfers drain). */
  float poison = -12345.0f;
  EXPECT_OK(weft_buffer_fill(t.acts, TWO_NODE_Z_OFFSET, TWO_NODE_Z_BYTES, &poison, 4));
  EXPECT_OK(split_table(dev0)->segment_submit(dev0->opened, &t.segment, NULL, 0, NULL));
  two_node_expect_result(runtime, &t, 1);
  EXPECT_OK(split_table(dev0)->synchronize(dev0->opened));

  event_free(gate);
  event_free(done);
  two_node_deinit(&t);
  weft_runtime_destroy(runtime);
}

typedef struct releaser_t {
  weft_event_t* go;     /* from the test thread: now */
  weft_event_t* target; /* signalled by the helper */
  atomic_int released;
} releaser_t;

static void* releaser_main(void* argument) {
  releaser_t* releaser = argument;
  weft__event_wait(releaser->go, UINT64_MAX);
  sleep_ms(20);
  atomic_store(&releaser->released, 1);
  weft__event_signal(releaser->target, WEFT_STATUS_OK);
  return NULL;
}

static void test_segment_waits_for_an_event_from_another_thread(void** state) {
  (void)state;
  split_env_set(NULL, NULL, NULL, NULL);
  weft_runtime_t* runtime = split_runtime_create(NULL);
  weft_device_t* dev0 = split_device(runtime, "test-split:0");
  weft_device_t* dev1 = split_device(runtime, "test-split:1");
  two_node_t on0, on1;
  two_node_init(&on0, dev0, 2);
  two_node_init(&on1, dev1, 3);
  releaser_t releaser = {event_new(), event_new(), 0};
  weft_event_t* done0 = event_new();
  weft_event_t* done1 = event_new();
  pthread_t helper;
  assert_int_equal(pthread_create(&helper, NULL, releaser_main, &releaser), 0);

  /* Device 0 waits for the other thread; device 1 waits for device 0. */
  EXPECT_OK(split_table(dev0)->segment_submit(dev0->opened, &on0.segment, &releaser.target, 1,
                                               done0));
  EXPECT_OK(split_table(dev1)->segment_submit(dev1->opened, &on1.segment, &done0, 1, done1));
  assert_int_equal(weft__event_wait(done1, 50 * 1000000ull), WEFT_STATUS_DEADLINE_EXCEEDED);
  uint32_t code = 0;
  assert_false(event_signalled(done0, &code));
  assert_int_equal(atomic_load(&releaser.released), 0);

  weft__event_signal(releaser.go, WEFT_STATUS_OK);
  assert_int_equal(weft__event_wait(done1, UINT64_MAX), WEFT_STATUS_OK);
  assert_int_equal(atomic_load(&releaser.released), 1);
  assert_true(event_signalled(done0, &code));
  assert_int_equal(code, WEFT_STATUS_OK);
  assert_int_equal(pthread_join(helper, NULL), 0);
  two_node_expect_result(runtime, &on0, 2);
  two_node_expect_result(runtime, &on1, 3);

  /* A failed wait is passed on, and the segment does not run. */
  float poison = -12345.0f;
  EXPECT_OK(weft_buffer_fill(on1.acts, TWO_NODE_Z_OFFSET, TWO_NODE_Z_BYTES, &poison, 4));
  weft_event_t* failed = event_new();
  weft_event_t* after = event_new();
  weft__event_signal(failed, WEFT_STATUS_ABORTED);
  EXPECT_OK(split_table(dev1)->segment_submit(dev1->opened, &on1.segment, &failed, 1, after));
  assert_int_equal(weft__event_wait(after, UINT64_MAX), WEFT_STATUS_ABORTED);
  float z[N * M];
  EXPECT_OK(weft_buffer_read(on1.acts, TWO_NODE_Z_OFFSET, z, sizeof(z)));
  assert_true(z[0] == -12345.0f);

  event_free(failed);
  event_free(after);
  event_free(releaser.go);
  event_free(releaser.target);
  event_free(done0);
  event_free(done1);
  two_node_deinit(&on0);
  two_node_deinit(&on1);
  weft_runtime_destroy(runtime);
}

/* A chain that ping-pongs between the two workers: segment i runs on device
 * i % 2 after segment i - 1, and adds 1 in place to its device's counter. */
static void test_event_chain_across_devices(void** state) {
  (void)state;
  split_env_set(NULL, NULL, NULL, NULL);
  weft_runtime_t* runtime = split_runtime_create(NULL);
  enum { LINKS = 40, ELEMENTS = 256 };
  weft_device_t* devices[2] = {split_device(runtime, "test-split:0"),
                               split_device(runtime, "test-split:1")};
  weft_buffer_t* buffers[2];
  weft_tensor_desc_t counter[2], one[2];
  float zeros[ELEMENTS], ones[ELEMENTS];
  for (int i = 0; i < ELEMENTS; ++i) {
    zeros[i] = 0.0f;
    ones[i] = 1.0f;
  }
  for (int d = 0; d < 2; ++d) {
    EXPECT_OK(weft_buffer_create(devices[d], WEFT_MEMORY_TYPE_DEVICE_LOCAL, 2 * sizeof(zeros),
                                 &buffers[d]));
    EXPECT_OK(weft_buffer_write(buffers[d], 0, zeros, sizeof(zeros)));
    EXPECT_OK(weft_buffer_write(buffers[d], sizeof(zeros), ones, sizeof(ones)));
    counter[d] = desc_contiguous(WEFT_DTYPE_F32, ELEMENTS, 1, buffers[d]->handle, 0);
    one[d] = desc_contiguous(WEFT_DTYPE_F32, ELEMENTS, 1, buffers[d]->handle, sizeof(zeros));
  }
  weft_event_t* links[LINKS + 1];
  for (int i = 0; i <= LINKS; ++i) links[i] = event_new();
  for (int i = 0; i < LINKS; ++i) {
    int d = i % 2;
    const weft_tensor_desc_t* tensors[] = {&counter[d], &one[d]};
    weft_node_t add = node_of(WEFT_OP_ADD, 0, 1, 0, NULL, 0);
    const weft_node_t* nodes[] = {&add};
    weft_segment_t segment = {sizeof(segment), 2, 1, 0, tensors, nodes};
    EXPECT_OK(split_table(devices[d])->segment_submit(devices[d]->opened, &segment, &links[i],
                                                      1, links[i + 1]));
  }
  uint32_t code = 0;
  assert_false(event_signalled(links[LINKS], &code));
  weft__event_signal(links[0], WEFT_STATUS_OK);
  assert_int_equal(weft__event_wait(links[LINKS], UINT64_MAX), WEFT_STATUS_OK);
  for (int d = 0; d < 2; ++d) {
    float got[ELEMENTS];
    EXPECT_OK(weft_buffer_read(buffers[d], 0, got, sizeof(got)));
    for (int i = 0; i < ELEMENTS; ++i) assert_true(got[i] == (float)(LINKS / 2));
    weft_buffer_destroy(buffers[d]);
  }
  for (int i = 0; i <= LINKS; ++i) event_free(links[i]);
  weft_runtime_destroy(runtime);
}

static void test_injected_failure_loses_the_device(void** state) {
  (void)state;
  /* Segment A's two nodes are nodes 1 and 2; B's first node is node 3. */
  split_env_set(NULL, NULL, NULL, "3");
  weft_runtime_t* runtime = split_runtime_create(NULL);
  weft_device_t* dev0 = split_device(runtime, "test-split:0");
  weft_device_t* dev1 = split_device(runtime, "test-split:1");
  const weft_plugin_interface_t* table = split_table(dev0);
  two_node_t on0, on1;
  two_node_init(&on0, dev0, 4);
  two_node_init(&on1, dev1, 5);

  weft_event_t* gate = event_new();
  weft_event_t* a = event_new();
  weft_event_t* b = event_new();
  weft_event_t* c = event_new();
  EXPECT_OK(table->segment_submit(dev0->opened, &on0.segment, NULL, 0, a));
  EXPECT_OK(table->segment_submit(dev0->opened, &on0.segment, &gate, 1, b));
  EXPECT_OK(table->segment_submit(dev0->opened, &on0.segment, NULL, 0, c));
  weft__event_signal(gate, WEFT_STATUS_OK);
  assert_int_equal(weft__event_wait(a, UINT64_MAX), WEFT_STATUS_OK);
  assert_int_equal(weft__event_wait(b, UINT64_MAX), WEFT_STATUS_DEVICE_LOST);
  /* Queued behind the loss: not run, signalled lost. */
  assert_int_equal(weft__event_wait(c, UINT64_MAX), WEFT_STATUS_DEVICE_LOST);

  expect_status(table->synchronize(dev0->opened), WEFT_STATUS_DEVICE_LOST,
                "device lost at node 0 (mul_mat) of segment 1: node 3 of the instance, as "
                "WEFT_TEST_SPLIT_FAIL_AFTER=3 asks");
  expect_status(table->synchronize(dev0->opened), WEFT_STATUS_DEVICE_LOST, "was lost");
  expect_status(table->segment_submit(dev0->opened, &on0.segment, NULL, 0, NULL),
                WEFT_STATUS_DEVICE_LOST, "test-split:0 segment_submit: the device was lost");
  float z[N * M];
  expect_status(weft_buffer_read(on0.acts, TWO_NODE_Z_OFFSET, z, sizeof(z)),
                WEFT_STATUS_DEVICE_LOST, "download");
  weft_buffer_t* more = NULL;
  expect_status(weft_buffer_create(dev0, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 64, &more),
                WEFT_STATUS_DEVICE_LOST, "buffer_allocate");

  /* The other device carries on: a re-plan without device 0 works. */
  weft_event_t* d = event_new();
  EXPECT_OK(split_table(dev1)->segment_submit(dev1->opened, &on1.segment, NULL, 0, d));
  assert_int_equal(weft__event_wait(d, UINT64_MAX), WEFT_STATUS_OK);
  two_node_expect_result(runtime, &on1, 5);
  EXPECT_OK(split_table(dev1)->synchronize(dev1->opened));

  event_free(gate);
  event_free(a);
  event_free(b);
  event_free(c);
  event_free(d);
  two_node_deinit(&on0);
  two_node_deinit(&on1);
  weft_runtime_destroy(runtime);
}

static void test_memory_budget(void** state) {
  (void)state;
  split_env_set(NULL, "1048576", NULL, NULL);
  weft_runtime_t* runtime = split_runtime_create(NULL);
  weft_device_t* dev0 = split_device(runtime, "test-split:0");
  weft_device_t* dev1 = split_device(runtime, "test-split:1");
  uint64_t free_bytes = 0, total = 0;
  EXPECT_OK(weft_device_memory_query(dev0, &free_bytes, &total));
  assert_int_equal(total, 1048576);
  assert_int_equal(free_bytes, 1048576);

  weft_buffer_t* big = NULL;
  weft_buffer_t* more = NULL;
  EXPECT_OK(weft_buffer_create(dev0, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 786432, &big));
  EXPECT_OK(weft_device_memory_query(dev0, &free_bytes, &total));
  assert_int_equal(free_bytes, 262144);
  expect_status(weft_buffer_create(dev0, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 524288, &more),
                WEFT_STATUS_RESOURCE_EXHAUSTED,
                "test-split:0: buffer of 524288 bytes does not fit: 262144 of 1048576 bytes "
                "free (WEFT_TEST_SPLIT_MEMORY)");
  assert_null(more);
  /* Device 1 has its own budget. */
  weft_buffer_t* elsewhere = NULL;
  EXPECT_OK(weft_buffer_create(dev1, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 786432, &elsewhere));
  weft_buffer_destroy(big);
  EXPECT_OK(weft_buffer_create(dev0, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 524288, &more));
  EXPECT_OK(weft_device_memory_query(dev0, &free_bytes, &total));
  assert_int_equal(free_bytes, 524288);
  weft_buffer_destroy(more);
  weft_buffer_destroy(elsewhere);
  weft_runtime_destroy(runtime);
}

/* op_query of one single-source node on `device`: f32 [8, 3] into `dst`. */
static weft_op_support_t query_unary(weft_device_t* device, uint32_t op,
                                     const weft_tensor_desc_t* dst) {
  weft_tensor_desc_t src = desc_contiguous(WEFT_DTYPE_F32, 8, 3, NULL, 0);
  const weft_tensor_desc_t* tensors[] = {&src, dst};
  weft_node_t node = node_of(op, 0, WEFT_NODE_NO_TENSOR, 1, NULL, 0);
  weft_op_support_t support;
  memset(&support, 0, sizeof(support));
  support.struct_size = sizeof(support);
  EXPECT_OK(split_table(device)->op_query(split_opened(device), &node, tensors, 2, &support));
  return support;
}

static void test_disabled_ops_are_unsupported_with_a_reason(void** state) {
  (void)state;
  weft_tensor_desc_t indices = desc_contiguous(WEFT_DTYPE_I32, 3, 1, NULL, 0);
  weft_tensor_desc_t rows = desc_contiguous(WEFT_DTYPE_F32, 8, 3, NULL, 0);

  split_env_set(NULL, NULL, NULL, NULL); /* default: argmax */
  weft_runtime_t* runtime = split_runtime_create(NULL);
  weft_device_t* dev0 = split_device(runtime, "test-split:0");
  weft_op_support_t support = query_unary(dev0, WEFT_OP_ARGMAX, &indices);
  assert_int_equal(support.supported, 0);
  assert_string_equal(support.reason,
                      "argmax: disabled in test-split (WEFT_TEST_SPLIT_UNSUPPORTED)");
  /* The node itself is fine: the reference CPU runs it. */
  support = query_unary(split_device(runtime, "cpu-ref:0"), WEFT_OP_ARGMAX, &indices);
  assert_int_equal(support.supported, 1);
  support = query_unary(dev0, WEFT_OP_SOFT_MAX, &rows);
  assert_int_equal(support.supported, 1);
  assert_string_equal(support.reason, "");
  /* The kernels' own refusals come through with their reasons. */
  weft_tensor_desc_t wrong = desc_contiguous(WEFT_DTYPE_F32, 3, 1, NULL, 0);
  support = query_unary(dev0, WEFT_OP_SILU, &wrong);
  assert_int_equal(support.supported, 0);
  assert_non_null(strstr(support.reason, "silu"));

  /* Submitting it anyway is refused with the same reason. */
  weft_buffer_t* buffer = NULL;
  EXPECT_OK(weft_buffer_create(dev0, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 256, &buffer));
  weft_tensor_desc_t src = desc_contiguous(WEFT_DTYPE_F32, 8, 3, buffer->handle, 0);
  weft_tensor_desc_t dst = desc_contiguous(WEFT_DTYPE_I32, 3, 1, buffer->handle, 128);
  const weft_tensor_desc_t* tensors[] = {&src, &dst};
  weft_node_t node = node_of(WEFT_OP_ARGMAX, 0, WEFT_NODE_NO_TENSOR, 1, NULL, 0);
  const weft_node_t* nodes[] = {&node};
  weft_segment_t segment = {sizeof(segment), 2, 1, 0, tensors, nodes};
  expect_status(split_table(dev0)->segment_submit(dev0->opened, &segment, NULL, 0, NULL),
                WEFT_STATUS_UNSUPPORTED, "segment node 0: argmax: disabled in test-split");
  weft_buffer_destroy(buffer);
  weft_runtime_destroy(runtime);

  split_env_set(NULL, NULL, "soft_max, rope", NULL);
  runtime = split_runtime_create(NULL);
  dev0 = split_device(runtime, "test-split:0");
  assert_int_equal(query_unary(dev0, WEFT_OP_ARGMAX, &indices).supported, 1);
  support = query_unary(dev0, WEFT_OP_SOFT_MAX, &rows);
  assert_int_equal(support.supported, 0);
  assert_string_equal(support.reason,
                      "soft_max: disabled in test-split (WEFT_TEST_SPLIT_UNSUPPORTED)");
  weft_runtime_destroy(runtime);

  split_env_set(NULL, NULL, "", NULL); /* set and empty: every op */
  runtime = split_runtime_create(NULL);
  dev0 = split_device(runtime, "test-split:0");
  assert_int_equal(query_unary(dev0, WEFT_OP_ARGMAX, &indices).supported, 1);
  assert_int_equal(query_unary(dev0, WEFT_OP_SOFT_MAX, &rows).supported, 1);
  weft_runtime_destroy(runtime);
}

static void* late_signal_main(void* argument) {
  sleep_ms(100);
  weft__event_signal((weft_event_t*)argument, WEFT_STATUS_OK);
  return NULL;
}

static void test_destroy_with_queued_work_drains_and_joins(void** state) {
  (void)state;
  split_env_set(NULL, NULL, NULL, NULL);
  weft_test_allocator_t allocator;
  assert_true(weft_test_allocator_init(&allocator));
  long threads_before = thread_count();
  weft_runtime_t* runtime = split_runtime_create(&allocator);
  weft_device_t* devices[2] = {split_device(runtime, "test-split:0"),
                               split_device(runtime, "test-split:1")};
  weft_plugin_device_t* opened[2] = {split_opened(devices[0]), split_opened(devices[1])};
  assert_int_equal(thread_count(), threads_before + 2); /* one worker per open device */

  /* Buffers straight from the plugin, left for device_close to free. */
  const weft_plugin_interface_t* table = split_table(devices[0]);
  enum { SEGMENTS = 4, ELEMENTS = 4096 };
  weft_event_t* gate = event_new();
  weft_event_t* done[2][SEGMENTS];
  weft_tensor_desc_t descs[2][2];
  float input[ELEMENTS];
  for (int i = 0; i < ELEMENTS; ++i) input[i] = (float)i * 0.001f - 2.0f;
  for (int d = 0; d < 2; ++d) {
    weft_plugin_buffer_t* handle = NULL;
    weft_buffer_params_t params = {sizeof(params), WEFT_MEMORY_TYPE_DEVICE_LOCAL, NULL,
                                   2 * sizeof(input), 0};
    EXPECT_OK(table->buffer_allocate(opened[d], &params, &handle));
    EXPECT_OK(table->buffer_upload(opened[d], handle, 0, input, sizeof(input)));
    descs[d][0] = desc_contiguous(WEFT_DTYPE_F32, ELEMENTS, 1, handle, 0);
    descs[d][1] = desc_contiguous(WEFT_DTYPE_F32, ELEMENTS, 1, handle, sizeof(input));
  }
  pthread_t helper;
  assert_int_equal(pthread_create(&helper, NULL, late_signal_main, gate), 0);
  for (int d = 0; d < 2; ++d) {
    const weft_tensor_desc_t* tensors[] = {&descs[d][0], &descs[d][1]};
    weft_node_t node = node_of(WEFT_OP_SILU, 0, WEFT_NODE_NO_TENSOR, 1, NULL, 0);
    const weft_node_t* nodes[] = {&node};
    weft_segment_t segment = {sizeof(segment), 2, 1, 0, tensors, nodes};
    for (int s = 0; s < SEGMENTS; ++s) {
      done[d][s] = event_new();
      /* The first segment of each queue holds everything behind it. */
      EXPECT_OK(table->segment_submit(opened[d], &segment, s == 0 ? &gate : NULL,
                                      s == 0 ? 1u : 0u, done[d][s]));
    }
  }
  uint32_t code = 0;
  assert_false(event_signalled(done[0][SEGMENTS - 1], &code));

  /* Closing waits for the gate, runs every queued segment, joins. */
  weft_runtime_destroy(runtime);
  for (int d = 0; d < 2; ++d) {
    for (int s = 0; s < SEGMENTS; ++s) {
      assert_true(event_signalled(done[d][s], &code));
      assert_int_equal(code, WEFT_STATUS_OK);
      event_free(done[d][s]);
    }
  }
  assert_int_equal(pthread_join(helper, NULL), 0);
  event_free(gate);
  assert_int_equal(thread_count(), threads_before);
  weft_test_allocator_stats_t stats = weft_test_allocator_stats(&allocator);
  assert_int_equal(stats.live_count, 0);
  assert_int_equal(stats.foreign_frees, 0);
  assert_int_equal(stats.bad_alignment, 0);
  weft_test_allocator_deinit(&allocator);
}

static void test_allocation_failures_leak_nothing(void** state) {
  (void)state;
  /* The sweep ignores the environment: two devices, the defaults. */
  uint64_t runs = plugin_harness_allocation_sweep(WEFT_SPLIT_PLUGIN_PATH, "test-split");
  print_message("allocation sweep: %llu runs\n", (unsigned long long)runs);
  assert_true(runs > 10);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_lists_discrete_devices),
      cmocka_unit_test(test_bad_settings_make_the_plugin_unavailable),
      cmocka_unit_test(test_memory_is_separate_and_not_mappable),
      cmocka_unit_test(test_foreign_buffer_handles_are_refused),
      cmocka_unit_test(test_segment_runs_asynchronously),
      cmocka_unit_test(test_segment_waits_for_an_event_from_another_thread),
      cmocka_unit_test(test_event_chain_across_devices),
      cmocka_unit_test(test_injected_failure_loses_the_device),
      cmocka_unit_test(test_memory_budget),
      cmocka_unit_test(test_disabled_ops_are_unsupported_with_a_reason),
      cmocka_unit_test(test_destroy_with_queued_work_drains_and_joins),
      cmocka_unit_test(test_allocation_failures_leak_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
