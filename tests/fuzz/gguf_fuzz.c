/* libFuzzer target for the GGUF reader: any input is opened from memory;
 * a refusal must carry a message, and an accepted file is traversed in full
 * (every key through its typed getter by index and by key, every array
 * element, every tensor by index and by name, the first and last byte of
 * its data) while the reader's promises are checked. libFuzzer hands over a
 * heap block of exactly the input's size, so AddressSanitizer reports any
 * read past the end; a broken promise traps.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by
 * tests/fuzz/CMakeLists.txt, directly from the reader's sources. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define CHECK(condition)        \
  do {                          \
    if (!(condition)) __builtin_trap(); \
  } while (0)

static volatile uint64_t weft_fuzz_sink;

static void weft_fuzz_touch(const void* data, uint64_t size) {
  if (size == 0) return;
  const uint8_t* bytes = data;
  weft_fuzz_sink += bytes[0] + bytes[size - 1];
}

static void weft_fuzz_ok(weft_status_t status) {
  CHECK(status == WEFT_OK);
}

/* A failure must be a status with a message; frees it. */
static void weft_fuzz_fails(weft_status_t status) {
  CHECK(status != WEFT_OK);
  const char* message = weft_status_message(status);
  CHECK(message && message[0]);
  weft_status_free(status);
}

static void weft_fuzz_array(const weft_gguf_t* g, const weft_gguf_kv_t* kv) {
  weft_gguf_array_t array;
  weft_fuzz_ok(weft_gguf_kv_get_array(g, kv->index, kv->element_type, &array));
  CHECK(array.count == kv->count && array.type == kv->element_type);
  weft_gguf_array_t by_key;
  weft_fuzz_ok(weft_gguf_get_array(g, kv->key, kv->element_type, &by_key));
  CHECK(by_key.kv_index == kv->index);
  if (kv->element_type == WEFT_GGUF_TYPE_STRING) {
    uint64_t total = 0;
    for (uint64_t i = 0; i < array.count; ++i) {
      weft_gguf_string_t s;
      weft_fuzz_ok(weft_gguf_array_get_string(&array, i, &s));
      weft_fuzz_touch(s.data, s.size);
      total += 8 + s.size;
    }
    CHECK(total == array.size);
    weft_gguf_string_t s;
    weft_fuzz_fails(weft_gguf_array_get_string(&array, array.count, &s));
    weft_fuzz_fails(weft_gguf_array_read(&array, 0, 0, NULL, 0));
    return;
  }
  uint8_t chunk[256];
  uint64_t each = array.count ? array.size / array.count : 1;
  CHECK(each >= 1 && each <= 8);
  uint64_t per = sizeof(chunk) / each;
  for (uint64_t first = 0; first < array.count; first += per) {
    uint64_t n = array.count - first < per ? array.count - first : per;
    weft_fuzz_ok(weft_gguf_array_read(&array, first, n, chunk, sizeof(chunk)));
    weft_fuzz_touch(chunk, n * each);
    if (kv->element_type == WEFT_GGUF_TYPE_BOOL) {
      for (uint64_t i = 0; i < n; ++i) CHECK(chunk[i] <= 1);
    }
  }
  weft_fuzz_fails(weft_gguf_array_read(&array, array.count, 1, chunk, sizeof(chunk)));
  weft_gguf_string_t s;
  weft_fuzz_fails(weft_gguf_array_get_string(&array, 0, &s));
}

static void weft_fuzz_kv(const weft_gguf_t* g, uint64_t index) {
  weft_gguf_kv_t kv;
  weft_fuzz_ok(weft_gguf_kv_get(g, index, &kv));
  CHECK(kv.index == index && kv.key && kv.key[0]);
  CHECK(kv.file_offset <= weft_gguf_file_size(g) &&
        kv.size <= weft_gguf_file_size(g) - kv.file_offset);
  weft_fuzz_touch(kv.data, kv.size);
  uint64_t found = UINT64_MAX;
  weft_fuzz_ok(weft_gguf_kv_find(g, kv.key, &found));
  CHECK(found == index); /* keys are unique */
  CHECK(weft_gguf_kv_has(g, kv.key));
  union {
    uint8_t u8;
    int8_t i8;
    uint16_t u16;
    int16_t i16;
    uint32_t u32;
    int32_t i32;
    uint64_t u64;
    int64_t i64;
    float f32;
    double f64;
    bool b;
    weft_gguf_string_t s;
  } v;
  switch (kv.type) {
#define WEFT_FUZZ_SCALAR_(type, suffix, field)                       \
  case type:                                                         \
    weft_fuzz_ok(weft_gguf_kv_get_##suffix(g, index, &v.field));     \
    weft_fuzz_ok(weft_gguf_get_##suffix(g, kv.key, &v.field));       \
    break;
    WEFT_FUZZ_SCALAR_(WEFT_GGUF_TYPE_UINT8, u8, u8)
    WEFT_FUZZ_SCALAR_(WEFT_GGUF_TYPE_INT8, i8, i8)
    WEFT_FUZZ_SCALAR_(WEFT_GGUF_TYPE_UINT16, u16, u16)
    WEFT_FUZZ_SCALAR_(WEFT_GGUF_TYPE_INT16, i16, i16)
    WEFT_FUZZ_SCALAR_(WEFT_GGUF_TYPE_UINT32, u32, u32)
    WEFT_FUZZ_SCALAR_(WEFT_GGUF_TYPE_INT32, i32, i32)
    WEFT_FUZZ_SCALAR_(WEFT_GGUF_TYPE_UINT64, u64, u64)
    WEFT_FUZZ_SCALAR_(WEFT_GGUF_TYPE_INT64, i64, i64)
    WEFT_FUZZ_SCALAR_(WEFT_GGUF_TYPE_FLOAT32, f32, f32)
    WEFT_FUZZ_SCALAR_(WEFT_GGUF_TYPE_FLOAT64, f64, f64)
    WEFT_FUZZ_SCALAR_(WEFT_GGUF_TYPE_BOOL, bool, b)
#undef WEFT_FUZZ_SCALAR_
    case WEFT_GGUF_TYPE_STRING:
      weft_fuzz_ok(weft_gguf_kv_get_string(g, index, &v.s));
      CHECK(v.s.size == kv.size);
      weft_fuzz_touch(v.s.data, v.s.size);
      break;
    case WEFT_GGUF_TYPE_ARRAY:
      weft_fuzz_array(g, &kv);
      break;
    default:
      CHECK(0); /* the reader never accepts another type */
  }
  /* A getter of another type is refused. */
  if (kv.type == WEFT_GGUF_TYPE_UINT8) {
    weft_fuzz_fails(weft_gguf_kv_get_i8(g, index, &v.i8));
  } else {
    weft_fuzz_fails(weft_gguf_kv_get_u8(g, index, &v.u8));
  }
}

static void weft_fuzz_tensor(const weft_gguf_t* g, uint64_t index) {
  const weft_gguf_tensor_t* t = NULL;
  weft_fuzz_ok(weft_gguf_tensor_get(g, index, &t));
  CHECK(t->index == index);
  const weft_gguf_tensor_t* by_name = NULL;
  weft_fuzz_ok(weft_gguf_tensor_find(g, t->name, &by_name));
  CHECK(by_name == t); /* names are unique */
  size_t name_size = strlen(t->name);
  CHECK(name_size >= 1 && name_size <= WEFT_GGUF_MAX_TENSOR_NAME);
  CHECK(t->n_dims >= 1 && t->n_dims <= 4);
  uint32_t block = weft_dtype_block_elements(t->type);
  CHECK(block > 0 && t->ne[0] % block == 0);
  int64_t n = 1;
  for (int d = 0; d < 4; ++d) {
    CHECK(t->ne[d] >= 1);
    CHECK(d < (int)t->n_dims || t->ne[d] == 1);
    CHECK(!__builtin_mul_overflow(n, t->ne[d], &n));
  }
  CHECK(n == t->n_elements);
  CHECK(t->size == (uint64_t)n / block * weft_dtype_block_bytes(t->type));
  CHECK(t->offset % weft_gguf_alignment(g) == 0);
  CHECK(t->file_offset == weft_gguf_data_offset(g) + t->offset);
  CHECK(t->file_offset <= weft_gguf_file_size(g) &&
        t->size <= weft_gguf_file_size(g) - t->file_offset);
  weft_fuzz_touch(weft_gguf_tensor_data(g, t), t->size);
  uint64_t offset = 0;
  uint64_t bytes = 0;
  weft_fuzz_ok(weft_gguf_tensor_file_range(g, t->name, &offset, &bytes));
  CHECK(offset == t->file_offset && bytes == t->size);
}

/* Tensors do not overlap: a quadratic check, affordable for fuzz inputs. */
static void weft_fuzz_no_overlap(const weft_gguf_t* g) {
  uint64_t count = weft_gguf_tensor_count(g);
  if (count > 512) return;
  for (uint64_t i = 0; i < count; ++i) {
    const weft_gguf_tensor_t* a = NULL;
    weft_fuzz_ok(weft_gguf_tensor_get(g, i, &a));
    for (uint64_t j = i + 1; j < count; ++j) {
      const weft_gguf_tensor_t* b = NULL;
      weft_fuzz_ok(weft_gguf_tensor_get(g, j, &b));
      CHECK(a->offset + a->size <= b->offset || b->offset + b->size <= a->offset);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  weft_gguf_t* g = NULL;
  weft_status_t status =
      weft_gguf_create_from_memory(data, size, weft_allocator_system(), &g);
  if (status != WEFT_OK) {
    CHECK(g == NULL);
    weft_fuzz_fails(status);
    return 0;
  }
  uint32_t version = weft_gguf_version(g);
  CHECK(version == 2 || version == 3);
  uint32_t alignment = weft_gguf_alignment(g);
  CHECK(alignment != 0 && (alignment & (alignment - 1)) == 0);
  CHECK(weft_gguf_file_size(g) == size);
  CHECK(weft_gguf_data_offset(g) % alignment == 0);
  CHECK(weft_gguf_data_size(g) <= size);
  for (uint64_t i = 0; i < weft_gguf_kv_count(g); ++i) weft_fuzz_kv(g, i);
  for (uint64_t i = 0; i < weft_gguf_tensor_count(g); ++i) weft_fuzz_tensor(g, i);
  weft_fuzz_no_overlap(g);
  weft_gguf_kv_t kv;
  weft_fuzz_fails(weft_gguf_kv_get(g, weft_gguf_kv_count(g), &kv));
  const weft_gguf_tensor_t* t = NULL;
  weft_fuzz_fails(weft_gguf_tensor_get(g, weft_gguf_tensor_count(g), &t));
  weft_fuzz_fails(weft_gguf_tensor_find(g, "", &t));
  weft_gguf_destroy(g);
  return 0;
}
