/* The tools' JSON writer: nesting, separators, escaping of every byte a file
 * name can hold, and misuse reported rather than written. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_writer.h"

/* Runs the writer into a memory stream and returns what it wrote. */
typedef struct json_capture_t {
  FILE* stream;
  char* data;
  size_t size;
  weft_json_writer_t writer;
} json_capture_t;

static void json_capture_begin(json_capture_t* capture, uint32_t indent) {
  memset(capture, 0, sizeof(*capture));
  capture->stream = open_memstream(&capture->data, &capture->size);
  assert_non_null(capture->stream);
  weft_json_writer_init(&capture->writer, capture->stream, indent);
}

static bool json_capture_end(json_capture_t* capture) {
  bool ok = weft_json_writer_finish(&capture->writer);
  fclose(capture->stream);
  return ok;
}

static void json_writer_nests_compact(void** state) {
  (void)state;
  json_capture_t capture;
  json_capture_begin(&capture, 0);
  weft_json_writer_t* w = &capture.writer;
  weft_json_object_begin(w);
  weft_json_member_string(w, "a", "x");
  weft_json_member_int(w, "b", -3);
  weft_json_member_uint(w, "c", UINT64_MAX);
  weft_json_key(w, "d");
  weft_json_array_begin(w);
  weft_json_bool(w, true);
  weft_json_null(w);
  weft_json_object_begin(w);
  weft_json_object_end(w);
  weft_json_array_begin(w);
  weft_json_array_end(w);
  weft_json_array_end(w);
  weft_json_member_string(w, "e", NULL);
  weft_json_object_end(w);
  assert_true(json_capture_end(&capture));
  assert_string_equal(capture.data,
                      "{\"a\":\"x\",\"b\":-3,\"c\":18446744073709551615,"
                      "\"d\":[true,null,{},[]],\"e\":null}\n");
  free(capture.data);
}

static void json_writer_indents(void** state) {
  (void)state;
  json_capture_t capture;
  json_capture_begin(&capture, 2);
  weft_json_writer_t* w = &capture.writer;
  weft_json_object_begin(w);
  weft_json_key(w, "list");
  weft_json_array_begin(w);
  weft_json_int(w, 1);
  weft_json_int(w, 2);
  weft_json_array_end(w);
  weft_json_object_end(w);
  assert_true(json_capture_end(&capture));
  assert_string_equal(capture.data,
                      "{\n  \"list\": [\n    1,\n    2\n  ]\n}\n");
  free(capture.data);
}

static void json_writer_keeps_compact_arrays_on_one_line(void** state) {
  (void)state;
  json_capture_t capture;
  json_capture_begin(&capture, 2);
  weft_json_writer_t* w = &capture.writer;
  weft_json_object_begin(w);
  weft_json_key(w, "dtypes");
  weft_json_array_begin_compact(w);
  weft_json_string(w, "f32");
  weft_json_string(w, "q4_K");
  weft_json_array_begin(w); /* nested: stays on the line */
  weft_json_int(w, 1);
  weft_json_array_end(w);
  weft_json_array_end(w);
  weft_json_key(w, "empty");
  weft_json_array_begin_compact(w);
  weft_json_array_end(w);
  weft_json_member_int(w, "after", 1);
  weft_json_object_end(w);
  assert_true(json_capture_end(&capture));
  assert_string_equal(capture.data,
                      "{\n  \"dtypes\": [\"f32\", \"q4_K\", [1]],\n"
                      "  \"empty\": [],\n  \"after\": 1\n}\n");
  free(capture.data);
}

static void json_writer_escapes(void** state) {
  (void)state;
  json_capture_t capture;
  json_capture_begin(&capture, 0);
  weft_json_writer_t* w = &capture.writer;
  /* quote, backslash, the named controls, other controls and DEL. */
  static const char text[] = "q\"b\\n\nr\rt\tb\bf\f\x01\x1f\x7f/";
  weft_json_array_begin(w);
  weft_json_string(w, text);
  /* An embedded NUL survives when the length is given. */
  weft_json_string_n(w, "a\0b", 3);
  weft_json_array_end(w);
  assert_true(json_capture_end(&capture));
  assert_string_equal(capture.data,
                      "[\"q\\\"b\\\\n\\nr\\rt\\tb\\bf\\f\\u0001\\u001f\\u007f/\","
                      "\"a\\u0000b\"]\n");
  free(capture.data);
}

static void json_writer_keeps_utf8_and_replaces_bad_bytes(void** state) {
  (void)state;
  json_capture_t capture;
  json_capture_begin(&capture, 0);
  weft_json_writer_t* w = &capture.writer;
  weft_json_array_begin(w);
  /* Valid: 2-, 3- and 4-byte sequences pass through. */
  weft_json_string(w, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  /* Invalid: a lone continuation, an overlong '/', a surrogate, a truncated
   * sequence at the end, and a byte never used in UTF-8. */
  weft_json_string(w, "\x80|\xc0\xaf|\xed\xa0\x80|\xff|\xe2\x82");
  weft_json_array_end(w);
  assert_true(json_capture_end(&capture));
  assert_string_equal(
      capture.data,
      "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
      "\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd|\\ufffd\\ufffd\"]\n");
  free(capture.data);
}

static void json_writer_reports_misuse(void** state) {
  (void)state;
  json_capture_t capture;

  /* A value where a key is due. */
  json_capture_begin(&capture, 0);
  weft_json_object_begin(&capture.writer);
  weft_json_int(&capture.writer, 1);
  weft_json_object_end(&capture.writer);
  assert_false(json_capture_end(&capture));
  free(capture.data);

  /* A key inside an array. */
  json_capture_begin(&capture, 0);
  weft_json_array_begin(&capture.writer);
  weft_json_key(&capture.writer, "k");
  weft_json_array_end(&capture.writer);
  assert_false(json_capture_end(&capture));
  free(capture.data);

  /* Unbalanced and mismatched containers. */
  json_capture_begin(&capture, 0);
  weft_json_array_begin(&capture.writer);
  assert_false(json_capture_end(&capture));
  free(capture.data);

  json_capture_begin(&capture, 0);
  weft_json_array_begin(&capture.writer);
  weft_json_object_end(&capture.writer);
  assert_false(json_capture_end(&capture));
  free(capture.data);

  /* Two top-level values; no value at all. */
  json_capture_begin(&capture, 0);
  weft_json_int(&capture.writer, 1);
  weft_json_int(&capture.writer, 2);
  assert_false(json_capture_end(&capture));
  free(capture.data);

  json_capture_begin(&capture, 0);
  assert_false(json_capture_end(&capture));
  free(capture.data);

  /* Deeper than the writer tracks. */
  json_capture_begin(&capture, 0);
  for (int i = 0; i <= WEFT_JSON_MAX_DEPTH; ++i) {
    weft_json_array_begin(&capture.writer);
  }
  assert_false(json_capture_end(&capture));
  free(capture.data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(json_writer_nests_compact),
      cmocka_unit_test(json_writer_indents),
      cmocka_unit_test(json_writer_keeps_compact_arrays_on_one_line),
      cmocka_unit_test(json_writer_escapes),
      cmocka_unit_test(json_writer_keeps_utf8_and_replaces_bad_bytes),
      cmocka_unit_test(json_writer_reports_misuse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
