/* weft LLM inference: GGUF language models run on the weft graph executor.
 *
 * A weft_model_t is one GGUF file, loaded once: its hyperparameters are read
 * from the metadata and every weight tensor is checked for its expected shape;
 * the weights stay in the mapped file and are used in place (no copy on
 * devices that read host memory). A weft_session_t is one conversation over a
 * model: its own KV cache on a device, its position, its last logits. Any
 * number of sessions may share one model.
 *
 * Supported architectures ("general.architecture"):
 *   llama   LLaMA-style decoders (SmolLM2, TinyLlama, Llama 2/3); tied
 *           embeddings when output.weight is absent; q/k/v biases optional.
 *   gemma3  Gemma 3: embeddings scaled by sqrt(n_embd), per-head q/k norms,
 *           post-attention and post-FFN norms, GeGLU (gelu tanh), every 6th
 *           layer global, the others sliding-window with rope base 10000.
 *
 * Flow:
 *   weft_model_load(runtime, "m.gguf", NULL, &model);
 *   weft_session_create(model, NULL, &session);
 *   weft_session_feed(session, prompt_ids, n);          // prompt, in batches
 *   weft_session_generate(session, &params, 64, on_token, user, &n_out);
 *
 * Context: a session holds n_ctx positions. Feeding past it fails with
 * RESOURCE_EXHAUSTED naming n_ctx and the positions asked for; nothing is
 * evicted (create a session with a larger n_ctx, or start a new one).
 *
 * Errors: every function returns a weft_status_t (NULL is OK) that the caller
 * owns; messages name the key, tensor, shape or value at fault.
 *
 * Thread safety: a model is immutable once loaded and may be shared by
 * sessions on any threads. A session is used by one thread at a time, except
 * weft_session_cancel, which may be called from any thread. The model runs
 * one batch at a time: batches of sessions on different threads take turns
 * (a lock in the model), since its weights buffer is used by one thread at
 * a time (weft/buffer.h). */
#ifndef WEFT_LLM_H_
#define WEFT_LLM_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/abi/dtype.h"
#include "weft/allocator.h"
#include "weft/export.h"
#include "weft/gguf.h"
#include "weft/runtime.h"
#include "weft/status.h"
#include "weft/tokenizer.h"

WEFT_EXTERN_C_BEGIN

typedef struct weft_model_s weft_model_t;
typedef struct weft_session_s weft_session_t;

/* ---- models ---- */

typedef struct weft_model_options_t {
  uint32_t struct_size;     /* sizeof(weft_model_options_t) */
  uint32_t reserved0;
  weft_device_t* device;    /* where the weights live and ops run; NULL: the
                               runtime's default device */
  weft_allocator_t allocator; /* for the model's own tables; .alloc NULL: system */
} weft_model_options_t;

WEFT_API void weft_model_options_init(weft_model_options_t* out_options);

/* Loads the GGUF model at `path`. options may be NULL. The runtime must
 * outlive the model. Errors: what weft_gguf_create_from_file and
 * weft_buffer_map_file return; UNSUPPORTED for another architecture (named);
 * NOT_FOUND naming a missing metadata key or tensor; INVALID_ARGUMENT naming
 * a tensor whose shape is not the expected one ("blk.3.attn_k.weight: expected
 * [576, 192], got [576, 256]") or a hyperparameter that does not fit. */
WEFT_API weft_status_t weft_model_load(weft_runtime_t* runtime, const char* path,
                                       const weft_model_options_t* options,
                                       weft_model_t** out_model);
/* Frees the model; its sessions must have been destroyed. NULL is a no-op. */
WEFT_API void weft_model_destroy(weft_model_t* model);

typedef struct weft_model_info_t {
  const char* architecture;   /* "llama", "gemma3"; valid while the model lives */
  const char* name;           /* general.name, or "" */
  uint32_t n_vocab;
  uint32_t n_ctx_train;       /* <arch>.context_length */
  uint32_t n_embd;
  uint32_t n_layer;
  uint32_t n_head;
  uint32_t n_head_kv;
  uint32_t head_dim_k;
  uint32_t head_dim_v;
  uint32_t n_ff;
  uint32_t sliding_window;    /* 0: none */
  float rope_freq_base;       /* global layers */
  float rope_freq_base_local; /* sliding-window layers */
  float rms_eps;
  int32_t bos_token;          /* -1 when the file names none */
  int32_t eos_token;          /* -1 when the file names none */
  uint32_t reserved0;
  uint64_t weight_bytes;      /* bytes of tensor data in the file */
} weft_model_info_t;

/* Fills *out_info; strings are borrowed from the model. */
WEFT_API void weft_model_info_get(const weft_model_t* model, weft_model_info_t* out_info);

/* The GGUF reader of the model's file (metadata, vocabulary), borrowed. */
WEFT_API const weft_gguf_t* weft_model_gguf(const weft_model_t* model);

/* The model's tokenizer (weft/tokenizer.h), made from the GGUF at load;
 * borrowed, valid while the model lives. A model whose vocabulary the
 * tokenizer does not take still loads and runs from token ids: this then
 * returns the tokenizer's error again (UNSUPPORTED, NOT_FOUND, DATA_LOSS ...,
 * with its message). */
WEFT_API weft_status_t weft_model_tokenizer(const weft_model_t* model,
                                            const weft_tokenizer_t** out_tokenizer);

/* True when `token` ends a generation for this model: the GGUF's eos token,
 * its eot token, and the tokens named "<end_of_turn>", "<|im_end|>",
 * "<|eot_id|>" or "<|endoftext|>" when the vocabulary has them. */
WEFT_API bool weft_model_token_is_eog(const weft_model_t* model, int32_t token);

/* ---- sessions ---- */

typedef struct weft_session_options_t {
  uint32_t struct_size;     /* sizeof(weft_session_options_t) */
  uint32_t n_ctx;           /* positions of the KV cache; 0: min(4096, n_ctx_train) */
  weft_dtype_t kv_dtype;    /* WEFT_DTYPE_F16 (default) or WEFT_DTYPE_F32 */
  uint32_t n_batch;         /* prompt tokens per graph execution; 0: 64 */
  bool all_logits;          /* keep the logits of every fed position, not only the last */
  weft_device_t* device;    /* NULL: the model's device. The KV cache lives
                               there; a device that cannot write it (no
                               set_rows) gets it moved to the reference CPU at
                               the first feed, with attention run there */
} weft_session_options_t;

WEFT_API void weft_session_options_init(weft_session_options_t* out_options);

/* Creates a session with an empty KV cache (allocated and zeroed on the
 * device now). options may be NULL. The model must outlive the session.
 * Errors: INVALID_ARGUMENT (kv_dtype, n_ctx above n_ctx_train), OUT_OF_MEMORY
 * / RESOURCE_EXHAUSTED for the cache (its size named). */
WEFT_API weft_status_t weft_session_create(weft_model_t* model,
                                           const weft_session_options_t* options,
                                           weft_session_t** out_session);
WEFT_API void weft_session_destroy(weft_session_t* session);

/* Empties the KV cache: the next feed starts at position 0. */
WEFT_API void weft_session_reset(weft_session_t* session);

/* Keeps the first `n_positions` positions of the cache and drops the rest
 * (and a generated token not yet run): the next feed continues there. The
 * cache is in position order, so this costs nothing. The logits are gone
 * until the next feed. Errors: OUT_OF_RANGE when n_positions is past the
 * current position. */
WEFT_API weft_status_t weft_session_truncate(weft_session_t* session, uint32_t n_positions);

/* Positions used so far (tokens fed, and a generated token not yet run). */
WEFT_API uint32_t weft_session_position(const weft_session_t* session);

/* Runs the model on `count` token ids at the next positions, in batches of
 * n_batch, and keeps the logits of the last one (of all of them with
 * all_logits). Errors: INVALID_ARGUMENT (an id outside the vocabulary, named
 * with its index), RESOURCE_EXHAUSTED (past n_ctx), CANCELLED (weft_session_cancel
 * between batches; the positions of the batches run stay in the cache), and
 * execution errors. */
WEFT_API weft_status_t weft_session_feed(weft_session_t* session, const int32_t* ids,
                                         size_t count);

/* The logits of the last fed position: n_vocab floats, borrowed until the
 * next feed, generate, reset or destroy. With all_logits, *out_count rows of
 * n_vocab: the positions of the last batch run (at most n_batch), in order.
 * After weft_session_generate, the last generated token is run first (see
 * there). FAILED_PRECONDITION before the first feed. */
WEFT_API weft_status_t weft_session_logits(weft_session_t* session, const float** out_logits,
                                           uint32_t* out_n_vocab, uint32_t* out_count);

/* ---- sampling ---- */

typedef struct weft_sampler_params_t {
  uint32_t struct_size;   /* sizeof(weft_sampler_params_t) */
  float temperature;      /* <= 0: greedy (argmax, lowest id on ties) */
  int32_t top_k;          /* <= 0: off */
  float top_p;            /* >= 1: off */
  float min_p;            /* <= 0: off; keeps p >= min_p * p_max */
  float repeat_penalty;   /* 1: off; applied to the last repeat_last_n tokens */
  int32_t repeat_last_n;  /* tokens looked back for the penalty; default 64, -1: all */
  uint64_t seed;          /* the PRNG seed: equal seeds give equal runs */
} weft_sampler_params_t;

/* Defaults: temperature 0.8, top_k 40, top_p 0.95, min_p 0.05,
 * repeat_penalty 1, repeat_last_n 64, seed 0. */
WEFT_API void weft_sampler_params_init(weft_sampler_params_t* out_params);

typedef struct weft_sampler_s weft_sampler_t;

/* A sampler owns its PRNG state and scratch space for n_vocab candidates;
 * one thread at a time. Errors: INVALID_ARGUMENT (a non-finite parameter,
 * repeat_penalty <= 0), OUT_OF_MEMORY. */
WEFT_API weft_status_t weft_sampler_create(const weft_sampler_params_t* params,
                                           uint32_t n_vocab, weft_allocator_t allocator,
                                           weft_sampler_t** out_sampler);
WEFT_API void weft_sampler_destroy(weft_sampler_t* sampler);

/* Chooses a token from `logits` (n_vocab floats, not modified). The chain, in
 * llama.cpp's order: repetition penalty over history's last repeat_last_n
 * ids (positive logits divided, negative multiplied), top-k, top-p, min-p,
 * temperature, then a draw from the softmax. history may be NULL with
 * n_history 0. */
WEFT_API weft_status_t weft_sampler_sample(weft_sampler_t* sampler, const float* logits,
                                           const int32_t* history, size_t n_history,
                                           int32_t* out_token);

/* ---- generation ---- */

/* Called with each generated token as soon as it is chosen. Return true to
 * go on, false to stop after this token. */
typedef bool (*weft_token_fn)(void* user, int32_t token);

/* Samples up to max_tokens tokens from the session's logits, feeding each
 * back, and calls on_token with each. Stops at an end-of-generation token
 * (weft_model_token_is_eog; the token is reported), when on_token returns
 * false, or at weft_session_cancel (status CANCELLED). params NULL: greedy.
 * on_token may be NULL. *out_count:
 * tokens generated (set on success and on CANCELLED). The last token is fed
 * lazily, by the next feed or generate, so a finished generation costs no
 * extra model run. Errors as weft_session_feed; FAILED_PRECONDITION before
 * any feed. */
WEFT_API weft_status_t weft_session_generate(weft_session_t* session,
                                             const weft_sampler_params_t* params,
                                             uint32_t max_tokens, weft_token_fn on_token,
                                             void* user, uint32_t* out_count);

/* Asks a running feed or generate to stop at the next token or batch
 * boundary (it returns CANCELLED). Thread-safe; the request is cleared when
 * the next feed or generate starts. */
WEFT_API void weft_session_cancel(weft_session_t* session);

WEFT_EXTERN_C_END

#endif /* WEFT_LLM_H_ */
