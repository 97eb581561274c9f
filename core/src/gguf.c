/* GGUF reader (GGUF specification, ggml docs/gguf.md, versions 2 and 3).
 *
 * The metadata is walked twice. The first walk checks every length, count and
 * type against the bytes that remain and only counts what the index tables
 * will need; nothing is allocated for a file until that walk has seen every
 * record the header promised. The second walk fills the tables. Checks that
 * need the whole picture (the data section, tensor ranges and overlaps,
 * duplicates) then run on the tables. Every read goes through one bounds
 * check against the file size, in overflow-safe form (`n > left`, never
 * `pos + n > size`). */
#include "weft/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Smallest records (GGUF specification, "File Structure"): a header is
 * magic + version + two uint64 counts; a key/value pair a uint64 key length,
 * a key of at least one byte, a uint32 type and a value of at least one byte;
 * a tensor info a uint64 name length, one name byte, uint32 n_dims, one
 * uint64 dimension, a uint32 type and a uint64 offset. */
#define WEFT_GGUF_HEADER_SIZE 24u
#define WEFT_GGUF_MIN_KV_SIZE (8u + 1u + 4u + 1u)
#define WEFT_GGUF_MIN_TENSOR_SIZE (8u + 1u + 4u + 8u + 4u + 8u)

typedef struct weft_gguf_kv_entry_t {
  const char* key; /* in gguf->names */
  uint64_t key_size;
  uint32_t type;
  uint32_t element_type;
  uint64_t count;
  /* Scalars: the value; strings: their bytes; arrays: the first element. */
  uint64_t value_offset;
  uint64_t value_size;
  uint64_t strings_first; /* string arrays: first slot in gguf->strings */
} weft_gguf_kv_entry_t;

struct weft_gguf_s {
  weft_allocator_t allocator;
  const uint8_t* data;
  uint64_t size;
  void* map; /* non-NULL when the reader mapped a file */
  size_t map_size;
  uint32_t version;
  uint32_t alignment;
  uint64_t kv_count;
  uint64_t tensor_count;
  uint64_t data_offset;
  uint64_t data_size;
  weft_gguf_kv_entry_t* kvs;
  weft_gguf_tensor_t* tensors;
  const weft_gguf_kv_entry_t** kvs_by_key;
  const weft_gguf_tensor_t** tensors_by_name;
  /* Offset of the length field of every element of every string array, so
   * that element i is found in O(1). */
  uint64_t* strings;
  uint64_t string_count;
  char* names; /* keys and tensor names, each NUL-terminated */
  uint64_t names_size;
};

/* ---- names and small helpers ---- */

static const char* const weft_gguf_type_names[WEFT_GGUF_TYPE_COUNT_] = {
    "uint8", "int8",   "uint16", "int16", "uint32", "int32",  "float32",
    "bool",  "string", "array",  "uint64", "int64", "float64"};

const char* weft_gguf_type_name(weft_gguf_type_t type) {
  if ((unsigned)type >= WEFT_GGUF_TYPE_COUNT_) return "unknown";
  return weft_gguf_type_names[type];
}

/* ggml_type ids (GGUF specification, "ggml_type"), including the ones weft
 * does not support and the ones ggml removed, so refusals can name them. */
static const char* const weft_gguf_dtype_names[] = {
    "f32",     "f16",     "q4_0",    "q4_1",     "q4_2",       "q4_3",
    "q5_0",    "q5_1",    "q8_0",    "q8_1",     "q2_K",       "q3_K",
    "q4_K",    "q5_K",    "q6_K",    "q8_K",     "iq2_xxs",    "iq2_xs",
    "iq3_xxs", "iq1_s",   "iq4_nl",  "iq3_s",    "iq2_s",      "iq4_xs",
    "i8",      "i16",     "i32",     "i64",      "f64",        "iq1_m",
    "bf16",    "q4_0_4_4", "q4_0_4_8", "q4_0_8_8", "tq1_0",     "tq2_0",
    "iq4_nl_4_4", "iq4_nl_4_8", "iq4_nl_8_8", "mxfp4"};

const char* weft_gguf_dtype_name(uint32_t type) {
  if (type >= sizeof(weft_gguf_dtype_names) / sizeof(weft_gguf_dtype_names[0])) {
    return "unknown";
  }
  return weft_gguf_dtype_names[type];
}

/* Bytes of one element of a fixed-size type; 0 for string and array. */
static uint64_t weft_gguf_type_size(uint32_t type) {
  switch (type) {
    case WEFT_GGUF_TYPE_UINT8: case WEFT_GGUF_TYPE_INT8: case WEFT_GGUF_TYPE_BOOL:
      return 1;
    case WEFT_GGUF_TYPE_UINT16: case WEFT_GGUF_TYPE_INT16:
      return 2;
    case WEFT_GGUF_TYPE_UINT32: case WEFT_GGUF_TYPE_INT32: case WEFT_GGUF_TYPE_FLOAT32:
      return 4;
    case WEFT_GGUF_TYPE_UINT64: case WEFT_GGUF_TYPE_INT64: case WEFT_GGUF_TYPE_FLOAT64:
      return 8;
    default:
      return 0;
  }
}

static uint16_t weft_gguf_le16(const uint8_t* b) {
  return (uint16_t)(b[0] | (uint16_t)b[1] << 8);
}

static uint32_t weft_gguf_le32(const uint8_t* b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
         (uint32_t)b[3] << 24;
}

static uint64_t weft_gguf_le64(const uint8_t* b) {
  return (uint64_t)weft_gguf_le32(b) | (uint64_t)weft_gguf_le32(b + 4) << 32;
}

/* Text from the file, made safe for a message: printable ASCII as is, other
 * bytes as \xNN, cut at 64 characters with "...". `out` holds 80 bytes. */
#define WEFT_GGUF_ESCAPED_CAP 80
static void weft_gguf_escape(const uint8_t* text, uint64_t size, char* out) {
  size_t length = 0;
  for (uint64_t i = 0; i < size; ++i) {
    char piece[8];
    size_t n = 1;
    unsigned c = text[i];
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      piece[0] = (char)c;
    } else {
      n = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", c);
    }
    if (length + n > 64) {
      memcpy(out + length, "...", 3);
      length += 3;
      break;
    }
    memcpy(out + length, piece, n);
    length += n;
  }
  out[length] = '\0';
}

/* "uint32", or "array of string". */
static void weft_gguf_describe_type(uint32_t type, uint32_t element_type, char* out,
                                    size_t cap) {
  if (type == WEFT_GGUF_TYPE_ARRAY) {
    snprintf(out, cap, "array of %s", weft_gguf_type_name((weft_gguf_type_t)element_type));
  } else {
    snprintf(out, cap, "%s", weft_gguf_type_name((weft_gguf_type_t)type));
  }
}

/* ---- the parser ---- */

typedef struct weft_gguf_parser_t {
  const uint8_t* data;
  uint64_t size;
  uint64_t pos;     /* always <= size */
  char where[160];  /* "kv 3 'general.name'": prefix of every message */
  weft_gguf_t* fill; /* NULL in the first walk */
  uint32_t alignment;
  uint64_t string_count; /* elements of string arrays, counted or filled */
  uint64_t names_size;   /* bytes of keys and tensor names with terminators */
} weft_gguf_parser_t;

static weft_status_t weft_gguf_fail(const weft_gguf_parser_t* p, weft_status_code_t code,
                                    const char* format, ...)
    __attribute__((format(printf, 3, 4)));
static weft_status_t weft_gguf_fail(const weft_gguf_parser_t* p, weft_status_code_t code,
                                    const char* format, ...) {
  char text[512];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof(text), format, args);
  va_end(args);
  return weft_status_make(code, "%s: %s", p->where, text);
}

static void weft_gguf_where(weft_gguf_parser_t* p, const char* what, uint64_t index,
                            const uint8_t* name, uint64_t name_size) {
  if (!name) {
    snprintf(p->where, sizeof(p->where), "%s %" PRIu64, what, index);
    return;
  }
  char escaped[WEFT_GGUF_ESCAPED_CAP];
  weft_gguf_escape(name, name_size, escaped);
  snprintf(p->where, sizeof(p->where), "%s %" PRIu64 " '%s'", what, index, escaped);
}

static uint64_t weft_gguf_left(const weft_gguf_parser_t* p) {
  return p->size - p->pos;
}

static weft_status_t weft_gguf_need(const weft_gguf_parser_t* p, uint64_t bytes,
                                    const char* field) {
  if (bytes <= weft_gguf_left(p)) return WEFT_OK;
  return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                        "%s at offset %" PRIu64 " needs %" PRIu64
                        " bytes, but the file ends at %" PRIu64 " (%" PRIu64 " bytes left)",
                        field, p->pos, bytes, p->size, weft_gguf_left(p));
}

static weft_status_t weft_gguf_read_u32(weft_gguf_parser_t* p, const char* field,
                                        uint32_t* out) {
  WEFT_RETURN_IF_ERROR(weft_gguf_need(p, 4, field));
  *out = weft_gguf_le32(p->data + p->pos);
  p->pos += 4;
  return WEFT_OK;
}

static weft_status_t weft_gguf_read_u64(weft_gguf_parser_t* p, const char* field,
                                        uint64_t* out) {
  WEFT_RETURN_IF_ERROR(weft_gguf_need(p, 8, field));
  *out = weft_gguf_le64(p->data + p->pos);
  p->pos += 8;
  return WEFT_OK;
}

/* `count` records of `each` bytes (at least, for variable-size records) must
 * fit in what is left. Says "more than 2^64" rather than printing a wrapped
 * product. */
static weft_status_t weft_gguf_need_records(const weft_gguf_parser_t* p, uint64_t count,
                                            uint64_t each, bool at_least, const char* what,
                                            const char* kind) {
  if (count <= weft_gguf_left(p) / each) return WEFT_OK;
  uint64_t bytes = 0;
  char need[48];
  if (__builtin_mul_overflow(count, each, &bytes)) {
    snprintf(need, sizeof(need), "more than 2^64");
  } else {
    snprintf(need, sizeof(need), "%s%" PRIu64, at_least ? "at least " : "", bytes);
  }
  return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                        "%s %" PRIu64 " needs %s bytes from offset %" PRIu64 " (%" PRIu64
                        " per %s), but only %" PRIu64 " bytes are left in the file",
                        what, count, need, p->pos, each, kind, weft_gguf_left(p));
}

/* Header: magic, version, counts bounded by the file size. */
static weft_status_t weft_gguf_parse_header(weft_gguf_parser_t* p, uint32_t* out_version,
                                            uint64_t* out_tensor_count,
                                            uint64_t* out_kv_count) {
  snprintf(p->where, sizeof(p->where), "header");
  if (p->size < 4) {
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "the file is %" PRIu64 " bytes, shorter than the 4-byte magic "
                          "(a GGUF header is %u bytes)",
                          p->size, WEFT_GGUF_HEADER_SIZE);
  }
  if (memcmp(p->data, "GGUF", 4) != 0) {
    char escaped[WEFT_GGUF_ESCAPED_CAP];
    weft_gguf_escape(p->data, 4, escaped);
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "magic is '%s' (0x%08" PRIx32 "), expected 'GGUF' (bytes 47 47 55 46): "
                          "not a GGUF file",
                          escaped, weft_gguf_le32(p->data));
  }
  p->pos = 4;
  uint32_t version = 0;
  WEFT_RETURN_IF_ERROR(weft_gguf_read_u32(p, "version", &version));
  if (version == 0x02000000u || version == 0x03000000u) {
    return weft_gguf_fail(p, WEFT_STATUS_UNSUPPORTED,
                          "version field 0x%08" PRIx32 " is version %u written big-endian; "
                          "only little-endian files are supported",
                          version, (unsigned)(version >> 24));
  }
  if (version == 0) {
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS, "version 0 is not a GGUF version");
  }
  if (version == 1) {
    return weft_gguf_fail(p, WEFT_STATUS_UNSUPPORTED,
                          "version 1 is not supported (it has 32-bit counts and lengths); "
                          "versions 2 and 3 are");
  }
  if (version > 3) {
    return weft_gguf_fail(p, WEFT_STATUS_UNSUPPORTED,
                          "version %" PRIu32 " is not supported; versions 2 and 3 are",
                          version);
  }
  uint64_t tensor_count = 0;
  uint64_t kv_count = 0;
  WEFT_RETURN_IF_ERROR(weft_gguf_read_u64(p, "tensor_count", &tensor_count));
  WEFT_RETURN_IF_ERROR(weft_gguf_read_u64(p, "kv_count", &kv_count));
  WEFT_RETURN_IF_ERROR(weft_gguf_need_records(p, tensor_count, WEFT_GGUF_MIN_TENSOR_SIZE,
                                              true, "tensor_count", "tensor info"));
  WEFT_RETURN_IF_ERROR(
      weft_gguf_need_records(p, kv_count, WEFT_GGUF_MIN_KV_SIZE, true, "kv_count",
                             "key/value pair"));
  /* Each count fits alone; both together must fit as well. Both products are
   * at most the file size here, so the sum cannot wrap. */
  uint64_t need = tensor_count * WEFT_GGUF_MIN_TENSOR_SIZE + kv_count * WEFT_GGUF_MIN_KV_SIZE;
  if (need > weft_gguf_left(p)) {
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "kv_count %" PRIu64 " and tensor_count %" PRIu64
                          " need at least %" PRIu64 " bytes, but only %" PRIu64
                          " bytes follow the header",
                          kv_count, tensor_count, need, weft_gguf_left(p));
  }
  *out_version = version;
  *out_tensor_count = tensor_count;
  *out_kv_count = kv_count;
  return WEFT_OK;
}

/* The elements of an array of strings: each a uint64 length and its bytes. */
static weft_status_t weft_gguf_parse_string_array(weft_gguf_parser_t* p, uint64_t count) {
  WEFT_RETURN_IF_ERROR(weft_gguf_need_records(p, count, 8, true, "array length", "string"));
  weft_gguf_t* fill = p->fill;
  for (uint64_t e = 0; e < count; ++e) {
    uint64_t left = weft_gguf_left(p);
    if (left < 8) {
      return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                            "length of string %" PRIu64 " of %" PRIu64 " at offset %" PRIu64
                            " needs 8 bytes, but only %" PRIu64 " are left",
                            e, count, p->pos, left);
    }
    uint64_t length = weft_gguf_le64(p->data + p->pos);
    if (length > left - 8) {
      return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                            "string %" PRIu64 " of %" PRIu64 " at offset %" PRIu64
                            " has length %" PRIu64 ", past the end of the file (%" PRIu64
                            " bytes left after its length)",
                            e, count, p->pos, length, left - 8);
    }
    if (fill) fill->strings[p->string_count] = p->pos;
    p->string_count++;
    p->pos += 8 + length;
  }
  return WEFT_OK;
}

static weft_status_t weft_gguf_check_bools(const weft_gguf_parser_t* p, uint64_t count,
                                           bool is_array) {
  for (uint64_t e = 0; e < count; ++e) {
    uint8_t value = p->data[p->pos + e];
    if (value > 1) {
      if (!is_array) {
        return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                              "bool value %u at offset %" PRIu64 " is not 0 or 1", value,
                              p->pos);
      }
      return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                            "bool element %" PRIu64 " is %u at offset %" PRIu64
                            ", not 0 or 1",
                            e, value, p->pos + e);
    }
  }
  return WEFT_OK;
}

static weft_status_t weft_gguf_parse_kv(weft_gguf_parser_t* p, uint64_t index) {
  weft_gguf_where(p, "kv", index, NULL, 0);
  uint64_t key_size = 0;
  uint64_t at = p->pos;
  WEFT_RETURN_IF_ERROR(weft_gguf_read_u64(p, "key length", &key_size));
  if (key_size == 0) {
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "key length is 0 at offset %" PRIu64 "; keys are 1 to %u bytes", at,
                          WEFT_GGUF_MAX_KEY);
  }
  if (key_size > WEFT_GGUF_MAX_KEY) {
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "key length %" PRIu64 " at offset %" PRIu64 " exceeds %u bytes",
                          key_size, at, WEFT_GGUF_MAX_KEY);
  }
  WEFT_RETURN_IF_ERROR(weft_gguf_need(p, key_size, "key"));
  const uint8_t* key = p->data + p->pos;
  /* GGUF specification: a key is an ASCII string. Control bytes and NUL are
   * refused too, so that every key is a printable C string. */
  for (uint64_t i = 0; i < key_size; ++i) {
    if (key[i] < 0x20 || key[i] > 0x7e) {
      char escaped[WEFT_GGUF_ESCAPED_CAP];
      weft_gguf_escape(key, key_size, escaped);
      return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                            "key '%s' has byte 0x%02x at position %" PRIu64
                            "; keys are printable ASCII",
                            escaped, key[i], i);
    }
  }
  p->pos += key_size;
  weft_gguf_where(p, "kv", index, key, key_size);

  uint32_t type = 0;
  at = p->pos;
  WEFT_RETURN_IF_ERROR(weft_gguf_read_u32(p, "value type", &type));
  if (type >= WEFT_GGUF_TYPE_COUNT_) {
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "value type %" PRIu32 " at offset %" PRIu64
                          " is not a GGUF value type (0..12)",
                          type, at);
  }
  uint32_t element_type = type;
  uint64_t count = 1;
  if (type == WEFT_GGUF_TYPE_ARRAY) {
    at = p->pos;
    WEFT_RETURN_IF_ERROR(weft_gguf_read_u32(p, "array element type", &element_type));
    if (element_type >= WEFT_GGUF_TYPE_COUNT_) {
      return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                            "array element type %" PRIu32 " at offset %" PRIu64
                            " is not a GGUF value type (0..12)",
                            element_type, at);
    }
    /* The specification allows arrays of arrays; no model file uses them,
     * and refusing them keeps values one level deep. */
    if (element_type == WEFT_GGUF_TYPE_ARRAY) {
      return weft_gguf_fail(p, WEFT_STATUS_UNSUPPORTED,
                            "array of arrays (element type 9 at offset %" PRIu64
                            ") is not supported; arrays hold scalars or strings",
                            at);
    }
    WEFT_RETURN_IF_ERROR(weft_gguf_read_u64(p, "array length", &count));
  }

  uint64_t value_offset = p->pos;
  uint64_t value_size = 0;
  uint64_t strings_first = p->string_count;
  if (type == WEFT_GGUF_TYPE_STRING) {
    uint64_t length = 0;
    at = p->pos;
    WEFT_RETURN_IF_ERROR(weft_gguf_read_u64(p, "string length", &length));
    if (length > weft_gguf_left(p)) {
      return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                            "string length %" PRIu64 " at offset %" PRIu64
                            " runs past the end of the file (%" PRIu64 " bytes left)",
                            length, at, weft_gguf_left(p));
    }
    value_offset = p->pos;
    value_size = length;
    p->pos += length;
  } else if (element_type == WEFT_GGUF_TYPE_STRING) {
    WEFT_RETURN_IF_ERROR(weft_gguf_parse_string_array(p, count));
    value_size = p->pos - value_offset;
  } else {
    uint64_t each = weft_gguf_type_size(element_type);
    if (type == WEFT_GGUF_TYPE_ARRAY) {
      char kind[32];
      snprintf(kind, sizeof(kind), "%s", weft_gguf_type_name((weft_gguf_type_t)element_type));
      WEFT_RETURN_IF_ERROR(weft_gguf_need_records(p, count, each, false, "array length", kind));
    } else {
      WEFT_RETURN_IF_ERROR(weft_gguf_need(p, each, "value"));
    }
    value_size = count * each;
    if (element_type == WEFT_GGUF_TYPE_BOOL) {
      WEFT_RETURN_IF_ERROR(weft_gguf_check_bools(p, count, type == WEFT_GGUF_TYPE_ARRAY));
    }
    p->pos += value_size;
  }

  if (key_size == 17 && memcmp(key, "general.alignment", 17) == 0) {
    if (type != WEFT_GGUF_TYPE_UINT32) {
      char stored[40];
      weft_gguf_describe_type(type, element_type, stored, sizeof(stored));
      return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS, "general.alignment must be uint32, got %s",
                            stored);
    }
    uint32_t alignment = weft_gguf_le32(p->data + value_offset);
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
      return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                            "general.alignment must be a power of two, got %" PRIu32,
                            alignment);
    }
    p->alignment = alignment;
  }

  weft_gguf_t* fill = p->fill;
  if (fill) {
    weft_gguf_kv_entry_t* entry = &fill->kvs[index];
    char* copy = fill->names + p->names_size;
    memcpy(copy, key, key_size);
    copy[key_size] = '\0';
    entry->key = copy;
    entry->key_size = key_size;
    entry->type = type;
    entry->element_type = element_type;
    entry->count = count;
    entry->value_offset = value_offset;
    entry->value_size = value_size;
    entry->strings_first = strings_first;
  }
  p->names_size += key_size + 1;
  return WEFT_OK;
}

static weft_status_t weft_gguf_parse_tensor(weft_gguf_parser_t* p, uint64_t index) {
  weft_gguf_where(p, "tensor", index, NULL, 0);
  uint64_t name_size = 0;
  uint64_t at = p->pos;
  WEFT_RETURN_IF_ERROR(weft_gguf_read_u64(p, "name length", &name_size));
  if (name_size == 0) {
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "name length is 0 at offset %" PRIu64
                          "; tensor names are 1 to %u bytes",
                          at, WEFT_GGUF_MAX_TENSOR_NAME);
  }
  /* GGUF specification, gguf_tensor_info_t: "at most 64 bytes long". */
  if (name_size > WEFT_GGUF_MAX_TENSOR_NAME) {
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "name length %" PRIu64 " at offset %" PRIu64 " exceeds %u bytes",
                          name_size, at, WEFT_GGUF_MAX_TENSOR_NAME);
  }
  WEFT_RETURN_IF_ERROR(weft_gguf_need(p, name_size, "name"));
  const uint8_t* name = p->data + p->pos;
  const uint8_t* nul = memchr(name, 0, name_size);
  if (nul) {
    char escaped[WEFT_GGUF_ESCAPED_CAP];
    weft_gguf_escape(name, name_size, escaped);
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "name '%s' has a NUL byte at position %td", escaped,
                          nul - name);
  }
  p->pos += name_size;
  weft_gguf_where(p, "tensor", index, name, name_size);

  uint32_t n_dims = 0;
  at = p->pos;
  WEFT_RETURN_IF_ERROR(weft_gguf_read_u32(p, "n_dims", &n_dims));
  if (n_dims == 0) {
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "n_dims is 0 at offset %" PRIu64 "; tensors have 1 to %u dimensions",
                          at, WEFT_GGUF_MAX_DIMS);
  }
  if (n_dims > WEFT_GGUF_MAX_DIMS) {
    return weft_gguf_fail(p, WEFT_STATUS_UNSUPPORTED,
                          "n_dims %" PRIu32 " at offset %" PRIu64 " exceeds %u", n_dims, at,
                          WEFT_GGUF_MAX_DIMS);
  }
  WEFT_RETURN_IF_ERROR(weft_gguf_need(p, 8 * (uint64_t)n_dims, "ne"));
  int64_t ne[4] = {1, 1, 1, 1};
  for (uint32_t d = 0; d < n_dims; ++d) {
    uint64_t value = weft_gguf_le64(p->data + p->pos);
    if (value == 0) {
      return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                            "ne[%u] is 0 at offset %" PRIu64 "; every dimension is >= 1", d,
                            p->pos);
    }
    if (value > (uint64_t)INT64_MAX) {
      return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                            "ne[%u] = %" PRIu64 " at offset %" PRIu64 " exceeds INT64_MAX", d,
                            value, p->pos);
    }
    ne[d] = (int64_t)value;
    p->pos += 8;
  }
  int64_t n_elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    if (__builtin_mul_overflow(n_elements, ne[d], &n_elements)) {
      return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                            "element count of ne = [%" PRId64 ", %" PRId64 ", %" PRId64
                            ", %" PRId64 "] overflows int64",
                            ne[0], ne[1], ne[2], ne[3]);
    }
  }

  uint32_t type = 0;
  at = p->pos;
  WEFT_RETURN_IF_ERROR(weft_gguf_read_u32(p, "type", &type));
  uint32_t block = weft_dtype_block_elements(type);
  uint32_t block_bytes = weft_dtype_block_bytes(type);
  if (block == 0 || block_bytes == 0) {
    return weft_gguf_fail(p, WEFT_STATUS_UNSUPPORTED,
                          "type %" PRIu32 " (%s) at offset %" PRIu64 " is not a weft dtype",
                          type, weft_gguf_dtype_name(type), at);
  }
  if (ne[0] % block != 0) {
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "type %s needs ne[0] %% %" PRIu32 " == 0, got %" PRId64,
                          weft_gguf_dtype_name(type), block, ne[0]);
  }
  uint64_t size = 0;
  if (__builtin_mul_overflow((uint64_t)n_elements / block, (uint64_t)block_bytes, &size)) {
    return weft_gguf_fail(p, WEFT_STATUS_DATA_LOSS,
                          "%" PRId64 " elements of %s need more than 2^64 bytes", n_elements,
                          weft_gguf_dtype_name(type));
  }
  uint64_t offset = 0;
  WEFT_RETURN_IF_ERROR(weft_gguf_read_u64(p, "offset", &offset));

  weft_gguf_t* fill = p->fill;
  if (fill) {
    weft_gguf_tensor_t* tensor = &fill->tensors[index];
    char* copy = fill->names + p->names_size;
    memcpy(copy, name, name_size);
    copy[name_size] = '\0';
    tensor->name = copy;
    tensor->index = index;
    tensor->type = (weft_dtype_t)type;
    tensor->n_dims = n_dims;
    memcpy(tensor->ne, ne, sizeof(ne));
    tensor->n_elements = n_elements;
    tensor->size = size;
    tensor->offset = offset;
  }
  p->names_size += name_size + 1;
  return WEFT_OK;
}

/* One walk over key/value pairs and tensor infos. */
static weft_status_t weft_gguf_walk(weft_gguf_parser_t* p, uint64_t kv_count,
                                    uint64_t tensor_count) {
  p->pos = WEFT_GGUF_HEADER_SIZE;
  p->alignment = WEFT_GGUF_DEFAULT_ALIGNMENT;
  p->string_count = 0;
  p->names_size = 0;
  for (uint64_t i = 0; i < kv_count; ++i) {
    WEFT_RETURN_IF_ERROR(weft_gguf_parse_kv(p, i));
  }
  for (uint64_t i = 0; i < tensor_count; ++i) {
    WEFT_RETURN_IF_ERROR(weft_gguf_parse_tensor(p, i));
  }
  return WEFT_OK;
}

/* ---- tables ---- */

static weft_status_t weft_gguf_table_alloc(weft_gguf_t* gguf, uint64_t count,
                                           size_t element_size, const char* what,
                                           void** out) {
  *out = NULL;
  if (count == 0) return WEFT_OK;
  size_t bytes = 0;
  if (count > SIZE_MAX || weft__mul_overflows((size_t)count, element_size, &bytes)) {
    return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY,
                            "%s of %" PRIu64 " entries of %zu bytes overflows size_t", what,
                            count, element_size);
  }
  char label[96];
  snprintf(label, sizeof(label), "%s (%" PRIu64 " entries)", what, count);
  return weft__alloc(gguf->allocator, bytes, label, out);
}

static int weft_gguf_compare_kv(const void* a, const void* b) {
  const weft_gguf_kv_entry_t* x = *(const weft_gguf_kv_entry_t* const*)a;
  const weft_gguf_kv_entry_t* y = *(const weft_gguf_kv_entry_t* const*)b;
  int order = strcmp(x->key, y->key);
  if (order != 0) return order;
  return x < y ? -1 : x > y ? 1 : 0;
}

static int weft_gguf_compare_tensor_name(const void* a, const void* b) {
  const weft_gguf_tensor_t* x = *(const weft_gguf_tensor_t* const*)a;
  const weft_gguf_tensor_t* y = *(const weft_gguf_tensor_t* const*)b;
  int order = strcmp(x->name, y->name);
  if (order != 0) return order;
  return x->index < y->index ? -1 : x->index > y->index ? 1 : 0;
}

static int weft_gguf_compare_tensor_offset(const void* a, const void* b) {
  const weft_gguf_tensor_t* x = *(const weft_gguf_tensor_t* const*)a;
  const weft_gguf_tensor_t* y = *(const weft_gguf_tensor_t* const*)b;
  if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index ? 1 : 0;
}

static weft_status_t weft_gguf_check_duplicate_keys(weft_gguf_t* gguf) {
  for (uint64_t i = 0; i < gguf->kv_count; ++i) gguf->kvs_by_key[i] = &gguf->kvs[i];
  if (gguf->kv_count > 1) {
    qsort(gguf->kvs_by_key, gguf->kv_count, sizeof(*gguf->kvs_by_key), weft_gguf_compare_kv);
  }
  for (uint64_t i = 1; i < gguf->kv_count; ++i) {
    const weft_gguf_kv_entry_t* a = gguf->kvs_by_key[i - 1];
    const weft_gguf_kv_entry_t* b = gguf->kvs_by_key[i];
    if (strcmp(a->key, b->key) == 0) {
      char escaped[WEFT_GGUF_ESCAPED_CAP];
      weft_gguf_escape((const uint8_t*)a->key, a->key_size, escaped);
      return weft_status_make(WEFT_STATUS_DATA_LOSS,
                              "kv %td '%s': duplicate key (also kv %td)", b - gguf->kvs,
                              escaped, a - gguf->kvs);
    }
  }
  return WEFT_OK;
}

/* Tensor data: aligned, inside the data section, not overlapping, names
 * unique. Leaves tensors_by_name sorted by name. */
static weft_status_t weft_gguf_check_tensors(weft_gguf_t* gguf) {
  uint64_t count = gguf->tensor_count;
  for (uint64_t i = 0; i < count; ++i) {
    weft_gguf_tensor_t* t = &gguf->tensors[i];
    if (t->offset % gguf->alignment != 0) {
      return weft_status_make(WEFT_STATUS_DATA_LOSS,
                              "tensor %" PRIu64 " '%s': offset %" PRIu64
                              " is not a multiple of the alignment %" PRIu32,
                              i, t->name, t->offset, gguf->alignment);
    }
    if (t->offset > gguf->data_size || t->size > gguf->data_size - t->offset) {
      return weft_status_make(WEFT_STATUS_DATA_LOSS,
                              "tensor %" PRIu64 " '%s': %" PRIu64 " bytes of %s at offset %" PRIu64
                              " run past the end of the file (the data section starts at %" PRIu64
                              " and holds %" PRIu64 " bytes)",
                              i, t->name, t->size, weft_gguf_dtype_name(t->type), t->offset,
                              gguf->data_offset, gguf->data_size);
    }
    t->file_offset = gguf->data_offset + t->offset;
    gguf->tensors_by_name[i] = t;
  }
  if (count > 1) {
    qsort(gguf->tensors_by_name, count, sizeof(*gguf->tensors_by_name),
          weft_gguf_compare_tensor_offset);
  }
  for (uint64_t i = 1; i < count; ++i) {
    const weft_gguf_tensor_t* a = gguf->tensors_by_name[i - 1];
    const weft_gguf_tensor_t* b = gguf->tensors_by_name[i];
    /* a->offset + a->size cannot wrap: both lie inside the data section. */
    if (a->offset + a->size > b->offset) {
      return weft_status_make(WEFT_STATUS_DATA_LOSS,
                              "tensor %" PRIu64 " '%s' [%" PRIu64 ", %" PRIu64
                              ") overlaps tensor %" PRIu64 " '%s' [%" PRIu64 ", %" PRIu64
                              ") (offsets in the data section)",
                              b->index, b->name, b->offset, b->offset + b->size, a->index,
                              a->name, a->offset, a->offset + a->size);
    }
  }
  if (count > 1) {
    qsort(gguf->tensors_by_name, count, sizeof(*gguf->tensors_by_name),
          weft_gguf_compare_tensor_name);
  }
  for (uint64_t i = 1; i < count; ++i) {
    const weft_gguf_tensor_t* a = gguf->tensors_by_name[i - 1];
    const weft_gguf_tensor_t* b = gguf->tensors_by_name[i];
    if (strcmp(a->name, b->name) == 0) {
      return weft_status_make(WEFT_STATUS_DATA_LOSS,
                              "tensor %" PRIu64 " '%s': duplicate name (also tensor %" PRIu64 ")",
                              b->index, b->name, a->index);
    }
  }
  return WEFT_OK;
}

static weft_status_t weft_gguf_parse(weft_gguf_t* gguf) {
  weft_gguf_parser_t parser;
  memset(&parser, 0, sizeof(parser));
  parser.data = gguf->data;
  parser.size = gguf->size;
  WEFT_RETURN_IF_ERROR(weft_gguf_parse_header(&parser, &gguf->version, &gguf->tensor_count,
                                              &gguf->kv_count));
  /* First walk: validate and measure. */
  WEFT_RETURN_IF_ERROR(weft_gguf_walk(&parser, gguf->kv_count, gguf->tensor_count));
  gguf->alignment = parser.alignment;
  gguf->string_count = parser.string_count;
  gguf->names_size = parser.names_size;

  /* GGUF specification: the data section starts at the end of the tensor
   * infos rounded up to the alignment. */
  uint64_t end = parser.pos;
  uint64_t padding = (gguf->alignment - end % gguf->alignment) % gguf->alignment;
  if (padding > UINT64_MAX - end) {
    return weft_status_make(WEFT_STATUS_DATA_LOSS,
                            "data section: tensor infos end at %" PRIu64
                            ", and aligning that to %" PRIu32 " overflows",
                            end, gguf->alignment);
  }
  gguf->data_offset = end + padding;
  if (gguf->data_offset <= gguf->size) {
    gguf->data_size = gguf->size - gguf->data_offset;
  } else if (gguf->tensor_count > 0) {
    return weft_status_make(WEFT_STATUS_DATA_LOSS,
                            "data section: it starts at %" PRIu64 " (tensor infos end at %" PRIu64
                            ", aligned to %" PRIu32 "), past the end of the file (%" PRIu64
                            " bytes)",
                            gguf->data_offset, end, gguf->alignment, gguf->size);
  } else {
    gguf->data_size = 0; /* a file of metadata alone may stop before the padding */
  }

  /* Tables. Each entry stands for a record of at least 8 bytes that the first
   * walk found in the file, so their sizes stay within a small multiple of
   * the file size. */
  WEFT_RETURN_IF_ERROR(weft_gguf_table_alloc(gguf, gguf->kv_count, sizeof(*gguf->kvs),
                                             "the key/value table", (void**)&gguf->kvs));
  WEFT_RETURN_IF_ERROR(weft_gguf_table_alloc(gguf, gguf->kv_count, sizeof(*gguf->kvs_by_key),
                                             "the key index", (void**)&gguf->kvs_by_key));
  WEFT_RETURN_IF_ERROR(weft_gguf_table_alloc(gguf, gguf->tensor_count, sizeof(*gguf->tensors),
                                             "the tensor table", (void**)&gguf->tensors));
  WEFT_RETURN_IF_ERROR(weft_gguf_table_alloc(gguf, gguf->tensor_count,
                                             sizeof(*gguf->tensors_by_name),
                                             "the tensor name index",
                                             (void**)&gguf->tensors_by_name));
  WEFT_RETURN_IF_ERROR(weft_gguf_table_alloc(gguf, gguf->string_count, sizeof(*gguf->strings),
                                             "the string array index",
                                             (void**)&gguf->strings));
  WEFT_RETURN_IF_ERROR(weft_gguf_table_alloc(gguf, gguf->names_size, 1,
                                             "keys and tensor names", (void**)&gguf->names));

  /* Second walk: fill. It sees the same bytes, so it cannot fail where the
   * first succeeded; its status is still honoured. */
  parser.fill = gguf;
  WEFT_RETURN_IF_ERROR(weft_gguf_walk(&parser, gguf->kv_count, gguf->tensor_count));

  WEFT_RETURN_IF_ERROR(weft_gguf_check_duplicate_keys(gguf));
  return weft_gguf_check_tensors(gguf);
}

/* ---- creation ---- */

static weft_status_t weft_gguf_new(weft_allocator_t allocator, const void* data, uint64_t size,
                                   weft_gguf_t** out_gguf) {
  weft_gguf_t* gguf = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(allocator, sizeof(*gguf), "a GGUF reader", (void**)&gguf));
  gguf->allocator = allocator;
  gguf->data = (const uint8_t*)data;
  gguf->size = size;
  *out_gguf = gguf;
  return WEFT_OK;
}

void weft_gguf_destroy(weft_gguf_t* gguf) {
  if (!gguf) return;
  weft_allocator_t allocator = gguf->allocator;
  weft__free(allocator, gguf->kvs);
  weft__free(allocator, gguf->kvs_by_key);
  weft__free(allocator, gguf->tensors);
  weft__free(allocator, gguf->tensors_by_name);
  weft__free(allocator, gguf->strings);
  weft__free(allocator, gguf->names);
  if (gguf->map) munmap(gguf->map, gguf->map_size);
  weft__free(allocator, gguf);
}

static bool weft_gguf_allocator_valid(weft_allocator_t allocator) {
  return allocator.alloc && allocator.free;
}

weft_status_t weft_gguf_create_from_memory(const void* data, uint64_t size,
                                           weft_allocator_t allocator,
                                           weft_gguf_t** out_gguf) {
  if (out_gguf) *out_gguf = NULL;
  if (!out_gguf || (!data && size > 0) || !weft_gguf_allocator_valid(allocator)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_gguf_create_from_memory: out_gguf and the allocator's "
                            "functions must not be NULL, nor data with size %" PRIu64,
                            size);
  }
  static const uint8_t empty[1] = {0};
  weft_gguf_t* gguf = NULL;
  WEFT_RETURN_IF_ERROR(weft_gguf_new(allocator, data ? data : empty, size, &gguf));
  weft_status_t status = weft_gguf_parse(gguf);
  if (status != WEFT_OK) {
    weft_gguf_destroy(gguf);
    return status;
  }
  *out_gguf = gguf;
  return WEFT_OK;
}

weft_status_t weft_gguf_create_from_file(const char* path, weft_allocator_t allocator,
                                         weft_gguf_t** out_gguf) {
  if (out_gguf) *out_gguf = NULL;
  if (!path || !out_gguf || !weft_gguf_allocator_valid(allocator)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_gguf_create_from_file: path, out_gguf and the allocator's "
                            "functions must not be NULL");
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    return weft_status_make(error == ENOENT   ? WEFT_STATUS_NOT_FOUND
                            : error == EACCES ? WEFT_STATUS_PERMISSION_DENIED
                                              : WEFT_STATUS_IO_ERROR,
                            "cannot open '%s': %s", path, strerror(error));
  }
  struct stat info;
  if (fstat(fd, &info) != 0) {
    int error = errno;
    close(fd);
    return weft_status_make(WEFT_STATUS_IO_ERROR, "cannot stat '%s': %s", path,
                            strerror(error));
  }
  if (!S_ISREG(info.st_mode)) {
    close(fd);
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "'%s' is not a regular file", path);
  }
  if ((uint64_t)info.st_size > SIZE_MAX) {
    close(fd);
    return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                            "'%s' is %" PRIu64 " bytes, more than this process can map", path,
                            (uint64_t)info.st_size);
  }
  size_t size = (size_t)info.st_size;
  void* map = NULL;
  if (size > 0) {
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int error = errno;
      close(fd);
      return weft_status_make(WEFT_STATUS_IO_ERROR, "cannot map '%s' (%zu bytes): %s", path,
                              size, strerror(error));
    }
  }
  close(fd);
  weft_gguf_t* gguf = NULL;
  static const uint8_t empty[1] = {0};
  weft_status_t status = weft_gguf_new(allocator, map ? map : empty, size, &gguf);
  if (status == WEFT_OK) {
    gguf->map = map;
    gguf->map_size = size;
    map = NULL;
    status = weft_gguf_parse(gguf);
  }
  if (map) munmap(map, size);
  if (status != WEFT_OK) {
    weft_gguf_destroy(gguf);
    return weft_status_annotate(status, "'%s'", path);
  }
  *out_gguf = gguf;
  return WEFT_OK;
}

/* ---- header ---- */

uint32_t weft_gguf_version(const weft_gguf_t* gguf) { return gguf ? gguf->version : 0; }
uint64_t weft_gguf_kv_count(const weft_gguf_t* gguf) { return gguf ? gguf->kv_count : 0; }
uint64_t weft_gguf_tensor_count(const weft_gguf_t* gguf) {
  return gguf ? gguf->tensor_count : 0;
}
uint32_t weft_gguf_alignment(const weft_gguf_t* gguf) { return gguf ? gguf->alignment : 0; }
uint64_t weft_gguf_data_offset(const weft_gguf_t* gguf) {
  return gguf ? gguf->data_offset : 0;
}
uint64_t weft_gguf_data_size(const weft_gguf_t* gguf) { return gguf ? gguf->data_size : 0; }
uint64_t weft_gguf_file_size(const weft_gguf_t* gguf) { return gguf ? gguf->size : 0; }
const void* weft_gguf_file_data(const weft_gguf_t* gguf) { return gguf ? gguf->data : NULL; }

/* ---- metadata ---- */

static int weft_gguf_compare_key_to_kv(const void* key, const void* element) {
  const weft_gguf_kv_entry_t* entry = *(const weft_gguf_kv_entry_t* const*)element;
  return strcmp((const char*)key, entry->key);
}

static const weft_gguf_kv_entry_t* weft_gguf_kv_lookup(const weft_gguf_t* gguf,
                                                       const char* key) {
  if (!gguf || !key || gguf->kv_count == 0) return NULL;
  const weft_gguf_kv_entry_t* const* found =
      bsearch(key, gguf->kvs_by_key, gguf->kv_count, sizeof(*gguf->kvs_by_key),
              weft_gguf_compare_key_to_kv);
  return found ? *found : NULL;
}

static weft_status_t weft_gguf_key_not_found(const char* key) {
  char escaped[WEFT_GGUF_ESCAPED_CAP];
  weft_gguf_escape((const uint8_t*)key, strlen(key), escaped);
  return weft_status_make(WEFT_STATUS_NOT_FOUND, "key '%s' not found", escaped);
}

weft_status_t weft_gguf_kv_find(const weft_gguf_t* gguf, const char* key, uint64_t* out_index) {
  if (!gguf || !key || !out_index) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_gguf_kv_find: gguf, key and out_index must not be NULL");
  }
  const weft_gguf_kv_entry_t* entry = weft_gguf_kv_lookup(gguf, key);
  if (!entry) return weft_gguf_key_not_found(key);
  *out_index = (uint64_t)(entry - gguf->kvs);
  return WEFT_OK;
}

bool weft_gguf_kv_has(const weft_gguf_t* gguf, const char* key) {
  return weft_gguf_kv_lookup(gguf, key) != NULL;
}

static weft_status_t weft_gguf_kv_entry_at(const weft_gguf_t* gguf, uint64_t index,
                                           const void* out, const char* function,
                                           const weft_gguf_kv_entry_t** out_entry) {
  if (!gguf || !out) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "%s: gguf and the out-parameter must not be NULL", function);
  }
  if (index >= gguf->kv_count) {
    return weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                            "%s: kv index %" PRIu64 " is out of range (the file has %" PRIu64
                            " key/value pairs)",
                            function, index, gguf->kv_count);
  }
  *out_entry = &gguf->kvs[index];
  return WEFT_OK;
}

/* The entry at `index`, which must hold `type` (and for arrays, elements of
 * `element_type`). */
static weft_status_t weft_gguf_kv_typed(const weft_gguf_t* gguf, uint64_t index, uint32_t type,
                                        uint32_t element_type, const void* out,
                                        const char* function,
                                        const weft_gguf_kv_entry_t** out_entry) {
  const weft_gguf_kv_entry_t* entry = NULL;
  WEFT_RETURN_IF_ERROR(weft_gguf_kv_entry_at(gguf, index, out, function, &entry));
  if (entry->type != type || (type == WEFT_GGUF_TYPE_ARRAY && entry->element_type != element_type)) {
    char stored[40];
    char wanted[40];
    char escaped[WEFT_GGUF_ESCAPED_CAP];
    weft_gguf_describe_type(entry->type, entry->element_type, stored, sizeof(stored));
    weft_gguf_describe_type(type, element_type, wanted, sizeof(wanted));
    weft_gguf_escape((const uint8_t*)entry->key, entry->key_size, escaped);
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "key '%s' holds %s, not %s", escaped,
                            stored, wanted);
  }
  *out_entry = entry;
  return WEFT_OK;
}

weft_status_t weft_gguf_kv_get(const weft_gguf_t* gguf, uint64_t index, weft_gguf_kv_t* out_kv) {
  const weft_gguf_kv_entry_t* entry = NULL;
  WEFT_RETURN_IF_ERROR(weft_gguf_kv_entry_at(gguf, index, out_kv, "weft_gguf_kv_get", &entry));
  out_kv->key = entry->key;
  out_kv->index = index;
  out_kv->type = (weft_gguf_type_t)entry->type;
  out_kv->element_type = (weft_gguf_type_t)entry->element_type;
  out_kv->count = entry->count;
  out_kv->data = gguf->data + entry->value_offset;
  out_kv->size = entry->value_size;
  out_kv->file_offset = entry->value_offset;
  return WEFT_OK;
}

static float weft_gguf_f32(const uint8_t* b) {
  uint32_t bits = weft_gguf_le32(b);
  float value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

static double weft_gguf_f64(const uint8_t* b) {
  uint64_t bits = weft_gguf_le64(b);
  double value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

static int8_t weft_gguf_i8(const uint8_t* b) {
  int8_t value;
  memcpy(&value, b, 1);
  return value;
}

static int16_t weft_gguf_i16(const uint8_t* b) {
  uint16_t bits = weft_gguf_le16(b);
  int16_t value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

static int32_t weft_gguf_i32(const uint8_t* b) {
  uint32_t bits = weft_gguf_le32(b);
  int32_t value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

static int64_t weft_gguf_i64(const uint8_t* b) {
  uint64_t bits = weft_gguf_le64(b);
  int64_t value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

static weft_gguf_string_t weft_gguf_string_at(const weft_gguf_t* gguf,
                                              const weft_gguf_kv_entry_t* entry) {
  weft_gguf_string_t string = {(const char*)gguf->data + entry->value_offset, entry->value_size};
  return string;
}

#define WEFT_GGUF_DEFINE_GETTERS_(suffix, ctype, type, decode)                          \
  weft_status_t weft_gguf_kv_get_##suffix(const weft_gguf_t* gguf, uint64_t index,     \
                                          ctype* out) {                                \
    const weft_gguf_kv_entry_t* entry = NULL;                                          \
    WEFT_RETURN_IF_ERROR(weft_gguf_kv_typed(gguf, index, type, type, out,              \
                                            "weft_gguf_kv_get_" #suffix, &entry));     \
    const uint8_t* b = gguf->data + entry->value_offset;                               \
    (void)b;                                                                           \
    *out = decode;                                                                     \
    return WEFT_OK;                                                                    \
  }                                                                                    \
  weft_status_t weft_gguf_get_##suffix(const weft_gguf_t* gguf, const char* key,       \
                                       ctype* out) {                                   \
    uint64_t index = 0;                                                                \
    WEFT_RETURN_IF_ERROR(weft_gguf_kv_find(gguf, key, &index));                        \
    return weft_gguf_kv_get_##suffix(gguf, index, out);                                \
  }

WEFT_GGUF_DEFINE_GETTERS_(u8, uint8_t, WEFT_GGUF_TYPE_UINT8, b[0])
WEFT_GGUF_DEFINE_GETTERS_(i8, int8_t, WEFT_GGUF_TYPE_INT8, weft_gguf_i8(b))
WEFT_GGUF_DEFINE_GETTERS_(u16, uint16_t, WEFT_GGUF_TYPE_UINT16, weft_gguf_le16(b))
WEFT_GGUF_DEFINE_GETTERS_(i16, int16_t, WEFT_GGUF_TYPE_INT16, weft_gguf_i16(b))
WEFT_GGUF_DEFINE_GETTERS_(u32, uint32_t, WEFT_GGUF_TYPE_UINT32, weft_gguf_le32(b))
WEFT_GGUF_DEFINE_GETTERS_(i32, int32_t, WEFT_GGUF_TYPE_INT32, weft_gguf_i32(b))
WEFT_GGUF_DEFINE_GETTERS_(u64, uint64_t, WEFT_GGUF_TYPE_UINT64, weft_gguf_le64(b))
WEFT_GGUF_DEFINE_GETTERS_(i64, int64_t, WEFT_GGUF_TYPE_INT64, weft_gguf_i64(b))
WEFT_GGUF_DEFINE_GETTERS_(f32, float, WEFT_GGUF_TYPE_FLOAT32, weft_gguf_f32(b))
WEFT_GGUF_DEFINE_GETTERS_(f64, double, WEFT_GGUF_TYPE_FLOAT64, weft_gguf_f64(b))
WEFT_GGUF_DEFINE_GETTERS_(bool, bool, WEFT_GGUF_TYPE_BOOL, b[0] != 0)
WEFT_GGUF_DEFINE_GETTERS_(string, weft_gguf_string_t, WEFT_GGUF_TYPE_STRING,
                          weft_gguf_string_at(gguf, entry))
#undef WEFT_GGUF_DEFINE_GETTERS_

weft_status_t weft_gguf_kv_get_array(const weft_gguf_t* gguf, uint64_t index,
                                     weft_gguf_type_t element_type,
                                     weft_gguf_array_t* out_array) {
  if ((unsigned)element_type >= WEFT_GGUF_TYPE_COUNT_ || element_type == WEFT_GGUF_TYPE_ARRAY) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_gguf_kv_get_array: element type %d is not a scalar or "
                            "string type",
                            (int)element_type);
  }
  const weft_gguf_kv_entry_t* entry = NULL;
  WEFT_RETURN_IF_ERROR(weft_gguf_kv_typed(gguf, index, WEFT_GGUF_TYPE_ARRAY,
                                          (uint32_t)element_type, out_array,
                                          "weft_gguf_kv_get_array", &entry));
  out_array->gguf = gguf;
  out_array->kv_index = index;
  out_array->type = element_type;
  out_array->count = entry->count;
  out_array->data = gguf->data + entry->value_offset;
  out_array->size = entry->value_size;
  return WEFT_OK;
}

weft_status_t weft_gguf_get_array(const weft_gguf_t* gguf, const char* key,
                                  weft_gguf_type_t element_type, weft_gguf_array_t* out_array) {
  uint64_t index = 0;
  WEFT_RETURN_IF_ERROR(weft_gguf_kv_find(gguf, key, &index));
  return weft_gguf_kv_get_array(gguf, index, element_type, out_array);
}

static const char* weft_gguf_key_text(const weft_gguf_kv_entry_t* entry,
                                      char out[WEFT_GGUF_ESCAPED_CAP]) {
  weft_gguf_escape((const uint8_t*)entry->key, entry->key_size, out);
  return out;
}

/* The reader's own entry for an array view, so that a view the caller has
 * altered cannot lead outside the file. */
static weft_status_t weft_gguf_array_entry(const weft_gguf_array_t* array, const void* out,
                                           const char* function,
                                           const weft_gguf_kv_entry_t** out_entry) {
  if (!array || !array->gguf) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "%s: the array and its gguf must not be NULL", function);
  }
  const weft_gguf_kv_entry_t* entry = NULL;
  char key_text[WEFT_GGUF_ESCAPED_CAP];
  WEFT_RETURN_IF_ERROR(weft_gguf_kv_entry_at(array->gguf, array->kv_index, out, function, &entry));
  if (entry->type != WEFT_GGUF_TYPE_ARRAY) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "%s: kv %" PRIu64 " '%s' is not an array",
                            function, array->kv_index, weft_gguf_key_text(entry, key_text));
  }
  *out_entry = entry;
  return WEFT_OK;
}

weft_status_t weft_gguf_array_get_string(const weft_gguf_array_t* array, uint64_t index,
                                         weft_gguf_string_t* out_string) {
  const weft_gguf_kv_entry_t* entry = NULL;
  char key_text[WEFT_GGUF_ESCAPED_CAP];
  WEFT_RETURN_IF_ERROR(
      weft_gguf_array_entry(array, out_string, "weft_gguf_array_get_string", &entry));
  if (entry->element_type != WEFT_GGUF_TYPE_STRING) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_gguf_array_get_string: key '%s' holds an array of %s, not "
                            "of string",
                            weft_gguf_key_text(entry, key_text),
                            weft_gguf_type_name((weft_gguf_type_t)entry->element_type));
  }
  if (index >= entry->count) {
    return weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                            "key '%s': element %" PRIu64 " is out of range (%" PRIu64
                            " elements)",
                            weft_gguf_key_text(entry, key_text), index, entry->count);
  }
  const weft_gguf_t* gguf = array->gguf;
  uint64_t at = gguf->strings[entry->strings_first + index];
  out_string->data = (const char*)gguf->data + at + 8;
  out_string->size = weft_gguf_le64(gguf->data + at);
  return WEFT_OK;
}

weft_status_t weft_gguf_array_read(const weft_gguf_array_t* array, uint64_t first,
                                   uint64_t count, void* dst, uint64_t dst_size) {
  const weft_gguf_kv_entry_t* entry = NULL;
  char key_text[WEFT_GGUF_ESCAPED_CAP];
  WEFT_RETURN_IF_ERROR(weft_gguf_array_entry(array, array, "weft_gguf_array_read", &entry));
  uint64_t each = weft_gguf_type_size(entry->element_type);
  if (each == 0) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_gguf_array_read: key '%s' holds an array of %s; read "
                            "strings with weft_gguf_array_get_string",
                            weft_gguf_key_text(entry, key_text),
                            weft_gguf_type_name((weft_gguf_type_t)entry->element_type));
  }
  if (first > entry->count || count > entry->count - first) {
    return weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                            "key '%s': elements [%" PRIu64 ", +%" PRIu64
                            ") are not inside the array of %" PRIu64,
                            weft_gguf_key_text(entry, key_text), first, count, entry->count);
  }
  uint64_t bytes = count * each; /* at most the array's size in the file */
  if (count == 0) return WEFT_OK;
  if (!dst || dst_size < bytes) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_gguf_array_read: key '%s': %" PRIu64 " elements need %" PRIu64
                            " bytes, dst has %" PRIu64 "%s",
                            weft_gguf_key_text(entry, key_text), count, bytes, dst ? dst_size : 0,
                            dst ? "" : " (NULL)");
  }
  memcpy(dst, array->gguf->data + entry->value_offset + first * each, (size_t)bytes);
  return WEFT_OK;
}

/* ---- tensors ---- */

weft_status_t weft_gguf_tensor_get(const weft_gguf_t* gguf, uint64_t index,
                                   const weft_gguf_tensor_t** out_tensor) {
  if (!gguf || !out_tensor) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_gguf_tensor_get: gguf and out_tensor must not be NULL");
  }
  if (index >= gguf->tensor_count) {
    return weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                            "tensor index %" PRIu64 " is out of range (the file has %" PRIu64
                            " tensors)",
                            index, gguf->tensor_count);
  }
  *out_tensor = &gguf->tensors[index];
  return WEFT_OK;
}

static int weft_gguf_compare_name_to_tensor(const void* name, const void* element) {
  const weft_gguf_tensor_t* tensor = *(const weft_gguf_tensor_t* const*)element;
  return strcmp((const char*)name, tensor->name);
}

weft_status_t weft_gguf_tensor_find(const weft_gguf_t* gguf, const char* name,
                                    const weft_gguf_tensor_t** out_tensor) {
  if (!gguf || !name || !out_tensor) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_gguf_tensor_find: gguf, name and out_tensor must not be NULL");
  }
  const weft_gguf_tensor_t* const* found = NULL;
  if (gguf->tensor_count > 0) {
    found = bsearch(name, gguf->tensors_by_name, gguf->tensor_count,
                    sizeof(*gguf->tensors_by_name), weft_gguf_compare_name_to_tensor);
  }
  if (!found) {
    char escaped[WEFT_GGUF_ESCAPED_CAP];
    weft_gguf_escape((const uint8_t*)name, strlen(name), escaped);
    return weft_status_make(WEFT_STATUS_NOT_FOUND, "tensor '%s' not found", escaped);
  }
  *out_tensor = *found;
  return WEFT_OK;
}

const void* weft_gguf_tensor_data(const weft_gguf_t* gguf, const weft_gguf_tensor_t* tensor) {
  if (!gguf || !tensor) return NULL;
  return gguf->data + tensor->file_offset;
}

weft_status_t weft_gguf_tensor_file_range(const weft_gguf_t* gguf, const char* name,
                                          uint64_t* out_offset, uint64_t* out_size) {
  if (!out_offset || !out_size) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_gguf_tensor_file_range: out_offset and out_size must not be "
                            "NULL");
  }
  const weft_gguf_tensor_t* tensor = NULL;
  WEFT_RETURN_IF_ERROR(weft_gguf_tensor_find(gguf, name, &tensor));
  *out_offset = tensor->file_offset;
  *out_size = tensor->size;
  return WEFT_OK;
}
