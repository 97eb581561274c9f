/* The GGUF reader (core/src/gguf.c): valid files of versions 2 and 3 written
 * by tests/gguf/gguf_builder.c are read back exactly; then files that are
 * wrong in one way each are refused with the expected code and a message
 * naming the field and the value. Every file is handed over in a heap block
 * of exactly its size, so that AddressSanitizer sees any read past its end,
 * and every reader is created with the counting allocator, so that a refusal
 * that leaks is caught. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, mkdtemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gguf_builder.h"
#include "testing/test_allocator.h"
#include "weft/gguf.h"

#define KV_COUNT_EVERYTHING 31u /* gguf_build_everything, without general.alignment */
#define TENSOR_COUNT_EVERYTHING 8u

/* ---- helpers ---- */

static void expect_status(weft_status_t status, weft_status_code_t code, const char* text,
                          const char* text2) {
  if (weft_status_code(status) != code) {
    fail_msg("expected %s, got %s: %s", weft_status_code_name(code),
             weft_status_code_name(weft_status_code(status)), weft_status_message(status));
  }
  const char* message = weft_status_message(status);
  if ((text && !strstr(message, text)) || (text2 && !strstr(message, text2))) {
    fail_msg("message '%s' lacks '%s'%s%s%s", message, text ? text : "",
             text2 ? " or '" : "", text2 ? text2 : "", text2 ? "'" : "");
  }
  weft_status_free(status);
}

/* A heap copy of exactly `size` bytes (at least one byte is allocated, so a
 * zero-size file still has a valid pointer that ends at once). */
static uint8_t* exact_copy(const uint8_t* data, size_t size) {
  uint8_t* copy = malloc(size ? size : 1);
  assert_non_null(copy);
  if (size) memcpy(copy, data, size);
  return copy;
}

static void assert_no_leak(weft_test_allocator_t* ta) {
  weft_test_allocator_stats_t stats = weft_test_allocator_stats(ta);
  assert_int_equal(stats.live_count, 0);
  assert_int_equal(stats.foreign_frees, 0);
  assert_int_equal(stats.bad_alignment, 0);
}

/* Opens `size` bytes and expects a refusal with `code` and both texts in its
 * message; returns the number of allocations the attempt made. */
static uint64_t expect_refusal_n(const uint8_t* data, size_t size, weft_status_code_t code,
                                 const char* text, const char* text2) {
  weft_test_allocator_t ta;
  assert_true(weft_test_allocator_init(&ta));
  uint8_t* copy = exact_copy(data, size);
  weft_gguf_t* gguf = (weft_gguf_t*)(uintptr_t)1;
  weft_status_t status =
      weft_gguf_create_from_memory(copy, size, weft_test_allocator_get(&ta), &gguf);
  assert_null(gguf);
  if (status == WEFT_OK) fail_msg("a file that should be refused was accepted");
  print_message("  refused: %s: %s\n", weft_status_code_name(weft_status_code(status)),
                weft_status_message(status));
  expect_status(status, code, text, text2);
  free(copy);
  assert_no_leak(&ta);
  uint64_t calls = weft_test_allocator_stats(&ta).alloc_calls;
  weft_test_allocator_deinit(&ta);
  return calls;
}

static uint64_t expect_refusal(const gguf_bytes_t* file, weft_status_code_t code,
                               const char* text, const char* text2) {
  return expect_refusal_n(file->data, file->size, code, text, text2);
}

/* Builds, finishes (with or without the data section), frees the builder
 * and expects the refusal. */
static void refuse_built(gguf_builder_t* b, bool pad_data, weft_status_code_t code,
                         const char* text, const char* text2) {
  gguf_bytes_t file;
  gguf_builder_finish(b, pad_data, &file);
  gguf_builder_free(b);
  expect_refusal(&file, code, text, text2);
  gguf_bytes_free(&file);
}

/* A file with one kv and nothing else, whose value bytes the caller wrote
 * after gguf_kv_begin. */
static gguf_builder_t kv_file(const char* key, uint32_t type) {
  gguf_builder_t b;
  gguf_builder_init(&b, 3);
  gguf_kv_begin(&b, key, type);
  return b;
}

/* A file with one tensor info (and `data_bytes` zero bytes of data). */
static void refuse_tensor(uint32_t type, uint32_t n_dims, const uint64_t* ne, uint64_t offset,
                          size_t data_bytes, weft_status_code_t code, const char* text,
                          const char* text2) {
  gguf_builder_t b;
  gguf_builder_init(&b, 3);
  gguf_kv_string(&b, "general.architecture", "llama", 5);
  gguf_tensor_info(&b, "w", type, n_dims, ne, offset);
  gguf_put_zeros(&b.data, data_bytes);
  refuse_built(&b, true, code, text, text2);
}

typedef struct opened_t {
  weft_test_allocator_t ta;
  uint8_t* memory;
  gguf_bytes_t file;
  weft_gguf_t* gguf;
} opened_t;

/* Opens a file from an exact, 64-byte aligned heap copy. */
static void open_file_bytes(opened_t* o, gguf_bytes_t file) {
  assert_true(weft_test_allocator_init(&o->ta));
  o->file = file;
  size_t rounded = (file.size + 63) / 64 * 64;
  o->memory = aligned_alloc(64, rounded ? rounded : 64);
  assert_non_null(o->memory);
  memcpy(o->memory, file.data, file.size);
  o->gguf = NULL;
  weft_status_t status = weft_gguf_create_from_memory(o->memory, file.size,
                                                      weft_test_allocator_get(&o->ta), &o->gguf);
  if (status != WEFT_OK) fail_msg("refused: %s", weft_status_message(status));
  assert_non_null(o->gguf);
}

static void close_opened(opened_t* o) {
  weft_gguf_destroy(o->gguf);
  free(o->memory);
  gguf_bytes_free(&o->file);
  assert_no_leak(&o->ta);
  weft_test_allocator_deinit(&o->ta);
}

/* ---- valid files ---- */

typedef struct expected_tensor_t {
  const char* name;
  weft_dtype_t type;
  uint32_t n_dims;
  int64_t ne[4];
  uint8_t seed;
} expected_tensor_t;

static const expected_tensor_t kExpectedTensors[TENSOR_COUNT_EVERYTHING] = {
    {"token_embd.weight", WEFT_DTYPE_Q8_0, 2, {64, 2, 1, 1}, 1},
    {"blk.0.attn_norm.weight", WEFT_DTYPE_F32, 2, {8, 3, 1, 1}, 2},
    {"blk.0.f16", WEFT_DTYPE_F16, 1, {5, 1, 1, 1}, 3},
    {"blk.0.attn_q.weight", WEFT_DTYPE_Q4_0, 2, {64, 2, 1, 1}, 4},
    {"blk.0.attn_k.weight", WEFT_DTYPE_Q4_1, 2, {64, 2, 1, 1}, 5},
    {"blk.0.ffn_up.weight", WEFT_DTYPE_Q4_K, 2, {256, 2, 1, 1}, 6},
    {"blk.0.ffn_down.weight", WEFT_DTYPE_Q6_K, 2, {256, 2, 1, 1}, 7},
    {"blk.0.bf16_4d", WEFT_DTYPE_BF16, 4, {2, 3, 1, 2}, 8},
};

static void check_scalars(const weft_gguf_t* g) {
  uint8_t u8 = 0;
  int8_t i8 = 0;
  uint16_t u16 = 0;
  int16_t i16 = 0;
  uint32_t u32 = 0;
  int32_t i32 = 0;
  uint64_t u64 = 0;
  int64_t i64 = 0;
  float f32 = 0;
  double f64 = 0;
  bool flag = false;
  weft_gguf_string_t s;
  assert_null(weft_gguf_get_u8(g, "test.u8", &u8));
  assert_int_equal(u8, 200);
  assert_null(weft_gguf_get_i8(g, "test.i8", &i8));
  assert_int_equal(i8, -100);
  assert_null(weft_gguf_get_u16(g, "test.u16", &u16));
  assert_int_equal(u16, 60000);
  assert_null(weft_gguf_get_i16(g, "test.i16", &i16));
  assert_int_equal(i16, -30000);
  assert_null(weft_gguf_get_u32(g, "test.u32", &u32));
  assert_true(u32 == 4000000000u);
  assert_null(weft_gguf_get_i32(g, "test.i32", &i32));
  assert_true(i32 == -2000000000);
  assert_null(weft_gguf_get_u64(g, "test.u64", &u64));
  assert_true(u64 == 18000000000000000000ull);
  assert_null(weft_gguf_get_i64(g, "test.i64", &i64));
  assert_true(i64 == -9000000000000000000ll);
  assert_null(weft_gguf_get_f32(g, "test.f32", &f32));
  assert_true(f32 == 0.15625f);
  assert_null(weft_gguf_get_f64(g, "test.f64", &f64));
  assert_true(f64 == -1.0e300);
  assert_null(weft_gguf_get_bool(g, "test.bool_true", &flag));
  assert_true(flag);
  assert_null(weft_gguf_get_bool(g, "test.bool_false", &flag));
  assert_false(flag);
  assert_null(weft_gguf_get_string(g, "general.architecture", &s));
  assert_int_equal(s.size, 5);
  assert_memory_equal(s.data, "llama", 5);
  assert_null(weft_gguf_get_string(g, "test.empty_string", &s));
  assert_int_equal(s.size, 0);
  assert_null(weft_gguf_get_string(g, "test.string_with_nul", &s));
  assert_int_equal(s.size, 3);
  assert_memory_equal(s.data, "a\0b", 3);

  /* No conversions, and the message names the key and both types. */
  expect_status(weft_gguf_get_i32(g, "test.u32", &i32), WEFT_STATUS_INVALID_ARGUMENT,
                "key 'test.u32' holds uint32, not int32", NULL);
  expect_status(weft_gguf_get_u32(g, "tokenizer.ggml.tokens", &u32),
                WEFT_STATUS_INVALID_ARGUMENT, "holds array of string, not uint32", NULL);
  expect_status(weft_gguf_get_u32(g, "no.such.key", &u32), WEFT_STATUS_NOT_FOUND,
                "key 'no.such.key' not found", NULL);
  expect_status(weft_gguf_kv_get_u8(g, 1000, &u8), WEFT_STATUS_OUT_OF_RANGE, "kv index 1000",
                NULL);
  expect_status(weft_gguf_get_u8(g, "test.u8", NULL), WEFT_STATUS_INVALID_ARGUMENT, NULL, NULL);
  assert_true(u8 == 200); /* out-parameters untouched on failure */
}

#define CHECK_ARRAY(key, gtype, ctype, n, ...)                                      \
  do {                                                                                  \
    const ctype want[n] = {__VA_ARGS__};                                            \
    ctype got[n];                                                                   \
    weft_gguf_array_t a;                                                                \
    assert_null(weft_gguf_get_array(g, key, gtype, &a));                                \
    assert_int_equal(a.count, n);                                                   \
    assert_int_equal(a.type, gtype);                                                    \
    assert_int_equal(a.size, sizeof(want));                                             \
    assert_null(weft_gguf_array_read(&a, 0, n, got, sizeof(got)));                  \
    assert_memory_equal(got, want, sizeof(want));                                       \
    assert_memory_equal(a.data, want, sizeof(want));                                    \
  } while (0)

static void check_arrays(const weft_gguf_t* g) {
  CHECK_ARRAY("test.array.u8", WEFT_GGUF_TYPE_UINT8, uint8_t, 3, 1, 2, 255);
  CHECK_ARRAY("test.array.i8", WEFT_GGUF_TYPE_INT8, int8_t, 3, -1, 0, 127);
  CHECK_ARRAY("test.array.u16", WEFT_GGUF_TYPE_UINT16, uint16_t, 3, 1, 2, 65535);
  CHECK_ARRAY("test.array.i16", WEFT_GGUF_TYPE_INT16, int16_t, 3, -32768, 0, 32767);
  CHECK_ARRAY("test.array.u32", WEFT_GGUF_TYPE_UINT32, uint32_t, 3, 7, 8, 4294967295u);
  CHECK_ARRAY("test.array.i32", WEFT_GGUF_TYPE_INT32, int32_t, 3, -5, 0, 5);
  CHECK_ARRAY("test.array.u64", WEFT_GGUF_TYPE_UINT64, uint64_t, 2, 1,
              18446744073709551615ull);
  CHECK_ARRAY("test.array.i64", WEFT_GGUF_TYPE_INT64, int64_t, 2, -1, 9223372036854775807ll);
  CHECK_ARRAY("test.array.f64", WEFT_GGUF_TYPE_FLOAT64, double, 2, 0.5, -2.0);
  CHECK_ARRAY("test.array.bool", WEFT_GGUF_TYPE_BOOL, uint8_t, 3, 1, 0, 1);
  CHECK_ARRAY("tokenizer.ggml.token_type", WEFT_GGUF_TYPE_INT32, int32_t, 6, 2, 3, 1, 1, 1, 1);
  CHECK_ARRAY("tokenizer.ggml.scores", WEFT_GGUF_TYPE_FLOAT32, float, 4, 0.0f, -1.5f, 3.25f,
              1e30f);

  weft_gguf_array_t a;
  assert_null(weft_gguf_get_array(g, "test.array.empty", WEFT_GGUF_TYPE_UINT32, &a));
  assert_int_equal(a.count, 0);
  assert_int_equal(a.size, 0);
  assert_null(weft_gguf_array_read(&a, 0, 0, NULL, 0));
  expect_status(weft_gguf_array_read(&a, 0, 1, NULL, 0), WEFT_STATUS_OUT_OF_RANGE,
                "test.array.empty", NULL);

  /* Reads of a part, and of ranges that leave the array. */
  int32_t two[2];
  assert_null(weft_gguf_get_array(g, "tokenizer.ggml.token_type", WEFT_GGUF_TYPE_INT32, &a));
  assert_null(weft_gguf_array_read(&a, 4, 2, two, sizeof(two)));
  assert_int_equal(two[0], 1);
  expect_status(weft_gguf_array_read(&a, 5, 2, two, sizeof(two)), WEFT_STATUS_OUT_OF_RANGE,
                "elements [5, +2) are not inside the array of 6", NULL);
  expect_status(weft_gguf_array_read(&a, UINT64_MAX, 2, two, sizeof(two)),
                WEFT_STATUS_OUT_OF_RANGE, NULL, NULL);
  expect_status(weft_gguf_array_read(&a, 0, 2, two, 7), WEFT_STATUS_INVALID_ARGUMENT,
                "need 8 bytes, dst has 7", NULL);
  weft_gguf_string_t s;
  expect_status(weft_gguf_array_get_string(&a, 0, &s), WEFT_STATUS_INVALID_ARGUMENT,
                "holds an array of int32, not of string", NULL);
  expect_status(weft_gguf_get_array(g, "tokenizer.ggml.token_type", WEFT_GGUF_TYPE_FLOAT32, &a),
                WEFT_STATUS_INVALID_ARGUMENT, "holds array of int32, not array of float32", NULL);
  expect_status(weft_gguf_get_array(g, "test.u32", WEFT_GGUF_TYPE_UINT32, &a),
                WEFT_STATUS_INVALID_ARGUMENT, "holds uint32, not array of uint32", NULL);
  expect_status(weft_gguf_get_array(g, "test.u32", WEFT_GGUF_TYPE_ARRAY, &a),
                WEFT_STATUS_INVALID_ARGUMENT, "element type 9", NULL);

  /* Strings, in any order, in O(1). */
  static const char* const tokens[6] = {"<unk>", "<s>", "", "h\xc3\xa9llo", "a\0b", " the"};
  static const size_t sizes[6] = {5, 3, 0, 6, 3, 4};
  assert_null(weft_gguf_get_array(g, "tokenizer.ggml.tokens", WEFT_GGUF_TYPE_STRING, &a));
  assert_int_equal(a.count, 6);
  for (int i = 5; i >= 0; --i) {
    assert_null(weft_gguf_array_get_string(&a, (uint64_t)i, &s));
    assert_int_equal(s.size, sizes[i]);
    assert_memory_equal(s.data, tokens[i], sizes[i]);
  }
  expect_status(weft_gguf_array_get_string(&a, 6, &s), WEFT_STATUS_OUT_OF_RANGE,
                "key 'tokenizer.ggml.tokens': element 6 is out of range (6 elements)", NULL);
  expect_status(weft_gguf_array_read(&a, 0, 1, two, sizeof(two)), WEFT_STATUS_INVALID_ARGUMENT,
                "weft_gguf_array_get_string", NULL);
  assert_null(weft_gguf_get_array(g, "tokenizer.ggml.merges", WEFT_GGUF_TYPE_STRING, &a));
  assert_null(weft_gguf_array_get_string(&a, 1, &s));
  assert_int_equal(s.size, 4);
  assert_memory_equal(s.data, "th e", 4);
  assert_null(weft_gguf_get_array(g, "test.array.no_strings", WEFT_GGUF_TYPE_STRING, &a));
  assert_int_equal(a.count, 0);
  expect_status(weft_gguf_array_get_string(&a, 0, &s), WEFT_STATUS_OUT_OF_RANGE, NULL, NULL);

  /* A view whose kv_index was changed is checked against the reader. */
  a.kv_index = 0; /* general.architecture: a string, not an array */
  expect_status(weft_gguf_array_get_string(&a, 0, &s), WEFT_STATUS_INVALID_ARGUMENT,
                "is not an array", NULL);
  a.kv_index = 12345;
  expect_status(weft_gguf_array_get_string(&a, 0, &s), WEFT_STATUS_OUT_OF_RANGE, NULL, NULL);
}

static void check_by_index(const weft_gguf_t* g) {
  for (uint64_t i = 0; i < weft_gguf_kv_count(g); ++i) {
    weft_gguf_kv_t kv;
    assert_null(weft_gguf_kv_get(g, i, &kv));
    assert_int_equal(kv.index, i);
    uint64_t found = UINT64_MAX;
    assert_null(weft_gguf_kv_find(g, kv.key, &found));
    assert_int_equal(found, i);
    assert_true(weft_gguf_kv_has(g, kv.key));
    assert_ptr_equal(kv.data, (const uint8_t*)weft_gguf_file_data(g) + kv.file_offset);
    assert_true(kv.file_offset + kv.size <= weft_gguf_file_size(g));
    if (kv.type != WEFT_GGUF_TYPE_ARRAY) {
      assert_int_equal(kv.count, 1);
      assert_int_equal(kv.element_type, kv.type);
    }
  }
  uint64_t index = 0;
  assert_null(weft_gguf_kv_find(g, "test.u16", &index));
  uint16_t u16 = 0;
  assert_null(weft_gguf_kv_get_u16(g, index, &u16));
  assert_int_equal(u16, 60000);
  weft_gguf_kv_t kv;
  assert_null(weft_gguf_kv_find(g, "test.array.i16", &index));
  assert_null(weft_gguf_kv_get(g, index, &kv));
  assert_int_equal(kv.type, WEFT_GGUF_TYPE_ARRAY);
  assert_int_equal(kv.element_type, WEFT_GGUF_TYPE_INT16);
  assert_int_equal(kv.count, 3);
  assert_int_equal(kv.size, 6);
  weft_gguf_array_t a;
  assert_null(weft_gguf_kv_get_array(g, index, WEFT_GGUF_TYPE_INT16, &a));
  assert_int_equal(a.kv_index, index);
  assert_null(weft_gguf_kv_find(g, "test.string_with_nul", &index));
  assert_null(weft_gguf_kv_get(g, index, &kv));
  assert_int_equal(kv.size, 3);
  assert_memory_equal(kv.data, "a\0b", 3);
  assert_false(weft_gguf_kv_has(g, "test"));
  assert_false(weft_gguf_kv_has(g, "test.u16x"));
  expect_status(weft_gguf_kv_get(g, weft_gguf_kv_count(g), &kv), WEFT_STATUS_OUT_OF_RANGE,
                NULL, NULL);
}

static void check_tensors(const weft_gguf_t* g, uint32_t alignment) {
  assert_int_equal(weft_gguf_tensor_count(g), TENSOR_COUNT_EVERYTHING);
  uint64_t data_offset = weft_gguf_data_offset(g);
  assert_int_equal(data_offset % alignment, 0);
  assert_int_equal(weft_gguf_data_size(g), weft_gguf_file_size(g) - data_offset);
  for (uint64_t i = 0; i < TENSOR_COUNT_EVERYTHING; ++i) {
    const expected_tensor_t* want = &kExpectedTensors[i];
    const weft_gguf_tensor_t* t = NULL;
    assert_null(weft_gguf_tensor_find(g, want->name, &t));
    const weft_gguf_tensor_t* by_index = NULL;
    assert_null(weft_gguf_tensor_get(g, i, &by_index));
    assert_ptr_equal(t, by_index);
    assert_string_equal(t->name, want->name);
    assert_int_equal(t->index, i);
    assert_int_equal(t->type, want->type);
    assert_int_equal(t->n_dims, want->n_dims);
    int64_t n = 1;
    for (int d = 0; d < 4; ++d) {
      assert_int_equal(t->ne[d], want->ne[d]);
      n *= want->ne[d];
    }
    assert_int_equal(t->n_elements, n);
    uint64_t bytes = gguf_tensor_bytes(want->type, want->n_dims, want->ne);
    assert_int_equal(t->size, bytes);
    assert_int_equal(t->offset % alignment, 0);
    assert_int_equal(t->file_offset, data_offset + t->offset);
    assert_int_equal(t->file_offset % alignment, 0);
    const uint8_t* data = weft_gguf_tensor_data(g, t);
    assert_ptr_equal(data, (const uint8_t*)weft_gguf_file_data(g) + t->file_offset);
    if (alignment <= 64) assert_int_equal((uintptr_t)data % alignment, 0);
    for (uint64_t k = 0; k < bytes; ++k) {
      if (data[k] != gguf_tensor_byte(k, want->seed)) {
        fail_msg("tensor '%s' byte %llu differs", want->name, (unsigned long long)k);
      }
    }
    uint64_t offset = 0;
    uint64_t size = 0;
    assert_null(weft_gguf_tensor_file_range(g, want->name, &offset, &size));
    assert_int_equal(offset, t->file_offset);
    assert_int_equal(size, t->size);
  }
  const weft_gguf_tensor_t* t = NULL;
  expect_status(weft_gguf_tensor_find(g, "blk.0", &t), WEFT_STATUS_NOT_FOUND,
                "tensor 'blk.0' not found", NULL);
  expect_status(weft_gguf_tensor_get(g, TENSOR_COUNT_EVERYTHING, &t), WEFT_STATUS_OUT_OF_RANGE,
                "tensor index 8 is out of range (the file has 8 tensors)", NULL);
  uint64_t offset = 0;
  uint64_t size = 0;
  expect_status(weft_gguf_tensor_file_range(g, "nope", &offset, &size), WEFT_STATUS_NOT_FOUND,
                "'nope'", NULL);
}

static void check_everything(uint32_t version, uint32_t alignment) {
  gguf_bytes_t file;
  gguf_build_everything(version, alignment, &file);
  opened_t o;
  open_file_bytes(&o, file);
  const weft_gguf_t* g = o.gguf;
  assert_int_equal(weft_gguf_version(g), version);
  assert_int_equal(weft_gguf_alignment(g), alignment);
  assert_int_equal(weft_gguf_kv_count(g), KV_COUNT_EVERYTHING + (alignment != 32 ? 1 : 0));
  assert_int_equal(weft_gguf_file_size(g), o.file.size);
  assert_ptr_equal(weft_gguf_file_data(g), o.memory);
  check_scalars(g);
  check_arrays(g);
  check_by_index(g);
  check_tensors(g, alignment);
  close_opened(&o);
}

static void test_everything_v3(void** state) {
  (void)state;
  check_everything(3, 32);
}

static void test_everything_v2(void** state) {
  (void)state;
  check_everything(2, 32);
}

static void test_everything_other_alignments(void** state) {
  (void)state;
  check_everything(3, 64);
  check_everything(3, 1);
  check_everything(2, 4096);
}

static void test_from_file(void** state) {
  (void)state;
  char dir[] = "/tmp/weft-gguf-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[64];
  snprintf(path, sizeof(path), "%s/model.gguf", dir);
  gguf_bytes_t file;
  gguf_build_everything(3, 32, &file);
  FILE* out = fopen(path, "wb");
  assert_non_null(out);
  assert_int_equal(fwrite(file.data, 1, file.size, out), file.size);
  assert_int_equal(fclose(out), 0);

  weft_test_allocator_t ta;
  assert_true(weft_test_allocator_init(&ta));
  weft_gguf_t* g = NULL;
  assert_null(weft_gguf_create_from_file(path, weft_test_allocator_get(&ta), &g));
  assert_int_equal(weft_gguf_file_size(g), file.size);
  assert_memory_equal(weft_gguf_file_data(g), file.data, file.size);
  check_scalars(g);
  check_arrays(g);
  check_tensors(g, 32);
  weft_gguf_destroy(g);
  assert_no_leak(&ta);

  /* Refusals name the path first. */
  file.data[0] = 'X';
  out = fopen(path, "wb");
  assert_non_null(out);
  assert_int_equal(fwrite(file.data, 1, file.size, out), file.size);
  assert_int_equal(fclose(out), 0);
  expect_status(weft_gguf_create_from_file(path, weft_test_allocator_get(&ta), &g),
                WEFT_STATUS_DATA_LOSS, path, "header: magic is 'XGUF'");
  assert_null(g);
  out = fopen(path, "wb");
  assert_non_null(out);
  assert_int_equal(fclose(out), 0);
  expect_status(weft_gguf_create_from_file(path, weft_test_allocator_get(&ta), &g),
                WEFT_STATUS_DATA_LOSS, path, "the file is 0 bytes");
  expect_status(weft_gguf_create_from_file(dir, weft_test_allocator_get(&ta), &g),
                WEFT_STATUS_INVALID_ARGUMENT, "is not a regular file", NULL);
  assert_int_equal(unlink(path), 0);
  expect_status(weft_gguf_create_from_file(path, weft_test_allocator_get(&ta), &g),
                WEFT_STATUS_NOT_FOUND, path, NULL);
  assert_int_equal(rmdir(dir), 0);
  assert_no_leak(&ta);
  weft_test_allocator_deinit(&ta);
  gguf_bytes_free(&file);
}

/* Metadata alone: a file may end right after its last record (no padding),
 * and the smallest file is a bare header. */
static void test_metadata_only(void** state) {
  (void)state;
  gguf_builder_t b;
  gguf_builder_init(&b, 3);
  gguf_kv_string(&b, "general.architecture", "llama", 5);
  gguf_kv_u8(&b, "x", 1); /* 24 + 41 + 14 bytes: not a multiple of 32 */
  gguf_bytes_t file;
  gguf_builder_finish(&b, false, &file);
  gguf_builder_free(&b);
  opened_t o;
  open_file_bytes(&o, file);
  assert_int_equal(weft_gguf_tensor_count(o.gguf), 0);
  assert_int_equal(weft_gguf_kv_count(o.gguf), 2);
  assert_int_equal(weft_gguf_data_size(o.gguf), 0);
  assert_int_equal(weft_gguf_data_offset(o.gguf), 96);
  const weft_gguf_tensor_t* t = NULL;
  expect_status(weft_gguf_tensor_find(o.gguf, "w", &t), WEFT_STATUS_NOT_FOUND, NULL, NULL);
  close_opened(&o);

  gguf_builder_init(&b, 2);
  gguf_builder_finish(&b, false, &file);
  gguf_builder_free(&b);
  assert_int_equal(file.size, 24);
  open_file_bytes(&o, file);
  assert_int_equal(weft_gguf_kv_count(o.gguf), 0);
  assert_false(weft_gguf_kv_has(o.gguf, "general.architecture"));
  close_opened(&o);
}

/* Names at the limits of the specification are accepted. */
static void test_limits_accepted(void** state) {
  (void)state;
  char name[65];
  memset(name, 'n', 64);
  name[64] = '\0';
  char* key = malloc(65536);
  assert_non_null(key);
  memset(key, 'k', 65535);
  key[65535] = '\0';
  gguf_builder_t b;
  gguf_builder_init(&b, 3);
  gguf_kv_u8(&b, key, 7);
  const int64_t ne[1] = {32};
  gguf_tensor(&b, name, WEFT_DTYPE_Q4_0, 1, ne, 9);
  gguf_bytes_t file;
  gguf_builder_finish(&b, true, &file);
  gguf_builder_free(&b);
  opened_t o;
  open_file_bytes(&o, file);
  uint8_t value = 0;
  assert_null(weft_gguf_get_u8(o.gguf, key, &value));
  assert_int_equal(value, 7);
  const weft_gguf_tensor_t* t = NULL;
  assert_null(weft_gguf_tensor_find(o.gguf, name, &t));
  assert_int_equal(strlen(t->name), 64);
  close_opened(&o);
  free(key);
}

/* Every proper prefix of a valid file is refused as DATA_LOSS, never a
 * crash and never a read past the prefix. */
static void test_truncated_everywhere(void** state) {
  (void)state;
  gguf_bytes_t file;
  gguf_build_everything(3, 32, &file);
  weft_test_allocator_t ta;
  assert_true(weft_test_allocator_init(&ta));
  for (size_t n = 0; n < file.size; ++n) {
    uint8_t* copy = exact_copy(file.data, n);
    weft_gguf_t* g = NULL;
    weft_status_t status = weft_gguf_create_from_memory(n ? copy : NULL, n,
                                                        weft_test_allocator_get(&ta), &g);
    if (weft_status_code(status) != WEFT_STATUS_DATA_LOSS) {
      fail_msg("prefix of %zu bytes: expected DATA_LOSS, got %s: %s", n,
               weft_status_code_name(weft_status_code(status)), weft_status_message(status));
    }
    assert_null(g);
    assert_true(strlen(weft_status_message(status)) > 10);
    weft_status_free(status);
    free(copy);
  }
  assert_no_leak(&ta);
  weft_test_allocator_deinit(&ta);
  gguf_bytes_free(&file);
}

/* Fail allocation 0, 1, 2 ... in turn: OUT_OF_MEMORY with a size, nothing
 * left behind, until creation needs no more. */
static void test_allocation_failures(void** state) {
  (void)state;
  gguf_bytes_t file;
  gguf_build_everything(3, 32, &file);
  for (uint64_t n = 0;; ++n) {
    assert_true(n < 100);
    weft_test_allocator_t ta;
    assert_true(weft_test_allocator_init(&ta));
    weft_test_allocator_fail_at(&ta, n);
    weft_gguf_t* g = NULL;
    weft_status_t status =
        weft_gguf_create_from_memory(file.data, file.size, weft_test_allocator_get(&ta), &g);
    bool hit = weft_test_allocator_stats(&ta).failure_hit;
    if (!hit) {
      assert_null(status);
      weft_gguf_destroy(g);
      assert_no_leak(&ta);
      weft_test_allocator_deinit(&ta);
      assert_true(n >= 6); /* the reader and its six tables */
      break;
    }
    assert_null(g);
    expect_status(status, WEFT_STATUS_OUT_OF_MEMORY, "out of memory allocating", " bytes for ");
    assert_no_leak(&ta);
    weft_test_allocator_deinit(&ta);
  }
  gguf_bytes_free(&file);
}

/* ---- refusals: the header ---- */

static void test_bad_magic(void** state) {
  (void)state;
  gguf_bytes_t file;
  gguf_build_everything(3, 32, &file);
  memcpy(file.data, "GGUX", 4);
  expect_refusal(&file, WEFT_STATUS_DATA_LOSS, "header: magic is 'GGUX' (0x58554747)",
                 "expected 'GGUF'");
  memcpy(file.data, "\x00\x01\xff'", 4);
  expect_refusal(&file, WEFT_STATUS_DATA_LOSS, "magic is '\\x00\\x01\\xff\\x27'", NULL);
  expect_refusal_n(file.data, 3, WEFT_STATUS_DATA_LOSS, "the file is 3 bytes", NULL);
  gguf_bytes_free(&file);
}

static void test_versions(void** state) {
  (void)state;
  gguf_bytes_t file;
  gguf_build_everything(3, 32, &file);
  gguf_poke_u32(file.data + 4, 1);
  expect_refusal(&file, WEFT_STATUS_UNSUPPORTED, "header: version 1 is not supported",
                 "versions 2 and 3");
  gguf_poke_u32(file.data + 4, 0);
  expect_refusal(&file, WEFT_STATUS_DATA_LOSS, "version 0 is not a GGUF version", NULL);
  gguf_poke_u32(file.data + 4, 4);
  expect_refusal(&file, WEFT_STATUS_UNSUPPORTED, "version 4 is not supported", NULL);
  gguf_poke_u32(file.data + 4, 0x03000000u);
  expect_refusal(&file, WEFT_STATUS_UNSUPPORTED, "0x03000000", "big-endian");
  gguf_bytes_free(&file);
}

static void test_huge_counts(void** state) {
  (void)state;
  gguf_bytes_t file;
  gguf_build_everything(3, 32, &file);
  char text[128];

  /* Refused from the header alone: at most the reader object is allocated. */
  gguf_poke_u64(file.data + 8, UINT64_MAX);
  uint64_t calls = expect_refusal(&file, WEFT_STATUS_DATA_LOSS,
                                  "header: tensor_count 18446744073709551615 needs more than "
                                  "2^64 bytes from offset 24 (33 per tensor info)",
                                  NULL);
  assert_true(calls <= 1);
  gguf_poke_u64(file.data + 8, 1000000);
  snprintf(text, sizeof(text), "but only %zu bytes are left", file.size - 24);
  calls = expect_refusal(&file, WEFT_STATUS_DATA_LOSS,
                         "tensor_count 1000000 needs at least 33000000 bytes from offset 24", text);
  assert_true(calls <= 1);
  gguf_poke_u64(file.data + 8, TENSOR_COUNT_EVERYTHING);

  gguf_poke_u64(file.data + 16, (uint64_t)1 << 40);
  calls = expect_refusal(&file, WEFT_STATUS_DATA_LOSS, "kv_count 1099511627776",
                         "14 per key/value pair");
  assert_true(calls <= 1);

  /* Each count fits alone; together they do not. */
  uint64_t left = file.size - 24;
  gguf_poke_u64(file.data + 8, left / 33);
  gguf_poke_u64(file.data + 16, left / 14);
  calls = expect_refusal(&file, WEFT_STATUS_DATA_LOSS, "kv_count", "and tensor_count");
  assert_true(calls <= 1);

  /* Counts that fit the file but name more records than it holds. */
  gguf_poke_u64(file.data + 8, TENSOR_COUNT_EVERYTHING + 20);
  gguf_poke_u64(file.data + 16, KV_COUNT_EVERYTHING);
  calls = expect_refusal(&file, WEFT_STATUS_DATA_LOSS, "tensor 8", NULL);
  assert_true(calls <= 1);
  gguf_bytes_free(&file);
}

/* ---- refusals: key/value pairs ---- */

static void test_bad_keys(void** state) {
  (void)state;
  gguf_builder_t b;
  gguf_builder_init(&b, 3);
  b.kv_count = 1;
  gguf_put_u64(&b.kv, 50);
  gguf_put_zeros(&b.kv, 10);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "kv 0: key at offset 32 needs 50 bytes, but the file ends at 42 (10 bytes left)",
               NULL);

  gguf_builder_init(&b, 3);
  gguf_kv_u8(&b, "a", 1);
  b.kv_count = 2;
  gguf_put_u64(&b.kv, 0);
  gguf_put_zeros(&b.kv, 16);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS, "kv 1: key length is 0 at offset 38", NULL);

  gguf_builder_init(&b, 3);
  b.kv_count = 1;
  gguf_put_u64(&b.kv, 65536);
  gguf_put_zeros(&b.kv, 65536 + 8);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS, "kv 0: key length 65536 at offset 24 exceeds 65535",
               NULL);

  gguf_builder_init(&b, 3);
  gguf_kv_u8(&b, "caf\xc3\xa9", 1);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "key 'caf\\xc3\\xa9' has byte 0xc3 at position 3; keys are printable ASCII", NULL);

  gguf_builder_init(&b, 3);
  b.kv_count = 1;
  gguf_put_string(&b.kv, "a\0b", 3);
  gguf_put_u32(&b.kv, 0);
  gguf_put_u8(&b.kv, 0);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS, "key 'a\\x00b' has byte 0x00 at position 1",
               NULL);
}

static void test_string_past_end(void** state) {
  (void)state;
  gguf_builder_t b = kv_file("general.name", 8);
  gguf_put_u64(&b.kv, 1000);
  gguf_put(&b.kv, "abc", 3);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "kv 0 'general.name': string length 1000 at offset 48 runs past the end of the "
               "file (3 bytes left)",
               NULL);

  b = kv_file("general.name", 8);
  gguf_put_u32(&b.kv, 5); /* half of a length */
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "kv 0 'general.name': string length at offset 48 needs 8 bytes", NULL);

  b = kv_file("x", 4); /* a uint32 with two bytes */
  gguf_put_u16(&b.kv, 5);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS, "kv 0 'x': value at offset 37 needs 4 bytes",
               NULL);
}

static void test_array_past_end(void** state) {
  (void)state;
  gguf_builder_t b = kv_file("tokenizer.ggml.token_type", 9);
  gguf_put_u32(&b.kv, 5);
  gguf_put_u64(&b.kv, 1000);
  gguf_put_zeros(&b.kv, 12);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "kv 0 'tokenizer.ggml.token_type': array length 1000 needs 4000 bytes from "
               "offset 73 (4 per int32), but only 12 bytes are left",
               NULL);

  b = kv_file("a", 9);
  gguf_put_u32(&b.kv, 10);
  gguf_put_u64(&b.kv, (uint64_t)1 << 62);
  gguf_put_zeros(&b.kv, 64);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "array length 4611686018427387904 needs more than 2^64 bytes from offset 49", NULL);

  b = kv_file("tokenizer.ggml.tokens", 9);
  gguf_put_u32(&b.kv, 8);
  gguf_put_u64(&b.kv, (uint64_t)1 << 60);
  gguf_put_zeros(&b.kv, 64);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "array length 1152921504606846976 needs at least 9223372036854775808 bytes "
               "from offset 69 (8 per string)",
               NULL);

  b = kv_file("tokenizer.ggml.tokens", 9);
  gguf_put_u32(&b.kv, 8);
  gguf_put_u64(&b.kv, 3);
  gguf_put_cstring(&b.kv, "ok");
  gguf_put_u64(&b.kv, 100);
  gguf_put(&b.kv, "short", 5);
  gguf_put_zeros(&b.kv, 8);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "kv 0 'tokenizer.ggml.tokens': string 1 of 3 at offset 79 has length 100, past "
               "the end of the file (13 bytes left after its length)",
               NULL);

  /* Room for the count check (8 bytes per string), not for the second
   * string's length once the first took 16. */
  b = kv_file("y", 9);
  gguf_put_u32(&b.kv, 8);
  gguf_put_u64(&b.kv, 2);
  gguf_put_cstring(&b.kv, "abcdefgh");
  gguf_put_u32(&b.kv, 0);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "kv 0 'y': length of string 1 of 2 at offset 65 needs 8 bytes, but only 4 are "
               "left",
               NULL);
}

static void test_bad_value_types(void** state) {
  (void)state;
  gguf_builder_t b = kv_file("x", 13);
  gguf_put_u64(&b.kv, 0);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "kv 0 'x': value type 13 at offset 33 is not a GGUF value type (0..12)", NULL);

  b = kv_file("x", 0xffffffffu);
  gguf_put_u64(&b.kv, 0);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS, "value type 4294967295", NULL);

  b = kv_file("x", 9);
  gguf_put_u32(&b.kv, 42);
  gguf_put_u64(&b.kv, 1);
  gguf_put_u64(&b.kv, 0);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "kv 0 'x': array element type 42 at offset 37 is not a GGUF value type", NULL);

  /* Nesting rule: arrays hold scalars or strings, one level deep. */
  b = kv_file("x", 9);
  gguf_put_u32(&b.kv, 9);
  gguf_put_u64(&b.kv, 1);
  gguf_put_u32(&b.kv, 4);
  gguf_put_u64(&b.kv, 1);
  gguf_put_u32(&b.kv, 7);
  refuse_built(&b, false, WEFT_STATUS_UNSUPPORTED,
               "kv 0 'x': array of arrays (element type 9 at offset 37) is not supported", NULL);

  b = kv_file("flag", 7);
  gguf_put_u8(&b.kv, 2);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS, "kv 0 'flag': bool value 2 at offset 40 is not 0 or 1",
               NULL);

  b = kv_file("flags", 9);
  const uint8_t bools[3] = {1, 0, 7};
  gguf_put_u32(&b.kv, 7);
  gguf_put_u64(&b.kv, 3);
  gguf_put(&b.kv, bools, 3);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS, "kv 0 'flags': bool element 2 is 7 at offset 55",
               NULL);
}

static void test_bad_alignment(void** state) {
  (void)state;
  const uint32_t bad[3] = {0, 3, 96};
  for (int i = 0; i < 3; ++i) {
    gguf_builder_t b;
    gguf_builder_init(&b, 3);
    gguf_kv_u32(&b, "general.alignment", bad[i]);
    char text[96];
    snprintf(text, sizeof(text), "kv 0 'general.alignment': general.alignment must be a power "
             "of two, got %u", bad[i]);
    refuse_built(&b, false, WEFT_STATUS_DATA_LOSS, text, NULL);
  }
  gguf_builder_t b;
  gguf_builder_init(&b, 3);
  gguf_kv_u64(&b, "general.alignment", 32);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS, "general.alignment must be uint32, got uint64",
               NULL);
  gguf_builder_init(&b, 3);
  const uint32_t values[1] = {32};
  gguf_kv_array(&b, "general.alignment", 4, 4, 1, values);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "general.alignment must be uint32, got array of uint32", NULL);
}

static void test_duplicate_key(void** state) {
  (void)state;
  gguf_builder_t b;
  gguf_builder_init(&b, 3);
  gguf_kv_u32(&b, "llama.block_count", 30);
  gguf_kv_string(&b, "general.architecture", "llama", 5);
  gguf_kv_u64(&b, "llama.block_count", 31);
  refuse_built(&b, true, WEFT_STATUS_DATA_LOSS,
               "kv 2 'llama.block_count': duplicate key (also kv 0)", NULL);
}

/* ---- refusals: tensor infos ---- */

static void test_bad_tensor_names(void** state) {
  (void)state;
  const uint64_t ne[1] = {8};
  char name[66];
  memset(name, 'n', 65);
  name[65] = '\0';
  gguf_builder_t b;
  gguf_builder_init(&b, 3);
  gguf_tensor_info(&b, name, WEFT_DTYPE_F32, 1, ne, 0);
  gguf_put_zeros(&b.data, 32);
  refuse_built(&b, true, WEFT_STATUS_DATA_LOSS,
               "tensor 0: name length 65 at offset 24 exceeds 64 bytes", NULL);

  gguf_builder_init(&b, 3);
  gguf_tensor_info(&b, "", WEFT_DTYPE_F32, 1, ne, 0);
  gguf_put_zeros(&b.data, 32);
  refuse_built(&b, true, WEFT_STATUS_DATA_LOSS, "tensor 0: name length is 0 at offset 24", NULL);

  gguf_builder_init(&b, 3);
  b.tensor_count = 1;
  gguf_put_string(&b.info, "bad\0name", 8);
  gguf_put_zeros(&b.info, 32);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "tensor 0: name 'bad\\x00name' has a NUL byte at position 3", NULL);

  gguf_builder_init(&b, 3);
  b.tensor_count = 1;
  gguf_put_u64(&b.info, 60);
  gguf_put_zeros(&b.info, 30);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "tensor 0: name at offset 32 needs 60 bytes, but the file ends at 62", NULL);

  gguf_builder_init(&b, 3);
  const int64_t ne2[1] = {8};
  gguf_tensor(&b, "blk.0.attn_q.weight", WEFT_DTYPE_F32, 1, ne2, 1);
  gguf_tensor(&b, "output.weight", WEFT_DTYPE_F32, 1, ne2, 2);
  gguf_tensor(&b, "blk.0.attn_q.weight", WEFT_DTYPE_F32, 1, ne2, 3);
  refuse_built(&b, true, WEFT_STATUS_DATA_LOSS,
               "tensor 2 'blk.0.attn_q.weight': duplicate name (also tensor 0)", NULL);
}

static void test_bad_tensor_types(void** state) {
  (void)state;
  const uint64_t ne[2] = {256, 2};
  refuse_tensor(16, 2, ne, 0, 4096, WEFT_STATUS_UNSUPPORTED,
                "tensor 0 'w': type 16 (iq2_xxs) at offset", "is not a weft dtype");
  refuse_tensor(4, 2, ne, 0, 4096, WEFT_STATUS_UNSUPPORTED, "type 4 (q4_2)", NULL);
  refuse_tensor(1000, 2, ne, 0, 4096, WEFT_STATUS_UNSUPPORTED, "type 1000 (unknown)", NULL);
}

static void test_bad_shapes(void** state) {
  (void)state;
  const uint64_t ne5[5] = {1, 1, 1, 1, 1};
  refuse_tensor(WEFT_DTYPE_F32, 5, ne5, 0, 32, WEFT_STATUS_UNSUPPORTED,
                "tensor 0 'w': n_dims 5 at offset 78 exceeds 4", NULL);
  refuse_tensor(WEFT_DTYPE_F32, 0, ne5, 0, 32, WEFT_STATUS_DATA_LOSS,
                "tensor 0 'w': n_dims is 0 at offset 78", NULL);
  const uint64_t ne577[1] = {577};
  refuse_tensor(WEFT_DTYPE_Q4_0, 1, ne577, 0, 4096, WEFT_STATUS_DATA_LOSS,
                "tensor 0 'w': type q4_0 needs ne[0] % 32 == 0, got 577", NULL);
  const uint64_t ne128[2] = {128, 4};
  refuse_tensor(WEFT_DTYPE_Q4_K, 2, ne128, 0, 4096, WEFT_STATUS_DATA_LOSS,
                "type q4_K needs ne[0] % 256 == 0, got 128", NULL);
  const uint64_t ne_zero[2] = {4, 0};
  refuse_tensor(WEFT_DTYPE_F32, 2, ne_zero, 0, 32, WEFT_STATUS_DATA_LOSS,
                "tensor 0 'w': ne[1] is 0 at offset 90", NULL);
  const uint64_t ne_big[1] = {(uint64_t)1 << 63};
  refuse_tensor(WEFT_DTYPE_F32, 1, ne_big, 0, 32, WEFT_STATUS_DATA_LOSS,
                "ne[0] = 9223372036854775808 at offset 82 exceeds INT64_MAX", NULL);
  const uint64_t ne_overflow[3] = {(uint64_t)1 << 32, (uint64_t)1 << 31, 2};
  refuse_tensor(WEFT_DTYPE_F32, 3, ne_overflow, 0, 32, WEFT_STATUS_DATA_LOSS,
                "element count of ne = [4294967296, 2147483648, 2, 1] overflows int64", NULL);
  const uint64_t ne_bytes[2] = {(uint64_t)1 << 31, (uint64_t)1 << 31};
  refuse_tensor(WEFT_DTYPE_F64, 2, ne_bytes, 0, 32, WEFT_STATUS_DATA_LOSS,
                "4611686018427387904 elements of f64 need more than 2^64 bytes", NULL);
  const uint64_t ne_ok[1] = {8};
  refuse_tensor(WEFT_DTYPE_F32, 1, ne_ok, 0, 16, WEFT_STATUS_DATA_LOSS,
                "tensor 0 'w': 32 bytes of f32 at offset 0 run past the end of the file", NULL);
}

static void test_bad_tensor_offsets(void** state) {
  (void)state;
  const uint64_t ne[1] = {8}; /* 32 bytes of f32 */
  refuse_tensor(WEFT_DTYPE_F32, 1, ne, 16, 64, WEFT_STATUS_DATA_LOSS,
                "tensor 0 'w': offset 16 is not a multiple of the alignment 32", NULL);
  refuse_tensor(WEFT_DTYPE_F32, 1, ne, 64, 64, WEFT_STATUS_DATA_LOSS,
                "tensor 0 'w': 32 bytes of f32 at offset 64 run past the end of the file "
                "(the data section starts at 128 and holds 64 bytes)",
                NULL);
  refuse_tensor(WEFT_DTYPE_F32, 1, ne, (uint64_t)1 << 63, 64, WEFT_STATUS_DATA_LOSS,
                "at offset 9223372036854775808 run past the end", NULL);
  refuse_tensor(WEFT_DTYPE_F32, 1, ne, UINT64_MAX - 31, 64, WEFT_STATUS_DATA_LOSS,
                "at offset 18446744073709551584 run past the end", NULL);

  /* Overlaps, listed in either order in the file. */
  const uint64_t ne16[1] = {16}; /* 64 bytes */
  gguf_builder_t b;
  gguf_builder_init(&b, 3);
  gguf_tensor_info(&b, "a", WEFT_DTYPE_F32, 1, ne16, 0);
  gguf_tensor_info(&b, "b", WEFT_DTYPE_F32, 1, ne, 32);
  gguf_put_zeros(&b.data, 128);
  refuse_built(&b, true, WEFT_STATUS_DATA_LOSS,
               "tensor 1 'b' [32, 64) overlaps tensor 0 'a' [0, 64)", NULL);
  gguf_builder_init(&b, 3);
  gguf_tensor_info(&b, "c", WEFT_DTYPE_F32, 1, ne, 64);
  gguf_tensor_info(&b, "b", WEFT_DTYPE_F32, 1, ne, 32);
  gguf_tensor_info(&b, "a", WEFT_DTYPE_F32, 1, ne16, 0);
  gguf_put_zeros(&b.data, 128);
  refuse_built(&b, true, WEFT_STATUS_DATA_LOSS,
               "tensor 1 'b' [32, 64) overlaps tensor 2 'a' [0, 64)", NULL);
  gguf_builder_init(&b, 3);
  gguf_tensor_info(&b, "a", WEFT_DTYPE_F32, 1, ne, 0);
  gguf_tensor_info(&b, "b", WEFT_DTYPE_F32, 1, ne, 0);
  gguf_put_zeros(&b.data, 64);
  refuse_built(&b, true, WEFT_STATUS_DATA_LOSS, "tensor 1 'b' [0, 32) overlaps tensor 0 'a'",
               NULL);
  /* Adjacent is fine. */
  gguf_builder_init(&b, 3);
  gguf_tensor_info(&b, "a", WEFT_DTYPE_F32, 1, ne, 32);
  gguf_tensor_info(&b, "b", WEFT_DTYPE_F32, 1, ne, 0);
  gguf_put_zeros(&b.data, 64);
  gguf_bytes_t file;
  gguf_builder_finish(&b, true, &file);
  gguf_builder_free(&b);
  opened_t o;
  open_file_bytes(&o, file);
  close_opened(&o);

  /* A file with tensors that ends before its data section. */
  gguf_builder_init(&b, 3);
  gguf_tensor_info(&b, "w", WEFT_DTYPE_F32, 1, ne, 0);
  refuse_built(&b, false, WEFT_STATUS_DATA_LOSS,
               "data section: it starts at 64 (tensor infos end at 57, aligned to 32), past "
               "the end of the file (57 bytes)",
               NULL);
}

/* ---- misuse ---- */

static void test_misuse(void** state) {
  (void)state;
  weft_gguf_t* g = NULL;
  weft_allocator_t system = weft_allocator_system();
  expect_status(weft_gguf_create_from_memory(NULL, 10, system, &g),
                WEFT_STATUS_INVALID_ARGUMENT, "size 10", NULL);
  expect_status(weft_gguf_create_from_memory("GGUF", 4, system, NULL),
                WEFT_STATUS_INVALID_ARGUMENT, NULL, NULL);
  weft_allocator_t broken = {NULL, NULL, NULL};
  expect_status(weft_gguf_create_from_memory("GGUF", 4, broken, &g),
                WEFT_STATUS_INVALID_ARGUMENT, NULL, NULL);
  expect_status(weft_gguf_create_from_file(NULL, system, &g), WEFT_STATUS_INVALID_ARGUMENT, NULL,
                NULL);
  expect_status(weft_gguf_create_from_memory(NULL, 0, system, &g), WEFT_STATUS_DATA_LOSS,
                "the file is 0 bytes", NULL);
  weft_gguf_destroy(NULL);
  uint64_t index = 0;
  expect_status(weft_gguf_kv_find(NULL, "x", &index), WEFT_STATUS_INVALID_ARGUMENT, NULL, NULL);
  assert_false(weft_gguf_kv_has(NULL, "x"));
  assert_int_equal(weft_gguf_version(NULL), 0);
  assert_null(weft_gguf_tensor_data(NULL, NULL));
  expect_status(weft_gguf_array_read(NULL, 0, 0, NULL, 0), WEFT_STATUS_INVALID_ARGUMENT, NULL,
                NULL);
  assert_string_equal(weft_gguf_type_name(WEFT_GGUF_TYPE_FLOAT64), "float64");
  assert_string_equal(weft_gguf_type_name((weft_gguf_type_t)13), "unknown");
  assert_string_equal(weft_gguf_dtype_name(WEFT_DTYPE_Q6_K), "q6_K");
  assert_string_equal(weft_gguf_dtype_name(39), "mxfp4");
  assert_string_equal(weft_gguf_dtype_name(40), "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_everything_v3),
      cmocka_unit_test(test_everything_v2),
      cmocka_unit_test(test_everything_other_alignments),
      cmocka_unit_test(test_from_file),
      cmocka_unit_test(test_metadata_only),
      cmocka_unit_test(test_limits_accepted),
      cmocka_unit_test(test_truncated_everywhere),
      cmocka_unit_test(test_allocation_failures),
      cmocka_unit_test(test_bad_magic),
      cmocka_unit_test(test_versions),
      cmocka_unit_test(test_huge_counts),
      cmocka_unit_test(test_bad_keys),
      cmocka_unit_test(test_string_past_end),
      cmocka_unit_test(test_array_past_end),
      cmocka_unit_test(test_bad_value_types),
      cmocka_unit_test(test_bad_alignment),
      cmocka_unit_test(test_duplicate_key),
      cmocka_unit_test(test_bad_tensor_names),
      cmocka_unit_test(test_bad_tensor_types),
      cmocka_unit_test(test_bad_shapes),
      cmocka_unit_test(test_bad_tensor_offsets),
      cmocka_unit_test(test_misuse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
