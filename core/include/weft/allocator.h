/* weft allocators: every object is created with an allocator, remembers it
 * and frees with it. No part of libweft calls malloc for objects it hands out;
 * plugins allocate through the same allocator via the host-services table. */
#ifndef WEFT_ALLOCATOR_H_
#define WEFT_ALLOCATOR_H_

#include <stddef.h>

#include "weft/export.h"

WEFT_EXTERN_C_BEGIN

typedef struct weft_allocator_t {
  void* self;
  /* Returns NULL on failure. alignment: a power of two, or 0 for 16. */
  void* (*alloc)(void* self, size_t size, size_t alignment);
  /* NULL is a no-op. */
  void (*free)(void* self, void* ptr);
} weft_allocator_t;

/* The C library's heap (posix_memalign/free). Thread-safe. */
WEFT_API weft_allocator_t weft_allocator_system(void);

WEFT_EXTERN_C_END

#endif /* WEFT_ALLOCATOR_H_ */
