/* weft plugin ABI: element types.
 *
 * Values are fixed forever and equal the GGUF/ggml tensor type ids (GGUF
 * specification, "ggml_type"), so a tensor type read from a GGUF file is a
 * weft_dtype_t with no translation, and block-quantized types have byte-for-byte
 * the GGUF block layout: weights map straight from the file without repacking.
 * Values not listed here are reserved; new types are added with their GGUF id. */
#ifndef WEFT_ABI_DTYPE_H_
#define WEFT_ABI_DTYPE_H_

#include <stddef.h>
#include <stdint.h>

typedef enum weft_dtype_t {
  WEFT_DTYPE_F32 = 0,
  WEFT_DTYPE_F16 = 1,
  WEFT_DTYPE_Q4_0 = 2,  /* block 32: f16 d, 16 B nibbles                    */
  WEFT_DTYPE_Q4_1 = 3,  /* block 32: f16 d, f16 m, 16 B nibbles             */
  WEFT_DTYPE_Q5_0 = 6,  /* block 32: f16 d, 4 B high bits, 16 B nibbles     */
  WEFT_DTYPE_Q5_1 = 7,  /* block 32: f16 d, f16 m, 4 B high bits, 16 B      */
  WEFT_DTYPE_Q8_0 = 8,  /* block 32: f16 d, 32 x int8                       */
  WEFT_DTYPE_Q8_1 = 9,  /* block 32: f16 d, f16 s, 32 x int8                */
  WEFT_DTYPE_Q2_K = 10, /* super-block 256                                  */
  WEFT_DTYPE_Q3_K = 11, /* super-block 256                                  */
  WEFT_DTYPE_Q4_K = 12, /* super-block 256: f16 d, f16 dmin, 12 B scales, 128 B */
  WEFT_DTYPE_Q5_K = 13, /* super-block 256                                  */
  WEFT_DTYPE_Q6_K = 14, /* super-block 256: 128 B ql, 64 B qh, 16 B scales, f16 d */
  WEFT_DTYPE_Q8_K = 15, /* super-block 256: f32 d, 256 x int8, 16 x int16   */
  WEFT_DTYPE_I8 = 24,
  WEFT_DTYPE_I16 = 25,
  WEFT_DTYPE_I32 = 26,
  WEFT_DTYPE_I64 = 27,
  WEFT_DTYPE_F64 = 28,
  WEFT_DTYPE_BF16 = 30,
  WEFT_DTYPE_LIMIT_ = 64 /* dtype bit masks are uint64_t; every id is below */
} weft_dtype_t;

/* Bit for a dtype in a uint64_t mask (weft_device_caps_t.dtypes). */
#define WEFT_DTYPE_BIT(dtype) ((uint64_t)1 << (unsigned)(dtype))

/* Elements per block (1 for plain types) and bytes per block; both 0 for an
 * id that is not a known dtype. Row sizes must be a whole number of blocks. */
static inline uint32_t weft_dtype_block_elements(uint32_t dtype) {
  switch (dtype) {
    case WEFT_DTYPE_F32: case WEFT_DTYPE_F16: case WEFT_DTYPE_BF16:
    case WEFT_DTYPE_I8: case WEFT_DTYPE_I16: case WEFT_DTYPE_I32:
    case WEFT_DTYPE_I64: case WEFT_DTYPE_F64:
      return 1;
    case WEFT_DTYPE_Q4_0: case WEFT_DTYPE_Q4_1: case WEFT_DTYPE_Q5_0:
    case WEFT_DTYPE_Q5_1: case WEFT_DTYPE_Q8_0: case WEFT_DTYPE_Q8_1:
      return 32;
    case WEFT_DTYPE_Q2_K: case WEFT_DTYPE_Q3_K: case WEFT_DTYPE_Q4_K:
    case WEFT_DTYPE_Q5_K: case WEFT_DTYPE_Q6_K: case WEFT_DTYPE_Q8_K:
      return 256;
    default:
      return 0;
  }
}

static inline uint32_t weft_dtype_block_bytes(uint32_t dtype) {
  switch (dtype) {
    case WEFT_DTYPE_F32: return 4;
    case WEFT_DTYPE_F16: return 2;
    case WEFT_DTYPE_BF16: return 2;
    case WEFT_DTYPE_I8: return 1;
    case WEFT_DTYPE_I16: return 2;
    case WEFT_DTYPE_I32: return 4;
    case WEFT_DTYPE_I64: return 8;
    case WEFT_DTYPE_F64: return 8;
    case WEFT_DTYPE_Q4_0: return 2 + 16;
    case WEFT_DTYPE_Q4_1: return 2 + 2 + 16;
    case WEFT_DTYPE_Q5_0: return 2 + 4 + 16;
    case WEFT_DTYPE_Q5_1: return 2 + 2 + 4 + 16;
    case WEFT_DTYPE_Q8_0: return 2 + 32;
    case WEFT_DTYPE_Q8_1: return 2 + 2 + 32;
    case WEFT_DTYPE_Q2_K: return 16 + 64 + 2 + 2;
    case WEFT_DTYPE_Q3_K: return 32 + 64 + 12 + 2;
    case WEFT_DTYPE_Q4_K: return 2 + 2 + 12 + 128;
    case WEFT_DTYPE_Q5_K: return 2 + 2 + 12 + 32 + 128;
    case WEFT_DTYPE_Q6_K: return 128 + 64 + 16 + 2;
    case WEFT_DTYPE_Q8_K: return 4 + 256 + 32;
    default: return 0;
  }
}

#endif /* WEFT_ABI_DTYPE_H_ */
