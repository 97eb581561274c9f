#include "json_writer.h"

#include <inttypes.h>
#include <string.h>

static void weft_json_raw(weft_json_writer_t* writer, const char* text,
                          size_t length) {
  if (writer->failed || length == 0) {
    return;
  }
  if (fwrite(text, 1, length, writer->out) != length) {
    writer->failed = true;
  }
}

static void weft_json_puts(weft_json_writer_t* writer, const char* text) {
  weft_json_raw(writer, text, strlen(text));
}

static void weft_json_newline_indent(weft_json_writer_t* writer) {
  static const char spaces[] = "                                ";
  if (writer->indent == 0) {
    return;
  }
  if (writer->depth > 0 && writer->is_compact[writer->depth - 1]) {
    return;
  }
  weft_json_raw(writer, "\n", 1);
  size_t total = (size_t)writer->indent * writer->depth;
  while (total > 0 && !writer->failed) {
    size_t chunk = total < sizeof(spaces) - 1 ? total : sizeof(spaces) - 1;
    weft_json_raw(writer, spaces, chunk);
    total -= chunk;
  }
}

/* Called before every value and every key: writes the separator and checks
 * that a value is allowed here. */
static bool weft_json_value_prepare(weft_json_writer_t* writer, bool is_key) {
  if (writer->failed) {
    return false;
  }
  if (writer->depth == 0) {
    /* One top-level value per document, and keys only inside objects. */
    if (writer->done || is_key) {
      writer->failed = true;
      return false;
    }
    return true;
  }
  uint32_t level = writer->depth - 1;
  if (writer->is_object[level]) {
    if (is_key == writer->key_pending) {
      /* Key after key, or a value with no key. */
      writer->failed = true;
      return false;
    }
    if (!is_key) {
      writer->key_pending = false;
      return true;  /* the key already wrote the separator */
    }
  } else if (is_key) {
    writer->failed = true;
    return false;
  }
  if (writer->has_items[level]) {
    bool spaced = writer->indent != 0 && writer->is_compact[level];
    weft_json_raw(writer, spaced ? ", " : ",", spaced ? 2 : 1);
  }
  writer->has_items[level] = true;
  weft_json_newline_indent(writer);
  return !writer->failed;
}

static void weft_json_value_done(weft_json_writer_t* writer) {
  if (writer->depth == 0) {
    writer->done = true;
  }
}

void weft_json_writer_init(weft_json_writer_t* out_writer, FILE* out,
                           uint32_t indent) {
  memset(out_writer, 0, sizeof(*out_writer));
  out_writer->out = out;
  out_writer->indent = indent;
  out_writer->failed = out == NULL;
}

bool weft_json_writer_finish(weft_json_writer_t* writer) {
  if (writer->depth != 0 || writer->key_pending || !writer->done) {
    writer->failed = true;
  }
  weft_json_raw(writer, "\n", 1);
  if (!writer->failed && (fflush(writer->out) != 0 || ferror(writer->out))) {
    writer->failed = true;
  }
  return !writer->failed;
}

static void weft_json_container_begin(weft_json_writer_t* writer,
                                      bool is_object, bool compact) {
  if (!weft_json_value_prepare(writer, false)) {
    return;
  }
  if (writer->depth >= WEFT_JSON_MAX_DEPTH) {
    writer->failed = true;
    return;
  }
  weft_json_raw(writer, is_object ? "{" : "[", 1);
  writer->is_object[writer->depth] = is_object;
  writer->is_compact[writer->depth] =
      compact || (writer->depth > 0 && writer->is_compact[writer->depth - 1]);
  writer->has_items[writer->depth] = false;
  writer->depth++;
}

static void weft_json_container_end(weft_json_writer_t* writer,
                                    bool is_object) {
  if (writer->failed) {
    return;
  }
  if (writer->depth == 0 || writer->is_object[writer->depth - 1] != is_object ||
      writer->key_pending) {
    writer->failed = true;
    return;
  }
  bool had_items = writer->has_items[writer->depth - 1];
  bool compact = writer->is_compact[writer->depth - 1];
  writer->depth--;
  if (had_items && !compact) {
    weft_json_newline_indent(writer);
  }
  weft_json_raw(writer, is_object ? "}" : "]", 1);
  weft_json_value_done(writer);
}

void weft_json_object_begin(weft_json_writer_t* writer) {
  weft_json_container_begin(writer, true, false);
}

void weft_json_object_end(weft_json_writer_t* writer) {
  weft_json_container_end(writer, true);
}

void weft_json_array_begin(weft_json_writer_t* writer) {
  weft_json_container_begin(writer, false, false);
}

void weft_json_array_begin_compact(weft_json_writer_t* writer) {
  weft_json_container_begin(writer, false, true);
}

void weft_json_array_end(weft_json_writer_t* writer) {
  weft_json_container_end(writer, false);
}

/* Length of the well-formed UTF-8 sequence at text[0..length), or 0 when the
 * bytes there are not one (Unicode 15, table 3-7: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
static size_t weft_json_utf8_sequence_length(const unsigned char* text,
                                             size_t length) {
  unsigned char lead = text[0];
  size_t need;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead < 0x80) {
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    need = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 3;
    if (lead == 0xE0) {
      low = 0xA0;
    } else if (lead == 0xED) {
      high = 0x9F;
    }
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 4;
    if (lead == 0xF0) {
      low = 0x90;
    } else if (lead == 0xF4) {
      high = 0x8F;
    }
  } else {
    return 0;
  }
  if (length < need) {
    return 0;
  }
  if (text[1] < low || text[1] > high) {
    return 0;
  }
  for (size_t i = 2; i < need; ++i) {
    if (text[i] < 0x80 || text[i] > 0xBF) {
      return 0;
    }
  }
  return need;
}

static void weft_json_string_body(weft_json_writer_t* writer,
                                  const char* value, size_t length) {
  const unsigned char* text = (const unsigned char*)value;
  size_t run_start = 0;
  size_t i = 0;
  while (i < length && !writer->failed) {
    unsigned char c = text[i];
    const char* escape = NULL;
    char buffer[8];
    size_t step = 1;
    if (c == '"') {
      escape = "\\\"";
    } else if (c == '\\') {
      escape = "\\\\";
    } else if (c == '\n') {
      escape = "\\n";
    } else if (c == '\r') {
      escape = "\\r";
    } else if (c == '\t') {
      escape = "\\t";
    } else if (c == '\b') {
      escape = "\\b";
    } else if (c == '\f') {
      escape = "\\f";
    } else if (c < 0x20 || c == 0x7F) {
      snprintf(buffer, sizeof(buffer), "\\u%04x", (unsigned)c);
      escape = buffer;
    } else if (c >= 0x80) {
      step = weft_json_utf8_sequence_length(text + i, length - i);
      if (step == 0) {
        escape = "\\ufffd";
        step = 1;
      }
    }
    if (escape != NULL) {
      weft_json_raw(writer, value + run_start, i - run_start);
      weft_json_puts(writer, escape);
      run_start = i + step;
    }
    i += step;
  }
  weft_json_raw(writer, value + run_start, length - run_start);
}

void weft_json_key(weft_json_writer_t* writer, const char* key) {
  if (key == NULL) {
    writer->failed = true;
    return;
  }
  if (!weft_json_value_prepare(writer, true)) {
    return;
  }
  weft_json_raw(writer, "\"", 1);
  weft_json_string_body(writer, key, strlen(key));
  weft_json_puts(writer, writer->indent ? "\": " : "\":");
  writer->key_pending = true;
}

void weft_json_string_n(weft_json_writer_t* writer, const char* value,
                        size_t length) {
  if (value == NULL) {
    weft_json_null(writer);
    return;
  }
  if (!weft_json_value_prepare(writer, false)) {
    return;
  }
  weft_json_raw(writer, "\"", 1);
  weft_json_string_body(writer, value, length);
  weft_json_raw(writer, "\"", 1);
  weft_json_value_done(writer);
}

void weft_json_string(weft_json_writer_t* writer, const char* value) {
  weft_json_string_n(writer, value, value != NULL ? strlen(value) : 0);
}

void weft_json_int(weft_json_writer_t* writer, int64_t value) {
  char text[32];
  if (!weft_json_value_prepare(writer, false)) {
    return;
  }
  snprintf(text, sizeof(text), "%" PRId64, value);
  weft_json_puts(writer, text);
  weft_json_value_done(writer);
}

void weft_json_uint(weft_json_writer_t* writer, uint64_t value) {
  char text[32];
  if (!weft_json_value_prepare(writer, false)) {
    return;
  }
  snprintf(text, sizeof(text), "%" PRIu64, value);
  weft_json_puts(writer, text);
  weft_json_value_done(writer);
}

void weft_json_bool(weft_json_writer_t* writer, bool value) {
  if (!weft_json_value_prepare(writer, false)) {
    return;
  }
  weft_json_puts(writer, value ? "true" : "false");
  weft_json_value_done(writer);
}

void weft_json_null(weft_json_writer_t* writer) {
  if (!weft_json_value_prepare(writer, false)) {
    return;
  }
  weft_json_puts(writer, "null");
  weft_json_value_done(writer);
}

void weft_json_member_string(weft_json_writer_t* writer, const char* key,
                             const char* value) {
  weft_json_key(writer, key);
  weft_json_string(writer, value);
}

void weft_json_member_int(weft_json_writer_t* writer, const char* key,
                          int64_t value) {
  weft_json_key(writer, key);
  weft_json_int(writer, value);
}

void weft_json_member_uint(weft_json_writer_t* writer, const char* key,
                           uint64_t value) {
  weft_json_key(writer, key);
  weft_json_uint(writer, value);
}

void weft_json_member_bool(weft_json_writer_t* writer, const char* key,
                           bool value) {
  weft_json_key(writer, key);
  weft_json_bool(writer, value);
}

void weft_json_member_null(weft_json_writer_t* writer, const char* key) {
  weft_json_key(writer, key);
  weft_json_null(writer);
}
