/* Internal logging: formats one line and hands it to the application's
 * callback when the level passes the runtime's filter. Never prints. */
#ifndef WEFT_CORE_LOGGER_H_
#define WEFT_CORE_LOGGER_H_

#include <stdarg.h>

#include "weft/runtime.h"

void weft__log(const weft_runtime_t* runtime, weft_log_level_t level,
               const char* source, const char* format, ...)
    __attribute__((format(printf, 4, 5)));
void weft__log_v(const weft_runtime_t* runtime, weft_log_level_t level,
                 const char* source, const char* format, va_list args);

/* Logs at info level whatever the filter says: for output the app asked for
 * explicitly (WEFT_SCHED_DEBUG, WEFT_COMPILE_FLAG_DEBUG). */
void weft__log_always(const weft_runtime_t* runtime, const char* source, const char* format,
                      ...) __attribute__((format(printf, 3, 4)));

/* Parses "error", "warn", "info", "debug" (or 0..3); -1 when unknown. */
int weft__log_level_parse(const char* text);

#endif /* WEFT_CORE_LOGGER_H_ */
