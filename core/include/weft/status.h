/* weft status: the one error type of the library and of the plugin ABI.
 *
 * A weft_status_t is NULL (WEFT_OK) on success, or an owned error object with a
 * code (weft_status_code_t, abi/weft/abi/status.h) and a message that names
 * what went wrong and with which value:
 *   "tensor 'blk.3.attn_q': dtype q4_0 needs ne[0] % 32 == 0, got 577"
 * Whoever receives a non-OK status owns it and must free it (or hand it on).
 *
 * Thread safety: every function here is thread-safe; a status object itself
 * is not shared between threads without synchronisation. */
#ifndef WEFT_STATUS_H_
#define WEFT_STATUS_H_

#include <stdarg.h>
#include <stdbool.h>

#include "weft/abi/status.h"
#include "weft/export.h"

WEFT_EXTERN_C_BEGIN

/* Creates a status. Never fails: when memory runs out it returns a shared,
 * static status that carries the code and the generic text alone. A code of
 * WEFT_STATUS_OK returns WEFT_OK. */
WEFT_API weft_status_t weft_status_make(weft_status_code_t code,
                                        const char* format, ...)
    __attribute__((format(printf, 2, 3)));
WEFT_API weft_status_t weft_status_make_v(weft_status_code_t code,
                                          const char* format, va_list args);

/* WEFT_STATUS_OK for WEFT_OK. */
WEFT_API weft_status_code_t weft_status_code(weft_status_t status);

/* The message; "ok" for WEFT_OK. Valid until the status is freed. */
WEFT_API const char* weft_status_message(weft_status_t status);

/* Frees a status; WEFT_OK is a no-op. */
WEFT_API void weft_status_free(weft_status_t status);

/* "INVALID_ARGUMENT", or "UNKNOWN_CODE" for a value out of range. */
WEFT_API const char* weft_status_code_name(weft_status_code_t code);
/* "invalid argument". */
WEFT_API const char* weft_status_code_text(weft_status_code_t code);

/* Returns a new status whose message is "<prefix>: <old message>" and frees
 * `status`. WEFT_OK passes through unchanged. */
WEFT_API weft_status_t weft_status_annotate(weft_status_t status,
                                            const char* format, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps the first error: returns `first` if it is an error (freeing
 * `second`), else `second`. For cleanup paths that must run every step. */
WEFT_API weft_status_t weft_status_join(weft_status_t first,
                                        weft_status_t second);

static inline bool weft_status_is_ok(weft_status_t status) {
  return status == WEFT_OK;
}

#define WEFT_RETURN_IF_ERROR(expr)        \
  do {                                    \
    weft_status_t weft_status_tmp_ = (expr); \
    if (weft_status_tmp_ != WEFT_OK) {    \
      return weft_status_tmp_;            \
    }                                     \
  } while (0)

WEFT_EXTERN_C_END

#endif /* WEFT_STATUS_H_ */
