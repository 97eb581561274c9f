/* weft plugin ABI: the host-services table.
 *
 * The host hands a plugin this table at negotiation; it stays valid until the
 * plugin's instance is destroyed. It is everything a plugin may use from the
 * host, so that plugins never link libweft and build against abi/ alone.
 *
 * Every function takes the table's own host_ctx first. All of them are
 * thread-safe. */
#ifndef WEFT_ABI_HOST_H_
#define WEFT_ABI_HOST_H_

#include <stddef.h>
#include <stdint.h>

#include "weft/abi/status.h"

typedef enum weft_log_level_t {
  WEFT_LOG_LEVEL_ERROR = 0,
  WEFT_LOG_LEVEL_WARN = 1,
  WEFT_LOG_LEVEL_INFO = 2,
  WEFT_LOG_LEVEL_DEBUG = 3,
} weft_log_level_t;

/* A host-owned completion event. Events order work across devices: a segment
 * waits on events before it starts and signals one when it has finished. A
 * plugin never creates or frees events; it signals and waits through the
 * host. Once signalled, an event stays signalled. */
typedef struct weft_event_s weft_event_t;

typedef struct weft_host_services_t {
  uint32_t struct_size;
  uint32_t abi_version; /* the version the host speaks */
  void* host_ctx;       /* pass back as the first argument */

  /* ---- ABI 1.0 ---- */

  /* Allocation through the host's allocator (the one the application gave the
   * runtime). Returns NULL on failure. alignment is a power of two, or 0 for
   * the default (16). Memory from alloc is released with free, never with the
   * C library's free. */
  void* (*alloc)(void* host_ctx, size_t size, size_t alignment);
  void (*free)(void* host_ctx, void* ptr);

  /* Logs one message; the host adds the plugin's name and filters by level
   * (WEFT_LOG). printf-style. */
  void (*log)(void* host_ctx, uint32_t level, const char* format, ...);

  /* Creates a status with a code and a printf-style message. Never fails: on
   * out of memory it returns a preallocated status with the code alone. A
   * code of WEFT_STATUS_OK returns WEFT_OK. The caller owns the result. */
  weft_status_t (*status_make)(void* host_ctx, uint32_t code,
                               const char* format, ...);
  /* Reads a status; message is valid until the status is freed. */
  uint32_t (*status_code)(void* host_ctx, weft_status_t status);
  const char* (*status_message)(void* host_ctx, weft_status_t status);
  void (*status_free)(void* host_ctx, weft_status_t status);

  /* Marks an event complete. code is WEFT_STATUS_OK on success, else the
   * failure the waiters will see. */
  void (*event_signal)(void* host_ctx, weft_event_t* event, uint32_t code);
  /* Blocks until the event is signalled or timeout_ns passes (UINT64_MAX:
   * forever). Returns the code the event was signalled with,
   * WEFT_STATUS_DEADLINE_EXCEEDED on time-out. */
  uint32_t (*event_wait)(void* host_ctx, weft_event_t* event,
                         uint64_t timeout_ns);

  /* ---- ABI 1.1 ---- */

  /* Reads a configuration variable (an environment variable, ignored in
   * set-uid processes). The string is valid until the instance is destroyed;
   * NULL when unset. */
  const char* (*env_get)(void* host_ctx, const char* name);
} weft_host_services_t;

#endif /* WEFT_ABI_HOST_H_ */
