/* Op cases of the conformance suite: every op of op set 1 with every dtype
 * combination docs/ops.md allows (a "combination"), and seeded random cases
 * of each: odd sizes, broadcasting, permuted and gapped views, views at
 * offsets inside shared buffers, in-place variants, parameter structs that
 * are full, absent (defaults) or shorter (an older writer).
 *
 * A case holds host images of the buffers it needs: inputs, dst's prior
 * contents, and a guard pattern everywhere else. The runner (cts_ops.c)
 * uploads them, runs the node on the device and on the reference kernels,
 * and compares. */
#ifndef WEFT_TESTS_CTS_CTS_CASES_H_
#define WEFT_TESTS_CTS_CTS_CASES_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cts.h"
#include "cts_tensor.h"
#include "weft/abi/op.h"

#define CTS_DTYPE_NONE UINT32_MAX
/* Operand slots of a combination: src0..src3 and dst. */
#define CTS_SLOTS 5
#define CTS_SLOT_DST 4

typedef struct cts_combo_def_t {
  uint32_t op;
  uint32_t dtype[CTS_SLOTS]; /* CTS_DTYPE_NONE for an absent operand */
  char label[CTS_DTYPES_CAP];
} cts_combo_def_t;

/* Every combination of op set 1, ops in id order. Writes up to `cap` of them
 * to `out` (may be NULL) and returns how many there are. */
size_t cts_combos_build(cts_combo_def_t* out, size_t cap);

/* Cases per combination in each mode. */
uint32_t cts_cases_per_combo(cts_mode_t mode);

/* The 4-byte pattern in every byte that is not an element: each 2-byte half
 * is an f16/bf16 NaN and the word an f32 NaN, so a kernel that reads it
 * spreads NaNs instead of plausible numbers. */
extern const uint8_t CTS_GUARD_PATTERN[4];

#define CTS_MAX_TENSORS 6

typedef union cts_params_t {
  uint32_t struct_size;
  weft_op_scale_params_t scale;
  weft_op_rms_norm_params_t rms_norm;
  weft_op_rope_params_t rope;
  weft_op_soft_max_params_t soft_max;
  weft_op_gelu_params_t gelu;
  weft_op_flash_attn_params_t flash_attn;
  weft_op_concat_params_t concat;
  uint8_t bytes[64];
} cts_params_t;

typedef struct cts_case_t {
  uint32_t op;
  const cts_combo_def_t* combo;
  uint32_t combo_index;
  uint32_t index;
  cts_tensor_t t[CTS_MAX_TENSORS];
  uint32_t tensor_count;
  int32_t src[WEFT_MAX_SRC]; /* tensor index, -1 when unused */
  uint32_t dst;
  cts_params_t params;
  uint32_t params_size;      /* 0: params NULL */
  bool exact;
  double limit;              /* NMSE limit when not exact */
  uint32_t buffer_count;
  uint64_t buffer_size[CTS_MAX_TENSORS];
  uint8_t* image[CTS_MAX_TENSORS]; /* initial contents of each buffer */
  bool waits;                /* submit with wait events (runner's choice) */
  double flops;              /* mul_mat */
  char case_id[CTS_CASE_ID_CAP];
  char shapes[384];
} cts_case_t;

/* Builds case `index` of a combination; the data depends on (seed, op,
 * combo_index, index) only. False when out of memory (error says so). */
bool cts_case_make(cts_case_t* out_case, const cts_combo_def_t* combo, uint32_t combo_index,
                   uint32_t index, uint64_t seed, cts_mode_t mode, char* error,
                   size_t error_cap);
void cts_case_free(cts_case_t* c);

#endif /* WEFT_TESTS_CTS_CTS_CASES_H_ */
