/* SentencePiece-style tokenization (tokenizer.ggml.model "llama"): the text,
 * spaces already U+2581, starts as one symbol per UTF-8 character, and the
 * adjacent pair whose joined text is the vocabulary token of highest score
 * merges first (leftmost on ties) until no pair is a token. Symbols left
 * outside the vocabulary fall back to byte tokens. As llama.cpp's
 * llm_tokenizer_spm_session. */
#include <string.h>

#include "tokenizer_impl.h"
#include "util.h"

typedef struct weft_spm_symbol_t {
  size_t offset;
  size_t length;
  int64_t prev, next;
} weft_spm_symbol_t;

typedef struct weft_spm_bigram_t {
  int64_t left, right;
  float score;
  size_t size;
} weft_spm_bigram_t;

typedef struct weft_spm_heap_t {
  weft_spm_bigram_t* data;
  size_t count, capacity;
} weft_spm_heap_t;

/* Highest score first; equal scores leftmost first. */
static bool weft_spm_before(const weft_spm_bigram_t* a, const weft_spm_bigram_t* b) {
  return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static weft_status_t weft_spm_heap_push(const weft_tokenizer_t* t, weft_spm_heap_t* h,
                                        weft_spm_bigram_t item) {
  if (h->count == h->capacity) {
    WEFT_RETURN_IF_ERROR(weft__array_reserve_one(t->allocator, (void**)&h->data, &h->capacity,
                                                 h->count, sizeof(*h->data)));
  }
  size_t i = h->count++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!weft_spm_before(&item, &h->data[parent])) {
      break;
    }
    h->data[i] = h->data[parent];
    i = parent;
  }
  h->data[i] = item;
  return WEFT_OK;
}

static weft_spm_bigram_t weft_spm_heap_pop(weft_spm_heap_t* h) {
  weft_spm_bigram_t top = h->data[0];
  weft_spm_bigram_t last = h->data[--h->count];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->count) {
      break;
    }
    if (c + 1 < h->count && weft_spm_before(&h->data[c + 1], &h->data[c])) {
      ++c;
    }
    if (!weft_spm_before(&h->data[c], &last)) {
      break;
    }
    h->data[i] = h->data[c];
    i = c;
  }
  if (h->count > 0) {
    h->data[i] = last;
  }
  return top;
}

static weft_status_t weft_spm_add_bigram(const weft_tokenizer_t* t, const char* text,
                                         const weft_spm_symbol_t* syms, int64_t left, int64_t right,
                                         weft_spm_heap_t* heap) {
  if (left < 0 || right < 0) {
    return WEFT_OK;
  }
  size_t size = syms[left].length + syms[right].length;
  int32_t id = weft__tokenizer_find(t, text + syms[left].offset, size);
  if (id < 0) {
    return WEFT_OK;
  }
  return weft_spm_heap_push(t, heap, (weft_spm_bigram_t){left, right, t->tokens[id].score, size});
}

weft_status_t weft__tokenizer_spm_encode(const weft_tokenizer_t* t, const char* text, size_t length,
                                         weft__ids_t* out) {
  if (length == 0) {
    return WEFT_OK;
  }
  weft_spm_symbol_t* syms = NULL;
  size_t bytes = 0;
  if (weft__mul_overflows(length, sizeof(*syms), &bytes)) {
    return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "tokenizer: text of %zu bytes", length);
  }
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, bytes, "tokenizer symbols", (void**)&syms));
  size_t count = 0;
  for (size_t off = 0; off < length;) {
    size_t len = weft__utf8_length((uint8_t)text[off]);
    if (len > length - off) {
      len = length - off;
    }
    syms[count] = (weft_spm_symbol_t){off, len, (int64_t)count - 1,
                                      off + len == length ? -1 : (int64_t)count + 1};
    off += len;
    ++count;
  }
  weft_spm_heap_t heap = {NULL, 0, 0};
  weft_status_t status = WEFT_OK;
  for (size_t i = 1; i < count && status == WEFT_OK; ++i) {
    status = weft_spm_add_bigram(t, text, syms, (int64_t)i - 1, (int64_t)i, &heap);
  }
  while (status == WEFT_OK && heap.count > 0) {
    weft_spm_bigram_t b = weft_spm_heap_pop(&heap);
    weft_spm_symbol_t* l = &syms[b.left];
    weft_spm_symbol_t* r = &syms[b.right];
    if (l->length == 0 || r->length == 0 || l->length + r->length != b.size) {
      continue; /* one side merged elsewhere since */
    }
    l->length += r->length;
    r->length = 0;
    l->next = r->next;
    if (r->next >= 0) {
      syms[r->next].prev = b.left;
    }
    status = weft_spm_add_bigram(t, text, syms, l->prev, b.left, &heap);
    if (status == WEFT_OK) {
      status = weft_spm_add_bigram(t, text, syms, b.left, l->next, &heap);
    }
  }
  for (int64_t i = 0; status == WEFT_OK && i != -1; i = syms[i].next) {
    const weft_spm_symbol_t* s = &syms[i];
    int32_t id = weft__tokenizer_find(t, text + s->offset, s->length);
    if (id >= 0) {
      status = weft__ids_push(t, out, id);
      continue;
    }
    for (size_t k = 0; k < s->length && status == WEFT_OK; ++k) {
      uint8_t byte = (uint8_t)text[s->offset + k];
      int32_t bid = t->byte_token[byte];
      if (bid < 0) {
        status = weft_status_make(WEFT_STATUS_NOT_FOUND,
                                  "tokenizer: byte 0x%02X has no token (no <0x%02X> in the "
                                  "vocabulary)",
                                  byte, byte);
        break;
      }
      status = weft__ids_push(t, out, bid);
    }
  }
  weft__free(t->allocator, heap.data);
  weft__free(t->allocator, syms);
  return status;
}
