/* weft plugin ABI: the op set and its parameter structs.
 *
 * Op ids have explicit values that are never renumbered or reused; new ops are
 * appended with the next free value. Each op's semantics, numerics and
 * tolerances are specified in docs/ops.md (op set version 1), implemented first
 * by the reference CPU backend, which is the oracle for every other backend.
 *
 * Parameters travel as versioned plain structs that start with their size; a
 * reader uses only the members inside the smaller of the writer's and its own
 * size and takes the documented default for the rest. Ops without parameters
 * take a NULL params pointer. */
#ifndef WEFT_ABI_OP_H_
#define WEFT_ABI_OP_H_

#include <stdint.h>

typedef enum weft_op_t {
  WEFT_OP_NONE = 0,        /* never valid in a graph                         */
  WEFT_OP_GET_ROWS = 1,    /* dst[i] = dequant(src0[ids[i]]), src1: i32 ids   */
  WEFT_OP_MUL_MAT = 2,     /* dst = src1 x src0^T, broadcast over ne[2..3]    */
  WEFT_OP_ADD = 3,         /* dst = src0 + src1 (src1 broadcast)              */
  WEFT_OP_MUL = 4,         /* dst = src0 * src1 (src1 broadcast)              */
  WEFT_OP_SCALE = 5,       /* dst = src0 * scale + bias                       */
  WEFT_OP_RMS_NORM = 6,    /* dst = src0 / sqrt(mean(src0^2) + eps), per row  */
  WEFT_OP_ROPE = 7,        /* rotary position embedding, src1: i32 positions  */
  WEFT_OP_SOFT_MAX = 8,    /* softmax(src0 * scale + mask), per row           */
  WEFT_OP_GELU = 9,        /* tanh or erf form                                */
  WEFT_OP_SILU = 10,       /* x * sigmoid(x)                                  */
  WEFT_OP_SWIGLU = 11,     /* silu(src0) * src1                               */
  WEFT_OP_GEGLU = 12,      /* gelu(src0) * src1                               */
  WEFT_OP_CPY = 13,        /* convert/copy between f32, f16, bf16, q8_0       */
  WEFT_OP_CONT = 14,       /* make a strided view contiguous                  */
  WEFT_OP_SET_ROWS = 15,   /* dst[ids[i]] = convert(src0[i]), src1: i32 ids   */
  WEFT_OP_FLASH_ATTN = 16, /* softmax(q k^T * scale + mask) v, grouped heads  */
  WEFT_OP_ARGMAX = 17,     /* index of the largest element per row (i32)      */
  WEFT_OP_CONCAT = 18,     /* concatenate src0 and src1 along one dimension   */
  WEFT_OP_COUNT_           /* one past the highest op of this header          */
} weft_op_t;

/* The op's name as docs/ops.md spells it; "unknown" for other ids. */
static inline const char* weft_op_name(uint32_t op) {
  switch (op) {
    case WEFT_OP_NONE: return "none";
    case WEFT_OP_GET_ROWS: return "get_rows";
    case WEFT_OP_MUL_MAT: return "mul_mat";
    case WEFT_OP_ADD: return "add";
    case WEFT_OP_MUL: return "mul";
    case WEFT_OP_SCALE: return "scale";
    case WEFT_OP_RMS_NORM: return "rms_norm";
    case WEFT_OP_ROPE: return "rope";
    case WEFT_OP_SOFT_MAX: return "soft_max";
    case WEFT_OP_GELU: return "gelu";
    case WEFT_OP_SILU: return "silu";
    case WEFT_OP_SWIGLU: return "swiglu";
    case WEFT_OP_GEGLU: return "geglu";
    case WEFT_OP_CPY: return "cpy";
    case WEFT_OP_CONT: return "cont";
    case WEFT_OP_SET_ROWS: return "set_rows";
    case WEFT_OP_FLASH_ATTN: return "flash_attn";
    case WEFT_OP_ARGMAX: return "argmax";
    case WEFT_OP_CONCAT: return "concat";
    default: return "unknown";
  }
}

/* WEFT_OP_SCALE: dst = src0 * scale + bias. Defaults: scale 1, bias 0. */
typedef struct weft_op_scale_params_t {
  uint32_t struct_size;
  float scale;
  float bias;
} weft_op_scale_params_t;

/* WEFT_OP_RMS_NORM. Default eps: 1e-6. */
typedef struct weft_op_rms_norm_params_t {
  uint32_t struct_size;
  float eps;
} weft_op_rms_norm_params_t;

typedef enum weft_rope_mode_t {
  WEFT_ROPE_MODE_NORMAL = 0, /* rotates pairs (x[2i], x[2i+1])              */
  WEFT_ROPE_MODE_NEOX = 1,   /* rotates pairs (x[i], x[i + n_dims/2])       */
} weft_rope_mode_t;

/* WEFT_OP_ROPE. theta_i = pos * freq_scale * freq_base^(-2i/n_dims) for the
 * first n_dims elements of each head; the rest pass through unchanged. */
typedef struct weft_op_rope_params_t {
  uint32_t struct_size;
  uint32_t mode;   /* weft_rope_mode_t */
  int32_t n_dims;  /* rotated dims per head; 0 means all of ne[0] */
  float freq_base; /* default 10000 */
  float freq_scale; /* default 1 */
} weft_op_rope_params_t;

/* WEFT_OP_SOFT_MAX. src1 (optional) is an additive mask broadcast over rows. */
typedef struct weft_op_soft_max_params_t {
  uint32_t struct_size;
  float scale; /* default 1 */
} weft_op_soft_max_params_t;

typedef enum weft_gelu_mode_t {
  WEFT_GELU_MODE_TANH = 0,
  WEFT_GELU_MODE_ERF = 1,
} weft_gelu_mode_t;

/* WEFT_OP_GELU and WEFT_OP_GEGLU. */
typedef struct weft_op_gelu_params_t {
  uint32_t struct_size;
  uint32_t mode; /* weft_gelu_mode_t, default tanh */
} weft_op_gelu_params_t;

/* WEFT_OP_FLASH_ATTN. src0 q, src1 k, src2 v, src3 optional additive mask. */
typedef struct weft_op_flash_attn_params_t {
  uint32_t struct_size;
  float scale;           /* applied to q k^T; default 1/sqrt(head dim) when 0 */
  float logit_softcap;   /* 0: off; else s = softcap * tanh(s / softcap)      */
  int32_t sliding_window; /* 0: off; else keys older than window are masked  */
} weft_op_flash_attn_params_t;

/* WEFT_OP_CONCAT. */
typedef struct weft_op_concat_params_t {
  uint32_t struct_size;
  int32_t dim; /* 0..3 */
} weft_op_concat_params_t;

#endif /* WEFT_ABI_OP_H_ */
