/* weft against llama.cpp on a real model: for every recorded prompt
 * (tests/data/llm/<model>.json, written by tools/models/oracle.py), the
 * prompt's token ids are fed, the last position's top-20 logits must match
 * llama.cpp's within a tolerance, and 32 greedy tokens must be the same ids.
 *
 * Built once per model (WEFT_LLM_TEST_MODEL, WEFT_LLM_TEST_ORACLE). Prompts
 * run: all in unsanitized builds; under ASan the first one, since the
 * reference CPU backend is slow there; WEFT_LLM_TEST_PROMPTS=N or =all
 * overrides either. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_path.h"
#include "weft/llm.h"
#include "weft/runtime.h"

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_ORACLE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_ORACLE_SANITIZED 1
#endif
#endif
#ifndef WEFT_ORACLE_SANITIZED
#define WEFT_ORACLE_SANITIZED 0
#endif

enum { kGreedy = 32, kTop = 20 };

/* Largest |weft - llama.cpp| over the top-20 logits of the last prompt
 * position. llama.cpp quantizes activations to q8 in its quantized matmuls
 * (docs/ops.md section 3); weft computes in f32/f64. See docs/llm.md for the
 * measured values this bound sits above. */
#ifndef WEFT_ORACLE_LOGIT_TOLERANCE
#define WEFT_ORACLE_LOGIT_TOLERANCE 1.0
#endif

/* ---- a scanner for the oracle's JSON: just the keys this test reads ---- */

static char* read_text(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* s = (char*)malloc((size_t)n + 1);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
    free(s);
    s = NULL;
  }
  if (s) s[n] = 0;
  fclose(f);
  return s;
}

/* Numbers of the JSON array that follows `"key":` at or after `from`, nested
 * arrays flattened; stops at the array's end. Returns the count (<= cap)
 * and where the array ends, or -1 when the key is not before `limit`. */
static long json_numbers(const char* from, const char* limit, const char* key, double* out,
                         long cap, const char** out_end) {
  char pat[64];
  snprintf(pat, sizeof(pat), "\"%s\":", key);
  const char* p = strstr(from, pat);
  if (!p || (limit && p >= limit)) return -1;
  p = strchr(p + strlen(pat), '[');
  if (!p) return -1;
  int depth = 0;
  long n = 0;
  for (; *p; ++p) {
    if (*p == '[') {
      ++depth;
    } else if (*p == ']') {
      if (--depth == 0) break;
    } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
      char* end;
      double v = strtod(p, &end);
      if (n < cap) out[n] = v;
      ++n;
      p = end - 1;
    }
  }
  if (out_end) *out_end = p;
  return n < cap ? n : cap;
}

static void json_string(const char* from, const char* limit, const char* key, char* out,
                        size_t cap) {
  char pat[64];
  snprintf(pat, sizeof(pat), "\"%s\": \"", key);
  const char* p = strstr(from, pat);
  out[0] = 0;
  if (!p || (limit && p >= limit)) return;
  p += strlen(pat);
  size_t n = 0;
  while (*p && *p != '"' && n + 1 < cap) out[n++] = *p++;
  out[n] = 0;
}

static long prompt_limit(long available) {
  const char* env = getenv("WEFT_LLM_TEST_PROMPTS");
  if (env && strcmp(env, "all") == 0) return available;
  if (env && *env) {
    long n = strtol(env, NULL, 10);
    return n < available ? n : available;
  }
  return WEFT_ORACLE_SANITIZED ? (available < 1 ? available : 1) : available;
}

static int32_t argmax(const float* x, uint32_t n) {
  uint32_t best = 0;
  for (uint32_t i = 1; i < n; ++i) best = x[i] > x[best] ? i : best;
  return (int32_t)best;
}

static void matches_llama_cpp(void** state) {
  (void)state;
  char path[1024], why[1200];
  if (!weft_test_model_path(WEFT_LLM_TEST_MODEL, path, sizeof(path), why, sizeof(why))) {
    printf("skipped: %s\n", why);
    skip();
  }
  char* doc = read_text(WEFT_LLM_TEST_ORACLE);
  if (!doc) {
    printf("skipped: oracle %s is not recorded (tools/models/oracle.py writes it)\n",
           WEFT_LLM_TEST_ORACLE);
    skip();
  }
  const char* prompts = strstr(doc, "\"prompts\":");
  assert_non_null(prompts);
  long available = 0;
  for (const char* p = prompts; (p = strstr(p, "\"prompt_tokens\":")); ++p) ++available;
  long run = prompt_limit(available);
  printf("%s: %ld of %ld prompts (WEFT_LLM_TEST_PROMPTS=N|all for more)\n", WEFT_LLM_TEST_MODEL,
         run, available);

  weft_runtime_options_t ro;
  weft_runtime_options_init(&ro);
  weft_runtime_t* runtime = NULL;
  assert_null(weft_runtime_create(&ro, weft_allocator_system(), &runtime));
  weft_model_t* model = NULL;
  weft_status_t st = weft_model_load(runtime, path, NULL, &model);
  if (st != WEFT_OK) fail_msg("%s", weft_status_message(st));

  static double tokens[4096], top[2 * kTop], gen[256];
  int failures = 0;
  double worst = 0;
  const char* cursor = prompts;
  for (long k = 0; k < run; ++k) {
    const char* at = strstr(cursor, "\"prompt_tokens\":");
    const char* next = strstr(at + 1, "\"prompt_tokens\":");
    char id[64];
    /* The id comes before prompt_tokens within the same object. */
    json_string(cursor, at, "id", id, sizeof(id));
    const char* end = NULL;
    long n_prompt = json_numbers(at, next, "prompt_tokens", tokens, 4096, &end);
    long n_top = json_numbers(at, next, "top_logits", top, 2 * kTop, NULL) / 2;
    long n_gen = json_numbers(at, next, "generated", gen, 256, NULL);
    assert_true(n_prompt > 0 && n_top > 0 && n_gen >= kGreedy);
    cursor = end;

    weft_session_options_t so;
    weft_session_options_init(&so);
    so.n_ctx = (uint32_t)(n_prompt + kGreedy + 8);
    so.kv_dtype = WEFT_DTYPE_F32;  /* as the oracle's llama.cpp run */
    weft_session_t* s = NULL;
    st = weft_session_create(model, &so, &s);
    if (st != WEFT_OK) fail_msg("%s", weft_status_message(st));
    int32_t* ids = (int32_t*)malloc((size_t)n_prompt * sizeof(int32_t));
    for (long i = 0; i < n_prompt; ++i) ids[i] = (int32_t)tokens[i];
    st = weft_session_feed(s, ids, (size_t)n_prompt);
    if (st != WEFT_OK) fail_msg("%s: %s", id, weft_status_message(st));
    free(ids);
    const float* logits;
    uint32_t nv;
    assert_null(weft_session_logits(s, &logits, &nv, NULL));
    double err = 0;
    for (long i = 0; i < n_top; ++i) {
      int32_t t = (int32_t)top[2 * i];
      assert_true(t >= 0 && (uint32_t)t < nv);
      err = fmax(err, fabs((double)logits[t] - top[2 * i + 1]));
    }
    worst = fmax(worst, err);
    int32_t got[kGreedy];
    int first_diff = -1;
    for (int i = 0; i < kGreedy; ++i) {
      assert_null(weft_session_logits(s, &logits, &nv, NULL));
      got[i] = argmax(logits, nv);
      if (first_diff < 0 && got[i] != (int32_t)gen[i]) first_diff = i;
      if (i + 1 < kGreedy) assert_null(weft_session_feed(s, &got[i], 1));
    }
    printf("  %-12s %4ld prompt tokens  top-%ld max |dlogit| %.4f  greedy %s", id, n_prompt,
           n_top, err, first_diff < 0 ? "32/32 identical\n" : "DIFFERS");
    if (first_diff >= 0) {
      printf(" at %d (weft %d, llama.cpp %d)\n", first_diff, got[first_diff],
             (int32_t)gen[first_diff]);
    }
    if (first_diff >= 0 || err > WEFT_ORACLE_LOGIT_TOLERANCE) ++failures;
    weft_session_destroy(s);
  }
  printf("%s: worst top-%d logit error %.4f (tolerance %.2f), %d of %ld prompts failed\n",
         WEFT_LLM_TEST_MODEL, kTop, worst, WEFT_ORACLE_LOGIT_TOLERANCE, failures, run);
  weft_model_destroy(model);
  weft_runtime_destroy(runtime);
  free(doc);
  assert_int_equal(failures, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(matches_llama_cpp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
