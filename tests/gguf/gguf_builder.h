/* A small GGUF writer for tests and fuzz seeds: valid files of version 2 or
 * 3 with every value type and tensors of any weft dtype, plus raw helpers for
 * crafting files that are wrong in exactly one way.
 *
 * Memory comes from the C library heap; a failed allocation ends the process
 * (this is test code, never linked into libweft). */
#ifndef WEFT_TESTS_GGUF_GGUF_BUILDER_H_
#define WEFT_TESTS_GGUF_GGUF_BUILDER_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte string. */
typedef struct gguf_bytes_t {
  uint8_t* data;
  size_t size;
  size_t capacity;
} gguf_bytes_t;

void gguf_bytes_free(gguf_bytes_t* bytes);
void gguf_put(gguf_bytes_t* bytes, const void* data, size_t size);
void gguf_put_zeros(gguf_bytes_t* bytes, size_t size);
void gguf_put_u8(gguf_bytes_t* bytes, uint8_t value);
void gguf_put_u16(gguf_bytes_t* bytes, uint16_t value);
void gguf_put_u32(gguf_bytes_t* bytes, uint32_t value);
void gguf_put_u64(gguf_bytes_t* bytes, uint64_t value);
/* A GGUF string: uint64 length and the bytes. */
void gguf_put_string(gguf_bytes_t* bytes, const char* text, size_t size);
void gguf_put_cstring(gguf_bytes_t* bytes, const char* text);
/* Overwrites little-endian values inside an existing byte string. */
void gguf_poke_u32(uint8_t* at, uint32_t value);
void gguf_poke_u64(uint8_t* at, uint64_t value);

/* A file under construction: key/value records, tensor infos and tensor data
 * are kept apart and joined by gguf_builder_finish. */
typedef struct gguf_builder_t {
  uint32_t version;
  uint32_t alignment; /* used to place tensor data and to pad; not written */
  uint64_t kv_count;
  uint64_t tensor_count;
  gguf_bytes_t kv;
  gguf_bytes_t info;
  gguf_bytes_t data;
} gguf_builder_t;

void gguf_builder_init(gguf_builder_t* builder, uint32_t version);
void gguf_builder_free(gguf_builder_t* builder);

/* Key/value pairs. type ids are the GGUF value types (0..12). */
void gguf_kv_u8(gguf_builder_t* b, const char* key, uint8_t value);
void gguf_kv_i8(gguf_builder_t* b, const char* key, int8_t value);
void gguf_kv_u16(gguf_builder_t* b, const char* key, uint16_t value);
void gguf_kv_i16(gguf_builder_t* b, const char* key, int16_t value);
void gguf_kv_u32(gguf_builder_t* b, const char* key, uint32_t value);
void gguf_kv_i32(gguf_builder_t* b, const char* key, int32_t value);
void gguf_kv_u64(gguf_builder_t* b, const char* key, uint64_t value);
void gguf_kv_i64(gguf_builder_t* b, const char* key, int64_t value);
void gguf_kv_f32(gguf_builder_t* b, const char* key, float value);
void gguf_kv_f64(gguf_builder_t* b, const char* key, double value);
void gguf_kv_bool(gguf_builder_t* b, const char* key, bool value);
void gguf_kv_string(gguf_builder_t* b, const char* key, const char* value, size_t size);
/* An array of `count` fixed-size elements of `type`, `element_size` bytes
 * each, taken from `elements` in host (little-endian) order. */
void gguf_kv_array(gguf_builder_t* b, const char* key, uint32_t type, size_t element_size,
                   uint64_t count, const void* elements);
/* An array of strings; sizes[i] bytes of strings[i] (sizes NULL: strlen). */
void gguf_kv_string_array(gguf_builder_t* b, const char* key, uint64_t count,
                          const char* const* strings, const size_t* sizes);
/* general.alignment as uint32, and the builder's alignment with it. */
void gguf_kv_alignment(gguf_builder_t* b, uint32_t alignment);
/* The start of a record: key and type; the caller writes the value into
 * b->kv itself. Counts one pair. */
void gguf_kv_begin(gguf_builder_t* b, const char* key, uint32_t type);

/* A tensor with data: placed at the next aligned offset of the data section
 * and filled with bytes (index * 131 + seed) & 0xff. Returns its offset. */
uint64_t gguf_tensor(gguf_builder_t* b, const char* name, uint32_t type, uint32_t n_dims,
                     const int64_t* ne, uint8_t seed);
/* A tensor info alone, with every field given (nothing written to data). */
void gguf_tensor_info(gguf_builder_t* b, const char* name, uint32_t type, uint32_t n_dims,
                      const uint64_t* ne, uint64_t offset);
/* Bytes of a tensor of that type and shape (blocks * block bytes). */
uint64_t gguf_tensor_bytes(uint32_t type, uint32_t n_dims, const int64_t* ne);
/* The byte of a gguf_tensor's data at `index`. */
uint8_t gguf_tensor_byte(uint64_t index, uint8_t seed);

/* Joins header, key/values, tensor infos, padding and data. `pad_data`
 * false leaves out the padding and the data section (metadata-only files). */
void gguf_builder_finish(const gguf_builder_t* b, bool pad_data, gguf_bytes_t* out);

/* A valid file with every value type, an array of every type, string arrays
 * and tensors of f32, f16, q4_0, q4_1, q8_0, q4_K, q6_K and bf16. */
void gguf_build_everything(uint32_t version, uint32_t alignment, gguf_bytes_t* out);

#endif /* WEFT_TESTS_GGUF_GGUF_BUILDER_H_ */
