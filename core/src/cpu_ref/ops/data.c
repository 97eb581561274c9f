/* Reference kernels that move data: get_rows, cpy, cont, set_rows, concat
 * and argmax. None of them does arithmetic beyond dtype conversion, so their
 * results are exact (docs/ops.md). */
#include "kernels_internal.h"

/* Walks the elements of a tensor in logical order (i0 fastest). */
typedef struct weft_cpu_ref_walk_t {
  const weft_cpu_ref_tensor_t* t;
  int64_t i[4];
} weft_cpu_ref_walk_t;

static char* weft_cpu_ref_walk_at(const weft_cpu_ref_walk_t* w) {
  return weft_cpu_ref_at(w->t, w->i[0], w->i[1], w->i[2], w->i[3]);
}

static void weft_cpu_ref_walk_next(weft_cpu_ref_walk_t* w) {
  for (int d = 0; d < 4; ++d) {
    if (++w->i[d] < w->t->ne[d]) return;
    w->i[d] = 0;
  }
}

/* Element-by-element copy in logical order, shapes may differ (equal element
 * counts); same dtype: bytes, otherwise float conversion. */
static void weft_cpu_ref_copy_elements(const weft_cpu_ref_tensor_t* src,
                                       const weft_cpu_ref_tensor_t* dst) {
  const int64_t n = src->ne[0] * src->ne[1] * src->ne[2] * src->ne[3];
  const size_t size = weft_dtype_block_bytes(src->dtype);
  weft_cpu_ref_walk_t in = {src, {0, 0, 0, 0}};
  weft_cpu_ref_walk_t out = {dst, {0, 0, 0, 0}};
  const bool same = src->dtype == dst->dtype;
  for (int64_t k = 0; k < n; ++k) {
    if (same) {
      memmove(weft_cpu_ref_walk_at(&out), weft_cpu_ref_walk_at(&in), size);
    } else {
      weft_cpu_ref_store(dst->dtype, weft_cpu_ref_walk_at(&out),
                         weft_cpu_ref_load(src->dtype, weft_cpu_ref_walk_at(&in)));
    }
    weft_cpu_ref_walk_next(&in);
    weft_cpu_ref_walk_next(&out);
  }
}

bool weft__cpu_ref_get_rows(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                            weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)params;
  const weft_cpu_ref_tensor_t* table = node->src[0];
  const weft_cpu_ref_tensor_t* ids = node->src[1];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  float* row = (float*)weft__cpu_ref_scratch_take(scratch, table->ne[0], sizeof(float));
  if (!row) return weft__cpu_ref_fail(error, error_cap, "get_rows: scratch too small");
  for (int64_t i12 = 0; i12 < ids->ne[2]; ++i12) {
    const int64_t i03 = table->ne[3] == 1 ? 0 : i12;
    for (int64_t i11 = 0; i11 < ids->ne[1]; ++i11) {
      const int64_t i02 = table->ne[2] == 1 ? 0 : i11;
      for (int64_t i10 = 0; i10 < ids->ne[0]; ++i10) {
        const int64_t id = weft_cpu_ref_load_id(ids->dtype, weft_cpu_ref_at(ids, i10, i11, i12, 0));
        if (id < 0 || id >= table->ne[1]) {
          return weft__cpu_ref_fail(error, error_cap,
                                    "get_rows: row id %lld at src1 [%lld, %lld, %lld] is outside "
                                    "src0's %lld rows",
                                    (long long)id, (long long)i10, (long long)i11,
                                    (long long)i12, (long long)table->ne[1]);
        }
        weft__cpu_ref_row_load(table, weft_cpu_ref_at(table, 0, id, i02, i03), row);
        weft__cpu_ref_row_store(dst, weft_cpu_ref_at(dst, 0, i10, i11, i12), row);
      }
    }
  }
  return true;
}

bool weft__cpu_ref_cpy(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                       weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)params;
  const weft_cpu_ref_tensor_t* src = node->src[0];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  if (!weft_cpu_ref_is_block(src->dtype) && !weft_cpu_ref_is_block(dst->dtype)) {
    weft_cpu_ref_copy_elements(src, dst);
    return true;
  }
  /* A block type on either side: equal shapes, row by row. */
  float* row = (float*)weft__cpu_ref_scratch_take(scratch, src->ne[0], sizeof(float));
  if (!row) return weft__cpu_ref_fail(error, error_cap, "cpy: scratch too small");
  const size_t row_bytes = (size_t)(src->ne[0] / (int64_t)weft_dtype_block_elements(src->dtype)) *
                           weft_dtype_block_bytes(src->dtype);
  for (int64_t i3 = 0; i3 < src->ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < src->ne[2]; ++i2) {
      for (int64_t i1 = 0; i1 < src->ne[1]; ++i1) {
        const char* in = weft_cpu_ref_at(src, 0, i1, i2, i3);
        char* out = weft_cpu_ref_at(dst, 0, i1, i2, i3);
        if (src->dtype == dst->dtype) {
          memmove(out, in, row_bytes); /* blocks copy as they are */
        } else {
          weft__cpu_ref_row_load(src, in, row);
          weft__cpu_ref_row_store(dst, out, row);
        }
      }
    }
  }
  return true;
}

bool weft__cpu_ref_cont(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                        weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)params;
  (void)scratch;
  (void)error;
  (void)error_cap;
  weft_cpu_ref_copy_elements(node->src[0], node->dst);
  return true;
}

bool weft__cpu_ref_set_rows(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                            weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)params;
  const weft_cpu_ref_tensor_t* src = node->src[0];
  const weft_cpu_ref_tensor_t* ids = node->src[1];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  float* row = (float*)weft__cpu_ref_scratch_take(scratch, src->ne[0], sizeof(float));
  if (!row) return weft__cpu_ref_fail(error, error_cap, "set_rows: scratch too small");
  for (int64_t i03 = 0; i03 < src->ne[3]; ++i03) {
    const int64_t i12 = i03 % ids->ne[2];
    for (int64_t i02 = 0; i02 < src->ne[2]; ++i02) {
      const int64_t i11 = i02 % ids->ne[1];
      for (int64_t i = 0; i < src->ne[1]; ++i) {
        const int64_t id = weft_cpu_ref_load_id(ids->dtype, weft_cpu_ref_at(ids, i, i11, i12, 0));
        if (id < 0 || id >= dst->ne[1]) {
          return weft__cpu_ref_fail(error, error_cap,
                                    "set_rows: row id %lld at src1 [%lld, %lld, %lld] is outside "
                                    "dst's %lld rows",
                                    (long long)id, (long long)i, (long long)i11, (long long)i12,
                                    (long long)dst->ne[1]);
        }
        weft__cpu_ref_row_load(src, weft_cpu_ref_at(src, 0, i, i02, i03), row);
        weft__cpu_ref_row_store(dst, weft_cpu_ref_at(dst, 0, id, i02, i03), row);
      }
    }
  }
  return true;
}

bool weft__cpu_ref_concat(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                          weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)scratch;
  (void)error;
  (void)error_cap;
  const weft_cpu_ref_tensor_t* a = node->src[0];
  const weft_cpu_ref_tensor_t* b = node->src[1];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  const int dim = params->dim;
  const size_t size = weft_dtype_block_bytes(dst->dtype);
  int64_t i[4];
  for (i[3] = 0; i[3] < dst->ne[3]; ++i[3]) {
    for (i[2] = 0; i[2] < dst->ne[2]; ++i[2]) {
      for (i[1] = 0; i[1] < dst->ne[1]; ++i[1]) {
        for (i[0] = 0; i[0] < dst->ne[0]; ++i[0]) {
          const char* in;
          if (i[dim] < a->ne[dim]) {
            in = weft_cpu_ref_at(a, i[0], i[1], i[2], i[3]);
          } else {
            int64_t j[4] = {i[0], i[1], i[2], i[3]};
            j[dim] -= a->ne[dim];
            in = weft_cpu_ref_at(b, j[0], j[1], j[2], j[3]);
          }
          memcpy(weft_cpu_ref_at(dst, i[0], i[1], i[2], i[3]), in, size);
        }
      }
    }
  }
  return true;
}

bool weft__cpu_ref_argmax(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                          weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)params;
  (void)scratch;
  (void)error;
  (void)error_cap;
  const weft_cpu_ref_tensor_t* src = node->src[0];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  for (int64_t i1 = 0; i1 < src->ne[1]; ++i1) {
    /* Strictly greater: ties keep the lowest index, NaN never wins. */
    int32_t best = 0;
    float best_value = weft_cpu_ref_load(src->dtype, weft_cpu_ref_at(src, 0, i1, 0, 0));
    for (int64_t i0 = 1; i0 < src->ne[0]; ++i0) {
      const float v = weft_cpu_ref_load(src->dtype, weft_cpu_ref_at(src, i0, i1, 0, 0));
      if (v > best_value || (best_value != best_value && v == v)) {
        best_value = v;
        best = (int32_t)i0;
      }
    }
    memcpy(weft_cpu_ref_at(dst, i1, 0, 0, 0), &best, sizeof(best));
  }
  return true;
}
