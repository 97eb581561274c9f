/* The Vulkan plugin against the real Vulkan stack of this machine: devices
 * with their capabilities, buffer round trips (through the mapping and
 * through the staging buffer), and a missing driver reported as
 * "unavailable" with a reason.
 *
 * On a machine with Mesa's lavapipe installed (mesa-vulkan-drivers) a
 * "llvmpipe" device must appear; where no Vulkan loader or driver is
 * installed at all the device tests are skipped, naming what is missing. */
#define _GNU_SOURCE /* setenv, unsetenv */
// clang-format off: cmocka needs these first, in this order.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on

#include <dlfcn.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/plugin_harness.h"
#include "weft/abi/dtype.h"
#include "weft/buffer.h"
#include "weft/runtime.h"

/* Whether the Vulkan loader library can be opened at all. */
static bool vulkan_test_loader_present(void) {
  void* library = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    return false;
  }
  dlclose(library);
  return true;
}

/* Whether Mesa's lavapipe driver manifest is installed where the loader
 * looks by default. */
static bool vulkan_test_lavapipe_installed(void) {
  static const char* const kPatterns[] = {
      "/usr/share/vulkan/icd.d/lvp_icd*.json",
      "/usr/local/share/vulkan/icd.d/lvp_icd*.json",
      "/etc/vulkan/icd.d/lvp_icd*.json",
  };
  for (size_t i = 0; i < sizeof(kPatterns) / sizeof(kPatterns[0]); ++i) {
    glob_t matches;
    int found = glob(kPatterns[i], 0, NULL, &matches) == 0 && matches.gl_pathc > 0;
    globfree(&matches);
    if (found) {
      return true;
    }
  }
  return false;
}

/* The first device of the vulkan plugin whose name contains `name` (any
 * device when NULL), or NULL. */
static weft_device_t* vulkan_test_device_find(const weft_runtime_t* runtime, const char* name) {
  for (size_t i = 0; i < weft_runtime_device_count(runtime); ++i) {
    weft_device_t* device = weft_runtime_device_get(runtime, i);
    weft_device_info_t info;
    weft_device_info_get(device, &info);
    if (strcmp(info.plugin, "vulkan") == 0 &&
        (name == NULL || plugin_harness_contains(info.caps->name, name))) {
      return device;
    }
  }
  return NULL;
}

/* Skips the calling test unless the plugin is active here; fails when
 * lavapipe is installed but the plugin does not show it. */
static weft_device_t* vulkan_test_device_require(const weft_runtime_t* runtime,
                                                 const weft_plugin_record_t* record) {
  if (record->outcome != WEFT_PLUGIN_OUTCOME_ACTIVE) {
    if (vulkan_test_lavapipe_installed()) {
      fail_msg("lavapipe is installed but the vulkan plugin is %s at %s: %s",
               weft_plugin_outcome_name((weft_plugin_outcome_t)record->outcome),
               weft_plugin_stage_name((weft_plugin_stage_t)record->stage), record->reason);
    }
    fprintf(stderr, "skipped: no Vulkan device here: %s\n", record->reason);
    return NULL;
  }
  weft_device_t* device = vulkan_test_device_find(runtime, "llvmpipe");
  if (device == NULL) {
    device = vulkan_test_device_find(runtime, NULL);
  }
  assert_non_null(device);
  return device;
}

static void test_vulkan_no_driver_is_unavailable(void** state) {
  (void)state;
  if (!vulkan_test_loader_present()) {
    fprintf(stderr, "skipped: libvulkan.so.1 is not installed, so no driver can be "
                    "hidden from it\n");
    skip();
  }
  /* VK_ICD_FILENAMES (loaders before 1.3.207) and VK_DRIVER_FILES (newer)
   * replace the driver search with one manifest that does not exist. */
  static const char* const kEnv[] = {
      "VK_ICD_FILENAMES=/nonexistent/weft-test-no-such-icd.json",
      "VK_DRIVER_FILES=/nonexistent/weft-test-no-such-icd.json",
      NULL,
  };
  char output[2048];
  int code = plugin_harness_child_run("expect-unavailable", "no Vulkan driver", kEnv, output,
                                      sizeof(output));
  fprintf(stderr, "child: %s", output);
  assert_int_equal(code, 0);
  assert_true(plugin_harness_contains(output, "outcome=unavailable"));
}

static void test_vulkan_devices_have_real_caps(void** state) {
  (void)state;
  weft_test_allocator_t allocator;
  assert_true(weft_test_allocator_init(&allocator));
  const char* path = plugin_harness_plugin_path("vulkan");
  weft_runtime_t* runtime = plugin_harness_runtime_create(path, &allocator);
  const weft_plugin_record_t* record = plugin_harness_record_get(runtime, path);
  assert_string_equal(record->name, "vulkan");
  weft_device_t* chosen = vulkan_test_device_require(runtime, record);
  if (chosen == NULL) {
    weft_runtime_destroy(runtime);
    weft_test_allocator_deinit(&allocator);
    skip();
  }
  assert_true(record->device_count >= 1);

  size_t vulkan_devices = 0;
  bool llvmpipe_seen = false;
  for (size_t i = 0; i < weft_runtime_device_count(runtime); ++i) {
    weft_device_t* device = weft_runtime_device_get(runtime, i);
    weft_device_info_t info;
    weft_device_info_get(device, &info);
    if (strcmp(info.plugin, "vulkan") != 0) {
      continue;
    }
    ++vulkan_devices;
    const weft_device_caps_t* caps = info.caps;
    fprintf(stderr,
            "%s: '%s' type=%s vendor='%s' driver='%s' stable_id=%s memory=%llu "
            "flags=0x%x score=%d features='%s'\n",
            info.id, caps->name, weft_device_type_name((weft_device_type_t)caps->type),
            caps->vendor, caps->driver, caps->stable_id,
            (unsigned long long)caps->memory_total, caps->flags, caps->score,
            caps->features_text);
    assert_true(strncmp(info.id, "vulkan:", 7) == 0);
    assert_true(caps->name[0] != '\0');
    assert_true(caps->vendor[0] != '\0');
    assert_true(caps->driver[0] != '\0');
    assert_true(caps->stable_id[0] != '\0');
    assert_true(caps->memory_total > 0);
    assert_true((caps->flags & WEFT_DEVICE_FLAG_HAS_UUID) != 0);
    assert_true((caps->dtypes & WEFT_DTYPE_BIT(WEFT_DTYPE_F32)) != 0);
    assert_true((caps->dtypes & WEFT_DTYPE_BIT(WEFT_DTYPE_F16)) != 0);
    assert_true((caps->dtypes & WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_0)) != 0);
    assert_true((caps->dtypes & WEFT_DTYPE_BIT(WEFT_DTYPE_Q6_K)) != 0);
    assert_non_null(strstr(caps->features_text, "vulkan1."));
    if (plugin_harness_contains(caps->name, "llvmpipe")) {
      /* lavapipe: a CPU implementation of Vulkan (docs/abi.md, "Scores"). */
      llvmpipe_seen = true;
      assert_int_equal(caps->type, WEFT_DEVICE_TYPE_VIRTUAL);
      assert_int_equal(caps->score, 50);
      assert_true((caps->flags & WEFT_DEVICE_FLAG_UNIFIED_MEMORY) != 0);
      assert_true((caps->flags & WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL) != 0);
      assert_string_equal(caps->vendor, "Mesa");
      assert_non_null(strstr(caps->features_text, "subgroup="));
    }
    if (caps->type == WEFT_DEVICE_TYPE_GPU) {
      assert_true(caps->score >= 500);
    }
    uint64_t free_bytes = 0;
    uint64_t total_bytes = 0;
    weft_status_t status = weft_device_memory_query(device, &free_bytes, &total_bytes);
    if (status != WEFT_OK) {
      fail_msg("weft_device_memory_query(%s): %s", info.id, weft_status_message(status));
    }
    assert_int_equal(total_bytes, caps->memory_total);
    assert_true(free_bytes <= total_bytes);
  }
  assert_int_equal(vulkan_devices, record->device_count);
  if (vulkan_test_lavapipe_installed()) {
    assert_true(llvmpipe_seen);
  }
  weft_runtime_destroy(runtime);
  /* Everything the plugin allocated through the host came back. */
  weft_test_allocator_stats_t stats = weft_test_allocator_stats(&allocator);
  assert_int_equal(stats.live_count, 0);
  weft_test_allocator_deinit(&allocator);
}

static void test_vulkan_buffer_round_trip(void** state) {
  (void)state;
  weft_test_allocator_t allocator;
  assert_true(weft_test_allocator_init(&allocator));
  const char* path = plugin_harness_plugin_path("vulkan");
  weft_runtime_t* runtime = plugin_harness_runtime_create(path, &allocator);
  const weft_plugin_record_t* record = plugin_harness_record_get(runtime, path);
  weft_device_t* device = vulkan_test_device_require(runtime, record);
  if (device == NULL) {
    weft_runtime_destroy(runtime);
    weft_test_allocator_deinit(&allocator);
    skip();
  }
  plugin_harness_round_trip(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 64 * 1024 + 7, 1);
  plugin_harness_round_trip(device, WEFT_MEMORY_TYPE_HOST_VISIBLE, 64 * 1024, 2);
  plugin_harness_expect_no_kernels(device);
  weft_runtime_destroy(runtime);
  weft_test_allocator_stats_t stats = weft_test_allocator_stats(&allocator);
  assert_int_equal(stats.live_count, 0);
  weft_test_allocator_deinit(&allocator);
}

typedef struct vulkan_test_log_t {
  bool staged;
} vulkan_test_log_t;

static void vulkan_test_log(void* user, weft_log_level_t level, const char* source,
                            const char* message) {
  vulkan_test_log_t* log = user;
  if (strcmp(source, "vulkan") == 0 && strstr(message, "transfers always staged") != NULL) {
    log->staged = true;
  }
  if (level <= WEFT_LOG_LEVEL_WARN) {
    fprintf(stderr, "[weft %s] %s: %s\n", weft_log_level_name(level), source, message);
  }
}

/* The discrete-GPU path (device-local memory the host cannot map, written
 * and read through the staging buffer in pieces) on whatever device is
 * here: WEFT_VULKAN_STAGING=always makes the plugin stage even where memory
 * is host-visible. The size exceeds the 4 MiB staging buffer. */
static void test_vulkan_buffer_round_trip_staged(void** state) {
  (void)state;
  /* Honour the environment for WEFT_VULKAN_STAGING only: clear what else
   * would change the runtime. */
  static const char* const kClear[] = {"WEFT_PLUGIN_PATH", "WEFT_PLUGINS_ONLY",
                                       "WEFT_PLUGINS_DISABLE", "WEFT_DEVICE"};
  for (size_t i = 0; i < sizeof(kClear) / sizeof(kClear[0]); ++i) {
    unsetenv(kClear[i]);
  }
  setenv("WEFT_VULKAN_STAGING", "always", 1);
  const char* path = plugin_harness_plugin_path("vulkan");
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  const char* paths[1] = {path};
  vulkan_test_log_t log = {false};
  options.flags = WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  options.plugin_paths = paths;
  options.plugin_path_count = 1;
  options.log_fn = vulkan_test_log;
  options.log_user = &log;
  options.log_level = WEFT_LOG_LEVEL_DEBUG;
  weft_runtime_t* runtime = NULL;
  weft_status_t status = weft_runtime_create(&options, weft_allocator_system(), &runtime);
  unsetenv("WEFT_VULKAN_STAGING");
  if (status != WEFT_OK) {
    fail_msg("weft_runtime_create: %s", weft_status_message(status));
  }
  const weft_plugin_record_t* record = plugin_harness_record_get(runtime, path);
  weft_device_t* device = vulkan_test_device_require(runtime, record);
  if (device == NULL) {
    weft_runtime_destroy(runtime);
    skip();
  }
  assert_true(log.staged);
  plugin_harness_round_trip(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, (5u << 20) + 12345, 3);
  weft_runtime_destroy(runtime);
}

/* Every allocation the plugin makes through the host can fail without a
 * leak, a crash or a wrong answer (see plugin_harness_allocation_sweep). */
static void test_vulkan_allocation_failures(void** state) {
  (void)state;
  uint64_t runs =
      plugin_harness_allocation_sweep(plugin_harness_plugin_path("vulkan"), "vulkan");
  if (runs == 0) {
    fprintf(stderr, "skipped: no vulkan device here\n");
    skip();
  }
  fprintf(stderr, "%llu runs, each failing one more allocation\n", (unsigned long long)runs);
}

int main(int argc, char** argv) {
  if (argc >= 4 && strcmp(argv[1], "--child") == 0 &&
      strcmp(argv[2], "expect-unavailable") == 0) {
    return plugin_harness_child_expect_unavailable(plugin_harness_plugin_path("vulkan"),
                                                   argv[3]);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vulkan_no_driver_is_unavailable),
      cmocka_unit_test(test_vulkan_devices_have_real_caps),
      cmocka_unit_test(test_vulkan_buffer_round_trip),
      cmocka_unit_test(test_vulkan_allocation_failures),
      cmocka_unit_test(test_vulkan_buffer_round_trip_staged),
  };
  return cmocka_run_group_tests_name("vulkan plugin", tests, NULL, NULL);
}
