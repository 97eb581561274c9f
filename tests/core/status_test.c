/* weft status objects (core/include/weft/status.h): make, code, message,
 * names from the X-macro, annotate, join, and the out-of-memory fallback.
 *
 * The fallback needs malloc to fail inside libweft: this binary is linked
 * with -Wl,--wrap=malloc, which routes the statically linked library's
 * malloc calls through __wrap_malloc below; nothing else is replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "weft/status.h"

/* ---- malloc failure injection ---- */

void* __real_malloc(size_t size);
void* __wrap_malloc(size_t size);

static bool malloc_fails;
static size_t malloc_failures;

void* __wrap_malloc(size_t size) {
  if (malloc_fails) {
    ++malloc_failures;
    return NULL;
  }
  return __real_malloc(size);
}

/* ---- make, code, message ---- */

static void test_ok_is_null(void** state) {
  (void)state;
  assert_null(WEFT_OK);
  assert_true(weft_status_is_ok(WEFT_OK));
  assert_int_equal(weft_status_code(WEFT_OK), WEFT_STATUS_OK);
  assert_string_equal(weft_status_message(WEFT_OK), "ok");
  weft_status_free(WEFT_OK);
  assert_null(weft_status_make(WEFT_STATUS_OK, "ignored %d", 1));
}

static void test_make_formats_the_message(void** state) {
  (void)state;
  weft_status_t status = weft_status_make(
      WEFT_STATUS_INVALID_ARGUMENT,
      "tensor '%s': dtype %s needs ne[0] %% %d == 0, got %lld", "blk.3.attn_q",
      "q4_0", 32, 577LL);
  assert_non_null(status);
  assert_false(weft_status_is_ok(status));
  assert_int_equal(weft_status_code(status), WEFT_STATUS_INVALID_ARGUMENT);
  assert_string_equal(weft_status_message(status),
                      "tensor 'blk.3.attn_q': dtype q4_0 needs ne[0] % 32 == "
                      "0, got 577");
  weft_status_free(status);

  /* Long messages are kept whole. */
  char long_text[5001];
  memset(long_text, 'x', 5000);
  long_text[5000] = '\0';
  status = weft_status_make(WEFT_STATUS_DATA_LOSS, "%s", long_text);
  assert_string_equal(weft_status_message(status), long_text);
  weft_status_free(status);

  /* Every code round-trips, and distinct statuses are distinct objects. */
  weft_status_t a = weft_status_make(WEFT_STATUS_IO_ERROR, "a");
  weft_status_t b = weft_status_make(WEFT_STATUS_IO_ERROR, "b");
  assert_ptr_not_equal(a, b);
  assert_string_equal(weft_status_message(a), "a");
  assert_string_equal(weft_status_message(b), "b");
  weft_status_free(a);
  weft_status_free(b);
  for (int code = 1; code < WEFT_STATUS_CODE_COUNT_; ++code) {
    weft_status_t s = weft_status_make((weft_status_code_t)code, "code %d", code);
    assert_int_equal(weft_status_code(s), code);
    weft_status_free(s);
  }
}

static weft_status_t make_v(weft_status_code_t code, const char* format, ...) {
  va_list args;
  va_start(args, format);
  weft_status_t status = weft_status_make_v(code, format, args);
  va_end(args);
  return status;
}

static void test_make_v(void** state) {
  (void)state;
  weft_status_t status = make_v(WEFT_STATUS_NOT_FOUND, "device '%s' (%u)", "vk", 7u);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_NOT_FOUND);
  assert_string_equal(weft_status_message(status), "device 'vk' (7)");
  weft_status_free(status);
  assert_null(make_v(WEFT_STATUS_OK, "x"));
}

/* ---- names and texts: one X-macro ---- */

static void test_code_names_and_texts(void** state) {
  (void)state;
#define CHECK_CODE_(name, value, text)                                     \
  assert_string_equal(weft_status_code_name(WEFT_STATUS_##name), #name);  \
  assert_string_equal(weft_status_code_text(WEFT_STATUS_##name), text);
  WEFT_STATUS_CODE_LIST(CHECK_CODE_)
#undef CHECK_CODE_
  assert_string_equal(weft_status_code_name(WEFT_STATUS_OUT_OF_MEMORY),
                      "OUT_OF_MEMORY");
  assert_string_equal(weft_status_code_text(WEFT_STATUS_INCOMPATIBLE),
                      "incompatible version");

  const int out_of_range[] = {WEFT_STATUS_CODE_COUNT_, 21, 1000, -1};
  for (size_t i = 0; i < sizeof(out_of_range) / sizeof(out_of_range[0]); ++i) {
    weft_status_code_t code = (weft_status_code_t)out_of_range[i];
    assert_string_equal(weft_status_code_name(code), "UNKNOWN_CODE");
    const char* text = weft_status_code_text(code);
    assert_non_null(text);
    assert_true(text[0] != '\0');
  }
}

/* ---- annotate and join ---- */

static void test_annotate(void** state) {
  (void)state;
  weft_status_t status = weft_status_make(WEFT_STATUS_OUT_OF_RANGE, "offset %d", 9);
  status = weft_status_annotate(status, "device %s", "cpu-ref:0");
  assert_int_equal(weft_status_code(status), WEFT_STATUS_OUT_OF_RANGE);
  assert_string_equal(weft_status_message(status), "device cpu-ref:0: offset 9");
  status = weft_status_annotate(status, "step %d", 2);
  assert_string_equal(weft_status_message(status),
                      "step 2: device cpu-ref:0: offset 9");
  weft_status_free(status);
  assert_null(weft_status_annotate(WEFT_OK, "nothing %d", 1));
}

static void test_join_keeps_the_first_error(void** state) {
  (void)state;
  weft_status_t first = weft_status_make(WEFT_STATUS_IO_ERROR, "first");
  weft_status_t second = weft_status_make(WEFT_STATUS_INTERNAL, "second");
  /* `second` is freed by join; LeakSanitizer reports it if not. */
  weft_status_t joined = weft_status_join(first, second);
  assert_ptr_equal(joined, first);
  assert_string_equal(weft_status_message(joined), "first");
  weft_status_free(joined);

  second = weft_status_make(WEFT_STATUS_INTERNAL, "second");
  joined = weft_status_join(WEFT_OK, second);
  assert_ptr_equal(joined, second);
  weft_status_free(joined);

  first = weft_status_make(WEFT_STATUS_IO_ERROR, "first");
  joined = weft_status_join(first, WEFT_OK);
  assert_ptr_equal(joined, first);
  weft_status_free(joined);

  assert_null(weft_status_join(WEFT_OK, WEFT_OK));
}

static weft_status_t returns_early(int* reached) {
  WEFT_RETURN_IF_ERROR(WEFT_OK);
  *reached = 1;
  WEFT_RETURN_IF_ERROR(weft_status_make(WEFT_STATUS_ABORTED, "stop"));
  *reached = 2;
  return WEFT_OK;
}

static void test_return_if_error(void** state) {
  (void)state;
  int reached = 0;
  weft_status_t status = returns_early(&reached);
  assert_int_equal(reached, 1);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_ABORTED);
  weft_status_free(status);
}

/* ---- out of memory ---- */

static void test_make_never_fails(void** state) {
  (void)state;
  for (int code = 1; code < WEFT_STATUS_CODE_COUNT_; ++code) {
    malloc_failures = 0;
    malloc_fails = true;
    weft_status_t status =
        weft_status_make((weft_status_code_t)code, "lost detail %d", code);
    malloc_fails = false;
    /* The injection really reached the library. */
    assert_true(malloc_failures > 0);
    assert_non_null(status);
    assert_int_equal(weft_status_code(status), code);
    /* The code alone, with its generic text. */
    assert_string_equal(weft_status_message(status),
                        weft_status_code_text((weft_status_code_t)code));
    /* Shared and static: freeing it is harmless, repeatedly. */
    weft_status_free(status);
    weft_status_free(status);
    assert_int_equal(weft_status_code(status), code);
  }
  malloc_fails = true;
  assert_null(weft_status_make(WEFT_STATUS_OK, "still ok"));
  malloc_fails = false;
}

static void test_annotate_and_join_out_of_memory(void** state) {
  (void)state;
  weft_status_t status = weft_status_make(WEFT_STATUS_DEVICE_LOST, "gpu fell off");
  malloc_fails = true;
  status = weft_status_annotate(status, "device %s", "vulkan:0");
  malloc_fails = false;
  /* The detail is gone, the code is not. */
  assert_int_equal(weft_status_code(status), WEFT_STATUS_DEVICE_LOST);
  assert_non_null(weft_status_message(status));

  weft_status_t other = weft_status_make(WEFT_STATUS_INTERNAL, "later");
  status = weft_status_join(status, other);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_DEVICE_LOST);
  weft_status_free(status);

  /* A fallback status can be annotated once memory is back. */
  malloc_fails = true;
  status = weft_status_make(WEFT_STATUS_UNAVAILABLE, "x");
  malloc_fails = false;
  status = weft_status_annotate(status, "plugin %s", "null");
  assert_int_equal(weft_status_code(status), WEFT_STATUS_UNAVAILABLE);
  assert_string_equal(weft_status_message(status), "plugin null: unavailable");
  weft_status_free(status);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ok_is_null),
      cmocka_unit_test(test_make_formats_the_message),
      cmocka_unit_test(test_make_v),
      cmocka_unit_test(test_code_names_and_texts),
      cmocka_unit_test(test_annotate),
      cmocka_unit_test(test_join_keeps_the_first_error),
      cmocka_unit_test(test_return_if_error),
      cmocka_unit_test(test_make_never_fails),
      cmocka_unit_test(test_annotate_and_join_out_of_memory),
  };
  return cmocka_run_group_tests_name("core/status", tests, NULL, NULL);
}
