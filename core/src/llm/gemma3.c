/* Gemma 3: sandwich norms (pre and post attention, pre and post FFN),
 * per-head q/k rms norms, GeGLU with gelu tanh, embeddings scaled by
 * sqrt(n_embd), and five sliding-window layers for every global one. The
 * norm weights in GGUF already include Gemma's "1 +" (the converter adds it). */
#include <math.h>

#include "llm/llm_impl.h"

/* Gemma 3: layers il % 6 < 5 are local (sliding window), il % 6 == 5 global
 * (Gemma 3 technical report, section 2.2: 5 local layers per global one). */
#define WEFT_GEMMA3_SWA_PERIOD 6u
/* Local layers use rope base 10k; global ones the file's base (1M). */
#define WEFT_GEMMA3_LOCAL_ROPE_BASE 10000.0f

weft_status_t weft__gemma3_load(weft_model_t* model) {
  weft_model_info_t* h = &model->info;
  WEFT_RETURN_IF_ERROR(weft__llm_key_u32(model, "attention.sliding_window", true, 0,
                                         &h->sliding_window));
  WEFT_RETURN_IF_ERROR(weft__llm_key_f32(model, "rope.freq_base_swa", false,
                                         WEFT_GEMMA3_LOCAL_ROPE_BASE, &h->rope_freq_base_local));
  model->embd_scale = sqrtf((float)h->n_embd);
  /* query_pre_attn_scalar is head_dim for every size but 27B (llama.cpp uses
   * n_embd / n_head there); the file carries no key for it. */
  model->attn_scale = 1.0f / sqrtf((float)h->head_dim_k);
  if (h->n_layer == 62 && h->n_embd == 5376) {
    model->attn_scale = 1.0f / sqrtf((float)(h->n_embd / h->n_head));
  }
  for (uint32_t i = 0; i < h->n_layer; ++i) {
    weft_llm_layer_t* l = &model->layers[i];
    int32_t il = (int32_t)i;
    WEFT_RETURN_IF_ERROR(weft__llm_tensor(model, il, "attn_q_norm", "weight", h->head_dim_k, 0,
                                          true, &l->q_norm));
    WEFT_RETURN_IF_ERROR(weft__llm_tensor(model, il, "attn_k_norm", "weight", h->head_dim_k, 0,
                                          true, &l->k_norm));
    WEFT_RETURN_IF_ERROR(weft__llm_tensor(model, il, "post_attention_norm", "weight", h->n_embd,
                                          0, true, &l->post_attn_norm));
    WEFT_RETURN_IF_ERROR(weft__llm_tensor(model, il, "post_ffw_norm", "weight", h->n_embd, 0,
                                          true, &l->post_ffw_norm));
    l->sliding = h->sliding_window > 0 && (i % WEFT_GEMMA3_SWA_PERIOD) < WEFT_GEMMA3_SWA_PERIOD - 1;
    l->rope_freq_base = l->sliding ? h->rope_freq_base_local : h->rope_freq_base;
    /* Scaling (4B and up: linear 8) applies to global layers only. */
    l->rope_freq_scale = l->sliding ? 1.0f : model->rope_freq_scale;
  }
  return WEFT_OK;
}

weft_status_t weft__gemma3_layer(const weft_llm_layer_ctx_t* c, weft_tensor_t* x,
                                 weft_tensor_t** out_tensor) {
  const weft_llm_layer_t* l = &c->model->layers[c->il];
  weft_graph_t* graph = c->g->graph;
  weft_tensor_t *xn, *attn, *h, *hn, *gate, *up, *wg, *wu, *wd, *act, *down;
  WEFT_RETURN_IF_ERROR(weft__llm_norm(c, x, l->attn_norm, &xn));
  WEFT_RETURN_IF_ERROR(weft__llm_attention(c, xn, &attn));
  WEFT_RETURN_IF_ERROR(weft__llm_norm(c, attn, l->post_attn_norm, &attn));
  WEFT_RETURN_IF_ERROR(weft_graph_add(graph, x, attn, &h));
  WEFT_RETURN_IF_ERROR(weft__llm_norm(c, h, l->ffn_norm, &hn));
  WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(c->model, graph, l->ffn_gate, &wg));
  WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(c->model, graph, l->ffn_up, &wu));
  WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(c->model, graph, l->ffn_down, &wd));
  WEFT_RETURN_IF_ERROR(weft_graph_mul_mat(graph, wg, hn, &gate));
  WEFT_RETURN_IF_ERROR(weft_graph_mul_mat(graph, wu, hn, &up));
  WEFT_RETURN_IF_ERROR(weft_graph_geglu(graph, gate, up, WEFT_GELU_MODE_TANH, &act));
  WEFT_RETURN_IF_ERROR(weft_graph_mul_mat(graph, wd, act, &down));
  WEFT_RETURN_IF_ERROR(weft__llm_norm(c, down, l->post_ffw_norm, &down));
  return weft_graph_add(graph, h, down, out_tensor);
}
