/* The KV cache: one device buffer holding, per layer, a K table and a V
 * table of shape [head_dim, n_ctx, n_head_kv]. Rows are positions, so a
 * batch writes its keys with set_rows at its positions and attention reads
 * a view of the first n_kv rows, in position order. */
#include <string.h>

#include "llm/llm_impl.h"

weft_status_t weft__kv_cache_init(const weft_model_t* model, weft_device_t* device,
                                  weft_dtype_t dtype, uint32_t n_ctx,
                                  weft_kv_cache_t* out_cache) {
  memset(out_cache, 0, sizeof(*out_cache));
  if (dtype != WEFT_DTYPE_F16 && dtype != WEFT_DTYPE_F32) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "kv cache: dtype %s is not supported (f16, f32)",
                            weft_gguf_dtype_name(dtype));
  }
  const weft_model_info_t* h = &model->info;
  uint64_t elem = weft_dtype_block_bytes(dtype);
  out_cache->dtype = dtype;
  out_cache->n_ctx = n_ctx;
  out_cache->n_layer = h->n_layer;
  out_cache->k_bytes = (uint64_t)h->head_dim_k * n_ctx * h->n_head_kv * elem;
  out_cache->v_bytes = (uint64_t)h->head_dim_v * n_ctx * h->n_head_kv * elem;
  uint64_t total = (out_cache->k_bytes + out_cache->v_bytes) * h->n_layer;
  weft_status_t status =
      weft_buffer_create(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, total, &out_cache->buffer);
  if (status != WEFT_OK) {
    return weft_status_annotate(status, "kv cache: %llu bytes for n_ctx %u",
                                (unsigned long long)total, n_ctx);
  }
  status = weft__kv_cache_clear(out_cache);
  if (status != WEFT_OK) weft__kv_cache_deinit(out_cache);
  return status;
}

/* Rows past the filled positions are read (attention over a padded n_kv)
 * and weighted by exactly 0; they must hold finite values, not whatever the
 * allocation held, so that 0 * row stays 0. */
weft_status_t weft__kv_cache_clear(weft_kv_cache_t* cache) {
  uint32_t zero = 0;
  return weft_buffer_fill(cache->buffer, 0, weft_buffer_size(cache->buffer), &zero, 4);
}

void weft__kv_cache_deinit(weft_kv_cache_t* cache) {
  if (!cache) return;
  weft_buffer_destroy(cache->buffer);
  memset(cache, 0, sizeof(*cache));
}

uint64_t weft__kv_cache_k_offset(const weft_kv_cache_t* cache, uint32_t layer) {
  return (cache->k_bytes + cache->v_bytes) * layer;
}

uint64_t weft__kv_cache_v_offset(const weft_kv_cache_t* cache, uint32_t layer) {
  return (cache->k_bytes + cache->v_bytes) * layer + cache->k_bytes;
}
