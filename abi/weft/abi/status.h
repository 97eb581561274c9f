/* weft plugin ABI: status codes and the status handle.
 *
 * One status type serves the library and the ABI. A weft_status_t is an opaque
 * pointer-sized handle: NULL (WEFT_OK) means success, anything else is an error
 * object that carries a code and a message.
 *
 * Ownership across the boundary: status objects are always created by the host
 * (a plugin calls weft_host_services_t.status_make) and are freed by whoever
 * ends up holding them, through the host (status_free). A plugin that returns
 * a status hands its ownership to the host; a plugin that receives one from a
 * host service owns it and must return or free it. Nothing is ever freed on a
 * side other than the one that allocated it.
 *
 * Codes have fixed values that never change; new codes are appended. */
#ifndef WEFT_ABI_STATUS_H_
#define WEFT_ABI_STATUS_H_

#include <stdint.h>

/* X(NAME, value, "description"): the single source of code names and texts. */
#define WEFT_STATUS_CODE_LIST(X)                                           \
  X(OK, 0, "ok")                                                           \
  X(CANCELLED, 1, "cancelled")                                             \
  X(UNKNOWN, 2, "unknown error")                                           \
  X(INVALID_ARGUMENT, 3, "invalid argument")                               \
  X(DEADLINE_EXCEEDED, 4, "deadline exceeded")                             \
  X(NOT_FOUND, 5, "not found")                                             \
  X(ALREADY_EXISTS, 6, "already exists")                                   \
  X(PERMISSION_DENIED, 7, "permission denied")                             \
  X(RESOURCE_EXHAUSTED, 8, "resource exhausted")                           \
  X(FAILED_PRECONDITION, 9, "failed precondition")                         \
  X(ABORTED, 10, "aborted")                                                \
  X(OUT_OF_RANGE, 11, "out of range")                                      \
  X(UNIMPLEMENTED, 12, "unimplemented")                                    \
  X(INTERNAL, 13, "internal error")                                        \
  X(UNAVAILABLE, 14, "unavailable")                                        \
  X(DATA_LOSS, 15, "data loss or malformed data")                          \
  X(OUT_OF_MEMORY, 16, "out of memory")                                    \
  X(INCOMPATIBLE, 17, "incompatible version")                              \
  X(UNSUPPORTED, 18, "unsupported")                                        \
  X(DEVICE_LOST, 19, "device lost")                                        \
  X(IO_ERROR, 20, "i/o error")

typedef enum weft_status_code_t {
#define WEFT_STATUS_CODE_ENUM_(name, value, text) WEFT_STATUS_##name = value,
  WEFT_STATUS_CODE_LIST(WEFT_STATUS_CODE_ENUM_)
#undef WEFT_STATUS_CODE_ENUM_
  WEFT_STATUS_CODE_COUNT_ /* not a code; one past the highest */
} weft_status_code_t;

/* Opaque; only the host knows its layout. */
typedef struct weft_status_s* weft_status_t;

#define WEFT_OK ((weft_status_t)0)

#endif /* WEFT_ABI_STATUS_H_ */
