/* The loader against the zoo (tests/zoo): every way a plugin file can be
 * broken ends in a record with the right outcome, stage, status code and a
 * reason a person can act on, and never in a failed runtime. Also: the search
 * path, the order files are taken in, loading after creation, and the
 * WEFT_PLUGINS_DISABLE / WEFT_PLUGINS_ONLY filters.
 *
 * Expectations follow core/include/weft/runtime.h and docs/abi.md. */
#define _GNU_SOURCE /* setenv, realpath, readlink, syscall under -std=c11 */

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "testing/runtime_fixture.h"
#include "testing/test_allocator.h"
#include "weft/abi/version.h"
#include "weft/weft.h"

#ifndef WEFT_TEST_INSTALL_PLUGIN_DIR
#error "the build passes WEFT_TEST_INSTALL_PLUGIN_DIR (libweft's install plugin dir)"
#endif

#define ABI_1_0 WEFT_ABI_MAKE_VERSION(1, 0)
/* A zoo plugin built with these headers negotiates the version they describe. */
#define ABI_CURRENT WEFT_ABI_VERSION

/* ---- shared checks ---- */

/* Asserts that `haystack` contains `needle`, printing both when not. */
#define assert_contains(haystack, needle)                                    \
  do {                                                                       \
    const char* h_ = (haystack);                                             \
    const char* n_ = (needle);                                               \
    assert_non_null(h_);                                                     \
    if (strstr(h_, n_) == NULL) {                                            \
      fail_msg("expected \"%s\" to contain \"%s\"", h_, n_);                 \
    }                                                                        \
  } while (0)

#define assert_record(record, want_outcome, want_stage, want_code)            \
  do {                                                                       \
    const weft_plugin_record_t* r_ = (record);                               \
    assert_non_null(r_);                                                     \
    if (r_->outcome != (uint32_t)(want_outcome) ||                           \
        r_->stage != (uint32_t)(want_stage) ||                               \
        r_->status_code != (uint32_t)(want_code)) {                          \
      fail_msg("%s: expected %s at %s (%s), got %s at %s (%s): %s", r_->path, \
               weft_plugin_outcome_name(want_outcome),                       \
               weft_plugin_stage_name(want_stage),                           \
               weft_status_code_name(want_code),                             \
               weft_plugin_outcome_name((weft_plugin_outcome_t)r_->outcome), \
               weft_plugin_stage_name((weft_plugin_stage_t)r_->stage),       \
               weft_status_code_name((weft_status_code_t)r_->status_code),   \
               r_->reason);                                                  \
    }                                                                        \
  } while (0)

static weft_runtime_t* create_runtime(const char* const* paths, size_t count,
                                      uint32_t flags) {
  weft_runtime_options_t options = weft_test_options(paths, count, flags);
  weft_runtime_t* runtime = NULL;
  weft_status_t status =
      weft_runtime_create(&options, weft_allocator_system(), &runtime);
  if (status != WEFT_OK) {
    fail_msg("weft_runtime_create: %s", weft_status_message(status));
  }
  assert_non_null(runtime);
  return runtime;
}

static weft_runtime_t* create_isolated(const char* path) {
  const char* paths[] = {path};
  return create_runtime(paths, 1, WEFT_TEST_ISOLATED);
}

/* What dlopen says about `path` in this process: the loader must pass it on. */
static void dlopen_error(const char* path, char* out, size_t cap) {
  dlerror();
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle != NULL) {
    dlclose(handle);
    fail_msg("%s opened in the test process; the zoo is not built as expected",
             path);
  }
  const char* error = dlerror();
  assert_non_null(error);
  snprintf(out, cap, "%s", error);
}

/* The built-in reference backend: record 0, active, one device. */
static void assert_builtin_present(const weft_runtime_t* runtime) {
  const weft_plugin_record_t* builtin = weft_runtime_plugin_get(runtime, 0);
  assert_non_null(builtin);
  assert_string_equal(builtin->path, "(built-in)");
  assert_string_equal(builtin->name, "cpu-ref");
  assert_record(builtin, WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  assert_string_equal(builtin->reason, "");
  assert_int_equal(builtin->search_path_index, SIZE_MAX);
  weft_device_t* cpu = NULL;
  weft_status_t status = weft_runtime_device_find(runtime, "cpu-ref:0", &cpu);
  if (status != WEFT_OK) fail_msg("%s", weft_status_message(status));
  assert_non_null(cpu);
}

/* A runtime over one broken file: creation succeeds, the built-in backend is
 * there, and the file has exactly one record (returned). */
static const weft_plugin_record_t* single_record(const weft_runtime_t* runtime,
                                                 const char* path) {
  assert_int_equal(weft_runtime_plugin_count(runtime), 2);
  assert_builtin_present(runtime);
  const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, 1);
  assert_non_null(record);
  assert_string_equal(record->path, path);
  assert_int_equal(record->search_path_index, 0);
  return record;
}

/* Nothing a plugin did not get far enough to provide is filled in. */
static void assert_no_info(const weft_plugin_record_t* record) {
  assert_string_equal(record->name, "");
  assert_string_equal(record->family, "");
  assert_string_equal(record->version, "");
  assert_string_equal(record->description, "");
  assert_string_equal(record->built_for, "");
  assert_string_equal(record->min_driver, "");
  assert_int_equal(record->abi_version, 0);
  assert_int_equal(record->device_count, 0);
}

static int setup_env(void** state) {
  (void)state;
  weft_test_env_clear();
  return 0;
}

static int teardown_env(void** state) {
  (void)state;
  weft_test_env_clear();
  return 0;
}

/* ---- stage open ---- */

static void test_not_elf(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-notelf.so");
  char expected[1024];
  dlopen_error(path.text, expected, sizeof(expected));
  assert_contains(expected, "invalid ELF header");

  weft_runtime_t* runtime = create_isolated(path.text);
  const weft_plugin_record_t* record = single_record(runtime, path.text);
  assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_OPEN,
                WEFT_STATUS_UNAVAILABLE);
  assert_contains(record->reason, expected);
  assert_no_info(record);
  assert_int_equal(weft_runtime_device_count(runtime), 1);
  weft_runtime_destroy(runtime);
}

static void test_foreign_machine(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-aarch64.so");
  struct stat info;
  if (stat(path.text, &info) != 0) {
    print_message("libweft-zoo-aarch64.so not built (no aarch64 cross "
                  "compiler at configure time)\n");
    skip();
  }
#if defined(__aarch64__)
  skip(); /* it is this machine's ELF */
#endif
  char expected[1024];
  dlopen_error(path.text, expected, sizeof(expected));

  weft_runtime_t* runtime = create_isolated(path.text);
  const weft_plugin_record_t* record = single_record(runtime, path.text);
  assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_OPEN,
                WEFT_STATUS_UNAVAILABLE);
  assert_contains(record->reason, expected);
  /* glibc's own text ("No such file or directory") misleads for a file that
   * exists; the loader reads the ELF header and names the mismatch. */
#if defined(__x86_64__)
  assert_contains(record->reason,
                  "the file is an ELF for aarch64 (machine 183), this process is x86-64");
#endif
  assert_no_info(record);
  weft_runtime_destroy(runtime);
}

static void test_missing_dependency(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-missingdep.so");
  char expected[1024];
  dlopen_error(path.text, expected, sizeof(expected));
  assert_contains(expected, "libweft-zoo-dep.so");

  weft_runtime_t* runtime = create_isolated(path.text);
  const weft_plugin_record_t* record = single_record(runtime, path.text);
  assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_OPEN,
                WEFT_STATUS_UNAVAILABLE);
  /* The missing library is named, not just the plugin. */
  assert_contains(record->reason,
                  "libweft-zoo-dep.so: cannot open shared object file");
  assert_contains(record->reason, expected);
  assert_no_info(record);
  weft_runtime_destroy(runtime);
}

/* ---- stage symbol ---- */

static void test_no_entry_symbol(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-nosymbol.so");
  weft_runtime_t* runtime = create_isolated(path.text);
  const weft_plugin_record_t* record = single_record(runtime, path.text);
  assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_SYMBOL,
                WEFT_STATUS_NOT_FOUND);
  assert_contains(record->reason, "weft_plugin_negotiate");
  assert_contains(record->reason, "undefined symbol: weft_plugin_negotiate");
  assert_no_info(record);
  weft_runtime_destroy(runtime);
}

/* ---- stage negotiate ---- */

static void test_refuses_negotiation(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-refuse.so");
  weft_runtime_t* runtime = create_isolated(path.text);
  const weft_plugin_record_t* record = single_record(runtime, path.text);
  assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED,
                WEFT_PLUGIN_STAGE_NEGOTIATE, WEFT_STATUS_INCOMPATIBLE);
  /* The refusal, quoted, and the versions the host offered (docs/abi.md 2). */
  assert_contains(record->reason,
                  "zoo-refuse: this plugin needs the zoo keeper's licence "
                  "(not granted)");
  assert_contains(record->reason, "1.3");
  assert_contains(record->reason, "1.0");
  assert_no_info(record);
  weft_runtime_destroy(runtime);
}

static void test_future_major(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-future.so");
  weft_runtime_t* runtime = create_isolated(path.text);
  const weft_plugin_record_t* record = single_record(runtime, path.text);
  assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED,
                WEFT_PLUGIN_STAGE_NEGOTIATE, WEFT_STATUS_INCOMPATIBLE);
  assert_contains(record->reason, "2.0");
  assert_contains(record->reason, "1.3");
  /* Nothing of a 2.0 table may be read by a 1.x host, its info included. */
  assert_string_equal(record->name, "");
  assert_string_equal(record->family, "");
  assert_int_equal(record->device_count, 0);
  assert_int_equal(weft_runtime_device_count(runtime), 1);
  weft_runtime_destroy(runtime);
}

/* ---- an ABI 1.0 plugin on a 1.1 host ---- */

static void round_trip(weft_device_t* device, weft_memory_type_t type) {
  enum { kSize = 4096 };
  weft_buffer_t* a = NULL;
  weft_buffer_t* b = NULL;
  weft_status_t status = weft_buffer_create(device, type, kSize, &a);
  if (status != WEFT_OK) fail_msg("%s", weft_status_message(status));
  status = weft_buffer_create(device, type, kSize, &b);
  if (status != WEFT_OK) fail_msg("%s", weft_status_message(status));
  assert_int_equal(weft_buffer_size(a), kSize);
  assert_ptr_equal(weft_buffer_device(a), device);

  uint8_t in[kSize];
  uint8_t out[kSize];
  for (size_t i = 0; i < kSize; ++i) in[i] = (uint8_t)(i * 7 + 3);
  assert_null(weft_buffer_write(a, 0, in, kSize));
  memset(out, 0, sizeof(out));
  assert_null(weft_buffer_read(a, 0, out, kSize));
  assert_memory_equal(in, out, kSize);

  /* Partial ranges land where they are asked to, and nowhere else. */
  const uint8_t patch[28] = {0xEE, 0xEE, 0xEE, 0xEE, 0x11, 0x22, 0x33};
  assert_null(weft_buffer_write(a, 100, patch, sizeof(patch)));
  memcpy(in + 100, patch, sizeof(patch));
  assert_null(weft_buffer_read(a, 96, out, 40));
  assert_memory_equal(in + 96, out, 40);

  const uint32_t pattern = 0xA1B2C3D4u;
  assert_null(weft_buffer_fill(b, 0, kSize, &pattern, 4));
  assert_null(weft_buffer_read(b, 8, out, 8));
  assert_memory_equal(out, &pattern, 4);
  assert_memory_equal(out + 4, &pattern, 4);

  assert_null(weft_buffer_copy(a, 0, b, 1024, 512));
  assert_null(weft_buffer_read(b, 1024, out, 512));
  assert_memory_equal(in, out, 512);
  assert_null(weft_buffer_read(b, 1024 + 512, out, 4));
  assert_memory_equal(out, &pattern, 4);

  /* Out of range is refused before the plugin sees it, and named. */
  status = weft_buffer_write(a, kSize - 8, in, 16);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_OUT_OF_RANGE);
  assert_contains(weft_status_message(status), "4096");
  weft_status_free(status);
  status = weft_buffer_read(a, UINT64_MAX, out, 2);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_OUT_OF_RANGE);
  weft_status_free(status);

  if (type == WEFT_MEMORY_TYPE_HOST_VISIBLE) {
    void* mapped = NULL;
    status = weft_buffer_map(a, &mapped);
    if (status != WEFT_OK) fail_msg("%s", weft_status_message(status));
    assert_non_null(mapped);
    assert_memory_equal(mapped, in, 100);
    weft_buffer_unmap(a);
  }
  weft_buffer_destroy(a);
  weft_buffer_destroy(b);
}

static void test_old_minor_loads_and_works(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-oldminor.so");
  weft_runtime_t* runtime = create_isolated(path.text);
  const weft_plugin_record_t* record = single_record(runtime, path.text);
  assert_record(record, WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  assert_string_equal(record->reason, "");
  assert_int_equal(record->abi_version, ABI_1_0);
  assert_string_equal(record->name, "zoo-oldminor");
  assert_string_equal(record->family, "zoo-oldminor");
  assert_string_equal(record->version, "1.0.0");
  assert_string_equal(record->description, "zoo: a plugin built against ABI 1.0");
  assert_string_equal(record->built_for, "any");
  assert_string_equal(record->min_driver, "");
  assert_int_equal(record->device_count, 1);

  assert_int_equal(weft_runtime_device_count(runtime), 2);
  size_t index = SIZE_MAX;
  weft_device_t* device =
      weft_test_device_by_id(runtime, "zoo-oldminor:0", &index);
  assert_non_null(device);
  assert_int_equal(index, 1); /* score 40, below cpu-ref's 100 */
  weft_device_info_t info;
  weft_device_info_get(device, &info);
  assert_string_equal(info.id, "zoo-oldminor:0");
  assert_string_equal(info.plugin, "zoo-oldminor");
  assert_string_equal(info.plugin_path, path.text);
  assert_non_null(info.caps);
  assert_string_equal(info.caps->name, "zoo old-minor host-memory device");
  assert_string_equal(info.caps->stable_id, "zoo:zoo-oldminor:0");
  assert_int_equal(info.caps->type, WEFT_DEVICE_TYPE_CPU);
  assert_int_equal(info.caps->score, 40);
  assert_int_equal(info.score, 40);
  assert_int_equal(info.preferred, 1);

  round_trip(device, WEFT_MEMORY_TYPE_HOST_VISIBLE);
  round_trip(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL);

  /* No device_memory_query in a 1.0 table: the capability record answers,
   * before and after an allocation alike. */
  uint64_t free_bytes = 0, total_bytes = 0;
  weft_status_t status =
      weft_device_memory_query(device, &free_bytes, &total_bytes);
  if (status != WEFT_OK) fail_msg("%s", weft_status_message(status));
  assert_int_equal(free_bytes, 48u << 20);
  assert_int_equal(total_bytes, 64u << 20);
  weft_buffer_t* buffer = NULL;
  assert_null(weft_buffer_create(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL,
                                 1u << 20, &buffer));
  assert_null(weft_device_memory_query(device, &free_bytes, &total_bytes));
  assert_int_equal(free_bytes, 48u << 20);
  assert_int_equal(total_bytes, 64u << 20);
  weft_buffer_destroy(buffer);
  weft_runtime_destroy(runtime);
}

/* ---- stage probe ---- */

static void test_probe_fails(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-probefail.so");
  weft_runtime_t* runtime = create_isolated(path.text);
  const weft_plugin_record_t* record = single_record(runtime, path.text);
  /* The plugin's own status code and message come through. */
  assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_PROBE,
                WEFT_STATUS_IO_ERROR);
  assert_contains(record->reason,
                  "zoo-probefail: reading /sys/zoo/probe failed: "
                  "input/output error");
  assert_int_equal(record->abi_version, ABI_CURRENT);
  assert_string_equal(record->name, "zoo-probefail");
  assert_int_equal(record->device_count, 0);
  assert_int_equal(weft_runtime_device_count(runtime), 1);
  weft_runtime_destroy(runtime);
}

static void test_probe_unavailable(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-unavailable.so");
  /* Set, but IGNORE_ENV must hide it from the plugin's env_get too. */
  setenv("WEFT_ZOO_FLUX_CAPACITOR", "1", 1);
  weft_runtime_t* runtime = create_isolated(path.text);
  const weft_plugin_record_t* record = single_record(runtime, path.text);
  assert_record(record, WEFT_PLUGIN_OUTCOME_UNAVAILABLE,
                WEFT_PLUGIN_STAGE_PROBE, WEFT_STATUS_UNAVAILABLE);
  assert_contains(record->reason,
                  "zoo device needs a flux capacitor (none found)");
  assert_string_equal(record->name, "zoo-unavailable");
  assert_string_equal(record->min_driver, "flux capacitor 1.21");
  assert_int_equal(record->abi_version, ABI_CURRENT);
  assert_int_equal(record->device_count, 0);
  assert_null(weft_test_device_by_id(runtime, "zoo-unavailable:0", NULL));
  weft_runtime_destroy(runtime);
}

/* env_get (ABI 1.1) reaches the plugin when the environment is honoured. */
static void test_env_get_reaches_plugins(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-unavailable.so");
  setenv("WEFT_ZOO_FLUX_CAPACITOR", "1", 1);
  const char* paths[] = {path.text};
  weft_runtime_t* runtime =
      create_runtime(paths, 1, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  const weft_plugin_record_t* record = single_record(runtime, path.text);
  assert_record(record, WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  weft_device_t* device =
      weft_test_device_by_id(runtime, "zoo-unavailable:0", NULL);
  assert_non_null(device);
  weft_device_info_t info;
  weft_device_info_get(device, &info);
  assert_int_equal(info.caps->type, WEFT_DEVICE_TYPE_ACCELERATOR);
  weft_runtime_destroy(runtime);
}

/* ---- stage select: one family, three variants ---- */

static void check_variants(const weft_runtime_t* runtime) {
  weft_test_path_t high_path = weft_test_zoo_path("libweft-zoo-variant-high.so");
  const weft_plugin_record_t* low =
      weft_test_record_find(runtime, "libweft-zoo-variant-low.so");
  const weft_plugin_record_t* high =
      weft_test_record_find(runtime, "libweft-zoo-variant-high.so");
  const weft_plugin_record_t* top =
      weft_test_record_find(runtime, "libweft-zoo-variant-top.so");

  assert_record(high, WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  assert_string_equal(high->family, "zoo-variant");
  assert_int_equal(high->variant_score, 20);
  assert_int_equal(high->device_count, 1);

  /* Passed over is not a failure: status OK, and the winner named. */
  assert_record(low, WEFT_PLUGIN_OUTCOME_PASSED_OVER, WEFT_PLUGIN_STAGE_SELECT,
                WEFT_STATUS_OK);
  assert_string_equal(low->family, "zoo-variant");
  assert_int_equal(low->variant_score, 10);
  assert_contains(low->reason, "zoo-variant-high");
  assert_contains(low->reason, high_path.text);
  assert_int_equal(low->device_count, 0);

  /* The best score cannot run here, so it does not win. */
  assert_record(top, WEFT_PLUGIN_OUTCOME_UNAVAILABLE, WEFT_PLUGIN_STAGE_PROBE,
                WEFT_STATUS_UNAVAILABLE);
  assert_contains(top->reason, "zoo-variant-top: needs the zoo's top-tier "
                               "feeding instructions (not present)");
  assert_int_equal(top->device_count, 0);

  assert_non_null(weft_test_device_by_id(runtime, "zoo-variant-high:0", NULL));
  assert_null(weft_test_device_by_id(runtime, "zoo-variant-low:0", NULL));
  assert_null(weft_test_device_by_id(runtime, "zoo-variant-top:0", NULL));
  assert_int_equal(weft_runtime_device_count(runtime), 2);
}

static void test_variants_best_available_wins(void** state) {
  (void)state;
  weft_test_path_t low = weft_test_zoo_path("libweft-zoo-variant-low.so");
  weft_test_path_t high = weft_test_zoo_path("libweft-zoo-variant-high.so");
  weft_test_path_t top = weft_test_zoo_path("libweft-zoo-variant-top.so");
  /* The order they are found in must not matter. */
  const char* orders[][3] = {
      {low.text, high.text, top.text},
      {top.text, high.text, low.text},
      {high.text, low.text, top.text},
  };
  for (size_t i = 0; i < 3; ++i) {
    weft_runtime_t* runtime = create_runtime(orders[i], 3, WEFT_TEST_ISOLATED);
    assert_int_equal(weft_runtime_plugin_count(runtime), 4);
    assert_builtin_present(runtime);
    check_variants(runtime);
    weft_runtime_destroy(runtime);
  }
}

/* ---- stage discover ---- */

static size_t zoo_plugin_files(void);

static void test_same_file_twice(void** state) {
  (void)state;
  weft_test_path_t old = weft_test_zoo_path("libweft-zoo-oldminor.so");
  weft_test_path_t twice = weft_test_zoo_path("libweft-zoo-twice.so");

  /* Through a symbolic link. */
  const char* paths[] = {old.text, twice.text};
  weft_runtime_t* runtime = create_runtime(paths, 2, WEFT_TEST_ISOLATED);
  assert_int_equal(weft_runtime_plugin_count(runtime), 3);
  const weft_plugin_record_t* first = weft_runtime_plugin_get(runtime, 1);
  const weft_plugin_record_t* second = weft_runtime_plugin_get(runtime, 2);
  assert_string_equal(first->path, old.text);
  assert_record(first, WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  assert_string_equal(second->path, twice.text);
  assert_int_equal(second->search_path_index, 1);
  assert_record(second, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_DISCOVER,
                WEFT_STATUS_ALREADY_EXISTS);
  assert_contains(second->reason, old.text);
  assert_int_equal(weft_runtime_device_count(runtime), 2);
  weft_runtime_destroy(runtime);

  /* The very same path twice. */
  const char* same[] = {old.text, old.text};
  runtime = create_runtime(same, 2, WEFT_TEST_ISOLATED);
  assert_int_equal(weft_runtime_plugin_count(runtime), 3);
  second = weft_runtime_plugin_get(runtime, 2);
  assert_record(second, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_DISCOVER,
                WEFT_STATUS_ALREADY_EXISTS);
  assert_contains(second->reason, old.text);
  assert_int_equal(weft_runtime_device_count(runtime), 2);
  weft_runtime_destroy(runtime);
}

static void test_same_directory_twice(void** state) {
  (void)state;
  const char* paths[] = {WEFT_ZOO_DIR, WEFT_ZOO_DIR};
  weft_runtime_t* runtime = create_runtime(paths, 2, WEFT_TEST_ISOLATED);
  assert_builtin_present(runtime);
  size_t second_pass = 0;
  for (size_t i = 1; i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    if (record->search_path_index != 1) continue;
    ++second_pass;
    const char* base = weft_test_basename(record->path);
    if (strcmp(base, "libweft-zoo-dangling.so") == 0) {
      assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED,
                    WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_NOT_FOUND);
      continue;
    }
    /* Everything else was reached in the first pass: named, not reloaded. */
    assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED,
                  WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_ALREADY_EXISTS);
    weft_test_path_t first = weft_test_zoo_path(
        strcmp(base, "libweft-zoo-twice.so") == 0 ? "libweft-zoo-oldminor.so"
                                                  : base);
    assert_contains(record->reason, first.text);
  }
  assert_int_equal(second_pass, zoo_plugin_files());
  /* Loaded once. */
  size_t active_old = 0;
  for (size_t i = 0; i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    if (record->outcome == WEFT_PLUGIN_OUTCOME_ACTIVE &&
        strcmp(record->name, "zoo-oldminor") == 0) {
      ++active_old;
    }
  }
  assert_int_equal(active_old, 1);
  assert_int_equal(weft_runtime_device_count(runtime), 5);
  weft_runtime_destroy(runtime);
}

static void test_dangling_link(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-dangling.so");
  char target[PATH_MAX];
  ssize_t n = readlink(path.text, target, sizeof(target) - 1);
  assert_true(n > 0);
  target[n] = '\0';
  assert_string_equal(target, "missing-target.so");

  /* Found by listing the directory. */
  const char* paths[] = {WEFT_ZOO_DIR};
  weft_runtime_t* runtime = create_runtime(paths, 1, WEFT_TEST_ISOLATED);
  assert_int_equal(weft_test_record_count(runtime, "libweft-zoo-dangling.so"), 1);
  const weft_plugin_record_t* record =
      weft_test_record_find(runtime, "libweft-zoo-dangling.so");
  assert_string_equal(record->path, path.text);
  assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_DISCOVER,
                WEFT_STATUS_NOT_FOUND);
  assert_contains(record->reason, "missing-target.so");
  assert_contains(record->reason, strerror(ENOENT));
  assert_no_info(record);
  weft_runtime_destroy(runtime);
}

/* Root reads any directory: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
 * from the effective set for the test (kept in the permitted set, so they
 * can be raised again in the teardown). */
static struct __user_cap_data_struct saved_caps[_LINUX_CAPABILITY_U32S_3];
static int caps_saved;

static int caps_drop_dac(void) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  if (syscall(SYS_capget, &header, saved_caps) != 0) return -1;
  caps_saved = 1;
  struct __user_cap_data_struct dropped[_LINUX_CAPABILITY_U32S_3];
  memcpy(dropped, saved_caps, sizeof(dropped));
  dropped[0].effective &=
      ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
  return (int)syscall(SYS_capset, &header, dropped);
}

static int teardown_caps(void** state) {
  if (caps_saved) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    if (syscall(SYS_capset, &header, saved_caps) != 0) {
      return -1;
    }
    caps_saved = 0;
  }
  return teardown_env(state);
}

static void test_unreadable_directory(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("unreadable");
  struct stat info;
  assert_int_equal(stat(path.text, &info), 0);
  assert_true(S_ISDIR(info.st_mode));
  assert_int_equal(info.st_mode & 07777, 0);
  if (caps_drop_dac() != 0) {
    print_message("capset failed (%s)\n", strerror(errno));
  }
  DIR* probe = opendir(path.text);
  if (probe != NULL) {
    closedir(probe);
    print_message("%s is still readable by this process (capabilities could "
                  "not be dropped); nothing to test\n", path.text);
    skip();
  }
  assert_int_equal(errno, EACCES);

  weft_runtime_t* runtime = create_isolated(path.text);
  const weft_search_path_t* entry = weft_runtime_search_path_get(runtime, 0);
  assert_non_null(entry);
  assert_int_equal(entry->kind, 1); /* a directory, just not a readable one */
  const weft_plugin_record_t* record = single_record(runtime, path.text);
  assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_DISCOVER,
                WEFT_STATUS_PERMISSION_DENIED);
  assert_contains(record->reason, strerror(EACCES));
  assert_no_info(record);
  weft_runtime_destroy(runtime);
}

static void test_missing_path(void** state) {
  (void)state;
  const char* missing = "/nonexistent/weft-zoo-missing";
  weft_runtime_t* runtime = create_isolated(missing);
  const weft_search_path_t* entry = weft_runtime_search_path_get(runtime, 0);
  assert_string_equal(entry->path, missing);
  assert_int_equal(entry->kind, 0);
  const weft_plugin_record_t* record = single_record(runtime, missing);
  assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_DISCOVER,
                WEFT_STATUS_NOT_FOUND);
  assert_true(record->reason[0] != '\0');
  weft_runtime_destroy(runtime);
}

/* ---- the whole zoo at once ---- */

typedef struct zoo_expectation_t {
  const char* file;
  weft_plugin_outcome_t outcome;
  weft_plugin_stage_t stage;
  weft_status_code_t code;
  const char* reason; /* a part of the reason, or NULL */
} zoo_expectation_t;

static const zoo_expectation_t kZoo[] = {
    {"libweft-zoo-aarch64.so", WEFT_PLUGIN_OUTCOME_SKIPPED,
     WEFT_PLUGIN_STAGE_OPEN, WEFT_STATUS_UNAVAILABLE, NULL},
    {"libweft-zoo-dangling.so", WEFT_PLUGIN_OUTCOME_SKIPPED,
     WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_NOT_FOUND, "missing-target.so"},
    {"libweft-zoo-future.so", WEFT_PLUGIN_OUTCOME_SKIPPED,
     WEFT_PLUGIN_STAGE_NEGOTIATE, WEFT_STATUS_INCOMPATIBLE, "2.0"},
    {"libweft-zoo-missingdep.so", WEFT_PLUGIN_OUTCOME_SKIPPED,
     WEFT_PLUGIN_STAGE_OPEN, WEFT_STATUS_UNAVAILABLE, "libweft-zoo-dep.so"},
    {"libweft-zoo-nosymbol.so", WEFT_PLUGIN_OUTCOME_SKIPPED,
     WEFT_PLUGIN_STAGE_SYMBOL, WEFT_STATUS_NOT_FOUND, "weft_plugin_negotiate"},
    {"libweft-zoo-notelf.so", WEFT_PLUGIN_OUTCOME_SKIPPED,
     WEFT_PLUGIN_STAGE_OPEN, WEFT_STATUS_UNAVAILABLE, "invalid ELF header"},
    {"libweft-zoo-oldminor.so", WEFT_PLUGIN_OUTCOME_ACTIVE,
     WEFT_PLUGIN_STAGE_READY, WEFT_STATUS_OK, NULL},
    {"libweft-zoo-probefail.so", WEFT_PLUGIN_OUTCOME_SKIPPED,
     WEFT_PLUGIN_STAGE_PROBE, WEFT_STATUS_IO_ERROR, "/sys/zoo/probe"},
    {"libweft-zoo-refuse.so", WEFT_PLUGIN_OUTCOME_SKIPPED,
     WEFT_PLUGIN_STAGE_NEGOTIATE, WEFT_STATUS_INCOMPATIBLE,
     "zoo keeper's licence"},
    {"libweft-zoo-twice.so", WEFT_PLUGIN_OUTCOME_SKIPPED,
     WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_ALREADY_EXISTS,
     "libweft-zoo-oldminor.so"},
    {"libweft-zoo-twin-a.so", WEFT_PLUGIN_OUTCOME_ACTIVE,
     WEFT_PLUGIN_STAGE_READY, WEFT_STATUS_OK, NULL},
    {"libweft-zoo-twin-b.so", WEFT_PLUGIN_OUTCOME_ACTIVE,
     WEFT_PLUGIN_STAGE_READY, WEFT_STATUS_OK, NULL},
    {"libweft-zoo-unavailable.so", WEFT_PLUGIN_OUTCOME_UNAVAILABLE,
     WEFT_PLUGIN_STAGE_PROBE, WEFT_STATUS_UNAVAILABLE, "flux capacitor"},
    {"libweft-zoo-variant-high.so", WEFT_PLUGIN_OUTCOME_ACTIVE,
     WEFT_PLUGIN_STAGE_READY, WEFT_STATUS_OK, NULL},
    {"libweft-zoo-variant-low.so", WEFT_PLUGIN_OUTCOME_PASSED_OVER,
     WEFT_PLUGIN_STAGE_SELECT, WEFT_STATUS_OK, "zoo-variant-high"},
    {"libweft-zoo-variant-top.so", WEFT_PLUGIN_OUTCOME_UNAVAILABLE,
     WEFT_PLUGIN_STAGE_PROBE, WEFT_STATUS_UNAVAILABLE, "top-tier"},
};

/* Plugin-named entries of the zoo directory, as the loader should see them. */
static size_t zoo_plugin_files(void) {
  DIR* dir = opendir(WEFT_ZOO_DIR);
  assert_non_null(dir);
  size_t count = 0;
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL) {
    size_t n = strlen(entry->d_name);
    if (n > strlen("libweft-") + 3 &&
        strncmp(entry->d_name, "libweft-", 8) == 0 &&
        strcmp(entry->d_name + n - 3, ".so") == 0) {
      ++count;
    }
  }
  closedir(dir);
  return count;
}

static void test_whole_zoo(void** state) {
  (void)state;
  const char* paths[] = {WEFT_ZOO_DIR};
  weft_runtime_t* runtime = create_runtime(paths, 1, WEFT_TEST_ISOLATED);
  assert_builtin_present(runtime);

  size_t files = zoo_plugin_files();
  assert_int_equal(weft_runtime_plugin_count(runtime), 1 + files);
  size_t checked = 0;
  for (size_t i = 0; i < sizeof(kZoo) / sizeof(kZoo[0]); ++i) {
    const zoo_expectation_t* want = &kZoo[i];
    size_t count = weft_test_record_count(runtime, want->file);
    if (count == 0 && strcmp(want->file, "libweft-zoo-aarch64.so") == 0) {
      continue; /* not built here */
    }
    if (count != 1) fail_msg("%s: %zu records, expected 1", want->file, count);
    const weft_plugin_record_t* record =
        weft_test_record_find(runtime, want->file);
    assert_record(record, want->outcome, want->stage, want->code);
    if (want->outcome == WEFT_PLUGIN_OUTCOME_ACTIVE) {
      assert_string_equal(record->reason, "");
    } else {
      assert_true(record->reason[0] != '\0');
    }
    if (want->reason) assert_contains(record->reason, want->reason);
    assert_int_equal(record->search_path_index, 0);
    ++checked;
  }
  /* Every member of the zoo is covered above; nothing unexpected in it. */
  assert_int_equal(checked, files);

  /* Files are taken in sorted order, whatever readdir returns. */
  const char* previous = NULL;
  for (size_t i = 0; i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    if (record->search_path_index != 0) continue;
    if (previous && strcmp(previous, record->path) >= 0) {
      fail_msg("records out of order: '%s' before '%s'", previous, record->path);
    }
    previous = record->path;
  }

  /* What is left standing. */
  static const char* const ids[] = {"zoo-twin-a:0", "zoo-twin-b:0", "cpu-ref:0",
                                    "zoo-oldminor:0", "zoo-variant-high:0"};
  assert_int_equal(weft_runtime_device_count(runtime), 5);
  for (size_t i = 0; i < 5; ++i) {
    weft_device_info_t info;
    weft_device_info_get(weft_runtime_device_get(runtime, i), &info);
    assert_string_equal(info.id, ids[i]);
  }
  weft_runtime_destroy(runtime);
}

/* ---- the search path ---- */

static void test_search_path_order_and_origins(void** state) {
  (void)state;
  weft_test_path_t old = weft_test_zoo_path("libweft-zoo-oldminor.so");
  weft_test_path_t twin_b = weft_test_zoo_path("libweft-zoo-twin-b.so");
  char env[2 * PATH_MAX];
  snprintf(env, sizeof(env), "%s:/nonexistent/weft-env-dir", twin_b.text);
  setenv("WEFT_PLUGIN_PATH", env, 1);

  const char* paths[] = {old.text, WEFT_ZOO_DIR};
  weft_runtime_t* runtime = create_runtime(paths, 2, 0);

  char exe[PATH_MAX];
  assert_non_null(realpath("/proc/self/exe", exe));
  *strrchr(exe, '/') = '\0';
  char beside[PATH_MAX + 16];
  char beside_weft[PATH_MAX + 16];
  snprintf(beside, sizeof(beside), "%s/plugins", exe);
  snprintf(beside_weft, sizeof(beside_weft), "%s/weft/plugins", exe);

  static const struct {
    weft_path_origin_t origin;
    const char* name;
  } origins[] = {
      {WEFT_PATH_ORIGIN_API, "api"},
      {WEFT_PATH_ORIGIN_API, "api"},
      {WEFT_PATH_ORIGIN_ENV, "WEFT_PLUGIN_PATH"},
      {WEFT_PATH_ORIGIN_ENV, "WEFT_PLUGIN_PATH"},
      {WEFT_PATH_ORIGIN_BESIDE_LIBRARY, "beside-library"},
      {WEFT_PATH_ORIGIN_BESIDE_LIBRARY, "beside-library"},
      {WEFT_PATH_ORIGIN_INSTALL, "install"},
  };
  /* Beside libweft, which is this executable here (linked statically):
   * "plugins" and "weft/plugins" (runtime.h, search order step 3). */
  const char* expected_paths[] = {old.text, WEFT_ZOO_DIR, twin_b.text,
                                  "/nonexistent/weft-env-dir", beside,
                                  beside_weft, WEFT_TEST_INSTALL_PLUGIN_DIR};
  /* The default entries' kinds depend on the tree around the binary. */
  const uint32_t kinds[] = {2, 1, 2, 0};
  assert_int_equal(weft_runtime_search_path_count(runtime), 7);
  for (size_t i = 0; i < 7; ++i) {
    const weft_search_path_t* entry = weft_runtime_search_path_get(runtime, i);
    assert_non_null(entry);
    assert_string_equal(entry->path, expected_paths[i]);
    assert_int_equal(entry->origin, origins[i].origin);
    assert_string_equal(weft_path_origin_name(entry->origin), origins[i].name);
    if (i < 4) assert_int_equal(entry->kind, kinds[i]);
  }
  assert_null(weft_runtime_search_path_get(runtime, 7));

  /* Earlier entries win: the file given first is the one loaded, and the
   * directory's and WEFT_PLUGIN_PATH's copies are duplicates of it. */
  const weft_plugin_record_t* first = weft_runtime_plugin_get(runtime, 1);
  assert_string_equal(first->path, old.text);
  assert_int_equal(first->search_path_index, 0);
  assert_record(first, WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  size_t env_records = 0;
  for (size_t i = 0; i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    if (record->search_path_index == 1 &&
        strcmp(weft_test_basename(record->path), "libweft-zoo-oldminor.so") == 0) {
      assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED,
                    WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_ALREADY_EXISTS);
    }
    if (record->search_path_index == 2) {
      ++env_records;
      assert_string_equal(record->path, twin_b.text);
      assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED,
                    WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_ALREADY_EXISTS);
    }
    if (record->search_path_index == 3) {
      ++env_records;
      assert_string_equal(record->path, "/nonexistent/weft-env-dir");
      assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED,
                    WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_NOT_FOUND);
    }
  }
  assert_int_equal(env_records, 2);
  weft_runtime_destroy(runtime);
}

static void test_ignore_env_and_no_default_paths(void** state) {
  (void)state;
  setenv("WEFT_PLUGIN_PATH", WEFT_ZOO_DIR, 1);
  weft_test_path_t old = weft_test_zoo_path("libweft-zoo-oldminor.so");
  weft_runtime_t* runtime = create_isolated(old.text);
  assert_int_equal(weft_runtime_search_path_count(runtime), 1);
  assert_int_equal(weft_runtime_plugin_count(runtime), 2);
  weft_runtime_destroy(runtime);

  /* The environment alone, without the default directories. */
  const char* none[] = {NULL};
  runtime = create_runtime(none, 0, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  assert_int_equal(weft_runtime_search_path_count(runtime), 1);
  const weft_search_path_t* entry = weft_runtime_search_path_get(runtime, 0);
  assert_string_equal(entry->path, WEFT_ZOO_DIR);
  assert_int_equal(entry->origin, WEFT_PATH_ORIGIN_ENV);
  assert_int_equal(entry->kind, 1);
  assert_non_null(weft_test_record_active(runtime, "zoo-oldminor"));
  weft_runtime_destroy(runtime);
}

/* ---- loading after creation ---- */

static void test_plugins_load_after_create(void** state) {
  (void)state;
  weft_test_path_t low = weft_test_zoo_path("libweft-zoo-variant-low.so");
  weft_test_path_t high = weft_test_zoo_path("libweft-zoo-variant-high.so");
  weft_test_path_t top = weft_test_zoo_path("libweft-zoo-variant-top.so");
  weft_runtime_t* runtime = create_runtime(NULL, 0, WEFT_TEST_ISOLATED);
  assert_int_equal(weft_runtime_plugin_count(runtime), 1);
  assert_int_equal(weft_runtime_search_path_count(runtime), 0);
  assert_int_equal(weft_runtime_device_count(runtime), 1);

  assert_null(weft_runtime_plugins_load(runtime, low.text));
  assert_int_equal(weft_runtime_search_path_count(runtime), 1);
  const weft_search_path_t* entry = weft_runtime_search_path_get(runtime, 0);
  assert_string_equal(entry->path, low.text);
  assert_int_equal(entry->origin, WEFT_PATH_ORIGIN_API);
  assert_int_equal(entry->kind, 2);
  assert_int_equal(weft_runtime_plugin_count(runtime), 2);
  assert_record(weft_runtime_plugin_get(runtime, 1), WEFT_PLUGIN_OUTCOME_ACTIVE,
                WEFT_PLUGIN_STAGE_READY, WEFT_STATUS_OK);
  assert_non_null(weft_test_device_by_id(runtime, "zoo-variant-low:0", NULL));
  assert_int_equal(weft_runtime_device_count(runtime), 2);

  /* A better variant replaces the active one, whose device is unused. */
  assert_null(weft_runtime_plugins_load(runtime, high.text));
  assert_int_equal(weft_runtime_plugin_count(runtime), 3);
  assert_int_equal(weft_runtime_search_path_count(runtime), 2);
  const weft_plugin_record_t* low_record = weft_runtime_plugin_get(runtime, 1);
  const weft_plugin_record_t* high_record = weft_runtime_plugin_get(runtime, 2);
  assert_record(high_record, WEFT_PLUGIN_OUTCOME_ACTIVE,
                WEFT_PLUGIN_STAGE_READY, WEFT_STATUS_OK);
  assert_int_equal(high_record->search_path_index, 1);
  assert_record(low_record, WEFT_PLUGIN_OUTCOME_PASSED_OVER,
                WEFT_PLUGIN_STAGE_SELECT, WEFT_STATUS_OK);
  assert_contains(low_record->reason, "zoo-variant-high");
  assert_int_equal(weft_runtime_device_count(runtime), 2);
  assert_null(weft_test_device_by_id(runtime, "zoo-variant-low:0", NULL));
  weft_device_t* device =
      weft_test_device_by_id(runtime, "zoo-variant-high:0", NULL);
  assert_non_null(device);
  round_trip(device, WEFT_MEMORY_TYPE_HOST_VISIBLE);

  /* A variant that cannot run changes nothing. */
  assert_null(weft_runtime_plugins_load(runtime, top.text));
  assert_record(weft_runtime_plugin_get(runtime, 3),
                WEFT_PLUGIN_OUTCOME_UNAVAILABLE, WEFT_PLUGIN_STAGE_PROBE,
                WEFT_STATUS_UNAVAILABLE);
  assert_record(high_record, WEFT_PLUGIN_OUTCOME_ACTIVE,
                WEFT_PLUGIN_STAGE_READY, WEFT_STATUS_OK);

  /* A file loaded already is a duplicate, not a second plugin. */
  assert_null(weft_runtime_plugins_load(runtime, high.text));
  assert_record(weft_runtime_plugin_get(runtime, 4), WEFT_PLUGIN_OUTCOME_SKIPPED,
                WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_ALREADY_EXISTS);
  assert_int_equal(weft_runtime_device_count(runtime), 2);

  /* Misuse. */
  weft_status_t status = weft_runtime_plugins_load(runtime, NULL);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  weft_status_free(status);
  status = weft_runtime_plugins_load(runtime, "");
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  weft_status_free(status);
  status = weft_runtime_plugins_load(NULL, high.text);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  weft_status_free(status);
  weft_runtime_destroy(runtime);
}

/* A variant whose device is in use stays, even when a better one arrives. */
static void test_plugins_load_keeps_variant_in_use(void** state) {
  (void)state;
  weft_test_path_t low = weft_test_zoo_path("libweft-zoo-variant-low.so");
  weft_test_path_t high = weft_test_zoo_path("libweft-zoo-variant-high.so");
  weft_runtime_t* runtime = create_isolated(low.text);
  weft_device_t* device =
      weft_test_device_by_id(runtime, "zoo-variant-low:0", NULL);
  assert_non_null(device);
  weft_buffer_t* buffer = NULL;
  assert_null(weft_buffer_create(device, WEFT_MEMORY_TYPE_HOST_VISIBLE, 64,
                                 &buffer));
  const uint8_t bytes[4] = {1, 2, 3, 4};
  assert_null(weft_buffer_write(buffer, 0, bytes, 4));

  assert_null(weft_runtime_plugins_load(runtime, high.text));
  const weft_plugin_record_t* low_record = weft_runtime_plugin_get(runtime, 1);
  const weft_plugin_record_t* high_record = weft_runtime_plugin_get(runtime, 2);
  assert_record(low_record, WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  assert_record(high_record, WEFT_PLUGIN_OUTCOME_PASSED_OVER,
                WEFT_PLUGIN_STAGE_SELECT, WEFT_STATUS_OK);
  assert_contains(high_record->reason, "zoo-variant-low");
  assert_ptr_equal(weft_test_device_by_id(runtime, "zoo-variant-low:0", NULL),
                   device);
  assert_null(weft_test_device_by_id(runtime, "zoo-variant-high:0", NULL));

  uint8_t back[4] = {0};
  assert_null(weft_buffer_read(buffer, 0, back, 4));
  assert_memory_equal(back, bytes, 4);
  weft_buffer_destroy(buffer);
  weft_runtime_destroy(runtime);
}

/* ---- WEFT_PLUGINS_DISABLE and WEFT_PLUGINS_ONLY ---- */

static void test_disable_globs(void** state) {
  (void)state;
  /* A file glob and a plugin-name glob, comma-separated. */
  setenv("WEFT_PLUGINS_DISABLE", "libweft-zoo-variant-*.so,zoo-twin-b", 1);
  const char* paths[] = {WEFT_ZOO_DIR};
  weft_runtime_t* runtime =
      create_runtime(paths, 1, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);

  static const char* const variants[] = {"libweft-zoo-variant-high.so",
                                         "libweft-zoo-variant-low.so",
                                         "libweft-zoo-variant-top.so"};
  for (size_t i = 0; i < 3; ++i) {
    const weft_plugin_record_t* record =
        weft_test_record_find(runtime, variants[i]);
    assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_FILTER,
                  WEFT_STATUS_CANCELLED);
    assert_contains(record->reason, "WEFT_PLUGINS_DISABLE");
    assert_contains(record->reason, "libweft-zoo-variant-*.so");
    /* Filtered by file name: never opened. */
    assert_no_info(record);
  }
  const weft_plugin_record_t* twin_b =
      weft_test_record_find(runtime, "libweft-zoo-twin-b.so");
  assert_record(twin_b, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_FILTER,
                WEFT_STATUS_CANCELLED);
  assert_contains(twin_b->reason, "WEFT_PLUGINS_DISABLE");
  assert_contains(twin_b->reason, "'zoo-twin-b'");
  /* The stem matched: filtered before it was opened. */
  assert_no_info(twin_b);

  assert_record(weft_test_record_find(runtime, "libweft-zoo-twin-a.so"),
                WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  assert_record(weft_test_record_find(runtime, "libweft-zoo-oldminor.so"),
                WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  assert_int_equal(weft_runtime_device_count(runtime), 3);
  weft_runtime_destroy(runtime);

  /* ':' separates too; IGNORE_ENV turns the filter off. */
  setenv("WEFT_PLUGINS_DISABLE", "zoo-twin-*:libweft-zoo-oldminor.so", 1);
  runtime = create_runtime(paths, 1, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  assert_record(weft_test_record_find(runtime, "libweft-zoo-oldminor.so"),
                WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_FILTER,
                WEFT_STATUS_CANCELLED);
  assert_record(weft_test_record_find(runtime, "libweft-zoo-twin-a.so"),
                WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_FILTER,
                WEFT_STATUS_CANCELLED);
  assert_record(weft_test_record_find(runtime, "libweft-zoo-variant-high.so"),
                WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  assert_int_equal(weft_runtime_device_count(runtime), 2);
  weft_runtime_destroy(runtime);

  runtime = create_runtime(paths, 1, WEFT_TEST_ISOLATED);
  assert_record(weft_test_record_find(runtime, "libweft-zoo-oldminor.so"),
                WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  assert_int_equal(weft_runtime_device_count(runtime), 5);
  weft_runtime_destroy(runtime);

  /* After negotiation, the plugin's own name: the link's stem is
   * "zoo-twice", the plugin behind it is "zoo-oldminor". */
  weft_test_path_t twice = weft_test_zoo_path("libweft-zoo-twice.so");
  const char* twice_only[] = {twice.text};
  setenv("WEFT_PLUGINS_DISABLE", "zoo-oldminor", 1);
  runtime = create_runtime(twice_only, 1, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  const weft_plugin_record_t* by_name = single_record(runtime, twice.text);
  assert_record(by_name, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_FILTER,
                WEFT_STATUS_CANCELLED);
  assert_string_equal(by_name->name, "zoo-oldminor");
  assert_int_equal(by_name->abi_version, ABI_1_0);
  assert_contains(by_name->reason, "WEFT_PLUGINS_DISABLE");
  assert_contains(by_name->reason, "'zoo-oldminor'");
  assert_int_equal(by_name->device_count, 0);
  assert_int_equal(weft_runtime_device_count(runtime), 1);
  weft_runtime_destroy(runtime);

  /* The built-in reference backend is always present. */
  setenv("WEFT_PLUGINS_DISABLE", "cpu-ref,*", 1);
  runtime = create_runtime(paths, 1, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  assert_builtin_present(runtime);
  assert_int_equal(weft_runtime_device_count(runtime), 1);
  weft_runtime_destroy(runtime);
}

static void test_only_globs(void** state) {
  (void)state;
  weft_test_path_t low = weft_test_zoo_path("libweft-zoo-variant-low.so");
  weft_test_path_t high = weft_test_zoo_path("libweft-zoo-variant-high.so");
  weft_test_path_t top = weft_test_zoo_path("libweft-zoo-variant-top.so");
  weft_test_path_t old = weft_test_zoo_path("libweft-zoo-oldminor.so");
  const char* paths[] = {low.text, high.text, top.text, old.text};

  /* By plugin name. */
  setenv("WEFT_PLUGINS_ONLY", "zoo-variant-high", 1);
  weft_runtime_t* runtime =
      create_runtime(paths, 4, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  assert_builtin_present(runtime);
  assert_record(weft_test_record_find(runtime, "libweft-zoo-variant-high.so"),
                WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  static const char* const others[] = {"libweft-zoo-variant-low.so",
                                       "libweft-zoo-variant-top.so",
                                       "libweft-zoo-oldminor.so"};
  for (size_t i = 0; i < 3; ++i) {
    const weft_plugin_record_t* record = weft_test_record_find(runtime, others[i]);
    assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_FILTER,
                  WEFT_STATUS_CANCELLED);
    assert_contains(record->reason, "WEFT_PLUGINS_ONLY");
    assert_no_info(record); /* never opened */
  }
  assert_int_equal(weft_runtime_device_count(runtime), 2);
  weft_runtime_destroy(runtime);

  /* By file name, with a glob. */
  setenv("WEFT_PLUGINS_ONLY", "libweft-zoo-old*.so", 1);
  runtime = create_runtime(paths, 4, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  assert_record(weft_test_record_find(runtime, "libweft-zoo-oldminor.so"),
                WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  for (size_t i = 0; i < 2; ++i) {
    assert_record(weft_test_record_find(runtime, others[i]),
                  WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_FILTER,
                  WEFT_STATUS_CANCELLED);
  }
  assert_record(weft_test_record_find(runtime, "libweft-zoo-variant-high.so"),
                WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_FILTER,
                WEFT_STATUS_CANCELLED);
  assert_int_equal(weft_runtime_device_count(runtime), 2);
  weft_runtime_destroy(runtime);

  /* Over the whole zoo: every file not named is kept out before it is
   * opened, broken ones included; discovery still runs first. */
  setenv("WEFT_PLUGINS_ONLY", "zoo-oldminor", 1);
  const char* zoo[] = {WEFT_ZOO_DIR};
  runtime = create_runtime(zoo, 1, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  for (size_t i = 1; i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    const char* base = weft_test_basename(record->path);
    if (strcmp(base, "libweft-zoo-oldminor.so") == 0) {
      assert_record(record, WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                    WEFT_STATUS_OK);
    } else if (strcmp(base, "libweft-zoo-dangling.so") == 0) {
      assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED,
                    WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_NOT_FOUND);
    } else if (strcmp(base, "libweft-zoo-twice.so") == 0) {
      assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED,
                    WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_ALREADY_EXISTS);
    } else {
      assert_record(record, WEFT_PLUGIN_OUTCOME_SKIPPED,
                    WEFT_PLUGIN_STAGE_FILTER, WEFT_STATUS_CANCELLED);
      assert_contains(record->reason, "WEFT_PLUGINS_ONLY");
      assert_no_info(record);
    }
  }
  assert_int_equal(weft_runtime_device_count(runtime), 2);
  weft_runtime_destroy(runtime);

  /* ONLY looks at files, not at the plugin behind a link. */
  weft_test_path_t twice = weft_test_zoo_path("libweft-zoo-twice.so");
  const char* twice_only[] = {twice.text};
  runtime = create_runtime(twice_only, 1, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  const weft_plugin_record_t* link = single_record(runtime, twice.text);
  assert_record(link, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_FILTER,
                WEFT_STATUS_CANCELLED);
  assert_no_info(link);
  weft_runtime_destroy(runtime);

  /* Two entries; the family still picks its best among those let through. */
  setenv("WEFT_PLUGINS_ONLY", "zoo-variant-low:zoo-variant-high", 1);
  runtime = create_runtime(paths, 4, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  assert_record(weft_test_record_find(runtime, "libweft-zoo-variant-high.so"),
                WEFT_PLUGIN_OUTCOME_ACTIVE, WEFT_PLUGIN_STAGE_READY,
                WEFT_STATUS_OK);
  assert_record(weft_test_record_find(runtime, "libweft-zoo-variant-low.so"),
                WEFT_PLUGIN_OUTCOME_PASSED_OVER, WEFT_PLUGIN_STAGE_SELECT,
                WEFT_STATUS_OK);
  weft_runtime_destroy(runtime);
}

/* ---- creation itself ---- */

static void test_create_arguments(void** state) {
  (void)state;
  weft_runtime_t* runtime = (weft_runtime_t*)(uintptr_t)1;
  weft_status_t status =
      weft_runtime_create(NULL, weft_allocator_system(), NULL);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  weft_status_free(status);

  weft_allocator_t broken = {NULL, NULL, NULL};
  status = weft_runtime_create(NULL, broken, &runtime);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  assert_null(runtime);
  weft_status_free(status);

  weft_runtime_options_t options = weft_test_options(NULL, 0, WEFT_TEST_ISOLATED);
  options.struct_size = 0;
  runtime = (weft_runtime_t*)(uintptr_t)1;
  status = weft_runtime_create(&options, weft_allocator_system(), &runtime);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  assert_contains(weft_status_message(status), "struct_size");
  assert_null(runtime);
  weft_status_free(status);

  options = weft_test_options(NULL, 1, WEFT_TEST_ISOLATED);
  status = weft_runtime_create(&options, weft_allocator_system(), &runtime);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  assert_null(runtime);
  weft_status_free(status);

  const char* holes[] = {WEFT_ZOO_DIR, NULL};
  options = weft_test_options(holes, 2, WEFT_TEST_ISOLATED);
  status = weft_runtime_create(&options, weft_allocator_system(), &runtime);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  assert_contains(weft_status_message(status), "plugin_paths[1]");
  assert_null(runtime);
  weft_status_free(status);

  /* Defaults: environment and default directories. */
  status = weft_runtime_create(NULL, weft_allocator_system(), &runtime);
  if (status != WEFT_OK) fail_msg("%s", weft_status_message(status));
  assert_builtin_present(runtime);
  weft_runtime_destroy(runtime);
  weft_runtime_destroy(NULL);
}

/* A skipped plugin leaves a trace in the log, not only in the record. */
static void test_skips_are_logged(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-notelf.so");
  const char* paths[] = {path.text};
  weft_runtime_options_t options = weft_test_options(paths, 1, WEFT_TEST_ISOLATED);
  weft_test_log_t log;
  weft_test_log_install(&options, &log, WEFT_LOG_LEVEL_WARN);
  weft_runtime_t* runtime = NULL;
  assert_null(weft_runtime_create(&options, weft_allocator_system(), &runtime));
  assert_true(weft_test_log_has(&log, WEFT_LOG_LEVEL_WARN, "loader", path.text,
                                "invalid ELF header", NULL));
  assert_int_equal(log.lines[WEFT_LOG_LEVEL_INFO], 0);
  assert_int_equal(log.lines[WEFT_LOG_LEVEL_DEBUG], 0);
  weft_runtime_destroy(runtime);
  weft_test_log_deinit(&log);

  /* Filtered below the level asked for. */
  weft_test_log_install(&options, &log, WEFT_LOG_LEVEL_ERROR);
  assert_null(weft_runtime_create(&options, weft_allocator_system(), &runtime));
  assert_int_equal(log.lines[WEFT_LOG_LEVEL_WARN], 0);
  weft_runtime_destroy(runtime);
  weft_test_log_deinit(&log);
}

/* WEFT_LOG sets the level when the options leave it to the environment. */
static void test_weft_log_level(void** state) {
  (void)state;
  weft_test_path_t path = weft_test_zoo_path("libweft-zoo-notelf.so");
  const char* paths[] = {path.text};
  weft_runtime_options_t options =
      weft_test_options(paths, 1, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  weft_test_log_t log;
  weft_runtime_t* runtime = NULL;

  setenv("WEFT_LOG", "info", 1);
  weft_test_log_install(&options, &log, WEFT_LOG_LEVEL_WARN);
  options.log_level = -1;
  assert_null(weft_runtime_create(&options, weft_allocator_system(), &runtime));
  assert_true(log.lines[WEFT_LOG_LEVEL_WARN] > 0);
  assert_true(log.lines[WEFT_LOG_LEVEL_INFO] > 0);
  assert_int_equal(log.lines[WEFT_LOG_LEVEL_DEBUG], 0);
  weft_runtime_destroy(runtime);
  weft_test_log_deinit(&log);

  setenv("WEFT_LOG", "error", 1);
  weft_test_log_install(&options, &log, WEFT_LOG_LEVEL_WARN);
  options.log_level = -1;
  assert_null(weft_runtime_create(&options, weft_allocator_system(), &runtime));
  assert_int_equal(log.lines[WEFT_LOG_LEVEL_WARN], 0);
  assert_int_equal(log.lines[WEFT_LOG_LEVEL_INFO], 0);
  weft_runtime_destroy(runtime);
  weft_test_log_deinit(&log);

  /* An explicit level wins over the environment. */
  weft_test_log_install(&options, &log, WEFT_LOG_LEVEL_WARN);
  assert_null(weft_runtime_create(&options, weft_allocator_system(), &runtime));
  assert_true(log.lines[WEFT_LOG_LEVEL_WARN] > 0);
  assert_int_equal(log.lines[WEFT_LOG_LEVEL_INFO], 0);
  weft_runtime_destroy(runtime);
  weft_test_log_deinit(&log);

  /* A value that is no level is reported, and warn applies. */
  setenv("WEFT_LOG", "loud", 1);
  weft_test_log_install(&options, &log, WEFT_LOG_LEVEL_WARN);
  options.log_level = -1;
  assert_null(weft_runtime_create(&options, weft_allocator_system(), &runtime));
  assert_true(weft_test_log_has(&log, WEFT_LOG_LEVEL_WARN, "runtime", "WEFT_LOG",
                                "loud", NULL));
  assert_int_equal(log.lines[WEFT_LOG_LEVEL_INFO], 0);
  weft_runtime_destroy(runtime);
  weft_test_log_deinit(&log);
}

static void test_names(void** state) {
  (void)state;
  static const char* const stages[] = {"discover", "filter", "open",
                                       "symbol", "negotiate", "probe",
                                       "select", "instance", "ready"};
  for (int i = 0; i <= WEFT_PLUGIN_STAGE_READY; ++i) {
    assert_string_equal(weft_plugin_stage_name((weft_plugin_stage_t)i),
                        stages[i]);
  }
  assert_string_equal(weft_plugin_outcome_name(WEFT_PLUGIN_OUTCOME_ACTIVE),
                      "active");
  assert_string_equal(weft_plugin_outcome_name(WEFT_PLUGIN_OUTCOME_PASSED_OVER),
                      "passed-over");
  assert_string_equal(weft_plugin_outcome_name(WEFT_PLUGIN_OUTCOME_UNAVAILABLE),
                      "unavailable");
  assert_string_equal(weft_plugin_outcome_name(WEFT_PLUGIN_OUTCOME_SKIPPED),
                      "skipped");
  assert_string_equal(weft_path_origin_name(WEFT_PATH_ORIGIN_API), "api");
  assert_string_equal(weft_path_origin_name(WEFT_PATH_ORIGIN_ENV),
                      "WEFT_PLUGIN_PATH");
  assert_string_equal(weft_path_origin_name(WEFT_PATH_ORIGIN_BESIDE_LIBRARY),
                      "beside-library");
  assert_string_equal(weft_path_origin_name(WEFT_PATH_ORIGIN_INSTALL),
                      "install");
  assert_string_equal(weft_log_level_name(WEFT_LOG_LEVEL_ERROR), "error");
  assert_string_equal(weft_log_level_name(WEFT_LOG_LEVEL_WARN), "warn");
  assert_string_equal(weft_log_level_name(WEFT_LOG_LEVEL_INFO), "info");
  assert_string_equal(weft_log_level_name(WEFT_LOG_LEVEL_DEBUG), "debug");
  /* Out of range: a name, never NULL. */
  assert_non_null(weft_plugin_stage_name((weft_plugin_stage_t)99));
  assert_non_null(weft_plugin_outcome_name((weft_plugin_outcome_t)99));
  assert_non_null(weft_path_origin_name((weft_path_origin_t)99));
  /* Out-of-range getters. */
  weft_runtime_t* runtime = create_runtime(NULL, 0, WEFT_TEST_ISOLATED);
  assert_null(weft_runtime_plugin_get(runtime, 1));
  assert_null(weft_runtime_search_path_get(runtime, 0));
  assert_null(weft_runtime_device_get(runtime, 1));
  assert_int_equal(weft_runtime_plugin_count(NULL), 0);
  assert_int_equal(weft_runtime_device_count(NULL), 0);
  assert_int_equal(weft_runtime_search_path_count(NULL), 0);
  weft_runtime_destroy(runtime);
}

/* Every zoo member releases all it took from the application's allocator. */
static void test_zoo_allocations_balance(void** state) {
  (void)state;
  weft_test_allocator_t ta;
  assert_true(weft_test_allocator_init(&ta));
  const char* paths[] = {WEFT_ZOO_DIR};
  weft_runtime_options_t options = weft_test_options(paths, 1, WEFT_TEST_ISOLATED);
  weft_runtime_t* runtime = NULL;
  assert_null(weft_runtime_create(&options, weft_test_allocator_get(&ta),
                                  &runtime));
  weft_test_allocator_stats_t stats = weft_test_allocator_stats(&ta);
  assert_true(stats.live_count > 0);
  weft_device_t* device = weft_test_device_by_id(runtime, "zoo-oldminor:0", NULL);
  round_trip(device, WEFT_MEMORY_TYPE_HOST_VISIBLE);
  weft_runtime_destroy(runtime);
  stats = weft_test_allocator_stats(&ta);
  assert_int_equal(stats.live_count, 0);
  assert_int_equal(stats.foreign_frees, 0);
  assert_int_equal(stats.bad_alignment, 0);
  weft_test_allocator_deinit(&ta);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_env, teardown_env)

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(test_not_elf),
      TEST(test_foreign_machine),
      TEST(test_missing_dependency),
      TEST(test_no_entry_symbol),
      TEST(test_refuses_negotiation),
      TEST(test_future_major),
      TEST(test_old_minor_loads_and_works),
      TEST(test_probe_fails),
      TEST(test_probe_unavailable),
      TEST(test_env_get_reaches_plugins),
      TEST(test_variants_best_available_wins),
      TEST(test_same_file_twice),
      TEST(test_same_directory_twice),
      TEST(test_dangling_link),
      cmocka_unit_test_setup_teardown(test_unreadable_directory, setup_env,
                                      teardown_caps),
      TEST(test_missing_path),
      TEST(test_whole_zoo),
      TEST(test_search_path_order_and_origins),
      TEST(test_ignore_env_and_no_default_paths),
      TEST(test_plugins_load_after_create),
      TEST(test_plugins_load_keeps_variant_in_use),
      TEST(test_disable_globs),
      TEST(test_only_globs),
      TEST(test_create_arguments),
      TEST(test_skips_are_logged),
      TEST(test_weft_log_level),
      TEST(test_names),
      TEST(test_zoo_allocations_balance),
  };
  return cmocka_run_group_tests_name("core/loader", tests, NULL, NULL);
}
