/* Reference row kernels: rms_norm, rope and soft_max. Each row (ne[0]
 * elements) is first read into scratch as floats, then computed in double
 * and written, so dst may be the same view as src0 (in place). */
#include <math.h>

#include "kernels_internal.h"

/* Loops i1, i2, i3 over every row of dst. */
#define WEFT_CPU_REF_FOR_ROWS(dst, i1, i2, i3)                     \
  for (int64_t i3 = 0; i3 < (dst)->ne[3]; ++i3)                    \
    for (int64_t i2 = 0; i2 < (dst)->ne[2]; ++i2)                  \
      for (int64_t i1 = 0; i1 < (dst)->ne[1]; ++i1)

static void weft_cpu_ref_row_read(const weft_cpu_ref_tensor_t* t, int64_t i1, int64_t i2,
                                  int64_t i3, float* out) {
  weft__cpu_ref_row_load(t, weft_cpu_ref_at(t, 0, i1, i2, i3), out);
}

static void weft_cpu_ref_row_write(const weft_cpu_ref_tensor_t* t, int64_t i1, int64_t i2,
                                   int64_t i3, const float* in) {
  weft__cpu_ref_row_store(t, weft_cpu_ref_at(t, 0, i1, i2, i3), in);
}

bool weft__cpu_ref_rms_norm(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                            weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  const weft_cpu_ref_tensor_t* src = node->src[0];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  const int64_t n = src->ne[0];
  float* row = (float*)weft__cpu_ref_scratch_take(scratch, n, sizeof(float));
  if (!row) return weft__cpu_ref_fail(error, error_cap, "rms_norm: scratch too small");
  WEFT_CPU_REF_FOR_ROWS(dst, i1, i2, i3) {
    weft_cpu_ref_row_read(src, i1, i2, i3, row);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += (double)row[i] * (double)row[i];
    const double inv = 1.0 / sqrt(sum / (double)n + (double)params->eps);
    for (int64_t i = 0; i < n; ++i) row[i] = (float)((double)row[i] * inv);
    weft_cpu_ref_row_write(dst, i1, i2, i3, row);
  }
  return true;
}

bool weft__cpu_ref_rope(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                        weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  const weft_cpu_ref_tensor_t* src = node->src[0];
  const weft_cpu_ref_tensor_t* positions = node->src[1];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  float* row = (float*)weft__cpu_ref_scratch_take(scratch, src->ne[0], sizeof(float));
  if (!row) return weft__cpu_ref_fail(error, error_cap, "rope: scratch too small");
  const int64_t n_dims = params->n_dims;
  const int64_t half = n_dims / 2;
  const bool neox = params->rope_mode == WEFT_ROPE_MODE_NEOX;
  WEFT_CPU_REF_FOR_ROWS(dst, i1, i2, i3) {
    int32_t position;
    memcpy(&position, weft_cpu_ref_at(positions, i2, 0, 0, 0), sizeof(position));
    weft_cpu_ref_row_read(src, i1, i2, i3, row);
    for (int64_t i = 0; i < half; ++i) {
      /* theta_i = p * freq_scale * freq_base^(-2i / n_dims) */
      const double theta = (double)position * (double)params->freq_scale *
                           pow((double)params->freq_base, -2.0 * (double)i / (double)n_dims);
      const double c = cos(theta), s = sin(theta);
      const int64_t j0 = neox ? i : 2 * i;
      const int64_t j1 = neox ? i + half : 2 * i + 1;
      const double x0 = row[j0], x1 = row[j1];
      row[j0] = (float)(x0 * c - x1 * s);
      row[j1] = (float)(x0 * s + x1 * c);
    }
    /* Elements n_dims..ne[0]-1 pass through unchanged. */
    weft_cpu_ref_row_write(dst, i1, i2, i3, row);
  }
  return true;
}

bool weft__cpu_ref_soft_max(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                            weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  const weft_cpu_ref_tensor_t* src = node->src[0];
  const weft_cpu_ref_tensor_t* mask = node->src[1];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  const int64_t n = src->ne[0];
  float* row = (float*)weft__cpu_ref_scratch_take(scratch, n, sizeof(float));
  double* w = (double*)weft__cpu_ref_scratch_take(scratch, n, sizeof(double));
  if (!row || !w) return weft__cpu_ref_fail(error, error_cap, "soft_max: scratch too small");
  const double scale = params->softmax_scale;
  WEFT_CPU_REF_FOR_ROWS(dst, i1, i2, i3) {
    weft_cpu_ref_row_read(src, i1, i2, i3, row);
    /* Mask row: row i1 of the mask, its ne[2], ne[3] broadcast (modulo). */
    const char* mask_row =
        mask ? weft_cpu_ref_at(mask, 0, i1, i2 % mask->ne[2], i3 % mask->ne[3]) : NULL;
    double max = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      w[i] = (double)row[i] * scale;
      if (mask_row) w[i] += (double)weft_cpu_ref_load(mask->dtype, mask_row + i * mask->nb[0]);
      if (w[i] > max) max = w[i];
    }
    if (max == -INFINITY) {
      /* Every element masked: zeros, not 0/0. */
      for (int64_t i = 0; i < n; ++i) row[i] = 0.0f;
    } else {
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        w[i] = exp(w[i] - max);
        sum += w[i];
      }
      for (int64_t i = 0; i < n; ++i) row[i] = (float)(w[i] / sum);
    }
    weft_cpu_ref_row_write(dst, i1, i2, i3, row);
  }
  return true;
}
