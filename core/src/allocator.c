/* The system allocator: the C library heap, with alignment. */
#include "weft/allocator.h"

#include <stdlib.h>

static void* weft_allocator_system_alloc(void* self, size_t size,
                                         size_t alignment) {
  (void)self;
  if (size == 0) size = 1;
  if (alignment < sizeof(void*)) alignment = 16;
  if ((alignment & (alignment - 1)) != 0) return NULL;
  void* ptr = NULL;
  if (posix_memalign(&ptr, alignment, size) != 0) return NULL;
  return ptr;
}

static void weft_allocator_system_free(void* self, void* ptr) {
  (void)self;
  free(ptr);
}

weft_allocator_t weft_allocator_system(void) {
  weft_allocator_t allocator = {NULL, weft_allocator_system_alloc,
                                weft_allocator_system_free};
  return allocator;
}
