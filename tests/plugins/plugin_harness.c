/* See plugin_harness.h. */
#define _GNU_SOURCE /* environ */
#include "plugins/plugin_harness.h"

// clang-format off: cmocka needs these first, in this order.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "device.h"       /* core/src: weft__device_ensure_open_locked */
#include "runtime_impl.h" /* core/src: the plugin table behind a device */
#include "weft/abi/op.h"
#include "weft/status.h"

extern char** environ;

#ifndef WEFT_TEST_PLUGIN_DIR
#error "WEFT_TEST_PLUGIN_DIR must name build/lib/plugins"
#endif

/* Fails the test with the status message, freeing it. */
#define HARNESS_ASSERT_OK(expr)                                                  \
  do {                                                                           \
    weft_status_t harness_status_ = (expr);                                      \
    if (harness_status_ != WEFT_OK) {                                            \
      fail_msg("%s failed: %s: %s", #expr,                                       \
               weft_status_code_name(weft_status_code(harness_status_)),         \
               weft_status_message(harness_status_));                            \
    }                                                                            \
  } while (0)

const char* plugin_harness_plugin_path(const char* name) {
  static char path[4096];
  snprintf(path, sizeof(path), "%s/libweft-%s.so", WEFT_TEST_PLUGIN_DIR, name);
  return path;
}

static void plugin_harness_log(void* user, weft_log_level_t level, const char* source,
                               const char* message) {
  (void)user;
  fprintf(stderr, "[weft %s] %s: %s\n", weft_log_level_name(level), source, message);
}

weft_runtime_t* plugin_harness_runtime_create_flags(const char* plugin_path, uint32_t flags,
                                                    weft_test_allocator_t* allocator) {
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  const char* paths[1] = {plugin_path};
  options.flags = flags;
  options.plugin_paths = paths;
  options.plugin_path_count = 1;
  options.log_fn = plugin_harness_log;
  options.log_level = WEFT_LOG_LEVEL_WARN;
  weft_runtime_t* runtime = NULL;
  weft_allocator_t chosen =
      allocator != NULL ? weft_test_allocator_get(allocator) : weft_allocator_system();
  HARNESS_ASSERT_OK(weft_runtime_create(&options, chosen, &runtime));
  assert_non_null(runtime);
  return runtime;
}

weft_runtime_t* plugin_harness_runtime_create(const char* plugin_path,
                                              weft_test_allocator_t* allocator) {
  return plugin_harness_runtime_create_flags(
      plugin_path, WEFT_RUNTIME_FLAG_IGNORE_ENV | WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS, allocator);
}

const weft_plugin_record_t* plugin_harness_record_get(const weft_runtime_t* runtime,
                                                      const char* plugin_path) {
  const weft_plugin_record_t* found = NULL;
  size_t matches = 0;
  for (size_t i = 0; i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    if (record != NULL && record->path != NULL && strcmp(record->path, plugin_path) == 0) {
      found = record;
      ++matches;
    }
  }
  if (matches != 1) {
    fail_msg("expected one record for %s, found %zu", plugin_path, matches);
  }
  return found;
}

bool plugin_harness_contains(const char* haystack, const char* needle) {
  if (haystack == NULL || needle == NULL) {
    return false;
  }
  size_t n = strlen(needle);
  for (const char* h = haystack; *h != '\0'; ++h) {
    size_t i = 0;
    while (i < n && h[i] != '\0' &&
           tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i])) {
      ++i;
    }
    if (i == n) {
      return true;
    }
  }
  return n == 0;
}

/* xorshift64*: reproducible bytes without touching rand()'s global state. */
static uint64_t plugin_harness_random(uint64_t* state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static void plugin_harness_random_fill(uint8_t* bytes, size_t size, uint64_t* state) {
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = (uint8_t)(plugin_harness_random(state) >> 56);
  }
}

/* The model of buffer_fill: pattern byte k lands at offset + k. */
static void plugin_harness_model_fill(uint8_t* model, uint64_t offset, uint64_t size,
                                      const uint8_t* pattern, uint32_t pattern_size) {
  for (uint64_t i = 0; i < size; ++i) {
    model[offset + i] = pattern[i % pattern_size];
  }
}

static void plugin_harness_expect_equal(const uint8_t* got, const uint8_t* want, size_t size,
                                        const char* what) {
  for (size_t i = 0; i < size; ++i) {
    if (got[i] != want[i]) {
      fail_msg("%s: byte %zu is 0x%02x, expected 0x%02x", what, i, got[i], want[i]);
    }
  }
}

void plugin_harness_round_trip(weft_device_t* device, weft_memory_type_t memory_type,
                               uint64_t size, uint32_t seed) {
  assert_true(size >= 4096);
  uint8_t* model_a = malloc(size);
  uint8_t* model_b = malloc(size);
  uint8_t* readback = malloc(size);
  assert_non_null(model_a);
  assert_non_null(model_b);
  assert_non_null(readback);
  uint64_t state = 0x9E3779B97F4A7C15ULL ^ seed;

  weft_buffer_t* a = NULL;
  weft_buffer_t* b = NULL;
  HARNESS_ASSERT_OK(weft_buffer_create(device, memory_type, size, &a));
  HARNESS_ASSERT_OK(weft_buffer_create(device, memory_type, size, &b));
  assert_int_equal(weft_buffer_size(a), size);

  /* Whole-buffer writes of random bytes. */
  plugin_harness_random_fill(model_a, size, &state);
  plugin_harness_random_fill(model_b, size, &state);
  HARNESS_ASSERT_OK(weft_buffer_write(a, 0, model_a, size));
  HARNESS_ASSERT_OK(weft_buffer_write(b, 0, model_b, size));

  /* A partial write at an odd offset. */
  uint8_t patch[333];
  plugin_harness_random_fill(patch, sizeof(patch), &state);
  HARNESS_ASSERT_OK(weft_buffer_write(a, 1001, patch, sizeof(patch)));
  memcpy(model_a + 1001, patch, sizeof(patch));

  /* Fills: offsets and sizes are multiples of the pattern size (docs/abi.md,
   * "Buffers") but not of 4, so word-based device fills meet ragged edges. */
  static const struct {
    uint64_t offset;
    uint64_t size;
    uint32_t pattern_size;
    uint8_t pattern[4];
  } kFills[] = {
      {1, 37, 1, {0xAB}},                  /* unaligned both ends */
      {4093, 3, 1, {0x5A}},                /* no whole word inside */
      {6, 1002, 2, {0x34, 0x12}},          /* 2-byte pattern, head of 2 */
      {10, 6, 2, {0xCD, 0xEF}},            /* one word and a head */
      {100, 2048, 4, {1, 2, 3, 4}},        /* aligned 4-byte pattern */
      {2050, 12, 2, {0x77, 0x88}},         /* 2-byte, head and tail */
  };
  for (size_t i = 0; i < sizeof(kFills) / sizeof(kFills[0]); ++i) {
    HARNESS_ASSERT_OK(weft_buffer_fill(a, kFills[i].offset, kFills[i].size, kFills[i].pattern,
                                       kFills[i].pattern_size));
    plugin_harness_model_fill(model_a, kFills[i].offset, kFills[i].size, kFills[i].pattern,
                              kFills[i].pattern_size);
  }

  /* Copies: across buffers at unaligned offsets, and within one buffer. */
  HARNESS_ASSERT_OK(weft_buffer_copy(a, 1000, b, 5, 3001));
  memcpy(model_b + 5, model_a + 1000, 3001);
  HARNESS_ASSERT_OK(weft_buffer_copy(b, 0, b, size - 512, 512));
  memmove(model_b + size - 512, model_b, 512);

  /* Read back whole and in part. */
  HARNESS_ASSERT_OK(weft_buffer_read(a, 0, readback, size));
  plugin_harness_expect_equal(readback, model_a, size, "buffer a");
  HARNESS_ASSERT_OK(weft_buffer_read(b, 0, readback, size));
  plugin_harness_expect_equal(readback, model_b, size, "buffer b");
  HARNESS_ASSERT_OK(weft_buffer_read(a, 7, readback, 100));
  plugin_harness_expect_equal(readback, model_a + 7, 100, "buffer a [7, 107)");

  /* Out of range is refused, by the host or the plugin, with OUT_OF_RANGE. */
  weft_status_t status = weft_buffer_write(a, size - 1, patch, 2);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_OUT_OF_RANGE);
  weft_status_free(status);

  if (memory_type == WEFT_MEMORY_TYPE_HOST_VISIBLE) {
    void* mapped = NULL;
    HARNESS_ASSERT_OK(weft_buffer_map(a, &mapped));
    assert_non_null(mapped);
    plugin_harness_expect_equal(mapped, model_a, size, "mapped buffer a");
    memset((uint8_t*)mapped + 64, 0xEE, 64);
    weft_buffer_unmap(a);
    memset(model_a + 64, 0xEE, 64);
    HARNESS_ASSERT_OK(weft_buffer_read(a, 0, readback, size));
    plugin_harness_expect_equal(readback, model_a, size, "buffer a after a mapped write");
  }

  weft_buffer_destroy(a);
  weft_buffer_destroy(b);
  free(model_a);
  free(model_b);
  free(readback);
}

void plugin_harness_expect_no_kernels(weft_device_t* device) {
  /* Op names as docs/ops.md spells them, indexed by weft_op_t. */
  static const char* const kNames[] = {
      "none",    "get_rows", "mul_mat", "add",    "mul",      "scale",      "rms_norm",
      "rope",    "soft_max", "gelu",    "silu",   "swiglu",   "geglu",      "cpy",
      "cont",    "set_rows", "flash_attn", "argmax", "concat",
  };
  pthread_mutex_lock(&device->lock);
  weft_status_t status = weft__device_ensure_open_locked(device);
  pthread_mutex_unlock(&device->lock);
  HARNESS_ASSERT_OK(status);
  const weft_plugin_interface_t* table = &device->plugin->table;
  weft_plugin_device_t* opened = device->opened;
  assert_non_null(opened);
  assert_non_null(table->op_query);

  weft_tensor_desc_t tensor;
  memset(&tensor, 0, sizeof(tensor));
  tensor.struct_size = sizeof(tensor);
  tensor.dtype = WEFT_DTYPE_F32;
  for (int d = 0; d < WEFT_MAX_DIMS; ++d) {
    tensor.ne[d] = d == 0 ? 64 : 1;
    tensor.nb[d] = d == 0 ? 4 : 256;
  }
  const weft_tensor_desc_t* tensors[1] = {&tensor};
  for (uint32_t op = 1; op < WEFT_OP_COUNT_; ++op) {
    weft_node_t node;
    memset(&node, 0, sizeof(node));
    node.struct_size = sizeof(node);
    node.op = op;
    for (int i = 0; i < WEFT_MAX_SRC; ++i) {
      node.src[i] = WEFT_NODE_NO_TENSOR;
    }
    node.src[0] = 0;
    node.dst = 0;
    weft_op_support_t support;
    memset(&support, 0, sizeof(support));
    support.struct_size = sizeof(support);
    support.supported = 1; /* the plugin must say 0 itself */
    HARNESS_ASSERT_OK(table->op_query(opened, &node, tensors, 1, &support));
    assert_int_equal(support.supported, 0);
    /* Ops newer than this list are only checked for the common part. */
    const char* common = "kernels are not implemented in this plugin yet";
    const size_t known = sizeof(kNames) / sizeof(kNames[0]);
    char want[96];
    snprintf(want, sizeof(want), "%s: %s", op < known ? kNames[op] : "?", common);
    if (op < known ? strcmp(support.reason, want) != 0
                   : strstr(support.reason, common) == NULL) {
      fail_msg("op %u: reason '%s', expected '%s'", (unsigned)op, support.reason, want);
    }
  }

  weft_segment_t segment;
  memset(&segment, 0, sizeof(segment));
  segment.struct_size = sizeof(segment);
  status = table->segment_submit(opened, &segment, NULL, 0, NULL);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_UNIMPLEMENTED);
  assert_non_null(strstr(weft_status_message(status), "not implemented"));
  weft_status_free(status);

  HARNESS_ASSERT_OK(table->synchronize(opened));
}

/* The first device of the plugin named `name`, or NULL. */
static weft_device_t* plugin_harness_device_of(const weft_runtime_t* runtime, const char* name) {
  for (size_t i = 0; i < weft_runtime_device_count(runtime); ++i) {
    weft_device_t* device = weft_runtime_device_get(runtime, i);
    weft_device_info_t info;
    weft_device_info_get(device, &info);
    if (strcmp(info.plugin, name) == 0) {
      return device;
    }
  }
  return NULL;
}

/* OK, or a failure an allocation failure may cause: the status is freed. */
static void plugin_harness_expect_oom(weft_status_t status, uint64_t n, const char* what) {
  weft_status_code_t code = weft_status_code(status);
  if (status != WEFT_OK && code != WEFT_STATUS_OUT_OF_MEMORY &&
      code != WEFT_STATUS_UNAVAILABLE) {
    fail_msg("%s, failing allocation %llu: expected OK, OUT_OF_MEMORY or UNAVAILABLE, got "
             "%s: %s",
             what, (unsigned long long)n, weft_status_code_name(code),
             weft_status_message(status));
  }
  if (status != WEFT_OK) {
    assert_true(weft_status_message(status)[0] != '\0');
  }
  weft_status_free(status);
}

uint64_t plugin_harness_allocation_sweep(const char* plugin_path, const char* plugin_name) {
  /* Skip where the plugin has no device: nothing past the probe to sweep. */
  weft_runtime_t* probe_runtime = plugin_harness_runtime_create(plugin_path, NULL);
  bool has_device = plugin_harness_device_of(probe_runtime, plugin_name) != NULL;
  weft_runtime_destroy(probe_runtime);
  if (!has_device) {
    return 0;
  }
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  const char* paths[1] = {plugin_path};
  options.flags = WEFT_RUNTIME_FLAG_IGNORE_ENV | WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  options.plugin_paths = paths;
  options.plugin_path_count = 1;
  uint8_t data[4096];
  uint8_t readback[sizeof(data)];
  for (size_t i = 0; i < sizeof(data); ++i) {
    data[i] = (uint8_t)(i * 7 + 3);
  }
  for (uint64_t n = 0; n < 100000; ++n) {
    weft_test_allocator_t allocator;
    assert_true(weft_test_allocator_init(&allocator));
    weft_test_allocator_fail_at(&allocator, n);
    weft_runtime_t* runtime = NULL;
    weft_status_t status =
        weft_runtime_create(&options, weft_test_allocator_get(&allocator), &runtime);
    if (status == WEFT_OK) {
      weft_device_t* device = plugin_harness_device_of(runtime, plugin_name);
      weft_buffer_t* buffer = NULL;
      if (device != NULL) {
        status = weft_buffer_create(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, sizeof(data), &buffer);
        plugin_harness_expect_oom(status, n, "weft_buffer_create");
      }
      if (buffer != NULL) {
        status = weft_buffer_write(buffer, 0, data, sizeof(data));
        bool written = status == WEFT_OK;
        plugin_harness_expect_oom(status, n, "weft_buffer_write");
        if (written) {
          memset(readback, 0, sizeof(readback));
          status = weft_buffer_read(buffer, 0, readback, sizeof(readback));
          if (status == WEFT_OK) {
            plugin_harness_expect_equal(readback, data, sizeof(data), "swept round trip");
          }
          plugin_harness_expect_oom(status, n, "weft_buffer_read");
        }
        weft_buffer_destroy(buffer);
      }
      weft_runtime_destroy(runtime);
    } else {
      plugin_harness_expect_oom(status, n, "weft_runtime_create");
    }
    weft_test_allocator_stats_t stats = weft_test_allocator_stats(&allocator);
    if (stats.live_count != 0 || stats.foreign_frees != 0 || stats.bad_alignment != 0) {
      fail_msg("failing allocation %llu: %llu blocks (%llu bytes) live, %llu foreign frees, "
               "%llu bad alignments",
               (unsigned long long)n, (unsigned long long)stats.live_count,
               (unsigned long long)stats.live_bytes, (unsigned long long)stats.foreign_frees,
               (unsigned long long)stats.bad_alignment);
    }
    bool reached = stats.failure_hit;
    weft_test_allocator_deinit(&allocator);
    if (!reached) {
      return n + 1;
    }
  }
  fail_msg("the sweep over %s did not converge", plugin_path);
  return 0;
}

int plugin_harness_child_run(const char* mode, const char* arg, const char* const* env,
                             char* output, size_t cap) {
  size_t base = 0;
  while (environ[base] != NULL) {
    ++base;
  }
  size_t extra = 0;
  while (env != NULL && env[extra] != NULL) {
    ++extra;
  }
  char** envp = calloc(base + extra + 1, sizeof(char*));
  assert_non_null(envp);
  size_t n = 0;
  /* The child's values win: drop inherited entries it overrides. */
  for (size_t i = 0; i < base; ++i) {
    bool overridden = false;
    for (size_t j = 0; j < extra; ++j) {
      const char* eq = strchr(env[j], '=');
      size_t key = eq != NULL ? (size_t)(eq - env[j]) + 1 : strlen(env[j]);
      if (strncmp(environ[i], env[j], key) == 0) {
        overridden = true;
      }
    }
    if (!overridden) {
      envp[n++] = environ[i];
    }
  }
  for (size_t j = 0; j < extra; ++j) {
    envp[n++] = (char*)env[j];
  }
  envp[n] = NULL;

  int pipe_fds[2];
  assert_int_equal(pipe2(pipe_fds, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  char self[4096];
  ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  assert_true(length > 0);
  self[length] = '\0';
  char* argv[] = {self, (char*)"--child", (char*)mode, (char*)arg, NULL};
  pid_t pid = 0;
  int spawn_error = posix_spawn(&pid, self, &actions, NULL, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  free(envp);
  if (spawn_error != 0) {
    close(pipe_fds[0]);
    fail_msg("posix_spawn(%s) failed: %s", self, strerror(spawn_error));
  }
  size_t used = 0;
  for (;;) {
    char chunk[512];
    ssize_t got = read(pipe_fds[0], chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      break;
    }
    size_t take = (size_t)got;
    if (cap > 0 && used + take > cap - 1) {
      take = cap - 1 - used;
    }
    memcpy(output + used, chunk, take);
    used += take;
  }
  if (cap > 0) {
    output[used] = '\0';
  }
  close(pipe_fds[0]);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0) {
    assert_int_equal(errno, EINTR);
  }
  if (WIFEXITED(wait_status)) {
    return WEXITSTATUS(wait_status);
  }
  return 128 + (WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0);
}

int plugin_harness_child_expect_unavailable(const char* plugin_path, const char* needle) {
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  const char* paths[1] = {plugin_path};
  options.flags = WEFT_RUNTIME_FLAG_IGNORE_ENV | WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  options.plugin_paths = paths;
  options.plugin_path_count = 1;
  weft_runtime_t* runtime = NULL;
  weft_status_t status = weft_runtime_create(&options, weft_allocator_system(), &runtime);
  if (status != WEFT_OK) {
    printf("weft_runtime_create failed: %s\n", weft_status_message(status));
    weft_status_free(status);
    return 1;
  }
  int result = 1;
  for (size_t i = 0; i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    if (record == NULL || strcmp(record->path, plugin_path) != 0) {
      continue;
    }
    printf("outcome=%s stage=%s reason=%s\n",
           weft_plugin_outcome_name((weft_plugin_outcome_t)record->outcome),
           weft_plugin_stage_name((weft_plugin_stage_t)record->stage), record->reason);
    if (record->outcome == WEFT_PLUGIN_OUTCOME_UNAVAILABLE &&
        plugin_harness_contains(record->reason, needle)) {
      result = 0;
    }
  }
  fflush(stdout);
  weft_runtime_destroy(runtime);
  return result;
}
