/* Tokenizer tests: small vocabularies built here (byte-level BPE and
 * SentencePiece) whose results are worked out by hand, chat formatting, and
 * the two real models against llama.cpp's tokenization of the same texts
 * (reference.txt, written by make_reference.py). The real-model tests are
 * skipped, with the reason, when the GGUF files are not on this machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gguf_builder.h"
#include "testing/test_allocator.h"
#include "weft/gguf.h"
#include "weft/tokenizer.h"

#define ARRAY_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void expect_ok(weft_status_t status) {
  if (status != WEFT_OK) {
    fail_msg("unexpected status %s: %s", weft_status_code_name(weft_status_code(status)),
             weft_status_message(status));
  }
}

static void expect_code(weft_status_t status, weft_status_code_t code) {
  if (weft_status_code(status) != code) {
    fail_msg("expected %s, got %s: %s", weft_status_code_name(code),
             weft_status_code_name(weft_status_code(status)), weft_status_message(status));
  }
  weft_status_free(status);
}

/* ---- a GGUF holding only a tokenizer ---- */

typedef struct vocab_t {
  const char* model;
  const char* pre;
  const char* const* tokens;
  const int32_t* types;
  const float* scores;
  size_t n_tokens;
  const char* const* merges;
  size_t n_merges;
  int32_t bos, eos; /* -1: key absent */
  int add_bos;      /* -1: key absent */
  const char* chat_template;
} vocab_t;

static void build_file(const vocab_t* v, gguf_bytes_t* file) {
  gguf_builder_t b;
  gguf_builder_init(&b, 3);
  gguf_kv_string(&b, "tokenizer.ggml.model", v->model, strlen(v->model));
  if (v->pre) {
    gguf_kv_string(&b, "tokenizer.ggml.pre", v->pre, strlen(v->pre));
  }
  gguf_kv_string_array(&b, "tokenizer.ggml.tokens", v->n_tokens, v->tokens, NULL);
  gguf_kv_array(&b, "tokenizer.ggml.token_type", 5 /* int32 */, 4, v->n_tokens, v->types);
  if (v->scores) {
    gguf_kv_array(&b, "tokenizer.ggml.scores", 6 /* float32 */, 4, v->n_tokens, v->scores);
  }
  if (v->merges) {
    gguf_kv_string_array(&b, "tokenizer.ggml.merges", v->n_merges, v->merges, NULL);
  }
  if (v->bos >= 0) {
    gguf_kv_u32(&b, "tokenizer.ggml.bos_token_id", (uint32_t)v->bos);
  }
  if (v->eos >= 0) {
    gguf_kv_u32(&b, "tokenizer.ggml.eos_token_id", (uint32_t)v->eos);
  }
  if (v->add_bos >= 0) {
    gguf_kv_bool(&b, "tokenizer.ggml.add_bos_token", v->add_bos != 0);
  }
  gguf_kv_bool(&b, "tokenizer.ggml.add_space_prefix", false);
  if (v->chat_template) {
    gguf_kv_string(&b, "tokenizer.chat_template", v->chat_template, strlen(v->chat_template));
  }
  memset(file, 0, sizeof(*file));
  gguf_builder_finish(&b, false, file);
  gguf_builder_free(&b);
}

static weft_tokenizer_t* build(const vocab_t* v, gguf_bytes_t* file) {
  build_file(v, file);
  weft_gguf_t* gguf = NULL;
  expect_ok(weft_gguf_create_from_memory(file->data, file->size, weft_allocator_system(), &gguf));
  weft_tokenizer_t* t = NULL;
  weft_status_t status = weft_tokenizer_create_from_gguf(gguf, weft_allocator_system(), &t);
  weft_gguf_destroy(gguf); /* the tokenizer keeps copies */
  expect_ok(status);
  return t;
}

static void expect_ids(const weft_tokenizer_t* t, const char* text, uint32_t flags,
                       const int32_t* ids, size_t count) {
  int32_t got[256];
  size_t n = 0;
  expect_ok(weft_tokenizer_encode(t, text, strlen(text), flags, got, ARRAY_COUNT(got), &n));
  if (n != count || (count > 0 && memcmp(got, ids, count * sizeof(int32_t)) != 0)) {
    char buf[1024];
    size_t at = 0;
    for (size_t i = 0; i < n && at < sizeof(buf) - 16; ++i) {
      at += (size_t)snprintf(buf + at, sizeof(buf) - at, " %d", got[i]);
    }
    buf[at] = '\0';
    fail_msg("'%s' (flags %u): got %zu ids [%s ], expected %zu", text, flags, n, buf, count);
  }
}

static void expect_decoded(const weft_tokenizer_t* t, const int32_t* ids, size_t count,
                           bool special, const char* expected, size_t expected_length) {
  char out[4096];
  size_t at = 0;
  for (size_t i = 0; i < count; ++i) {
    size_t n = 0;
    expect_ok(weft_tokenizer_token_to_piece(t, ids[i], special, out + at, sizeof(out) - at, &n));
    at += n;
  }
  assert_int_equal(at, expected_length);
  assert_memory_equal(out, expected, expected_length);
}

/* ---- synthetic byte-level BPE ---- */

/* "Ġ" is U+0120, the byte-level stand-in for a space. */
static const char* const bpe_tokens[] = {
    "<|endoftext|>",
    "a",
    "b",
    "c",
    "\xC4\xA0",
    "ab",
    "abc",
    "\xC4\240a",
    "\xC4\240ab",
    "1",
    "2",
    "<|im_start|>",
    "<|im_end|>",
    "<user>",
    "\xC3\x83\xC2\xA9",
    "\xC4\xA0\xC4\xA0",
};
static const int32_t bpe_types[] = {3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 4, 1, 1};
static const char* const bpe_merges[] = {
    "a b", "ab c", "\xC4\xA0 a", "\xC4\240a b", "\xC4\xA0 \xC4\xA0", "\xC3\x83 \xC2\xA9"};

static vocab_t bpe_vocab(void) {
  vocab_t v = {"gpt2",
               "smollm",
               bpe_tokens,
               bpe_types,
               NULL,
               ARRAY_COUNT(bpe_tokens),
               bpe_merges,
               ARRAY_COUNT(bpe_merges),
               0,
               0,
               0,
               "{% for message in messages %}{% if loop.first and messages[0]['role'] != "
               "'system' %}{{ '<|im_start|>system\\nDefault.<|im_end|>\\n' }}{% endif %}"
               "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
               "'<|im_end|>' + '\\n'}}{% endfor %}"};
  return v;
}

static void bpe_merges_by_rank(void** state) {
  (void)state;
  gguf_bytes_t file;
  vocab_t v = bpe_vocab();
  weft_tokenizer_t* t = build(&v, &file);
  assert_int_equal(weft_tokenizer_vocab_size(t), ARRAY_COUNT(bpe_tokens));
  /* "abc": a b c -> ab c -> abc. " ab": "a b" (rank 0) wins over "Ġ a"
   * (rank 2), and "Ġ ab" is no merge. " abab": both "a b" merge, left
   * first. " 12": digits apart, the space alone. */
  const int32_t abc[] = {6, 4, 5, 4, 5, 5, 4, 9, 10};
  expect_ids(t, "abc ab abab 12", 0, abc, ARRAY_COUNT(abc));
  /* " a": "Ġ a" (rank 2) alone applies. */
  const int32_t ga[] = {7};
  expect_ids(t, " a", 0, ga, ARRAY_COUNT(ga));
  weft_tokenizer_destroy(t);
  gguf_bytes_free(&file);
}

static void bpe_decode_and_specials(void** state) {
  (void)state;
  gguf_bytes_t file;
  vocab_t v = bpe_vocab();
  weft_tokenizer_t* t = build(&v, &file);
  /* Control tokens only with PARSE_SPECIAL; user-defined always. */
  const int32_t parsed[] = {11, 5, 12};
  expect_ids(t, "<|im_start|>ab<|im_end|>", WEFT_TOKENIZE_PARSE_SPECIAL, parsed,
             ARRAY_COUNT(parsed));
  const int32_t user[] = {5, 13, 5};
  expect_ids(t, "ab<user>ab", 0, user, ARRAY_COUNT(user));
  /* "é" is the byte-level token "Ã©" (bytes C3 A9 as U+00C3 U+00A9); "x"
   * has no token and is dropped, as llama.cpp does. */
  const int32_t accent[] = {14};
  expect_ids(t, "\xC3\xA9x", 0, accent, ARRAY_COUNT(accent));
  /* Runs of spaces leave the last one to the word that follows. */
  const int32_t spaces[] = {15, 4, 5};
  expect_ids(t, "   ab", 0, spaces, ARRAY_COUNT(spaces));
  /* Pieces: byte-level text back to bytes; control tokens only when asked. */
  const int32_t ids[] = {11, 8, 14, 12, 13};
  expect_decoded(t, ids, ARRAY_COUNT(ids), false, " ab\xC3\xA9<user>", 11);
  expect_decoded(t, ids, ARRAY_COUNT(ids), true, "<|im_start|> ab\xC3\xA9<|im_end|><user>", 33);
  assert_true(weft_tokenizer_is_end_of_generation(t, 0));  /* eos */
  assert_true(weft_tokenizer_is_end_of_generation(t, 12)); /* <|im_end|> */
  assert_false(weft_tokenizer_is_end_of_generation(t, 11));
  assert_int_equal(weft_tokenizer_bos(t), 0);
  /* ADD_SPECIAL adds nothing: add_bos_token is false. */
  const int32_t plain[] = {5};
  expect_ids(t, "ab", WEFT_TOKENIZE_ADD_SPECIAL, plain, 1);
  weft_tokenizer_destroy(t);
  gguf_bytes_free(&file);
}

static void encode_capacity_and_arguments(void** state) {
  (void)state;
  gguf_bytes_t file;
  vocab_t v = bpe_vocab();
  weft_tokenizer_t* t = build(&v, &file);
  size_t n = 0;
  expect_code(weft_tokenizer_encode(t, "abc ab", 6, 0, NULL, 0, &n), WEFT_STATUS_OUT_OF_RANGE);
  assert_int_equal(n, 3);
  int32_t two[2] = {-1, -1};
  expect_code(weft_tokenizer_encode(t, "abc ab", 6, 0, two, 2, &n), WEFT_STATUS_OUT_OF_RANGE);
  assert_int_equal(n, 3);
  assert_int_equal(two[0], 6);
  expect_ok(weft_tokenizer_encode(t, NULL, 0, 0, NULL, 0, &n));
  assert_int_equal(n, 0);
  expect_code(weft_tokenizer_encode(t, "a", 1, 1u << 7, two, 2, &n), WEFT_STATUS_INVALID_ARGUMENT);
  expect_code(weft_tokenizer_encode(NULL, "a", 1, 0, two, 2, &n), WEFT_STATUS_INVALID_ARGUMENT);
  char piece[4];
  expect_code(weft_tokenizer_token_to_piece(t, 99, false, piece, sizeof(piece), &n),
              WEFT_STATUS_INVALID_ARGUMENT);
  expect_code(weft_tokenizer_token_to_piece(t, 0, true, piece, sizeof(piece), &n),
              WEFT_STATUS_OUT_OF_RANGE);
  assert_int_equal(n, 13);
  weft_tokenizer_destroy(t);
  weft_tokenizer_destroy(NULL);
  gguf_bytes_free(&file);
}

static void unsupported_models(void** state) {
  (void)state;
  const char* const tokens[] = {"a"};
  const int32_t types[] = {1};
  const char* models[][2] = {{"bert", NULL}, {"gpt2", "qwen2"}};
  for (size_t k = 0; k < ARRAY_COUNT(models); ++k) {
    gguf_builder_t b;
    gguf_builder_init(&b, 3);
    gguf_kv_string(&b, "tokenizer.ggml.model", models[k][0], strlen(models[k][0]));
    if (models[k][1]) {
      gguf_kv_string(&b, "tokenizer.ggml.pre", models[k][1], strlen(models[k][1]));
    }
    gguf_kv_string_array(&b, "tokenizer.ggml.tokens", 1, tokens, NULL);
    gguf_kv_array(&b, "tokenizer.ggml.token_type", 5, 4, 1, types);
    gguf_bytes_t file = {0};
    gguf_builder_finish(&b, false, &file);
    gguf_builder_free(&b);
    weft_gguf_t* gguf = NULL;
    expect_ok(weft_gguf_create_from_memory(file.data, file.size, weft_allocator_system(), &gguf));
    weft_tokenizer_t* t = NULL;
    weft_status_t status = weft_tokenizer_create_from_gguf(gguf, weft_allocator_system(), &t);
    const char* name = models[k][1] ? models[k][1] : models[k][0];
    assert_non_null(strstr(weft_status_message(status), name));
    expect_code(status, WEFT_STATUS_UNSUPPORTED);
    assert_null(t);
    weft_gguf_destroy(gguf);
    gguf_bytes_free(&file);
  }
}

/* Every allocation of create and encode failing in turn: OUT_OF_MEMORY,
 * nothing leaked, and success once the failure is past. */
static void allocation_failures(void** state) {
  (void)state;
  gguf_bytes_t file;
  vocab_t v = bpe_vocab();
  build_file(&v, &file);
  weft_gguf_t* gguf = NULL;
  expect_ok(weft_gguf_create_from_memory(file.data, file.size, weft_allocator_system(), &gguf));
  weft_test_allocator_t ta;
  assert_true(weft_test_allocator_init(&ta));
  weft_allocator_t a = weft_test_allocator_get(&ta);
  size_t failures = 0;
  weft_tokenizer_t* t = NULL;
  for (uint64_t i = 0;; ++i) {
    weft_test_allocator_fail_after(&ta, i);
    weft_status_t status = weft_tokenizer_create_from_gguf(gguf, a, &t);
    if (!weft_test_allocator_stats(&ta).failure_hit) {
      expect_ok(status);
      break;
    }
    expect_code(status, WEFT_STATUS_OUT_OF_MEMORY);
    assert_null(t);
    assert_int_equal(weft_test_allocator_stats(&ta).live_count, 0);
    ++failures;
  }
  assert_true(failures > 5);
  const char* text = "<|im_start|>abc ab   abab 12 \xC3\xA9<user>";
  const int32_t want[] = {11, 6, 4, 5, 15, 4, 5, 5, 4, 9, 10, 4, 14, 13};
  uint64_t live = weft_test_allocator_stats(&ta).live_count;
  for (uint64_t i = 0;; ++i) {
    int32_t ids[32];
    size_t n = 0;
    weft_test_allocator_fail_after(&ta, i);
    weft_status_t status =
        weft_tokenizer_encode(t, text, strlen(text), WEFT_TOKENIZE_PARSE_SPECIAL, ids, 32, &n);
    assert_int_equal(weft_test_allocator_stats(&ta).live_count, live);
    if (!weft_test_allocator_stats(&ta).failure_hit) {
      expect_ok(status);
      assert_int_equal(n, ARRAY_COUNT(want));
      assert_memory_equal(ids, want, sizeof(want));
      break;
    }
    expect_code(status, WEFT_STATUS_OUT_OF_MEMORY);
  }
  weft_test_allocator_fail_at(&ta, WEFT_TEST_ALLOCATOR_NEVER);
  weft_tokenizer_destroy(t);
  assert_int_equal(weft_test_allocator_stats(&ta).live_count, 0);
  assert_int_equal(weft_test_allocator_stats(&ta).foreign_frees, 0);
  weft_test_allocator_deinit(&ta);
  weft_gguf_destroy(gguf);
  gguf_bytes_free(&file);
}

/* ---- synthetic SentencePiece ---- */

static void spm_scores_and_byte_fallback(void** state) {
  (void)state;
  enum { N = 3 + 256 + 6 };
  static char names[256][8];
  const char* tokens[N];
  int32_t types[N];
  float scores[N];
  tokens[0] = "<unk>", types[0] = 2, scores[0] = 0;
  tokens[1] = "<s>", types[1] = 3, scores[1] = 0;
  tokens[2] = "</s>", types[2] = 3, scores[2] = 0;
  for (int i = 0; i < 256; ++i) {
    snprintf(names[i], sizeof(names[i]), "<0x%02X>", i);
    tokens[3 + i] = names[i], types[3 + i] = 6, scores[3 + i] = 0;
  }
  const char* normal[] = {"\xE2\x96\x81", "a", "b", "\xE2\x96\201a", "ab", "\xE2\x96\201ab"};
  const float normal_scores[] = {-1.0f, -2.0f, -2.0f, -1.5f, -0.5f, -0.2f};
  for (int i = 0; i < 6; ++i) {
    tokens[259 + i] = normal[i], types[259 + i] = 1, scores[259 + i] = normal_scores[i];
  }
  vocab_t v = {"llama", NULL, tokens, types, scores, N,
               NULL,    0,    1,      2,     1,      "{{ '<start_of_turn>' }}"};
  gguf_bytes_t file;
  weft_tokenizer_t* t = build(&v, &file);
  /* "ab▁ab": both "ab" (-0.5) merge, left first, then "▁ab" (-0.2); the
   * earlier "▁a" (-1.5) pair is stale by then. */
  const int32_t ab[] = {1, 263, 264};
  expect_ids(t, "ab ab", WEFT_TOKENIZE_ADD_SPECIAL, ab, ARRAY_COUNT(ab));
  /* "é" is not in the vocabulary: its bytes. */
  const int32_t accent[] = {263, 3 + 0xC3, 3 + 0xA9};
  expect_ids(t, "ab\xC3\xA9", 0, accent, ARRAY_COUNT(accent));
  expect_decoded(t, accent, ARRAY_COUNT(accent), false, "ab\xC3\xA9", 4);
  const int32_t parsed[] = {1, 263, 2};
  expect_ids(t, "<s>ab</s>", WEFT_TOKENIZE_PARSE_SPECIAL, parsed, ARRAY_COUNT(parsed));
  expect_decoded(t, ab, ARRAY_COUNT(ab), false, "ab ab", 5);
  expect_decoded(t, ab, ARRAY_COUNT(ab), true, "<s>ab ab", 8);
  assert_int_equal(weft_tokenizer_bos(t), 1);
  assert_int_equal(weft_tokenizer_eos(t), 2);
  assert_true(weft_tokenizer_is_end_of_generation(t, 2));
  weft_tokenizer_destroy(t);
  gguf_bytes_free(&file);
}

/* ---- chat formatting ---- */

static void expect_chat(const weft_tokenizer_t* t, const weft_chat_message_t* m, size_t count,
                        bool add, const char* expected) {
  char out[2048];
  size_t n = 0;
  expect_ok(weft_tokenizer_chat_format(t, m, count, add, out, sizeof(out), &n));
  assert_int_equal(n, strlen(expected));
  assert_string_equal(out, expected);
  size_t need = 0;
  expect_code(weft_tokenizer_chat_format(t, m, count, add, out, n, &need),
              WEFT_STATUS_OUT_OF_RANGE);
  assert_int_equal(need, n);
}

static const weft_chat_message_t chat_system_user[] = {
    {"system", "You are a helpful AI assistant named SmolLM, trained by Hugging Face"},
    {"user", "What is the boiling point of water at sea level in degrees Celsius?"},
};

static void chat_chatml_synthetic(void** state) {
  (void)state;
  gguf_bytes_t file;
  vocab_t v = bpe_vocab();
  weft_tokenizer_t* t = build(&v, &file);
  const weft_chat_message_t user[] = {{"user", "Hi"}};
  /* The template's default system turn comes first when there is none. */
  expect_chat(t, user, 1, true,
              "<|im_start|>system\nDefault.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\n");
  const weft_chat_message_t both[] = {{"system", "S"}, {"user", "Hi"}, {"assistant", "Yo"}};
  expect_chat(t, both, 3, false,
              "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\nYo<|im_end|>\n");
  weft_tokenizer_destroy(t);
  gguf_bytes_free(&file);
}

static void chat_unsupported_template(void** state) {
  (void)state;
  gguf_bytes_t file;
  vocab_t v = bpe_vocab();
  v.chat_template = "[INST] {{ messages }} [/INST]";
  weft_tokenizer_t* t = build(&v, &file);
  const weft_chat_message_t user[] = {{"user", "Hi"}};
  char out[64];
  size_t n = 0;
  weft_status_t status = weft_tokenizer_chat_format(t, user, 1, true, out, sizeof(out), &n);
  assert_non_null(strstr(weft_status_message(status), "[INST]"));
  expect_code(status, WEFT_STATUS_UNSUPPORTED);
  weft_tokenizer_destroy(t);
  gguf_bytes_free(&file);
}

/* ---- the real models against llama.cpp ---- */

typedef struct model_t {
  const char* name; /* as in reference.txt */
  const char* env;
  const char* file;
} model_t;

static const model_t smollm2 = {"smollm2", "WEFT_MODEL_SMOLLM2", "SmolLM2-135M-Instruct.Q4_1.gguf"};
static const model_t gemma3 = {"gemma3", "WEFT_MODEL_GEMMA3", "gemma-3-270m-q4_k_m.gguf"};

static bool file_exists(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f) {
    fclose(f);
  }
  return f != NULL;
}

/* The model from $<env>, the weft cache or /tmp/models; NULL if none. */
static bool find_model(const model_t* m, char* path, size_t cap) {
  const char* env = getenv(m->env);
  if (env && *env) {
    snprintf(path, cap, "%s", env);
    return file_exists(path);
  }
  const char* xdg = getenv("XDG_CACHE_HOME");
  const char* home = getenv("HOME");
  if (xdg && *xdg) {
    snprintf(path, cap, "%s/weft/models/%s", xdg, m->file);
  } else {
    snprintf(path, cap, "%s/.cache/weft/models/%s", home ? home : "", m->file);
  }
  if (file_exists(path)) {
    return true;
  }
  snprintf(path, cap, "/tmp/models/%s", m->file);
  return file_exists(path);
}

static weft_tokenizer_t* open_model(const model_t* m) {
  char path[4096];
  if (!find_model(m, path, sizeof(path))) {
    return NULL;
  }
  weft_gguf_t* gguf = NULL;
  expect_ok(weft_gguf_create_from_file(path, weft_allocator_system(), &gguf));
  weft_tokenizer_t* t = NULL;
  weft_status_t status = weft_tokenizer_create_from_gguf(gguf, weft_allocator_system(), &t);
  weft_gguf_destroy(gguf);
  expect_ok(status);
  return t;
}

static weft_tokenizer_t* open_model_or_skip(const model_t* m) {
  weft_tokenizer_t* t = open_model(m);
  if (t == NULL) {
    print_message("%s: the GGUF %s is not at $%s, in the weft cache or in /tmp/models; "
                  "skipped\n",
                  m->name, m->file, m->env);
    skip();
  }
  return t;
}

static size_t unhex(const char* hex, char* out, size_t cap) {
  size_t n = 0;
  while (hex[0] && hex[1] && hex[0] != '\n' && n < cap) {
    unsigned v = 0;
    sscanf(hex, "%2x", &v);
    out[n++] = (char)v;
    hex += 2;
  }
  return n;
}

static char* read_line(FILE* f) {
  static char line[1 << 16];
  if (!fgets(line, sizeof(line), f)) {
    return NULL;
  }
  size_t n = strlen(line);
  if (n > 0 && line[n - 1] == '\n') {
    line[n - 1] = '\0';
  }
  return line;
}

static void check_against_reference(const model_t* m) {
  weft_tokenizer_t* t = open_model_or_skip(m);
  FILE* f = fopen(WEFT_TOKENIZER_REFERENCE, "r");
  assert_non_null(f);
  static char text[1 << 15], pieces[1 << 15], pieces_special[1 << 15], out[1 << 15];
  static int32_t ref[1 << 13], got[1 << 13];
  size_t text_length = 0, pieces_length = 0, special_length = 0, n_ref = 0;
  char name[128] = "";
  unsigned flags = 0;
  int roundtrip = 0;
  bool in_model = false;
  size_t cases = 0, roundtrips = 0;
  /* Whether ADD_SPECIAL puts a BOS first: the empty text says. */
  int32_t bos_probe[4];
  size_t adds_bos = 0;
  expect_ok(weft_tokenizer_encode(t, "", 0, WEFT_TOKENIZE_ADD_SPECIAL, bos_probe, 4, &adds_bos));
  adds_bos = (adds_bos > 0 && bos_probe[0] == weft_tokenizer_bos(t)) ? 1 : 0;
  char* line;
  while ((line = read_line(f)) != NULL) {
    if (strncmp(line, "model ", 6) == 0) {
      in_model =
          strncmp(line + 6, m->name, strlen(m->name)) == 0 && line[6 + strlen(m->name)] == ' ';
    } else if (!in_model) {
      continue;
    } else if (strncmp(line, "case ", 5) == 0) {
      sscanf(line + 5, "%127s %u", name, &flags);
    } else if (strncmp(line, "text ", 5) == 0) {
      text_length = unhex(line + 5, text, sizeof(text));
    } else if (strncmp(line, "ids", 3) == 0) {
      n_ref = 0;
      for (char* p = line + 3; *p;) {
        char* e = NULL;
        long v = strtol(p, &e, 10);
        if (e == p) {
          break;
        }
        ref[n_ref++] = (int32_t)v;
        p = e;
      }
    } else if (strncmp(line, "pieces ", 7) == 0) {
      pieces_length = unhex(line + 7, pieces, sizeof(pieces));
    } else if (strncmp(line, "pieces_special ", 15) == 0) {
      special_length = unhex(line + 15, pieces_special, sizeof(pieces_special));
    } else if (strncmp(line, "pieces", 6) == 0) {
      pieces_length = 0; /* an empty hex string */
    } else if (strncmp(line, "roundtrip ", 10) == 0) {
      roundtrip = atoi(line + 10);
    } else if (strcmp(line, "end") == 0) {
      uint32_t wflags = ((flags & 1) ? WEFT_TOKENIZE_ADD_SPECIAL : 0) |
                        ((flags & 2) ? WEFT_TOKENIZE_PARSE_SPECIAL : 0);
      size_t n = 0;
      weft_status_t status =
          weft_tokenizer_encode(t, text, text_length, wflags, got, ARRAY_COUNT(got), &n);
      if (status != WEFT_OK) {
        fail_msg("%s case %s/%u: %s", m->name, name, flags, weft_status_message(status));
      }
      if (n != n_ref || (n > 0 && memcmp(got, ref, n * sizeof(int32_t)) != 0)) {
        size_t i = 0;
        while (i < n && i < n_ref && got[i] == ref[i]) {
          ++i;
        }
        fail_msg("%s case %s/%u: %zu ids, llama.cpp %zu; first difference at %zu: %d vs %d",
                 m->name, name, flags, n, n_ref, i, i < n ? got[i] : -1, i < n_ref ? ref[i] : -1);
      }
      /* Pieces, with and without special tokens rendered. */
      for (int special = 0; special < 2; ++special) {
        size_t at = 0;
        for (size_t i = 0; i < n; ++i) {
          size_t len = 0;
          expect_ok(weft_tokenizer_token_to_piece(t, got[i], special != 0, out + at,
                                                  sizeof(out) - at, &len));
          at += len;
        }
        const char* want = special ? pieces_special : pieces;
        size_t want_length = special ? special_length : pieces_length;
        if (at != want_length || memcmp(out, want, at) != 0) {
          fail_msg("%s case %s/%u: pieces (special %d) differ from llama.cpp's", m->name, name,
                   flags, special);
        }
      }
      /* Decoding gives the text back where llama.cpp's does. */
      if (roundtrip) {
        size_t first = (wflags & WEFT_TOKENIZE_ADD_SPECIAL) ? adds_bos : 0;
        size_t at = 0;
        for (size_t i = first; i < n; ++i) {
          size_t len = 0;
          expect_ok(weft_tokenizer_token_to_piece(t, got[i], (flags & 2) != 0, out + at,
                                                  sizeof(out) - at, &len));
          at += len;
        }
        assert_int_equal(at, text_length);
        assert_memory_equal(out, text, text_length);
        ++roundtrips;
      }
      ++cases;
    }
  }
  fclose(f);
  print_message("%s: %zu cases identical to llama.cpp, %zu decoded back to their text\n", m->name,
                cases, roundtrips);
  assert_true(cases >= 80);
  weft_tokenizer_destroy(t);
}

static void smollm2_matches_llama_cpp(void** state) {
  (void)state;
  check_against_reference(&smollm2);
}

static void gemma3_matches_llama_cpp(void** state) {
  (void)state;
  check_against_reference(&gemma3);
}

static void smollm2_chat_and_specials(void** state) {
  (void)state;
  weft_tokenizer_t* t = open_model_or_skip(&smollm2);
  /* The prompt of tests/data/llm/prompts.json ("chat"), which writes out the
   * model's ChatML template. */
  expect_chat(t, chat_system_user, 2, true,
              "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
              "Hugging Face<|im_end|>\n<|im_start|>user\nWhat is the boiling point of water at "
              "sea level in degrees Celsius?<|im_end|>\n<|im_start|>assistant\n");
  /* Without a system message the template supplies its own. */
  expect_chat(t, chat_system_user + 1, 1, false,
              "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
              "Hugging Face<|im_end|>\n<|im_start|>user\nWhat is the boiling point of water at "
              "sea level in degrees Celsius?<|im_end|>\n");
  assert_int_equal(weft_tokenizer_vocab_size(t), 49152);
  assert_int_equal(weft_tokenizer_bos(t), 1);
  assert_int_equal(weft_tokenizer_eos(t), 2);
  assert_true(weft_tokenizer_is_end_of_generation(t, 2)); /* <|im_end|> */
  assert_true(weft_tokenizer_is_end_of_generation(t, 0)); /* <|endoftext|> */
  assert_false(weft_tokenizer_is_end_of_generation(t, 1));
  /* "<reponame>" is a fill-in-the-middle token, "<file_sep>" is not. */
  assert_true(weft_tokenizer_is_end_of_generation(t, 4));
  assert_false(weft_tokenizer_is_end_of_generation(t, 5));
  weft_tokenizer_destroy(t);
}

static void gemma3_chat_and_specials(void** state) {
  (void)state;
  weft_tokenizer_t* t = open_model_or_skip(&gemma3);
  /* The GGUF has no tokenizer.chat_template; the vocabulary's
   * <start_of_turn> selects Gemma's turns. System text goes into the first
   * user turn; the result is llama.cpp's "gemma" template output. */
  expect_chat(t, chat_system_user, 2, true,
              "<start_of_turn>user\nYou are a helpful AI assistant named SmolLM, trained by "
              "Hugging Face\n\nWhat is the boiling point of water at sea level in degrees "
              "Celsius?<end_of_turn>\n<start_of_turn>model\n");
  const weft_chat_message_t turns[] = {{"system", "  Be terse.  "},
                                       {"user", " Hi there \n"},
                                       {"assistant", "Hello!"},
                                       {"user", "Bye"}};
  expect_chat(t, turns, 4, true,
              "<start_of_turn>user\nBe terse.\n\nHi there<end_of_turn>\n<start_of_turn>model\n"
              "Hello!<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n"
              "<start_of_turn>model\n");
  assert_int_equal(weft_tokenizer_vocab_size(t), 262144);
  assert_int_equal(weft_tokenizer_bos(t), 2);
  assert_int_equal(weft_tokenizer_eos(t), 1);
  assert_true(weft_tokenizer_is_end_of_generation(t, 1));
  assert_true(weft_tokenizer_is_end_of_generation(t, 106)); /* <end_of_turn> */
  assert_false(weft_tokenizer_is_end_of_generation(t, 105));
  /* "</s>" too, as llama.cpp has it (its list is matched on text). */
  assert_true(weft_tokenizer_is_end_of_generation(t, 212));
  weft_tokenizer_destroy(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bpe_merges_by_rank),
      cmocka_unit_test(bpe_decode_and_specials),
      cmocka_unit_test(encode_capacity_and_arguments),
      cmocka_unit_test(unsupported_models),
      cmocka_unit_test(allocation_failures),
      cmocka_unit_test(spm_scores_and_byte_fallback),
      cmocka_unit_test(chat_chatml_synthetic),
      cmocka_unit_test(chat_unsupported_template),
      cmocka_unit_test(smollm2_matches_llama_cpp),
      cmocka_unit_test(gemma3_matches_llama_cpp),
      cmocka_unit_test(smollm2_chat_and_specials),
      cmocka_unit_test(gemma3_chat_and_specials),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
