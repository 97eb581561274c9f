/* Support code for tests that create runtimes over the plugin zoo (tests/zoo):
 * path building, record and device look-up, a clean environment and a log
 * capture. Test code only: failures are reported by returning NULL/false and
 * the caller asserts. */
#ifndef WEFT_TESTS_TESTING_RUNTIME_FIXTURE_H_
#define WEFT_TESTS_TESTING_RUNTIME_FIXTURE_H_

#include <stdbool.h>
#include <stddef.h>

#include "weft/weft.h"

/* The zoo's directory comes from the build (WEFT_ZOO_DIR). */
#ifndef WEFT_ZOO_DIR
#error "tests using the zoo need WEFT_ZOO_DIR"
#endif

/* Room for any path the tests build (Linux PATH_MAX). */
#define WEFT_TEST_PATH_CAP 4096

typedef struct weft_test_path_t {
  char text[WEFT_TEST_PATH_CAP];
} weft_test_path_t;

/* "<WEFT_ZOO_DIR>/<name>". */
weft_test_path_t weft_test_zoo_path(const char* name);

/* Unsets every variable the runtime and the zoo read (WEFT_PLUGIN_PATH,
 * WEFT_PLUGINS_DISABLE, WEFT_PLUGINS_ONLY, WEFT_DEVICE, WEFT_LOG,
 * WEFT_ZOO_FLUX_CAPACITOR), so that a test that honours the environment sees
 * only what it sets itself. */
void weft_test_env_clear(void);

/* Options over `paths` with `flags`; everything else default. */
weft_runtime_options_t weft_test_options(const char* const* paths,
                                         size_t path_count, uint32_t flags);

/* The isolated flags most loader tests use: no environment, no default
 * directories, so that only the paths given are searched. */
#define WEFT_TEST_ISOLATED \
  (WEFT_RUNTIME_FLAG_IGNORE_ENV | WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS)

const char* weft_test_basename(const char* path);

/* The first record whose path's basename is `basename` (or whose path is
 * "(built-in)" when basename is that), or NULL. */
const weft_plugin_record_t* weft_test_record_find(const weft_runtime_t* runtime,
                                                  const char* basename);
/* How many records have that basename. */
size_t weft_test_record_count(const weft_runtime_t* runtime,
                              const char* basename);
/* The record of the plugin named `name` that is ACTIVE, or NULL. */
const weft_plugin_record_t* weft_test_record_active(
    const weft_runtime_t* runtime, const char* name);

/* The device with id `id`, or NULL; *out_index gets its registry index. */
weft_device_t* weft_test_device_by_id(const weft_runtime_t* runtime,
                                      const char* id, size_t* out_index);

/* Log capture: install with weft_test_log_install(&options, &log). */
typedef struct weft_test_log_t {
  char* text;          /* every line as "<level> <source>: <message>\n" */
  size_t length;
  size_t capacity;
  size_t lines[4];     /* per weft_log_level_t */
} weft_test_log_t;

void weft_test_log_install(weft_runtime_options_t* options,
                           weft_test_log_t* log, weft_log_level_t level);
/* True if some line of `level` from `source` contains every one of the
 * NULL-terminated needles. */
bool weft_test_log_has(const weft_test_log_t* log, weft_log_level_t level,
                       const char* source, const char* needle, ...)
    __attribute__((sentinel));
void weft_test_log_deinit(weft_test_log_t* log);

/* Resident set size of this process in bytes (/proc/self/statm), 0 if
 * unknown. */
size_t weft_test_rss_bytes(void);

#endif /* WEFT_TESTS_TESTING_RUNTIME_FIXTURE_H_ */
