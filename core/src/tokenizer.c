/* The tokenizer's vocabulary (from tokenizer.ggml.*), special-token
 * splitting, encode dispatch and token pieces. Behaviour follows llama.cpp's
 * llama-vocab so that ids match it exactly; the notes below say where that
 * matters. */
#include "weft/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"
#include "util.h"

/* ---- hashing ---- */

static uint64_t weft_tokenizer_hash(const char* text, size_t length, uint64_t h) {
  const uint8_t* s = (const uint8_t*)text;
  for (size_t i = 0; i < length; ++i) {
    h ^= s[i];
    h *= 0x100000001B3ull; /* FNV-1a */
  }
  return h;
}

#define WEFT_TOKENIZER_FNV_BASIS 0xCBF29CE484222325ull

static size_t weft_tokenizer_slot_count(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) {
    cap *= 2;
  }
  return cap;
}

int32_t weft__tokenizer_find(const weft_tokenizer_t* t, const char* text, size_t length) {
  size_t i =
      (size_t)weft_tokenizer_hash(text, length, WEFT_TOKENIZER_FNV_BASIS) & t->token_slot_mask;
  for (;;) {
    uint32_t slot = t->token_slots[i];
    if (slot == 0) {
      return -1;
    }
    const weft__token_t* tok = &t->tokens[slot - 1];
    if (tok->length == length && memcmp(t->text_pool + tok->offset, text, length) == 0) {
      return (int32_t)(slot - 1);
    }
    i = (i + 1) & t->token_slot_mask;
  }
}

static uint64_t weft_tokenizer_pair_hash(const char* left, size_t left_length, const char* right,
                                         size_t right_length) {
  uint64_t h = weft_tokenizer_hash(left, left_length, WEFT_TOKENIZER_FNV_BASIS);
  h ^= 0x1FFu; /* separates ("ab", "c") from ("a", "bc") */
  h *= 0x100000001B3ull;
  return weft_tokenizer_hash(right, right_length, h);
}

int32_t weft__tokenizer_merge_rank(const weft_tokenizer_t* t, const char* left, size_t left_length,
                                   const char* right, size_t right_length) {
  if (t->merge_slots == NULL) {
    return -1;
  }
  size_t i =
      (size_t)weft_tokenizer_pair_hash(left, left_length, right, right_length) & t->merge_slot_mask;
  for (;;) {
    uint32_t slot = t->merge_slots[i];
    if (slot == 0) {
      return -1;
    }
    const weft__merge_t* m = &t->merges[slot - 1];
    const char* mt = t->merge_pool + m->offset;
    if (m->left_length == left_length && m->right_length == right_length &&
        memcmp(mt, left, left_length) == 0 && memcmp(mt + left_length, right, right_length) == 0) {
      return (int32_t)(slot - 1);
    }
    i = (i + 1) & t->merge_slot_mask;
  }
}

weft_status_t weft__ids_push(const weft_tokenizer_t* t, weft__ids_t* ids, int32_t id) {
  if (ids->count == ids->capacity) {
    WEFT_RETURN_IF_ERROR(weft__array_reserve_one(t->allocator, (void**)&ids->data, &ids->capacity,
                                                 ids->count, sizeof(int32_t)));
  }
  ids->data[ids->count++] = id;
  return WEFT_OK;
}

/* ---- creation ---- */

static weft_status_t weft_tokenizer_get_id(const weft_gguf_t* gguf, const char* key,
                                           uint32_t n_tokens, int32_t* inout_id) {
  if (!weft_gguf_kv_has(gguf, key)) {
    return WEFT_OK;
  }
  uint32_t id = 0;
  weft_status_t status = weft_gguf_get_u32(gguf, key, &id);
  if (status != WEFT_OK) {
    /* Some converters write ids as int32. */
    int32_t sid = 0;
    weft_status_t status2 = weft_gguf_get_i32(gguf, key, &sid);
    if (status2 != WEFT_OK) {
      weft_status_free(status2);
      return status;
    }
    weft_status_free(status);
    id = (uint32_t)sid;
  }
  /* llama.cpp keeps its default for an id past the vocabulary. */
  if (id < n_tokens) {
    *inout_id = (int32_t)id;
  }
  return WEFT_OK;
}

static weft_status_t weft_tokenizer_get_flag(const weft_gguf_t* gguf, const char* key,
                                             bool* inout_value) {
  if (!weft_gguf_kv_has(gguf, key)) {
    return WEFT_OK;
  }
  return weft_gguf_get_bool(gguf, key, inout_value);
}

static bool weft_tokenizer_string_is(weft_gguf_string_t s, const char* text) {
  size_t n = strlen(text);
  return s.size == n && memcmp(s.data, text, n) == 0;
}

/* Token texts that end a generation, as llama.cpp lists them
 * (llama-vocab.cpp, special_eog_ids). The list is matched on text alone:
 * "</s>" (for PaddleOCR) therefore also ends Gemma 3's generations and turns
 * its user-defined "</s>" into a control token, and weft does the same so
 * that both agree token for token. */
static const char* const weft_tokenizer_eog_texts[] = {
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "<|flush|>",
    "<|calls|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "[EOS]",
    "<|end_of_text|>",
    "<end_of_utterance>",
    "<eos>",
    "<turn|>",
    "<|tool_response>",
};
/* The end-of-turn token when the GGUF does not name one (first match). */
static const char* const weft_tokenizer_eot_texts[] = {
    "<|eot_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>",      "<|endoftext|>",
    "<|end_of_text|>", "<EOT>",      "_<EOT>",  "<end_of_utterance>",
};
/* Fill-in-the-middle padding, repository and file-separator tokens, which
 * llama.cpp also counts as ends of generation. */
static const char* const weft_tokenizer_fim_texts[] = {
    "<|fim_pad|>",   "<fim-pad>",  "<fim_pad>", "<PAD>",      "<|fim_repo|>",
    "<|repo_name|>", "<fim-repo>", "<REPO>",    "<reponame>", "<|file_sep|>",
};

static int weft_tokenizer_compare_id(const void* a, const void* b) {
  int32_t x = *(const int32_t*)a, y = *(const int32_t*)b;
  return (x > y) - (x < y);
}

static int weft_tokenizer_compare_key(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return (x > y) - (x < y);
}

/* Longest text first, equal lengths by id, so the order is reproducible
 * (llama.cpp sorts by length alone with an unstable sort). */
static weft_status_t weft_tokenizer_sort_special(weft_tokenizer_t* t) {
  size_t n = t->n_special;
  uint64_t* keys = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, (n + 1) * sizeof(uint64_t),
                                   "tokenizer special sort keys", (void**)&keys));
  for (size_t i = 0; i < n; ++i) {
    int32_t id = t->special[i];
    keys[i] = ((uint64_t)(UINT32_MAX - t->tokens[id].length) << 32) | (uint32_t)id;
  }
  qsort(keys, n, sizeof(uint64_t), weft_tokenizer_compare_key);
  for (size_t i = 0; i < n; ++i) {
    t->special[i] = (int32_t)(keys[i] & 0xFFFFFFFFu);
  }
  weft__free(t->allocator, keys);
  return WEFT_OK;
}

static weft_status_t weft_tokenizer_load_vocab(weft_tokenizer_t* t, const weft_gguf_t* gguf) {
  weft_gguf_array_t tokens;
  WEFT_RETURN_IF_ERROR(
      weft_gguf_get_array(gguf, "tokenizer.ggml.tokens", WEFT_GGUF_TYPE_STRING, &tokens));
  if (tokens.count == 0 || tokens.count > INT32_MAX) {
    return weft_status_make(WEFT_STATUS_DATA_LOSS,
                            "tokenizer.ggml.tokens: %llu tokens; expected 1..%d",
                            (unsigned long long)tokens.count, INT32_MAX);
  }
  uint32_t n = (uint32_t)tokens.count;
  t->n_tokens = n;

  size_t pool = 0;
  for (uint32_t i = 0; i < n; ++i) {
    weft_gguf_string_t s;
    WEFT_RETURN_IF_ERROR(weft_gguf_array_get_string(&tokens, i, &s));
    if (s.size > UINT32_MAX / 2) {
      return weft_status_make(WEFT_STATUS_DATA_LOSS,
                              "tokenizer.ggml.tokens: token %u is %llu bytes long", i,
                              (unsigned long long)s.size);
    }
    /* llama.cpp names an empty token "[EMPTY_<id>]". */
    pool += (s.size == 0 ? 24 : (size_t)s.size) + 1;
  }
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, pool, "tokenizer text", (void**)&t->text_pool));
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, (size_t)n * sizeof(weft__token_t),
                                   "tokenizer tokens", (void**)&t->tokens));

  float* scores = NULL;
  int32_t* types = NULL;
  weft_status_t status = WEFT_OK;
  weft_gguf_array_t arr;
  if (weft_gguf_kv_has(gguf, "tokenizer.ggml.scores")) {
    status = weft_gguf_get_array(gguf, "tokenizer.ggml.scores", WEFT_GGUF_TYPE_FLOAT32, &arr);
    if (status == WEFT_OK && arr.count != n) {
      status = weft_status_make(WEFT_STATUS_DATA_LOSS,
                                "tokenizer.ggml.scores has %llu entries for %u tokens",
                                (unsigned long long)arr.count, n);
    }
    if (status == WEFT_OK) {
      status =
          weft__alloc(t->allocator, (size_t)n * sizeof(float), "tokenizer scores", (void**)&scores);
    }
    if (status == WEFT_OK) {
      status = weft_gguf_array_read(&arr, 0, n, scores, (uint64_t)n * sizeof(float));
    }
  }
  if (status == WEFT_OK && weft_gguf_kv_has(gguf, "tokenizer.ggml.token_type")) {
    status = weft_gguf_get_array(gguf, "tokenizer.ggml.token_type", WEFT_GGUF_TYPE_INT32, &arr);
    if (status == WEFT_OK && arr.count != n) {
      status = weft_status_make(WEFT_STATUS_DATA_LOSS,
                                "tokenizer.ggml.token_type has %llu entries for %u tokens",
                                (unsigned long long)arr.count, n);
    }
    if (status == WEFT_OK) {
      status =
          weft__alloc(t->allocator, (size_t)n * sizeof(int32_t), "tokenizer types", (void**)&types);
    }
    if (status == WEFT_OK) {
      status = weft_gguf_array_read(&arr, 0, n, types, (uint64_t)n * sizeof(int32_t));
    }
  }

  size_t at = 0;
  for (uint32_t i = 0; status == WEFT_OK && i < n; ++i) {
    weft_gguf_string_t s;
    status = weft_gguf_array_get_string(&tokens, i, &s);
    if (status != WEFT_OK) {
      break;
    }
    weft__token_t* tok = &t->tokens[i];
    tok->offset = at;
    if (s.size == 0) {
      int w = snprintf(t->text_pool + at, 24, "[EMPTY_%u]", i);
      tok->length = (uint32_t)w;
    } else {
      memcpy(t->text_pool + at, s.data, (size_t)s.size);
      tok->length = (uint32_t)s.size;
    }
    t->text_pool[at + tok->length] = '\0';
    at += tok->length + 1;
    tok->score = scores ? scores[i] : 0.0f;
    switch (types ? types[i] : 1) {
      case 1:
        tok->attr = WEFT__TOKEN_NORMAL;
        break;
      case 2:
        tok->attr = WEFT__TOKEN_UNKNOWN;
        break;
      case 3:
        tok->attr = WEFT__TOKEN_CONTROL;
        break;
      case 4:
        tok->attr = WEFT__TOKEN_USER_DEFINED;
        break;
      case 5:
        tok->attr = WEFT__TOKEN_UNUSED;
        break;
      case 6:
        tok->attr = WEFT__TOKEN_BYTE;
        break;
      default:
        tok->attr = 0;
        break;
    }
  }
  weft__free(t->allocator, scores);
  weft__free(t->allocator, types);
  WEFT_RETURN_IF_ERROR(status);

  size_t slots = weft_tokenizer_slot_count(n);
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, slots * sizeof(uint32_t), "tokenizer token index",
                                   (void**)&t->token_slots));
  t->token_slot_mask = slots - 1;
  for (uint32_t id = 0; id < n; ++id) {
    const weft__token_t* tok = &t->tokens[id];
    size_t i = (size_t)weft_tokenizer_hash(t->text_pool + tok->offset, tok->length,
                                           WEFT_TOKENIZER_FNV_BASIS) &
               t->token_slot_mask;
    for (;;) {
      uint32_t slot = t->token_slots[i];
      if (slot == 0) {
        t->token_slots[i] = id + 1;
        break;
      }
      const weft__token_t* other = &t->tokens[slot - 1];
      if (other->length == tok->length &&
          memcmp(t->text_pool + other->offset, t->text_pool + tok->offset, tok->length) == 0) {
        t->token_slots[i] = id + 1; /* the later token wins, as in llama.cpp */
        break;
      }
      i = (i + 1) & t->token_slot_mask;
    }
  }
  return WEFT_OK;
}

static weft_status_t weft_tokenizer_load_merges(weft_tokenizer_t* t, const weft_gguf_t* gguf) {
  weft_gguf_array_t merges;
  WEFT_RETURN_IF_ERROR(
      weft_gguf_get_array(gguf, "tokenizer.ggml.merges", WEFT_GGUF_TYPE_STRING, &merges));
  if (merges.count > INT32_MAX) {
    return weft_status_make(WEFT_STATUS_DATA_LOSS, "tokenizer.ggml.merges: %llu merges",
                            (unsigned long long)merges.count);
  }
  uint32_t n = (uint32_t)merges.count;
  size_t pool = 0;
  for (uint32_t i = 0; i < n; ++i) {
    weft_gguf_string_t s;
    WEFT_RETURN_IF_ERROR(weft_gguf_array_get_string(&merges, i, &s));
    if (s.size > UINT32_MAX / 2) {
      return weft_status_make(WEFT_STATUS_DATA_LOSS,
                              "tokenizer.ggml.merges: merge %u is %llu bytes long", i,
                              (unsigned long long)s.size);
    }
    pool += (size_t)s.size;
  }
  t->n_merges = n;
  WEFT_RETURN_IF_ERROR(
      weft__alloc(t->allocator, pool + 1, "tokenizer merge text", (void**)&t->merge_pool));
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, ((size_t)n + 1) * sizeof(weft__merge_t),
                                   "tokenizer merges", (void**)&t->merges));
  size_t slots = weft_tokenizer_slot_count(n);
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, slots * sizeof(uint32_t), "tokenizer merge index",
                                   (void**)&t->merge_slots));
  t->merge_slot_mask = slots - 1;
  size_t at = 0;
  for (uint32_t r = 0; r < n; ++r) {
    weft_gguf_string_t s;
    WEFT_RETURN_IF_ERROR(weft_gguf_array_get_string(&merges, r, &s));
    /* "left right", split at the first space after the first byte, as
     * llama.cpp does; a merge without one can never apply. */
    size_t sp = 0;
    for (size_t k = 1; k < s.size; ++k) {
      if (s.data[k] == ' ') {
        sp = k;
        break;
      }
    }
    if (sp == 0) {
      continue;
    }
    weft__merge_t* m = &t->merges[r];
    m->offset = at;
    m->left_length = (uint32_t)sp;
    m->right_length = (uint32_t)(s.size - sp - 1);
    memcpy(t->merge_pool + at, s.data, sp);
    memcpy(t->merge_pool + at + sp, s.data + sp + 1, m->right_length);
    at += sp + m->right_length;
    const char* mt = t->merge_pool + m->offset;
    size_t i =
        (size_t)weft_tokenizer_pair_hash(mt, m->left_length, mt + m->left_length, m->right_length) &
        t->merge_slot_mask;
    for (;;) {
      uint32_t slot = t->merge_slots[i];
      if (slot == 0) {
        t->merge_slots[i] = r + 1;
        break;
      }
      const weft__merge_t* o = &t->merges[slot - 1];
      if (o->left_length == m->left_length && o->right_length == m->right_length &&
          memcmp(t->merge_pool + o->offset, mt, m->left_length + m->right_length) == 0) {
        break; /* the first (lowest rank) wins */
      }
      i = (i + 1) & t->merge_slot_mask;
    }
  }
  return WEFT_OK;
}

static weft_status_t weft_tokenizer_load_specials(weft_tokenizer_t* t, const weft_gguf_t* gguf) {
  t->bos = t->eos = t->eot = t->eom = t->unk = -1;
  if (t->kind == WEFT__TOKENIZER_SPM) {
    /* llama.cpp's defaults for "llama" vocabularies. */
    t->unk = 0;
    t->bos = t->n_tokens > 1 ? 1 : -1;
    t->eos = t->n_tokens > 2 ? 2 : -1;
    t->add_bos = true;
    t->add_space_prefix = true;
  } else {
    t->bos = t->eos = t->n_tokens > 11 ? 11 : -1;
  }
  WEFT_RETURN_IF_ERROR(
      weft_tokenizer_get_id(gguf, "tokenizer.ggml.bos_token_id", t->n_tokens, &t->bos));
  WEFT_RETURN_IF_ERROR(
      weft_tokenizer_get_id(gguf, "tokenizer.ggml.eos_token_id", t->n_tokens, &t->eos));
  WEFT_RETURN_IF_ERROR(
      weft_tokenizer_get_id(gguf, "tokenizer.ggml.eot_token_id", t->n_tokens, &t->eot));
  WEFT_RETURN_IF_ERROR(
      weft_tokenizer_get_id(gguf, "tokenizer.ggml.eom_token_id", t->n_tokens, &t->eom));
  WEFT_RETURN_IF_ERROR(
      weft_tokenizer_get_id(gguf, "tokenizer.ggml.unknown_token_id", t->n_tokens, &t->unk));
  WEFT_RETURN_IF_ERROR(weft_tokenizer_get_flag(gguf, "tokenizer.ggml.add_bos_token", &t->add_bos));
  WEFT_RETURN_IF_ERROR(weft_tokenizer_get_flag(gguf, "tokenizer.ggml.add_eos_token", &t->add_eos));
  WEFT_RETURN_IF_ERROR(
      weft_tokenizer_get_flag(gguf, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix));

  if (t->eot < 0) {
    for (size_t k = 0;
         k < sizeof(weft_tokenizer_eot_texts) / sizeof(weft_tokenizer_eot_texts[0]) && t->eot < 0;
         ++k) {
      const char* s = weft_tokenizer_eot_texts[k];
      t->eot = weft__tokenizer_find(t, s, strlen(s));
    }
  }

  /* End-of-generation tokens; llama.cpp makes each a control token. */
  const size_t n_eog_texts = sizeof(weft_tokenizer_eog_texts) / sizeof(weft_tokenizer_eog_texts[0]);
  const size_t n_fim_texts = sizeof(weft_tokenizer_fim_texts) / sizeof(weft_tokenizer_fim_texts[0]);
  int32_t candidates[sizeof(weft_tokenizer_eog_texts) / sizeof(weft_tokenizer_eog_texts[0]) +
                     sizeof(weft_tokenizer_fim_texts) / sizeof(weft_tokenizer_fim_texts[0]) + 6];
  size_t nc = 0;
  int32_t slash_s = -1;
  bool tool_response = false;
  for (size_t k = 0; k < n_eog_texts + n_fim_texts; ++k) {
    const char* s =
        k < n_eog_texts ? weft_tokenizer_eog_texts[k] : weft_tokenizer_fim_texts[k - n_eog_texts];
    int32_t id = weft__tokenizer_find(t, s, strlen(s));
    if (id >= 0) {
      t->tokens[id].attr |= WEFT__TOKEN_CONTROL;
      candidates[nc++] = id;
      slash_s = strcmp(s, "</s>") == 0 ? id : slash_s;
      tool_response = tool_response || strcmp(s, "<|tool_response>") == 0;
    }
  }
  /* llama.cpp takes "</s>" back out where "<|tool_response>" is present
   * (Gemma 4, whose "</s>" is text). */
  if (tool_response && slash_s >= 0) {
    for (size_t k = 0; k < nc; ++k) {
      candidates[k] = candidates[k] == slash_s ? -1 : candidates[k];
    }
  }
  if (t->eot >= 0) {
    t->tokens[t->eot].attr |= WEFT__TOKEN_CONTROL;
  }
  int32_t fim[3] = {-1, -1, -1};
  WEFT_RETURN_IF_ERROR(
      weft_tokenizer_get_id(gguf, "tokenizer.ggml.fim_pad_token_id", t->n_tokens, &fim[0]));
  WEFT_RETURN_IF_ERROR(
      weft_tokenizer_get_id(gguf, "tokenizer.ggml.fim_rep_token_id", t->n_tokens, &fim[1]));
  WEFT_RETURN_IF_ERROR(
      weft_tokenizer_get_id(gguf, "tokenizer.ggml.fim_sep_token_id", t->n_tokens, &fim[2]));
  for (int k = 0; k < 3; ++k) {
    candidates[nc++] = fim[k];
  }
  candidates[nc++] = t->eos;
  candidates[nc++] = t->eot;
  candidates[nc++] = t->eom;
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, nc * sizeof(int32_t),
                                   "tokenizer end-of-generation ids", (void**)&t->eog));
  qsort(candidates, nc, sizeof(int32_t), weft_tokenizer_compare_id);
  for (size_t k = 0; k < nc; ++k) {
    if (candidates[k] >= 0 && (t->n_eog == 0 || t->eog[t->n_eog - 1] != candidates[k])) {
      t->eog[t->n_eog++] = candidates[k];
    }
  }

  /* Tokens matched in the text before tokenization. */
  size_t n_special = 0;
  for (uint32_t id = 0; id < t->n_tokens; ++id) {
    if (t->tokens[id].attr &
        (WEFT__TOKEN_CONTROL | WEFT__TOKEN_USER_DEFINED | WEFT__TOKEN_UNKNOWN)) {
      ++n_special;
    }
  }
  WEFT_RETURN_IF_ERROR(weft__alloc(t->allocator, (n_special + 1) * sizeof(int32_t),
                                   "tokenizer special ids", (void**)&t->special));
  for (uint32_t id = 0; id < t->n_tokens; ++id) {
    if (t->tokens[id].attr &
        (WEFT__TOKEN_CONTROL | WEFT__TOKEN_USER_DEFINED | WEFT__TOKEN_UNKNOWN)) {
      t->special[t->n_special++] = (int32_t)id;
    }
  }
  WEFT_RETURN_IF_ERROR(weft_tokenizer_sort_special(t));

  /* SentencePiece byte fallback: "<0xNN>", else the byte itself as a token. */
  for (int b = 0; b < 256; ++b) {
    char name[8];
    snprintf(name, sizeof(name), "<0x%02X>", b);
    int32_t id = weft__tokenizer_find(t, name, 6);
    if (id < 0) {
      char c = (char)b;
      id = weft__tokenizer_find(t, &c, 1);
    }
    t->byte_token[b] = id;
  }
  return WEFT_OK;
}

weft_status_t weft_tokenizer_create_from_gguf(const weft_gguf_t* gguf, weft_allocator_t allocator,
                                              weft_tokenizer_t** out_tokenizer) {
  if (gguf == NULL || out_tokenizer == NULL || allocator.alloc == NULL || allocator.free == NULL) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_tokenizer_create_from_gguf: NULL gguf, allocator or "
                            "out_tokenizer");
  }
  weft_gguf_string_t model;
  WEFT_RETURN_IF_ERROR(weft_gguf_get_string(gguf, "tokenizer.ggml.model", &model));
  weft__tokenizer_kind_t kind;
  if (weft_tokenizer_string_is(model, "gpt2")) {
    kind = WEFT__TOKENIZER_BPE;
  } else if (weft_tokenizer_string_is(model, "llama")) {
    kind = WEFT__TOKENIZER_SPM;
  } else {
    return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                            "tokenizer.ggml.model '%.*s' is not supported; 'gpt2' (byte-level "
                            "BPE) and 'llama' (SentencePiece) are",
                            (int)(model.size > 64 ? 64 : model.size), model.data);
  }
  weft__pretokenizer_t pre = WEFT__PRE_NONE;
  if (kind == WEFT__TOKENIZER_BPE) {
    weft_gguf_string_t name = {"default", 7};
    if (weft_gguf_kv_has(gguf, "tokenizer.ggml.pre")) {
      WEFT_RETURN_IF_ERROR(weft_gguf_get_string(gguf, "tokenizer.ggml.pre", &name));
    }
    /* llama.cpp gives these the same two patterns: every \p{N} alone, then
     * the GPT-2 pattern. */
    static const char* const digit_family[] = {"smollm",    "starcoder", "refact", "command-r",
                                               "codeshell", "exaone",    "minerva"};
    for (size_t k = 0; k < sizeof(digit_family) / sizeof(digit_family[0]); ++k) {
      if (weft_tokenizer_string_is(name, digit_family[k])) {
        pre = WEFT__PRE_DIGITS_GPT2;
      }
    }
    if (weft_tokenizer_string_is(name, "gpt-2") || weft_tokenizer_string_is(name, "gpt2")) {
      pre = WEFT__PRE_GPT2;
    }
    if (pre == WEFT__PRE_NONE) {
      return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                              "tokenizer.ggml.pre '%.*s' is not supported; 'smollm', "
                              "'starcoder', 'refact', 'command-r', 'codeshell', 'exaone', "
                              "'minerva' and 'gpt-2' are",
                              (int)(name.size > 64 ? 64 : name.size), name.data);
    }
  }

  weft_tokenizer_t* t = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(allocator, sizeof(*t), "tokenizer", (void**)&t));
  t->allocator = allocator;
  t->kind = kind;
  t->pre = pre;
  weft_status_t status = weft_tokenizer_load_vocab(t, gguf);
  if (status == WEFT_OK && kind == WEFT__TOKENIZER_BPE) {
    status = weft_tokenizer_load_merges(t, gguf);
  }
  if (status == WEFT_OK) {
    status = weft_tokenizer_load_specials(t, gguf);
  }
  if (status == WEFT_OK) {
    weft_gguf_string_t tmpl = {NULL, 0};
    if (weft_gguf_kv_has(gguf, "tokenizer.chat_template")) {
      status = weft_gguf_get_string(gguf, "tokenizer.chat_template", &tmpl);
    }
    if (status == WEFT_OK) {
      status = weft__tokenizer_chat_init(t, tmpl.data, (size_t)tmpl.size);
    }
  }
  if (status != WEFT_OK) {
    weft_tokenizer_destroy(t);
    return weft_status_annotate(status, "tokenizer");
  }
  *out_tokenizer = t;
  return WEFT_OK;
}

void weft_tokenizer_destroy(weft_tokenizer_t* t) {
  if (t == NULL) {
    return;
  }
  weft_allocator_t a = t->allocator;
  weft__free(a, t->tokens);
  weft__free(a, t->text_pool);
  weft__free(a, t->token_slots);
  weft__free(a, t->merges);
  weft__free(a, t->merge_pool);
  weft__free(a, t->merge_slots);
  weft__free(a, t->special);
  weft__free(a, t->eog);
  weft__free(a, t->chat_template);
  weft__free(a, t->chat_default_system);
  weft__free(a, t);
}

/* ---- encoding ---- */

/* A piece of the input: plain text [offset, offset + length), or a token
 * found by the special-token split (token >= 0). */
typedef struct weft_tokenizer_fragment_t {
  int32_t token;
  size_t offset;
  size_t length;
} weft_tokenizer_fragment_t;

typedef struct weft_tokenizer_fragments_t {
  weft_tokenizer_fragment_t* data;
  size_t count;
  size_t capacity;
} weft_tokenizer_fragments_t;

static weft_status_t weft_tokenizer_fragments_push(const weft_tokenizer_t* t,
                                                   weft_tokenizer_fragments_t* f, int32_t token,
                                                   size_t offset, size_t length) {
  if (f->count == f->capacity) {
    WEFT_RETURN_IF_ERROR(weft__array_reserve_one(t->allocator, (void**)&f->data, &f->capacity,
                                                 f->count, sizeof(*f->data)));
  }
  f->data[f->count++] = (weft_tokenizer_fragment_t){token, offset, length};
  return WEFT_OK;
}

static const char* weft_tokenizer_memmem(const char* hay, size_t hay_length, const char* needle,
                                         size_t needle_length) {
  if (needle_length > hay_length) {
    return NULL;
  }
  const char* end = hay + (hay_length - needle_length);
  for (const char* p = hay; p <= end;) {
    const char* q = memchr(p, needle[0], (size_t)(end - p) + 1);
    if (q == NULL) {
      return NULL;
    }
    if (memcmp(q, needle, needle_length) == 0) {
      return q;
    }
    p = q + 1;
  }
  return NULL;
}

/* Splits plain-text fragments at every occurrence of each special token, one
 * token at a time, longest first (llama.cpp tokenizer_st_partition). */
static weft_status_t weft_tokenizer_split_special(const weft_tokenizer_t* t, const char* text,
                                                  bool parse_special,
                                                  weft_tokenizer_fragments_t* frags) {
  bool present[256] = {false};
  for (size_t i = 0; i < frags->data[0].length; ++i) {
    present[(uint8_t)text[i]] = true;
  }
  weft_tokenizer_fragments_t next = {NULL, 0, 0};
  weft_status_t status = WEFT_OK;
  for (size_t s = 0; s < t->n_special && status == WEFT_OK; ++s) {
    int32_t id = t->special[s];
    const weft__token_t* tok = &t->tokens[id];
    if (!parse_special && (tok->attr & (WEFT__TOKEN_CONTROL | WEFT__TOKEN_UNKNOWN))) {
      continue;
    }
    const char* needle = t->text_pool + tok->offset;
    if (tok->length == 0 || !present[(uint8_t)needle[0]]) {
      continue;
    }
    /* Find the first fragment with a match before copying anything. */
    size_t first = frags->count;
    for (size_t k = 0; k < frags->count; ++k) {
      const weft_tokenizer_fragment_t* f = &frags->data[k];
      if (f->token < 0 &&
          weft_tokenizer_memmem(text + f->offset, f->length, needle, tok->length) != NULL) {
        first = k;
        break;
      }
    }
    if (first == frags->count) {
      continue;
    }
    next.count = 0;
    for (size_t k = 0; k < frags->count && status == WEFT_OK; ++k) {
      weft_tokenizer_fragment_t f = frags->data[k];
      if (k < first || f.token >= 0) {
        status = weft_tokenizer_fragments_push(t, &next, f.token, f.offset, f.length);
        continue;
      }
      size_t off = f.offset, len = f.length;
      while (status == WEFT_OK && len > 0) {
        const char* m = weft_tokenizer_memmem(text + off, len, needle, tok->length);
        if (m == NULL) {
          status = weft_tokenizer_fragments_push(t, &next, -1, off, len);
          break;
        }
        size_t at = (size_t)(m - text);
        if (at > off) {
          status = weft_tokenizer_fragments_push(t, &next, -1, off, at - off);
        }
        if (status == WEFT_OK) {
          status = weft_tokenizer_fragments_push(t, &next, id, at, tok->length);
        }
        len -= at + tok->length - off;
        off = at + tok->length;
      }
    }
    weft_tokenizer_fragments_t swap = *frags;
    *frags = next;
    next = swap;
  }
  weft__free(t->allocator, next.data);
  return status;
}

static weft_status_t weft_tokenizer_encode_fragments(const weft_tokenizer_t* t, const char* text,
                                                     const weft_tokenizer_fragments_t* frags,
                                                     bool add_special, weft__ids_t* ids) {
  if (add_special && t->add_bos) {
    if (t->bos < 0) {
      return weft_status_make(WEFT_STATUS_DATA_LOSS,
                              "tokenizer: add_bos_token is set but the vocabulary has no BOS");
    }
    WEFT_RETURN_IF_ERROR(weft__ids_push(t, ids, t->bos));
  }
  if (t->kind == WEFT__TOKENIZER_SPM) {
    bool prev_special = true;
    char* buf = NULL;
    size_t buf_cap = 0;
    weft_status_t status = WEFT_OK;
    for (size_t k = 0; k < frags->count && status == WEFT_OK; ++k) {
      const weft_tokenizer_fragment_t* f = &frags->data[k];
      if (f->token >= 0) {
        status = weft__ids_push(t, ids, f->token);
        prev_special = true;
        continue;
      }
      /* Spaces become U+2581 (3 bytes), plus the optional leading space. */
      size_t need = 0;
      if (__builtin_mul_overflow(f->length + 1, (size_t)3, &need)) {
        status = weft_status_make(WEFT_STATUS_OUT_OF_MEMORY,
                                  "tokenizer: text of %zu bytes is too long", f->length);
        break;
      }
      if (need > buf_cap) {
        weft__free(t->allocator, buf);
        buf = NULL;
        buf_cap = 0;
        status = weft__alloc(t->allocator, need, "tokenizer scratch text", (void**)&buf);
        if (status != WEFT_OK) {
          break;
        }
        buf_cap = need;
      }
      size_t n = 0;
      const char* src = text + f->offset;
      if (t->add_space_prefix && prev_special) {
        memcpy(buf + n, "\xE2\x96\x81", 3);
        n += 3;
      }
      for (size_t i = 0; i < f->length; ++i) {
        if (src[i] == ' ') {
          memcpy(buf + n, "\xE2\x96\x81", 3);
          n += 3;
        } else {
          buf[n++] = src[i];
        }
      }
      status = weft__tokenizer_spm_encode(t, buf, n, ids);
      prev_special = false;
    }
    weft__free(t->allocator, buf);
    WEFT_RETURN_IF_ERROR(status);
  } else {
    for (size_t k = 0; k < frags->count; ++k) {
      const weft_tokenizer_fragment_t* f = &frags->data[k];
      if (f->token >= 0) {
        WEFT_RETURN_IF_ERROR(weft__ids_push(t, ids, f->token));
      } else {
        WEFT_RETURN_IF_ERROR(weft__tokenizer_bpe_encode(t, text + f->offset, f->length, ids));
      }
    }
  }
  if (add_special && t->add_eos) {
    if (t->eos < 0) {
      return weft_status_make(WEFT_STATUS_DATA_LOSS,
                              "tokenizer: add_eos_token is set but the vocabulary has no EOS");
    }
    WEFT_RETURN_IF_ERROR(weft__ids_push(t, ids, t->eos));
  }
  return WEFT_OK;
}

weft_status_t weft_tokenizer_encode(const weft_tokenizer_t* t, const char* text, size_t length,
                                    uint32_t flags, int32_t* out_ids, size_t capacity,
                                    size_t* out_count) {
  if (t == NULL || out_count == NULL || (text == NULL && length > 0) ||
      (out_ids == NULL && capacity > 0)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_tokenizer_encode: NULL tokenizer, text, out_ids or out_count");
  }
  if (flags & ~(WEFT_TOKENIZE_ADD_SPECIAL | WEFT_TOKENIZE_PARSE_SPECIAL)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_tokenizer_encode: unknown flags 0x%x", flags);
  }
  weft_tokenizer_fragments_t frags = {NULL, 0, 0};
  weft__ids_t ids = {NULL, 0, 0};
  weft_status_t status = WEFT_OK;
  if (length > 0) {
    status = weft_tokenizer_fragments_push(t, &frags, -1, 0, length);
    if (status == WEFT_OK) {
      status =
          weft_tokenizer_split_special(t, text, (flags & WEFT_TOKENIZE_PARSE_SPECIAL) != 0, &frags);
    }
  }
  if (status == WEFT_OK) {
    status = weft_tokenizer_encode_fragments(t, text, &frags,
                                             (flags & WEFT_TOKENIZE_ADD_SPECIAL) != 0, &ids);
  }
  if (status == WEFT_OK) {
    size_t n = ids.count < capacity ? ids.count : capacity;
    if (n > 0) {
      memcpy(out_ids, ids.data, n * sizeof(int32_t));
    }
    *out_count = ids.count;
    if (ids.count > capacity) {
      status = weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                                "weft_tokenizer_encode: %zu ids do not fit in capacity %zu",
                                ids.count, capacity);
    }
  }
  weft__free(t->allocator, frags.data);
  weft__free(t->allocator, ids.data);
  return status;
}

/* ---- pieces ---- */

static weft_status_t weft_tokenizer_piece_put(char* out, size_t capacity, size_t* at,
                                              const char* bytes, size_t n) {
  if (*at + n <= capacity) {
    memcpy(out + *at, bytes, n);
  }
  *at += n;
  return WEFT_OK;
}

weft_status_t weft_tokenizer_token_to_piece(const weft_tokenizer_t* t, int32_t id,
                                            bool render_special, char* out, size_t capacity,
                                            size_t* out_length) {
  if (t == NULL || out_length == NULL || (out == NULL && capacity > 0)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_tokenizer_token_to_piece: NULL tokenizer, out or out_length");
  }
  if (id < 0 || (uint32_t)id >= t->n_tokens) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_tokenizer_token_to_piece: id %d is outside the vocabulary "
                            "[0, %u)",
                            id, t->n_tokens);
  }
  const weft__token_t* tok = &t->tokens[id];
  const char* text = t->text_pool + tok->offset;
  size_t n = 0;
  const uint32_t special = WEFT__TOKEN_UNKNOWN | WEFT__TOKEN_CONTROL;
  if ((tok->attr & special) && !render_special) {
    /* nothing */
  } else if (tok->attr & (special | WEFT__TOKEN_USER_DEFINED)) {
    weft_tokenizer_piece_put(out, capacity, &n, text, tok->length);
  } else if (t->kind == WEFT__TOKENIZER_SPM) {
    if (tok->attr & WEFT__TOKEN_NORMAL) {
      for (size_t i = 0; i < tok->length;) {
        if (i + 3 <= tok->length && memcmp(text + i, "\xE2\x96\x81", 3) == 0) {
          weft_tokenizer_piece_put(out, capacity, &n, " ", 1);
          i += 3;
        } else {
          weft_tokenizer_piece_put(out, capacity, &n, text + i, 1);
          i += 1;
        }
      }
    } else if ((tok->attr & WEFT__TOKEN_BYTE) && tok->length >= 5) {
      /* "<0xNN>" */
      char hex[3] = {text[3], text[4], '\0'};
      char byte = (char)strtol(hex, NULL, 16);
      weft_tokenizer_piece_put(out, capacity, &n, &byte, 1);
    }
  } else if (tok->attr & WEFT__TOKEN_NORMAL) {
    /* Byte-level text back to bytes; a code point outside the table is
     * written as llama.cpp does: "[UNK_BYTE_0x<utf-8 hex><token text>]". */
    for (size_t i = 0; i < tok->length;) {
      uint32_t cpt = weft__utf8_decode(text, tok->length, &i);
      int b = weft__cpt_to_byte(cpt);
      if (b >= 0) {
        char c = (char)b;
        weft_tokenizer_piece_put(out, capacity, &n, &c, 1);
      } else {
        char utf8[4];
        size_t u = weft__utf8_encode(cpt, utf8);
        weft_tokenizer_piece_put(out, capacity, &n, "[UNK_BYTE_0x", 12);
        for (size_t k = 0; k < u; ++k) {
          char hex[3];
          snprintf(hex, sizeof(hex), "%02x", (uint8_t)utf8[k]);
          weft_tokenizer_piece_put(out, capacity, &n, hex, 2);
        }
        weft_tokenizer_piece_put(out, capacity, &n, text, tok->length);
        weft_tokenizer_piece_put(out, capacity, &n, "]", 1);
      }
    }
  }
  *out_length = n;
  if (n > capacity) {
    return weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                            "weft_tokenizer_token_to_piece: token %d needs %zu bytes, capacity "
                            "is %zu",
                            id, n, capacity);
  }
  return WEFT_OK;
}

uint32_t weft_tokenizer_vocab_size(const weft_tokenizer_t* t) { return t ? t->n_tokens : 0; }
int32_t weft_tokenizer_bos(const weft_tokenizer_t* t) { return t ? t->bos : -1; }
int32_t weft_tokenizer_eos(const weft_tokenizer_t* t) { return t ? t->eos : -1; }

bool weft_tokenizer_is_end_of_generation(const weft_tokenizer_t* t, int32_t id) {
  if (t == NULL || id < 0) {
    return false;
  }
  for (size_t k = 0; k < t->n_eog; ++k) {
    if (t->eog[k] == id) {
      return true;
    }
  }
  return false;
}
