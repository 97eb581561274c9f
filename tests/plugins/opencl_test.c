/* The OpenCL plugin against the real OpenCL stack of this machine: devices
 * with their capabilities, a buffer round trip, and an ICD loader without
 * drivers reported as "unavailable" with a reason.
 *
 * On a machine with PoCL installed (pocl-opencl-icd) at least one device
 * must appear; where no ICD loader or driver is installed at all the device
 * tests are skipped, naming what is missing. */
#define _GNU_SOURCE /* mkdtemp */
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
#include <unistd.h>

#include "plugins/plugin_harness.h"
#include "weft/abi/dtype.h"
#include "weft/buffer.h"
#include "weft/runtime.h"

static bool opencl_test_loader_present(void) {
  void* library = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    return false;
  }
  dlclose(library);
  return true;
}

/* Whether PoCL's ICD file is where the ICD loader looks by default. */
static bool opencl_test_pocl_installed(void) {
  glob_t matches;
  bool found = glob("/etc/OpenCL/vendors/pocl*.icd", 0, NULL, &matches) == 0 &&
               matches.gl_pathc > 0;
  globfree(&matches);
  return found;
}

static weft_device_t* opencl_test_device_first(const weft_runtime_t* runtime) {
  for (size_t i = 0; i < weft_runtime_device_count(runtime); ++i) {
    weft_device_t* device = weft_runtime_device_get(runtime, i);
    weft_device_info_t info;
    weft_device_info_get(device, &info);
    if (strcmp(info.plugin, "opencl") == 0) {
      return device;
    }
  }
  return NULL;
}

/* Skips the calling test unless the plugin is active here; fails when PoCL
 * is installed but the plugin does not show a device. */
static weft_device_t* opencl_test_device_require(const weft_runtime_t* runtime,
                                                 const weft_plugin_record_t* record) {
  if (record->outcome != WEFT_PLUGIN_OUTCOME_ACTIVE) {
    if (opencl_test_pocl_installed()) {
      fail_msg("PoCL is installed but the opencl plugin is %s at %s: %s",
               weft_plugin_outcome_name((weft_plugin_outcome_t)record->outcome),
               weft_plugin_stage_name((weft_plugin_stage_t)record->stage), record->reason);
    }
    fprintf(stderr, "skipped: no OpenCL device here: %s\n", record->reason);
    return NULL;
  }
  weft_device_t* device = opencl_test_device_first(runtime);
  assert_non_null(device);
  return device;
}

static void test_opencl_no_platform_is_unavailable(void** state) {
  (void)state;
  if (!opencl_test_loader_present()) {
    fprintf(stderr, "skipped: libOpenCL.so.1 is not installed, so no driver can be "
                    "hidden from it\n");
    skip();
  }
  /* OCL_ICD_VENDORS replaces /etc/OpenCL/vendors for both ocl-icd and the
   * Khronos ICD loader; an empty directory leaves them without a driver. */
  char empty[] = "/tmp/weft-opencl-test-XXXXXX";
  assert_non_null(mkdtemp(empty));
  char variable[128];
  snprintf(variable, sizeof(variable), "OCL_ICD_VENDORS=%s", empty);
  const char* env[] = {variable, NULL};
  char output[2048];
  int code = plugin_harness_child_run("expect-unavailable", "no OpenCL platform", env, output,
                                      sizeof(output));
  rmdir(empty);
  fprintf(stderr, "child: %s", output);
  assert_int_equal(code, 0);
  assert_true(plugin_harness_contains(output, "outcome=unavailable"));
}

static void test_opencl_devices_have_real_caps(void** state) {
  (void)state;
  weft_test_allocator_t allocator;
  assert_true(weft_test_allocator_init(&allocator));
  const char* path = plugin_harness_plugin_path("opencl");
  weft_runtime_t* runtime = plugin_harness_runtime_create(path, &allocator);
  const weft_plugin_record_t* record = plugin_harness_record_get(runtime, path);
  assert_string_equal(record->name, "opencl");
  if (opencl_test_device_require(runtime, record) == NULL) {
    weft_runtime_destroy(runtime);
    weft_test_allocator_deinit(&allocator);
    skip();
  }
  assert_true(record->device_count >= 1);
  size_t opencl_devices = 0;
  for (size_t i = 0; i < weft_runtime_device_count(runtime); ++i) {
    weft_device_t* device = weft_runtime_device_get(runtime, i);
    weft_device_info_t info;
    weft_device_info_get(device, &info);
    if (strcmp(info.plugin, "opencl") != 0) {
      continue;
    }
    ++opencl_devices;
    const weft_device_caps_t* caps = info.caps;
    fprintf(stderr,
            "%s: '%s' type=%s vendor='%s' driver='%s' stable_id=%s memory=%llu "
            "units=%u flags=0x%x score=%d features='%s'\n",
            info.id, caps->name, weft_device_type_name((weft_device_type_t)caps->type),
            caps->vendor, caps->driver, caps->stable_id,
            (unsigned long long)caps->memory_total, caps->compute_units, caps->flags,
            caps->score, caps->features_text);
    assert_true(strncmp(info.id, "opencl:", 7) == 0);
    assert_true(caps->name[0] != '\0');
    assert_true(caps->vendor[0] != '\0');
    assert_true(caps->driver[0] != '\0');
    assert_true(caps->stable_id[0] != '\0');
    assert_true(caps->memory_total > 0);
    assert_true(caps->compute_units >= 1);
    assert_true((caps->dtypes & WEFT_DTYPE_BIT(WEFT_DTYPE_F32)) != 0);
    assert_true((caps->dtypes & WEFT_DTYPE_BIT(WEFT_DTYPE_Q8_0)) != 0);
    assert_non_null(strstr(caps->features_text, "opencl"));
    if (caps->type == WEFT_DEVICE_TYPE_VIRTUAL) {
      /* A CPU device (PoCL): below every CPU backend (docs/abi.md, "Scores"). */
      assert_int_equal(caps->score, 50);
      assert_true((caps->flags & WEFT_DEVICE_FLAG_UNIFIED_MEMORY) != 0);
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
  assert_int_equal(opencl_devices, record->device_count);
  weft_runtime_destroy(runtime);
  weft_test_allocator_stats_t stats = weft_test_allocator_stats(&allocator);
  assert_int_equal(stats.live_count, 0);
  weft_test_allocator_deinit(&allocator);
}

static void test_opencl_buffer_round_trip(void** state) {
  (void)state;
  weft_test_allocator_t allocator;
  assert_true(weft_test_allocator_init(&allocator));
  const char* path = plugin_harness_plugin_path("opencl");
  weft_runtime_t* runtime = plugin_harness_runtime_create(path, &allocator);
  const weft_plugin_record_t* record = plugin_harness_record_get(runtime, path);
  weft_device_t* device = opencl_test_device_require(runtime, record);
  if (device == NULL) {
    weft_runtime_destroy(runtime);
    weft_test_allocator_deinit(&allocator);
    skip();
  }
  plugin_harness_round_trip(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 64 * 1024 + 7, 11);
  plugin_harness_round_trip(device, WEFT_MEMORY_TYPE_HOST_VISIBLE, 64 * 1024, 12);
  plugin_harness_expect_no_kernels(device);
  weft_runtime_destroy(runtime);
  weft_test_allocator_stats_t stats = weft_test_allocator_stats(&allocator);
  assert_int_equal(stats.live_count, 0);
  weft_test_allocator_deinit(&allocator);
}

/* Every allocation the plugin makes through the host can fail without a
 * leak, a crash or a wrong answer (see plugin_harness_allocation_sweep). */
static void test_opencl_allocation_failures(void** state) {
  (void)state;
  uint64_t runs =
      plugin_harness_allocation_sweep(plugin_harness_plugin_path("opencl"), "opencl");
  if (runs == 0) {
    fprintf(stderr, "skipped: no opencl device here\n");
    skip();
  }
  fprintf(stderr, "%llu runs, each failing one more allocation\n", (unsigned long long)runs);
}

int main(int argc, char** argv) {
  if (argc >= 4 && strcmp(argv[1], "--child") == 0 &&
      strcmp(argv[2], "expect-unavailable") == 0) {
    return plugin_harness_child_expect_unavailable(plugin_harness_plugin_path("opencl"),
                                                   argv[3]);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_opencl_no_platform_is_unavailable),
      cmocka_unit_test(test_opencl_devices_have_real_caps),
      cmocka_unit_test(test_opencl_buffer_round_trip),
      cmocka_unit_test(test_opencl_allocation_failures),
  };
  return cmocka_run_group_tests_name("opencl plugin", tests, NULL, NULL);
}
