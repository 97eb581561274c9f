/* The sampler chain on hand-made logits: greedy, top-k, min-p, the
 * repetition penalty, and seeded reproducibility. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "weft/llm.h"

enum { N = 8 };
static const float kLogits[N] = {0.5f, 2.0f, 1.9f, -1.0f, 0.0f, 1.0f, 1.95f, -3.0f};

static int32_t sample(const weft_sampler_params_t* p, const int32_t* hist, size_t n_hist) {
  weft_sampler_t* s = NULL;
  assert_null(weft_sampler_create(p, N, weft_allocator_system(), &s));
  int32_t tok = -1;
  assert_null(weft_sampler_sample(s, kLogits, hist, n_hist, &tok));
  weft_sampler_destroy(s);
  return tok;
}

static void greedy_picks_argmax(void** state) {
  (void)state;
  weft_sampler_params_t p;
  weft_sampler_params_init(&p);
  p.temperature = 0.0f;
  assert_int_equal(sample(&p, NULL, 0), 1);
}

static void top_k_one_is_greedy_at_any_temperature(void** state) {
  (void)state;
  weft_sampler_params_t p;
  weft_sampler_params_init(&p);
  p.temperature = 5.0f;
  p.top_k = 1;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    p.seed = seed;
    assert_int_equal(sample(&p, NULL, 0), 1);
  }
}

static void top_k_and_min_p_limit_the_draw(void** state) {
  (void)state;
  weft_sampler_params_t p;
  weft_sampler_params_init(&p);
  p.temperature = 10.0f;  /* nearly uniform over what survives */
  p.top_k = 3;            /* ids 1, 6, 2 */
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  int seen[N] = {0};
  for (uint64_t seed = 0; seed < 200; ++seed) {
    p.seed = seed;
    seen[sample(&p, NULL, 0)]++;
  }
  assert_true(seen[1] > 0 && seen[6] > 0 && seen[2] > 0);
  assert_int_equal(seen[1] + seen[6] + seen[2], 200);
  /* min_p 0.5 keeps logits >= 2 + ln 0.5 = 1.307: ids 1, 6, 2 again, not 5. */
  p.top_k = 0;
  p.min_p = 0.5f;
  memset(seen, 0, sizeof(seen));
  for (uint64_t seed = 0; seed < 200; ++seed) {
    p.seed = seed;
    seen[sample(&p, NULL, 0)]++;
  }
  assert_int_equal(seen[1] + seen[6] + seen[2], 200);
}

static void repetition_penalty_moves_greedy_choice(void** state) {
  (void)state;
  weft_sampler_params_t p;
  weft_sampler_params_init(&p);
  p.temperature = 0.0f;
  p.repeat_penalty = 1.1f;  /* 2.0 / 1.1 = 1.82 < 1.95 */
  int32_t hist[3] = {1, 1, 4};
  assert_int_equal(sample(&p, hist, 3), 6);
  p.repeat_last_n = 1;      /* only id 4 is looked at */
  assert_int_equal(sample(&p, hist, 3), 1);
}

static void equal_seeds_give_equal_draws(void** state) {
  (void)state;
  weft_sampler_params_t p;
  weft_sampler_params_init(&p);
  p.temperature = 1.5f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 1234;
  weft_sampler_t *a = NULL, *b = NULL;
  assert_null(weft_sampler_create(&p, N, weft_allocator_system(), &a));
  assert_null(weft_sampler_create(&p, N, weft_allocator_system(), &b));
  int differs_from_first = 0;
  int32_t first = -1;
  for (int i = 0; i < 64; ++i) {
    int32_t x = -1, y = -2;
    assert_null(weft_sampler_sample(a, kLogits, NULL, 0, &x));
    assert_null(weft_sampler_sample(b, kLogits, NULL, 0, &y));
    assert_int_equal(x, y);
    if (i == 0) first = x;
    differs_from_first += x != first;
  }
  assert_true(differs_from_first > 0); /* it does draw */
  weft_sampler_destroy(a);
  weft_sampler_destroy(b);
}

static void bad_params_are_refused(void** state) {
  (void)state;
  weft_sampler_params_t p;
  weft_sampler_params_init(&p);
  p.repeat_penalty = 0.0f;
  weft_sampler_t* s = NULL;
  weft_status_t st = weft_sampler_create(&p, N, weft_allocator_system(), &s);
  assert_int_equal(weft_status_code(st), WEFT_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr(weft_status_message(st), "repeat_penalty"));
  weft_status_free(st);
  assert_null(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(greedy_picks_argmax),
      cmocka_unit_test(top_k_one_is_greedy_at_any_temperature),
      cmocka_unit_test(top_k_and_min_p_limit_the_draw),
      cmocka_unit_test(repetition_penalty_moves_greedy_choice),
      cmocka_unit_test(equal_seeds_give_equal_draws),
      cmocka_unit_test(bad_params_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
