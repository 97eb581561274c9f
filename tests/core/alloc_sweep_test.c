/* Allocation-failure sweeps (the SQLite discipline): fail allocation number
 * N, for N = 0, 1, 2, ... until an operation completes without reaching the
 * failure, and check every time that the operation either succeeds or says
 * OUT_OF_MEMORY with a message, and that nothing it allocated is left behind.
 * AddressSanitizer (the suite's default build) catches the double frees and
 * use-after-frees a bad cleanup path would cause.
 *
 * Plugins allocate through the host services, so a failure can land inside a
 * plugin too: runtime creation then still succeeds, with that plugin
 * recorded as skipped (OUT_OF_MEMORY), as for any broken plugin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testing/runtime_fixture.h"
#include "testing/test_allocator.h"
#include "weft/weft.h"

/* Far more than any sweep here needs; reaching it means the sweep does not
 * converge (an operation that allocates without bound). */
#define SWEEP_LIMIT 100000u

static void assert_clean(weft_test_allocator_t* ta, uint64_t n,
                         uint64_t want_live) {
  weft_test_allocator_stats_t stats = weft_test_allocator_stats(ta);
  if (stats.live_count != want_live) {
    fail_msg("failing allocation %llu: %llu blocks (%llu bytes) live, "
             "expected %llu",
             (unsigned long long)n, (unsigned long long)stats.live_count,
             (unsigned long long)stats.live_bytes,
             (unsigned long long)want_live);
  }
  if (stats.foreign_frees != 0 || stats.bad_alignment != 0) {
    fail_msg("failing allocation %llu: %llu frees of unknown pointers, %llu "
             "bad alignments",
             (unsigned long long)n, (unsigned long long)stats.foreign_frees,
             (unsigned long long)stats.bad_alignment);
  }
}

static void assert_oom(weft_status_t status, uint64_t n, const char* what) {
  if (weft_status_code(status) != WEFT_STATUS_OUT_OF_MEMORY) {
    fail_msg("%s, failing allocation %llu: expected OK or OUT_OF_MEMORY, got "
             "%s: %s",
             what, (unsigned long long)n,
             weft_status_code_name(weft_status_code(status)),
             weft_status_message(status));
  }
  const char* message = weft_status_message(status);
  assert_non_null(message);
  assert_true(message[0] != '\0');
}

static int setup_env(void** state) {
  (void)state;
  weft_test_env_clear();
  return 0;
}

/* The records of a run without failures, to compare against. */
typedef struct baseline_t {
  size_t records;
  size_t devices;
} baseline_t;

static baseline_t baseline_of(const weft_runtime_options_t* options) {
  weft_runtime_t* runtime = NULL;
  weft_status_t status =
      weft_runtime_create(options, weft_allocator_system(), &runtime);
  if (status != WEFT_OK) fail_msg("%s", weft_status_message(status));
  baseline_t b = {weft_runtime_plugin_count(runtime),
                  weft_runtime_device_count(runtime)};
  weft_runtime_destroy(runtime);
  return b;
}

static void test_runtime_create_sweep(void** state) {
  (void)state;
  const char* paths[] = {WEFT_ZOO_DIR};
  weft_runtime_options_t options = weft_test_options(paths, 1, WEFT_TEST_ISOLATED);
  const baseline_t baseline = baseline_of(&options);
  assert_true(baseline.records > 10);

  uint64_t n = 0;
  uint64_t failed_creates = 0, degraded = 0;
  for (;; ++n) {
    assert_true(n < SWEEP_LIMIT);
    weft_test_allocator_t ta;
    assert_true(weft_test_allocator_init(&ta));
    weft_test_allocator_fail_at(&ta, n);
    weft_runtime_t* runtime = (weft_runtime_t*)(uintptr_t)1;
    weft_status_t status =
        weft_runtime_create(&options, weft_test_allocator_get(&ta), &runtime);
    const bool hit = weft_test_allocator_stats(&ta).failure_hit;
    weft_test_allocator_fail_at(&ta, WEFT_TEST_ALLOCATOR_NEVER);
    if (status != WEFT_OK) {
      assert_true(hit); /* no failure without a cause */
      assert_oom(status, n, "weft_runtime_create");
      assert_null(runtime);
      weft_status_free(status);
      ++failed_creates;
    } else {
      assert_non_null(runtime);
      /* A failure inside a plugin is that plugin's record; every file still
       * has exactly one. */
      assert_int_equal(weft_runtime_plugin_count(runtime), baseline.records);
      for (size_t i = 0; i < baseline.records; ++i) {
        const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
        assert_non_null(record->path);
        assert_non_null(record->reason);
        assert_non_null(record->name);
        if (record->status_code == WEFT_STATUS_OUT_OF_MEMORY) {
          assert_int_equal(record->outcome, WEFT_PLUGIN_OUTCOME_SKIPPED);
          assert_true(record->reason[0] != '\0');
        }
      }
      if (weft_runtime_device_count(runtime) != baseline.devices) ++degraded;
      weft_runtime_destroy(runtime);
    }
    assert_clean(&ta, n, 0);
    weft_test_allocator_deinit(&ta);
    if (!hit) break;
  }
  print_message("runtime create: %llu allocation points, %llu failed "
                "creations, %llu degraded runtimes\n",
                (unsigned long long)n, (unsigned long long)failed_creates,
                (unsigned long long)degraded);
  assert_true(n > 10);
  assert_true(failed_creates > 0);
}

/* weft_runtime_plugins_load after creation: a failure leaves the runtime as
 * it was and usable, or adds its records. */
static void test_plugins_load_sweep(void** state) {
  (void)state;
  weft_test_path_t high = weft_test_zoo_path("libweft-zoo-variant-high.so");
  uint64_t n = 0;
  for (;; ++n) {
    assert_true(n < SWEEP_LIMIT);
    weft_test_allocator_t ta;
    assert_true(weft_test_allocator_init(&ta));
    weft_runtime_options_t options = weft_test_options(NULL, 0, WEFT_TEST_ISOLATED);
    weft_runtime_t* runtime = NULL;
    assert_null(weft_runtime_create(&options, weft_test_allocator_get(&ta),
                                    &runtime));
    weft_test_allocator_fail_after(&ta, n);
    weft_status_t status = weft_runtime_plugins_load(runtime, high.text);
    const bool hit = weft_test_allocator_stats(&ta).failure_hit;
    weft_test_allocator_fail_at(&ta, WEFT_TEST_ALLOCATOR_NEVER);
    if (status != WEFT_OK) {
      assert_true(hit);
      assert_oom(status, n, "weft_runtime_plugins_load");
      weft_status_free(status);
    }
    /* Usable either way: the reference device still works. */
    weft_device_t* cpu = NULL;
    assert_null(weft_runtime_device_find(runtime, "cpu-ref:0", &cpu));
    weft_buffer_t* buffer = NULL;
    assert_null(weft_buffer_create(cpu, WEFT_MEMORY_TYPE_HOST_VISIBLE, 64,
                                   &buffer));
    weft_buffer_destroy(buffer);
    weft_runtime_destroy(runtime);
    assert_clean(&ta, n, 0);
    weft_test_allocator_deinit(&ta);
    if (!hit) break;
  }
  assert_true(n > 3);
}

/* Buffer creation on the reference device, the first one (which opens the
 * device) and later ones. */
static void test_buffer_create_sweep(void** state) {
  (void)state;
  enum { kSize = 1 << 16 };
  static uint8_t pattern[kSize];
  static uint8_t back[kSize];
  for (size_t i = 0; i < kSize; ++i) pattern[i] = (uint8_t)(i * 31 + 5);

  /* First use: a fresh runtime each time. */
  uint64_t n = 0;
  for (;; ++n) {
    assert_true(n < SWEEP_LIMIT);
    weft_test_allocator_t ta;
    assert_true(weft_test_allocator_init(&ta));
    weft_runtime_options_t options = weft_test_options(NULL, 0, WEFT_TEST_ISOLATED);
    weft_runtime_t* runtime = NULL;
    assert_null(weft_runtime_create(&options, weft_test_allocator_get(&ta),
                                    &runtime));
    weft_device_t* cpu = NULL;
    assert_null(weft_runtime_device_find(runtime, "cpu-ref:0", &cpu));
    weft_test_allocator_fail_after(&ta, n);
    weft_buffer_t* buffer = (weft_buffer_t*)(uintptr_t)1;
    weft_status_t status =
        weft_buffer_create(cpu, WEFT_MEMORY_TYPE_HOST_VISIBLE, kSize, &buffer);
    const bool hit = weft_test_allocator_stats(&ta).failure_hit;
    weft_test_allocator_fail_at(&ta, WEFT_TEST_ALLOCATOR_NEVER);
    if (status != WEFT_OK) {
      assert_true(hit);
      assert_oom(status, n, "weft_buffer_create (first)");
      assert_null(buffer);
      weft_status_free(status);
    } else {
      assert_null(weft_buffer_write(buffer, 0, pattern, kSize));
      assert_null(weft_buffer_read(buffer, 0, back, kSize));
      assert_memory_equal(pattern, back, kSize);
      weft_buffer_destroy(buffer);
    }
    weft_runtime_destroy(runtime);
    assert_clean(&ta, n, 0);
    weft_test_allocator_deinit(&ta);
    if (!hit) break;
  }
  assert_true(n >= 2);

  /* Later buffers: the device is open; each attempt returns to where it
   * started. */
  weft_test_allocator_t ta;
  assert_true(weft_test_allocator_init(&ta));
  weft_runtime_options_t options = weft_test_options(NULL, 0, WEFT_TEST_ISOLATED);
  weft_runtime_t* runtime = NULL;
  assert_null(weft_runtime_create(&options, weft_test_allocator_get(&ta),
                                  &runtime));
  weft_device_t* cpu = NULL;
  assert_null(weft_runtime_device_find(runtime, "cpu-ref:0", &cpu));
  weft_buffer_t* keep = NULL;
  assert_null(weft_buffer_create(cpu, WEFT_MEMORY_TYPE_HOST_VISIBLE, 64, &keep));
  const uint64_t live = weft_test_allocator_stats(&ta).live_count;
  for (n = 0;; ++n) {
    assert_true(n < SWEEP_LIMIT);
    weft_test_allocator_fail_after(&ta, n);
    weft_buffer_t* buffer = NULL;
    weft_status_t status =
        weft_buffer_create(cpu, WEFT_MEMORY_TYPE_DEVICE_LOCAL, kSize, &buffer);
    const bool hit = weft_test_allocator_stats(&ta).failure_hit;
    weft_test_allocator_fail_at(&ta, WEFT_TEST_ALLOCATOR_NEVER);
    if (status != WEFT_OK) {
      assert_true(hit);
      assert_oom(status, n, "weft_buffer_create (open device)");
      assert_null(buffer);
      weft_status_free(status);
    } else {
      assert_null(weft_buffer_write(buffer, 0, pattern, kSize));
      assert_null(weft_buffer_read(buffer, 0, back, kSize));
      assert_memory_equal(pattern, back, kSize);
      weft_buffer_destroy(buffer);
    }
    assert_clean(&ta, n, live);
    if (!hit) break;
  }
  assert_true(n >= 2);
  weft_test_allocator_fail_at(&ta, WEFT_TEST_ALLOCATOR_NEVER);
  weft_buffer_destroy(keep);
  weft_runtime_destroy(runtime);
  assert_clean(&ta, n, 0);
  weft_test_allocator_deinit(&ta);
}

/* The same for a plugin loaded from a file (the zoo's ABI 1.0 device). */
static void test_plugin_buffer_sweep(void** state) {
  (void)state;
  weft_test_path_t old = weft_test_zoo_path("libweft-zoo-oldminor.so");
  const char* paths[] = {old.text};
  uint64_t n = 0;
  for (;; ++n) {
    assert_true(n < SWEEP_LIMIT);
    weft_test_allocator_t ta;
    assert_true(weft_test_allocator_init(&ta));
    weft_runtime_options_t options = weft_test_options(paths, 1, WEFT_TEST_ISOLATED);
    weft_runtime_t* runtime = NULL;
    assert_null(weft_runtime_create(&options, weft_test_allocator_get(&ta),
                                    &runtime));
    weft_device_t* device = NULL;
    assert_null(weft_runtime_device_find(runtime, "zoo-oldminor:0", &device));
    weft_test_allocator_fail_after(&ta, n);
    weft_buffer_t* buffer = NULL;
    weft_status_t status =
        weft_buffer_create(device, WEFT_MEMORY_TYPE_HOST_VISIBLE, 4096, &buffer);
    const bool hit = weft_test_allocator_stats(&ta).failure_hit;
    weft_test_allocator_fail_at(&ta, WEFT_TEST_ALLOCATOR_NEVER);
    if (status != WEFT_OK) {
      assert_true(hit);
      assert_oom(status, n, "weft_buffer_create (zoo-oldminor)");
      assert_null(buffer);
      weft_status_free(status);
    } else {
      weft_buffer_destroy(buffer);
    }
    weft_runtime_destroy(runtime);
    assert_clean(&ta, n, 0);
    weft_test_allocator_deinit(&ta);
    if (!hit) break;
  }
  assert_true(n >= 3); /* device, buffer record, buffer memory */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_runtime_create_sweep, setup_env),
      cmocka_unit_test_setup(test_plugins_load_sweep, setup_env),
      cmocka_unit_test_setup(test_buffer_create_sweep, setup_env),
      cmocka_unit_test_setup(test_plugin_buffer_sweep, setup_env),
  };
  return cmocka_run_group_tests_name("core/alloc_sweep", tests, NULL, NULL);
}
