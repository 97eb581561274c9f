/* Reference elementwise kernels: add, mul, scale, gelu, silu, swiglu, geglu.
 *
 * Inputs are read through their strides as f32, f16 or bf16, results are
 * rounded once to dst's dtype. add, mul and scale use f32 arithmetic, as
 * ggml does (each + and * rounded to f32, never fused); the activations are
 * evaluated in double and rounded once, which is the exact value to within
 * f32 rounding (docs/ops.md, "Numerics"). Every kernel here is in-place safe:
 * element i is read before element i is written, and no other. */
#include <math.h>

#include "kernels_internal.h"

/* sqrt(2 / pi) and the cubic coefficient of GELU's tanh form (Hendrycks and
 * Gimpel 2016, the constants ggml uses). */
#define WEFT_CPU_REF_GELU_SQRT_2_OVER_PI 0.79788456080286535587989211986876
#define WEFT_CPU_REF_GELU_COEF_A 0.044715

static double weft_cpu_ref_gelu_value(double x, uint32_t mode) {
  if (mode == WEFT_GELU_MODE_ERF) return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440));
  return 0.5 * x *
         (1.0 + tanh(WEFT_CPU_REF_GELU_SQRT_2_OVER_PI * x * (1.0 + WEFT_CPU_REF_GELU_COEF_A * x * x)));
}

static double weft_cpu_ref_silu_value(double x) {
  return x / (1.0 + exp(-x));
}

typedef enum weft_cpu_ref_binary_t {
  WEFT_CPU_REF_BINARY_ADD,
  WEFT_CPU_REF_BINARY_MUL,
  WEFT_CPU_REF_BINARY_SWIGLU,
  WEFT_CPU_REF_BINARY_GEGLU,
} weft_cpu_ref_binary_t;

/* dst = f(src0, src1), src1 indexed modulo its shape (broadcast; for the
 * GLUs the shapes are equal so the modulo is the identity). */
static void weft_cpu_ref_binary(const weft_cpu_ref_node_t* node, weft_cpu_ref_binary_t kind,
                                uint32_t gelu_mode) {
  const weft_cpu_ref_tensor_t* a = node->src[0];
  const weft_cpu_ref_tensor_t* b = node->src[1];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  for (int64_t i3 = 0; i3 < dst->ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < dst->ne[2]; ++i2) {
      for (int64_t i1 = 0; i1 < dst->ne[1]; ++i1) {
        const char* a_row = weft_cpu_ref_at(a, 0, i1, i2, i3);
        const char* b_row = weft_cpu_ref_at(b, 0, i1 % b->ne[1], i2 % b->ne[2], i3 % b->ne[3]);
        char* d_row = weft_cpu_ref_at(dst, 0, i1, i2, i3);
        for (int64_t i0 = 0; i0 < dst->ne[0]; ++i0) {
          const float x = weft_cpu_ref_load(a->dtype, a_row + i0 * a->nb[0]);
          const float y = weft_cpu_ref_load(b->dtype, b_row + (i0 % b->ne[0]) * b->nb[0]);
          float r;
          switch (kind) {
            case WEFT_CPU_REF_BINARY_ADD: r = x + y; break;
            case WEFT_CPU_REF_BINARY_MUL: r = x * y; break;
            case WEFT_CPU_REF_BINARY_SWIGLU: r = (float)(weft_cpu_ref_silu_value(x) * y); break;
            default: r = (float)(weft_cpu_ref_gelu_value(x, gelu_mode) * y); break;
          }
          weft_cpu_ref_store(dst->dtype, d_row + i0 * dst->nb[0], r);
        }
      }
    }
  }
}

typedef enum weft_cpu_ref_unary_t {
  WEFT_CPU_REF_UNARY_SCALE,
  WEFT_CPU_REF_UNARY_GELU,
  WEFT_CPU_REF_UNARY_SILU,
} weft_cpu_ref_unary_t;

static void weft_cpu_ref_unary(const weft_cpu_ref_node_t* node, weft_cpu_ref_unary_t kind,
                               const weft_cpu_ref_params_t* params) {
  const weft_cpu_ref_tensor_t* a = node->src[0];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  for (int64_t i3 = 0; i3 < dst->ne[3]; ++i3) {
    for (int64_t i2 = 0; i2 < dst->ne[2]; ++i2) {
      for (int64_t i1 = 0; i1 < dst->ne[1]; ++i1) {
        const char* a_row = weft_cpu_ref_at(a, 0, i1, i2, i3);
        char* d_row = weft_cpu_ref_at(dst, 0, i1, i2, i3);
        for (int64_t i0 = 0; i0 < dst->ne[0]; ++i0) {
          const float x = weft_cpu_ref_load(a->dtype, a_row + i0 * a->nb[0]);
          float r;
          switch (kind) {
            case WEFT_CPU_REF_UNARY_SCALE: {
              const float scaled = x * params->scale; /* two roundings, no FMA */
              r = scaled + params->bias;
              break;
            }
            case WEFT_CPU_REF_UNARY_GELU: r = (float)weft_cpu_ref_gelu_value(x, params->gelu_mode); break;
            default: r = (float)weft_cpu_ref_silu_value(x); break;
          }
          weft_cpu_ref_store(dst->dtype, d_row + i0 * dst->nb[0], r);
        }
      }
    }
  }
}

bool weft__cpu_ref_add(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                       weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)params, (void)scratch, (void)error, (void)error_cap;
  weft_cpu_ref_binary(node, WEFT_CPU_REF_BINARY_ADD, 0);
  return true;
}

bool weft__cpu_ref_mul(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                       weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)params, (void)scratch, (void)error, (void)error_cap;
  weft_cpu_ref_binary(node, WEFT_CPU_REF_BINARY_MUL, 0);
  return true;
}

bool weft__cpu_ref_swiglu(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                          weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)params, (void)scratch, (void)error, (void)error_cap;
  weft_cpu_ref_binary(node, WEFT_CPU_REF_BINARY_SWIGLU, 0);
  return true;
}

bool weft__cpu_ref_geglu(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                         weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)scratch, (void)error, (void)error_cap;
  weft_cpu_ref_binary(node, WEFT_CPU_REF_BINARY_GEGLU, params->gelu_mode);
  return true;
}

bool weft__cpu_ref_scale(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                         weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)scratch, (void)error, (void)error_cap;
  weft_cpu_ref_unary(node, WEFT_CPU_REF_UNARY_SCALE, params);
  return true;
}

bool weft__cpu_ref_gelu(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                        weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)scratch, (void)error, (void)error_cap;
  weft_cpu_ref_unary(node, WEFT_CPU_REF_UNARY_GELU, params);
  return true;
}

bool weft__cpu_ref_silu(const weft_cpu_ref_node_t* node, const weft_cpu_ref_params_t* params,
                        weft_cpu_ref_scratch_t* scratch, char* error, size_t error_cap) {
  (void)scratch, (void)error, (void)error_cap;
  weft_cpu_ref_unary(node, WEFT_CPU_REF_UNARY_SILU, params);
  return true;
}
