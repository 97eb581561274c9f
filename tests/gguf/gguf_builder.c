#include "gguf_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/abi/dtype.h"

/* GGUF value type ids, written out here so the builder does not depend on
 * the reader's header. */
enum {
  GB_UINT8 = 0, GB_INT8 = 1, GB_UINT16 = 2, GB_INT16 = 3, GB_UINT32 = 4, GB_INT32 = 5,
  GB_FLOAT32 = 6, GB_BOOL = 7, GB_STRING = 8, GB_ARRAY = 9, GB_UINT64 = 10, GB_INT64 = 11,
  GB_FLOAT64 = 12
};

void gguf_bytes_free(gguf_bytes_t* bytes) {
  free(bytes->data);
  bytes->data = NULL;
  bytes->size = bytes->capacity = 0;
}

static void gguf_bytes_reserve(gguf_bytes_t* bytes, size_t more) {
  if (bytes->size + more <= bytes->capacity) return;
  size_t capacity = bytes->capacity ? bytes->capacity : 256;
  while (capacity < bytes->size + more) capacity *= 2;
  uint8_t* grown = realloc(bytes->data, capacity);
  if (!grown) {
    fprintf(stderr, "gguf_builder: out of memory growing to %zu bytes\n", capacity);
    exit(1);
  }
  bytes->data = grown;
  bytes->capacity = capacity;
}

void gguf_put(gguf_bytes_t* bytes, const void* data, size_t size) {
  if (size == 0) return;
  gguf_bytes_reserve(bytes, size);
  memcpy(bytes->data + bytes->size, data, size);
  bytes->size += size;
}

void gguf_put_zeros(gguf_bytes_t* bytes, size_t size) {
  if (size == 0) return;
  gguf_bytes_reserve(bytes, size);
  memset(bytes->data + bytes->size, 0, size);
  bytes->size += size;
}

void gguf_poke_u32(uint8_t* at, uint32_t value) {
  for (int i = 0; i < 4; ++i) at[i] = (uint8_t)(value >> (8 * i));
}

void gguf_poke_u64(uint8_t* at, uint64_t value) {
  for (int i = 0; i < 8; ++i) at[i] = (uint8_t)(value >> (8 * i));
}

void gguf_put_u8(gguf_bytes_t* bytes, uint8_t value) { gguf_put(bytes, &value, 1); }

void gguf_put_u16(gguf_bytes_t* bytes, uint16_t value) {
  uint8_t b[2] = {(uint8_t)value, (uint8_t)(value >> 8)};
  gguf_put(bytes, b, 2);
}

void gguf_put_u32(gguf_bytes_t* bytes, uint32_t value) {
  uint8_t b[4];
  gguf_poke_u32(b, value);
  gguf_put(bytes, b, 4);
}

void gguf_put_u64(gguf_bytes_t* bytes, uint64_t value) {
  uint8_t b[8];
  gguf_poke_u64(b, value);
  gguf_put(bytes, b, 8);
}

void gguf_put_string(gguf_bytes_t* bytes, const char* text, size_t size) {
  gguf_put_u64(bytes, size);
  gguf_put(bytes, text, size);
}

void gguf_put_cstring(gguf_bytes_t* bytes, const char* text) {
  gguf_put_string(bytes, text, strlen(text));
}

void gguf_builder_init(gguf_builder_t* builder, uint32_t version) {
  memset(builder, 0, sizeof(*builder));
  builder->version = version;
  builder->alignment = 32;
}

void gguf_builder_free(gguf_builder_t* builder) {
  gguf_bytes_free(&builder->kv);
  gguf_bytes_free(&builder->info);
  gguf_bytes_free(&builder->data);
}

void gguf_kv_begin(gguf_builder_t* b, const char* key, uint32_t type) {
  gguf_put_cstring(&b->kv, key);
  gguf_put_u32(&b->kv, type);
  b->kv_count++;
}

void gguf_kv_u8(gguf_builder_t* b, const char* key, uint8_t value) {
  gguf_kv_begin(b, key, GB_UINT8);
  gguf_put_u8(&b->kv, value);
}

void gguf_kv_i8(gguf_builder_t* b, const char* key, int8_t value) {
  gguf_kv_begin(b, key, GB_INT8);
  gguf_put_u8(&b->kv, (uint8_t)value);
}

void gguf_kv_u16(gguf_builder_t* b, const char* key, uint16_t value) {
  gguf_kv_begin(b, key, GB_UINT16);
  gguf_put_u16(&b->kv, value);
}

void gguf_kv_i16(gguf_builder_t* b, const char* key, int16_t value) {
  gguf_kv_begin(b, key, GB_INT16);
  gguf_put_u16(&b->kv, (uint16_t)value);
}

void gguf_kv_u32(gguf_builder_t* b, const char* key, uint32_t value) {
  gguf_kv_begin(b, key, GB_UINT32);
  gguf_put_u32(&b->kv, value);
}

void gguf_kv_i32(gguf_builder_t* b, const char* key, int32_t value) {
  gguf_kv_begin(b, key, GB_INT32);
  gguf_put_u32(&b->kv, (uint32_t)value);
}

void gguf_kv_u64(gguf_builder_t* b, const char* key, uint64_t value) {
  gguf_kv_begin(b, key, GB_UINT64);
  gguf_put_u64(&b->kv, value);
}

void gguf_kv_i64(gguf_builder_t* b, const char* key, int64_t value) {
  gguf_kv_begin(b, key, GB_INT64);
  gguf_put_u64(&b->kv, (uint64_t)value);
}

void gguf_kv_f32(gguf_builder_t* b, const char* key, float value) {
  uint32_t bits;
  memcpy(&bits, &value, 4);
  gguf_kv_begin(b, key, GB_FLOAT32);
  gguf_put_u32(&b->kv, bits);
}

void gguf_kv_f64(gguf_builder_t* b, const char* key, double value) {
  uint64_t bits;
  memcpy(&bits, &value, 8);
  gguf_kv_begin(b, key, GB_FLOAT64);
  gguf_put_u64(&b->kv, bits);
}

void gguf_kv_bool(gguf_builder_t* b, const char* key, bool value) {
  gguf_kv_begin(b, key, GB_BOOL);
  gguf_put_u8(&b->kv, value ? 1 : 0);
}

void gguf_kv_string(gguf_builder_t* b, const char* key, const char* value, size_t size) {
  gguf_kv_begin(b, key, GB_STRING);
  gguf_put_string(&b->kv, value, size);
}

void gguf_kv_array(gguf_builder_t* b, const char* key, uint32_t type, size_t element_size,
                   uint64_t count, const void* elements) {
  gguf_kv_begin(b, key, GB_ARRAY);
  gguf_put_u32(&b->kv, type);
  gguf_put_u64(&b->kv, count);
  /* Host order is little-endian on every machine weft supports. */
  gguf_put(&b->kv, elements, (size_t)count * element_size);
}

void gguf_kv_string_array(gguf_builder_t* b, const char* key, uint64_t count,
                          const char* const* strings, const size_t* sizes) {
  gguf_kv_begin(b, key, GB_ARRAY);
  gguf_put_u32(&b->kv, GB_STRING);
  gguf_put_u64(&b->kv, count);
  for (uint64_t i = 0; i < count; ++i) {
    gguf_put_string(&b->kv, strings[i], sizes ? sizes[i] : strlen(strings[i]));
  }
}

void gguf_kv_alignment(gguf_builder_t* b, uint32_t alignment) {
  gguf_kv_u32(b, "general.alignment", alignment);
  b->alignment = alignment;
}

uint64_t gguf_tensor_bytes(uint32_t type, uint32_t n_dims, const int64_t* ne) {
  uint64_t n = 1;
  for (uint32_t d = 0; d < n_dims; ++d) n *= (uint64_t)ne[d];
  return n / weft_dtype_block_elements(type) * weft_dtype_block_bytes(type);
}

uint8_t gguf_tensor_byte(uint64_t index, uint8_t seed) {
  return (uint8_t)((index * 131u + seed) & 0xffu);
}

void gguf_tensor_info(gguf_builder_t* b, const char* name, uint32_t type, uint32_t n_dims,
                      const uint64_t* ne, uint64_t offset) {
  gguf_put_cstring(&b->info, name);
  gguf_put_u32(&b->info, n_dims);
  for (uint32_t d = 0; d < n_dims; ++d) gguf_put_u64(&b->info, ne[d]);
  gguf_put_u32(&b->info, type);
  gguf_put_u64(&b->info, offset);
  b->tensor_count++;
}

uint64_t gguf_tensor(gguf_builder_t* b, const char* name, uint32_t type, uint32_t n_dims,
                     const int64_t* ne, uint8_t seed) {
  size_t pad = (b->alignment - b->data.size % b->alignment) % b->alignment;
  gguf_put_zeros(&b->data, pad);
  uint64_t offset = b->data.size;
  uint64_t dims[4];
  for (uint32_t d = 0; d < n_dims; ++d) dims[d] = (uint64_t)ne[d];
  gguf_tensor_info(b, name, type, n_dims, dims, offset);
  uint64_t bytes = gguf_tensor_bytes(type, n_dims, ne);
  gguf_bytes_reserve(&b->data, (size_t)bytes);
  for (uint64_t i = 0; i < bytes; ++i) b->data.data[b->data.size + i] = gguf_tensor_byte(i, seed);
  b->data.size += (size_t)bytes;
  return offset;
}

void gguf_builder_finish(const gguf_builder_t* b, bool pad_data, gguf_bytes_t* out) {
  memset(out, 0, sizeof(*out));
  gguf_put(out, "GGUF", 4);
  gguf_put_u32(out, b->version);
  gguf_put_u64(out, b->tensor_count);
  gguf_put_u64(out, b->kv_count);
  gguf_put(out, b->kv.data, b->kv.size);
  gguf_put(out, b->info.data, b->info.size);
  if (!pad_data) return;
  gguf_put_zeros(out, (b->alignment - out->size % b->alignment) % b->alignment);
  gguf_put(out, b->data.data, b->data.size);
}

void gguf_build_everything(uint32_t version, uint32_t alignment, gguf_bytes_t* out) {
  gguf_builder_t b;
  gguf_builder_init(&b, version);
  gguf_kv_string(&b, "general.architecture", "llama", 5);
  if (alignment != 32) gguf_kv_alignment(&b, alignment);
  gguf_kv_u8(&b, "test.u8", 200);
  gguf_kv_i8(&b, "test.i8", -100);
  gguf_kv_u16(&b, "test.u16", 60000);
  gguf_kv_i16(&b, "test.i16", -30000);
  gguf_kv_u32(&b, "test.u32", 4000000000u);
  gguf_kv_i32(&b, "test.i32", -2000000000);
  gguf_kv_u64(&b, "test.u64", 18000000000000000000ull);
  gguf_kv_i64(&b, "test.i64", -9000000000000000000ll);
  gguf_kv_f32(&b, "test.f32", 0.15625f);
  gguf_kv_f64(&b, "test.f64", -1.0e300);
  gguf_kv_bool(&b, "test.bool_true", true);
  gguf_kv_bool(&b, "test.bool_false", false);
  gguf_kv_string(&b, "test.empty_string", "", 0);
  gguf_kv_string(&b, "test.string_with_nul", "a\0b", 3);

  const uint8_t u8s[3] = {1, 2, 255};
  const int8_t i8s[3] = {-1, 0, 127};
  const uint16_t u16s[3] = {1, 2, 65535};
  const int16_t i16s[3] = {-32768, 0, 32767};
  const uint32_t u32s[3] = {7, 8, 4294967295u};
  const int32_t i32s[3] = {-5, 0, 5};
  const uint64_t u64s[2] = {1, 18446744073709551615ull};
  const int64_t i64s[2] = {-1, 9223372036854775807ll};
  const float f32s[4] = {0.0f, -1.5f, 3.25f, 1e30f};
  const double f64s[2] = {0.5, -2.0};
  const uint8_t bools[3] = {1, 0, 1};
  gguf_kv_array(&b, "test.array.u8", GB_UINT8, 1, 3, u8s);
  gguf_kv_array(&b, "test.array.i8", GB_INT8, 1, 3, i8s);
  gguf_kv_array(&b, "test.array.u16", GB_UINT16, 2, 3, u16s);
  gguf_kv_array(&b, "test.array.i16", GB_INT16, 2, 3, i16s);
  gguf_kv_array(&b, "test.array.u32", GB_UINT32, 4, 3, u32s);
  gguf_kv_array(&b, "test.array.i32", GB_INT32, 4, 3, i32s);
  gguf_kv_array(&b, "test.array.u64", GB_UINT64, 8, 2, u64s);
  gguf_kv_array(&b, "test.array.i64", GB_INT64, 8, 2, i64s);
  gguf_kv_array(&b, "test.array.f64", GB_FLOAT64, 8, 2, f64s);
  gguf_kv_array(&b, "test.array.bool", GB_BOOL, 1, 3, bools);
  gguf_kv_array(&b, "test.array.empty", GB_UINT32, 4, 0, NULL);

  /* A tokenizer as converters write it: tokens (with an empty token, a NUL
   * and UTF-8), token types, scores and merges. */
  static const char* const tokens[6] = {"<unk>", "<s>", "", "h\xc3\xa9llo", "a\0b", " the"};
  static const size_t token_sizes[6] = {5, 3, 0, 6, 3, 4};
  const int32_t token_types[6] = {2, 3, 1, 1, 1, 1};
  static const char* const merges[2] = {"t h", "th e"};
  gguf_kv_string_array(&b, "tokenizer.ggml.tokens", 6, tokens, token_sizes);
  gguf_kv_array(&b, "tokenizer.ggml.token_type", GB_INT32, 4, 6, token_types);
  gguf_kv_array(&b, "tokenizer.ggml.scores", GB_FLOAT32, 4, 4, f32s);
  gguf_kv_string_array(&b, "tokenizer.ggml.merges", 2, merges, NULL);
  gguf_kv_string_array(&b, "test.array.no_strings", 0, NULL, NULL);

  const int64_t ne_f32[2] = {8, 3};
  const int64_t ne_f16[1] = {5};
  const int64_t ne_q32[2] = {64, 2};
  const int64_t ne_k[2] = {256, 2};
  const int64_t ne_4d[4] = {2, 3, 1, 2};
  gguf_tensor(&b, "token_embd.weight", WEFT_DTYPE_Q8_0, 2, ne_q32, 1);
  gguf_tensor(&b, "blk.0.attn_norm.weight", WEFT_DTYPE_F32, 2, ne_f32, 2);
  gguf_tensor(&b, "blk.0.f16", WEFT_DTYPE_F16, 1, ne_f16, 3);
  gguf_tensor(&b, "blk.0.attn_q.weight", WEFT_DTYPE_Q4_0, 2, ne_q32, 4);
  gguf_tensor(&b, "blk.0.attn_k.weight", WEFT_DTYPE_Q4_1, 2, ne_q32, 5);
  gguf_tensor(&b, "blk.0.ffn_up.weight", WEFT_DTYPE_Q4_K, 2, ne_k, 6);
  gguf_tensor(&b, "blk.0.ffn_down.weight", WEFT_DTYPE_Q6_K, 2, ne_k, 7);
  gguf_tensor(&b, "blk.0.bf16_4d", WEFT_DTYPE_BF16, 4, ne_4d, 8);
  gguf_builder_finish(&b, true, out);
  gguf_builder_free(&b);
}
