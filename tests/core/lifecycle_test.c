/* A thousand runtimes, one after the other, over the zoo and the in-tree
 * plugins: every one returns all it allocated (the allocator's live count is
 * 0 after each destroy) and loads the same thing as the first, and the
 * process does not grow (resident size between iteration 100 and 1000), so
 * loading, unloading and every cleanup path are leak-free, dlclose included.
 *
 * In-tree plugins that bring up a vendor driver (a non-empty min_driver:
 * Vulkan, OpenCL, CUDA) take tens of milliseconds per runtime and load
 * libraries weft does not own; they run a shorter loop of their own, with
 * the same allocator check.
 *
 * Under AddressSanitizer two things are loosened, both forced by it:
 *   - the quarantine is off (tests/core/CMakeLists.txt), else freed blocks
 *     are held back by the hundreds of megabytes and read as growth;
 *   - every dlopen of an instrumented module leaves a few KiB behind in the
 *     sanitizer's own bookkeeping, even after dlclose (a bare dlopen/dlclose
 *     loop shows it), and a driver's library chain leaves far more; once a
 *     driver stack (Mesa) has been in the process, even runtimes without it
 *     grow by tens of KiB each. So the test keeps the plugin files it can
 *     open loaded for the whole light loop (the runtime's dlopen/dlclose then
 *     only move reference counts), runs that loop before any driver is
 *     loaded, and does not measure resident size for the driver loop. The
 *     build without sanitizers shows none of this, and checks everything,
 *     unloading included. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fork, fdopen under -std=c11 */

#include <dirent.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testing/runtime_fixture.h"
#include "testing/test_allocator.h"
#include "weft/weft.h"

#ifndef WEFT_INTREE_PLUGIN_DIR
#error "the build passes WEFT_INTREE_PLUGIN_DIR (build/lib/plugins)"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define ITERATIONS 1000
#define RSS_FROM 100
#define DRIVER_ITERATIONS 50
#define DRIVER_RSS_FROM 10
/* Resident growth allowed once warm: a leak of one small block per runtime
 * (~1 KiB) over 900 runtimes adds about as much. Page-granular noise from
 * the loader and the C library stays far below it. */
#define RSS_BOUND_BYTES ((size_t)1 << 20)

#define MAX_FILES 64

typedef struct file_list_t {
  weft_test_path_t paths[MAX_FILES];
  const char* texts[MAX_FILES];
  size_t count;
} file_list_t;

static void file_list_add(file_list_t* list, const char* path) {
  assert_true(list->count < MAX_FILES);
  size_t length = strlen(path);
  assert_true(length < sizeof(list->paths[0].text));
  memcpy(list->paths[list->count].text, path, length + 1);
  list->texts[list->count] = list->paths[list->count].text;
  ++list->count;
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The in-tree plugin files, split by whether they need a vendor driver
 * (their record's min_driver), as one runtime over the directory says. The
 * runtime is made in a child process: a driver stack, once loaded, changes
 * what the sanitizer keeps for every later runtime (see the top). */
static void split_intree(file_list_t* light, file_list_t* driver) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    close(fds[0]);
    FILE* out = fdopen(fds[1], "w");
    const char* paths[] = {WEFT_INTREE_PLUGIN_DIR};
    weft_runtime_options_t options =
        weft_test_options(paths, 1, WEFT_TEST_ISOLATED);
    weft_runtime_t* runtime = NULL;
    weft_status_t status =
        weft_runtime_create(&options, weft_allocator_system(), &runtime);
    if (out == NULL || status != WEFT_OK) _exit(1);
    for (size_t i = 0; i < weft_runtime_plugin_count(runtime); ++i) {
      const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
      if (record->search_path_index != 0) continue;
      fprintf(out, "%c%s\n", record->min_driver[0] != '\0' ? 'D' : 'L',
              record->path);
    }
    weft_runtime_destroy(runtime);
    fclose(out);
    _exit(0);
  }
  close(fds[1]);
  FILE* in = fdopen(fds[0], "r");
  assert_non_null(in);
  char line[WEFT_TEST_PATH_CAP + 2];
  while (fgets(line, sizeof(line), in) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    file_list_add(line[0] == 'D' ? driver : light, line + 1);
  }
  fclose(in);
  int wstatus = 0;
  assert_int_equal(waitpid(child, &wstatus, 0), child);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    fail_msg("the child listing %s failed (status 0x%x)", WEFT_INTREE_PLUGIN_DIR,
             (unsigned)wstatus);
  }
}

/* Keeps every openable plugin file loaded (see the comment at the top). */
typedef struct pins_t {
  void* handles[2 * MAX_FILES];
  size_t count;
} pins_t;

static void pin_file(pins_t* pins, const char* path) {
  if (pins->count == sizeof(pins->handles) / sizeof(pins->handles[0])) return;
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle != NULL) pins->handles[pins->count++] = handle;
}

static void pin_directory(pins_t* pins, const char* directory) {
  DIR* dir = opendir(directory);
  assert_non_null(dir);
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL) {
    size_t n = strlen(entry->d_name);
    if (n > 11 && strncmp(entry->d_name, "libweft-", 8) == 0 &&
        strcmp(entry->d_name + n - 3, ".so") == 0) {
      weft_test_path_t path;
      snprintf(path.text, sizeof(path.text), "%s/%s", directory, entry->d_name);
      pin_file(pins, path.text);
    }
  }
  closedir(dir);
}

static void unpin_all(pins_t* pins) {
  while (pins->count > 0) dlclose(pins->handles[--pins->count]);
}

/* Creates and destroys `iterations` runtimes over `paths`; returns the
 * resident growth from iteration `rss_from` to the last. */
static size_t churn(const char* what, const char* const* paths, size_t count,
                    int iterations, int rss_from) {
  weft_runtime_options_t options =
      weft_test_options(paths, count, WEFT_TEST_ISOLATED);
  weft_test_allocator_t ta;
  assert_true(weft_test_allocator_init(&ta));
  weft_allocator_t allocator = weft_test_allocator_get(&ta);

  size_t records = 0, devices = 0, rss_start = 0, rss_end = 0;
  const double start = seconds_now();
  for (int i = 1; i <= iterations; ++i) {
    weft_runtime_t* runtime = NULL;
    weft_status_t status = weft_runtime_create(&options, allocator, &runtime);
    if (status != WEFT_OK) {
      fail_msg("%s, iteration %d: %s", what, i, weft_status_message(status));
    }
    if (i == 1) {
      records = weft_runtime_plugin_count(runtime);
      devices = weft_runtime_device_count(runtime);
    } else if (weft_runtime_plugin_count(runtime) != records ||
               weft_runtime_device_count(runtime) != devices) {
      fail_msg("%s, iteration %d: %zu records and %zu devices, the first had "
               "%zu and %zu",
               what, i, weft_runtime_plugin_count(runtime),
               weft_runtime_device_count(runtime), records, devices);
    }
    weft_runtime_destroy(runtime);
    weft_test_allocator_stats_t stats = weft_test_allocator_stats(&ta);
    if (stats.live_count != 0 || stats.foreign_frees != 0) {
      fail_msg("%s, iteration %d: %llu blocks (%llu bytes) live after "
               "destroy, %llu foreign frees",
               what, i, (unsigned long long)stats.live_count,
               (unsigned long long)stats.live_bytes,
               (unsigned long long)stats.foreign_frees);
    }
    if (i == rss_from) rss_start = weft_test_rss_bytes();
    if (i == iterations) rss_end = weft_test_rss_bytes();
  }
  print_message("%s: %d runtimes (%zu records, %zu devices each) in %.1f s; "
                "RSS %zu KiB at %d, %zu KiB at %d\n",
                what, iterations, records, devices, seconds_now() - start,
                rss_start >> 10, rss_from, rss_end >> 10, iterations);
  weft_test_allocator_deinit(&ta);
  assert_true(rss_start > 0);
  return rss_end > rss_start ? rss_end - rss_start : 0;
}

static void test_create_destroy_a_thousand_times(void** state) {
  (void)state;
  weft_test_env_clear();
  /* Static: a list holds 64 paths of 4 KiB. */
  static file_list_t light, driver, all;
  memset(&light, 0, sizeof(light));
  memset(&driver, 0, sizeof(driver));
  memset(&all, 0, sizeof(all));
  split_intree(&light, &driver);
  file_list_add(&all, WEFT_ZOO_DIR);
  for (size_t i = 0; i < light.count; ++i) file_list_add(&all, light.texts[i]);

  pins_t pins = {0};
  if (UNDER_ASAN) {
    pin_directory(&pins, WEFT_ZOO_DIR);
    for (size_t i = 0; i < light.count; ++i) pin_file(&pins, light.texts[i]);
  }
  size_t growth = churn("zoo and in-tree plugins", all.texts, all.count,
                        ITERATIONS, RSS_FROM);
  unpin_all(&pins);
  if (growth > RSS_BOUND_BYTES) {
    fail_msg("resident size grew by %zu KiB between runtimes %d and %d "
             "(bound %zu KiB)",
             growth >> 10, RSS_FROM, ITERATIONS, RSS_BOUND_BYTES >> 10);
  }
}

static void test_driver_plugins(void** state) {
  (void)state;
  weft_test_env_clear();
  static file_list_t light, driver;
  memset(&light, 0, sizeof(light));
  memset(&driver, 0, sizeof(driver));
  split_intree(&light, &driver);
  if (driver.count == 0) {
    print_message("no in-tree plugin needs a driver in this build\n");
    skip();
  }
  for (size_t i = 0; i < driver.count; ++i) {
    const char* paths[] = {driver.texts[i]};
    size_t growth = churn(weft_test_basename(driver.texts[i]), paths, 1,
                          DRIVER_ITERATIONS, DRIVER_RSS_FROM);
    if (!UNDER_ASAN && growth > RSS_BOUND_BYTES) {
      fail_msg("%s: resident size grew by %zu KiB between runtimes %d and %d "
               "(bound %zu KiB)",
               driver.texts[i], growth >> 10, DRIVER_RSS_FROM,
               DRIVER_ITERATIONS, RSS_BOUND_BYTES >> 10);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_destroy_a_thousand_times),
      cmocka_unit_test(test_driver_plugins),
  };
  return cmocka_run_group_tests_name("core/lifecycle", tests, NULL, NULL);
}
