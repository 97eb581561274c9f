/* A small streaming JSON writer for the weft command-line tools.
 *
 * The writer tracks nesting and commas so that callers emit values in order
 * and never build a document in memory. Strings are escaped per RFC 8259 §7:
 * '"', '\\' and every control character are escaped, and bytes that are not
 * well-formed UTF-8 (a file name may hold any bytes) become U+FFFD, so the
 * output is always valid UTF-8 JSON that any parser accepts.
 *
 * Errors are sticky: a misuse (a value where a key is due, unbalanced
 * begin/end, nesting deeper than WEFT_JSON_MAX_DEPTH) or a write error marks
 * the writer failed, later calls do nothing, and weft_json_writer_finish()
 * reports it. No function here allocates, aborts or exits.
 *
 * Thread safety: a writer belongs to one thread at a time. */
#ifndef WEFT_TOOLS_JSON_WRITER_H_
#define WEFT_TOOLS_JSON_WRITER_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_JSON_MAX_DEPTH 32

typedef struct weft_json_writer_t {
  FILE* out;                 /* borrowed; not closed by the writer */
  uint32_t indent;           /* spaces per level; 0 writes one line */
  uint32_t depth;            /* open containers */
  bool failed;
  bool key_pending;          /* a key was written; its value is due */
  bool has_items[WEFT_JSON_MAX_DEPTH]; /* container at depth i has a member */
  bool is_object[WEFT_JSON_MAX_DEPTH];
  bool is_compact[WEFT_JSON_MAX_DEPTH]; /* no line breaks inside */
  bool done;                 /* the top-level value is complete */
} weft_json_writer_t;

/* Prepares `out_writer` to write one JSON value to `out` (borrowed). */
void weft_json_writer_init(weft_json_writer_t* out_writer, FILE* out,
                           uint32_t indent);

/* Ends the document with a newline and flushes. Returns false when the writer
 * failed (misuse or a write error) or when containers are still open. */
bool weft_json_writer_finish(weft_json_writer_t* writer);

void weft_json_object_begin(weft_json_writer_t* writer);
void weft_json_object_end(weft_json_writer_t* writer);
void weft_json_array_begin(weft_json_writer_t* writer);
void weft_json_array_end(weft_json_writer_t* writer);
/* An array kept on one line even when indenting, for short lists of scalars
 * ("dtypes": ["f32", "f16"]). Containers inside it are kept on the line too.
 * Closed with weft_json_array_end. */
void weft_json_array_begin_compact(weft_json_writer_t* writer);

/* Writes a member name; only valid directly inside an object. */
void weft_json_key(weft_json_writer_t* writer, const char* key);

/* Values. A NULL string is written as null. */
void weft_json_string(weft_json_writer_t* writer, const char* value);
void weft_json_string_n(weft_json_writer_t* writer, const char* value,
                        size_t length);
void weft_json_int(weft_json_writer_t* writer, int64_t value);
void weft_json_uint(weft_json_writer_t* writer, uint64_t value);
void weft_json_bool(weft_json_writer_t* writer, bool value);
void weft_json_null(weft_json_writer_t* writer);

/* key + value in one call, for the common case of an object member. */
void weft_json_member_string(weft_json_writer_t* writer, const char* key,
                             const char* value);
void weft_json_member_int(weft_json_writer_t* writer, const char* key,
                          int64_t value);
void weft_json_member_uint(weft_json_writer_t* writer, const char* key,
                           uint64_t value);
void weft_json_member_bool(weft_json_writer_t* writer, const char* key,
                           bool value);
void weft_json_member_null(weft_json_writer_t* writer, const char* key);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* WEFT_TOOLS_JSON_WRITER_H_ */
