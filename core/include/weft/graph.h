/* weft graphs: tensors, op constructors, compilation and execution.
 *
 * A host app describes its computation once: leaf tensors (inputs supplied at
 * each execution, and tensors bound to buffers, such as weights or a KV
 * cache), views of tensors, and ops made by constructors that check shapes
 * and dtypes at once and name the op, the operand and the values that do not
 * fit. Compiling places every op on a device (the scheduler), inserts copies
 * where data crosses devices and plans memory (one arena per device, reused
 * by liveness). The program that results runs any number of times.
 *
 * Shapes follow GGUF: ne[0] is the innermost, contiguous dimension; unused
 * dimensions have ne = 1; nb are byte strides. Op semantics, numerics and
 * tolerances: docs/ops.md (op set version 1).
 *
 * Ownership: the app owns graphs and programs. A graph owns its tensors;
 * tensor handles are valid until the graph is destroyed. A program keeps its
 * own copy of the graph and may outlive it. Buffers bound into a graph must
 * outlive every program compiled from it.
 *
 * Thread safety: a graph is built by one thread at a time. A program runs on
 * one thread at a time; distinct programs may run concurrently.
 *
 * Errors: constructors return INVALID_ARGUMENT naming the op, the operand and
 * the values ("mul_mat: src1 'x' has ne[0] 576, src0 'blk.0.attn_q' has
 * 512"); a tensor of another graph is refused the same way. Cycles cannot be
 * expressed: an op takes only tensors that already exist. */
#ifndef WEFT_GRAPH_H_
#define WEFT_GRAPH_H_

#include <stdint.h>

#include "weft/abi/dtype.h"
#include "weft/abi/op.h"
#include "weft/buffer.h"
#include "weft/export.h"
#include "weft/runtime.h"
#include "weft/status.h"

WEFT_EXTERN_C_BEGIN

typedef struct weft_graph_s weft_graph_t;
typedef struct weft_tensor_s weft_tensor_t;

/* ---- graphs ---- */

/* Creates an empty graph on `runtime` (which must outlive it). Errors:
 * INVALID_ARGUMENT, OUT_OF_MEMORY. */
WEFT_API weft_status_t weft_graph_create(weft_runtime_t* runtime, weft_graph_t** out_graph);
/* Frees the graph and its tensors. NULL is a no-op. */
WEFT_API void weft_graph_destroy(weft_graph_t* graph);

/* ---- leaves ---- */

/* A tensor whose contents the app supplies at each execution
 * (weft_program_set_input). rank 1..4; ne has `rank` entries, each >= 1;
 * contiguous. name may be NULL; it is copied (at most 71 bytes, above GGUF's 64). */
WEFT_API weft_status_t weft_graph_input(weft_graph_t* graph, const char* name,
                                        weft_dtype_t dtype, uint32_t rank,
                                        const int64_t* ne, weft_tensor_t** out_tensor);

/* A contiguous tensor stored in `buffer` at byte `offset` (weights, a KV
 * cache): ops read it in place and may write it (set_rows, cpy_into). The
 * range must lie inside the buffer. Ops that read it are placed on the
 * buffer's device where it supports them. */
WEFT_API weft_status_t weft_graph_bind(weft_graph_t* graph, const char* name,
                                       weft_dtype_t dtype, uint32_t rank, const int64_t* ne,
                                       weft_buffer_t* buffer, uint64_t offset,
                                       weft_tensor_t** out_tensor);

/* ---- views: new shapes over the same storage, no copy ---- */

/* ne/nb have `rank` entries; offset is in bytes from src's element 0. The
 * view must stay inside src's storage. */
WEFT_API weft_status_t weft_graph_view(weft_graph_t* graph, weft_tensor_t* src, uint32_t rank,
                                       const int64_t* ne, const int64_t* nb, uint64_t offset,
                                       weft_tensor_t** out_tensor);
/* src must be contiguous; the element count stays the same. */
WEFT_API weft_status_t weft_graph_reshape(weft_graph_t* graph, weft_tensor_t* src,
                                          uint32_t rank, const int64_t* ne,
                                          weft_tensor_t** out_tensor);
/* Dimension i of src becomes dimension axes[i] of the result (ggml_permute). */
WEFT_API weft_status_t weft_graph_permute(weft_graph_t* graph, weft_tensor_t* src,
                                          const uint32_t axes[4], weft_tensor_t** out_tensor);
/* Swaps dimensions 0 and 1. */
WEFT_API weft_status_t weft_graph_transpose(weft_graph_t* graph, weft_tensor_t* src,
                                            weft_tensor_t** out_tensor);

/* ---- ops (op set 1, docs/ops.md); results are new contiguous tensors unless
 * stated ---- */

WEFT_API weft_status_t weft_graph_get_rows(weft_graph_t* graph, weft_tensor_t* table,
                                           weft_tensor_t* ids, weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_mul_mat(weft_graph_t* graph, weft_tensor_t* weights,
                                          weft_tensor_t* x, weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_add(weft_graph_t* graph, weft_tensor_t* a, weft_tensor_t* b,
                                      weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_mul(weft_graph_t* graph, weft_tensor_t* a, weft_tensor_t* b,
                                      weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_scale(weft_graph_t* graph, weft_tensor_t* x, float scale,
                                        float bias, weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_rms_norm(weft_graph_t* graph, weft_tensor_t* x, float eps,
                                           weft_tensor_t** out_tensor);
/* params may be NULL (defaults). positions: i32 [n_tokens]. */
WEFT_API weft_status_t weft_graph_rope(weft_graph_t* graph, weft_tensor_t* x,
                                       weft_tensor_t* positions,
                                       const weft_op_rope_params_t* params,
                                       weft_tensor_t** out_tensor);
/* mask may be NULL. */
WEFT_API weft_status_t weft_graph_soft_max(weft_graph_t* graph, weft_tensor_t* x,
                                           weft_tensor_t* mask, float scale,
                                           weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_gelu(weft_graph_t* graph, weft_tensor_t* x,
                                       weft_gelu_mode_t mode, weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_silu(weft_graph_t* graph, weft_tensor_t* x,
                                       weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_swiglu(weft_graph_t* graph, weft_tensor_t* gate,
                                         weft_tensor_t* up, weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_geglu(weft_graph_t* graph, weft_tensor_t* gate,
                                        weft_tensor_t* up, weft_gelu_mode_t mode,
                                        weft_tensor_t** out_tensor);
/* A copy of src converted to `dtype`, same shape. */
WEFT_API weft_status_t weft_graph_cpy(weft_graph_t* graph, weft_tensor_t* src,
                                      weft_dtype_t dtype, weft_tensor_t** out_tensor);
/* Writes src, converted, into `dst` (an existing tensor or view, e.g. a slice
 * of a bound cache). The result is a tensor over dst's storage; ops that
 * must see the write take the result, not dst. */
WEFT_API weft_status_t weft_graph_cpy_into(weft_graph_t* graph, weft_tensor_t* src,
                                           weft_tensor_t* dst, weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_cont(weft_graph_t* graph, weft_tensor_t* src,
                                       weft_tensor_t** out_tensor);
/* Scatters rows of src into `table` at `ids` (writing the KV cache). The
 * result is a tensor over table's storage, as cpy_into. */
WEFT_API weft_status_t weft_graph_set_rows(weft_graph_t* graph, weft_tensor_t* table,
                                           weft_tensor_t* src, weft_tensor_t* ids,
                                           weft_tensor_t** out_tensor);
/* mask and params may be NULL. Result: [D_v, n_q, H, B]. */
WEFT_API weft_status_t weft_graph_flash_attn(weft_graph_t* graph, weft_tensor_t* q,
                                             weft_tensor_t* k, weft_tensor_t* v,
                                             weft_tensor_t* mask,
                                             const weft_op_flash_attn_params_t* params,
                                             weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_argmax(weft_graph_t* graph, weft_tensor_t* x,
                                         weft_tensor_t** out_tensor);
WEFT_API weft_status_t weft_graph_concat(weft_graph_t* graph, weft_tensor_t* a,
                                         weft_tensor_t* b, int32_t dim,
                                         weft_tensor_t** out_tensor);

/* ---- marking ---- */

/* Keeps the tensor's value after execution so weft_program_read can return
 * it. Ops no output depends on are not run, except writes into bound
 * tensors. */
WEFT_API weft_status_t weft_graph_output(weft_graph_t* graph, weft_tensor_t* tensor);

/* Names a tensor for messages and schedules (copied, at most 71 bytes). Op
 * results are named "<op>#<id>" until named. */
WEFT_API weft_status_t weft_tensor_name_set(weft_tensor_t* tensor, const char* name);

/* Runs the op that produced `tensor` on `device` (or fails to compile with
 * UNSUPPORTED naming the op, the device and its reason). */
WEFT_API weft_status_t weft_tensor_pin(weft_tensor_t* tensor, weft_device_t* device);

typedef struct weft_tensor_info_t {
  const char* name;      /* "" when unnamed; valid while the graph lives */
  uint32_t dtype;        /* weft_dtype_t */
  uint32_t rank;
  int64_t ne[4];
  int64_t nb[4];
  uint32_t op;           /* weft_op_t that produced it, WEFT_OP_NONE for leaves and views */
  uint32_t reserved0;
} weft_tensor_info_t;

WEFT_API void weft_tensor_info_get(const weft_tensor_t* tensor, weft_tensor_info_t* out_info);

WEFT_EXTERN_C_END

#endif /* WEFT_GRAPH_H_ */
