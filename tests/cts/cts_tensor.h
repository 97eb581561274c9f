/* Tensors of the conformance cases: layouts (permuted, gapped, broadcast
 * views at offsets inside buffers), element access on a host image of a
 * buffer, random data, and the comparisons of docs/ops.md section 3 (NMSE,
 * exact). */
#ifndef WEFT_TESTS_CTS_CTS_TENSOR_H_
#define WEFT_TESTS_CTS_CTS_TENSOR_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/abi/dtype.h"
#include "weft/abi/graph.h"

/* ---- random numbers: xorshift64*, seeded through splitmix64 ---- */

typedef struct cts_rng_t {
  uint64_t state;
} cts_rng_t;

/* A generator whose stream depends on every part of the key, so a case is
 * reproduced from (seed, op, combination, index) alone. */
cts_rng_t cts_rng_make(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
uint64_t cts_rng_next(cts_rng_t* rng);
double cts_rng_uniform(cts_rng_t* rng, double lo, double hi); /* [lo, hi) */
int64_t cts_rng_int(cts_rng_t* rng, int64_t lo, int64_t hi);  /* [lo, hi] */
/* true with probability 1/n. */
bool cts_rng_one_in(cts_rng_t* rng, int64_t n);

/* ---- layouts ---- */

typedef enum cts_layout_kind_t {
  CTS_LAYOUT_CONTIGUOUS = 0, /* dims in order, no gaps */
  CTS_LAYOUT_ANY = 1,        /* random dim order, random gaps; block dtypes
                                keep ne[0] innermost and contiguous */
  CTS_LAYOUT_ROWS = 2,       /* ne[0] contiguous, outer dims permuted/gapped */
} cts_layout_kind_t;

typedef struct cts_tensor_t {
  uint32_t dtype;
  int64_t ne[4];
  int64_t nb[4];
  uint32_t buffer;  /* index of the case's buffer holding it */
  uint64_t offset;  /* byte offset of element 0 */
  uint64_t span;    /* bytes from element 0 to the end of the last one */
  int32_t alias_of; /* >= 0: the same view as that tensor (in place) */
  bool is_dst;
  char layout_text[24]; /* "contig", "perm 1023 gap 2", "bcast" */
} cts_tensor_t;

/* Sets nb (and layout_text) for the tensor's dtype and ne. With
 * `allow_broadcast` an outer dimension may get stride 0 (an input that
 * repeats itself, docs/ops.md section 1). */
void cts_tensor_layout(cts_tensor_t* t, cts_layout_kind_t kind, bool allow_broadcast,
                       cts_rng_t* rng);
/* Contiguous strides. */
void cts_tensor_contiguous(cts_tensor_t* t);

int64_t cts_tensor_count(const cts_tensor_t* t);
/* Bytes of one element (plain dtypes) or one block. */
uint32_t cts_tensor_unit(const cts_tensor_t* t);
/* span from ne and nb. */
uint64_t cts_tensor_span(const cts_tensor_t* t);
/* Byte offset of element (i0..i3) from element 0; for block dtypes the
 * offset of the block holding i0. */
uint64_t cts_tensor_at(const cts_tensor_t* t, int64_t i0, int64_t i1, int64_t i2, int64_t i3);
/* "[4, 3, 1, 1] f16 perm 1023" */
void cts_tensor_describe(const cts_tensor_t* t, char* out, size_t cap);

bool cts_dtype_is_block(uint32_t dtype);
bool cts_dtype_is_float(uint32_t dtype); /* f32, f16, bf16, f64 */
const char* cts_dtype_name(uint32_t dtype);

/* ---- elements on a host image of the buffer (base = buffer byte 0) ---- */

/* Plain dtypes only. i64 values beyond 2^53 lose bits: use for ids only. */
double cts_load(uint32_t dtype, const uint8_t* p);
void cts_store(uint32_t dtype, uint8_t* p, double v); /* rounds to dtype */

void cts_tensor_set(const cts_tensor_t* t, uint8_t* base, int64_t i0, int64_t i1, int64_t i2,
                    int64_t i3, double v);
double cts_tensor_get(const cts_tensor_t* t, const uint8_t* base, int64_t i0, int64_t i1,
                      int64_t i2, int64_t i3);

/* Fills every element with random data fitting its dtype: floats uniform in
 * [lo, hi); block dtypes random quants with small finite scales; integers
 * random bits. */
void cts_tensor_fill(const cts_tensor_t* t, uint8_t* base, cts_rng_t* rng, double lo, double hi);

/* Every element in logical order (i0 fastest) as double; block dtypes
 * dequantized. out holds cts_tensor_count(t) values. */
void cts_tensor_values(const cts_tensor_t* t, const uint8_t* base, double* out);

/* Marks (sets to 1) the bytes of every element (or block) of t in `mask`,
 * which covers the whole buffer. */
void cts_tensor_mark(const cts_tensor_t* t, uint8_t* mask);

/* ---- comparisons (docs/ops.md section 3) ---- */

typedef struct cts_compare_t {
  bool ok;
  double nmse;     /* NMSE cases; 0 for exact */
  int64_t worst;   /* index (logical order) of the worst element, or -1 */
  double got;
  double want;
  int64_t mismatches; /* exact: elements that differ */
} cts_compare_t;

/* NMSE = sum (a - r)^2 / sum r^2 <= limit. A NaN in r must be a NaN in a,
 * an infinity must be equal; with sum r^2 = 0 the result must be exact. */
cts_compare_t cts_compare_nmse(const double* actual, const double* expected, int64_t n,
                               double limit);
/* Bit-identical values, +0 equal to -0, NaN equal to NaN (float dtypes);
 * integers compared as their bytes. */
cts_compare_t cts_compare_exact(const cts_tensor_t* t, const uint8_t* actual_base,
                                const uint8_t* expected_base);

#endif /* WEFT_TESTS_CTS_CTS_TENSOR_H_ */
