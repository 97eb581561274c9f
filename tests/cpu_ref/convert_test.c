/* Element conversions of the reference backend: fp16 and bf16 on their edge
 * values, every GGUF block dequantizer against blocks built byte by byte
 * with expected values from the format's formulas (written per element,
 * independently of the kernels' loop structure), and the q8_0 quantizer's
 * rounding and error bound. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cpu_ref/ops/kernels.h"
#include "ref_tensor.h"

static uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* ---- fp16 ---------------------------------------------------------------- */

static void test_fp16_edges(void** state) {
  (void)state;
  const struct {
    float in;
    uint16_t out;
  } cases[] = {
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f, 0x3C00},
      {-2.0f, 0xC000},
      {0.5f, 0x3800},
      {65504.0f, 0x7BFF},                 /* largest finite */
      {65519.996f, 0x7BFF},               /* just below the rounding midpoint */
      {65520.0f, 0x7C00},                 /* midpoint, ties to even: infinity */
      {1e10f, 0x7C00},
      {-1e10f, 0xFC00},
      {6.103515625e-05f, 0x0400},         /* 2^-14, smallest normal */
      {5.9604644775390625e-08f, 0x0001},  /* 2^-24, smallest subnormal */
      {2.98023223876953125e-08f, 0x0000}, /* 2^-25: tie, to even (zero) */
      {4.470348358154297e-08f, 0x0001},   /* 1.5 * 2^-25: above the tie */
      {6.097555160522461e-05f, 0x03FF},   /* largest subnormal */
      {1e-10f, 0x0000},
      {-1e-10f, 0x8000},
      {1.00048828125f, 0x3C00},           /* 1 + 2^-11: tie, to even */
      {1.00146484375f, 0x3C02},           /* 1 + 3 * 2^-11: tie, to even (up) */
      {1.0004883f, 0x3C00},
      {1.000489f, 0x3C01},                /* just above the tie */
      {65504.0f * 0.5f, 0x77FF},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    const uint16_t got = weft__fp32_to_fp16(cases[i].in);
    if (got != cases[i].out) {
      fail_msg("fp32_to_fp16(%.10g): got 0x%04X, want 0x%04X", (double)cases[i].in, got,
               cases[i].out);
    }
  }
  assert_int_equal(weft__fp32_to_fp16(INFINITY), 0x7C00);
  assert_int_equal(weft__fp32_to_fp16(-INFINITY), 0xFC00);
  const uint16_t nan = weft__fp32_to_fp16(NAN);
  assert_true((nan & 0x7C00) == 0x7C00 && (nan & 0x03FF) != 0);
  /* A NaN whose payload sits only in the low bits must stay NaN. */
  const uint16_t low_nan = weft__fp32_to_fp16(float_of(0x7F800001u));
  assert_true((low_nan & 0x7C00) == 0x7C00 && (low_nan & 0x03FF) != 0);

  assert_true(weft__fp16_to_fp32(0x7C00) == INFINITY);
  assert_true(weft__fp16_to_fp32(0xFC00) == -INFINITY);
  assert_true(isnan(weft__fp16_to_fp32(0x7E00)));
  assert_true(isnan(weft__fp16_to_fp32(0x7C01)));
  assert_true(weft__fp16_to_fp32(0x0001) == 5.9604644775390625e-08f);
  assert_true(weft__fp16_to_fp32(0x03FF) == 6.097555160522461e-05f);
  assert_true(weft__fp16_to_fp32(0x8001) == -5.9604644775390625e-08f);
  assert_int_equal(bits_of(weft__fp16_to_fp32(0x8000)), 0x80000000u);
  assert_true(weft__fp16_to_fp32(0x7BFF) == 65504.0f);
  assert_true(weft__fp16_to_fp32(0x3555) == 0.333251953125f);
}

/* Every finite f16 survives f16 -> f32 -> f16, and every f32 halfway
 * between two neighbouring f16 values rounds to the even one. */
static void test_fp16_exhaustive(void** state) {
  (void)state;
  for (uint32_t h = 0; h < 0x10000u; ++h) {
    const float f = weft__fp16_to_fp32((uint16_t)h);
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) {
      assert_true(isnan(f));
      continue;
    }
    if (weft__fp32_to_fp16(f) != h) fail_msg("round trip of 0x%04X gave 0x%04X", h, weft__fp32_to_fp16(f));
    /* The midpoint to the next value up (same sign), when both are finite. */
    if ((h & 0x7FFF) < 0x7BFF) {
      const float next = weft__fp16_to_fp32((uint16_t)(h + 1));
      const double mid = ((double)f + (double)next) / 2.0;
      const float midf = (float)mid; /* exact: f16 midpoints fit in f32 */
      assert_true((double)midf == mid);
      const uint16_t want = (h & 1u) ? (uint16_t)(h + 1) : (uint16_t)h;
      if (weft__fp32_to_fp16(midf) != want) {
        fail_msg("midpoint above 0x%04X gave 0x%04X, want 0x%04X", h, weft__fp32_to_fp16(midf),
                 want);
      }
      /* One f32 ulp above the midpoint always rounds up (away from h). */
      const float above = nextafterf(midf, (h & 0x8000) ? -INFINITY : INFINITY);
      assert_int_equal(weft__fp32_to_fp16(above), (uint16_t)(h + 1));
    }
  }
#if defined(__FLT16_MAX__) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  /* The compiler's own conversion as a second opinion on random inputs. */
  __extension__ typedef _Float16 compiler_half_t;
  ref_rng_t rng = {12345};
  for (int i = 0; i < 200000; ++i) {
    const float f = float_of((uint32_t)ref_rng_next(&rng));
    if (isnan(f)) continue;
    const compiler_half_t h = (compiler_half_t)f;
    uint16_t hb;
    memcpy(&hb, &h, 2);
    if (weft__fp32_to_fp16(f) != hb) {
      fail_msg("fp32_to_fp16(%a): got 0x%04X, the compiler says 0x%04X", (double)f,
               weft__fp32_to_fp16(f), hb);
    }
  }
#endif
}

/* ---- bf16 ---------------------------------------------------------------- */

static void test_bf16_edges(void** state) {
  (void)state;
  const struct {
    uint32_t in;
    uint16_t out;
  } cases[] = {
      {0x00000000u, 0x0000}, {0x80000000u, 0x8000}, {0x3F800000u, 0x3F80}, /* 1 */
      {0x3F808000u, 0x3F80},                                               /* tie, even */
      {0x3F818000u, 0x3F82},                                               /* tie, even (up) */
      {0x3F808001u, 0x3F81},                                               /* above tie */
      {0x3F807FFFu, 0x3F80},                                               /* below tie */
      {0x7F7FFFFFu, 0x7F80},                                               /* max f32 -> inf */
      {0x7F800000u, 0x7F80},                                               /* inf */
      {0xFF800000u, 0xFF80},                                               /* -inf */
      {0x00000001u, 0x0000},                                               /* subnormal, down */
      {0x00008000u, 0x0000},                                               /* tie, even (0) */
      {0x00018000u, 0x0002},                                               /* tie, even (up) */
      {0x00010000u, 0x0001},                                               /* subnormal kept */
      {0x807FFFFFu, 0x8080},                                               /* to smallest normal */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    const uint16_t got = weft__fp32_to_bf16(float_of(cases[i].in));
    if (got != cases[i].out) {
      fail_msg("fp32_to_bf16(0x%08X): got 0x%04X, want 0x%04X", cases[i].in, got, cases[i].out);
    }
  }
  /* NaNs stay NaN, including one whose payload is only in the low half. */
  const uint16_t nan = weft__fp32_to_bf16(float_of(0x7F800001u));
  assert_true((nan & 0x7F80) == 0x7F80 && (nan & 0x007F) != 0);
  assert_true(isnan(weft__bf16_to_fp32(weft__fp32_to_bf16(NAN))));
  for (uint32_t h = 0; h < 0x10000u; ++h) {
    const float f = weft__bf16_to_fp32((uint16_t)h);
    assert_int_equal(bits_of(f), h << 16);
    if (!isnan(f)) assert_int_equal(weft__fp32_to_bf16(f), h);
  }
}

/* ---- dequantization ------------------------------------------------------ */

static void put_half(uint8_t* p, float v) {
  const uint16_t h = weft__fp32_to_fp16(v);
  p[0] = (uint8_t)(h & 0xFF);
  p[1] = (uint8_t)(h >> 8);
}

static float half_at(const uint8_t* p) {
  return weft__fp16_to_fp32((uint16_t)(p[0] | (p[1] << 8)));
}

static void random_bytes(ref_rng_t* rng, uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = (uint8_t)ref_rng_next(rng);
}

/* Compares a dequantized block with the expected values, bit for bit. */
static void expect_block(uint32_t dtype, const uint8_t* block, const float* want, int n) {
  float got[256];
  assert_true(weft__dequantize_row(dtype, block, got, n));
  for (int i = 0; i < n; ++i) {
    if (bits_of(got[i]) != bits_of(want[i])) {
      fail_msg("%s element %d: got %.9g, want %.9g", weft__dtype_name(dtype), i,
               (double)got[i], (double)want[i]);
    }
  }
}

/* Hand-built q4_0 and q8_0 blocks with values one can read off. */
static void test_dequant_known_values(void** state) {
  (void)state;
  uint8_t q4[18];
  put_half(q4, 0.5f);
  for (int j = 0; j < 16; ++j) q4[2 + j] = (uint8_t)((j & 0x0F) | ((15 - j) << 4));
  float want[32];
  for (int j = 0; j < 16; ++j) {
    want[j] = (float)(j - 8) * 0.5f;        /* -4 .. 3.5 */
    want[j + 16] = (float)(7 - j) * 0.5f;   /* 3.5 .. -4 */
  }
  expect_block(WEFT_DTYPE_Q4_0, q4, want, 32);

  uint8_t q8[34];
  put_half(q8, 0.25f);
  for (int j = 0; j < 32; ++j) q8[2 + j] = (uint8_t)(int8_t)(j * 8 - 128);
  for (int j = 0; j < 32; ++j) want[j] = (float)(j * 8 - 128) * 0.25f;
  expect_block(WEFT_DTYPE_Q8_0, q8, want, 32);

  /* q5_0: bit j of qh is element j's fifth bit, bit j + 16 element j + 16's. */
  uint8_t q5[22];
  memset(q5, 0, sizeof(q5));
  put_half(q5, 1.0f);
  q5[2] = 0x01;         /* element 0: 16 + 0 - 16 = 0  */
  q5[4] = 0x01;         /* element 16: fifth bit set   */
  q5[6] = 0x3F;         /* element 0 low nibble 15 (+16 -> 31 - 16 = 15), element 16 high 3 */
  for (int j = 0; j < 32; ++j) want[j] = -16.0f;
  want[0] = 15.0f;
  want[16] = 3.0f;
  expect_block(WEFT_DTYPE_Q5_0, q5, want, 32);

  /* q6_K with one non-zero scale and values that spell their position. */
  uint8_t q6[210];
  memset(q6, 0, sizeof(q6));
  put_half(q6 + 208, 2.0f);
  for (int s = 0; s < 16; ++s) q6[192 + s] = (uint8_t)(int8_t)(s % 2 ? -1 : 1);
  float want6[256];
  for (int i = 0; i < 256; ++i) want6[i] = 2.0f * (float)((i / 16) % 2 ? -1 : 1) * -32.0f;
  expect_block(WEFT_DTYPE_Q6_K, q6, want6, 256);
}

/* Random blocks against per-element formulas. `formula` returns element i of
 * the block at b. */
typedef float (*element_formula_t)(const uint8_t* b, int i);

static float f_q4_0(const uint8_t* b, int i) {
  const int q = i < 16 ? (b[2 + i] & 0x0F) : (b[2 + i - 16] >> 4);
  return (float)(q - 8) * half_at(b);
}

static float f_q4_1(const uint8_t* b, int i) {
  const int q = i < 16 ? (b[4 + i] & 0x0F) : (b[4 + i - 16] >> 4);
  return (float)q * half_at(b) + half_at(b + 2);
}

static int fifth_bit(const uint8_t* qh, int i) {
  return (qh[i / 8] >> (i % 8)) & 1;
}

static float f_q5_0(const uint8_t* b, int i) {
  const int low = i < 16 ? (b[6 + i] & 0x0F) : (b[6 + i - 16] >> 4);
  return (float)((low | (fifth_bit(b + 2, i) << 4)) - 16) * half_at(b);
}

static float f_q5_1(const uint8_t* b, int i) {
  const int low = i < 16 ? (b[8 + i] & 0x0F) : (b[8 + i - 16] >> 4);
  return (float)(low | (fifth_bit(b + 4, i) << 4)) * half_at(b) + half_at(b + 2);
}

static float f_q8_0(const uint8_t* b, int i) {
  return (float)(int8_t)b[2 + i] * half_at(b);
}

static float f_q8_1(const uint8_t* b, int i) {
  return (float)(int8_t)b[4 + i] * half_at(b);
}

/* q2_K: element i lies in 128-half h = i / 128, 32-group g = (i % 128) / 32
 * (the 2-bit field at shift 2g), byte 32h + (i % 32) of qs; scale byte i / 16. */
static float f_q2_K(const uint8_t* b, int i) {
  const int h = i / 128, g = (i % 128) / 32;
  const int q = (b[16 + 32 * h + i % 32] >> (2 * g)) & 3;
  const uint8_t sc = b[i / 16];
  const float dl = half_at(b + 80) * (float)(sc & 0x0F);
  const float ml = half_at(b + 82) * (float)(sc >> 4);
  return dl * (float)q - ml;
}

/* q3_K: as q2_K for the low two bits (qs at 32); hmask bit 4h + g of byte
 * i % 32; scale i / 16 six bits from the 12-byte table at 96, minus 32. */
static float f_q3_K(const uint8_t* b, int i) {
  const int h = i / 128, g = (i % 128) / 32;
  const int low = (b[32 + 32 * h + i % 32] >> (2 * g)) & 3;
  const int hbit = (b[i % 32] >> (4 * h + g)) & 1;
  const int s = i / 16;
  const uint8_t* t = b + 96;
  const int sc_low = s < 8 ? (t[s] & 0x0F) : (t[s - 8] >> 4);
  const int sc_high = (t[8 + s % 4] >> (2 * (s / 4))) & 3;
  const int scale = (sc_low | (sc_high << 4)) - 32;
  const float dl = half_at(b + 108) * (float)scale;
  return dl * (float)(low - (hbit ? 0 : 4));
}

static void scale_min_k4(const uint8_t* t, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = t[j] & 0x3F;
    *m = t[j + 4] & 0x3F;
  } else {
    *sc = (t[j + 4] & 0x0F) | ((t[j - 4] >> 6) << 4);
    *m = (t[j + 4] >> 4) | ((t[j] >> 6) << 4);
  }
}

/* q4_K: sub-block j = i / 32 (scale/min j); byte 32 * (i / 64) + i % 32 of
 * qs, low nibble for even j, high for odd. */
static float f_q4_K(const uint8_t* b, int i) {
  const int j = i / 32;
  const uint8_t byte = b[16 + 32 * (i / 64) + i % 32];
  const int q = j % 2 ? byte >> 4 : byte & 0x0F;
  int sc, m;
  scale_min_k4(b + 4, j, &sc, &m);
  const float d1 = half_at(b) * (float)sc, m1 = half_at(b + 2) * (float)m;
  return d1 * (float)q - m1;
}

/* q5_K: as q4_K (qs at 48) plus bit j of qh[i % 32] worth 16. */
static float f_q5_K(const uint8_t* b, int i) {
  const int j = i / 32;
  const uint8_t byte = b[48 + 32 * (i / 64) + i % 32];
  const int q = (j % 2 ? byte >> 4 : byte & 0x0F) + (((b[16 + i % 32] >> j) & 1) ? 16 : 0);
  int sc, m;
  scale_min_k4(b + 4, j, &sc, &m);
  const float d1 = half_at(b) * (float)sc, m1 = half_at(b + 2) * (float)m;
  return d1 * (float)q - m1;
}

/* q6_K: half h = i / 128, r = i % 128, k = r / 32, l = r % 32: low nibble
 * (k < 2) or high nibble (k >= 2) of ql[64h + l + 32 * (k % 2)], bits 2k of
 * qh[32h + l], scale 8h + l / 16 + 2k. */
static float f_q6_K(const uint8_t* b, int i) {
  const int h = i / 128, r = i % 128, k = r / 32, l = r % 32;
  const uint8_t lbyte = b[64 * h + l + 32 * (k % 2)];
  const int low = k < 2 ? (lbyte & 0x0F) : (lbyte >> 4);
  const int high = (b[128 + 32 * h + l] >> (2 * k)) & 3;
  const int q = (low | (high << 4)) - 32;
  const int8_t scale = (int8_t)b[192 + 8 * h + l / 16 + 2 * k];
  return half_at(b + 208) * (float)scale * (float)q;
}

static float f_q8_K(const uint8_t* b, int i) {
  float d;
  memcpy(&d, b, 4);
  return d * (float)(int8_t)b[4 + i];
}

static void check_random_blocks(uint32_t dtype, element_formula_t formula, int scale_offset,
                                int min_offset) {
  ref_rng_t rng = {dtype * 7919u + 1};
  const int n = (int)weft_dtype_block_elements(dtype);
  const int bytes = (int)weft_dtype_block_bytes(dtype);
  /* Three blocks in one row, the middle one at an odd address. */
  uint8_t row[3 * 292 + 1];
  uint8_t* start = row + 1;
  for (int trial = 0; trial < 20; ++trial) {
    random_bytes(&rng, start, (size_t)(3 * bytes));
    for (int k = 0; k < 3; ++k) {
      uint8_t* b = start + k * bytes;
      if (dtype == WEFT_DTYPE_Q8_K) {
        const float d = (float)ref_rng_uniform(&rng, -0.1, 0.1);
        memcpy(b, &d, 4);
      } else {
        put_half(b + scale_offset, (float)ref_rng_uniform(&rng, -0.1, 0.1));
        if (min_offset >= 0) put_half(b + min_offset, (float)ref_rng_uniform(&rng, -0.1, 0.1));
      }
    }
    float got[3 * 256];
    assert_true(weft__dequantize_row(dtype, start, got, 3 * n));
    for (int k = 0; k < 3; ++k) {
      for (int i = 0; i < n; ++i) {
        const float want = formula(start + k * bytes, i);
        if (bits_of(got[k * n + i]) != bits_of(want)) {
          fail_msg("%s block %d element %d: got %.9g, want %.9g", weft__dtype_name(dtype), k, i,
                   (double)got[k * n + i], (double)want);
        }
      }
    }
  }
}

static void test_dequant_formulas(void** state) {
  (void)state;
  check_random_blocks(WEFT_DTYPE_Q4_0, f_q4_0, 0, -1);
  check_random_blocks(WEFT_DTYPE_Q4_1, f_q4_1, 0, 2);
  check_random_blocks(WEFT_DTYPE_Q5_0, f_q5_0, 0, -1);
  check_random_blocks(WEFT_DTYPE_Q5_1, f_q5_1, 0, 2);
  check_random_blocks(WEFT_DTYPE_Q8_0, f_q8_0, 0, -1);
  check_random_blocks(WEFT_DTYPE_Q8_1, f_q8_1, 0, 2);
  check_random_blocks(WEFT_DTYPE_Q2_K, f_q2_K, 80, 82);
  check_random_blocks(WEFT_DTYPE_Q3_K, f_q3_K, 108, -1);
  check_random_blocks(WEFT_DTYPE_Q4_K, f_q4_K, 0, 2);
  check_random_blocks(WEFT_DTYPE_Q5_K, f_q5_K, 0, 2);
  check_random_blocks(WEFT_DTYPE_Q6_K, f_q6_K, 208, -1);
  check_random_blocks(WEFT_DTYPE_Q8_K, f_q8_K, 0, -1);
}

static void test_dequant_plain_and_rejects(void** state) {
  (void)state;
  /* f16 and bf16 rows at an odd address. */
  uint8_t raw[1 + 6];
  const uint16_t h[3] = {0x3C00, 0xC000, 0x7BFF};
  for (int i = 0; i < 3; ++i) {
    raw[1 + 2 * i] = (uint8_t)(h[i] & 0xFF);
    raw[2 + 2 * i] = (uint8_t)(h[i] >> 8);
  }
  float out[3];
  assert_true(weft__dequantize_row(WEFT_DTYPE_F16, raw + 1, out, 3));
  assert_true(out[0] == 1.0f && out[1] == -2.0f && out[2] == 65504.0f);
  assert_true(weft__dequantize_row(WEFT_DTYPE_BF16, raw + 1, out, 3));
  assert_true(out[0] == weft__bf16_to_fp32(0x3C00) && out[1] == weft__bf16_to_fp32(0xC000));
  const float f[2] = {1.5f, -3.25f};
  assert_true(weft__dequantize_row(WEFT_DTYPE_F32, f, out, 2));
  assert_true(out[0] == 1.5f && out[1] == -3.25f);
  /* Not whole blocks, not a dequantizable dtype. */
  out[0] = 42.0f;
  assert_false(weft__dequantize_row(WEFT_DTYPE_Q4_0, raw, out, 31));
  assert_false(weft__dequantize_row(WEFT_DTYPE_Q4_K, raw, out, 32));
  assert_false(weft__dequantize_row(WEFT_DTYPE_I32, raw, out, 1));
  assert_false(weft__dequantize_row(99, raw, out, 1));
  assert_true(out[0] == 42.0f);
  assert_string_equal(weft__dtype_name(WEFT_DTYPE_Q4_K), "q4_K");
  assert_string_equal(weft__dtype_name(WEFT_DTYPE_BF16), "bf16");
  assert_string_equal(weft__dtype_name(5), "unknown");
}

/* ---- q8_0 quantization --------------------------------------------------- */

static void test_quantize_q8_0_rounding(void** state) {
  (void)state;
  /* amax 127 makes d = 1 exactly, so q = round(x): halves go away from 0. */
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = 0.0f;
  x[0] = 127.0f;
  x[1] = 0.5f;
  x[2] = -0.5f;
  x[3] = 1.5f;
  x[4] = 2.5f;
  x[5] = -2.5f;
  x[6] = 0.49f;
  x[7] = -127.0f;
  uint8_t block[34];
  assert_true(weft__quantize_row_q8_0(x, block, 32));
  assert_true(half_at(block) == 1.0f);
  const int8_t want[8] = {127, 1, -1, 2, 3, -3, 0, -127};
  for (int j = 0; j < 8; ++j) assert_int_equal((int8_t)block[2 + j], want[j]);
  /* An all-zero block has d = 0 and q = 0. */
  for (int j = 0; j < 32; ++j) x[j] = 0.0f;
  assert_true(weft__quantize_row_q8_0(x, block, 32));
  assert_true(half_at(block) == 0.0f);
  for (int j = 0; j < 32; ++j) assert_int_equal(block[2 + j], 0);
  assert_false(weft__quantize_row_q8_0(x, block, 33));
}

/* Round trip error: q = round(x / d) leaves |x - q d| <= d / 2, and storing
 * d as f16 adds |q| |d - d_f16| <= 127 |d - d_f16|; for d in f16's normal
 * range that is at most 127 d 2^-11, so the total stays under 0.57 d. Tiny
 * blocks (d below 2^-14, an f16 subnormal) lose relative precision in d, as
 * in ggml; the first bound still holds for them. */
static void test_quantize_q8_0_error_bound(void** state) {
  (void)state;
  ref_rng_t rng = {99};
  enum { N = 32 * 64 };
  static float x[N], y[N];
  static uint8_t blocks[64 * 34 + 1];
  for (int trial = 0; trial < 8; ++trial) {
    const double range = trial == 0 ? 1e-3 : trial * 7.0;
    for (int i = 0; i < N; ++i) x[i] = (float)ref_rng_uniform(&rng, -range, range);
    assert_true(weft__quantize_row_q8_0(x, blocks + 1, N));
    assert_true(weft__dequantize_row(WEFT_DTYPE_Q8_0, blocks + 1, y, N));
    for (int b = 0; b < N / 32; ++b) {
      float amax = 0.0f;
      for (int j = 0; j < 32; ++j) amax = fmaxf(amax, fabsf(x[32 * b + j]));
      const double d = amax / 127.0;
      const double d16 = half_at(blocks + 1 + 34 * b);
      double bound = 0.5 * d * (1.0 + 1e-6) + 127.0 * fabs(d - d16);
      if (d >= 6.103515625e-05) {
        assert_true(bound <= 0.57 * d);
      }
      for (int j = 0; j < 32; ++j) {
        const double err = fabs((double)x[32 * b + j] - (double)y[32 * b + j]);
        if (err > bound) {
          fail_msg("block %d element %d: |%g - %g| = %g > %g (d = %g)", b, j,
                   (double)x[32 * b + j], (double)y[32 * b + j], err, bound, d);
        }
      }
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fp16_edges),
      cmocka_unit_test(test_fp16_exhaustive),
      cmocka_unit_test(test_bf16_edges),
      cmocka_unit_test(test_dequant_known_values),
      cmocka_unit_test(test_dequant_formulas),
      cmocka_unit_test(test_dequant_plain_and_rejects),
      cmocka_unit_test(test_quantize_q8_0_rounding),
      cmocka_unit_test(test_quantize_q8_0_error_bound),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
