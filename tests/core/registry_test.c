/* The device registry: order by score (ties in load order), the default
 * device and WEFT_DEVICE, look-up by id, plugin name, type and index, and one
 * physical device reached through two plugins (zoo twins, same UUID).
 *
 * Expectations follow core/include/weft/runtime.h and docs/abi.md
 * sections 11-12. */
#define _GNU_SOURCE /* setenv under -std=c11 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testing/runtime_fixture.h"
#include "weft/weft.h"

#define assert_contains(haystack, needle)                                    \
  do {                                                                       \
    const char* h_ = (haystack);                                             \
    const char* n_ = (needle);                                               \
    assert_non_null(h_);                                                     \
    if (strstr(h_, n_) == NULL) {                                            \
      fail_msg("expected \"%s\" to contain \"%s\"", h_, n_);                 \
    }                                                                        \
  } while (0)

static weft_runtime_t* create_with(const char* const* names, size_t count,
                                   uint32_t flags) {
  weft_test_path_t paths[8];
  const char* texts[8];
  assert_true(count <= 8);
  for (size_t i = 0; i < count; ++i) {
    paths[i] = weft_test_zoo_path(names[i]);
    texts[i] = paths[i].text;
  }
  weft_runtime_options_t options = weft_test_options(texts, count, flags);
  weft_runtime_t* runtime = NULL;
  weft_status_t status =
      weft_runtime_create(&options, weft_allocator_system(), &runtime);
  if (status != WEFT_OK) fail_msg("%s", weft_status_message(status));
  return runtime;
}

static const char* device_id(weft_device_t* device) {
  if (device == NULL) return "(none)";
  weft_device_info_t info;
  weft_device_info_get(device, &info);
  return info.id;
}

static weft_device_info_t info_of(const weft_runtime_t* runtime,
                                  const char* id) {
  weft_device_t* device = weft_test_device_by_id(runtime, id, NULL);
  if (device == NULL) fail_msg("no device %s", id);
  weft_device_info_t info;
  weft_device_info_get(device, &info);
  return info;
}

static void assert_find(const weft_runtime_t* runtime, const char* query,
                        const char* want_id) {
  weft_device_t* device = (weft_device_t*)(uintptr_t)1;
  weft_status_t status = weft_runtime_device_find(runtime, query, &device);
  if (status != WEFT_OK) {
    fail_msg("find '%s': %s", query, weft_status_message(status));
  }
  if (strcmp(device_id(device), want_id) != 0) {
    fail_msg("find '%s': expected %s, got %s", query, want_id,
             device_id(device));
  }
}

static void assert_not_found(const weft_runtime_t* runtime, const char* query) {
  weft_device_t* device = (weft_device_t*)(uintptr_t)1;
  weft_status_t status = weft_runtime_device_find(runtime, query, &device);
  if (weft_status_code(status) != WEFT_STATUS_NOT_FOUND) {
    fail_msg("find '%s': expected NOT_FOUND, got %s (%s)", query,
             weft_status_code_name(weft_status_code(status)),
             weft_status_message(status));
  }
  assert_null(device);
  /* Names the query and lists the ids there are. */
  const char* message = weft_status_message(status);
  char quoted[256];
  snprintf(quoted, sizeof(quoted), "'%s'", query);
  assert_contains(message, quoted);
  for (size_t i = 0; i < weft_runtime_device_count(runtime); ++i) {
    assert_contains(message, device_id(weft_runtime_device_get(runtime, i)));
  }
  weft_status_free(status);
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

static const char* const kFour[] = {
    "libweft-zoo-oldminor.so", "libweft-zoo-twin-b.so", "libweft-zoo-twin-a.so",
    "libweft-zoo-variant-high.so"};

/* ---- order ---- */

static void test_order_by_score_then_load_order(void** state) {
  (void)state;
  weft_runtime_t* runtime = create_with(kFour, 4, WEFT_TEST_ISOLATED);
  /* twin-a 600, twin-b 500, cpu-ref 100, then two at 40 in load order. */
  static const char* const want[] = {"zoo-twin-a:0", "zoo-twin-b:0",
                                     "cpu-ref:0", "zoo-oldminor:0",
                                     "zoo-variant-high:0"};
  static const int32_t scores[] = {600, 500, 100, 40, 40};
  assert_int_equal(weft_runtime_device_count(runtime), 5);
  for (size_t i = 0; i < 5; ++i) {
    weft_device_t* device = weft_runtime_device_get(runtime, i);
    weft_device_info_t info;
    weft_device_info_get(device, &info);
    assert_string_equal(info.id, want[i]);
    assert_int_equal(info.score, scores[i]);
    assert_int_equal(info.caps->score, scores[i]);
  }
  assert_null(weft_runtime_device_get(runtime, 5));
  weft_runtime_destroy(runtime);

  /* The same files found in the other order: only the tie flips. */
  static const char* const reversed[] = {
      "libweft-zoo-variant-high.so", "libweft-zoo-twin-a.so",
      "libweft-zoo-twin-b.so", "libweft-zoo-oldminor.so"};
  runtime = create_with(reversed, 4, WEFT_TEST_ISOLATED);
  static const char* const want_reversed[] = {
      "zoo-twin-a:0", "zoo-twin-b:0", "cpu-ref:0", "zoo-variant-high:0",
      "zoo-oldminor:0"};
  for (size_t i = 0; i < 5; ++i) {
    assert_string_equal(device_id(weft_runtime_device_get(runtime, i)),
                        want_reversed[i]);
  }
  weft_runtime_destroy(runtime);
}

static void test_device_info(void** state) {
  (void)state;
  weft_runtime_t* runtime = create_with(kFour, 4, WEFT_TEST_ISOLATED);
  weft_test_path_t twin_a_path = weft_test_zoo_path("libweft-zoo-twin-a.so");
  weft_device_info_t twin_a = info_of(runtime, "zoo-twin-a:0");
  assert_string_equal(twin_a.plugin, "zoo-twin-a");
  assert_string_equal(twin_a.plugin_path, twin_a_path.text);
  assert_non_null(twin_a.caps);
  assert_int_equal(twin_a.caps->type, WEFT_DEVICE_TYPE_GPU);
  assert_string_equal(twin_a.caps->name, "zoo twin GPU (zoo-twin-a)");
  assert_string_equal(twin_a.caps->vendor, "weft zoo");
  assert_int_equal(twin_a.caps->memory_total, 64u << 20);
  assert_null(twin_a.caps->next);

  weft_device_info_t cpu = info_of(runtime, "cpu-ref:0");
  assert_string_equal(cpu.plugin, "cpu-ref");
  assert_string_equal(cpu.plugin_path, "(built-in)");
  assert_int_equal(cpu.caps->type, WEFT_DEVICE_TYPE_CPU);
  assert_int_equal(cpu.score, 100);

  /* NULL device: zeroed. */
  weft_device_info_t none;
  memset(&none, 0xAB, sizeof(none));
  weft_device_info_get(NULL, &none);
  assert_null(none.id);
  assert_null(none.caps);

  static const struct {
    weft_device_type_t type;
    const char* name;
  } types[] = {{WEFT_DEVICE_TYPE_CPU, "cpu"},
               {WEFT_DEVICE_TYPE_GPU, "gpu"},
               {WEFT_DEVICE_TYPE_INTEGRATED_GPU, "igpu"},
               {WEFT_DEVICE_TYPE_ACCELERATOR, "accelerator"},
               {WEFT_DEVICE_TYPE_VIRTUAL, "virtual"}};
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); ++i) {
    assert_string_equal(weft_device_type_name(types[i].type), types[i].name);
  }
  weft_runtime_destroy(runtime);
}

/* ---- one physical device, two plugins ---- */

static void test_twins_share_a_physical_device(void** state) {
  (void)state;
  weft_runtime_t* runtime = create_with(kFour, 4, WEFT_TEST_ISOLATED);
  weft_device_info_t a = info_of(runtime, "zoo-twin-a:0");
  weft_device_info_t b = info_of(runtime, "zoo-twin-b:0");
  weft_device_info_t cpu = info_of(runtime, "cpu-ref:0");
  weft_device_info_t old = info_of(runtime, "zoo-oldminor:0");
  weft_device_info_t high = info_of(runtime, "zoo-variant-high:0");

  assert_true(a.caps->flags & WEFT_DEVICE_FLAG_HAS_UUID);
  assert_true(b.caps->flags & WEFT_DEVICE_FLAG_HAS_UUID);
  assert_memory_equal(a.caps->uuid, b.caps->uuid, 16);
  /* Both listed, one physical device, only the higher-scored path preferred. */
  assert_int_equal(a.physical_index, b.physical_index);
  assert_int_equal(a.preferred, 1);
  assert_int_equal(b.preferred, 0);
  /* Everything else is a device of its own. */
  const uint32_t others[] = {cpu.physical_index, old.physical_index,
                             high.physical_index};
  for (size_t i = 0; i < 3; ++i) {
    assert_int_not_equal(others[i], a.physical_index);
    for (size_t j = i + 1; j < 3; ++j) assert_int_not_equal(others[i], others[j]);
  }
  assert_int_equal(cpu.preferred, 1);
  assert_int_equal(old.preferred, 1);
  assert_int_equal(high.preferred, 1);
  weft_runtime_destroy(runtime);

  /* Found the other way round, the higher score still decides. */
  static const char* const b_first[] = {"libweft-zoo-twin-b.so",
                                        "libweft-zoo-twin-a.so"};
  runtime = create_with(b_first, 2, WEFT_TEST_ISOLATED);
  a = info_of(runtime, "zoo-twin-a:0");
  b = info_of(runtime, "zoo-twin-b:0");
  assert_int_equal(a.physical_index, b.physical_index);
  assert_int_equal(a.preferred, 1);
  assert_int_equal(b.preferred, 0);
  /* Alone, twin-b is preferred: it is the only path. */
  weft_runtime_destroy(runtime);
  runtime = create_with(b_first, 1, WEFT_TEST_ISOLATED);
  b = info_of(runtime, "zoo-twin-b:0");
  assert_int_equal(b.preferred, 1);
  weft_runtime_destroy(runtime);
}

/* ---- default device and WEFT_DEVICE ---- */

static void test_default_device(void** state) {
  (void)state;
  weft_runtime_t* runtime = create_with(kFour, 4, WEFT_TEST_ISOLATED);
  assert_string_equal(device_id(weft_runtime_device_default(runtime)),
                      "zoo-twin-a:0");
  weft_runtime_destroy(runtime);

  /* Only the reference backend: it is the default. */
  runtime = create_with(NULL, 0, WEFT_TEST_ISOLATED);
  assert_string_equal(device_id(weft_runtime_device_default(runtime)),
                      "cpu-ref:0");
  weft_runtime_destroy(runtime);

  /* IGNORE_ENV ignores WEFT_DEVICE as well. */
  setenv("WEFT_DEVICE", "cpu", 1);
  runtime = create_with(kFour, 4, WEFT_TEST_ISOLATED);
  assert_string_equal(device_id(weft_runtime_device_default(runtime)),
                      "zoo-twin-a:0");
  weft_runtime_destroy(runtime);
}

static void test_weft_device_selects(void** state) {
  (void)state;
  static const struct {
    const char* value;
    const char* want;
  } cases[] = {
      {"cpu", "cpu-ref:0"},               /* by type */
      {"gpu", "zoo-twin-a:0"},            /* by type: the preferred path */
      {"zoo-twin-b", "zoo-twin-b:0"},     /* by plugin name, not preferred */
      {"zoo-oldminor:0", "zoo-oldminor:0"}, /* by id */
      {"#4", "zoo-variant-high:0"},       /* by registry index */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    setenv("WEFT_DEVICE", cases[i].value, 1);
    weft_runtime_t* runtime =
        create_with(kFour, 4, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
    const char* got = device_id(weft_runtime_device_default(runtime));
    if (strcmp(got, cases[i].want) != 0) {
      fail_msg("WEFT_DEVICE=%s: expected %s, got %s", cases[i].value,
               cases[i].want, got);
    }
    weft_runtime_destroy(runtime);
  }
}

/* A WEFT_DEVICE that names nothing falls back to the best device, and says
 * so in the log rather than silently. */
static void test_weft_device_unknown_falls_back(void** state) {
  (void)state;
  setenv("WEFT_DEVICE", "no-such-device:7", 1);
  weft_test_path_t paths[4];
  const char* texts[4];
  for (size_t i = 0; i < 4; ++i) {
    paths[i] = weft_test_zoo_path(kFour[i]);
    texts[i] = paths[i].text;
  }
  weft_runtime_options_t options =
      weft_test_options(texts, 4, WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS);
  weft_test_log_t log;
  weft_test_log_install(&options, &log, WEFT_LOG_LEVEL_WARN);
  weft_runtime_t* runtime = NULL;
  assert_null(weft_runtime_create(&options, weft_allocator_system(), &runtime));
  weft_device_t* device = weft_runtime_device_default(runtime);
  assert_non_null(device);
  assert_string_equal(device_id(device), "zoo-twin-a:0");
  assert_true(weft_test_log_has(&log, WEFT_LOG_LEVEL_WARN, "registry",
                                "WEFT_DEVICE", "no-such-device:7", NULL));
  weft_runtime_destroy(runtime);
  weft_test_log_deinit(&log);
}

/* ---- find ---- */

static void test_find(void** state) {
  (void)state;
  weft_runtime_t* runtime = create_with(kFour, 4, WEFT_TEST_ISOLATED);
  assert_find(runtime, "zoo-twin-b:0", "zoo-twin-b:0");
  assert_find(runtime, "cpu-ref:0", "cpu-ref:0");
  assert_find(runtime, "zoo-oldminor", "zoo-oldminor:0");
  assert_find(runtime, "cpu-ref", "cpu-ref:0");
  assert_find(runtime, "gpu", "zoo-twin-a:0");
  assert_find(runtime, "cpu", "cpu-ref:0");
  assert_find(runtime, "#0", "zoo-twin-a:0");
  assert_find(runtime, "#2", "cpu-ref:0");
  assert_find(runtime, "#4", "zoo-variant-high:0");

  assert_not_found(runtime, "#5");
  assert_not_found(runtime, "#");
  assert_not_found(runtime, "#1x");
  assert_not_found(runtime, "igpu");
  assert_not_found(runtime, "accelerator");
  assert_not_found(runtime, "virtual");
  assert_not_found(runtime, "zoo-twin-a:1");
  assert_not_found(runtime, "zoo-twin");
  assert_not_found(runtime, "zoo-variant-low"); /* passed over: no device */
  assert_not_found(runtime, "");

  weft_device_t* device = (weft_device_t*)(uintptr_t)1;
  weft_status_t status = weft_runtime_device_find(runtime, NULL, &device);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  assert_null(device);
  weft_status_free(status);
  status = weft_runtime_device_find(runtime, "cpu", NULL);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  weft_status_free(status);
  weft_runtime_destroy(runtime);
}

/* ---- without the reference backend ---- */

static void test_no_reference_cpu(void** state) {
  (void)state;
  const uint32_t flags = WEFT_TEST_ISOLATED | WEFT_RUNTIME_FLAG_NO_REFERENCE_CPU;
  static const char* const old[] = {"libweft-zoo-oldminor.so"};
  weft_runtime_t* runtime = create_with(old, 1, flags);
  assert_int_equal(weft_runtime_plugin_count(runtime), 1);
  assert_int_equal(weft_runtime_device_count(runtime), 1);
  assert_string_equal(device_id(weft_runtime_device_default(runtime)),
                      "zoo-oldminor:0");
  assert_find(runtime, "cpu", "zoo-oldminor:0");
  weft_runtime_destroy(runtime);

  runtime = create_with(NULL, 0, flags);
  assert_int_equal(weft_runtime_plugin_count(runtime), 0);
  assert_int_equal(weft_runtime_device_count(runtime), 0);
  assert_null(weft_runtime_device_default(runtime));
  weft_device_t* device = (weft_device_t*)(uintptr_t)1;
  weft_status_t status = weft_runtime_device_find(runtime, "cpu", &device);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_NOT_FOUND);
  assert_contains(weft_status_message(status), "'cpu'");
  assert_null(device);
  weft_status_free(status);
  weft_runtime_destroy(runtime);
}

/* ---- memory queries ---- */

static void test_memory_query_live_and_fallback(void** state) {
  (void)state;
  weft_runtime_t* runtime = create_with(kFour, 4, WEFT_TEST_ISOLATED);
  weft_device_t* live =
      weft_test_device_by_id(runtime, "zoo-variant-high:0", NULL);
  weft_device_t* old = weft_test_device_by_id(runtime, "zoo-oldminor:0", NULL);
  assert_non_null(live);
  assert_non_null(old);

  /* ABI 1.1: the plugin answers, and sees its own allocations. */
  uint64_t free_bytes = 0, total_bytes = 0;
  weft_status_t status = weft_device_memory_query(live, &free_bytes, &total_bytes);
  if (status != WEFT_OK) fail_msg("%s", weft_status_message(status));
  assert_int_equal(free_bytes, 60u << 20);
  assert_int_equal(total_bytes, 64u << 20);
  weft_buffer_t* buffer = NULL;
  assert_null(weft_buffer_create(live, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 1u << 20,
                                 &buffer));
  assert_null(weft_device_memory_query(live, &free_bytes, &total_bytes));
  assert_int_equal(free_bytes, 59u << 20);
  assert_int_equal(total_bytes, 64u << 20);
  weft_buffer_destroy(buffer);
  assert_null(weft_device_memory_query(live, &free_bytes, &total_bytes));
  assert_int_equal(free_bytes, 60u << 20);

  /* ABI 1.0: the capability record, whatever is allocated. */
  assert_null(weft_device_memory_query(old, &free_bytes, &total_bytes));
  assert_int_equal(free_bytes, 48u << 20);
  assert_int_equal(total_bytes, 64u << 20);

  /* Bigger than the device: refused with the sizes named. */
  status = weft_buffer_create(live, WEFT_MEMORY_TYPE_DEVICE_LOCAL,
                              (uint64_t)65 << 20, &buffer);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_RESOURCE_EXHAUSTED);
  assert_null(buffer);
  assert_contains(weft_status_message(status), "zoo-variant-high:0");
  weft_status_free(status);

  status = weft_device_memory_query(live, NULL, &total_bytes);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  weft_status_free(status);
  weft_runtime_destroy(runtime);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_env, teardown_env)

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(test_order_by_score_then_load_order),
      TEST(test_device_info),
      TEST(test_twins_share_a_physical_device),
      TEST(test_default_device),
      TEST(test_weft_device_selects),
      TEST(test_weft_device_unknown_falls_back),
      TEST(test_find),
      TEST(test_no_reference_cpu),
      TEST(test_memory_query_live_and_fallback),
  };
  return cmocka_run_group_tests_name("core/registry", tests, NULL, NULL);
}
