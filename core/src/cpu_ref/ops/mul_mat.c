/* Reference mul_mat: dst[n, m] = sum_k src0[k, n] * src1[k, m] for every
 * (i2, i3) of src1, with src0's ne[2], ne[3] broadcast as ggml does
 * (src0 slice i12 / (ne12 / ne02), likewise for dim 3).
 *
 * Per src1 slice, src1 is first packed into scratch as contiguous f32 rows
 * (any strides in, one simple loop after). Then each weight row is
 * dequantized once into scratch and dotted with every src1 row, the products
 * and the sum in double: the reference gives the exactly rounded dot
 * product of the dequantized weights and the f32 activations, and other
 * backends are measured against that (docs/ops.md, mul_mat). */
#include "kernels_internal.h"

size_t weft__cpu_ref_mul_mat_scratch(const weft_cpu_ref_node_t* node) {
  const weft_cpu_ref_tensor_t* a = node->src[0];
  const weft_cpu_ref_tensor_t* b = node->src[1];
  size_t rows;
  if (__builtin_mul_overflow((size_t)b->ne[0], (size_t)b->ne[1], &rows)) return SIZE_MAX;
  if (rows > (size_t)INT64_MAX) return SIZE_MAX;
  size_t total = weft_cpu_ref_scratch_need(0, a->ne[0], sizeof(float));
  return weft_cpu_ref_scratch_need(total, (int64_t)rows, sizeof(float));
}

bool weft__cpu_ref_mul_mat(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                           weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)params;
  const weft_cpu_ref_tensor_t* a = node->src[0];
  const weft_cpu_ref_tensor_t* b = node->src[1];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  const int64_t k_count = a->ne[0];
  const int64_t n_count = a->ne[1];
  const int64_t m_count = b->ne[1];
  float* weights = (float*)weft__cpu_ref_scratch_take(scratch, k_count, sizeof(float));
  float* packed = (float*)weft__cpu_ref_scratch_take(scratch, k_count * m_count, sizeof(float));
  if (!weights || !packed) return weft__cpu_ref_fail(error, error_cap, "mul_mat: scratch too small");
  const int64_t ratio2 = b->ne[2] / a->ne[2];
  const int64_t ratio3 = b->ne[3] / a->ne[3];
  for (int64_t i13 = 0; i13 < b->ne[3]; ++i13) {
    for (int64_t i12 = 0; i12 < b->ne[2]; ++i12) {
      for (int64_t m = 0; m < m_count; ++m) {
        weft__cpu_ref_row_load(b, weft_cpu_ref_at(b, 0, m, i12, i13), packed + m * k_count);
      }
      const int64_t i02 = i12 / ratio2, i03 = i13 / ratio3;
      for (int64_t n = 0; n < n_count; ++n) {
        weft__cpu_ref_row_load(a, weft_cpu_ref_at(a, 0, n, i02, i03), weights);
        for (int64_t m = 0; m < m_count; ++m) {
          const float* x = packed + m * k_count;
          double sum = 0.0;
          for (int64_t k = 0; k < k_count; ++k) sum += (double)weights[k] * (double)x[k];
          weft_cpu_ref_store(WEFT_DTYPE_F32, weft_cpu_ref_at(dst, n, m, i12, i13), (float)sum);
        }
      }
    }
  }
  return true;
}
