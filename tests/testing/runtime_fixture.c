#define _POSIX_C_SOURCE 200809L /* posix_memalign, setenv, sysconf under -std=c11 */

#include "testing/runtime_fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

weft_test_path_t weft_test_zoo_path(const char* name) {
  weft_test_path_t path;
  snprintf(path.text, sizeof(path.text), "%s/%s", WEFT_ZOO_DIR, name);
  return path;
}

void weft_test_env_clear(void) {
  static const char* const names[] = {
      "WEFT_PLUGIN_PATH", "WEFT_PLUGINS_DISABLE", "WEFT_PLUGINS_ONLY",
      "WEFT_DEVICE",      "WEFT_LOG",             "WEFT_ZOO_FLUX_CAPACITOR",
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
    unsetenv(names[i]);
  }
}

weft_runtime_options_t weft_test_options(const char* const* paths,
                                         size_t path_count, uint32_t flags) {
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  options.plugin_paths = paths;
  options.plugin_path_count = path_count;
  options.flags = flags;
  return options;
}

const char* weft_test_basename(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

const weft_plugin_record_t* weft_test_record_find(const weft_runtime_t* runtime,
                                                  const char* basename) {
  for (size_t i = 0; i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    if (record && strcmp(weft_test_basename(record->path), basename) == 0) {
      return record;
    }
  }
  return NULL;
}

size_t weft_test_record_count(const weft_runtime_t* runtime,
                              const char* basename) {
  size_t count = 0;
  for (size_t i = 0; i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    if (record && strcmp(weft_test_basename(record->path), basename) == 0) {
      ++count;
    }
  }
  return count;
}

const weft_plugin_record_t* weft_test_record_active(
    const weft_runtime_t* runtime, const char* name) {
  for (size_t i = 0; i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    if (record && record->outcome == WEFT_PLUGIN_OUTCOME_ACTIVE &&
        strcmp(record->name, name) == 0) {
      return record;
    }
  }
  return NULL;
}

weft_device_t* weft_test_device_by_id(const weft_runtime_t* runtime,
                                      const char* id, size_t* out_index) {
  for (size_t i = 0; i < weft_runtime_device_count(runtime); ++i) {
    weft_device_t* device = weft_runtime_device_get(runtime, i);
    weft_device_info_t info;
    weft_device_info_get(device, &info);
    if (info.id && strcmp(info.id, id) == 0) {
      if (out_index) *out_index = i;
      return device;
    }
  }
  return NULL;
}

static void weft_test_log_append(weft_test_log_t* log, const char* text) {
  size_t n = strlen(text);
  if (log->length + n + 1 > log->capacity) {
    size_t capacity = log->capacity ? log->capacity : 4096;
    while (log->length + n + 1 > capacity) capacity *= 2;
    char* grown = realloc(log->text, capacity);
    if (grown == NULL) return; /* the test then misses a line and says so */
    log->text = grown;
    log->capacity = capacity;
  }
  memcpy(log->text + log->length, text, n + 1);
  log->length += n;
}

static void weft_test_log_fn(void* user, weft_log_level_t level,
                             const char* source, const char* message) {
  weft_test_log_t* log = user;
  char line[2048];
  snprintf(line, sizeof(line), "%s %s: %s\n",
           weft_log_level_name(level), source ? source : "(null)",
           message ? message : "(null)");
  weft_test_log_append(log, line);
  if ((unsigned)level < 4) ++log->lines[level];
}

void weft_test_log_install(weft_runtime_options_t* options,
                           weft_test_log_t* log, weft_log_level_t level) {
  memset(log, 0, sizeof(*log));
  options->log_fn = weft_test_log_fn;
  options->log_user = log;
  options->log_level = (int32_t)level;
}

bool weft_test_log_has(const weft_test_log_t* log, weft_log_level_t level,
                       const char* source, const char* needle, ...) {
  if (log->text == NULL) return false;
  char head[256];
  snprintf(head, sizeof(head), "%s %s: ", weft_log_level_name(level), source);
  const char* line = log->text;
  while (*line != '\0') {
    const char* end = strchr(line, '\n');
    size_t length = end ? (size_t)(end - line) : strlen(line);
    char buffer[2048];
    if (length >= sizeof(buffer)) length = sizeof(buffer) - 1;
    memcpy(buffer, line, length);
    buffer[length] = '\0';
    if (strncmp(buffer, head, strlen(head)) == 0) {
      bool all = true;
      va_list args;
      va_start(args, needle);
      for (const char* n = needle; n != NULL; n = va_arg(args, const char*)) {
        if (strstr(buffer, n) == NULL) {
          all = false;
          break;
        }
      }
      va_end(args);
      if (all) return true;
    }
    if (end == NULL) break;
    line = end + 1;
  }
  return false;
}

void weft_test_log_deinit(weft_test_log_t* log) {
  free(log->text);
  memset(log, 0, sizeof(*log));
}

size_t weft_test_rss_bytes(void) {
  FILE* file = fopen("/proc/self/statm", "r");
  if (file == NULL) return 0;
  unsigned long size = 0, resident = 0;
  int n = fscanf(file, "%lu %lu", &size, &resident);
  fclose(file);
  if (n != 2) return 0;
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}
