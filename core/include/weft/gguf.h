/* weft GGUF reader: model files of GGUF version 2 and 3, read in place.
 *
 * A weft_gguf_t is a validated, read-only view of one GGUF file: its header,
 * its metadata key/value pairs and its tensor infos. The file is mapped (or
 * the caller's memory is used) without copying; values, arrays and tensor
 * data are handed out as borrowed pointers into that memory. Only small index
 * tables are allocated, through the allocator given at creation.
 *
 * Every file is checked completely before creation succeeds: a file that is
 * truncated, inconsistent or hostile is refused with a status that names the
 * field, its value and its offset; nothing is read outside the file and no
 * allocation exceeds a small multiple of the file size. docs/gguf.md lists
 * every check. The reader assumes a little-endian host, like the block
 * layouts of weft_dtype_t.
 *
 * Status codes returned when a file is refused:
 *   DATA_LOSS     the file is malformed: truncated, a count or length past the
 *                 end, an unknown value type, a bad alignment, a duplicate
 *                 key or tensor name, tensors misaligned, overlapping or past
 *                 the end, element counts that overflow.
 *   UNSUPPORTED   well-formed GGUF this reader does not take: version 1 or a
 *                 future version, a big-endian file, a tensor type that is not
 *                 a weft_dtype_t, more than 4 dimensions, arrays of arrays.
 *   OUT_OF_MEMORY an index table could not be allocated (its size is named).
 *   NOT_FOUND / PERMISSION_DENIED / IO_ERROR / INVALID_ARGUMENT  opening or
 *                 mapping a path (the path is named).
 *
 * Lifetimes: every pointer handed out (keys, tensor names, strings, arrays,
 * tensor infos, tensor data) stays valid until weft_gguf_destroy, and for a
 * reader created from memory, as long as that memory too.
 *
 * Thread safety: creation and destruction need exclusive access to the
 * object; everything else only reads an immutable object and may be called
 * from any number of threads at once. */
#ifndef WEFT_GGUF_H_
#define WEFT_GGUF_H_

#include <stdbool.h>
#include <stdint.h>

#include "weft/abi/dtype.h"
#include "weft/allocator.h"
#include "weft/export.h"
#include "weft/status.h"

WEFT_EXTERN_C_BEGIN

typedef struct weft_gguf_s weft_gguf_t;

/* GGUF metadata value types (GGUF specification, gguf_metadata_value_type). */
typedef enum weft_gguf_type_t {
  WEFT_GGUF_TYPE_UINT8 = 0,
  WEFT_GGUF_TYPE_INT8 = 1,
  WEFT_GGUF_TYPE_UINT16 = 2,
  WEFT_GGUF_TYPE_INT16 = 3,
  WEFT_GGUF_TYPE_UINT32 = 4,
  WEFT_GGUF_TYPE_INT32 = 5,
  WEFT_GGUF_TYPE_FLOAT32 = 6,
  WEFT_GGUF_TYPE_BOOL = 7,
  WEFT_GGUF_TYPE_STRING = 8,
  WEFT_GGUF_TYPE_ARRAY = 9,
  WEFT_GGUF_TYPE_UINT64 = 10,
  WEFT_GGUF_TYPE_INT64 = 11,
  WEFT_GGUF_TYPE_FLOAT64 = 12,
  WEFT_GGUF_TYPE_COUNT_ = 13 /* not a type; one past the highest */
} weft_gguf_type_t;

/* Limits of the GGUF specification that the reader enforces. */
#define WEFT_GGUF_DEFAULT_ALIGNMENT 32u /* when general.alignment is absent */
#define WEFT_GGUF_MAX_DIMS 4u
#define WEFT_GGUF_MAX_TENSOR_NAME 64u /* bytes, not counting a terminator */
#define WEFT_GGUF_MAX_KEY 65535u      /* bytes */

/* A GGUF string: `size` bytes at `data`, NOT terminated (GGUF strings carry
 * their length and may hold any byte, NUL included). Borrowed. */
typedef struct weft_gguf_string_t {
  const char* data;
  uint64_t size;
} weft_gguf_string_t;

/* A metadata array. `data` points at the first element in the file and may be
 * unaligned: read elements with weft_gguf_array_read (fixed-size types) or
 * weft_gguf_array_get_string (strings) rather than through a typed pointer.
 * `gguf` and `kv_index` identify the array for those calls. Borrowed. */
typedef struct weft_gguf_array_t {
  const weft_gguf_t* gguf;
  uint64_t kv_index;
  weft_gguf_type_t type; /* element type; never ARRAY */
  uint64_t count;        /* number of elements */
  const void* data;      /* first element (strings: its length field) */
  uint64_t size;         /* bytes of all elements in the file */
} weft_gguf_array_t;

/* One key/value pair as stored. Borrowed; see weft_gguf_kv_get. */
typedef struct weft_gguf_kv_t {
  const char* key;         /* NUL-terminated, printable ASCII */
  uint64_t index;          /* position in the file, 0-based */
  weft_gguf_type_t type;   /* ARRAY for arrays */
  weft_gguf_type_t element_type; /* arrays: element type; else == type */
  uint64_t count;          /* arrays: element count; else 1 */
  /* The value's bytes in the file, possibly unaligned: the scalar, the
   * string's bytes (without its length), or an array's first element. */
  const void* data;
  uint64_t size;           /* bytes at `data` */
  uint64_t file_offset;    /* absolute offset of `data` */
} weft_gguf_kv_t;

/* One tensor info, with what the reader derived from it. Owned by the reader;
 * borrowed by the caller. */
typedef struct weft_gguf_tensor_t {
  const char* name;      /* NUL-terminated, 1..64 bytes, unique in the file */
  uint64_t index;        /* position among the tensor infos, 0-based */
  weft_dtype_t type;     /* GGUF/ggml type id, always a known weft dtype */
  uint32_t n_dims;       /* 1..4 */
  int64_t ne[4];         /* GGUF order: ne[0] innermost; 1 past n_dims */
  int64_t n_elements;    /* product of ne, <= INT64_MAX */
  uint64_t size;         /* bytes: n_elements / block elements * block bytes */
  uint64_t offset;       /* within the data section, a multiple of the alignment */
  uint64_t file_offset;  /* absolute: data offset + offset */
} weft_gguf_tensor_t;

/* ---- creation ---- */

/* Maps the file at `path` read-only and validates it. The mapping is private
 * to the reader and released by weft_gguf_destroy. Index tables come from
 * `allocator`, which must outlive the reader. A file that changes size while
 * mapped is outside what the reader can defend against (the kernel raises
 * SIGBUS on pages past a new end).
 * Errors: INVALID_ARGUMENT (NULL arguments, not a regular file),
 * NOT_FOUND / PERMISSION_DENIED / IO_ERROR (open, stat, mmap), and the
 * refusals listed at the top of this header; messages start with the path. */
WEFT_API weft_status_t weft_gguf_create_from_file(const char* path,
                                                  weft_allocator_t allocator,
                                                  weft_gguf_t** out_gguf);

/* Validates the `size` bytes at `data` (the caller's memory, which must stay
 * unchanged and alive until weft_gguf_destroy) as a GGUF file, without
 * copying. `data` may be NULL only with size 0 (which is refused as
 * truncated). Tensor data pointers are aligned relative to `data`; for
 * absolute alignment, pass memory aligned to at least the file's alignment.
 * Errors: INVALID_ARGUMENT, and the refusals listed at the top. */
WEFT_API weft_status_t weft_gguf_create_from_memory(const void* data, uint64_t size,
                                                    weft_allocator_t allocator,
                                                    weft_gguf_t** out_gguf);

/* Frees the index tables and unmaps a mapped file. NULL is a no-op. Every
 * pointer obtained from the reader becomes invalid. */
WEFT_API void weft_gguf_destroy(weft_gguf_t* gguf);

/* ---- header ---- */

WEFT_API uint32_t weft_gguf_version(const weft_gguf_t* gguf);        /* 2 or 3 */
WEFT_API uint64_t weft_gguf_kv_count(const weft_gguf_t* gguf);
WEFT_API uint64_t weft_gguf_tensor_count(const weft_gguf_t* gguf);
/* general.alignment, or 32 when absent; a power of two. */
WEFT_API uint32_t weft_gguf_alignment(const weft_gguf_t* gguf);
/* Absolute offset of the data section: the end of the tensor infos rounded up
 * to the alignment. Tensor offsets are relative to it. */
WEFT_API uint64_t weft_gguf_data_offset(const weft_gguf_t* gguf);
/* Bytes from the data section to the end of the file (0 when a file without
 * tensors ends before it). */
WEFT_API uint64_t weft_gguf_data_size(const weft_gguf_t* gguf);
WEFT_API uint64_t weft_gguf_file_size(const weft_gguf_t* gguf);
/* The whole file (the mapping, or the caller's memory). Borrowed. */
WEFT_API const void* weft_gguf_file_data(const weft_gguf_t* gguf);

/* ---- names ---- */

/* "uint32", "string", "array" ...; "unknown" for other values. Static. */
WEFT_API const char* weft_gguf_type_name(weft_gguf_type_t type);
/* The ggml name of a tensor type id: "f32", "q4_K", and also the ggml types
 * weft does not support ("iq2_xxs"), so messages can name them; "unknown"
 * for ids ggml does not define. Static. */
WEFT_API const char* weft_gguf_dtype_name(uint32_t type);

/* ---- metadata: lookup and generic access ---- */

/* Index of `key` (binary search). Errors: NOT_FOUND naming the key,
 * INVALID_ARGUMENT for NULL arguments. */
WEFT_API weft_status_t weft_gguf_kv_find(const weft_gguf_t* gguf, const char* key,
                                         uint64_t* out_index);
/* True when `key` is present. */
WEFT_API bool weft_gguf_kv_has(const weft_gguf_t* gguf, const char* key);
/* The pair at `index` (file order). Errors: OUT_OF_RANGE, INVALID_ARGUMENT. */
WEFT_API weft_status_t weft_gguf_kv_get(const weft_gguf_t* gguf, uint64_t index,
                                        weft_gguf_kv_t* out_kv);

/* ---- metadata: typed getters ----
 * weft_gguf_kv_get_<T> reads the pair at an index, weft_gguf_get_<T> the pair
 * with a key. The stored type must be exactly <T>: no conversions.
 * Errors: NOT_FOUND (key), OUT_OF_RANGE (index), INVALID_ARGUMENT naming the
 * key, the type asked for and the type stored. Out-parameters are set on
 * success only. */
#define WEFT_GGUF_DECLARE_GETTERS_(suffix, ctype)                               \
  WEFT_API weft_status_t weft_gguf_kv_get_##suffix(const weft_gguf_t* gguf,     \
                                                   uint64_t index, ctype* out); \
  WEFT_API weft_status_t weft_gguf_get_##suffix(const weft_gguf_t* gguf,        \
                                                const char* key, ctype* out);
WEFT_GGUF_DECLARE_GETTERS_(u8, uint8_t)
WEFT_GGUF_DECLARE_GETTERS_(i8, int8_t)
WEFT_GGUF_DECLARE_GETTERS_(u16, uint16_t)
WEFT_GGUF_DECLARE_GETTERS_(i16, int16_t)
WEFT_GGUF_DECLARE_GETTERS_(u32, uint32_t)
WEFT_GGUF_DECLARE_GETTERS_(i32, int32_t)
WEFT_GGUF_DECLARE_GETTERS_(u64, uint64_t)
WEFT_GGUF_DECLARE_GETTERS_(i64, int64_t)
WEFT_GGUF_DECLARE_GETTERS_(f32, float)
WEFT_GGUF_DECLARE_GETTERS_(f64, double)
WEFT_GGUF_DECLARE_GETTERS_(bool, bool)
/* The string is borrowed and not terminated. */
WEFT_GGUF_DECLARE_GETTERS_(string, weft_gguf_string_t)
#undef WEFT_GGUF_DECLARE_GETTERS_

/* An array whose elements are of `element_type` (any type but ARRAY).
 * Errors as the typed getters; INVALID_ARGUMENT also when the value is not an
 * array or its elements are of another type. */
WEFT_API weft_status_t weft_gguf_kv_get_array(const weft_gguf_t* gguf, uint64_t index,
                                              weft_gguf_type_t element_type,
                                              weft_gguf_array_t* out_array);
WEFT_API weft_status_t weft_gguf_get_array(const weft_gguf_t* gguf, const char* key,
                                           weft_gguf_type_t element_type,
                                           weft_gguf_array_t* out_array);

/* Element `index` of an array of strings, in O(1) (the reader indexes every
 * string of every string array at creation). Borrowed, not terminated.
 * Errors: INVALID_ARGUMENT (not a string array), OUT_OF_RANGE (index). */
WEFT_API weft_status_t weft_gguf_array_get_string(const weft_gguf_array_t* array,
                                                  uint64_t index,
                                                  weft_gguf_string_t* out_string);

/* Copies elements [first, first + count) of an array of a fixed-size type
 * into `dst` (`dst_size` bytes, enough for count elements), in file byte
 * order; bools are copied as uint8_t 0 or 1. This is the aligned way to read
 * tokenizer.ggml.scores (float32) or token_type (int32).
 * Errors: INVALID_ARGUMENT (string array, NULL, dst_size too small),
 * OUT_OF_RANGE (the range is not inside the array). */
WEFT_API weft_status_t weft_gguf_array_read(const weft_gguf_array_t* array, uint64_t first,
                                            uint64_t count, void* dst, uint64_t dst_size);

/* ---- tensors ---- */

/* The tensor info at `index` (file order). Errors: OUT_OF_RANGE,
 * INVALID_ARGUMENT. */
WEFT_API weft_status_t weft_gguf_tensor_get(const weft_gguf_t* gguf, uint64_t index,
                                            const weft_gguf_tensor_t** out_tensor);
/* The tensor named `name` (binary search). Errors: NOT_FOUND naming it,
 * INVALID_ARGUMENT. */
WEFT_API weft_status_t weft_gguf_tensor_find(const weft_gguf_t* gguf, const char* name,
                                             const weft_gguf_tensor_t** out_tensor);
/* The tensor's bytes inside the file: weft_gguf_file_data + file_offset,
 * `tensor->size` bytes. Borrowed. NULL for NULL arguments. */
WEFT_API const void* weft_gguf_tensor_data(const weft_gguf_t* gguf,
                                           const weft_gguf_tensor_t* tensor);

/* Where the tensor `name` lies in the file: absolute offset and size in bytes.
 * For a buffer made by weft_buffer_map_file from the same file, bind it with
 *   weft_graph_bind(graph, name, tensor->type, tensor->n_dims, tensor->ne,
 *                   buffer, offset, &t)
 * and the weights are used in place, without a copy.
 * Errors: NOT_FOUND, INVALID_ARGUMENT. */
WEFT_API weft_status_t weft_gguf_tensor_file_range(const weft_gguf_t* gguf, const char* name,
                                                   uint64_t* out_offset, uint64_t* out_size);

WEFT_EXTERN_C_END

#endif /* WEFT_GGUF_H_ */
