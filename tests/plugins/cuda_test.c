/* The CUDA plugin against the NVIDIA driver of this machine, if any: without
 * libcuda.so.1 the plugin must load and report "unavailable" with a reason
 * naming the library; with a GPU its devices must carry real capabilities
 * and a buffer round trip must pass. Where there is no GPU the device tests
 * are skipped, never passed. */
// clang-format off: cmocka needs these first, in this order.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "plugins/plugin_harness.h"
#include "weft/abi/dtype.h"
#include "weft/buffer.h"
#include "weft/runtime.h"

static bool cuda_test_driver_present(void) {
  void* library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (library == NULL) {
    return false;
  }
  dlclose(library);
  return true;
}

/* Without the driver library the plugin still loads and says which file is
 * missing; with it, the record is either active or names the reason. */
static void test_cuda_probe_outcome(void** state) {
  (void)state;
  const char* path = plugin_harness_plugin_path("cuda");
  weft_runtime_t* runtime = plugin_harness_runtime_create(path, NULL);
  const weft_plugin_record_t* record = plugin_harness_record_get(runtime, path);
  fprintf(stderr, "cuda plugin: outcome=%s stage=%s reason=%s\n",
          weft_plugin_outcome_name((weft_plugin_outcome_t)record->outcome),
          weft_plugin_stage_name((weft_plugin_stage_t)record->stage), record->reason);
  /* The plugin file loaded and negotiated: its info is in the record. */
  assert_string_equal(record->name, "cuda");
  assert_int_equal(record->abi_version >> 16, 1);
  if (!cuda_test_driver_present()) {
    assert_int_equal(record->outcome, WEFT_PLUGIN_OUTCOME_UNAVAILABLE);
    assert_int_equal(record->stage, WEFT_PLUGIN_STAGE_PROBE);
    assert_non_null(strstr(record->reason, "libcuda.so.1"));
    assert_true(plugin_harness_contains(record->reason, "NVIDIA driver"));
    assert_int_equal(record->device_count, 0);
  } else if (record->outcome != WEFT_PLUGIN_OUTCOME_ACTIVE) {
    assert_int_equal(record->outcome, WEFT_PLUGIN_OUTCOME_UNAVAILABLE);
    assert_true(record->reason[0] != '\0');
  }
  weft_runtime_destroy(runtime);
}

static weft_device_t* cuda_test_device_first(const weft_runtime_t* runtime) {
  for (size_t i = 0; i < weft_runtime_device_count(runtime); ++i) {
    weft_device_t* device = weft_runtime_device_get(runtime, i);
    weft_device_info_t info;
    weft_device_info_get(device, &info);
    if (strcmp(info.plugin, "cuda") == 0) {
      return device;
    }
  }
  return NULL;
}

static void test_cuda_devices_and_round_trip(void** state) {
  (void)state;
  weft_test_allocator_t allocator;
  assert_true(weft_test_allocator_init(&allocator));
  const char* path = plugin_harness_plugin_path("cuda");
  weft_runtime_t* runtime = plugin_harness_runtime_create(path, &allocator);
  const weft_plugin_record_t* record = plugin_harness_record_get(runtime, path);
  weft_device_t* device = cuda_test_device_first(runtime);
  if (record->outcome != WEFT_PLUGIN_OUTCOME_ACTIVE || device == NULL) {
    fprintf(stderr, "skipped: no CUDA device here: %s\n", record->reason);
    weft_runtime_destroy(runtime);
    weft_test_allocator_deinit(&allocator);
    skip();
  }
  for (size_t i = 0; i < weft_runtime_device_count(runtime); ++i) {
    weft_device_info_t info;
    weft_device_info_get(weft_runtime_device_get(runtime, i), &info);
    if (strcmp(info.plugin, "cuda") != 0) {
      continue;
    }
    const weft_device_caps_t* caps = info.caps;
    fprintf(stderr, "%s: '%s' driver='%s' stable_id=%s memory=%llu units=%u features='%s'\n",
            info.id, caps->name, caps->driver, caps->stable_id,
            (unsigned long long)caps->memory_total, caps->compute_units, caps->features_text);
    assert_string_equal(caps->vendor, "NVIDIA");
    assert_int_equal(caps->vendor_id, 0x10DE);
    assert_true((caps->flags & WEFT_DEVICE_FLAG_HAS_UUID) != 0);
    assert_true(strncmp(caps->stable_id, "pci:", 4) == 0);
    assert_true(caps->memory_total > 0);
    assert_true(caps->compute_units > 0);
    assert_non_null(strstr(caps->features_text, "sm_"));
    assert_true((caps->dtypes & WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_K)) != 0);
  }
  uint64_t free_bytes = 0;
  uint64_t total_bytes = 0;
  weft_status_t status = weft_device_memory_query(device, &free_bytes, &total_bytes);
  if (status != WEFT_OK) {
    fail_msg("weft_device_memory_query: %s", weft_status_message(status));
  }
  assert_true(total_bytes > 0);
  assert_true(free_bytes > 0 && free_bytes <= total_bytes);
  plugin_harness_round_trip(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 64 * 1024 + 7, 21);
  plugin_harness_round_trip(device, WEFT_MEMORY_TYPE_HOST_VISIBLE, 64 * 1024, 22);
  plugin_harness_expect_no_kernels(device);
  weft_runtime_destroy(runtime);
  weft_test_allocator_stats_t stats = weft_test_allocator_stats(&allocator);
  assert_int_equal(stats.live_count, 0);
  weft_test_allocator_deinit(&allocator);
}

/* Every allocation the plugin makes through the host can fail without a
 * leak, a crash or a wrong answer (see plugin_harness_allocation_sweep). */
static void test_cuda_allocation_failures(void** state) {
  (void)state;
  uint64_t runs = plugin_harness_allocation_sweep(plugin_harness_plugin_path("cuda"), "cuda");
  if (runs == 0) {
    fprintf(stderr, "skipped: no CUDA device here\n");
    skip();
  }
  fprintf(stderr, "%llu runs, each failing one more allocation\n", (unsigned long long)runs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cuda_probe_outcome),
      cmocka_unit_test(test_cuda_devices_and_round_trip),
      cmocka_unit_test(test_cuda_allocation_failures),
  };
  return cmocka_run_group_tests_name("cuda plugin", tests, NULL, NULL);
}
