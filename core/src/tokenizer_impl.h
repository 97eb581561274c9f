/* Internal layout of weft_tokenizer_t, shared by tokenizer.c (vocabulary,
 * special tokens, pieces), tokenizer_bpe.c, tokenizer_spm.c,
 * tokenizer_unicode.c and tokenizer_chat.c. */
#ifndef WEFT_CORE_TOKENIZER_IMPL_H_
#define WEFT_CORE_TOKENIZER_IMPL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/tokenizer.h"

/* Token attributes, derived from tokenizer.ggml.token_type (1 normal,
 * 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte). */
enum {
  WEFT__TOKEN_UNKNOWN = 1u << 0,
  WEFT__TOKEN_UNUSED = 1u << 1,
  WEFT__TOKEN_NORMAL = 1u << 2,
  WEFT__TOKEN_CONTROL = 1u << 3,
  WEFT__TOKEN_USER_DEFINED = 1u << 4,
  WEFT__TOKEN_BYTE = 1u << 5,
};

typedef enum weft__tokenizer_kind_t {
  WEFT__TOKENIZER_BPE = 1, /* tokenizer.ggml.model "gpt2" */
  WEFT__TOKENIZER_SPM = 2, /* tokenizer.ggml.model "llama" */
} weft__tokenizer_kind_t;

typedef enum weft__pretokenizer_t {
  WEFT__PRE_NONE = 0,
  WEFT__PRE_GPT2 = 1,        /* the GPT-2 pattern alone */
  WEFT__PRE_DIGITS_GPT2 = 2, /* every \p{N} apart, then the GPT-2 pattern */
} weft__pretokenizer_t;

typedef enum weft__chat_family_t {
  WEFT__CHAT_NONE = 0,
  WEFT__CHAT_CHATML = 1,
  WEFT__CHAT_GEMMA = 2,
} weft__chat_family_t;

typedef struct weft__token_t {
  size_t offset; /* in text_pool */
  uint32_t length;
  float score;
  uint32_t attr;
} weft__token_t;

typedef struct weft__merge_t {
  size_t offset; /* in merge_pool: left bytes then right bytes */
  uint32_t left_length;
  uint32_t right_length;
} weft__merge_t;

/* A growable array of ids through the tokenizer's allocator. */
typedef struct weft__ids_t {
  int32_t* data;
  size_t count;
  size_t capacity;
} weft__ids_t;

struct weft_tokenizer_s {
  weft_allocator_t allocator;
  weft__tokenizer_kind_t kind;
  weft__pretokenizer_t pre;

  uint32_t n_tokens;
  weft__token_t* tokens;
  char* text_pool;
  /* Open addressing, capacity a power of two; slots hold id + 1, 0 empty.
   * A later token with the same text replaces an earlier one (llama.cpp). */
  uint32_t* token_slots;
  size_t token_slot_mask;

  uint32_t n_merges;
  weft__merge_t* merges;
  char* merge_pool;
  uint32_t* merge_slots; /* merge index + 1; the first of equal pairs wins */
  size_t merge_slot_mask;

  int32_t bos, eos, eot, eom, unk;
  bool add_bos, add_eos, add_space_prefix;

  /* Control, unknown and user-defined tokens, longest text first. */
  int32_t* special;
  size_t n_special;
  int32_t* eog; /* sorted */
  size_t n_eog;
  int32_t byte_token[256]; /* SPM byte fallback; -1 where none */

  weft__chat_family_t chat_family;
  char* chat_template;       /* copy of tokenizer.chat_template, or NULL */
  char* chat_default_system; /* ChatML: the template's default system turn */
};

/* ---- tokenizer.c ---- */
/* Id of the token whose text is exactly these bytes, or -1. */
int32_t weft__tokenizer_find(const weft_tokenizer_t* t, const char* text, size_t length);
static inline const char* weft__token_text(const weft_tokenizer_t* t, int32_t id) {
  return t->text_pool + t->tokens[id].offset;
}
weft_status_t weft__ids_push(const weft_tokenizer_t* t, weft__ids_t* ids, int32_t id);

/* ---- tokenizer_bpe.c / tokenizer_spm.c: one fragment of plain text ---- */
/* Rank of the merge (left, right), or -1. */
int32_t weft__tokenizer_merge_rank(const weft_tokenizer_t* t, const char* left, size_t left_length,
                                   const char* right, size_t right_length);
weft_status_t weft__tokenizer_bpe_encode(const weft_tokenizer_t* t, const char* text, size_t length,
                                         weft__ids_t* out);
weft_status_t weft__tokenizer_spm_encode(const weft_tokenizer_t* t, const char* text, size_t length,
                                         weft__ids_t* out);

/* ---- tokenizer_unicode.c ---- */
enum {
  WEFT__CPT_LETTER = 1u << 0,
  WEFT__CPT_NUMBER = 1u << 1,
  WEFT__CPT_WHITESPACE = 1u << 2,
};
uint32_t weft__unicode_flags(uint32_t cpt);
/* Byte length of the UTF-8 sequence that starts with `byte`, from its high
 * bits alone (1 for continuation bytes), as llama.cpp counts. */
size_t weft__utf8_length(uint8_t byte);
/* Decodes one code point at text[*offset]; a malformed sequence consumes
 * one byte and gives U+FFFD. */
uint32_t weft__utf8_decode(const char* text, size_t length, size_t* offset);
/* Encodes `cpt` (U+FFFD past U+10FFFF) into out[0..4); returns the length. */
size_t weft__utf8_encode(uint32_t cpt, char* out);
/* GPT-2 byte-to-unicode table: the code point standing for a byte, and back
 * (-1 for a code point that stands for no byte). */
uint32_t weft__byte_to_cpt(uint8_t byte);
int weft__cpt_to_byte(uint32_t cpt);

/* ---- tokenizer_chat.c ---- */
weft_status_t weft__tokenizer_chat_init(weft_tokenizer_t* t, const char* chat_template,
                                        size_t length);

#endif /* WEFT_CORE_TOKENIZER_IMPL_H_ */
