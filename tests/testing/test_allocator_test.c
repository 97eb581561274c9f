/* The fault-injecting allocator is what the leak and allocation-failure
 * sweeps trust; check it before trusting them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "testing/test_allocator.h"

static void test_counts_live_blocks(void** state) {
  (void)state;
  weft_test_allocator_t ta;
  assert_true(weft_test_allocator_init(&ta));
  weft_allocator_t a = weft_test_allocator_get(&ta);

  void* blocks[1000];
  for (size_t i = 0; i < 1000; ++i) {
    blocks[i] = a.alloc(a.self, i + 1, (i % 3 == 0) ? 64 : 0);
    assert_non_null(blocks[i]);
    if (i % 3 == 0) {
      assert_int_equal((uintptr_t)blocks[i] % 64, 0);
    } else {
      assert_int_equal((uintptr_t)blocks[i] % 16, 0);
    }
  }
  weft_test_allocator_stats_t s = weft_test_allocator_stats(&ta);
  assert_int_equal(s.live_count, 1000);
  assert_int_equal(s.live_bytes, 1000 * 1001 / 2);
  assert_int_equal(s.peak_count, 1000);
  /* Free in an order unrelated to allocation, to exercise the tombstones. */
  for (size_t i = 0; i < 1000; i += 2) {
    a.free(a.self, blocks[i]);
  }
  for (size_t i = 1; i < 1000; i += 2) {
    a.free(a.self, blocks[i]);
  }
  a.free(a.self, NULL);
  s = weft_test_allocator_stats(&ta);
  assert_int_equal(s.live_count, 0);
  assert_int_equal(s.live_bytes, 0);
  assert_int_equal(s.foreign_frees, 0);
  assert_int_equal(s.alloc_calls, 1000);
  weft_test_allocator_deinit(&ta);
}

static void test_fails_exactly_the_nth(void** state) {
  (void)state;
  weft_test_allocator_t ta;
  assert_true(weft_test_allocator_init(&ta));
  weft_allocator_t a = weft_test_allocator_get(&ta);
  weft_test_allocator_fail_at(&ta, 2);
  void* p0 = a.alloc(a.self, 8, 0);
  void* p1 = a.alloc(a.self, 8, 0);
  assert_false(weft_test_allocator_stats(&ta).failure_hit);
  void* p2 = a.alloc(a.self, 8, 0);
  void* p3 = a.alloc(a.self, 8, 0);
  assert_non_null(p0);
  assert_non_null(p1);
  assert_null(p2);
  assert_non_null(p3);
  weft_test_allocator_stats_t s = weft_test_allocator_stats(&ta);
  assert_true(s.failure_hit);
  assert_int_equal(s.alloc_calls, 4);
  assert_int_equal(s.live_count, 3);

  weft_test_allocator_fail_after(&ta, 0);
  assert_false(weft_test_allocator_stats(&ta).failure_hit);
  assert_null(a.alloc(a.self, 8, 0));
  assert_true(weft_test_allocator_stats(&ta).failure_hit);

  a.free(a.self, p0);
  a.free(a.self, p1);
  a.free(a.self, p3);
  assert_int_equal(weft_test_allocator_stats(&ta).live_count, 0);
  weft_test_allocator_deinit(&ta);
}

static void test_detects_foreign_free_and_bad_alignment(void** state) {
  (void)state;
  weft_test_allocator_t ta;
  assert_true(weft_test_allocator_init(&ta));
  weft_allocator_t a = weft_test_allocator_get(&ta);
  void* foreign = malloc(16);
  assert_non_null(foreign);
  a.free(a.self, foreign);
  assert_null(a.alloc(a.self, 8, 24));
  weft_test_allocator_stats_t s = weft_test_allocator_stats(&ta);
  assert_int_equal(s.foreign_frees, 1);
  assert_int_equal(s.bad_alignment, 1);
  assert_int_equal(s.live_count, 0);
  free(foreign);
  weft_test_allocator_deinit(&ta);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counts_live_blocks),
      cmocka_unit_test(test_fails_exactly_the_nth),
      cmocka_unit_test(test_detects_foreign_free_and_bad_alignment),
  };
  return cmocka_run_group_tests_name("testing/test_allocator", tests, NULL,
                                     NULL);
}
