/* Sessions: a KV cache, the position, the logits, and a few compiled
 * programs reused across calls.
 *
 * Program reuse: a graph's shapes depend on the batch size and on n_kv, the
 * cache positions attention reads. n_kv is padded up to a multiple of
 * WEFT_SESSION_KV_PAD (the padding is masked and its rows are zero), so
 * decoding compiles one program per WEFT_SESSION_KV_PAD tokens and prompt
 * batches of equal size reuse theirs. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "llm/llm_impl.h"

#define WEFT_SESSION_KV_PAD 32u
#define WEFT_SESSION_PROGRAMS 4u
#define WEFT_SESSION_DEFAULT_CTX 4096u
#define WEFT_SESSION_DEFAULT_BATCH 64u

struct weft_session_s {
  weft_model_t* model;
  weft_allocator_t allocator;
  weft_device_t* device;
  bool device_pinned;
  bool all_logits;
  uint32_t n_ctx;
  uint32_t n_batch;
  uint32_t n_vocab;
  weft_kv_cache_t cache;
  bool cache_on_reference; /* moved there: the device could not write it */
  uint32_t n_past;
  int32_t* history;       /* [n_ctx] ids fed so far */
  bool has_pending;       /* a generated token not yet run */
  int32_t pending;
  float* logits;          /* [n_vocab * logits_rows] */
  uint32_t logits_rows;   /* rows valid in `logits`; 0 before any feed */
  float* mask;            /* [n_ctx * n_batch] scratch */
  float* mask_swa;
  int32_t* positions;     /* [n_batch] scratch */
  weft_llm_graph_t programs[WEFT_SESSION_PROGRAMS];
  uint64_t use_clock;
  atomic_bool cancel;
};

void weft_session_options_init(weft_session_options_t* out_options) {
  if (!out_options) return;
  memset(out_options, 0, sizeof(*out_options));
  out_options->struct_size = sizeof(*out_options);
  out_options->kv_dtype = WEFT_DTYPE_F16;
}

static void* weft_session_alloc(weft_session_t* s, size_t count, size_t size, weft_status_t* st) {
  if (*st != WEFT_OK) return NULL;
  if (size != 0 && count > SIZE_MAX / size) {
    *st = weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "session: %zu x %zu bytes", count, size);
    return NULL;
  }
  void* p = s->allocator.alloc(s->allocator.self, count * size, 0);
  if (!p) *st = weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "session: %zu bytes", count * size);
  return p;
}

static void weft_session_program_release(weft_llm_graph_t* g) {
  weft_program_destroy(g->program);
  weft_graph_destroy(g->graph);
  memset(g, 0, sizeof(*g));
}

weft_status_t weft_session_create(weft_model_t* model, const weft_session_options_t* options,
                                  weft_session_t** out_session) {
  if (!model || !out_session) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_session_create: model and out_session are required");
  }
  *out_session = NULL;
  weft_session_options_t o;
  weft_session_options_init(&o);
  if (options) {
    if (options->struct_size < sizeof(o)) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "weft_session_create: options struct_size %u, expected %zu",
                              options->struct_size, sizeof(o));
    }
    o = *options;
  }
  const weft_model_info_t* h = &model->info;
  if (o.n_ctx == 0) {
    o.n_ctx = h->n_ctx_train < WEFT_SESSION_DEFAULT_CTX ? h->n_ctx_train : WEFT_SESSION_DEFAULT_CTX;
  }
  if (o.n_ctx > h->n_ctx_train) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_session_create: n_ctx %u is above the model's context length "
                            "%u",
                            o.n_ctx, h->n_ctx_train);
  }
  if (o.n_batch == 0) o.n_batch = WEFT_SESSION_DEFAULT_BATCH;
  if (o.n_batch > o.n_ctx) o.n_batch = o.n_ctx;
  weft_session_t* s =
      (weft_session_t*)model->allocator.alloc(model->allocator.self, sizeof(*s), 0);
  if (!s) return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "session: %zu bytes", sizeof(*s));
  memset(s, 0, sizeof(*s));
  s->model = model;
  s->allocator = model->allocator;
  s->device = o.device ? o.device : model->device;
  s->device_pinned = o.device != NULL;
  s->all_logits = o.all_logits;
  s->n_ctx = o.n_ctx;
  s->n_batch = o.n_batch;
  s->n_vocab = h->n_vocab;
  atomic_init(&s->cancel, false);
  weft_status_t status = WEFT_OK;
  s->history = (int32_t*)weft_session_alloc(s, s->n_ctx, sizeof(int32_t), &status);
  s->logits = (float*)weft_session_alloc(s, (size_t)s->n_vocab * (s->all_logits ? s->n_batch : 1),
                                         sizeof(float), &status);
  s->mask = (float*)weft_session_alloc(s, (size_t)s->n_ctx * s->n_batch, sizeof(float), &status);
  s->mask_swa =
      (float*)weft_session_alloc(s, (size_t)s->n_ctx * s->n_batch, sizeof(float), &status);
  s->positions = (int32_t*)weft_session_alloc(s, s->n_batch, sizeof(int32_t), &status);
  if (status == WEFT_OK) {
    status = weft__kv_cache_init(model, s->device, o.kv_dtype, s->n_ctx, &s->cache);
  }
  if (status != WEFT_OK) {
    weft_session_destroy(s);
    return status;
  }
  *out_session = s;
  return WEFT_OK;
}

void weft_session_destroy(weft_session_t* s) {
  if (!s) return;
  pthread_mutex_lock(&s->model->run_lock);
  for (uint32_t i = 0; i < WEFT_SESSION_PROGRAMS; ++i) {
    weft_session_program_release(&s->programs[i]);
  }
  pthread_mutex_unlock(&s->model->run_lock);
  weft__kv_cache_deinit(&s->cache);
  weft_allocator_t a = s->allocator;
  a.free(a.self, s->history);
  a.free(a.self, s->logits);
  a.free(a.self, s->mask);
  a.free(a.self, s->mask_swa);
  a.free(a.self, s->positions);
  a.free(a.self, s);
}

void weft_session_reset(weft_session_t* s) {
  if (!s) return;
  s->n_past = 0;
  s->has_pending = false;
  s->logits_rows = 0;
  /* Old rows past n_past are masked but still multiplied by 0; they hold
   * finite values already, so no clearing is needed. */
}

weft_status_t weft_session_truncate(weft_session_t* s, uint32_t n_positions) {
  if (!s) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_session_truncate: session is required");
  }
  uint32_t held = s->n_past + (s->has_pending ? 1u : 0u);
  if (n_positions > held) {
    return weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                            "weft_session_truncate: %u positions asked for, the session holds "
                            "%u",
                            n_positions, held);
  }
  if (n_positions == held) return WEFT_OK;
  if (n_positions == s->n_past) {
    s->has_pending = false; /* only the unrun token goes; the logits stay */
    return WEFT_OK;
  }
  s->has_pending = false;
  s->n_past = n_positions;
  s->logits_rows = 0;
  return WEFT_OK;
}

uint32_t weft_session_position(const weft_session_t* s) {
  return s ? s->n_past + (s->has_pending ? 1u : 0u) : 0u;
}

void weft_session_cancel(weft_session_t* s) {
  if (s) atomic_store(&s->cancel, true);
}

/* The program for (n_tokens, n_kv, n_out): a cached one, or a new one in the
 * least recently used slot. */
static weft_status_t weft_session_program_get(weft_session_t* s, uint32_t n_tokens,
                                              uint32_t n_kv, uint32_t n_out,
                                              weft_llm_graph_t** out_g) {
  weft_llm_graph_t* slot = &s->programs[0];
  for (uint32_t i = 0; i < WEFT_SESSION_PROGRAMS; ++i) {
    weft_llm_graph_t* g = &s->programs[i];
    if (g->program && g->n_tokens == n_tokens && g->n_kv == n_kv && g->n_out == n_out) {
      g->last_use = ++s->use_clock;
      *out_g = g;
      return WEFT_OK;
    }
    if (!g->program) {
      if (slot->program) slot = g;
    } else if (slot->program && g->last_use < slot->last_use) {
      slot = g;
    }
  }
  weft_session_program_release(slot);
  slot->n_tokens = n_tokens;
  slot->n_kv = n_kv;
  slot->n_out = n_out;
  weft_status_t status = weft_graph_create(s->model->runtime, &slot->graph);
  if (status == WEFT_OK) status = weft__llm_graph_build(s->model, &s->cache, slot);
  if (status == WEFT_OK) {
    weft_compile_options_t co;
    weft_compile_options_init(&co);
    if (s->device_pinned) {
      co.devices = &s->device;
      co.device_count = 1;
    }
    status = weft_graph_compile(slot->graph, &co, &slot->program);
  }
  if (status != WEFT_OK) {
    weft_session_program_release(slot);
    /* A device that cannot write the cache (no set_rows kernels yet): the
     * cache moves to the reference CPU, once, before anything is in it, and
     * attention runs there while the rest stays on the device. */
    if (weft_status_code(status) == WEFT_STATUS_UNSUPPORTED && s->n_past == 0 &&
        !s->cache_on_reference) {
      weft_device_t* cpu = NULL;
      weft_status_t found = weft_runtime_device_find(s->model->runtime, "cpu-ref", &cpu);
      if (found == WEFT_OK && cpu != s->device) {
        weft_status_free(status);
        weft_dtype_t dtype = s->cache.dtype;
        weft__kv_cache_deinit(&s->cache);
        WEFT_RETURN_IF_ERROR(weft__kv_cache_init(s->model, cpu, dtype, s->n_ctx, &s->cache));
        s->cache_on_reference = true;
        for (uint32_t i = 0; i < WEFT_SESSION_PROGRAMS; ++i) {
          weft_session_program_release(&s->programs[i]);
        }
        return weft_session_program_get(s, n_tokens, n_kv, n_out, out_g);
      }
      weft_status_free(found);
    }
    return weft_status_annotate(status, "%s graph for %u tokens over %u positions",
                                s->model->info.architecture, n_tokens, n_kv);
  }
  slot->last_use = ++s->use_clock;
  *out_g = slot;
  return WEFT_OK;
}

static weft_status_t weft_session_batch_run_locked(weft_session_t* s, const int32_t* ids,
                                                   uint32_t T);

static weft_status_t weft_session_batch_run(weft_session_t* s, const int32_t* ids, uint32_t T) {
  pthread_mutex_lock(&s->model->run_lock);
  weft_status_t status = weft_session_batch_run_locked(s, ids, T);
  pthread_mutex_unlock(&s->model->run_lock);
  return status;
}

static weft_status_t weft_session_batch_run_locked(weft_session_t* s, const int32_t* ids,
                                                   uint32_t T) {
  const weft_model_info_t* h = &s->model->info;
  uint32_t end = s->n_past + T;
  uint32_t n_kv = (end + WEFT_SESSION_KV_PAD - 1) / WEFT_SESSION_KV_PAD * WEFT_SESSION_KV_PAD;
  if (n_kv > s->n_ctx) n_kv = s->n_ctx;
  uint32_t n_out = s->all_logits ? T : 1;
  weft_llm_graph_t* g = NULL;
  WEFT_RETURN_IF_ERROR(weft_session_program_get(s, T, n_kv, n_out, &g));
  /* Query i sits at position p = n_past + i and sees keys j <= p; on
   * sliding-window layers only those with p - j < window (llama.cpp's
   * standard window). */
  const uint32_t window = h->sliding_window;
  for (uint32_t i = 0; i < T; ++i) {
    uint32_t p = s->n_past + i;
    s->positions[i] = (int32_t)p;
    float* row = s->mask + (size_t)i * n_kv;
    float* row_swa = s->mask_swa + (size_t)i * n_kv;
    for (uint32_t j = 0; j < n_kv; ++j) {
      row[j] = j <= p ? 0.0f : -INFINITY;
      row_swa[j] = (j <= p && (window == 0 || p - j < window)) ? 0.0f : -INFINITY;
    }
  }
  weft_program_t* prog = g->program;
  WEFT_RETURN_IF_ERROR(weft_program_set_input(prog, g->tokens, ids, (uint64_t)T * 4));
  WEFT_RETURN_IF_ERROR(weft_program_set_input(prog, g->positions, s->positions, (uint64_t)T * 4));
  WEFT_RETURN_IF_ERROR(
      weft_program_set_input(prog, g->mask, s->mask, (uint64_t)T * n_kv * sizeof(float)));
  if (g->mask_swa) {
    WEFT_RETURN_IF_ERROR(weft_program_set_input(prog, g->mask_swa, s->mask_swa,
                                                (uint64_t)T * n_kv * sizeof(float)));
  }
  WEFT_RETURN_IF_ERROR(weft_program_execute(prog));
  WEFT_RETURN_IF_ERROR(weft_program_read(prog, g->logits, s->logits,
                                         (uint64_t)s->n_vocab * n_out * sizeof(float)));
  memcpy(s->history + s->n_past, ids, (size_t)T * sizeof(int32_t));
  s->n_past = end;
  s->logits_rows = n_out;
  return WEFT_OK;
}

static weft_status_t weft_session_feed_internal(weft_session_t* s, const int32_t* ids,
                                                size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (ids[i] < 0 || (uint32_t)ids[i] >= s->n_vocab) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "weft_session_feed: id %d at index %zu is outside the "
                              "vocabulary of %u",
                              ids[i], i, s->n_vocab);
    }
  }
  if (count > (size_t)(s->n_ctx - s->n_past)) {
    return weft_status_make(WEFT_STATUS_RESOURCE_EXHAUSTED,
                            "weft_session_feed: %zu tokens at position %u do not fit in n_ctx "
                            "%u",
                            count, s->n_past, s->n_ctx);
  }
  size_t done = 0;
  while (done < count) {
    if (atomic_load(&s->cancel)) {
      return weft_status_make(WEFT_STATUS_CANCELLED,
                              "weft_session_feed: cancelled at position %u", s->n_past);
    }
    uint32_t T = (uint32_t)(count - done < s->n_batch ? count - done : s->n_batch);
    WEFT_RETURN_IF_ERROR(weft_session_batch_run(s, ids + done, T));
    done += T;
  }
  return WEFT_OK;
}

/* Runs the token generate chose last, so the logits are current. */
static weft_status_t weft_session_pending_flush(weft_session_t* s) {
  if (!s->has_pending) return WEFT_OK;
  int32_t id = s->pending;
  weft_status_t status = weft_session_feed_internal(s, &id, 1);
  if (status == WEFT_OK) s->has_pending = false;
  return status;
}

weft_status_t weft_session_feed(weft_session_t* s, const int32_t* ids, size_t count) {
  if (!s || (count > 0 && !ids)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_session_feed: session and ids are required");
  }
  atomic_store(&s->cancel, false);
  WEFT_RETURN_IF_ERROR(weft_session_pending_flush(s));
  return weft_session_feed_internal(s, ids, count);
}

weft_status_t weft_session_logits(weft_session_t* s, const float** out_logits,
                                  uint32_t* out_n_vocab, uint32_t* out_count) {
  if (!s || !out_logits) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_session_logits: session and out_logits are required");
  }
  WEFT_RETURN_IF_ERROR(weft_session_pending_flush(s));
  if (s->logits_rows == 0) {
    return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                            "weft_session_logits: nothing has been fed yet");
  }
  *out_logits = s->logits;
  if (out_n_vocab) *out_n_vocab = s->n_vocab;
  if (out_count) *out_count = s->logits_rows;
  return WEFT_OK;
}

weft_status_t weft_session_generate(weft_session_t* s, const weft_sampler_params_t* params,
                                    uint32_t max_tokens, weft_token_fn on_token, void* user,
                                    uint32_t* out_count) {
  if (!s) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_session_generate: session is required");
  }
  atomic_store(&s->cancel, false);
  if (s->logits_rows == 0 && !s->has_pending) {
    return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                            "weft_session_generate: feed a prompt first");
  }
  weft_sampler_params_t greedy;
  weft_sampler_params_init(&greedy);
  greedy.temperature = 0.0f;
  weft_sampler_t* sampler = NULL;
  WEFT_RETURN_IF_ERROR(
      weft_sampler_create(params ? params : &greedy, s->n_vocab, s->allocator, &sampler));
  weft_status_t status = WEFT_OK;
  uint32_t n = 0;
  while (n < max_tokens) {
    status = weft_session_pending_flush(s);
    if (status != WEFT_OK) break;
    if (atomic_load(&s->cancel)) {
      status = weft_status_make(WEFT_STATUS_CANCELLED,
                                "weft_session_generate: cancelled after %u tokens", n);
      break;
    }
    if (s->n_past >= s->n_ctx) {
      status = weft_status_make(WEFT_STATUS_RESOURCE_EXHAUSTED,
                                "weft_session_generate: the context of %u positions is full",
                                s->n_ctx);
      break;
    }
    const float* last = s->logits + (size_t)(s->logits_rows - 1) * s->n_vocab;
    int32_t token = 0;
    status = weft_sampler_sample(sampler, last, s->history, s->n_past, &token);
    if (status != WEFT_OK) break;
    s->pending = token;
    s->has_pending = true;
    ++n;
    bool go_on = on_token ? on_token(user, token) : true;
    if (!go_on || weft_model_token_is_eog(s->model, token)) break;
  }
  weft_sampler_destroy(sampler);
  if (out_count && (status == WEFT_OK || weft_status_code(status) == WEFT_STATUS_CANCELLED)) {
    *out_count = n;
  }
  return status;
}
