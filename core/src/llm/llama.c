/* The llama family: pre-norm decoder layers with SwiGLU FFN (LLaMA 1-3,
 * SmolLM2, TinyLlama; Qwen2-style q/k/v biases when present). */
#include "llm/llm_impl.h"

weft_status_t weft__llama_load(weft_model_t* model) {
  /* Every layer is global; rope on the whole head, normal (GPT-J) pairing,
   * since the GGUF converter permutes q/k rows for it. */
  for (uint32_t i = 0; i < model->info.n_layer; ++i) model->layers[i].sliding = false;
  return WEFT_OK;
}

weft_status_t weft__llama_layer(const weft_llm_layer_ctx_t* c, weft_tensor_t* x,
                                weft_tensor_t** out_tensor) {
  const weft_llm_layer_t* l = &c->model->layers[c->il];
  weft_graph_t* graph = c->g->graph;
  weft_tensor_t *xn, *attn, *h, *hn, *gate, *up, *wg, *wu, *wd, *act, *down;
  WEFT_RETURN_IF_ERROR(weft__llm_norm(c, x, l->attn_norm, &xn));
  WEFT_RETURN_IF_ERROR(weft__llm_attention(c, xn, &attn));
  WEFT_RETURN_IF_ERROR(weft_graph_add(graph, x, attn, &h));
  WEFT_RETURN_IF_ERROR(weft__llm_norm(c, h, l->ffn_norm, &hn));
  WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(c->model, graph, l->ffn_gate, &wg));
  WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(c->model, graph, l->ffn_up, &wu));
  WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(c->model, graph, l->ffn_down, &wd));
  WEFT_RETURN_IF_ERROR(weft_graph_mul_mat(graph, wg, hn, &gate));
  WEFT_RETURN_IF_ERROR(weft_graph_mul_mat(graph, wu, hn, &up));
  WEFT_RETURN_IF_ERROR(weft_graph_swiglu(graph, gate, up, &act));
  WEFT_RETURN_IF_ERROR(weft_graph_mul_mat(graph, wd, act, &down));
  return weft_graph_add(graph, h, down, out_tensor);
}
