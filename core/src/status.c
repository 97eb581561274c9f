/* weft status objects: one allocation holding the code and the message. */
#include "weft/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct weft_status_s {
  uint32_t code;
  uint32_t is_static; /* shared fallback for out-of-memory: never freed */
  const char* message;
};

/* One shared status per code, returned when a status cannot be allocated. */
static const struct weft_status_s weft_status_static_table[] = {
#define WEFT_STATUS_STATIC_(name, value, text) {value, 1, text},
    WEFT_STATUS_CODE_LIST(WEFT_STATUS_STATIC_)
#undef WEFT_STATUS_STATIC_
};

static const char* const weft_status_names[] = {
#define WEFT_STATUS_NAME_(name, value, text) [value] = #name,
    WEFT_STATUS_CODE_LIST(WEFT_STATUS_NAME_)
#undef WEFT_STATUS_NAME_
};

static const char* const weft_status_texts[] = {
#define WEFT_STATUS_TEXT_(name, value, text) [value] = text,
    WEFT_STATUS_CODE_LIST(WEFT_STATUS_TEXT_)
#undef WEFT_STATUS_TEXT_
};

static weft_status_t weft_status_static(weft_status_code_t code) {
  size_t count = sizeof(weft_status_static_table) / sizeof(weft_status_static_table[0]);
  for (size_t i = 0; i < count; ++i) {
    if (weft_status_static_table[i].code == (uint32_t)code) {
      return (weft_status_t)&weft_status_static_table[i];
    }
  }
  return (weft_status_t)&weft_status_static_table[WEFT_STATUS_UNKNOWN];
}

const char* weft_status_code_name(weft_status_code_t code) {
  if ((unsigned)code >= WEFT_STATUS_CODE_COUNT_ || !weft_status_names[code]) {
    return "UNKNOWN_CODE";
  }
  return weft_status_names[code];
}

const char* weft_status_code_text(weft_status_code_t code) {
  if ((unsigned)code >= WEFT_STATUS_CODE_COUNT_ || !weft_status_texts[code]) {
    return "unknown code";
  }
  return weft_status_texts[code];
}

weft_status_t weft_status_make_v(weft_status_code_t code, const char* format,
                                 va_list args) {
  if (code == WEFT_STATUS_OK) return WEFT_OK;
  if (!format) format = weft_status_code_text(code);
  va_list copy;
  va_copy(copy, args);
  int length = vsnprintf(NULL, 0, format, copy);
  va_end(copy);
  if (length < 0) return weft_status_static(code);
  size_t total = sizeof(struct weft_status_s) + (size_t)length + 1;
  struct weft_status_s* status = (struct weft_status_s*)malloc(total);
  if (!status) return weft_status_static(code);
  char* text = (char*)(status + 1);
  vsnprintf(text, (size_t)length + 1, format, args);
  status->code = (uint32_t)code;
  status->is_static = 0;
  status->message = text;
  return status;
}

weft_status_t weft_status_make(weft_status_code_t code, const char* format, ...) {
  va_list args;
  va_start(args, format);
  weft_status_t status = weft_status_make_v(code, format, args);
  va_end(args);
  return status;
}

weft_status_code_t weft_status_code(weft_status_t status) {
  return status ? (weft_status_code_t)status->code : WEFT_STATUS_OK;
}

const char* weft_status_message(weft_status_t status) {
  return status ? status->message : "ok";
}

void weft_status_free(weft_status_t status) {
  if (status && !status->is_static) free(status);
}

weft_status_t weft_status_annotate(weft_status_t status, const char* format, ...) {
  if (status == WEFT_OK) return WEFT_OK;
  char prefix[512];
  va_list args;
  va_start(args, format);
  vsnprintf(prefix, sizeof(prefix), format, args);
  va_end(args);
  weft_status_t annotated = weft_status_make(weft_status_code(status), "%s: %s",
                                             prefix, weft_status_message(status));
  weft_status_free(status);
  return annotated;
}

weft_status_t weft_status_join(weft_status_t first, weft_status_t second) {
  if (first != WEFT_OK) {
    weft_status_free(second);
    return first;
  }
  return second;
}
