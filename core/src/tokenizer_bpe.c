/* Byte-level BPE (tokenizer.ggml.model "gpt2"): pre-tokenizer split, the
 * GPT-2 byte-to-unicode mapping, and merges by rank. Mirrors llama.cpp's
 * unicode_regex_split (digits apart, then its hand-written GPT-2 pattern)
 * and llm_tokenizer_bpe_session so the ids are the same. */
#include <string.h>

#include "tokenizer_impl.h"
#include "util.h"

/* A half-open range of code point indices. */
typedef struct weft_bpe_range_t {
  size_t begin, end;
} weft_bpe_range_t;

typedef struct weft_bpe_ranges_t {
  weft_bpe_range_t* data;
  size_t count, capacity;
} weft_bpe_ranges_t;

static weft_status_t weft_bpe_ranges_push(const weft_tokenizer_t* t, weft_bpe_ranges_t* r,
                                          size_t begin, size_t end) {
  if (end <= begin) {
    return WEFT_OK;
  }
  if (r->count == r->capacity) {
    WEFT_RETURN_IF_ERROR(weft__array_reserve_one(t->allocator, (void**)&r->data, &r->capacity,
                                                 r->count, sizeof(*r->data)));
  }
  r->data[r->count++] = (weft_bpe_range_t){begin, end};
  return WEFT_OK;
}

/* Flags of the code point at pos inside [begin, end); 0 outside, and a
 * VALID bit inside so that "any character" can be told from "none". */
#define WEFT_BPE_VALID (1u << 7)
static uint32_t weft_bpe_flags(const uint32_t* cpts, size_t begin, size_t end, size_t pos) {
  return (pos >= begin && pos < end) ? (weft__unicode_flags(cpts[pos]) | WEFT_BPE_VALID) : 0u;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * over cpts[begin, end). */
static weft_status_t weft_bpe_split_gpt2(const weft_tokenizer_t* t, const uint32_t* cpts,
                                         size_t begin, size_t end, weft_bpe_ranges_t* out) {
  const uint32_t L = WEFT__CPT_LETTER, N = WEFT__CPT_NUMBER, W = WEFT__CPT_WHITESPACE;
  size_t prev = begin;
  size_t pos = begin;
#define WEFT_BPE_CPT(p) (((p) >= begin && (p) < end) ? cpts[(p)] : 0xFFFFFFFFu)
#define WEFT_BPE_EMIT(e)                                           \
  do {                                                             \
    WEFT_RETURN_IF_ERROR(weft_bpe_ranges_push(t, out, prev, (e))); \
    prev = (e);                                                    \
  } while (0)
  while (pos < end) {
    uint32_t cpt = cpts[pos];
    uint32_t flags = weft_bpe_flags(cpts, begin, end, pos);
    if (cpt == '\'' && pos + 1 < end) {
      uint32_t c1 = WEFT_BPE_CPT(pos + 1);
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        WEFT_BPE_EMIT(pos + 2);
        pos += 2;
        continue;
      }
      if (pos + 2 < end) {
        uint32_t c2 = WEFT_BPE_CPT(pos + 2);
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
          WEFT_BPE_EMIT(pos + 3);
          pos += 3;
          continue;
        }
      }
    }
    uint32_t f2 = (cpt == ' ') ? weft_bpe_flags(cpts, begin, end, pos + 1) : flags;
    if (f2 & L) {
      pos += (cpt == ' ');
      while (f2 & L) {
        f2 = weft_bpe_flags(cpts, begin, end, ++pos);
      }
      WEFT_BPE_EMIT(pos);
      continue;
    }
    if (f2 & N) {
      pos += (cpt == ' ');
      while (f2 & N) {
        f2 = weft_bpe_flags(cpts, begin, end, ++pos);
      }
      WEFT_BPE_EMIT(pos);
      continue;
    }
    if (!(f2 & (W | L | N)) && f2) {
      pos += (cpt == ' ');
      while (!(f2 & (W | L | N)) && f2) {
        f2 = weft_bpe_flags(cpts, begin, end, ++pos);
      }
      WEFT_BPE_EMIT(pos);
      continue;
    }
    size_t spaces = 0;
    while (weft_bpe_flags(cpts, begin, end, pos + spaces) & W) {
      ++spaces;
    }
    /* \s+(?!\S): a run followed by more text leaves its last space to it. */
    if (spaces > 1 && pos + spaces < end) {
      pos += spaces - 1;
      WEFT_BPE_EMIT(pos);
      continue;
    }
    if (spaces > 0) {
      pos += spaces;
      WEFT_BPE_EMIT(pos);
      continue;
    }
    ++pos;
    WEFT_BPE_EMIT(pos);
  }
#undef WEFT_BPE_EMIT
#undef WEFT_BPE_CPT
  return WEFT_OK;
}

/* One symbol of a word under merging: bytes [offset, offset + length) of the
 * byte-level word, linked to its live neighbours. */
typedef struct weft_bpe_symbol_t {
  size_t offset;
  size_t length;
  int64_t prev, next;
} weft_bpe_symbol_t;

typedef struct weft_bpe_bigram_t {
  int64_t left, right;
  int32_t rank;
  size_t left_length, right_length;
} weft_bpe_bigram_t;

typedef struct weft_bpe_heap_t {
  weft_bpe_bigram_t* data;
  size_t count, capacity;
} weft_bpe_heap_t;

/* Lowest rank first; equal ranks leftmost first (llama.cpp's comparator). */
static bool weft_bpe_before(const weft_bpe_bigram_t* a, const weft_bpe_bigram_t* b) {
  return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static weft_status_t weft_bpe_heap_push(const weft_tokenizer_t* t, weft_bpe_heap_t* h,
                                        weft_bpe_bigram_t item) {
  if (h->count == h->capacity) {
    WEFT_RETURN_IF_ERROR(weft__array_reserve_one(t->allocator, (void**)&h->data, &h->capacity,
                                                 h->count, sizeof(*h->data)));
  }
  size_t i = h->count++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!weft_bpe_before(&item, &h->data[parent])) {
      break;
    }
    h->data[i] = h->data[parent];
    i = parent;
  }
  h->data[i] = item;
  return WEFT_OK;
}

static weft_bpe_bigram_t weft_bpe_heap_pop(weft_bpe_heap_t* h) {
  weft_bpe_bigram_t top = h->data[0];
  weft_bpe_bigram_t last = h->data[--h->count];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->count) {
      break;
    }
    if (c + 1 < h->count && weft_bpe_before(&h->data[c + 1], &h->data[c])) {
      ++c;
    }
    if (!weft_bpe_before(&h->data[c], &last)) {
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

static weft_status_t weft_bpe_add_bigram(const weft_tokenizer_t* t, const char* word,
                                         const weft_bpe_symbol_t* syms, int64_t left, int64_t right,
                                         weft_bpe_heap_t* heap) {
  if (left < 0 || right < 0) {
    return WEFT_OK;
  }
  const weft_bpe_symbol_t* l = &syms[left];
  const weft_bpe_symbol_t* r = &syms[right];
  int32_t rank =
      weft__tokenizer_merge_rank(t, word + l->offset, l->length, word + r->offset, r->length);
  if (rank < 0) {
    return WEFT_OK;
  }
  return weft_bpe_heap_push(t, heap, (weft_bpe_bigram_t){left, right, rank, l->length, r->length});
}

typedef struct weft_bpe_scratch_t {
  char* word;
  size_t word_capacity;
  weft_bpe_symbol_t* syms;
  size_t syms_capacity;
  weft_bpe_heap_t heap;
} weft_bpe_scratch_t;

static weft_status_t weft_bpe_reserve(const weft_tokenizer_t* t, void** data, size_t* capacity,
                                      size_t needed, size_t element_size, const char* what) {
  if (needed <= *capacity) {
    return WEFT_OK;
  }
  size_t bytes = 0;
  if (weft__mul_overflows(needed, element_size, &bytes)) {
    return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "tokenizer: %s of %zu elements", what,
                            needed);
  }
  void* fresh = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, bytes, what, &fresh));
  weft__free(t->allocator, *data);
  *data = fresh;
  *capacity = needed;
  return WEFT_OK;
}

/* Byte-level encodes cpts[begin, end), merges it, and appends its ids. */
static weft_status_t weft_bpe_word(const weft_tokenizer_t* t, const uint32_t* cpts, size_t begin,
                                   size_t end, weft_bpe_scratch_t* s, weft__ids_t* out) {
  /* Each code point is at most 4 bytes, each byte at most 2 bytes of
   * byte-level text. */
  WEFT_RETURN_IF_ERROR(weft_bpe_reserve(t, (void**)&s->word, &s->word_capacity,
                                        (end - begin) * 8 + 1, 1, "tokenizer word"));
  size_t n = 0;
  for (size_t i = begin; i < end; ++i) {
    char utf8[4];
    size_t u = weft__utf8_encode(cpts[i], utf8);
    for (size_t k = 0; k < u; ++k) {
      n += weft__utf8_encode(weft__byte_to_cpt((uint8_t)utf8[k]), s->word + n);
    }
  }
  const char* word = s->word;
  WEFT_RETURN_IF_ERROR(weft_bpe_reserve(t, (void**)&s->syms, &s->syms_capacity, n + 1,
                                        sizeof(weft_bpe_symbol_t), "tokenizer symbols"));
  size_t count = 0;
  for (size_t off = 0; off < n;) {
    size_t len = weft__utf8_length((uint8_t)word[off]);
    if (len > n - off) {
      len = n - off;
    }
    s->syms[count] =
        (weft_bpe_symbol_t){off, len, (int64_t)count - 1, off + len == n ? -1 : (int64_t)count + 1};
    off += len;
    ++count;
  }
  weft_bpe_symbol_t* syms = s->syms;
  s->heap.count = 0;
  for (size_t i = 1; i < count; ++i) {
    WEFT_RETURN_IF_ERROR(weft_bpe_add_bigram(t, word, syms, (int64_t)i - 1, (int64_t)i, &s->heap));
  }
  while (s->heap.count > 0) {
    weft_bpe_bigram_t b = weft_bpe_heap_pop(&s->heap);
    weft_bpe_symbol_t* l = &syms[b.left];
    weft_bpe_symbol_t* r = &syms[b.right];
    /* Stale when either side has changed since the pair was queued. */
    if (l->length == 0 || r->length == 0 || l->length != b.left_length ||
        r->length != b.right_length) {
      continue;
    }
    l->length += r->length;
    r->length = 0;
    l->next = r->next;
    if (r->next >= 0) {
      syms[r->next].prev = b.left;
    }
    WEFT_RETURN_IF_ERROR(weft_bpe_add_bigram(t, word, syms, l->prev, b.left, &s->heap));
    WEFT_RETURN_IF_ERROR(weft_bpe_add_bigram(t, word, syms, b.left, l->next, &s->heap));
  }
  for (size_t i = 0; i < count; ++i) {
    if (syms[i].length == 0) {
      continue;
    }
    int32_t id = weft__tokenizer_find(t, word + syms[i].offset, syms[i].length);
    if (id >= 0) {
      WEFT_RETURN_IF_ERROR(weft__ids_push(t, out, id));
      continue;
    }
    /* No token for the merged text: its single bytes that are tokens, and
     * nothing for the others (llama.cpp drops them). */
    for (size_t k = 0; k < syms[i].length; ++k) {
      int32_t b = weft__tokenizer_find(t, word + syms[i].offset + k, 1);
      if (b >= 0) {
        WEFT_RETURN_IF_ERROR(weft__ids_push(t, out, b));
      }
    }
  }
  return WEFT_OK;
}

weft_status_t weft__tokenizer_bpe_encode(const weft_tokenizer_t* t, const char* text, size_t length,
                                         weft__ids_t* out) {
  uint32_t* cpts = NULL;
  size_t bytes = 0;
  if (weft__mul_overflows(length + 1, sizeof(uint32_t), &bytes)) {
    return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "tokenizer: text of %zu bytes", length);
  }
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, bytes, "tokenizer code points", (void**)&cpts));
  size_t n = 0;
  for (size_t off = 0; off < length;) {
    cpts[n++] = weft__utf8_decode(text, length, &off);
  }

  weft_bpe_ranges_t stage1 = {NULL, 0, 0};
  weft_bpe_ranges_t words = {NULL, 0, 0};
  weft_bpe_scratch_t scratch;
  memset(&scratch, 0, sizeof(scratch));
  weft_status_t status = WEFT_OK;
  if (t->pre == WEFT__PRE_DIGITS_GPT2) {
    /* \p{N}: each number code point alone, the text between kept whole. */
    size_t prev = 0;
    for (size_t i = 0; i < n && status == WEFT_OK; ++i) {
      if (weft__unicode_flags(cpts[i]) & WEFT__CPT_NUMBER) {
        status = weft_bpe_ranges_push(t, &stage1, prev, i);
        if (status == WEFT_OK) {
          status = weft_bpe_ranges_push(t, &stage1, i, i + 1);
        }
        prev = i + 1;
      }
    }
    if (status == WEFT_OK) {
      status = weft_bpe_ranges_push(t, &stage1, prev, n);
    }
  } else {
    status = weft_bpe_ranges_push(t, &stage1, 0, n);
  }
  for (size_t k = 0; k < stage1.count && status == WEFT_OK; ++k) {
    status = weft_bpe_split_gpt2(t, cpts, stage1.data[k].begin, stage1.data[k].end, &words);
  }
  for (size_t k = 0; k < words.count && status == WEFT_OK; ++k) {
    status = weft_bpe_word(t, cpts, words.data[k].begin, words.data[k].end, &scratch, out);
  }
  weft__free(t->allocator, scratch.word);
  weft__free(t->allocator, scratch.syms);
  weft__free(t->allocator, scratch.heap.data);
  weft__free(t->allocator, stage1.data);
  weft__free(t->allocator, words.data);
  weft__free(t->allocator, cpts);
  return status;
}
