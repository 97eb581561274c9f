/* Models and sessions on the real SmolLM2-135M (and Gemma 3 270M for its
 * hyperparameters): loading, batched versus incremental evaluation, several
 * sessions on one model, generation, cancellation, the context limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "model_path.h"
#include "weft/llm.h"
#include "weft/runtime.h"
#include "weft/tokenizer.h"

/* "The capital of France is" in SmolLM2's vocabulary; " Paris" is 7042. */
static const int32_t kPrompt[5] = {504, 3575, 282, 4649, 314};
enum { kParis = 7042 };

typedef struct fixture_t {
  weft_runtime_t* runtime;
  weft_model_t* model;
  char why[1200];
} fixture_t;

static fixture_t g_fx;

static int setup(void** state) {
  (void)state;
  weft_runtime_options_t o;
  weft_runtime_options_init(&o);
  if (weft_runtime_create(&o, weft_allocator_system(), &g_fx.runtime) != WEFT_OK) return -1;
  char path[1024];
  if (weft_test_model_path("smollm2", path, sizeof(path), g_fx.why, sizeof(g_fx.why))) {
    weft_status_t st = weft_model_load(g_fx.runtime, path, NULL, &g_fx.model);
    if (st != WEFT_OK) {
      fprintf(stderr, "load %s: %s\n", path, weft_status_message(st));
      weft_status_free(st);
      return -1;
    }
  }
  return 0;
}

static int teardown(void** state) {
  (void)state;
  weft_model_destroy(g_fx.model);
  weft_runtime_destroy(g_fx.runtime);
  return 0;
}

#define NEED_MODEL()                           \
  do {                                         \
    if (!g_fx.model) {                         \
      printf("skipped: %s\n", g_fx.why);       \
      skip();                                  \
    }                                          \
  } while (0)

static int32_t argmax(const float* x, uint32_t n) {
  uint32_t best = 0;
  for (uint32_t i = 1; i < n; ++i) best = x[i] > x[best] ? i : best;
  return (int32_t)best;
}

static weft_session_t* session_new(uint32_t n_ctx, uint32_t n_batch, weft_dtype_t kv,
                                   bool all_logits) {
  weft_session_options_t o;
  weft_session_options_init(&o);
  o.n_ctx = n_ctx;
  o.n_batch = n_batch;
  o.kv_dtype = kv;
  o.all_logits = all_logits;
  weft_session_t* s = NULL;
  weft_status_t st = weft_session_create(g_fx.model, &o, &s);
  if (st != WEFT_OK) fail_msg("%s", weft_status_message(st));
  return s;
}

static void smollm2_hyperparameters(void** state) {
  (void)state;
  NEED_MODEL();
  weft_model_info_t i;
  weft_model_info_get(g_fx.model, &i);
  assert_string_equal(i.architecture, "llama");
  assert_int_equal(i.n_vocab, 49152);
  assert_int_equal(i.n_embd, 576);
  assert_int_equal(i.n_layer, 30);
  assert_int_equal(i.n_head, 9);
  assert_int_equal(i.n_head_kv, 3);
  assert_int_equal(i.head_dim_k, 64);
  assert_int_equal(i.n_ff, 1536);
  assert_int_equal(i.n_ctx_train, 8192);
  assert_true(i.rope_freq_base == 100000.0f);
  assert_int_equal(i.sliding_window, 0);
  assert_int_equal(i.eos_token, 2);
  assert_true(weft_model_token_is_eog(g_fx.model, 2));  /* <|im_end|> */
  assert_false(weft_model_token_is_eog(g_fx.model, kParis));
}

static void gemma3_hyperparameters(void** state) {
  (void)state;
  char path[1024], why[1200];
  if (!weft_test_model_path("gemma3", path, sizeof(path), why, sizeof(why))) {
    printf("skipped: %s\n", why);
    skip();
  }
  weft_model_t* m = NULL;
  assert_null(weft_model_load(g_fx.runtime, path, NULL, &m));
  weft_model_info_t i;
  weft_model_info_get(m, &i);
  assert_string_equal(i.architecture, "gemma3");
  assert_int_equal(i.n_vocab, 262144);
  assert_int_equal(i.n_embd, 640);
  assert_int_equal(i.n_layer, 18);
  assert_int_equal(i.n_head, 4);
  assert_int_equal(i.n_head_kv, 1);
  assert_int_equal(i.head_dim_k, 256);
  assert_int_equal(i.head_dim_v, 256);
  assert_int_equal(i.sliding_window, 512);
  assert_true(i.rope_freq_base == 1000000.0f);
  assert_true(i.rope_freq_base_local == 10000.0f);
  assert_int_equal(i.bos_token, 2);
  assert_true(weft_model_token_is_eog(m, 1));    /* <eos> */
  assert_true(weft_model_token_is_eog(m, 106));  /* <end_of_turn> */
  weft_model_destroy(m);
}

static void missing_file_is_named(void** state) {
  (void)state;
  weft_model_t* m = NULL;
  weft_status_t st = weft_model_load(g_fx.runtime, "/nonexistent/m.gguf", NULL, &m);
  assert_int_equal(weft_status_code(st), WEFT_STATUS_NOT_FOUND);
  assert_non_null(strstr(weft_status_message(st), "/nonexistent/m.gguf"));
  weft_status_free(st);
  assert_null(m);
}

/* The prompt in one batch, token by token, and with every position's logits
 * kept: the same function, so the same answer and nearly the same logits
 * (f16 cache rounding is the same either way; only summation order moves). */
static void batched_equals_incremental(void** state) {
  (void)state;
  NEED_MODEL();
  weft_session_t* a = session_new(64, 64, WEFT_DTYPE_F16, false);
  weft_session_t* b = session_new(64, 1, WEFT_DTYPE_F16, false);
  weft_session_t* c = session_new(64, 8, WEFT_DTYPE_F16, true);
  assert_null(weft_session_feed(a, kPrompt, 5));
  assert_null(weft_session_feed(b, kPrompt, 5));
  assert_null(weft_session_feed(c, kPrompt, 5));
  assert_int_equal(weft_session_position(a), 5);
  const float *la, *lb, *lc;
  uint32_t nv = 0, rows = 0;
  assert_null(weft_session_logits(a, &la, &nv, &rows));
  assert_int_equal(nv, 49152);
  assert_int_equal(rows, 1);
  assert_null(weft_session_logits(b, &lb, NULL, NULL));
  assert_null(weft_session_logits(c, &lc, NULL, &rows));
  assert_int_equal(rows, 5);
  assert_int_equal(argmax(la, nv), kParis);
  assert_int_equal(argmax(lb, nv), kParis);
  const float* lc_last = lc + (size_t)4 * nv;
  double max_ab = 0, max_ac = 0;
  for (uint32_t i = 0; i < nv; ++i) {
    max_ab = fmax(max_ab, fabs((double)la[i] - lb[i]));
    max_ac = fmax(max_ac, fabs((double)la[i] - lc_last[i]));
  }
  printf("max |batched - incremental| %.3g, |last - all_logits last| %.3g\n", max_ab, max_ac);
  assert_true(max_ab < 1e-3);
  assert_true(max_ac < 1e-3);
  weft_session_destroy(a);
  weft_session_destroy(b);
  weft_session_destroy(c);
}

static void f32_cache_agrees_with_f16(void** state) {
  (void)state;
  NEED_MODEL();
  weft_session_t* a = session_new(32, 64, WEFT_DTYPE_F16, false);
  weft_session_t* b = session_new(32, 64, WEFT_DTYPE_F32, false);
  assert_null(weft_session_feed(a, kPrompt, 5));
  assert_null(weft_session_feed(b, kPrompt, 5));
  const float *la, *lb;
  uint32_t nv;
  assert_null(weft_session_logits(a, &la, &nv, NULL));
  assert_null(weft_session_logits(b, &lb, NULL, NULL));
  double max_d = 0;
  for (uint32_t i = 0; i < nv; ++i) max_d = fmax(max_d, fabs((double)la[i] - lb[i]));
  printf("max |f16 cache - f32 cache| %.3g\n", max_d);
  assert_true(max_d < 0.05);
  assert_int_equal(argmax(lb, nv), kParis);
  weft_session_destroy(a);
  weft_session_destroy(b);
}

typedef struct collect_t {
  int32_t ids[64];
  uint32_t n;
  uint32_t cancel_after;
  weft_session_t* session;
} collect_t;

static bool collect(void* user, int32_t token) {
  collect_t* c = (collect_t*)user;
  if (c->n < 64) c->ids[c->n] = token;
  c->n++;
  if (c->cancel_after && c->n == c->cancel_after) weft_session_cancel(c->session);
  return true;
}

/* Greedy generate equals argmax-and-feed by hand; two sessions share the
 * model without touching each other. */
static void generate_matches_manual_greedy(void** state) {
  (void)state;
  NEED_MODEL();
  weft_session_t* a = session_new(64, 64, WEFT_DTYPE_F16, false);
  weft_session_t* b = session_new(64, 64, WEFT_DTYPE_F16, false);
  assert_null(weft_session_feed(a, kPrompt, 5));
  assert_null(weft_session_feed(b, kPrompt, 5));
  collect_t got = {0};
  uint32_t n = 0;
  assert_null(weft_session_generate(a, NULL, 6, collect, &got, &n));
  assert_int_equal(n, 6);
  assert_int_equal(got.n, 6);
  assert_int_equal(got.ids[0], kParis);
  for (uint32_t i = 0; i < 6; ++i) {
    const float* l;
    uint32_t nv;
    assert_null(weft_session_logits(b, &l, &nv, NULL));
    int32_t t = argmax(l, nv);
    assert_int_equal(t, got.ids[i]);
    assert_null(weft_session_feed(b, &t, 1));
  }
  /* a fed its last token lazily; both are now at the same position. */
  const float *la, *lb;
  uint32_t nv;
  assert_null(weft_session_logits(a, &la, &nv, NULL));
  assert_null(weft_session_logits(b, &lb, NULL, NULL));
  assert_int_equal(weft_session_position(a), weft_session_position(b));
  assert_int_equal(argmax(la, nv), argmax(lb, nv));
  weft_session_destroy(a);
  weft_session_destroy(b);
}

static void seeded_sampling_repeats(void** state) {
  (void)state;
  NEED_MODEL();
  weft_sampler_params_t p;
  weft_sampler_params_init(&p);
  p.temperature = 1.0f;
  p.seed = 42;
  collect_t r[2];
  memset(r, 0, sizeof(r));
  for (int k = 0; k < 2; ++k) {
    weft_session_t* s = session_new(64, 64, WEFT_DTYPE_F16, false);
    assert_null(weft_session_feed(s, kPrompt, 5));
    uint32_t n = 0;
    assert_null(weft_session_generate(s, &p, 5, collect, &r[k], &n));
    weft_session_destroy(s);
  }
  assert_int_equal(r[0].n, r[1].n);
  assert_memory_equal(r[0].ids, r[1].ids, r[0].n * sizeof(int32_t));
}

static void cancel_from_callback(void** state) {
  (void)state;
  NEED_MODEL();
  weft_session_t* s = session_new(64, 64, WEFT_DTYPE_F16, false);
  assert_null(weft_session_feed(s, kPrompt, 5));
  collect_t c = {0};
  c.cancel_after = 2;
  c.session = s;
  uint32_t n = 0;
  weft_status_t st = weft_session_generate(s, NULL, 10, collect, &c, &n);
  assert_int_equal(weft_status_code(st), WEFT_STATUS_CANCELLED);
  weft_status_free(st);
  assert_int_equal(n, 2);
  /* The request is cleared by the next call. */
  assert_null(weft_session_feed(s, kPrompt, 1));
  weft_session_destroy(s);
}

static void context_limit_and_bad_ids(void** state) {
  (void)state;
  NEED_MODEL();
  weft_session_t* s = session_new(4, 64, WEFT_DTYPE_F16, false);
  weft_status_t st = weft_session_feed(s, kPrompt, 5);
  assert_int_equal(weft_status_code(st), WEFT_STATUS_RESOURCE_EXHAUSTED);
  assert_non_null(strstr(weft_status_message(st), "n_ctx 4"));
  weft_status_free(st);
  int32_t bad[2] = {1, 49152};
  st = weft_session_feed(s, bad, 2);
  assert_int_equal(weft_status_code(st), WEFT_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr(weft_status_message(st), "49152"));
  weft_status_free(st);
  const float* l;
  st = weft_session_logits(s, &l, NULL, NULL);
  assert_int_equal(weft_status_code(st), WEFT_STATUS_FAILED_PRECONDITION);
  weft_status_free(st);
  /* Four tokens fit; the fifth is refused; reset starts over. */
  assert_null(weft_session_feed(s, kPrompt, 4));
  st = weft_session_feed(s, kPrompt + 4, 1);
  assert_int_equal(weft_status_code(st), WEFT_STATUS_RESOURCE_EXHAUSTED);
  weft_status_free(st);
  weft_session_reset(s);
  assert_int_equal(weft_session_position(s), 0);
  assert_null(weft_session_feed(s, kPrompt, 2));
  weft_session_destroy(s);
}

/* Dropping positions and feeding them again gives the same logits. */
static void truncate_and_refeed(void** state) {
  (void)state;
  NEED_MODEL();
  weft_session_t* s = session_new(32, 64, WEFT_DTYPE_F16, false);
  assert_null(weft_session_feed(s, kPrompt, 5));
  const float* l;
  uint32_t nv;
  assert_null(weft_session_logits(s, &l, &nv, NULL));
  float before[8];
  memcpy(before, l + kParis - 4, sizeof(before));
  weft_status_t st = weft_session_truncate(s, 6);
  assert_int_equal(weft_status_code(st), WEFT_STATUS_OUT_OF_RANGE);
  weft_status_free(st);
  assert_null(weft_session_truncate(s, 3));
  assert_int_equal(weft_session_position(s), 3);
  st = weft_session_logits(s, &l, NULL, NULL);
  assert_int_equal(weft_status_code(st), WEFT_STATUS_FAILED_PRECONDITION);
  weft_status_free(st);
  assert_null(weft_session_feed(s, kPrompt + 3, 2));
  assert_null(weft_session_logits(s, &l, &nv, NULL));
  assert_memory_equal(before, l + kParis - 4, sizeof(before));
  weft_session_destroy(s);
}

/* The model hands out its tokenizer, which encodes the prompt the tests use
 * and decodes the answer. */
static void tokenizer_round_trip(void** state) {
  (void)state;
  NEED_MODEL();
  const weft_tokenizer_t* t = NULL;
  assert_null(weft_model_tokenizer(g_fx.model, &t));
  const char* text = "The capital of France is";
  int32_t ids[16];
  size_t n = 0;
  assert_null(weft_tokenizer_encode(t, text, strlen(text),
                                    WEFT_TOKENIZE_ADD_SPECIAL | WEFT_TOKENIZE_PARSE_SPECIAL, ids,
                                    16, &n));
  assert_int_equal(n, 5);
  assert_memory_equal(ids, kPrompt, sizeof(kPrompt));
  char piece[32];
  size_t len = 0;
  assert_null(weft_tokenizer_token_to_piece(t, kParis, false, piece, sizeof(piece), &len));
  assert_int_equal(len, 6);
  assert_memory_equal(piece, " Paris", 6);
}

typedef struct thread_run_t {
  collect_t got;
  weft_status_t status;
} thread_run_t;

static void* thread_generate(void* arg) {
  thread_run_t* r = (thread_run_t*)arg;
  weft_session_options_t o;
  weft_session_options_init(&o);
  o.n_ctx = 32;
  weft_session_t* s = NULL;
  r->status = weft_session_create(g_fx.model, &o, &s);
  if (r->status == WEFT_OK) r->status = weft_session_feed(s, kPrompt, 5);
  uint32_t n = 0;
  if (r->status == WEFT_OK) r->status = weft_session_generate(s, NULL, 3, collect, &r->got, &n);
  weft_session_destroy(s);
  return NULL;
}

/* Two threads, one session each, on one model: both get the answer. */
static void sessions_on_two_threads(void** state) {
  (void)state;
  NEED_MODEL();
  thread_run_t r[2];
  memset(r, 0, sizeof(r));
  pthread_t th[2];
  for (int i = 0; i < 2; ++i) {
    assert_int_equal(pthread_create(&th[i], NULL, thread_generate, &r[i]), 0);
  }
  for (int i = 0; i < 2; ++i) pthread_join(th[i], NULL);
  for (int i = 0; i < 2; ++i) {
    if (r[i].status != WEFT_OK) fail_msg("%s", weft_status_message(r[i].status));
    assert_int_equal(r[i].got.n, 3);
    assert_int_equal(r[i].got.ids[0], kParis);
  }
  assert_memory_equal(r[0].got.ids, r[1].got.ids, 3 * sizeof(int32_t));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(smollm2_hyperparameters),
      cmocka_unit_test(gemma3_hyperparameters),
      cmocka_unit_test(missing_file_is_named),
      cmocka_unit_test(batched_equals_incremental),
      cmocka_unit_test(f32_cache_agrees_with_f16),
      cmocka_unit_test(generate_matches_manual_greedy),
      cmocka_unit_test(seeded_sampling_repeats),
      cmocka_unit_test(cancel_from_callback),
      cmocka_unit_test(context_limit_and_bad_ids),
      cmocka_unit_test(truncate_and_refeed),
      cmocka_unit_test(tokenizer_round_trip),
      cmocka_unit_test(sessions_on_two_threads),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
