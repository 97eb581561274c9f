/* Model loading: GGUF metadata, weight checks, the mapped weight buffer. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "llm/llm_impl.h"

void weft_model_options_init(weft_model_options_t* out_options) {
  if (!out_options) return;
  memset(out_options, 0, sizeof(*out_options));
  out_options->struct_size = sizeof(*out_options);
}

weft_status_t weft__llm_key_u32(const weft_model_t* model, const char* suffix, bool required,
                                uint32_t fallback, uint32_t* out_value) {
  char key[160];
  snprintf(key, sizeof(key), "%s.%s", model->info.architecture, suffix);
  if (!weft_gguf_kv_has(model->gguf, key)) {
    if (required) {
      return weft_status_make(WEFT_STATUS_NOT_FOUND, "model: metadata key '%s' is missing",
                              key);
    }
    *out_value = fallback;
    return WEFT_OK;
  }
  /* Converters write these as uint32 mostly, some as int32 or uint64. */
  uint32_t u32;
  int32_t i32;
  uint64_t u64;
  weft_status_t status = weft_gguf_get_u32(model->gguf, key, &u32);
  if (status == WEFT_OK) {
    *out_value = u32;
    return WEFT_OK;
  }
  weft_status_free(status);
  status = weft_gguf_get_i32(model->gguf, key, &i32);
  if (status == WEFT_OK && i32 >= 0) {
    *out_value = (uint32_t)i32;
    return WEFT_OK;
  }
  weft_status_free(status);
  status = weft_gguf_get_u64(model->gguf, key, &u64);
  if (status == WEFT_OK && u64 <= UINT32_MAX) {
    *out_value = (uint32_t)u64;
    return WEFT_OK;
  }
  weft_status_free(status);
  return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                          "model: metadata key '%s' is not a non-negative 32-bit integer", key);
}

weft_status_t weft__llm_key_f32(const weft_model_t* model, const char* suffix, bool required,
                                float fallback, float* out_value) {
  char key[160];
  snprintf(key, sizeof(key), "%s.%s", model->info.architecture, suffix);
  if (!weft_gguf_kv_has(model->gguf, key)) {
    if (required) {
      return weft_status_make(WEFT_STATUS_NOT_FOUND, "model: metadata key '%s' is missing",
                              key);
    }
    *out_value = fallback;
    return WEFT_OK;
  }
  float f;
  double d;
  weft_status_t status = weft_gguf_get_f32(model->gguf, key, &f);
  if (status == WEFT_OK) {
    *out_value = f;
    return WEFT_OK;
  }
  weft_status_free(status);
  status = weft_gguf_get_f64(model->gguf, key, &d);
  if (status == WEFT_OK) {
    *out_value = (float)d;
    return WEFT_OK;
  }
  weft_status_free(status);
  return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                          "model: metadata key '%s' is not a float", key);
}

weft_status_t weft__llm_tensor(const weft_model_t* model, int32_t il, const char* role,
                               const char* suffix, int64_t ne0, int64_t ne1, bool required,
                               const weft_gguf_tensor_t** out_tensor) {
  char name[96];
  if (il >= 0) {
    snprintf(name, sizeof(name), "blk.%d.%s.%s", il, role, suffix);
  } else {
    snprintf(name, sizeof(name), "%s.%s", role, suffix);
  }
  *out_tensor = NULL;
  weft_status_t found = weft_gguf_tensor_find(model->gguf, name, out_tensor);
  if (found != WEFT_OK) {
    weft_status_free(found);
    *out_tensor = NULL;
    if (!required) return WEFT_OK;
    return weft_status_make(WEFT_STATUS_NOT_FOUND, "model: tensor '%s' is missing", name);
  }
  const weft_gguf_tensor_t* t = *out_tensor;
  uint32_t want_dims = ne1 > 0 ? 2 : 1;
  bool ok = t->ne[0] == ne0 && t->ne[2] == 1 && t->ne[3] == 1 &&
            (ne1 > 0 ? t->ne[1] == ne1 : t->ne[1] == 1);
  if (!ok) {
    *out_tensor = NULL;
    if (want_dims == 2) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "model: tensor '%s': expected [%lld, %lld], got [%lld, %lld, %lld, "
                              "%lld]",
                              name, (long long)ne0, (long long)ne1, (long long)t->ne[0],
                              (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3]);
    }
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "model: tensor '%s': expected [%lld], got [%lld, %lld, %lld, %lld]",
                            name, (long long)ne0, (long long)t->ne[0], (long long)t->ne[1],
                            (long long)t->ne[2], (long long)t->ne[3]);
  }
  /* Norms and biases are added and multiplied as floats. */
  if (ne1 == 0 && t->type != WEFT_DTYPE_F32 && t->type != WEFT_DTYPE_F16 &&
      t->type != WEFT_DTYPE_BF16) {
    *out_tensor = NULL;
    return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                            "model: tensor '%s' is %s; 1-D weights must be f32, f16 or bf16",
                            name, weft_gguf_dtype_name(t->type));
  }
  return WEFT_OK;
}

weft_status_t weft__llm_weight_bind(const weft_model_t* model, weft_graph_t* graph,
                                    const weft_gguf_tensor_t* tensor,
                                    weft_tensor_t** out_tensor) {
  return weft_graph_bind(graph, tensor->name, tensor->type, tensor->n_dims, tensor->ne,
                         model->weights, tensor->file_offset, out_tensor);
}

/* Layer tensors every supported architecture has, with their shapes. */
weft_status_t weft__llm_layers_load_common(weft_model_t* model) {
  const weft_model_info_t* h = &model->info;
  const int64_t E = h->n_embd, F = h->n_ff;
  const int64_t q_out = (int64_t)h->head_dim_k * h->n_head;
  const int64_t k_out = (int64_t)h->head_dim_k * h->n_head_kv;
  const int64_t v_out = (int64_t)h->head_dim_v * h->n_head_kv;
  const int64_t o_in = (int64_t)h->head_dim_v * h->n_head;
  /* role, suffix, ne0, ne1 (0: 1-D), required, where it goes */
  const struct {
    const char* role;
    const char* suffix;
    int64_t ne0, ne1;
    bool required;
    size_t field;
  } roles[] = {
      {"attn_norm", "weight", E, 0, true, offsetof(weft_llm_layer_t, attn_norm)},
      {"attn_q", "weight", E, q_out, true, offsetof(weft_llm_layer_t, wq)},
      {"attn_k", "weight", E, k_out, true, offsetof(weft_llm_layer_t, wk)},
      {"attn_v", "weight", E, v_out, true, offsetof(weft_llm_layer_t, wv)},
      {"attn_output", "weight", o_in, E, true, offsetof(weft_llm_layer_t, wo)},
      {"attn_q", "bias", q_out, 0, false, offsetof(weft_llm_layer_t, bq)},
      {"attn_k", "bias", k_out, 0, false, offsetof(weft_llm_layer_t, bk)},
      {"attn_v", "bias", v_out, 0, false, offsetof(weft_llm_layer_t, bv)},
      {"ffn_norm", "weight", E, 0, true, offsetof(weft_llm_layer_t, ffn_norm)},
      {"ffn_gate", "weight", E, F, true, offsetof(weft_llm_layer_t, ffn_gate)},
      {"ffn_up", "weight", E, F, true, offsetof(weft_llm_layer_t, ffn_up)},
      {"ffn_down", "weight", F, E, true, offsetof(weft_llm_layer_t, ffn_down)},
  };
  for (uint32_t i = 0; i < h->n_layer; ++i) {
    weft_llm_layer_t* l = &model->layers[i];
    for (size_t r = 0; r < sizeof(roles) / sizeof(roles[0]); ++r) {
      const weft_gguf_tensor_t** slot = (const weft_gguf_tensor_t**)((char*)l + roles[r].field);
      WEFT_RETURN_IF_ERROR(weft__llm_tensor(model, (int32_t)i, roles[r].role, roles[r].suffix,
                                            roles[r].ne0, roles[r].ne1, roles[r].required, slot));
    }
    l->rope_freq_base = h->rope_freq_base;
    l->rope_freq_scale = model->rope_freq_scale;
  }
  WEFT_RETURN_IF_ERROR(weft__llm_tensor(model, -1, "token_embd", "weight", E, h->n_vocab,
                                        true, &model->token_embd));
  WEFT_RETURN_IF_ERROR(weft__llm_tensor(model, -1, "output_norm", "weight", E, 0, true,
                                        &model->output_norm));
  WEFT_RETURN_IF_ERROR(weft__llm_tensor(model, -1, "output", "weight", E, h->n_vocab, false,
                                        &model->output));
  if (!model->output) model->output = model->token_embd; /* tied embeddings */
  return WEFT_OK;
}

static int32_t weft_model_token_id_get(const weft_model_t* model, const char* key) {
  if (!weft_gguf_kv_has(model->gguf, key)) return -1;
  uint32_t u;
  weft_status_t status = weft_gguf_get_u32(model->gguf, key, &u);
  if (status == WEFT_OK) return u < model->info.n_vocab ? (int32_t)u : -1;
  weft_status_free(status);
  int32_t i;
  status = weft_gguf_get_i32(model->gguf, key, &i);
  if (status == WEFT_OK && i >= 0 && (uint32_t)i < model->info.n_vocab) return i;
  weft_status_free(status);
  return -1;
}

static void weft_model_eog_add(weft_model_t* model, int32_t id) {
  if (id < 0 || model->eog_count >= sizeof(model->eog) / sizeof(model->eog[0])) return;
  for (uint32_t i = 0; i < model->eog_count; ++i) {
    if (model->eog[i] == id) return;
  }
  model->eog[model->eog_count++] = id;
}

/* End-of-generation ids: eos, eot, and the end-of-turn tokens of the chat
 * templates in use, found by their text in the vocabulary. */
static void weft_model_eog_find(weft_model_t* model) {
  weft_model_eog_add(model, model->info.eos_token);
  weft_model_eog_add(model, weft_model_token_id_get(model, "tokenizer.ggml.eot_token_id"));
  weft_gguf_array_t tokens;
  weft_status_t status =
      weft_gguf_get_array(model->gguf, "tokenizer.ggml.tokens", WEFT_GGUF_TYPE_STRING, &tokens);
  if (status != WEFT_OK) {
    weft_status_free(status);
    return;
  }
  static const char* const names[] = {"<end_of_turn>", "<|im_end|>", "<|eot_id|>",
                                      "<|endoftext|>"};
  /* These tokens sit among the first few hundred ids (special tokens);
   * a bounded scan keeps loading fast with 256k vocabularies. */
  uint64_t limit = tokens.count < 1024 ? tokens.count : 1024;
  for (uint64_t i = 0; i < limit; ++i) {
    weft_gguf_string_t s;
    status = weft_gguf_array_get_string(&tokens, i, &s);
    if (status != WEFT_OK) {
      weft_status_free(status);
      break;
    }
    for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); ++n) {
      if (s.size == strlen(names[n]) && memcmp(s.data, names[n], s.size) == 0) {
        weft_model_eog_add(model, (int32_t)i);
      }
    }
  }
}

bool weft_model_token_is_eog(const weft_model_t* model, int32_t token) {
  if (!model) return false;
  if (model->tokenizer && weft_tokenizer_is_end_of_generation(model->tokenizer, token)) {
    return true;
  }
  for (uint32_t i = 0; i < model->eog_count; ++i) {
    if (model->eog[i] == token) return true;
  }
  return false;
}

weft_status_t weft_model_load(weft_runtime_t* runtime, const char* path,
                              const weft_model_options_t* options, weft_model_t** out_model) {
  if (!runtime || !path || !out_model) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_model_load: runtime, path and out_model are required");
  }
  *out_model = NULL;
  weft_allocator_t allocator = weft_allocator_system();
  weft_device_t* device = NULL;
  if (options) {
    if (options->struct_size < sizeof(weft_model_options_t)) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "weft_model_load: options struct_size %u, expected %zu",
                              options->struct_size, sizeof(weft_model_options_t));
    }
    if (options->allocator.alloc) allocator = options->allocator;
    device = options->device;
  }
  if (!device) device = weft_runtime_device_default(runtime);
  if (!device) {
    return weft_status_make(WEFT_STATUS_UNAVAILABLE, "weft_model_load: the runtime has no device");
  }
  weft_model_t* model = (weft_model_t*)allocator.alloc(allocator.self, sizeof(*model), 0);
  if (!model) {
    return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "weft_model_load: %zu bytes",
                            sizeof(*model));
  }
  memset(model, 0, sizeof(*model));
  model->allocator = allocator;
  model->runtime = runtime;
  model->device = device;
  if (pthread_mutex_init(&model->run_lock, NULL) != 0) {
    allocator.free(allocator.self, model);
    return weft_status_make(WEFT_STATUS_INTERNAL, "weft_model_load: pthread_mutex_init failed");
  }
  model->run_lock_ready = true;

  weft_status_t status = weft_gguf_create_from_file(path, allocator, &model->gguf);
  if (status != WEFT_OK) goto failed;

  weft_gguf_string_t arch;
  status = weft_gguf_get_string(model->gguf, "general.architecture", &arch);
  if (status != WEFT_OK) {
    status = weft_status_annotate(status, "%s", path);
    goto failed;
  }
  if (arch.size == 5 && memcmp(arch.data, "llama", 5) == 0) {
    model->arch = WEFT_LLM_ARCH_LLAMA;
    model->info.architecture = "llama";
  } else if (arch.size == 6 && memcmp(arch.data, "gemma3", 6) == 0) {
    model->arch = WEFT_LLM_ARCH_GEMMA3;
    model->info.architecture = "gemma3";
  } else {
    status = weft_status_make(WEFT_STATUS_UNSUPPORTED,
                              "%s: architecture '%.*s' is not supported (llama, gemma3)", path,
                              (int)(arch.size < 64 ? arch.size : 64), arch.data);
    goto failed;
  }
  weft_gguf_string_t name;
  weft_status_t name_status = weft_gguf_get_string(model->gguf, "general.name", &name);
  if (name_status == WEFT_OK) {
    size_t n = name.size < sizeof(model->name) - 1 ? (size_t)name.size : sizeof(model->name) - 1;
    memcpy(model->name, name.data, n);
  }
  weft_status_free(name_status);
  model->info.name = model->name;
  model->info.weight_bytes = weft_gguf_data_size(model->gguf);

  /* Common hyperparameters (llama.cpp's LLM_KV_* names). */
  weft_model_info_t* h = &model->info;
  {
    const weft_gguf_tensor_t* embd = NULL;
    status = weft_gguf_tensor_find(model->gguf, "token_embd.weight", &embd);
    if (status != WEFT_OK) {
      status = weft_status_annotate(status, "%s", path);
      goto failed;
    }
    h->n_vocab = (uint32_t)embd->ne[1];
  }
#define WEFT_MODEL_TRY(expr)            \
  do {                                  \
    status = (expr);                    \
    if (status != WEFT_OK) goto failed; \
  } while (0)
  WEFT_MODEL_TRY(weft__llm_key_u32(model, "context_length", true, 0, &h->n_ctx_train));
  WEFT_MODEL_TRY(weft__llm_key_u32(model, "embedding_length", true, 0, &h->n_embd));
  WEFT_MODEL_TRY(weft__llm_key_u32(model, "block_count", true, 0, &h->n_layer));
  WEFT_MODEL_TRY(weft__llm_key_u32(model, "feed_forward_length", true, 0, &h->n_ff));
  WEFT_MODEL_TRY(weft__llm_key_u32(model, "attention.head_count", true, 0, &h->n_head));
  WEFT_MODEL_TRY(weft__llm_key_u32(model, "attention.head_count_kv", false, h->n_head,
                                   &h->n_head_kv));
  WEFT_MODEL_TRY(weft__llm_key_f32(model, "attention.layer_norm_rms_epsilon", true, 0,
                                   &h->rms_eps));
  WEFT_MODEL_TRY(weft__llm_key_f32(model, "rope.freq_base", false, 10000.0f,
                                   &h->rope_freq_base));
  h->rope_freq_base_local = h->rope_freq_base;
  /* Linear rope scaling (llama.cpp's rope.scaling.factor with type
   * "linear"): positions are multiplied by 1 / factor. Other scaling types
   * (YaRN, llama3) are refused rather than run wrong. */
  model->rope_freq_scale = 1.0f;
  {
    char key[96];
    snprintf(key, sizeof(key), "%s.rope.scaling.type", h->architecture);
    weft_gguf_string_t type = {"none", 4};
    weft_status_t ts = weft_gguf_get_string(model->gguf, key, &type);
    weft_status_free(ts);
    float factor = 1.0f;
    WEFT_MODEL_TRY(weft__llm_key_f32(model, "rope.scaling.factor", false, 1.0f, &factor));
    bool linear = type.size == 6 && memcmp(type.data, "linear", 6) == 0;
    bool none = type.size == 4 && memcmp(type.data, "none", 4) == 0;
    if (!(factor > 0.0f) || (!linear && !none && factor != 1.0f)) {
      status = weft_status_make(WEFT_STATUS_UNSUPPORTED,
                                "%s: rope scaling '%.*s' with factor %g is not supported "
                                "(linear only)",
                                path, (int)(type.size < 32 ? type.size : 32), type.data,
                                (double)factor);
      goto failed;
    }
    if (linear || none) model->rope_freq_scale = 1.0f / factor;
  }
  if (h->n_head == 0 || h->n_head_kv == 0 || h->n_head % h->n_head_kv != 0 || h->n_embd == 0 ||
      h->n_layer == 0 || h->n_layer > 4096 || h->n_ff == 0) {
    status = weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "%s: n_embd %u, n_layer %u, n_ff %u, head_count %u, head_count_kv "
                              "%u do not fit together",
                              path, h->n_embd, h->n_layer, h->n_ff, h->n_head, h->n_head_kv);
    goto failed;
  }
  uint32_t head_dim = h->n_embd / h->n_head;
  WEFT_MODEL_TRY(weft__llm_key_u32(model, "attention.key_length", false, head_dim,
                                   &h->head_dim_k));
  WEFT_MODEL_TRY(weft__llm_key_u32(model, "attention.value_length", false, head_dim,
                                   &h->head_dim_v));
  if (h->head_dim_k == 0 || h->head_dim_k % 2 != 0 || h->head_dim_v == 0) {
    status = weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "%s: key_length %u must be even and > 0, value_length %u > 0",
                              path, h->head_dim_k, h->head_dim_v);
    goto failed;
  }
  model->attn_scale = 1.0f / sqrtf((float)h->head_dim_k);
  model->embd_scale = 1.0f;
  h->bos_token = weft_model_token_id_get(model, "tokenizer.ggml.bos_token_id");
  h->eos_token = weft_model_token_id_get(model, "tokenizer.ggml.eos_token_id");

  {
    size_t bytes = sizeof(weft_llm_layer_t) * h->n_layer;
    model->layers = (weft_llm_layer_t*)allocator.alloc(allocator.self, bytes, 0);
    if (!model->layers) {
      status = weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "weft_model_load: %zu bytes", bytes);
      goto failed;
    }
    memset(model->layers, 0, bytes);
  }
  WEFT_MODEL_TRY(weft__llm_layers_load_common(model));
  WEFT_MODEL_TRY(model->arch == WEFT_LLM_ARCH_LLAMA ? weft__llama_load(model)
                                                    : weft__gemma3_load(model));
#undef WEFT_MODEL_TRY
  weft_model_eog_find(model);
  {
    weft_status_t ts = weft_tokenizer_create_from_gguf(model->gguf, allocator, &model->tokenizer);
    if (ts != WEFT_OK) {
      model->tokenizer = NULL;
      model->tokenizer_code = weft_status_code(ts);
      snprintf(model->tokenizer_error, sizeof(model->tokenizer_error), "%s",
               weft_status_message(ts));
      weft_status_free(ts);
    }
  }

  status = weft_buffer_map_file(device, path, &model->weights);
  if (status != WEFT_OK) goto failed;
  *out_model = model;
  return WEFT_OK;

failed:
  weft_model_destroy(model);
  return status;
}

void weft_model_destroy(weft_model_t* model) {
  if (!model) return;
  weft_tokenizer_destroy(model->tokenizer);
  weft_buffer_destroy(model->weights);
  weft_gguf_destroy(model->gguf);
  if (model->run_lock_ready) pthread_mutex_destroy(&model->run_lock);
  weft_allocator_t allocator = model->allocator;
  if (model->layers) allocator.free(allocator.self, model->layers);
  allocator.free(allocator.self, model);
}

void weft_model_info_get(const weft_model_t* model, weft_model_info_t* out_info) {
  if (!out_info) return;
  if (!model) {
    memset(out_info, 0, sizeof(*out_info));
    return;
  }
  *out_info = model->info;
}

const weft_gguf_t* weft_model_gguf(const weft_model_t* model) {
  return model ? model->gguf : NULL;
}

weft_status_t weft_model_tokenizer(const weft_model_t* model,
                                   const weft_tokenizer_t** out_tokenizer) {
  if (!model || !out_tokenizer) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_model_tokenizer: model and out_tokenizer are required");
  }
  if (!model->tokenizer) {
    return weft_status_make(model->tokenizer_code, "model has no tokenizer: %s",
                            model->tokenizer_error);
  }
  *out_tokenizer = model->tokenizer;
  return WEFT_OK;
}
