#include "logger.h"

#include <stdio.h>
#include <string.h>

#include "runtime_impl.h"

const char* weft_log_level_name(weft_log_level_t level) {
  switch (level) {
    case WEFT_LOG_LEVEL_ERROR: return "error";
    case WEFT_LOG_LEVEL_WARN: return "warn";
    case WEFT_LOG_LEVEL_INFO: return "info";
    case WEFT_LOG_LEVEL_DEBUG: return "debug";
  }
  return "unknown";
}

int weft__log_level_parse(const char* text) {
  if (!text) return -1;
  static const char* const names[] = {"error", "warn", "info", "debug"};
  for (int i = 0; i < 4; ++i) {
    if (strcmp(text, names[i]) == 0) return i;
  }
  if (strcmp(text, "warning") == 0) return WEFT_LOG_LEVEL_WARN;
  if (text[0] >= '0' && text[0] <= '3' && text[1] == '\0') return text[0] - '0';
  return -1;
}

void weft__log_v(const weft_runtime_t* runtime, weft_log_level_t level,
                 const char* source, const char* format, va_list args) {
  if (!runtime || !runtime->log_fn || (int32_t)level > runtime->log_level) return;
  char line[1024];
  vsnprintf(line, sizeof(line), format, args);
  size_t length = strlen(line);
  while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r')) {
    line[--length] = '\0';
  }
  runtime->log_fn(runtime->log_user, level, source ? source : "weft", line);
}

void weft__log(const weft_runtime_t* runtime, weft_log_level_t level,
               const char* source, const char* format, ...) {
  va_list args;
  va_start(args, format);
  weft__log_v(runtime, level, source, format, args);
  va_end(args);
}

void weft__log_always(const weft_runtime_t* runtime, const char* source, const char* format,
                      ...) {
  if (!runtime || !runtime->log_fn) return;
  char line[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  runtime->log_fn(runtime->log_user, WEFT_LOG_LEVEL_INFO, source ? source : "weft", line);
}
