/* Chat formatting. The two template families of the supported models are
 * recognised from tokenizer.chat_template (as llama.cpp's
 * llm_chat_detect_template does, by their turn markers) and written by hand;
 * no Jinja interpreter is involved. */
#include <string.h>

#include "tokenizer_impl.h"
#include "util.h"

/* Reads the quoted Jinja string literal at text[*at] ('...' or "...") with
 * its backslash escapes into allocator memory. */
static weft_status_t weft_chat_read_literal(const weft_tokenizer_t* t, const char* text,
                                            size_t length, size_t at, char** out) {
  char quote = text[at];
  size_t end = at + 1;
  while (end < length && text[end] != quote) {
    end += (text[end] == '\\' && end + 1 < length) ? 2 : 1;
  }
  if (end >= length) {
    *out = NULL;
    return WEFT_OK;
  }
  char* s = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, end - at, "chat template literal", (void**)&s));
  size_t n = 0;
  for (size_t i = at + 1; i < end; ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < end) {
      char e = text[++i];
      c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
    }
    s[n++] = c;
  }
  s[n] = '\0';
  *out = s;
  return WEFT_OK;
}

static const char* weft_chat_find(const char* hay, size_t length, const char* needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; n <= length && i <= length - n; ++i) {
    if (memcmp(hay + i, needle, n) == 0) {
      return hay + i;
    }
  }
  return NULL;
}

/* SmolLM2's template writes a default system turn when the first message is
 * not a system message:
 *   {% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n...' }}
 * Finds that literal, if the template has one. */
static weft_status_t weft_chat_default_system(weft_tokenizer_t* t, const char* tmpl,
                                              size_t length) {
  const char* cond = weft_chat_find(tmpl, length, "!= 'system'");
  if (cond == NULL) {
    cond = weft_chat_find(tmpl, length, "!= \"system\"");
  }
  if (cond == NULL) {
    return WEFT_OK;
  }
  size_t at = (size_t)(cond - tmpl);
  const char* endif = weft_chat_find(cond, length - at, "endif");
  const char* open = weft_chat_find(cond, length - at, "{{");
  if (open == NULL || (endif != NULL && endif < open)) {
    return WEFT_OK;
  }
  at = (size_t)(open - tmpl) + 2;
  while (at < length && tmpl[at] == ' ') {
    ++at;
  }
  if (at >= length || (tmpl[at] != '\'' && tmpl[at] != '"')) {
    return WEFT_OK;
  }
  char* literal = NULL;
  WEFT_RETURN_IF_ERROR(weft_chat_read_literal(t, tmpl, length, at, &literal));
  if (literal != NULL && strncmp(literal, "<|im_start|>system", 18) != 0) {
    weft__free(t->allocator, literal);
    literal = NULL;
  }
  t->chat_default_system = literal;
  return WEFT_OK;
}

weft_status_t weft__tokenizer_chat_init(weft_tokenizer_t* t, const char* tmpl, size_t length) {
  t->chat_family = WEFT__CHAT_NONE;
  if (tmpl != NULL) {
    WEFT_RETURN_IF_ERROR(
        weft__alloc(t->allocator, length + 1, "chat template", (void**)&t->chat_template));
    memcpy(t->chat_template, tmpl, length);
    t->chat_template[length] = '\0';
    if (weft_chat_find(tmpl, length, "<|im_start|>") != NULL) {
      t->chat_family = WEFT__CHAT_CHATML;
      WEFT_RETURN_IF_ERROR(weft_chat_default_system(t, tmpl, length));
    } else if (weft_chat_find(tmpl, length, "<start_of_turn>") != NULL) {
      t->chat_family = WEFT__CHAT_GEMMA;
    }
    return WEFT_OK;
  }
  /* No template in the file: the vocabulary's turn tokens tell. */
  if (weft__tokenizer_find(t, "<|im_start|>", 12) >= 0) {
    t->chat_family = WEFT__CHAT_CHATML;
  } else if (weft__tokenizer_find(t, "<start_of_turn>", 15) >= 0) {
    t->chat_family = WEFT__CHAT_GEMMA;
  }
  return WEFT_OK;
}

typedef struct weft_chat_writer_t {
  char* out;
  size_t capacity;
  size_t length;
} weft_chat_writer_t;

static void weft_chat_put(weft_chat_writer_t* w, const char* s, size_t n) {
  if (w->length < w->capacity) {
    size_t room = w->capacity - w->length;
    memcpy(w->out + w->length, s, n < room ? n : room);
  }
  w->length += n;
}

static void weft_chat_puts(weft_chat_writer_t* w, const char* s) { weft_chat_put(w, s, strlen(s)); }

static bool weft_chat_is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Without leading and trailing white space, as llama.cpp's trim(). */
static void weft_chat_put_trimmed(weft_chat_writer_t* w, const char* s) {
  size_t n = strlen(s);
  size_t b = 0;
  while (b < n && weft_chat_is_space(s[b])) {
    ++b;
  }
  while (n > b && weft_chat_is_space(s[n - 1])) {
    --n;
  }
  weft_chat_put(w, s + b, n - b);
}

weft_status_t weft_tokenizer_chat_format(const weft_tokenizer_t* t,
                                         const weft_chat_message_t* messages, size_t count,
                                         bool add_generation_prompt, char* out, size_t capacity,
                                         size_t* out_length) {
  if (t == NULL || out_length == NULL || (messages == NULL && count > 0) ||
      (out == NULL && capacity > 0)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_tokenizer_chat_format: NULL tokenizer, messages, out or "
                            "out_length");
  }
  for (size_t i = 0; i < count; ++i) {
    if (messages[i].role == NULL || messages[i].content == NULL) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "weft_tokenizer_chat_format: message %zu has a NULL %s", i,
                              messages[i].role == NULL ? "role" : "content");
    }
  }
  if (t->chat_family == WEFT__CHAT_NONE) {
    if (t->chat_template == NULL) {
      return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                              "weft_tokenizer_chat_format: the GGUF has no "
                              "tokenizer.chat_template and no ChatML or Gemma turn tokens");
    }
    return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                            "weft_tokenizer_chat_format: chat template '%.80s%s' is neither "
                            "ChatML nor Gemma",
                            t->chat_template, strlen(t->chat_template) > 80 ? "..." : "");
  }
  weft_chat_writer_t w = {out, capacity, 0};
  if (t->chat_family == WEFT__CHAT_CHATML) {
    if (t->chat_default_system != NULL && count > 0 && strcmp(messages[0].role, "system") != 0) {
      weft_chat_puts(&w, t->chat_default_system);
    }
    for (size_t i = 0; i < count; ++i) {
      weft_chat_puts(&w, "<|im_start|>");
      weft_chat_puts(&w, messages[i].role);
      weft_chat_puts(&w, "\n");
      weft_chat_puts(&w, messages[i].content);
      weft_chat_puts(&w, "<|im_end|>\n");
    }
    if (add_generation_prompt) {
      weft_chat_puts(&w, "<|im_start|>assistant\n");
    }
  } else {
    /* Gemma has no system role: system text waits for the next user turn. */
    size_t pending = count; /* first system message not yet written */
    size_t pending_end = count;
    for (size_t i = 0; i < count; ++i) {
      const char* role = messages[i].role;
      if (strcmp(role, "system") == 0) {
        if (pending == count) {
          pending = i;
        }
        pending_end = i + 1;
        continue;
      }
      bool model = strcmp(role, "assistant") == 0;
      weft_chat_puts(&w, "<start_of_turn>");
      weft_chat_puts(&w, model ? "model" : role);
      weft_chat_puts(&w, "\n");
      if (pending < count && !model) {
        size_t before = w.length;
        for (size_t k = pending; k < pending_end; ++k) {
          if (strcmp(messages[k].role, "system") == 0) {
            weft_chat_put_trimmed(&w, messages[k].content);
          }
        }
        if (w.length > before) {
          weft_chat_puts(&w, "\n\n");
        }
        pending = count;
      }
      weft_chat_put_trimmed(&w, messages[i].content);
      weft_chat_puts(&w, "<end_of_turn>\n");
    }
    if (add_generation_prompt) {
      weft_chat_puts(&w, "<start_of_turn>model\n");
    }
  }
  *out_length = w.length;
  if (w.length < capacity) {
    out[w.length] = '\0';
    return WEFT_OK;
  }
  return weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                          "weft_tokenizer_chat_format: %zu bytes and a terminator do not fit "
                          "in capacity %zu",
                          w.length, capacity);
}
