/* Internal structures of the LLM layer (core/include/weft/llm.h). */
#ifndef WEFT_LLM_IMPL_H_
#define WEFT_LLM_IMPL_H_

#include <pthread.h>
#include <stdatomic.h>

#include "weft/buffer.h"
#include "weft/graph.h"
#include "weft/llm.h"
#include "weft/program.h"

typedef enum weft_llm_arch_t {
  WEFT_LLM_ARCH_LLAMA = 0,
  WEFT_LLM_ARCH_GEMMA3 = 1,
} weft_llm_arch_t;

/* The weights of one layer; NULL for optional tensors the file lacks. */
typedef struct weft_llm_layer_t {
  const weft_gguf_tensor_t* attn_norm;
  const weft_gguf_tensor_t* wq;
  const weft_gguf_tensor_t* wk;
  const weft_gguf_tensor_t* wv;
  const weft_gguf_tensor_t* wo;
  const weft_gguf_tensor_t* bq;
  const weft_gguf_tensor_t* bk;
  const weft_gguf_tensor_t* bv;
  const weft_gguf_tensor_t* q_norm;
  const weft_gguf_tensor_t* k_norm;
  const weft_gguf_tensor_t* post_attn_norm;
  const weft_gguf_tensor_t* ffn_norm;
  const weft_gguf_tensor_t* ffn_gate;
  const weft_gguf_tensor_t* ffn_up;
  const weft_gguf_tensor_t* ffn_down;
  const weft_gguf_tensor_t* post_ffw_norm;
  bool sliding;          /* sliding-window layer (gemma3 local layers) */
  float rope_freq_base;
  float rope_freq_scale;  /* 1 / linear scaling factor */
} weft_llm_layer_t;

struct weft_model_s {
  weft_allocator_t allocator;
  weft_runtime_t* runtime;
  weft_device_t* device;
  weft_gguf_t* gguf;
  weft_buffer_t* weights; /* the whole file, mapped */
  /* Graph building and execution of every session of this model: the
   * weights buffer is used by one thread at a time (weft/buffer.h). */
  pthread_mutex_t run_lock;
  bool run_lock_ready;
  weft_llm_arch_t arch;
  weft_model_info_t info;
  char name[128];
  float attn_scale;       /* applied to q·k */
  float embd_scale;       /* 1, or sqrt(n_embd) for gemma3 */
  float rope_freq_scale;  /* global layers */
  const weft_gguf_tensor_t* token_embd;
  const weft_gguf_tensor_t* output_norm;
  const weft_gguf_tensor_t* output;   /* token_embd when tied */
  weft_llm_layer_t* layers;
  weft_tokenizer_t* tokenizer;        /* NULL when creation failed: */
  weft_status_code_t tokenizer_code;  /* why */
  char tokenizer_error[256];
  int32_t eog[8];
  uint32_t eog_count;
};

/* Graph-building context: a graph over the model's weights and a session's
 * KV cache for n_tokens new tokens, attending over n_kv cache positions. */
typedef struct weft_llm_graph_t {
  weft_graph_t* graph;
  weft_program_t* program;
  uint32_t n_tokens;
  uint32_t n_kv;
  uint32_t n_out;         /* logits rows produced: 1 or n_tokens */
  weft_tensor_t* tokens;  /* i32 [n_tokens] */
  weft_tensor_t* positions; /* i32 [n_tokens]: rope positions and cache rows */
  weft_tensor_t* mask;    /* f32 [n_kv, n_tokens] causal */
  weft_tensor_t* mask_swa; /* f32 [n_kv, n_tokens] causal + window; NULL when unused */
  weft_tensor_t* logits;  /* f32 [n_vocab, n_out] */
  uint64_t last_use;
} weft_llm_graph_t;

/* The KV cache: per layer a K and a V table [head_dim, n_ctx, n_head_kv]
 * in one device buffer. */
typedef struct weft_kv_cache_t {
  weft_buffer_t* buffer;
  weft_dtype_t dtype;
  uint32_t n_ctx;
  uint32_t n_layer;
  uint64_t k_bytes;       /* one layer's K table */
  uint64_t v_bytes;       /* one layer's V table */
} weft_kv_cache_t;

weft_status_t weft__kv_cache_init(const weft_model_t* model, weft_device_t* device,
                                  weft_dtype_t dtype, uint32_t n_ctx,
                                  weft_kv_cache_t* out_cache);
void weft__kv_cache_deinit(weft_kv_cache_t* cache);
weft_status_t weft__kv_cache_clear(weft_kv_cache_t* cache);
uint64_t weft__kv_cache_k_offset(const weft_kv_cache_t* cache, uint32_t layer);
uint64_t weft__kv_cache_v_offset(const weft_kv_cache_t* cache, uint32_t layer);

/* Binds a weight of the model into `graph`, in place in the mapped file. */
weft_status_t weft__llm_weight_bind(const weft_model_t* model, weft_graph_t* graph,
                                    const weft_gguf_tensor_t* tensor,
                                    weft_tensor_t** out_tensor);

/* Builds (not compiles) the graph of `model` into g->graph for g->n_tokens,
 * g->n_kv and g->n_out, filling g's input and output tensors. */
weft_status_t weft__llm_graph_build(const weft_model_t* model, const weft_kv_cache_t* cache,
                                    weft_llm_graph_t* g);

/* One layer's attention and FFN on x [n_embd, n_tokens]; the parts that
 * differ by architecture. */
typedef struct weft_llm_layer_ctx_t {
  const weft_model_t* model;
  const weft_kv_cache_t* cache;
  weft_llm_graph_t* g;
  uint32_t il;
} weft_llm_layer_ctx_t;

weft_status_t weft__llm_attention(const weft_llm_layer_ctx_t* c, weft_tensor_t* xn,
                                  weft_tensor_t** out_tensor);
weft_status_t weft__llama_layer(const weft_llm_layer_ctx_t* c, weft_tensor_t* x,
                                weft_tensor_t** out_tensor);
weft_status_t weft__gemma3_layer(const weft_llm_layer_ctx_t* c, weft_tensor_t* x,
                                 weft_tensor_t** out_tensor);
/* rms_norm(x) * weight */
weft_status_t weft__llm_norm(const weft_llm_layer_ctx_t* c, weft_tensor_t* x,
                             const weft_gguf_tensor_t* weight, weft_tensor_t** out_tensor);

/* Hyperparameters and tensors of each architecture (llama.c, gemma3.c). */
weft_status_t weft__llama_load(weft_model_t* model);
weft_status_t weft__gemma3_load(weft_model_t* model);

/* Shared by the loaders (model.c). */
weft_status_t weft__llm_key_u32(const weft_model_t* model, const char* suffix, bool required,
                                uint32_t fallback, uint32_t* out_value);
weft_status_t weft__llm_key_f32(const weft_model_t* model, const char* suffix, bool required,
                                float fallback, float* out_value);
/* Finds "blk.<il>.<role>.weight" (il < 0: "<role>.weight") and checks its
 * shape (ne1 0: a 1-D tensor). Missing and optional: *out NULL, OK. */
weft_status_t weft__llm_tensor(const weft_model_t* model, int32_t il, const char* role,
                               const char* suffix, int64_t ne0, int64_t ne1, bool required,
                               const weft_gguf_tensor_t** out_tensor);
weft_status_t weft__llm_layers_load_common(weft_model_t* model);

#endif /* WEFT_LLM_IMPL_H_ */
