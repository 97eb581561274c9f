/* Test allocators: a counting allocator that tracks every live block and can
 * be told to fail the Nth allocation (SQLite-style fault injection).
 *
 * Wrap one in a weft_allocator_t with weft_test_allocator_get() and hand it to
 * weft_runtime_create(); the runtime and every plugin (through the host
 * services) then allocate from it, so the counters see everything the library
 * owns.
 *
 * Thread safety: alloc/free may be called from any thread (plugins run work on
 * their own threads); the counters are read by the test thread once the
 * runtime is quiet. */
#ifndef WEFT_TESTS_TESTING_TEST_ALLOCATOR_H_
#define WEFT_TESTS_TESTING_TEST_ALLOCATOR_H_

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/allocator.h"

/* Never fail (the default of fail_at). */
#define WEFT_TEST_ALLOCATOR_NEVER UINT64_MAX

typedef struct weft_test_allocator_t {
  pthread_mutex_t mutex;
  /* Index (0-based, counted over this allocator's life) of the allocation
   * that returns NULL; WEFT_TEST_ALLOCATOR_NEVER for none. Only that one call
   * fails: later calls succeed again, as after a transient shortage. */
  uint64_t fail_at;
  bool failure_hit;       /* the fail_at allocation was attempted */
  uint64_t alloc_calls;   /* every call to alloc, failed ones included */
  uint64_t live_count;    /* blocks allocated and not yet freed */
  uint64_t live_bytes;    /* bytes in those blocks, as requested */
  uint64_t peak_count;
  uint64_t foreign_frees; /* frees of pointers this allocator never handed out */
  uint64_t bad_alignment; /* alignment arguments that are not 0 or a power of two */
  /* Open-addressing set of live blocks (pointer -> size), kept with the C
   * library's heap so that it never shows up in its own counts. */
  struct weft_test_allocator_slot_t* slots;
  size_t slot_capacity; /* a power of two */
  size_t slot_used;     /* live + tombstones */
} weft_test_allocator_t;

/* Initialises `allocator` (caller's storage) with fail_at = NEVER. Returns
 * false when the C library is out of memory. */
bool weft_test_allocator_init(weft_test_allocator_t* allocator);
/* Frees the bookkeeping (not the live blocks: the test reports those). */
void weft_test_allocator_deinit(weft_test_allocator_t* allocator);

/* The weft_allocator_t view; `allocator` must outlive every user of it. */
weft_allocator_t weft_test_allocator_get(weft_test_allocator_t* allocator);

/* Makes allocation number `index` (counted from the allocator's creation)
 * fail and clears failure_hit. */
void weft_test_allocator_fail_at(weft_test_allocator_t* allocator,
                                 uint64_t index);
/* Makes the `n`th allocation from now fail (0: the very next one). */
void weft_test_allocator_fail_after(weft_test_allocator_t* allocator,
                                    uint64_t n);

/* Snapshot of the counters, taken under the lock. */
typedef struct weft_test_allocator_stats_t {
  uint64_t alloc_calls;
  uint64_t live_count;
  uint64_t live_bytes;
  uint64_t peak_count;
  uint64_t foreign_frees;
  uint64_t bad_alignment;
  bool failure_hit;
} weft_test_allocator_stats_t;

weft_test_allocator_stats_t weft_test_allocator_stats(
    weft_test_allocator_t* allocator);

#endif /* WEFT_TESTS_TESTING_TEST_ALLOCATOR_H_ */
