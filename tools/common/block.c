#include "block.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: reproducible across platforms. */
static uint64_t weft_block_next(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static float weft_block_uniform(uint64_t* state, float scale) {
  return ((float)(weft_block_next(state) >> 40) / (float)(1u << 24) * 2.0f - 1.0f) * scale;
}

typedef struct weft_block_layout_t {
  uint64_t norm1, wq, wk, wv, wo, norm2, wg, wu, wd, layer_bytes;
} weft_block_layout_t;

static weft_block_layout_t weft_block_layout(const weft_block_config_t* c) {
  int64_t head_dim = c->embd / c->heads;
  weft_block_layout_t l;
  uint64_t at = 0;
  l.norm1 = at; at += (uint64_t)c->embd * 4;
  l.wq = at; at += (uint64_t)(c->embd * c->embd) * 4;
  l.wk = at; at += (uint64_t)(c->embd * head_dim * c->kv_heads) * 4;
  l.wv = at; at += (uint64_t)(c->embd * head_dim * c->kv_heads) * 4;
  l.wo = at; at += (uint64_t)(c->embd * c->embd) * 4;
  l.norm2 = at; at += (uint64_t)c->embd * 4;
  l.wg = at; at += (uint64_t)(c->embd * c->ffn) * 4;
  l.wu = at; at += (uint64_t)(c->embd * c->ffn) * 4;
  l.wd = at; at += (uint64_t)(c->embd * c->ffn) * 4;
  l.layer_bytes = at;
  return l;
}

#define WEFT_BLOCK_TRY(expr)            \
  do {                                  \
    status = (expr);                    \
    if (status != WEFT_OK) goto failed; \
  } while (0)

weft_status_t weft_block_init(const weft_block_config_t* c, weft_device_t* device,
                              weft_graph_t* graph, weft_block_t* out) {
  memset(out, 0, sizeof(*out));
  if (c->heads <= 0 || c->kv_heads <= 0 || c->embd % c->heads != 0 ||
      c->heads % c->kv_heads != 0 || c->layers <= 0 || c->tokens <= 0) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "block: embd %lld, heads %lld, kv_heads %lld, layers %d, tokens "
                            "%lld do not fit together",
                            (long long)c->embd, (long long)c->heads, (long long)c->kv_heads,
                            c->layers, (long long)c->tokens);
  }
  const int64_t D = c->embd / c->heads, H = c->heads, G = c->kv_heads, T = c->tokens;
  const int64_t E = c->embd, F = c->ffn;
  weft_block_layout_t l = weft_block_layout(c);
  uint64_t total = l.layer_bytes * (uint64_t)c->layers;
  weft_status_t status = weft_buffer_create(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, total,
                                            &out->weights);
  if (status != WEFT_OK) return status;
  /* Weights: small uniform values, norms near 1. */
  {
    float* host = (float*)malloc((size_t)total);
    if (!host) {
      status = weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "block: %llu bytes of weights",
                                (unsigned long long)total);
      goto failed;
    }
    uint64_t state = c->seed;
    for (uint64_t i = 0; i < total / 4; ++i) host[i] = weft_block_uniform(&state, 0.08f);
    for (int32_t layer = 0; layer < c->layers; ++layer) {
      float* base = host + (l.layer_bytes * (uint64_t)layer) / 4;
      for (int64_t i = 0; i < E; ++i) {
        base[l.norm1 / 4 + (uint64_t)i] += 1.0f;
        base[l.norm2 / 4 + (uint64_t)i] += 1.0f;
      }
    }
    status = weft_buffer_write(out->weights, 0, host, total);
    free(host);
    if (status != WEFT_OK) goto failed;
  }
  int64_t ne_x[2] = {E, T}, ne_t[1] = {T}, ne_m[2] = {T, T};
  WEFT_BLOCK_TRY(weft_graph_input(graph, "x", WEFT_DTYPE_F32, 2, ne_x, &out->x));
  WEFT_BLOCK_TRY(weft_graph_input(graph, "positions", WEFT_DTYPE_I32, 1, ne_t, &out->positions));
  WEFT_BLOCK_TRY(weft_graph_input(graph, "mask", WEFT_DTYPE_F32, 2, ne_m, &out->mask));
  weft_tensor_t* x = out->x;
  static const uint32_t swap12[4] = {0, 2, 1, 3};
  for (int32_t layer = 0; layer < c->layers; ++layer) {
    uint64_t at = l.layer_bytes * (uint64_t)layer;
    weft_tensor_t *g1, *wq, *wk, *wv, *wo, *g2, *wg, *wu, *wd;
    int64_t ne_e[1] = {E}, ne_q[2] = {E, E}, ne_k[2] = {E, D * G}, ne_f[2] = {E, F};
    int64_t ne_d[2] = {F, E};
    WEFT_BLOCK_TRY(weft_graph_bind(graph, "attn_norm", WEFT_DTYPE_F32, 1, ne_e, out->weights, at + l.norm1, &g1));
    WEFT_BLOCK_TRY(weft_graph_bind(graph, "attn_q", WEFT_DTYPE_F32, 2, ne_q, out->weights, at + l.wq, &wq));
    WEFT_BLOCK_TRY(weft_graph_bind(graph, "attn_k", WEFT_DTYPE_F32, 2, ne_k, out->weights, at + l.wk, &wk));
    WEFT_BLOCK_TRY(weft_graph_bind(graph, "attn_v", WEFT_DTYPE_F32, 2, ne_k, out->weights, at + l.wv, &wv));
    WEFT_BLOCK_TRY(weft_graph_bind(graph, "attn_output", WEFT_DTYPE_F32, 2, ne_q, out->weights, at + l.wo, &wo));
    WEFT_BLOCK_TRY(weft_graph_bind(graph, "ffn_norm", WEFT_DTYPE_F32, 1, ne_e, out->weights, at + l.norm2, &g2));
    WEFT_BLOCK_TRY(weft_graph_bind(graph, "ffn_gate", WEFT_DTYPE_F32, 2, ne_f, out->weights, at + l.wg, &wg));
    WEFT_BLOCK_TRY(weft_graph_bind(graph, "ffn_up", WEFT_DTYPE_F32, 2, ne_f, out->weights, at + l.wu, &wu));
    WEFT_BLOCK_TRY(weft_graph_bind(graph, "ffn_down", WEFT_DTYPE_F32, 2, ne_d, out->weights, at + l.wd, &wd));

    weft_tensor_t *n, *xn, *q, *k, *v, *a, *o, *h;
    WEFT_BLOCK_TRY(weft_graph_rms_norm(graph, x, 1e-5f, &n));
    WEFT_BLOCK_TRY(weft_graph_mul(graph, n, g1, &xn));
    WEFT_BLOCK_TRY(weft_graph_mul_mat(graph, wq, xn, &q));
    WEFT_BLOCK_TRY(weft_graph_mul_mat(graph, wk, xn, &k));
    WEFT_BLOCK_TRY(weft_graph_mul_mat(graph, wv, xn, &v));
    int64_t ne_qh[3] = {D, H, T}, ne_kh[3] = {D, G, T};
    weft_op_rope_params_t rope = {sizeof(rope), WEFT_ROPE_MODE_NEOX, 0, 10000.0f, 1.0f};
    WEFT_BLOCK_TRY(weft_graph_reshape(graph, q, 3, ne_qh, &q));
    WEFT_BLOCK_TRY(weft_graph_rope(graph, q, out->positions, &rope, &q));
    WEFT_BLOCK_TRY(weft_graph_permute(graph, q, swap12, &q));
    WEFT_BLOCK_TRY(weft_graph_reshape(graph, k, 3, ne_kh, &k));
    WEFT_BLOCK_TRY(weft_graph_rope(graph, k, out->positions, &rope, &k));
    WEFT_BLOCK_TRY(weft_graph_permute(graph, k, swap12, &k));
    WEFT_BLOCK_TRY(weft_graph_reshape(graph, v, 3, ne_kh, &v));
    WEFT_BLOCK_TRY(weft_graph_permute(graph, v, swap12, &v));
    WEFT_BLOCK_TRY(weft_graph_flash_attn(graph, q, k, v, out->mask, NULL, &a));
    int64_t ne_flat[2] = {E, T};
    WEFT_BLOCK_TRY(weft_graph_permute(graph, a, swap12, &a));
    WEFT_BLOCK_TRY(weft_graph_cont(graph, a, &a));
    WEFT_BLOCK_TRY(weft_graph_reshape(graph, a, 2, ne_flat, &a));
    WEFT_BLOCK_TRY(weft_graph_mul_mat(graph, wo, a, &o));
    WEFT_BLOCK_TRY(weft_graph_add(graph, x, o, &h));

    weft_tensor_t *hn, *gate, *up, *act, *down;
    WEFT_BLOCK_TRY(weft_graph_rms_norm(graph, h, 1e-5f, &n));
    WEFT_BLOCK_TRY(weft_graph_mul(graph, n, g2, &hn));
    WEFT_BLOCK_TRY(weft_graph_mul_mat(graph, wg, hn, &gate));
    WEFT_BLOCK_TRY(weft_graph_mul_mat(graph, wu, hn, &up));
    WEFT_BLOCK_TRY(weft_graph_swiglu(graph, gate, up, &act));
    WEFT_BLOCK_TRY(weft_graph_mul_mat(graph, wd, act, &down));
    WEFT_BLOCK_TRY(weft_graph_add(graph, h, down, &x));
  }
  out->out = x;
  WEFT_BLOCK_TRY(weft_tensor_name_set(x, "out"));
  WEFT_BLOCK_TRY(weft_graph_output(graph, x));
  return WEFT_OK;

failed:
  weft_block_deinit(out);
  return status;
}

void weft_block_deinit(weft_block_t* block) {
  if (!block) return;
  weft_buffer_destroy(block->weights);
  memset(block, 0, sizeof(*block));
}

weft_status_t weft_block_inputs_set(const weft_block_config_t* c, const weft_block_t* block,
                                    weft_program_t* program, uint64_t seed) {
  const int64_t E = c->embd, T = c->tokens;
  size_t count = (size_t)(E * T) + (size_t)(T * T);
  float* values = (float*)malloc(count * sizeof(float));
  int32_t* positions = (int32_t*)malloc((size_t)T * sizeof(int32_t));
  weft_status_t status = WEFT_OK;
  if (!values || !positions) {
    status = weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "block inputs");
  } else {
    uint64_t state = seed;
    for (int64_t i = 0; i < E * T; ++i) values[i] = weft_block_uniform(&state, 1.0f);
    float* mask = values + E * T;
    for (int64_t q = 0; q < T; ++q) {
      for (int64_t kv = 0; kv < T; ++kv) mask[q * T + kv] = kv <= q ? 0.0f : -INFINITY;
    }
    for (int64_t t = 0; t < T; ++t) positions[t] = (int32_t)t;
    status = weft_program_set_input(program, block->x, values, (uint64_t)(E * T) * 4);
    if (status == WEFT_OK) {
      status = weft_program_set_input(program, block->mask, mask, (uint64_t)(T * T) * 4);
    }
    if (status == WEFT_OK) {
      status = weft_program_set_input(program, block->positions, positions, (uint64_t)T * 4);
    }
  }
  free(values);
  free(positions);
  return status;
}
