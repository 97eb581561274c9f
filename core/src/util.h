/* Internal helpers: checked allocation through a weft_allocator_t, growable
 * arrays and bounded string copies. */
#ifndef WEFT_CORE_UTIL_H_
#define WEFT_CORE_UTIL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/allocator.h"
#include "weft/status.h"

/* Zeroed allocation; OUT_OF_MEMORY naming `what` and the size on failure. */
weft_status_t weft__alloc(weft_allocator_t allocator, size_t size,
                          const char* what, void** out_ptr);
void weft__free(weft_allocator_t allocator, void* ptr);

/* Copies a string into allocator memory; NULL becomes "". */
weft_status_t weft__strdup(weft_allocator_t allocator, const char* text,
                           char** out_text);
/* printf into allocator memory. */
weft_status_t weft__strprintf(weft_allocator_t allocator, char** out_text,
                              const char* format, ...)
    __attribute__((format(printf, 3, 4)));

/* Ensures capacity for `count + 1` elements of `element_size` bytes in the
 * array at *items, doubling; sizes are overflow-checked. */
weft_status_t weft__array_reserve_one(weft_allocator_t allocator, void** items,
                                      size_t* capacity, size_t count,
                                      size_t element_size);

/* Copies at most cap - 1 bytes and always terminates. cap > 0. */
void weft__strlcpy(char* dst, const char* src, size_t cap);

/* Multiplication with overflow check. */
static inline bool weft__mul_overflows(size_t a, size_t b, size_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

#endif /* WEFT_CORE_UTIL_H_ */
