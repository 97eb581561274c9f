/* The decoder graph shared by the architectures: embeddings, attention over
 * the KV cache, the output head. llama.c and gemma3.c supply the layers. */
#include <math.h>
#include <stdio.h>

#include "llm/llm_impl.h"

weft_status_t weft__llm_norm(const weft_llm_layer_ctx_t* c, weft_tensor_t* x,
                             const weft_gguf_tensor_t* weight, weft_tensor_t** out_tensor) {
  weft_tensor_t *n, *w;
  WEFT_RETURN_IF_ERROR(weft_graph_rms_norm(c->g->graph, x, c->model->info.rms_eps, &n));
  WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(c->model, c->g->graph, weight, &w));
  return weft_graph_mul(c->g->graph, n, w, out_tensor);
}

static weft_status_t weft_llm_project(const weft_llm_layer_ctx_t* c, weft_tensor_t* xn,
                                      const weft_gguf_tensor_t* weight,
                                      const weft_gguf_tensor_t* bias, weft_tensor_t** out) {
  weft_tensor_t *w, *y;
  WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(c->model, c->g->graph, weight, &w));
  WEFT_RETURN_IF_ERROR(weft_graph_mul_mat(c->g->graph, w, xn, &y));
  if (bias) {
    weft_tensor_t* b;
    WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(c->model, c->g->graph, bias, &b));
    WEFT_RETURN_IF_ERROR(weft_graph_add(c->g->graph, y, b, &y));
  }
  *out = y;
  return WEFT_OK;
}

/* Writes the batch's rows [dim, T, G] into a cache table at the batch's
 * positions and returns a view of the table's first n_kv rows that depends
 * on the write. */
static weft_status_t weft_llm_cache_write(const weft_llm_layer_ctx_t* c, weft_tensor_t* rows,
                                          int64_t dim, uint64_t offset, const char* what,
                                          weft_tensor_t** out_view) {
  const weft_kv_cache_t* cache = c->cache;
  weft_graph_t* graph = c->g->graph;
  const int64_t G = c->model->info.n_head_kv;
  const int64_t elem = weft_dtype_block_bytes(cache->dtype);
  char name[48];
  snprintf(name, sizeof(name), "cache_%s.%u", what, c->il);
  int64_t ne_table[3] = {dim, cache->n_ctx, G};
  weft_tensor_t *table, *written;
  WEFT_RETURN_IF_ERROR(
      weft_graph_bind(graph, name, cache->dtype, 3, ne_table, cache->buffer, offset, &table));
  WEFT_RETURN_IF_ERROR(weft_graph_set_rows(graph, table, rows, c->g->positions, &written));
  int64_t ne[3] = {dim, c->g->n_kv, G};
  int64_t nb[3] = {elem, dim * elem, dim * (int64_t)cache->n_ctx * elem};
  return weft_graph_view(graph, written, 3, ne, nb, 0, out_view);
}

weft_status_t weft__llm_attention(const weft_llm_layer_ctx_t* c, weft_tensor_t* xn,
                                  weft_tensor_t** out_tensor) {
  const weft_model_t* model = c->model;
  const weft_model_info_t* h = &model->info;
  const weft_llm_layer_t* l = &model->layers[c->il];
  weft_graph_t* graph = c->g->graph;
  const int64_t T = c->g->n_tokens, D = h->head_dim_k, Dv = h->head_dim_v;
  const int64_t H = h->n_head, G = h->n_head_kv;
  static const uint32_t swap12[4] = {0, 2, 1, 3};

  weft_tensor_t *q, *k, *v;
  WEFT_RETURN_IF_ERROR(weft_llm_project(c, xn, l->wq, l->bq, &q));
  WEFT_RETURN_IF_ERROR(weft_llm_project(c, xn, l->wk, l->bk, &k));
  WEFT_RETURN_IF_ERROR(weft_llm_project(c, xn, l->wv, l->bv, &v));
  int64_t ne_q[3] = {D, H, T}, ne_k[3] = {D, G, T}, ne_v[3] = {Dv, G, T};
  WEFT_RETURN_IF_ERROR(weft_graph_reshape(graph, q, 3, ne_q, &q));
  WEFT_RETURN_IF_ERROR(weft_graph_reshape(graph, k, 3, ne_k, &k));
  WEFT_RETURN_IF_ERROR(weft_graph_reshape(graph, v, 3, ne_v, &v));
  if (l->q_norm) WEFT_RETURN_IF_ERROR(weft__llm_norm(c, q, l->q_norm, &q));
  if (l->k_norm) WEFT_RETURN_IF_ERROR(weft__llm_norm(c, k, l->k_norm, &k));
  weft_op_rope_params_t rope = {sizeof(rope),
                                model->arch == WEFT_LLM_ARCH_GEMMA3 ? WEFT_ROPE_MODE_NEOX
                                                                    : WEFT_ROPE_MODE_NORMAL,
                                0, l->rope_freq_base, l->rope_freq_scale};
  WEFT_RETURN_IF_ERROR(weft_graph_rope(graph, q, c->g->positions, &rope, &q));
  WEFT_RETURN_IF_ERROR(weft_graph_rope(graph, k, c->g->positions, &rope, &k));
  WEFT_RETURN_IF_ERROR(weft_graph_permute(graph, q, swap12, &q));
  WEFT_RETURN_IF_ERROR(weft_graph_permute(graph, k, swap12, &k));
  WEFT_RETURN_IF_ERROR(weft_graph_permute(graph, v, swap12, &v));

  weft_tensor_t *kc, *vc, *a, *wo, *o;
  WEFT_RETURN_IF_ERROR(
      weft_llm_cache_write(c, k, D, weft__kv_cache_k_offset(c->cache, c->il), "k", &kc));
  WEFT_RETURN_IF_ERROR(
      weft_llm_cache_write(c, v, Dv, weft__kv_cache_v_offset(c->cache, c->il), "v", &vc));
  /* The window is in the mask: with n_kv padded past the last position the
   * op's own sliding_window (counted from n_kv) would be off. */
  weft_op_flash_attn_params_t fa = {sizeof(fa), model->attn_scale, 0.0f, 0};
  weft_tensor_t* mask = l->sliding ? c->g->mask_swa : c->g->mask;
  WEFT_RETURN_IF_ERROR(weft_graph_flash_attn(graph, q, kc, vc, mask, &fa, &a));
  int64_t ne_flat[2] = {Dv * H, T};
  WEFT_RETURN_IF_ERROR(weft_graph_permute(graph, a, swap12, &a));
  WEFT_RETURN_IF_ERROR(weft_graph_cont(graph, a, &a));
  WEFT_RETURN_IF_ERROR(weft_graph_reshape(graph, a, 2, ne_flat, &a));
  WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(model, graph, l->wo, &wo));
  WEFT_RETURN_IF_ERROR(weft_graph_mul_mat(graph, wo, a, &o));
  *out_tensor = o;
  return WEFT_OK;
}

weft_status_t weft__llm_graph_build(const weft_model_t* model, const weft_kv_cache_t* cache,
                                    weft_llm_graph_t* g) {
  const weft_model_info_t* h = &model->info;
  weft_graph_t* graph = g->graph;
  const int64_t T = g->n_tokens, E = h->n_embd;
  int64_t ne_t[1] = {T}, ne_m[2] = {g->n_kv, T};
  WEFT_RETURN_IF_ERROR(weft_graph_input(graph, "tokens", WEFT_DTYPE_I32, 1, ne_t, &g->tokens));
  WEFT_RETURN_IF_ERROR(
      weft_graph_input(graph, "positions", WEFT_DTYPE_I32, 1, ne_t, &g->positions));
  WEFT_RETURN_IF_ERROR(weft_graph_input(graph, "mask", WEFT_DTYPE_F32, 2, ne_m, &g->mask));
  g->mask_swa = NULL;
  for (uint32_t il = 0; il < h->n_layer; ++il) {
    if (model->layers[il].sliding) {
      WEFT_RETURN_IF_ERROR(
          weft_graph_input(graph, "mask_swa", WEFT_DTYPE_F32, 2, ne_m, &g->mask_swa));
      break;
    }
  }
  weft_tensor_t *embd, *x;
  WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(model, graph, model->token_embd, &embd));
  WEFT_RETURN_IF_ERROR(weft_graph_get_rows(graph, embd, g->tokens, &x));
  if (model->embd_scale != 1.0f) {
    WEFT_RETURN_IF_ERROR(weft_graph_scale(graph, x, model->embd_scale, 0.0f, &x));
  }
  for (uint32_t il = 0; il < h->n_layer; ++il) {
    weft_llm_layer_ctx_t c = {model, cache, g, il};
    weft_status_t status = model->arch == WEFT_LLM_ARCH_GEMMA3 ? weft__gemma3_layer(&c, x, &x)
                                                               : weft__llama_layer(&c, x, &x);
    if (status != WEFT_OK) return weft_status_annotate(status, "layer %u", il);
  }
  if (g->n_out == 1 && T > 1) {
    int64_t ne[2] = {E, 1}, nb[2] = {4, E * 4};
    WEFT_RETURN_IF_ERROR(weft_graph_view(graph, x, 2, ne, nb, (uint64_t)((T - 1) * E * 4), &x));
  }
  weft_llm_layer_ctx_t c = {model, cache, g, 0};
  weft_tensor_t* out;
  WEFT_RETURN_IF_ERROR(weft__llm_norm(&c, x, model->output_norm, &x));
  WEFT_RETURN_IF_ERROR(weft__llm_weight_bind(model, graph, model->output, &out));
  WEFT_RETURN_IF_ERROR(weft_graph_mul_mat(graph, out, x, &g->logits));
  WEFT_RETURN_IF_ERROR(weft_tensor_name_set(g->logits, "logits"));
  return weft_graph_output(graph, g->logits);
}
