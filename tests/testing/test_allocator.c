#define _POSIX_C_SOURCE 200809L /* posix_memalign, setenv, sysconf under -std=c11 */

#include "testing/test_allocator.h"

#include <stdlib.h>
#include <string.h>

/* A slot's key is NULL when empty and TOMBSTONE after its block was freed, so
 * that probing for a later key does not stop early. */
#define WEFT_TEST_TOMBSTONE ((void*)(uintptr_t)1)

typedef struct weft_test_allocator_slot_t {
  void* ptr;
  size_t size;
} weft_test_allocator_slot_t;

static size_t weft_test_allocator_hash(const void* ptr) {
  uint64_t x = (uint64_t)(uintptr_t)ptr;
  /* splitmix64 finaliser: heap pointers share their low bits. */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return (size_t)x;
}

static bool weft_test_allocator_rehash(weft_test_allocator_t* a,
                                       size_t capacity) {
  weft_test_allocator_slot_t* slots = calloc(capacity, sizeof(*slots));
  if (slots == NULL) {
    return false;
  }
  size_t used = 0;
  for (size_t i = 0; i < a->slot_capacity; ++i) {
    void* p = a->slots[i].ptr;
    if (p == NULL || p == WEFT_TEST_TOMBSTONE) {
      continue;
    }
    size_t j = weft_test_allocator_hash(p) & (capacity - 1);
    while (slots[j].ptr != NULL) {
      j = (j + 1) & (capacity - 1);
    }
    slots[j] = a->slots[i];
    ++used;
  }
  free(a->slots);
  a->slots = slots;
  a->slot_capacity = capacity;
  a->slot_used = used;
  return true;
}

static bool weft_test_allocator_insert(weft_test_allocator_t* a, void* ptr,
                                       size_t size) {
  if ((a->slot_used + 1) * 2 > a->slot_capacity) {
    size_t capacity = a->slot_capacity;
    /* Grow only when live blocks fill the table; else rehashing in place
     * clears the tombstones. */
    if ((a->live_count + 1) * 4 > capacity) {
      capacity *= 2;
    }
    if (!weft_test_allocator_rehash(a, capacity)) {
      return false;
    }
  }
  size_t j = weft_test_allocator_hash(ptr) & (a->slot_capacity - 1);
  while (a->slots[j].ptr != NULL && a->slots[j].ptr != WEFT_TEST_TOMBSTONE) {
    j = (j + 1) & (a->slot_capacity - 1);
  }
  if (a->slots[j].ptr == NULL) {
    ++a->slot_used;
  }
  a->slots[j].ptr = ptr;
  a->slots[j].size = size;
  return true;
}

/* Removes `ptr`; returns false when it is not a live block. */
static bool weft_test_allocator_remove(weft_test_allocator_t* a, void* ptr,
                                       size_t* out_size) {
  size_t j = weft_test_allocator_hash(ptr) & (a->slot_capacity - 1);
  for (size_t probes = 0; probes < a->slot_capacity; ++probes) {
    void* p = a->slots[j].ptr;
    if (p == NULL) {
      return false;
    }
    if (p == ptr) {
      *out_size = a->slots[j].size;
      a->slots[j].ptr = WEFT_TEST_TOMBSTONE;
      return true;
    }
    j = (j + 1) & (a->slot_capacity - 1);
  }
  return false;
}

static void* weft_test_allocator_alloc(void* self, size_t size,
                                       size_t alignment) {
  weft_test_allocator_t* a = self;
  pthread_mutex_lock(&a->mutex);
  uint64_t index = a->alloc_calls++;
  void* ptr = NULL;
  if (index == a->fail_at) {
    a->failure_hit = true;
    goto done;
  }
  if (alignment != 0 && (alignment & (alignment - 1)) != 0) {
    ++a->bad_alignment;
    goto done;
  }
  if (alignment < 16) {
    alignment = 16;
  }
  /* size 0 still yields a distinct block, as malloc(0) may. */
  if (posix_memalign(&ptr, alignment, size == 0 ? 1 : size) != 0) {
    ptr = NULL;
    goto done;
  }
  if (!weft_test_allocator_insert(a, ptr, size)) {
    free(ptr);
    ptr = NULL;
    goto done;
  }
  ++a->live_count;
  a->live_bytes += size;
  if (a->live_count > a->peak_count) {
    a->peak_count = a->live_count;
  }
done:
  pthread_mutex_unlock(&a->mutex);
  return ptr;
}

static void weft_test_allocator_free(void* self, void* ptr) {
  if (ptr == NULL) {
    return;
  }
  weft_test_allocator_t* a = self;
  pthread_mutex_lock(&a->mutex);
  size_t size = 0;
  if (weft_test_allocator_remove(a, ptr, &size)) {
    --a->live_count;
    a->live_bytes -= size;
    free(ptr);
  } else {
    /* Not ours: counted, and deliberately not freed, so that the test fails
     * on the count rather than crashing inside the C library. */
    ++a->foreign_frees;
  }
  pthread_mutex_unlock(&a->mutex);
}

bool weft_test_allocator_init(weft_test_allocator_t* allocator) {
  memset(allocator, 0, sizeof(*allocator));
  allocator->fail_at = WEFT_TEST_ALLOCATOR_NEVER;
  allocator->slot_capacity = 256;
  allocator->slots = calloc(allocator->slot_capacity, sizeof(*allocator->slots));
  if (allocator->slots == NULL) {
    return false;
  }
  if (pthread_mutex_init(&allocator->mutex, NULL) != 0) {
    free(allocator->slots);
    allocator->slots = NULL;
    return false;
  }
  return true;
}

void weft_test_allocator_deinit(weft_test_allocator_t* allocator) {
  pthread_mutex_destroy(&allocator->mutex);
  free(allocator->slots);
  allocator->slots = NULL;
  allocator->slot_capacity = 0;
}

weft_allocator_t weft_test_allocator_get(weft_test_allocator_t* allocator) {
  weft_allocator_t view = {
      .self = allocator,
      .alloc = weft_test_allocator_alloc,
      .free = weft_test_allocator_free,
  };
  return view;
}

void weft_test_allocator_fail_at(weft_test_allocator_t* allocator,
                                 uint64_t index) {
  pthread_mutex_lock(&allocator->mutex);
  allocator->fail_at = index;
  allocator->failure_hit = false;
  pthread_mutex_unlock(&allocator->mutex);
}

void weft_test_allocator_fail_after(weft_test_allocator_t* allocator,
                                    uint64_t n) {
  pthread_mutex_lock(&allocator->mutex);
  allocator->fail_at = allocator->alloc_calls + n;
  allocator->failure_hit = false;
  pthread_mutex_unlock(&allocator->mutex);
}

weft_test_allocator_stats_t weft_test_allocator_stats(
    weft_test_allocator_t* allocator) {
  pthread_mutex_lock(&allocator->mutex);
  weft_test_allocator_stats_t stats = {
      .alloc_calls = allocator->alloc_calls,
      .live_count = allocator->live_count,
      .live_bytes = allocator->live_bytes,
      .peak_count = allocator->peak_count,
      .foreign_frees = allocator->foreign_frees,
      .bad_alignment = allocator->bad_alignment,
      .failure_hit = allocator->failure_hit,
  };
  pthread_mutex_unlock(&allocator->mutex);
  return stats;
}
