/* Reference flash_attn: for query i of head h (batch b),
 *   s_j = scale * (q . k_j)            j over the n_kv keys of kv head h / (H / H_kv)
 *   s_j = c * tanh(s_j / c)            when logit_softcap c > 0
 *   s_j = s_j + mask[j, i]             when a mask is given
 *   s_j = -inf                         when sliding_window w > 0 and
 *                                      j < (n_kv - n_q + i) - w + 1
 *   out = sum_j softmax(s)_j * v_j     (0 when every s_j is -inf)
 * written to dst[:, i, h, b]. It is computed directly, not with the online
 * softmax a fast kernel uses: scores in double, a max-subtracted exp, the
 * weighted sum of v in double, one rounding to f32 at the end. */
#include <math.h>

#include "kernels_internal.h"

size_t weft__cpu_ref_flash_attn_scratch(const weft_cpu_ref_node_t* node) {
  const weft_cpu_ref_tensor_t* q = node->src[0];
  const weft_cpu_ref_tensor_t* k = node->src[1];
  const weft_cpu_ref_tensor_t* v = node->src[2];
  size_t total = weft_cpu_ref_scratch_need(0, q->ne[0], sizeof(double));
  total = weft_cpu_ref_scratch_need(total, k->ne[1], sizeof(double));
  return weft_cpu_ref_scratch_need(total, v->ne[0], sizeof(double));
}

bool weft__cpu_ref_flash_attn(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                              weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  const weft_cpu_ref_tensor_t* q = node->src[0];
  const weft_cpu_ref_tensor_t* k = node->src[1];
  const weft_cpu_ref_tensor_t* v = node->src[2];
  const weft_cpu_ref_tensor_t* mask = node->src[3];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  const int64_t d_qk = q->ne[0], d_v = v->ne[0];
  const int64_t n_q = q->ne[1], n_kv = k->ne[1];
  double* q_row = (double*)weft__cpu_ref_scratch_take(scratch, d_qk, sizeof(double));
  double* scores = (double*)weft__cpu_ref_scratch_take(scratch, n_kv, sizeof(double));
  double* acc = (double*)weft__cpu_ref_scratch_take(scratch, d_v, sizeof(double));
  if (!q_row || !scores || !acc) {
    return weft__cpu_ref_fail(error, error_cap, "flash_attn: scratch too small");
  }
  const double scale = params->attn_scale;
  const double softcap = params->logit_softcap;
  const int64_t window = params->sliding_window;
  /* Grouped-query attention: consecutive query heads share a kv head. */
  const int64_t group2 = q->ne[2] / k->ne[2];
  const int64_t group3 = q->ne[3] / k->ne[3];
  for (int64_t b = 0; b < q->ne[3]; ++b) {
    for (int64_t h = 0; h < q->ne[2]; ++h) {
      const int64_t kv_h = h / group2, kv_b = b / group3;
      for (int64_t i = 0; i < n_q; ++i) {
        for (int64_t d = 0; d < d_qk; ++d) {
          q_row[d] = weft_cpu_ref_load(q->dtype, weft_cpu_ref_at(q, d, i, h, b));
        }
        const char* mask_row =
            mask ? weft_cpu_ref_at(mask, 0, i, h % mask->ne[2], b % mask->ne[3]) : NULL;
        const int64_t query_position = n_kv - n_q + i;
        double max = -INFINITY;
        for (int64_t j = 0; j < n_kv; ++j) {
          double s;
          if (window > 0 && j < query_position - window + 1) {
            s = -INFINITY;
          } else {
            double dot = 0.0;
            for (int64_t d = 0; d < d_qk; ++d) {
              dot += q_row[d] * (double)weft_cpu_ref_load(k->dtype, weft_cpu_ref_at(k, d, j, kv_h, kv_b));
            }
            s = dot * scale;
            if (softcap > 0.0) s = softcap * tanh(s / softcap);
            if (mask_row) s += (double)weft_cpu_ref_load(mask->dtype, mask_row + j * mask->nb[0]);
          }
          scores[j] = s;
          if (s > max) max = s;
        }
        for (int64_t d = 0; d < d_v; ++d) acc[d] = 0.0;
        double sum = 0.0;
        if (max != -INFINITY) {
          for (int64_t j = 0; j < n_kv; ++j) {
            const double p = exp(scores[j] - max);
            if (p == 0.0) continue;
            sum += p;
            for (int64_t d = 0; d < d_v; ++d) {
              acc[d] += p * (double)weft_cpu_ref_load(v->dtype, weft_cpu_ref_at(v, d, j, kv_h, kv_b));
            }
          }
        }
        /* A query with every key masked gets zeros, not 0/0. */
        for (int64_t d = 0; d < d_v; ++d) {
          const double value = sum > 0.0 ? acc[d] / sum : 0.0;
          weft_cpu_ref_store(WEFT_DTYPE_F32, weft_cpu_ref_at(dst, d, i, h, b), (float)value);
        }
      }
    }
  }
  return true;
}
