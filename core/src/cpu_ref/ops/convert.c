/* Element conversions of the reference backend: fp16 and bf16, the GGUF
 * block dequantizers and the q8_0 quantizer.
 *
 * Block layouts are the GGUF ones byte for byte (GGUF specification, "ggml
 * block layouts"; docs/ops.md "Dequantization" restates each formula).
 * Multi-byte fields are little-endian and read byte by byte, so no block
 * needs any alignment. The float operations are written in the same order
 * as ggml's reference dequantizers so that results match it bit for bit
 * (kernels_internal.h keeps the compiler from contracting a*b - c into an
 * FMA). */
#include <math.h>
#include <string.h>

#include "kernels_internal.h"

static uint32_t weft_cpu_ref_f32_bits(float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof(bits));
  return bits;
}

static float weft_cpu_ref_f32_from_bits(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof(f));
  return f;
}

float weft__fp16_to_fp32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0x1F) {
    /* Infinity, or NaN with its payload moved to the top mantissa bits. */
    return weft_cpu_ref_f32_from_bits(sign | 0x7F800000u | (mantissa << 13));
  }
  if (exponent != 0) {
    /* Rebias 15 -> 127. */
    return weft_cpu_ref_f32_from_bits(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  }
  /* Zero or subnormal: mantissa * 2^-24, exact in binary32. */
  float magnitude = (float)mantissa * 5.9604644775390625e-8f;
  return sign ? -magnitude : magnitude;
}

uint16_t weft__fp32_to_fp16(float f) {
  const uint32_t bits = weft_cpu_ref_f32_bits(f);
  const uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
  const uint32_t exponent = (bits >> 23) & 0xFFu;
  uint32_t mantissa = bits & 0x7FFFFFu;
  if (exponent == 0xFF) {
    if (mantissa == 0) return (uint16_t)(sign | 0x7C00u);
    /* NaN: keep the top payload bits and force it quiet. */
    return (uint16_t)(sign | 0x7E00u | (mantissa >> 13));
  }
  const int32_t half_exponent = (int32_t)exponent - 127 + 15;
  if (half_exponent >= 31) return (uint16_t)(sign | 0x7C00u); /* >= 2^16: infinity */
  if (half_exponent <= 0) {
    /* Below 2^-25 everything rounds to zero (2^-25 itself ties to even 0). */
    if (half_exponent < -10) return sign;
    /* Subnormal result: value = M * 2^(e - 14) in units of 2^-24. */
    const uint32_t full = mantissa | 0x800000u;
    const uint32_t shift = (uint32_t)(14 - half_exponent); /* 14..24 */
    uint32_t result = full >> shift;
    const uint32_t rest = full & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (result & 1u))) ++result;
    /* A carry into bit 10 yields the smallest normal, which is right. */
    return (uint16_t)(sign | result);
  }
  uint32_t result = ((uint32_t)half_exponent << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (result & 1u))) ++result;
  /* A carry may ripple into the exponent, up to infinity: both correct. */
  return (uint16_t)(sign | result);
}

float weft__bf16_to_fp32(uint16_t h) {
  return weft_cpu_ref_f32_from_bits((uint32_t)h << 16);
}

uint16_t weft__fp32_to_bf16(float f) {
  const uint32_t bits = weft_cpu_ref_f32_bits(f);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
    /* NaN: truncate and force quiet so that a payload in the low half
     * cannot turn it into infinity. */
    return (uint16_t)((bits >> 16) | 0x0040u);
  }
  /* Round to nearest even on the 16 bits dropped. */
  const uint32_t rounded = bits + 0x7FFFu + ((bits >> 16) & 1u);
  return (uint16_t)(rounded >> 16);
}

/* ---- dequantization ---------------------------------------------------- */

static float weft_cpu_ref_half_at(const uint8_t* p) {
  return weft__fp16_to_fp32((uint16_t)(p[0] | (p[1] << 8)));
}

static uint32_t weft_cpu_ref_u32_at(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

/* q4_0: f16 d, 16 bytes; byte j holds element j (low nibble) and j + 16
 * (high nibble); x = (q - 8) * d. */
static void weft_cpu_ref_dequant_q4_0(const uint8_t* b, float* y) {
  const float d = weft_cpu_ref_half_at(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = (float)((qs[j] & 0x0F) - 8) * d;
    y[j + 16] = (float)((qs[j] >> 4) - 8) * d;
  }
}

/* q4_1: f16 d, f16 m, 16 bytes of nibbles as q4_0; x = q * d + m. */
static void weft_cpu_ref_dequant_q4_1(const uint8_t* b, float* y) {
  const float d = weft_cpu_ref_half_at(b);
  const float m = weft_cpu_ref_half_at(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = (float)(qs[j] & 0x0F) * d + m;
    y[j + 16] = (float)(qs[j] >> 4) * d + m;
  }
}

/* q5_0: f16 d, u32 qh (bit i is the fifth bit of element i), 16 bytes of
 * nibbles as q4_0; x = (q - 16) * d. */
static void weft_cpu_ref_dequant_q5_0(const uint8_t* b, float* y) {
  const float d = weft_cpu_ref_half_at(b);
  const uint32_t qh = weft_cpu_ref_u32_at(b + 2);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    const int low = (qs[j] & 0x0F) | (int)(((qh >> j) & 1u) << 4);
    const int high = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
    y[j] = (float)(low - 16) * d;
    y[j + 16] = (float)(high - 16) * d;
  }
}

/* q5_1: f16 d, f16 m, u32 qh, 16 bytes; x = q * d + m. */
static void weft_cpu_ref_dequant_q5_1(const uint8_t* b, float* y) {
  const float d = weft_cpu_ref_half_at(b);
  const float m = weft_cpu_ref_half_at(b + 2);
  const uint32_t qh = weft_cpu_ref_u32_at(b + 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    const int low = (qs[j] & 0x0F) | (int)(((qh >> j) & 1u) << 4);
    const int high = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
    y[j] = (float)low * d + m;
    y[j + 16] = (float)high * d + m;
  }
}

/* q8_0: f16 d, 32 x int8; x = q * d. q8_1 adds f16 s (= d * sum q) after d,
 * which dequantization does not need. */
static void weft_cpu_ref_dequant_q8(const uint8_t* b, const uint8_t* qs, float* y) {
  const float d = weft_cpu_ref_half_at(b);
  for (int j = 0; j < 32; ++j) y[j] = (float)(int8_t)qs[j] * d;
}

/* q2_K (84 bytes): scales[16] (low nibble: scale, high nibble: min, one pair
 * per 16 elements), qs[64] (2-bit), f16 d, f16 dmin. Each 128-element half
 * uses 32 bytes of qs; shift 0,2,4,6 picks one of four 32-element groups, the
 * first 16 bytes feeding the first 16 elements of the group.
 * x = (d * sc) * q - (dmin * m). */
static void weft_cpu_ref_dequant_q2_K(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* q = b + 16;
  const float d = weft_cpu_ref_half_at(b + 80);
  const float dmin = weft_cpu_ref_half_at(b + 82);
  int is = 0;
  for (int half = 0; half < 2; ++half) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int part = 0; part < 2; ++part) {
        const uint8_t sc = scales[is++];
        const float dl = d * (float)(sc & 0x0F);
        const float ml = dmin * (float)(sc >> 4);
        for (int l = 0; l < 16; ++l) {
          *y++ = dl * (float)((q[l + 16 * part] >> shift) & 3) - ml;
        }
      }
    }
    q += 32;
  }
}

/* q3_K (110 bytes): hmask[32], qs[64] (low 2 bits), scales[12] (sixteen
 * 6-bit signed scales, bias 32), f16 d. Scale i: low 4 bits from byte i
 * (i < 8) or the high nibble of byte i - 8; high 2 bits from byte
 * 8 + i % 4 at bit 2 * (i / 4). The element's third bit is hmask bit m of
 * its byte: set means q, clear means q - 4. x = (d * (s - 32)) * q'. */
static void weft_cpu_ref_dequant_q3_K(const uint8_t* b, float* y) {
  const uint8_t* hmask = b;
  const uint8_t* q = b + 32;
  const uint8_t* packed = b + 96;
  const float d = weft_cpu_ref_half_at(b + 108);
  int scales[16];
  for (int i = 0; i < 16; ++i) {
    const int low = i < 8 ? (packed[i] & 0x0F) : (packed[i - 8] >> 4);
    const int high = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
    scales[i] = (low | (high << 4)) - 32;
  }
  int is = 0;
  unsigned bit = 0;
  for (int half = 0; half < 2; ++half) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int part = 0; part < 2; ++part) {
        const float dl = d * (float)scales[is++];
        for (int l = 0; l < 16; ++l) {
          const int index = l + 16 * part;
          const int low2 = (q[index] >> shift) & 3;
          const int value = low2 - ((hmask[index] >> bit) & 1u ? 0 : 4);
          *y++ = dl * (float)value;
        }
      }
      ++bit;
    }
    q += 32;
  }
}

/* The 6-bit scale and min j (0..7) of q4_K and q5_K, packed in 12 bytes:
 * j < 4: low 6 bits of bytes j and j + 4; otherwise the nibbles of byte
 * j + 4 with their top 2 bits from the top of bytes j - 4 and j. */
static void weft_cpu_ref_scale_min_k4(int j, const uint8_t* q, int* out_scale,
                                      int* out_min) {
  if (j < 4) {
    *out_scale = q[j] & 63;
    *out_min = q[j + 4] & 63;
  } else {
    *out_scale = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
    *out_min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

/* q4_K (144 bytes): f16 d, f16 dmin, scales[12], qs[128]. Four 64-element
 * groups use 32 bytes each: low nibbles are the first 32 elements (scale
 * 2g), high nibbles the next 32 (scale 2g + 1). x = (d * sc) * q - dmin * m. */
static void weft_cpu_ref_dequant_q4_K(const uint8_t* b, float* y) {
  const float d = weft_cpu_ref_half_at(b);
  const float dmin = weft_cpu_ref_half_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  for (int group = 0; group < 4; ++group) {
    int sc, m;
    weft_cpu_ref_scale_min_k4(2 * group, scales, &sc, &m);
    const float d1 = d * (float)sc, m1 = dmin * (float)m;
    weft_cpu_ref_scale_min_k4(2 * group + 1, scales, &sc, &m);
    const float d2 = d * (float)sc, m2 = dmin * (float)m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * (float)(q[l] & 0x0F) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * (float)(q[l] >> 4) - m2;
    q += 32;
  }
}

/* q5_K (176 bytes): f16 d, f16 dmin, scales[12], qh[32], qs[128]. As q4_K,
 * plus a fifth bit: for group g, bit 2g of qh[l] for the low nibbles and bit
 * 2g + 1 for the high nibbles (worth 16). */
static void weft_cpu_ref_dequant_q5_K(const uint8_t* b, float* y) {
  const float d = weft_cpu_ref_half_at(b);
  const float dmin = weft_cpu_ref_half_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* ql = b + 48;
  for (int group = 0; group < 4; ++group) {
    int sc, m;
    weft_cpu_ref_scale_min_k4(2 * group, scales, &sc, &m);
    const float d1 = d * (float)sc, m1 = dmin * (float)m;
    weft_cpu_ref_scale_min_k4(2 * group + 1, scales, &sc, &m);
    const float d2 = d * (float)sc, m2 = dmin * (float)m;
    const unsigned bit_low = 2u * (unsigned)group, bit_high = bit_low + 1u;
    for (int l = 0; l < 32; ++l) {
      const int value = (ql[l] & 0x0F) + (((qh[l] >> bit_low) & 1u) ? 16 : 0);
      *y++ = d1 * (float)value - m1;
    }
    for (int l = 0; l < 32; ++l) {
      const int value = (ql[l] >> 4) + (((qh[l] >> bit_high) & 1u) ? 16 : 0);
      *y++ = d2 * (float)value - m2;
    }
    ql += 32;
  }
}

/* q6_K (210 bytes): ql[128] (low 4 bits), qh[64] (high 2 bits), int8
 * scales[16] (one per 16 elements), f16 d. Per 128-element half, element
 * l + 32k (l < 32, k < 4) takes the low nibble (k even) or high nibble
 * (k odd) of ql[l + 32 * (k & 1)], bits 2k..2k+1 of qh[l], and scale
 * 8 * half + l / 16 + 2k. x = (d * scale) * (q - 32). */
static void weft_cpu_ref_dequant_q6_K(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = (const int8_t*)(b + 192);
  const float d = weft_cpu_ref_half_at(b + 208);
  for (int half = 0; half < 2; ++half) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * (float)sc[is + 0] * (float)q1;
      y[l + 32] = d * (float)sc[is + 2] * (float)q2;
      y[l + 64] = d * (float)sc[is + 4] * (float)q3;
      y[l + 96] = d * (float)sc[is + 6] * (float)q4;
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

/* q8_K (292 bytes): f32 d, 256 x int8, 16 x int16 block sums (unused here);
 * x = d * q. */
static void weft_cpu_ref_dequant_q8_K(const uint8_t* b, float* y) {
  const float d = weft_cpu_ref_f32_from_bits(weft_cpu_ref_u32_at(b));
  const uint8_t* qs = b + 4;
  for (int j = 0; j < 256; ++j) y[j] = d * (float)(int8_t)qs[j];
}

bool weft__dequantize_supported(uint32_t dtype) {
  switch (dtype) {
    case WEFT_DTYPE_F32: case WEFT_DTYPE_F16: case WEFT_DTYPE_BF16:
    case WEFT_DTYPE_Q4_0: case WEFT_DTYPE_Q4_1: case WEFT_DTYPE_Q5_0:
    case WEFT_DTYPE_Q5_1: case WEFT_DTYPE_Q8_0: case WEFT_DTYPE_Q8_1:
    case WEFT_DTYPE_Q2_K: case WEFT_DTYPE_Q3_K: case WEFT_DTYPE_Q4_K:
    case WEFT_DTYPE_Q5_K: case WEFT_DTYPE_Q6_K: case WEFT_DTYPE_Q8_K:
      return true;
    default:
      return false;
  }
}

bool weft__dequantize_row(uint32_t dtype, const void* src, float* dst, int64_t n) {
  if (!weft__dequantize_supported(dtype) || n < 0) return false;
  const int64_t block = weft_dtype_block_elements(dtype);
  if (n % block != 0) return false;
  const size_t bytes = weft_dtype_block_bytes(dtype);
  const uint8_t* in = (const uint8_t*)src;
  const int64_t blocks = n / block;
  switch (dtype) {
    case WEFT_DTYPE_F32:
      memcpy(dst, src, (size_t)n * sizeof(float));
      return true;
    case WEFT_DTYPE_F16:
      for (int64_t i = 0; i < n; ++i) {
        dst[i] = weft__fp16_to_fp32((uint16_t)(in[2 * i] | (in[2 * i + 1] << 8)));
      }
      return true;
    case WEFT_DTYPE_BF16:
      for (int64_t i = 0; i < n; ++i) {
        dst[i] = weft__bf16_to_fp32((uint16_t)(in[2 * i] | (in[2 * i + 1] << 8)));
      }
      return true;
    default:
      break;
  }
  for (int64_t i = 0; i < blocks; ++i, in += bytes, dst += block) {
    switch (dtype) {
      case WEFT_DTYPE_Q4_0: weft_cpu_ref_dequant_q4_0(in, dst); break;
      case WEFT_DTYPE_Q4_1: weft_cpu_ref_dequant_q4_1(in, dst); break;
      case WEFT_DTYPE_Q5_0: weft_cpu_ref_dequant_q5_0(in, dst); break;
      case WEFT_DTYPE_Q5_1: weft_cpu_ref_dequant_q5_1(in, dst); break;
      case WEFT_DTYPE_Q8_0: weft_cpu_ref_dequant_q8(in, in + 2, dst); break;
      case WEFT_DTYPE_Q8_1: weft_cpu_ref_dequant_q8(in, in + 4, dst); break;
      case WEFT_DTYPE_Q2_K: weft_cpu_ref_dequant_q2_K(in, dst); break;
      case WEFT_DTYPE_Q3_K: weft_cpu_ref_dequant_q3_K(in, dst); break;
      case WEFT_DTYPE_Q4_K: weft_cpu_ref_dequant_q4_K(in, dst); break;
      case WEFT_DTYPE_Q5_K: weft_cpu_ref_dequant_q5_K(in, dst); break;
      case WEFT_DTYPE_Q6_K: weft_cpu_ref_dequant_q6_K(in, dst); break;
      case WEFT_DTYPE_Q8_K: weft_cpu_ref_dequant_q8_K(in, dst); break;
      default: return false;
    }
  }
  return true;
}

bool weft__quantize_row_q8_0(const float* src, void* dst, int64_t n) {
  if (n < 0 || n % 32 != 0) return false;
  uint8_t* out = (uint8_t*)dst;
  for (int64_t i = 0; i < n; i += 32, out += 34) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) {
      const float a = fabsf(src[i + j]);
      if (a > amax) amax = a;
    }
    /* ggml's order: d from amax, then the reciprocal of the unrounded d;
     * the stored scale is d rounded to f16. */
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t half = weft__fp32_to_fp16(d);
    out[0] = (uint8_t)(half & 0xFF);
    out[1] = (uint8_t)(half >> 8);
    for (int j = 0; j < 32; ++j) {
      float q = roundf(src[i + j] * id); /* halves away from zero */
      /* Only non-finite inputs get here out of range; keep the cast defined. */
      if (!(q == q)) q = 0.0f;
      if (q > 127.0f) q = 127.0f;
      if (q < -127.0f) q = -127.0f;
      out[2 + j] = (uint8_t)(int8_t)q;
    }
  }
  return true;
}

const char* weft__dtype_name(uint32_t dtype) {
  switch (dtype) {
    case WEFT_DTYPE_F32: return "f32";
    case WEFT_DTYPE_F16: return "f16";
    case WEFT_DTYPE_Q4_0: return "q4_0";
    case WEFT_DTYPE_Q4_1: return "q4_1";
    case WEFT_DTYPE_Q5_0: return "q5_0";
    case WEFT_DTYPE_Q5_1: return "q5_1";
    case WEFT_DTYPE_Q8_0: return "q8_0";
    case WEFT_DTYPE_Q8_1: return "q8_1";
    case WEFT_DTYPE_Q2_K: return "q2_K";
    case WEFT_DTYPE_Q3_K: return "q3_K";
    case WEFT_DTYPE_Q4_K: return "q4_K";
    case WEFT_DTYPE_Q5_K: return "q5_K";
    case WEFT_DTYPE_Q6_K: return "q6_K";
    case WEFT_DTYPE_Q8_K: return "q8_K";
    case WEFT_DTYPE_I8: return "i8";
    case WEFT_DTYPE_I16: return "i16";
    case WEFT_DTYPE_I32: return "i32";
    case WEFT_DTYPE_I64: return "i64";
    case WEFT_DTYPE_F64: return "f64";
    case WEFT_DTYPE_BF16: return "bf16";
    default: return "unknown";
  }
}
