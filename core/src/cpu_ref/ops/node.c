/* Reference kernels: node validation (the executable form of docs/ops.md's
 * operand and parameter rules), scratch sizing and dispatch. */
#include <math.h>
#include <stdio.h>

#include "kernels_internal.h"

/* ---- small shared helpers ----------------------------------------------- */

bool weft__cpu_ref_fail(char* error, size_t cap, const char* format, ...) {
  if (error && cap > 0) {
    va_list args;
    va_start(args, format);
    vsnprintf(error, cap, format, args);
    va_end(args);
  }
  return false;
}

void* weft__cpu_ref_scratch_take(weft_cpu_ref_scratch_t* scratch, int64_t count, size_t size) {
  size_t bytes;
  if (count < 0 || __builtin_mul_overflow((size_t)count, size, &bytes)) return NULL;
  if (!scratch->next) return NULL;
  const uintptr_t address = (uintptr_t)scratch->next;
  const size_t pad = (size_t)((WEFT_CPU_REF_SCRATCH_ALIGN -
                               address % WEFT_CPU_REF_SCRATCH_ALIGN) %
                              WEFT_CPU_REF_SCRATCH_ALIGN);
  if (pad > scratch->left || bytes > scratch->left - pad) return NULL;
  char* out = scratch->next + pad;
  scratch->next = out + bytes;
  scratch->left -= pad + bytes;
  return out;
}

void weft__cpu_ref_row_load(const weft_cpu_ref_tensor_t* t, const char* row, float* out) {
  if (weft_cpu_ref_is_block(t->dtype)) {
    weft__dequantize_row(t->dtype, row, out, t->ne[0]);
    return;
  }
  for (int64_t i = 0; i < t->ne[0]; ++i) out[i] = weft_cpu_ref_load(t->dtype, row + i * t->nb[0]);
}

void weft__cpu_ref_row_store(const weft_cpu_ref_tensor_t* t, char* row, const float* in) {
  if (t->dtype == WEFT_DTYPE_Q8_0) {
    weft__quantize_row_q8_0(in, row, t->ne[0]);
    return;
  }
  for (int64_t i = 0; i < t->ne[0]; ++i) weft_cpu_ref_store(t->dtype, row + i * t->nb[0], in[i]);
}

/* ---- parameters --------------------------------------------------------- */

/* The parameter struct an op takes, or 0 for none. */
static size_t weft_cpu_ref_params_struct_size(uint32_t op) {
  switch (op) {
    case WEFT_OP_SCALE: return sizeof(weft_op_scale_params_t);
    case WEFT_OP_RMS_NORM: return sizeof(weft_op_rms_norm_params_t);
    case WEFT_OP_ROPE: return sizeof(weft_op_rope_params_t);
    case WEFT_OP_SOFT_MAX: return sizeof(weft_op_soft_max_params_t);
    case WEFT_OP_GELU: case WEFT_OP_GEGLU: return sizeof(weft_op_gelu_params_t);
    case WEFT_OP_FLASH_ATTN: return sizeof(weft_op_flash_attn_params_t);
    case WEFT_OP_CONCAT: return sizeof(weft_op_concat_params_t);
    default: return 0;
  }
}

/* Copies the members the writer and this reader both know over `own`, which
 * holds the defaults; members past params_size keep them. */
static void weft_cpu_ref_params_overlay(const weft_cpu_ref_node_t* node, void* own, size_t own_size) {
  if (!node->params) return;
  size_t size = node->params_size < own_size ? node->params_size : own_size;
  memcpy(own, node->params, size);
}

bool weft__cpu_ref_params_resolve(const weft_cpu_ref_node_t* node,
                                  weft_cpu_ref_params_t* out, char* reason, size_t cap) {
  const char* name = weft_op_name(node->op);
  const size_t own = weft_cpu_ref_params_struct_size(node->op);
  memset(out, 0, sizeof(*out));
  if (!node->params && node->params_size != 0) {
    return weft__cpu_ref_fail(reason, cap, "%s: params is NULL but params_size is %u", name,
                              node->params_size);
  }
  if (node->params) {
    if (own == 0) {
      return weft__cpu_ref_fail(reason, cap, "%s: takes no params, got %u bytes", name,
                                node->params_size);
    }
    uint32_t struct_size = 0;
    if (node->params_size >= sizeof(struct_size)) {
      memcpy(&struct_size, node->params, sizeof(struct_size));
    }
    /* Every member of op set 1's structs is 4 bytes, so any size a writer
     * of some version could produce is a multiple of 4 past struct_size. */
    if (node->params_size < 2 * sizeof(uint32_t) || node->params_size % 4 != 0) {
      return weft__cpu_ref_fail(reason, cap,
                                "%s: params_size %u is not struct_size plus whole 4-byte "
                                "members",
                                name, node->params_size);
    }
    if (struct_size != node->params_size) {
      return weft__cpu_ref_fail(reason, cap,
                                "%s: params struct_size %u differs from params_size %u", name,
                                struct_size, node->params_size);
    }
  }
  switch (node->op) {
    case WEFT_OP_SCALE: {
      weft_op_scale_params_t p = {sizeof(p), 1.0f, 0.0f};
      weft_cpu_ref_params_overlay(node, &p, sizeof(p));
      out->scale = p.scale;
      out->bias = p.bias;
      break;
    }
    case WEFT_OP_RMS_NORM: {
      weft_op_rms_norm_params_t p = {sizeof(p), 1e-6f};
      weft_cpu_ref_params_overlay(node, &p, sizeof(p));
      out->eps = p.eps;
      break;
    }
    case WEFT_OP_ROPE: {
      weft_op_rope_params_t p = {sizeof(p), WEFT_ROPE_MODE_NORMAL, 0, 10000.0f, 1.0f};
      weft_cpu_ref_params_overlay(node, &p, sizeof(p));
      out->rope_mode = p.mode;
      out->n_dims = p.n_dims;
      out->freq_base = p.freq_base;
      out->freq_scale = p.freq_scale;
      break;
    }
    case WEFT_OP_SOFT_MAX: {
      weft_op_soft_max_params_t p = {sizeof(p), 1.0f};
      weft_cpu_ref_params_overlay(node, &p, sizeof(p));
      out->softmax_scale = p.scale;
      break;
    }
    case WEFT_OP_GELU:
    case WEFT_OP_GEGLU: {
      weft_op_gelu_params_t p = {sizeof(p), WEFT_GELU_MODE_TANH};
      weft_cpu_ref_params_overlay(node, &p, sizeof(p));
      out->gelu_mode = p.mode;
      break;
    }
    case WEFT_OP_FLASH_ATTN: {
      weft_op_flash_attn_params_t p = {sizeof(p), 0.0f, 0.0f, 0};
      weft_cpu_ref_params_overlay(node, &p, sizeof(p));
      out->attn_scale = p.scale;
      out->logit_softcap = p.logit_softcap;
      out->sliding_window = p.sliding_window;
      break;
    }
    case WEFT_OP_CONCAT: {
      weft_op_concat_params_t p = {sizeof(p), 0};
      weft_cpu_ref_params_overlay(node, &p, sizeof(p));
      out->dim = p.dim;
      break;
    }
    default:
      break;
  }
  return true;
}

/* ---- validation --------------------------------------------------------- */

/* Reason sink: every message starts with the op's name. */
typedef struct weft_cpu_ref_reason_t {
  char* text;
  size_t cap;
  const char* op;
} weft_cpu_ref_reason_t;

static bool weft_cpu_ref_reject(weft_cpu_ref_reason_t* r, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

static bool weft_cpu_ref_reject(weft_cpu_ref_reason_t* r, const char* format, ...) {
  if (r->text && r->cap > 0) {
    int n = snprintf(r->text, r->cap, "%s: ", r->op);
    if (n >= 0 && (size_t)n < r->cap) {
      va_list args;
      va_start(args, format);
      vsnprintf(r->text + n, r->cap - (size_t)n, format, args);
      va_end(args);
    }
  }
  return false;
}

static const char* const weft_cpu_ref_src_names[WEFT_MAX_SRC] = {
    "src0", "src1", "src2", "src3", "src4", "src5", "src6", "src7"};

/* "[a, b, c, d]" */
typedef struct weft_cpu_ref_shape_text_t {
  char text[96];
} weft_cpu_ref_shape_text_t;

static weft_cpu_ref_shape_text_t weft_cpu_ref_shape(const int64_t ne[4]) {
  weft_cpu_ref_shape_text_t s;
  snprintf(s.text, sizeof(s.text), "[%lld, %lld, %lld, %lld]", (long long)ne[0],
           (long long)ne[1], (long long)ne[2], (long long)ne[3]);
  return s;
}

static bool weft_cpu_ref_same_shape(const weft_cpu_ref_tensor_t* a,
                                    const weft_cpu_ref_tensor_t* b) {
  return a->ne[0] == b->ne[0] && a->ne[1] == b->ne[1] && a->ne[2] == b->ne[2] &&
         a->ne[3] == b->ne[3];
}

static int64_t weft_cpu_ref_nelements(const weft_cpu_ref_tensor_t* t) {
  return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

/* Rules every tensor meets, whatever the op. */
static bool weft_cpu_ref_check_tensor(weft_cpu_ref_reason_t* r, const char* name,
                                      const weft_cpu_ref_tensor_t* t) {
  const uint32_t block = weft_dtype_block_elements(t->dtype);
  if (block == 0) return weft_cpu_ref_reject(r, "%s has unknown dtype %u", name, t->dtype);
  int64_t count = 1;
  for (int i = 0; i < 4; ++i) {
    if (t->ne[i] < 1) {
      return weft_cpu_ref_reject(r, "%s ne[%d] is %lld; every dimension needs >= 1 element",
                                 name, i, (long long)t->ne[i]);
    }
    if (t->nb[i] < 0) {
      return weft_cpu_ref_reject(r, "%s nb[%d] is %lld; strides must not be negative", name, i,
                                 (long long)t->nb[i]);
    }
    /* Keeps every index product and byte offset inside int64_t. */
    if (__builtin_mul_overflow(count, t->ne[i], &count) || count > ((int64_t)1 << 48)) {
      return weft_cpu_ref_reject(r, "%s has more than 2^48 elements", name);
    }
    if (t->nb[i] > ((int64_t)1 << 48)) {
      return weft_cpu_ref_reject(r, "%s nb[%d] %lld exceeds 2^48 bytes", name, i,
                                 (long long)t->nb[i]);
    }
  }
  if (block > 1) {
    if (t->ne[0] % block != 0) {
      return weft_cpu_ref_reject(r, "%s is %s with ne[0] %lld, not a multiple of its block of %u",
                                 name, weft__dtype_name(t->dtype), (long long)t->ne[0], block);
    }
    if (t->nb[0] != (int64_t)weft_dtype_block_bytes(t->dtype)) {
      return weft_cpu_ref_reject(r,
                                 "%s is %s with nb[0] %lld; its rows must be contiguous blocks "
                                 "(nb[0] %u)",
                                 name, weft__dtype_name(t->dtype), (long long)t->nb[0],
                                 weft_dtype_block_bytes(t->dtype));
    }
  }
  return true;
}

/* src operand i's dtype must be one of `mask`; `allowed` names them. */
static bool weft_cpu_ref_need_dtype(weft_cpu_ref_reason_t* r, const char* name,
                                    const weft_cpu_ref_tensor_t* t, uint64_t mask,
                                    const char* allowed) {
  if (t->dtype < 64 && (mask & WEFT_DTYPE_BIT(t->dtype))) return true;
  return weft_cpu_ref_reject(r, "%s must be %s, got %s", name, allowed,
                             weft__dtype_name(t->dtype));
}

#define WEFT_CPU_REF_FLOATS                                                   \
  (WEFT_DTYPE_BIT(WEFT_DTYPE_F32) | WEFT_DTYPE_BIT(WEFT_DTYPE_F16) |          \
   WEFT_DTYPE_BIT(WEFT_DTYPE_BF16))
#define WEFT_CPU_REF_FLOATS_TEXT "f32, f16 or bf16"
#define WEFT_CPU_REF_IDS (WEFT_DTYPE_BIT(WEFT_DTYPE_I32) | WEFT_DTYPE_BIT(WEFT_DTYPE_I64))
#define WEFT_CPU_REF_IDS_TEXT "i32 or i64"
#define WEFT_CPU_REF_F32 WEFT_DTYPE_BIT(WEFT_DTYPE_F32)

static uint64_t weft_cpu_ref_dequant_mask(void) {
  uint64_t mask = 0;
  for (uint32_t d = 0; d < 64; ++d) {
    if (weft__dequantize_supported(d)) mask |= WEFT_DTYPE_BIT(d);
  }
  return mask;
}
#define WEFT_CPU_REF_DEQUANT_TEXT \
  "f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q8_1, q2_K, q3_K, q4_K, q5_K, q6_K or q8_K"

static bool weft_cpu_ref_need_shape(weft_cpu_ref_reason_t* r, const char* name,
                                    const weft_cpu_ref_tensor_t* t, const int64_t want[4]) {
  if (t->ne[0] == want[0] && t->ne[1] == want[1] && t->ne[2] == want[2] &&
      t->ne[3] == want[3]) {
    return true;
  }
  return weft_cpu_ref_reject(r, "%s shape %s must be %s", name, weft_cpu_ref_shape(t->ne).text,
                             weft_cpu_ref_shape(want).text);
}

static bool weft_cpu_ref_need_same_shape(weft_cpu_ref_reason_t* r, const char* name,
                                         const weft_cpu_ref_tensor_t* t,
                                         const char* other_name,
                                         const weft_cpu_ref_tensor_t* other) {
  if (weft_cpu_ref_same_shape(t, other)) return true;
  return weft_cpu_ref_reject(r, "%s shape %s must equal %s shape %s", name,
                             weft_cpu_ref_shape(t->ne).text, other_name,
                             weft_cpu_ref_shape(other->ne).text);
}

/* b broadcasts to a: a.ne[i] % b.ne[i] == 0 for every i. */
static bool weft_cpu_ref_need_broadcast(weft_cpu_ref_reason_t* r, const char* a_name,
                                        const weft_cpu_ref_tensor_t* a, const char* b_name,
                                        const weft_cpu_ref_tensor_t* b, int from_dim) {
  for (int i = from_dim; i < 4; ++i) {
    if (a->ne[i] % b->ne[i] != 0) {
      return weft_cpu_ref_reject(r, "%s ne[%d] %lld must be a multiple of %s ne[%d] %lld",
                                 a_name, i, (long long)a->ne[i], b_name, i,
                                 (long long)b->ne[i]);
    }
  }
  return true;
}

static bool weft_cpu_ref_dst_contiguous(const weft_cpu_ref_tensor_t* t) {
  int64_t expect = (int64_t)weft_dtype_block_bytes(t->dtype);
  for (int i = 0; i < 4; ++i) {
    if (t->ne[i] > 1 && t->nb[i] != expect) return false;
    expect *= i == 0 ? t->ne[0] / (int64_t)weft_dtype_block_elements(t->dtype) : t->ne[i];
  }
  return true;
}

/* Operands each op takes: bit i set in `required` / `optional` for src i. */
static bool weft_cpu_ref_operands(uint32_t op, unsigned* required, unsigned* optional) {
  *optional = 0;
  switch (op) {
    case WEFT_OP_SCALE: case WEFT_OP_RMS_NORM: case WEFT_OP_GELU: case WEFT_OP_SILU:
    case WEFT_OP_CPY: case WEFT_OP_CONT: case WEFT_OP_ARGMAX:
      *required = 1u;
      return true;
    case WEFT_OP_SOFT_MAX:
      *required = 1u;
      *optional = 2u;
      return true;
    case WEFT_OP_GET_ROWS: case WEFT_OP_MUL_MAT: case WEFT_OP_ADD: case WEFT_OP_MUL:
    case WEFT_OP_ROPE: case WEFT_OP_SWIGLU: case WEFT_OP_GEGLU: case WEFT_OP_SET_ROWS:
    case WEFT_OP_CONCAT:
      *required = 3u;
      return true;
    case WEFT_OP_FLASH_ATTN:
      *required = 7u;
      *optional = 8u;
      return true;
    default:
      *required = 0;
      return false;
  }
}

static bool weft_cpu_ref_check_op(weft_cpu_ref_reason_t* r, const weft_cpu_ref_node_t* node,
                                  const weft_cpu_ref_params_t* p) {
  const weft_cpu_ref_tensor_t* s0 = node->src[0];
  const weft_cpu_ref_tensor_t* s1 = node->src[1];
  const weft_cpu_ref_tensor_t* dst = node->dst;
  switch (node->op) {
    case WEFT_OP_GET_ROWS: {
      if (!weft_cpu_ref_need_dtype(r, "src0", s0, weft_cpu_ref_dequant_mask(),
                                   WEFT_CPU_REF_DEQUANT_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "src1", s1, WEFT_CPU_REF_IDS, WEFT_CPU_REF_IDS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "dst", dst, WEFT_CPU_REF_F32, "f32")) {
        return false;
      }
      if (s1->ne[3] != 1) {
        return weft_cpu_ref_reject(r, "src1 ne[3] is %lld, must be 1", (long long)s1->ne[3]);
      }
      if (s0->ne[2] != 1 && s0->ne[2] != s1->ne[1]) {
        return weft_cpu_ref_reject(r, "src0 ne[2] %lld must be 1 or src1 ne[1] %lld",
                                   (long long)s0->ne[2], (long long)s1->ne[1]);
      }
      if (s0->ne[3] != 1 && s0->ne[3] != s1->ne[2]) {
        return weft_cpu_ref_reject(r, "src0 ne[3] %lld must be 1 or src1 ne[2] %lld",
                                   (long long)s0->ne[3], (long long)s1->ne[2]);
      }
      const int64_t want[4] = {s0->ne[0], s1->ne[0], s1->ne[1], s1->ne[2]};
      return weft_cpu_ref_need_shape(r, "dst", dst, want);
    }
    case WEFT_OP_MUL_MAT: {
      const uint64_t weights = weft_cpu_ref_dequant_mask();
      if (!weft_cpu_ref_need_dtype(r, "src0", s0, weights, WEFT_CPU_REF_DEQUANT_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "src1", s1, WEFT_CPU_REF_F32, "f32") ||
          !weft_cpu_ref_need_dtype(r, "dst", dst, WEFT_CPU_REF_F32, "f32")) {
        return false;
      }
      if (s0->ne[0] != s1->ne[0]) {
        return weft_cpu_ref_reject(r, "src0 ne[0] %lld must equal src1 ne[0] %lld",
                                   (long long)s0->ne[0], (long long)s1->ne[0]);
      }
      if (!weft_cpu_ref_need_broadcast(r, "src1", s1, "src0", s0, 2)) return false;
      const int64_t want[4] = {s0->ne[1], s1->ne[1], s1->ne[2], s1->ne[3]};
      return weft_cpu_ref_need_shape(r, "dst", dst, want);
    }
    case WEFT_OP_ADD:
    case WEFT_OP_MUL:
      if (!weft_cpu_ref_need_dtype(r, "src0", s0, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "src1", s1, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "dst", dst, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_broadcast(r, "src0", s0, "src1", s1, 0)) {
        return false;
      }
      return weft_cpu_ref_need_same_shape(r, "dst", dst, "src0", s0);
    case WEFT_OP_SCALE:
    case WEFT_OP_GELU:
    case WEFT_OP_SILU:
    case WEFT_OP_RMS_NORM:
      if (!weft_cpu_ref_need_dtype(r, "src0", s0, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "dst", dst, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_same_shape(r, "dst", dst, "src0", s0)) {
        return false;
      }
      if (node->op == WEFT_OP_GELU && p->gelu_mode > WEFT_GELU_MODE_ERF) {
        return weft_cpu_ref_reject(r, "mode %u must be 0 (tanh) or 1 (erf)", p->gelu_mode);
      }
      if (node->op == WEFT_OP_RMS_NORM && !(p->eps >= 0.0f && isfinite(p->eps))) {
        return weft_cpu_ref_reject(r, "eps %g must be finite and >= 0", (double)p->eps);
      }
      return true;
    case WEFT_OP_SWIGLU:
    case WEFT_OP_GEGLU:
      if (!weft_cpu_ref_need_dtype(r, "src0", s0, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "src1", s1, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "dst", dst, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_same_shape(r, "src1", s1, "src0", s0) ||
          !weft_cpu_ref_need_same_shape(r, "dst", dst, "src0", s0)) {
        return false;
      }
      if (node->op == WEFT_OP_GEGLU && p->gelu_mode > WEFT_GELU_MODE_ERF) {
        return weft_cpu_ref_reject(r, "mode %u must be 0 (tanh) or 1 (erf)", p->gelu_mode);
      }
      return true;
    case WEFT_OP_ROPE: {
      if (!weft_cpu_ref_need_dtype(r, "src0", s0, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "src1", s1, WEFT_DTYPE_BIT(WEFT_DTYPE_I32), "i32") ||
          !weft_cpu_ref_need_dtype(r, "dst", dst, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_same_shape(r, "dst", dst, "src0", s0)) {
        return false;
      }
      const int64_t want[4] = {s0->ne[2], 1, 1, 1};
      if (!weft_cpu_ref_need_shape(r, "src1", s1, want)) return false;
      if (p->rope_mode > WEFT_ROPE_MODE_NEOX) {
        return weft_cpu_ref_reject(r, "mode %u must be 0 (normal) or 1 (neox)", p->rope_mode);
      }
      if (p->n_dims < 0 || p->n_dims % 2 != 0 || p->n_dims > s0->ne[0]) {
        return weft_cpu_ref_reject(r, "n_dims %d must be even and <= ne[0] %lld", p->n_dims,
                                   (long long)s0->ne[0]);
      }
      if (p->n_dims == 0 && s0->ne[0] % 2 != 0) {
        return weft_cpu_ref_reject(r, "n_dims 0 means ne[0] %lld, which must be even",
                                   (long long)s0->ne[0]);
      }
      if (!(p->freq_base > 0.0f && isfinite(p->freq_base))) {
        return weft_cpu_ref_reject(r, "freq_base %g must be finite and > 0",
                                   (double)p->freq_base);
      }
      if (!(p->freq_scale > 0.0f && isfinite(p->freq_scale))) {
        return weft_cpu_ref_reject(r, "freq_scale %g must be finite and > 0",
                                   (double)p->freq_scale);
      }
      return true;
    }
    case WEFT_OP_SOFT_MAX: {
      if (!weft_cpu_ref_need_dtype(r, "src0", s0, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "dst", dst, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_same_shape(r, "dst", dst, "src0", s0)) {
        return false;
      }
      if (!isfinite(p->softmax_scale)) {
        return weft_cpu_ref_reject(r, "scale %g must be finite", (double)p->softmax_scale);
      }
      if (!s1) return true;
      if (!weft_cpu_ref_need_dtype(r, "src1", s1, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT)) {
        return false;
      }
      if (s1->ne[0] != s0->ne[0] || s1->ne[1] < s0->ne[1]) {
        return weft_cpu_ref_reject(r,
                                   "src1 (mask) shape %s must have ne[0] %lld and ne[1] >= %lld",
                                   weft_cpu_ref_shape(s1->ne).text, (long long)s0->ne[0],
                                   (long long)s0->ne[1]);
      }
      return weft_cpu_ref_need_broadcast(r, "src0", s0, "src1", s1, 2);
    }
    case WEFT_OP_CPY: {
      const uint64_t convertible = WEFT_CPU_REF_FLOATS | WEFT_DTYPE_BIT(WEFT_DTYPE_Q8_0);
      const bool same = s0->dtype == dst->dtype;
      const bool convert = s0->dtype < 64 && dst->dtype < 64 &&
                           (convertible & WEFT_DTYPE_BIT(s0->dtype)) &&
                           (convertible & WEFT_DTYPE_BIT(dst->dtype));
      if (!same && !convert) {
        return weft_cpu_ref_reject(r,
                                   "cannot convert %s to %s (conversions are among f32, f16, "
                                   "bf16 and q8_0; other dtypes copy only to themselves)",
                                   weft__dtype_name(s0->dtype), weft__dtype_name(dst->dtype));
      }
      if (weft_cpu_ref_is_block(s0->dtype) || weft_cpu_ref_is_block(dst->dtype)) {
        return weft_cpu_ref_need_same_shape(r, "dst", dst, "src0", s0);
      }
      if (weft_cpu_ref_nelements(s0) != weft_cpu_ref_nelements(dst)) {
        return weft_cpu_ref_reject(r, "dst %s and src0 %s differ in element count",
                                   weft_cpu_ref_shape(dst->ne).text,
                                   weft_cpu_ref_shape(s0->ne).text);
      }
      return true;
    }
    case WEFT_OP_CONT:
      if (weft_cpu_ref_is_block(s0->dtype)) {
        return weft_cpu_ref_reject(r, "src0 is %s; block-quantized dtypes are not supported",
                                   weft__dtype_name(s0->dtype));
      }
      if (dst->dtype != s0->dtype) {
        return weft_cpu_ref_reject(r, "dst dtype %s must equal src0 dtype %s",
                                   weft__dtype_name(dst->dtype), weft__dtype_name(s0->dtype));
      }
      if (weft_cpu_ref_nelements(s0) != weft_cpu_ref_nelements(dst)) {
        return weft_cpu_ref_reject(r, "dst %s and src0 %s differ in element count",
                                   weft_cpu_ref_shape(dst->ne).text,
                                   weft_cpu_ref_shape(s0->ne).text);
      }
      if (!weft_cpu_ref_dst_contiguous(dst)) {
        return weft_cpu_ref_reject(r, "dst must be contiguous, got nb [%lld, %lld, %lld, %lld]",
                                   (long long)dst->nb[0], (long long)dst->nb[1],
                                   (long long)dst->nb[2], (long long)dst->nb[3]);
      }
      return true;
    case WEFT_OP_SET_ROWS: {
      const uint64_t targets = WEFT_CPU_REF_FLOATS | WEFT_DTYPE_BIT(WEFT_DTYPE_Q8_0);
      if (!weft_cpu_ref_need_dtype(r, "src0", s0, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "src1", s1, WEFT_CPU_REF_IDS, WEFT_CPU_REF_IDS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "dst", dst, targets, "f32, f16, bf16 or q8_0")) {
        return false;
      }
      if (dst->ne[0] != s0->ne[0] || dst->ne[2] != s0->ne[2] || dst->ne[3] != s0->ne[3]) {
        return weft_cpu_ref_reject(r, "dst shape %s must match src0 shape %s except in ne[1]",
                                   weft_cpu_ref_shape(dst->ne).text,
                                   weft_cpu_ref_shape(s0->ne).text);
      }
      if (s1->ne[0] != s0->ne[1]) {
        return weft_cpu_ref_reject(r, "src1 ne[0] %lld must equal src0 ne[1] %lld",
                                   (long long)s1->ne[0], (long long)s0->ne[1]);
      }
      if (s1->ne[3] != 1) {
        return weft_cpu_ref_reject(r, "src1 ne[3] is %lld, must be 1", (long long)s1->ne[3]);
      }
      if (s0->ne[2] % s1->ne[1] != 0 || s0->ne[3] % s1->ne[2] != 0) {
        return weft_cpu_ref_reject(r,
                                   "src0 ne[2] %lld and ne[3] %lld must be multiples of src1 "
                                   "ne[1] %lld and ne[2] %lld",
                                   (long long)s0->ne[2], (long long)s0->ne[3],
                                   (long long)s1->ne[1], (long long)s1->ne[2]);
      }
      return true;
    }
    case WEFT_OP_FLASH_ATTN: {
      const weft_cpu_ref_tensor_t* k = node->src[1];
      const weft_cpu_ref_tensor_t* v = node->src[2];
      const weft_cpu_ref_tensor_t* mask = node->src[3];
      const uint64_t kv = WEFT_CPU_REF_FLOATS;
      if (!weft_cpu_ref_need_dtype(r, "src0 (q)", s0, WEFT_CPU_REF_F32, "f32") ||
          !weft_cpu_ref_need_dtype(r, "src1 (k)", k, kv, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "src2 (v)", v, kv, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "dst", dst, WEFT_CPU_REF_F32, "f32")) {
        return false;
      }
      if (k->ne[0] != s0->ne[0]) {
        return weft_cpu_ref_reject(r, "src1 (k) ne[0] %lld must equal src0 (q) ne[0] %lld",
                                   (long long)k->ne[0], (long long)s0->ne[0]);
      }
      if (v->ne[1] != k->ne[1] || v->ne[2] != k->ne[2] || v->ne[3] != k->ne[3]) {
        return weft_cpu_ref_reject(r, "src2 (v) shape %s must match src1 (k) shape %s in ne[1..3]",
                                   weft_cpu_ref_shape(v->ne).text, weft_cpu_ref_shape(k->ne).text);
      }
      if (!weft_cpu_ref_need_broadcast(r, "src0 (q)", s0, "src1 (k)", k, 2)) return false;
      const int64_t want[4] = {v->ne[0], s0->ne[1], s0->ne[2], s0->ne[3]};
      if (!weft_cpu_ref_need_shape(r, "dst", dst, want)) return false;
      if (mask) {
        if (!weft_cpu_ref_need_dtype(r, "src3 (mask)", mask,
                                     WEFT_DTYPE_BIT(WEFT_DTYPE_F32) | WEFT_DTYPE_BIT(WEFT_DTYPE_F16),
                                     "f32 or f16")) {
          return false;
        }
        if (mask->ne[0] != k->ne[1] || mask->ne[1] < s0->ne[1]) {
          return weft_cpu_ref_reject(r,
                                     "src3 (mask) shape %s must have ne[0] %lld (n_kv) and "
                                     "ne[1] >= %lld (n_q)",
                                     weft_cpu_ref_shape(mask->ne).text, (long long)k->ne[1],
                                     (long long)s0->ne[1]);
        }
        if (!weft_cpu_ref_need_broadcast(r, "src0 (q)", s0, "src3 (mask)", mask, 2)) return false;
      }
      if (!isfinite(p->attn_scale)) {
        return weft_cpu_ref_reject(r, "scale %g must be finite", (double)p->attn_scale);
      }
      if (!(p->logit_softcap >= 0.0f && isfinite(p->logit_softcap))) {
        return weft_cpu_ref_reject(r, "logit_softcap %g must be finite and >= 0",
                                   (double)p->logit_softcap);
      }
      if (p->sliding_window < 0) {
        return weft_cpu_ref_reject(r, "sliding_window %d must be >= 0", p->sliding_window);
      }
      return true;
    }
    case WEFT_OP_ARGMAX: {
      if (!weft_cpu_ref_need_dtype(r, "src0", s0, WEFT_CPU_REF_FLOATS, WEFT_CPU_REF_FLOATS_TEXT) ||
          !weft_cpu_ref_need_dtype(r, "dst", dst, WEFT_DTYPE_BIT(WEFT_DTYPE_I32), "i32")) {
        return false;
      }
      if (s0->ne[2] != 1 || s0->ne[3] != 1) {
        return weft_cpu_ref_reject(r, "src0 shape %s must be a matrix (ne[2] = ne[3] = 1)",
                                   weft_cpu_ref_shape(s0->ne).text);
      }
      if (s0->ne[0] > INT32_MAX) {
        return weft_cpu_ref_reject(r, "src0 ne[0] %lld exceeds the i32 index range",
                                   (long long)s0->ne[0]);
      }
      const int64_t want[4] = {s0->ne[1], 1, 1, 1};
      return weft_cpu_ref_need_shape(r, "dst", dst, want);
    }
    case WEFT_OP_CONCAT: {
      if (weft_cpu_ref_is_block(s0->dtype)) {
        return weft_cpu_ref_reject(r, "src0 is %s; block-quantized dtypes are not supported",
                                   weft__dtype_name(s0->dtype));
      }
      if (s1->dtype != s0->dtype || dst->dtype != s0->dtype) {
        return weft_cpu_ref_reject(r, "src0 %s, src1 %s and dst %s must share one dtype",
                                   weft__dtype_name(s0->dtype), weft__dtype_name(s1->dtype),
                                   weft__dtype_name(dst->dtype));
      }
      if (p->dim < 0 || p->dim > 3) {
        return weft_cpu_ref_reject(r, "dim %d must be 0..3", p->dim);
      }
      int64_t want[4];
      for (int i = 0; i < 4; ++i) {
        if (i != p->dim && s1->ne[i] != s0->ne[i]) {
          return weft_cpu_ref_reject(r, "src1 ne[%d] %lld must equal src0 ne[%d] %lld (dim is %d)",
                                     i, (long long)s1->ne[i], i, (long long)s0->ne[i], p->dim);
        }
        want[i] = i == p->dim ? s0->ne[i] + s1->ne[i] : s0->ne[i];
      }
      return weft_cpu_ref_need_shape(r, "dst", dst, want);
    }
    default:
      return weft_cpu_ref_reject(r, "no kernel");
  }
}

bool weft__cpu_ref_node_check(const weft_cpu_ref_node_t* node, char* reason, size_t reason_cap) {
  if (reason && reason_cap > 0) reason[0] = '\0';
  if (!node) return weft__cpu_ref_fail(reason, reason_cap, "node is NULL");
  unsigned required, optional;
  if (!weft_cpu_ref_operands(node->op, &required, &optional)) {
    return weft__cpu_ref_fail(reason, reason_cap,
                              "unknown op %u (op set version %d has ops 1..%d)", node->op,
                              WEFT_CPU_REF_OP_SET_VERSION, (int)WEFT_OP_COUNT_ - 1);
  }
  weft_cpu_ref_reason_t r = {reason, reason_cap, weft_op_name(node->op)};
  for (int i = 0; i < WEFT_MAX_SRC; ++i) {
    const bool present = node->src[i] != NULL;
    if ((required >> i) & 1u) {
      if (!present) return weft_cpu_ref_reject(&r, "%s is missing", weft_cpu_ref_src_names[i]);
    } else if (present && !((optional >> i) & 1u)) {
      return weft_cpu_ref_reject(&r, "%s must be unused", weft_cpu_ref_src_names[i]);
    }
    if (present && !weft_cpu_ref_check_tensor(&r, weft_cpu_ref_src_names[i], node->src[i])) {
      return false;
    }
  }
  if (!node->dst) return weft_cpu_ref_reject(&r, "dst is missing");
  if (!weft_cpu_ref_check_tensor(&r, "dst", node->dst)) return false;
  weft_cpu_ref_params_t params;
  if (!weft__cpu_ref_params_resolve(node, &params, reason, reason_cap)) return false;
  return weft_cpu_ref_check_op(&r, node, &params);
}

/* ---- scratch and dispatch ----------------------------------------------- */

size_t weft__cpu_ref_node_scratch_size(const weft_cpu_ref_node_t* node) {
  if (!weft__cpu_ref_node_check(node, NULL, 0)) return 0;
  return weft__cpu_ref_node_scratch_size_checked(node);
}

size_t weft__cpu_ref_node_scratch_size_checked(const weft_cpu_ref_node_t* node) {
  switch (node->op) {
    case WEFT_OP_GET_ROWS: case WEFT_OP_RMS_NORM: case WEFT_OP_ROPE: case WEFT_OP_CPY:
    case WEFT_OP_SET_ROWS:
      /* One row of src0 as floats. */
      return weft_cpu_ref_scratch_need(0, node->src[0]->ne[0], sizeof(float));
    case WEFT_OP_SOFT_MAX:
      /* The row as floats, then as doubles. */
      return weft_cpu_ref_scratch_need(
          weft_cpu_ref_scratch_need(0, node->src[0]->ne[0], sizeof(float)),
          node->src[0]->ne[0], sizeof(double));
    case WEFT_OP_MUL_MAT:
      return weft__cpu_ref_mul_mat_scratch(node);
    case WEFT_OP_FLASH_ATTN:
      return weft__cpu_ref_flash_attn_scratch(node);
    default:
      return 0;
  }
}

static weft_cpu_ref_kernel_fn* weft_cpu_ref_kernel(uint32_t op) {
  switch (op) {
    case WEFT_OP_GET_ROWS: return weft__cpu_ref_get_rows;
    case WEFT_OP_MUL_MAT: return weft__cpu_ref_mul_mat;
    case WEFT_OP_ADD: return weft__cpu_ref_add;
    case WEFT_OP_MUL: return weft__cpu_ref_mul;
    case WEFT_OP_SCALE: return weft__cpu_ref_scale;
    case WEFT_OP_RMS_NORM: return weft__cpu_ref_rms_norm;
    case WEFT_OP_ROPE: return weft__cpu_ref_rope;
    case WEFT_OP_SOFT_MAX: return weft__cpu_ref_soft_max;
    case WEFT_OP_GELU: return weft__cpu_ref_gelu;
    case WEFT_OP_SILU: return weft__cpu_ref_silu;
    case WEFT_OP_SWIGLU: return weft__cpu_ref_swiglu;
    case WEFT_OP_GEGLU: return weft__cpu_ref_geglu;
    case WEFT_OP_CPY: return weft__cpu_ref_cpy;
    case WEFT_OP_CONT: return weft__cpu_ref_cont;
    case WEFT_OP_SET_ROWS: return weft__cpu_ref_set_rows;
    case WEFT_OP_FLASH_ATTN: return weft__cpu_ref_flash_attn;
    case WEFT_OP_ARGMAX: return weft__cpu_ref_argmax;
    case WEFT_OP_CONCAT: return weft__cpu_ref_concat;
    default: return NULL;
  }
}

bool weft__cpu_ref_node_run(const weft_cpu_ref_node_t* node, void* scratch, size_t scratch_size,
                            char* error, size_t error_cap) {
  if (error && error_cap > 0) error[0] = '\0';
  if (!weft__cpu_ref_node_check(node, error, error_cap)) return false;
  return weft__cpu_ref_node_run_checked(node, scratch, scratch_size, error, error_cap);
}

bool weft__cpu_ref_node_run_checked(const weft_cpu_ref_node_t* node, void* scratch,
                                    size_t scratch_size, char* error, size_t error_cap) {
  if (error && error_cap > 0) error[0] = '\0';
  /* The check judges descriptors alone (op queries have no data yet); a run
   * needs every operand's memory. */
  for (int i = 0; i <= WEFT_MAX_SRC; ++i) {
    const weft_cpu_ref_tensor_t* t = i < WEFT_MAX_SRC ? node->src[i] : node->dst;
    if (t && !t->data) {
      return weft__cpu_ref_fail(error, error_cap, "%s: %s has no data", weft_op_name(node->op),
                                i < WEFT_MAX_SRC ? weft_cpu_ref_src_names[i] : "dst");
    }
  }
  const size_t need = weft__cpu_ref_node_scratch_size_checked(node);
  if (scratch_size < need || (need > 0 && !scratch)) {
    return weft__cpu_ref_fail(error, error_cap, "%s: scratch of %zu bytes, needs %zu",
                              weft_op_name(node->op), scratch ? scratch_size : (size_t)0, need);
  }
  weft_cpu_ref_params_t params;
  weft__cpu_ref_params_resolve(node, &params, NULL, 0);
  if (node->op == WEFT_OP_ROPE && params.n_dims == 0) {
    params.n_dims = (int32_t)node->src[0]->ne[0];
  }
  if (node->op == WEFT_OP_FLASH_ATTN && params.attn_scale == 0.0f) {
    params.attn_scale = (float)(1.0 / sqrt((double)node->src[0]->ne[0]));
  }
  weft_cpu_ref_scratch_t area = {(char*)scratch, scratch ? scratch_size : 0};
  return weft_cpu_ref_kernel(node->op)(node, &params, &area, error, error_cap);
}
