/* weft tokenizer: text to token ids and back, as the model's GGUF describes.
 *
 * Two vocabulary kinds are supported, chosen by tokenizer.ggml.model:
 *   "gpt2"   byte-level BPE (SmolLM2 and relatives): the text is split by the
 *            pre-tokenizer named in tokenizer.ggml.pre ("smollm" and its
 *            relatives split every digit apart, then apply the GPT-2 pattern;
 *            "gpt-2" applies the GPT-2 pattern alone), each piece's bytes are
 *            mapped to printable code points (the GPT-2 byte-to-unicode
 *            table) and pieces are merged by tokenizer.ggml.merges rank.
 *   "llama"  SentencePiece-style (Gemma 3): spaces become U+2581, adjacent
 *            symbols merge greedily by the highest tokenizer.ggml.scores,
 *            and what is left outside the vocabulary falls back to <0xNN>
 *            byte tokens.
 * Results match llama.cpp's tokenizer token for token; tests/tokenizer holds
 * reference tokenizations made with it.
 *
 * Special tokens: tokens of type 3 (control) and 2 (unknown) are recognised
 * in the text only with WEFT_TOKENIZE_PARSE_SPECIAL; tokens of type 4
 * (user-defined) are always recognised, as in the Hugging Face and llama.cpp
 * tokenizers. Longer special tokens are matched first. Tokens that end a
 * generation (weft_tokenizer_is_end_of_generation) count as control tokens
 * whatever their type, as in llama.cpp (Gemma 3's user-defined "</s>" is
 * one).
 *
 * Letters, numbers and white space of the BPE pre-tokenizer are those of
 * Unicode 15.1, the version llama.cpp's tables follow.
 *
 * Errors: INVALID_ARGUMENT for NULL arguments, ids out of range and GGUF keys
 * of the wrong type; NOT_FOUND for a required key that is missing;
 * UNSUPPORTED for a tokenizer model or pre-tokenizer this code does not
 * implement (the name is in the message); DATA_LOSS for vocabularies that
 * contradict themselves (arrays of different lengths, an empty vocabulary);
 * OUT_OF_MEMORY. Special-token ids past the vocabulary are ignored, as
 * llama.cpp ignores them.
 *
 * Thread safety: a tokenizer is immutable after creation; every function but
 * create and destroy may be called from any number of threads at once. */
#ifndef WEFT_TOKENIZER_H_
#define WEFT_TOKENIZER_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/allocator.h"
#include "weft/export.h"
#include "weft/gguf.h"
#include "weft/status.h"

WEFT_EXTERN_C_BEGIN

typedef struct weft_tokenizer_s weft_tokenizer_t;

/* Reads tokenizer.ggml.* (tokens, token_type, scores, merges, model, pre,
 * bos/eos/eot/unknown ids, add_bos_token, add_eos_token, add_space_prefix)
 * and tokenizer.chat_template from an open GGUF. Everything kept is copied:
 * the gguf may be destroyed right after. Memory comes from `allocator`,
 * which must outlive the tokenizer. On failure *out_tokenizer is untouched.
 * Errors: see the top of this header. */
WEFT_API weft_status_t weft_tokenizer_create_from_gguf(const weft_gguf_t* gguf,
                                                       weft_allocator_t allocator,
                                                       weft_tokenizer_t** out_tokenizer);

/* Frees the tokenizer. NULL is a no-op. */
WEFT_API void weft_tokenizer_destroy(weft_tokenizer_t* tokenizer);

/* BOS first (and EOS last) when the GGUF's add_bos_token / add_eos_token say
 * so (defaults as llama.cpp: SentencePiece adds BOS, BPE does not). */
#define WEFT_TOKENIZE_ADD_SPECIAL (1u << 0)
/* Text of control tokens ("<|im_start|>", "<start_of_turn>") becomes that
 * token; without it such text is tokenized as ordinary text. */
#define WEFT_TOKENIZE_PARSE_SPECIAL (1u << 1)

/* Tokenizes `length` bytes at `text` (any bytes; need not be terminated;
 * NULL only with length 0) into out_ids[0 .. *out_count). When `capacity` is
 * too small, returns OUT_OF_RANGE with *out_count set to the number needed
 * (out_ids then holds the first `capacity` ids); out_ids may be NULL with
 * capacity 0 to ask for the count. Scratch memory comes from the
 * tokenizer's allocator. Errors: INVALID_ARGUMENT (NULL, unknown flags),
 * OUT_OF_RANGE (capacity), OUT_OF_MEMORY, NOT_FOUND (SentencePiece: a byte
 * outside the vocabulary with no <0xNN> token), DATA_LOSS (ADD_SPECIAL when
 * the GGUF asks for a BOS or EOS it does not have).
 * Byte-level BPE drops bytes that no token covers, as llama.cpp does;
 * malformed UTF-8 is read as U+FFFD there. */
WEFT_API weft_status_t weft_tokenizer_encode(const weft_tokenizer_t* t, const char* text,
                                             size_t length, uint32_t flags, int32_t* out_ids,
                                             size_t capacity, size_t* out_count);

/* The bytes of token `id` into out[0 .. *out_length) (not terminated):
 * byte-level BPE tokens decoded to raw bytes, SentencePiece U+2581 turned to a
 * space and <0xNN> to that byte, user-defined tokens as written. Control and
 * unknown tokens give their text only with `render_special`, otherwise
 * nothing (length 0); unused and undefined tokens give nothing. A piece is a
 * fragment of UTF-8 and may end inside a character: concatenate pieces
 * before displaying them. When `capacity` is short, returns OUT_OF_RANGE
 * with *out_length set to the length needed. Errors: INVALID_ARGUMENT
 * (NULL, id outside [0, vocab_size)), OUT_OF_RANGE. */
WEFT_API weft_status_t weft_tokenizer_token_to_piece(const weft_tokenizer_t* t, int32_t id,
                                                     bool render_special, char* out,
                                                     size_t capacity, size_t* out_length);

/* Number of tokens in the vocabulary; 0 for NULL. */
WEFT_API uint32_t weft_tokenizer_vocab_size(const weft_tokenizer_t* t);
/* Beginning- and end-of-sequence ids; -1 if the vocabulary has none. */
WEFT_API int32_t weft_tokenizer_bos(const weft_tokenizer_t* t);
WEFT_API int32_t weft_tokenizer_eos(const weft_tokenizer_t* t);
/* True for every token that ends a generation: EOS, the end-of-turn token,
 * and the tokens llama.cpp recognises by their text ("<|im_end|>",
 * "<end_of_turn>", "<|endoftext|>", "<|eot_id|>" ...). */
WEFT_API bool weft_tokenizer_is_end_of_generation(const weft_tokenizer_t* t, int32_t id);

/* One chat message; both strings NUL-terminated and borrowed. */
typedef struct weft_chat_message_t {
  const char* role; /* "system", "user", "assistant" */
  const char* content;
} weft_chat_message_t;

/* Formats `messages` with the model's chat template into out[0 ..
 * *out_length) and terminates it when room is left (capacity must exceed
 * the length for the terminator; *out_length never counts it). The template
 * family is recognised from tokenizer.chat_template, or, when the GGUF has
 * none, from the vocabulary's turn tokens:
 *   ChatML  "<|im_start|>role\ncontent<|im_end|>\n" per message; when the
 *           template supplies a default system message for conversations
 *           that lack one (SmolLM2's does), it is put first.
 *   Gemma   "<start_of_turn>user\n...<end_of_turn>\n", "assistant" written as
 *           "model", system messages folded into the next user turn followed
 *           by a blank line, contents trimmed of surrounding whitespace; BOS
 *           is not written (the tokenizer adds it).
 * With add_generation_prompt the assistant's turn is opened at the end
 * ("<|im_start|>assistant\n" or "<start_of_turn>model\n").
 * Errors: INVALID_ARGUMENT (NULL arguments or fields), UNSUPPORTED naming the
 * template when it is neither family, OUT_OF_RANGE with *out_length set to
 * the length needed when capacity is short. */
WEFT_API weft_status_t weft_tokenizer_chat_format(const weft_tokenizer_t* t,
                                                  const weft_chat_message_t* messages, size_t count,
                                                  bool add_generation_prompt, char* out,
                                                  size_t capacity, size_t* out_length);

WEFT_EXTERN_C_END

#endif /* WEFT_TOKENIZER_H_ */
