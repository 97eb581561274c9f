/* weft logging. The library never prints: it hands messages to a callback the
 * application installs (weft_runtime_options_t.log_fn), filtered by a level
 * (options, or the environment variable WEFT_LOG=error|warn|info|debug). */
#ifndef WEFT_LOG_H_
#define WEFT_LOG_H_

#include "weft/abi/host.h"
#include "weft/export.h"

WEFT_EXTERN_C_BEGIN

/* source: "loader", "registry", or a plugin's name. message: one line without
 * a trailing newline. Both valid only during the call. May be called from any
 * thread that uses the runtime, plugin threads included. */
typedef void (*weft_log_fn)(void* user, weft_log_level_t level,
                            const char* source, const char* message);

/* "error", "warn", "info", "debug". */
WEFT_API const char* weft_log_level_name(weft_log_level_t level);

WEFT_EXTERN_C_END

#endif /* WEFT_LOG_H_ */
