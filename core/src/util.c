#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

weft_status_t weft__alloc(weft_allocator_t allocator, size_t size,
                          const char* what, void** out_ptr) {
  *out_ptr = NULL;
  void* ptr = allocator.alloc(allocator.self, size ? size : 1, 0);
  if (!ptr) {
    return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY,
                            "out of memory allocating %zu bytes for %s", size,
                            what);
  }
  memset(ptr, 0, size ? size : 1);
  *out_ptr = ptr;
  return WEFT_OK;
}

void weft__free(weft_allocator_t allocator, void* ptr) {
  if (ptr) allocator.free(allocator.self, ptr);
}

weft_status_t weft__strdup(weft_allocator_t allocator, const char* text,
                           char** out_text) {
  if (!text) text = "";
  size_t length = strlen(text);
  char* copy = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(allocator, length + 1, "a string", (void**)&copy));
  memcpy(copy, text, length + 1);
  *out_text = copy;
  return WEFT_OK;
}

weft_status_t weft__strprintf(weft_allocator_t allocator, char** out_text,
                              const char* format, ...) {
  va_list args;
  va_start(args, format);
  int length = vsnprintf(NULL, 0, format, args);
  va_end(args);
  if (length < 0) {
    return weft_status_make(WEFT_STATUS_INTERNAL, "cannot format '%s'", format);
  }
  char* text = NULL;
  WEFT_RETURN_IF_ERROR(
      weft__alloc(allocator, (size_t)length + 1, "a string", (void**)&text));
  va_start(args, format);
  vsnprintf(text, (size_t)length + 1, format, args);
  va_end(args);
  *out_text = text;
  return WEFT_OK;
}

weft_status_t weft__array_reserve_one(weft_allocator_t allocator, void** items,
                                      size_t* capacity, size_t count,
                                      size_t element_size) {
  if (count < *capacity) return WEFT_OK;
  size_t new_capacity = *capacity ? *capacity * 2 : 8;
  size_t bytes = 0;
  if (new_capacity < *capacity ||
      weft__mul_overflows(new_capacity, element_size, &bytes)) {
    return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY,
                            "array of %zu elements of %zu bytes overflows",
                            new_capacity, element_size);
  }
  void* grown = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(allocator, bytes, "an array", &grown));
  if (*items) {
    memcpy(grown, *items, count * element_size);
    weft__free(allocator, *items);
  }
  *items = grown;
  *capacity = new_capacity;
  return WEFT_OK;
}

void weft__strlcpy(char* dst, const char* src, size_t cap) {
  if (!src) src = "";
  size_t length = strnlen(src, cap - 1);
  memcpy(dst, src, length);
  dst[length] = '\0';
}
