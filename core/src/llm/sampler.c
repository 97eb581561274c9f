/* Token sampling: llama.cpp's default chain (penalties, top-k, top-p, min-p,
 * temperature, draw) with a seeded PRNG so that runs repeat exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "weft/llm.h"

typedef struct weft_sampler_candidate_t {
  int32_t id;
  float logit;
  float p;
} weft_sampler_candidate_t;

struct weft_sampler_s {
  weft_allocator_t allocator;
  weft_sampler_params_t params;
  uint32_t n_vocab;
  uint64_t state;
  weft_sampler_candidate_t* cand;
};

void weft_sampler_params_init(weft_sampler_params_t* out_params) {
  if (!out_params) return;
  memset(out_params, 0, sizeof(*out_params));
  out_params->struct_size = sizeof(*out_params);
  out_params->temperature = 0.8f;
  out_params->top_k = 40;
  out_params->top_p = 0.95f;
  out_params->min_p = 0.05f;
  out_params->repeat_penalty = 1.0f;
  out_params->repeat_last_n = 64;
  out_params->seed = 0;
}

weft_status_t weft_sampler_create(const weft_sampler_params_t* params, uint32_t n_vocab,
                                  weft_allocator_t allocator, weft_sampler_t** out_sampler) {
  if (!params || !out_sampler || n_vocab == 0 || !allocator.alloc) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_sampler_create: params, an allocator, n_vocab > 0 (got %u) "
                            "and out_sampler are required",
                            n_vocab);
  }
  *out_sampler = NULL;
  if (params->struct_size < sizeof(weft_sampler_params_t)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_sampler_create: params struct_size %u, expected %zu",
                            params->struct_size, sizeof(weft_sampler_params_t));
  }
  if (!isfinite(params->temperature) || !isfinite(params->top_p) || !isfinite(params->min_p) ||
      !(params->repeat_penalty > 0.0f) || !isfinite(params->repeat_penalty)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_sampler_create: temperature %g, top_p %g, min_p %g must be "
                            "finite, repeat_penalty %g finite and > 0",
                            (double)params->temperature, (double)params->top_p,
                            (double)params->min_p, (double)params->repeat_penalty);
  }
  weft_sampler_t* s = (weft_sampler_t*)allocator.alloc(allocator.self, sizeof(*s), 0);
  if (!s) return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "sampler: %zu bytes", sizeof(*s));
  memset(s, 0, sizeof(*s));
  s->allocator = allocator;
  s->params = *params;
  s->n_vocab = n_vocab;
  s->state = params->seed;
  size_t bytes = sizeof(weft_sampler_candidate_t) * n_vocab;
  s->cand = (weft_sampler_candidate_t*)allocator.alloc(allocator.self, bytes, 0);
  if (!s->cand) {
    allocator.free(allocator.self, s);
    return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "sampler: %zu bytes of candidates",
                            bytes);
  }
  *out_sampler = s;
  return WEFT_OK;
}

void weft_sampler_destroy(weft_sampler_t* sampler) {
  if (!sampler) return;
  weft_allocator_t a = sampler->allocator;
  a.free(a.self, sampler->cand);
  a.free(a.self, sampler);
}

/* splitmix64: tiny, full-period and identical on every platform. */
static uint64_t weft_sampler_next(weft_sampler_t* s) {
  uint64_t z = (s->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Descending logit, then ascending id: a total order, so equal inputs give
 * equal orders whatever qsort does with ties. */
static int weft_sampler_candidate_cmp(const void* a, const void* b) {
  const weft_sampler_candidate_t* x = (const weft_sampler_candidate_t*)a;
  const weft_sampler_candidate_t* y = (const weft_sampler_candidate_t*)b;
  if (x->logit > y->logit) return -1;
  if (x->logit < y->logit) return 1;
  return (x->id > y->id) - (x->id < y->id);
}

static int32_t weft_sampler_argmax(const float* logits, uint32_t n) {
  int32_t best = 0;
  for (uint32_t i = 1; i < n; ++i) {
    if (logits[i] > logits[best]) best = (int32_t)i;
  }
  return best;
}

weft_status_t weft_sampler_sample(weft_sampler_t* s, const float* logits,
                                  const int32_t* history, size_t n_history,
                                  int32_t* out_token) {
  if (!s || !logits || !out_token || (n_history > 0 && !history)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_sampler_sample: sampler, logits and out_token are required");
  }
  const weft_sampler_params_t* p = &s->params;
  const uint32_t n = s->n_vocab;
  bool penalise = p->repeat_penalty != 1.0f && p->repeat_last_n != 0 && n_history > 0;
  if (p->temperature <= 0.0f && !penalise) {
    *out_token = weft_sampler_argmax(logits, n);
    return WEFT_OK;
  }
  weft_sampler_candidate_t* c = s->cand;
  for (uint32_t i = 0; i < n; ++i) {
    c[i].id = (int32_t)i;
    c[i].logit = logits[i];
    c[i].p = 0.0f;
  }
  if (penalise) {
    size_t look = p->repeat_last_n < 0 ? n_history : (size_t)p->repeat_last_n;
    if (look > n_history) look = n_history;
    for (size_t i = n_history - look; i < n_history; ++i) {
      int32_t id = history[i];
      if (id < 0 || (uint32_t)id >= n) continue;
      /* Each id once, however often it occurs (llama.cpp's penalties). */
      bool seen = false;
      for (size_t j = n_history - look; j < i; ++j) seen = seen || history[j] == id;
      if (seen) continue;
      float* l = &c[id].logit;
      *l = *l > 0.0f ? *l / p->repeat_penalty : *l * p->repeat_penalty;
    }
  }
  if (p->temperature <= 0.0f) {
    int32_t best = 0;
    for (uint32_t i = 1; i < n; ++i) {
      if (c[i].logit > c[best].logit) best = (int32_t)i;
    }
    *out_token = best;
    return WEFT_OK;
  }
  qsort(c, n, sizeof(*c), weft_sampler_candidate_cmp);
  size_t count = n;
  if (p->top_k > 0 && (uint32_t)p->top_k < count) count = (size_t)p->top_k;
  /* Probabilities at temperature 1 for top-p and min-p, as llama.cpp. */
  double sum = 0.0;
  for (size_t i = 0; i < count; ++i) sum += exp((double)c[i].logit - (double)c[0].logit);
  if (p->top_p < 1.0f) {
    double cum = 0.0;
    for (size_t i = 0; i < count; ++i) {
      cum += exp((double)c[i].logit - (double)c[0].logit) / sum;
      if (cum >= (double)p->top_p) {
        count = i + 1;
        break;
      }
    }
  }
  if (p->min_p > 0.0f) {
    /* p_i >= min_p * p_max  <=>  logit_i >= logit_max + log(min_p) */
    double floor_logit = (double)c[0].logit + log((double)p->min_p);
    size_t keep = 1;
    while (keep < count && (double)c[keep].logit >= floor_logit) ++keep;
    count = keep;
  }
  double total = 0.0;
  for (size_t i = 0; i < count; ++i) {
    double w = exp(((double)c[i].logit - (double)c[0].logit) / (double)p->temperature);
    c[i].p = (float)w;
    total += w;
  }
  /* A uniform draw in [0, 1) with 53 bits. */
  double r = (double)(weft_sampler_next(s) >> 11) * (1.0 / 9007199254740992.0) * total;
  double acc = 0.0;
  for (size_t i = 0; i < count; ++i) {
    acc += (double)c[i].p;
    if (r < acc) {
      *out_token = c[i].id;
      return WEFT_OK;
    }
  }
  *out_token = c[count - 1].id;
  return WEFT_OK;
}
