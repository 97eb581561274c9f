/* The graph builder: leaves, views and op constructors. Every constructor
 * infers the result's shape from docs/ops.md and then asks the reference
 * kernels' check, the definition of op set 1, whether the node is valid, so
 * that a graph that builds is a graph every conforming backend can run. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buffer_impl.h"
#include "cpu_ref/ops/kernels.h"
#include "graph_impl.h"
#include "runtime_impl.h"
#include "util.h"

/* ---- shapes ---- */

void weft__tensor_contiguous_strides(uint32_t dtype, const int64_t ne[4], int64_t out_nb[4]) {
  uint32_t block = weft_dtype_block_elements(dtype);
  out_nb[0] = weft_dtype_block_bytes(dtype);
  out_nb[1] = out_nb[0] * (block ? ne[0] / block : 0);
  out_nb[2] = out_nb[1] * ne[1];
  out_nb[3] = out_nb[2] * ne[2];
}

uint64_t weft__tensor_contiguous_bytes(uint32_t dtype, const int64_t ne[4]) {
  uint64_t block = weft_dtype_block_elements(dtype);
  if (block == 0) return 0;
  uint64_t bytes = weft_dtype_block_bytes(dtype);
  uint64_t count = (uint64_t)ne[0] / block;
  if (__builtin_mul_overflow(bytes, count, &bytes)) return 0;
  for (int i = 1; i < 4; ++i) {
    if (__builtin_mul_overflow(bytes, (uint64_t)ne[i], &bytes)) return 0;
  }
  return bytes;
}

uint64_t weft__tensor_extent(uint32_t dtype, const int64_t ne[4], const int64_t nb[4]) {
  uint64_t block = weft_dtype_block_elements(dtype);
  if (block == 0) return 0;
  uint64_t extent = weft_dtype_block_bytes(dtype), term = 0;
  for (int i = 0; i < 4; ++i) {
    uint64_t count = (uint64_t)(i == 0 ? ne[0] / (int64_t)block : ne[i]) - 1;
    if (__builtin_mul_overflow(count, (uint64_t)nb[i], &term) ||
        __builtin_add_overflow(extent, term, &extent)) {
      return 0;
    }
  }
  return extent;
}

bool weft__tensor_is_contiguous(const weft_tensor_t* tensor) {
  int64_t nb[4];
  weft__tensor_contiguous_strides(tensor->dtype, tensor->ne, nb);
  for (int i = 0; i < 4; ++i) {
    if (tensor->ne[i] > 1 && tensor->nb[i] != nb[i]) return false;
  }
  return true;
}

const weft_tensor_t* weft__tensor_storage_root(const weft_tensor_t* tensor,
                                               uint64_t* out_offset) {
  uint64_t offset = 0;
  while (tensor->base) {
    offset += tensor->offset;
    tensor = tensor->base;
  }
  if (out_offset) *out_offset = offset;
  return tensor;
}

/* "'name' [4096, 3]" for messages. */
static void weft_tensor_describe(const weft_tensor_t* t, char* out, size_t cap) {
  int n = snprintf(out, cap, "'%s' %s [", t->name[0] ? t->name : "(unnamed)",
                   weft__dtype_name(t->dtype));
  for (uint32_t i = 0; i < t->rank && n > 0 && (size_t)n < cap; ++i) {
    n += snprintf(out + n, cap - (size_t)n, "%s%lld", i ? ", " : "", (long long)t->ne[i]);
  }
  if (n > 0 && (size_t)n < cap) snprintf(out + n, cap - (size_t)n, "]");
}

/* ---- graphs ---- */

weft_status_t weft_graph_create(weft_runtime_t* runtime, weft_graph_t** out_graph) {
  if (out_graph) *out_graph = NULL;
  if (!runtime || !out_graph) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_graph_create: runtime and out_graph must not be NULL");
  }
  weft_graph_t* graph = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(runtime->allocator, sizeof(*graph), "a graph",
                                   (void**)&graph));
  graph->runtime = runtime;
  *out_graph = graph;
  return WEFT_OK;
}

void weft_graph_destroy(weft_graph_t* graph) {
  if (!graph) return;
  weft_allocator_t allocator = graph->runtime->allocator;
  for (size_t i = 0; i < graph->tensor_count; ++i) weft__free(allocator, graph->tensors[i]);
  weft__free(allocator, graph->tensors);
  weft__free(allocator, graph);
}

static weft_status_t weft_graph_tensor_new(weft_graph_t* graph, uint32_t kind,
                                           const char* name, weft_tensor_t** out_tensor) {
  weft_allocator_t allocator = graph->runtime->allocator;
  if (graph->tensor_count >= UINT32_MAX - 1) {
    return weft_status_make(WEFT_STATUS_RESOURCE_EXHAUSTED,
                            "graph holds %zu tensors, the most it can", graph->tensor_count);
  }
  WEFT_RETURN_IF_ERROR(weft__array_reserve_one(allocator, (void**)&graph->tensors,
                                               &graph->tensor_capacity, graph->tensor_count,
                                               sizeof(weft_tensor_t*)));
  weft_tensor_t* tensor = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(allocator, sizeof(*tensor), "a tensor", (void**)&tensor));
  tensor->graph = graph;
  tensor->id = (uint32_t)graph->tensor_count;
  tensor->kind = kind;
  tensor->rank = 1;
  for (int i = 0; i < 4; ++i) tensor->ne[i] = 1;
  if (name) weft__strlcpy(tensor->name, name, sizeof(tensor->name));
  graph->tensors[graph->tensor_count++] = tensor;
  *out_tensor = tensor;
  return WEFT_OK;
}

/* Drops the most recently made tensor (a constructor that failed its check). */
static void weft_graph_tensor_drop_last(weft_graph_t* graph) {
  graph->tensor_count--;
  weft__free(graph->runtime->allocator, graph->tensors[graph->tensor_count]);
}

static weft_status_t weft_graph_check_shape(const char* what, weft_dtype_t dtype,
                                            uint32_t rank, const int64_t* ne) {
  if (weft_dtype_block_elements(dtype) == 0) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "%s: unknown dtype %d", what,
                            (int)dtype);
  }
  if (rank < 1 || rank > 4 || !ne) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "%s: rank is %u, expected 1 to 4 with an ne array", what, rank);
  }
  for (uint32_t i = 0; i < rank; ++i) {
    if (ne[i] < 1 || ne[i] > ((int64_t)1 << 48)) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "%s: ne[%u] is %lld, expected 1 to 2^48", what, i,
                              (long long)ne[i]);
    }
  }
  uint32_t block = weft_dtype_block_elements(dtype);
  if (ne[0] % block != 0) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "%s: dtype %s needs ne[0] %% %u == 0, got %lld", what,
                            weft__dtype_name(dtype), block, (long long)ne[0]);
  }
  int64_t full[4] = {1, 1, 1, 1};
  for (uint32_t i = 0; i < rank; ++i) full[i] = ne[i];
  if (weft__tensor_contiguous_bytes(dtype, full) == 0) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "%s: the tensor's size overflows",
                            what);
  }
  return WEFT_OK;
}

static void weft_tensor_set_contiguous(weft_tensor_t* tensor, uint32_t dtype, uint32_t rank,
                                       const int64_t ne[4]) {
  tensor->dtype = dtype;
  tensor->rank = rank;
  for (int i = 0; i < 4; ++i) tensor->ne[i] = (uint32_t)i < rank ? ne[i] : 1;
  weft__tensor_contiguous_strides(dtype, tensor->ne, tensor->nb);
}

weft_status_t weft_graph_input(weft_graph_t* graph, const char* name, weft_dtype_t dtype,
                               uint32_t rank, const int64_t* ne, weft_tensor_t** out_tensor) {
  if (out_tensor) *out_tensor = NULL;
  if (!graph || !out_tensor) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_graph_input: graph and out_tensor must not be NULL");
  }
  char what[96];
  snprintf(what, sizeof(what), "input '%s'", name ? name : "");
  WEFT_RETURN_IF_ERROR(weft_graph_check_shape(what, dtype, rank, ne));
  weft_tensor_t* tensor = NULL;
  WEFT_RETURN_IF_ERROR(weft_graph_tensor_new(graph, WEFT_TENSOR_KIND_INPUT, name, &tensor));
  weft_tensor_set_contiguous(tensor, dtype, rank, ne);
  *out_tensor = tensor;
  return WEFT_OK;
}

weft_status_t weft_graph_bind(weft_graph_t* graph, const char* name, weft_dtype_t dtype,
                              uint32_t rank, const int64_t* ne, weft_buffer_t* buffer,
                              uint64_t offset, weft_tensor_t** out_tensor) {
  if (out_tensor) *out_tensor = NULL;
  if (!graph || !out_tensor || !buffer) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_graph_bind: graph, buffer and out_tensor must not be NULL");
  }
  char what[96];
  snprintf(what, sizeof(what), "bound tensor '%s'", name ? name : "");
  WEFT_RETURN_IF_ERROR(weft_graph_check_shape(what, dtype, rank, ne));
  if (buffer->device->runtime != graph->runtime) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "%s: its buffer belongs to another runtime", what);
  }
  int64_t full[4] = {1, 1, 1, 1};
  for (uint32_t i = 0; i < rank; ++i) full[i] = ne[i];
  uint64_t bytes = weft__tensor_contiguous_bytes(dtype, full);
  if (offset > buffer->size || bytes > buffer->size - offset) {
    return weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                            "%s: %llu bytes at offset %llu do not fit its buffer of %llu "
                            "bytes on %s",
                            what, (unsigned long long)bytes, (unsigned long long)offset,
                            (unsigned long long)buffer->size, buffer->device->id);
  }
  weft_tensor_t* tensor = NULL;
  WEFT_RETURN_IF_ERROR(weft_graph_tensor_new(graph, WEFT_TENSOR_KIND_BOUND, name, &tensor));
  weft_tensor_set_contiguous(tensor, dtype, rank, ne);
  tensor->buffer = buffer;
  tensor->buffer_offset = offset;
  *out_tensor = tensor;
  return WEFT_OK;
}

static weft_status_t weft_graph_check_operand(weft_graph_t* graph, const char* op,
                                              const char* role, const weft_tensor_t* t,
                                              bool optional) {
  if (!graph) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "%s: graph is NULL", op);
  }
  if (!t) {
    if (optional) return WEFT_OK;
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "%s: %s is NULL", op, role);
  }
  if (t->graph != graph) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "%s: %s '%s' belongs to another graph", op, role, t->name);
  }
  return WEFT_OK;
}

/* ---- views ---- */

static weft_status_t weft_graph_view_make(weft_graph_t* graph, const char* op,
                                          weft_tensor_t* src, uint32_t rank,
                                          const int64_t ne[4], const int64_t nb[4],
                                          uint64_t offset, weft_tensor_t** out_tensor) {
  uint64_t root_offset = 0;
  const weft_tensor_t* root = weft__tensor_storage_root(src, &root_offset);
  uint64_t root_bytes = weft__tensor_contiguous_bytes(root->dtype, root->ne);
  uint64_t extent = weft__tensor_extent(src->dtype, ne, nb);
  if (extent == 0 || root_offset + offset > root_bytes ||
      extent > root_bytes - root_offset - offset) {
    return weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                            "%s of '%s': %llu bytes at offset %llu reach past its storage of "
                            "%llu bytes",
                            op, src->name, (unsigned long long)extent,
                            (unsigned long long)(root_offset + offset),
                            (unsigned long long)root_bytes);
  }
  weft_tensor_t* view = NULL;
  WEFT_RETURN_IF_ERROR(weft_graph_tensor_new(graph, WEFT_TENSOR_KIND_VIEW, src->name, &view));
  view->dtype = src->dtype;
  view->rank = rank;
  for (int i = 0; i < 4; ++i) {
    view->ne[i] = ne[i];
    view->nb[i] = nb[i];
  }
  view->base = src;
  view->offset = offset;
  *out_tensor = view;
  return WEFT_OK;
}

weft_status_t weft_graph_view(weft_graph_t* graph, weft_tensor_t* src, uint32_t rank,
                              const int64_t* ne, const int64_t* nb, uint64_t offset,
                              weft_tensor_t** out_tensor) {
  if (out_tensor) *out_tensor = NULL;
  WEFT_RETURN_IF_ERROR(weft_graph_check_operand(graph, "view", "src", src, false));
  if (!out_tensor || !nb) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "view: out_tensor and nb must not be NULL");
  }
  WEFT_RETURN_IF_ERROR(weft_graph_check_shape("view", (weft_dtype_t)src->dtype, rank, ne));
  int64_t full_ne[4] = {1, 1, 1, 1}, full_nb[4];
  for (uint32_t i = 0; i < rank; ++i) full_ne[i] = ne[i];
  weft__tensor_contiguous_strides(src->dtype, full_ne, full_nb);
  for (uint32_t i = 0; i < rank; ++i) {
    if (nb[i] < 0) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "view of '%s': nb[%u] is %lld",
                              src->name, i, (long long)nb[i]);
    }
    full_nb[i] = nb[i];
  }
  for (uint32_t i = rank; i < 4; ++i) full_nb[i] = full_nb[i - 1] * full_ne[i - 1];
  return weft_graph_view_make(graph, "view", src, rank, full_ne, full_nb, offset, out_tensor);
}

weft_status_t weft_graph_reshape(weft_graph_t* graph, weft_tensor_t* src, uint32_t rank,
                                 const int64_t* ne, weft_tensor_t** out_tensor) {
  if (out_tensor) *out_tensor = NULL;
  WEFT_RETURN_IF_ERROR(weft_graph_check_operand(graph, "reshape", "src", src, false));
  WEFT_RETURN_IF_ERROR(weft_graph_check_shape("reshape", (weft_dtype_t)src->dtype, rank, ne));
  if (!weft__tensor_is_contiguous(src)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "reshape: '%s' is not contiguous (cont it first)", src->name);
  }
  int64_t full[4] = {1, 1, 1, 1}, nb[4];
  for (uint32_t i = 0; i < rank; ++i) full[i] = ne[i];
  if (weft__tensor_contiguous_bytes(src->dtype, full) !=
      weft__tensor_contiguous_bytes(src->dtype, src->ne)) {
    char have[160];
    weft_tensor_describe(src, have, sizeof(have));
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "reshape: %s to [%lld, %lld, %lld, %lld] changes the element count",
                            have, (long long)full[0], (long long)full[1], (long long)full[2],
                            (long long)full[3]);
  }
  weft__tensor_contiguous_strides(src->dtype, full, nb);
  return weft_graph_view_make(graph, "reshape", src, rank, full, nb, 0, out_tensor);
}

weft_status_t weft_graph_permute(weft_graph_t* graph, weft_tensor_t* src,
                                 const uint32_t axes[4], weft_tensor_t** out_tensor) {
  if (out_tensor) *out_tensor = NULL;
  WEFT_RETURN_IF_ERROR(weft_graph_check_operand(graph, "permute", "src", src, false));
  if (!axes || !out_tensor) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "permute: axes and out_tensor must not be NULL");
  }
  bool seen[4] = {false, false, false, false};
  for (int i = 0; i < 4; ++i) {
    if (axes[i] > 3 || seen[axes[i]]) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "permute of '%s': axes {%u, %u, %u, %u} is not a permutation "
                              "of 0..3",
                              src->name, axes[0], axes[1], axes[2], axes[3]);
    }
    seen[axes[i]] = true;
  }
  if (weft_dtype_block_elements(src->dtype) > 1 && axes[0] != 0) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "permute of '%s': a %s tensor keeps dimension 0 in place",
                            src->name, weft__dtype_name(src->dtype));
  }
  int64_t ne[4], nb[4];
  for (int i = 0; i < 4; ++i) {
    ne[axes[i]] = src->ne[i];
    nb[axes[i]] = src->nb[i];
  }
  return weft_graph_view_make(graph, "permute", src, 4, ne, nb, 0, out_tensor);
}

weft_status_t weft_graph_transpose(weft_graph_t* graph, weft_tensor_t* src,
                                   weft_tensor_t** out_tensor) {
  static const uint32_t swap[4] = {1, 0, 2, 3};
  return weft_graph_permute(graph, src, swap, out_tensor);
}

/* ---- ops ---- */

/* Makes the result of `op` over `srcs` with dtype/shape (or, with `alias`,
 * a tensor over alias's storage with alias's shape), then validates the node
 * with the reference check. */
static weft_status_t weft_graph_op(weft_graph_t* graph, uint32_t op,
                                   weft_tensor_t* const srcs[WEFT_MAX_SRC], uint32_t dtype,
                                   const int64_t ne[4], weft_tensor_t* alias,
                                   const void* params, uint32_t params_size,
                                   weft_tensor_t** out_tensor) {
  const char* name = weft_op_name(op);
  if (out_tensor) *out_tensor = NULL;
  if (!out_tensor) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "%s: out_tensor is NULL", name);
  }
  if (params_size > WEFT_TENSOR_PARAMS_CAP) {
    return weft_status_make(WEFT_STATUS_INTERNAL, "%s: params of %u bytes", name, params_size);
  }
  if (alias) {
    const weft_tensor_t* root = weft__tensor_storage_root(alias, NULL);
    if (root->kind == WEFT_TENSOR_KIND_BOUND && root->buffer->read_only) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "%s: cannot write into '%s': it is bound to a read-only mapped "
                              "file",
                              name, alias->name);
    }
  }
  weft_tensor_t* result = NULL;
  WEFT_RETURN_IF_ERROR(weft_graph_tensor_new(graph, WEFT_TENSOR_KIND_RESULT,
                                             alias ? alias->name : NULL, &result));
  result->op = op;
  if (!alias) snprintf(result->name, sizeof(result->name), "%s#%u", name, result->id);
  for (int i = 0; i < WEFT_MAX_SRC; ++i) result->src[i] = srcs[i];
  if (params) memcpy(result->params, params, params_size);
  result->params_size = params ? params_size : 0;
  if (alias) {
    result->dtype = alias->dtype;
    result->rank = alias->rank;
    memcpy(result->ne, alias->ne, sizeof(result->ne));
    memcpy(result->nb, alias->nb, sizeof(result->nb));
    result->base = alias;
    result->offset = 0;
  } else {
    uint32_t rank = 4;
    while (rank > 1 && ne[rank - 1] == 1) --rank;
    weft_tensor_set_contiguous(result, dtype, rank, ne);
  }
  /* The reference check is the definition of op set 1. */
  weft_cpu_ref_tensor_t views[WEFT_MAX_SRC + 1];
  weft_cpu_ref_node_t node;
  memset(&node, 0, sizeof(node));
  node.op = op;
  for (int i = 0; i <= WEFT_MAX_SRC; ++i) {
    const weft_tensor_t* t = i < WEFT_MAX_SRC ? srcs[i] : result;
    if (!t) continue;
    views[i].dtype = t->dtype;
    memcpy(views[i].ne, t->ne, sizeof(views[i].ne));
    memcpy(views[i].nb, t->nb, sizeof(views[i].nb));
    views[i].data = NULL;
    if (i < WEFT_MAX_SRC) {
      node.src[i] = &views[i];
    } else {
      node.dst = &views[i];
    }
  }
  node.params = result->params_size ? result->params : NULL;
  node.params_size = result->params_size;
  char reason[384];
  if (!weft__cpu_ref_node_check(&node, reason, sizeof(reason))) {
    char operands[512];
    size_t used = 0;
    operands[0] = '\0';
    for (int i = 0; i < WEFT_MAX_SRC && used < sizeof(operands); ++i) {
      if (!srcs[i]) continue;
      char text[160];
      weft_tensor_describe(srcs[i], text, sizeof(text));
      int n = snprintf(operands + used, sizeof(operands) - used, "%ssrc%d %s",
                       used ? ", " : "", i, text);
      if (n < 0) break;
      used += (size_t)n;
    }
    weft_graph_tensor_drop_last(graph);
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "%s (%s)", reason, operands);
  }
  *out_tensor = result;
  return WEFT_OK;
}

/* Collects operands after checking each belongs to the graph. */
#define WEFT_GRAPH_OPERANDS(op, ...)                                               \
  weft_tensor_t* srcs[WEFT_MAX_SRC] = {__VA_ARGS__};                               \
  if (out_tensor) *out_tensor = NULL;                                              \
  for (int operand_ = 0; operand_ < WEFT_MAX_SRC; ++operand_) {                    \
    if (srcs[operand_]) {                                                          \
      char role_[8];                                                               \
      snprintf(role_, sizeof(role_), "src%d", operand_);                           \
      WEFT_RETURN_IF_ERROR(weft_graph_check_operand(graph, op, role_,              \
                                                    srcs[operand_], false));       \
    }                                                                              \
  }                                                                                \
  if (!graph) return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "%s: graph is NULL", op)

static weft_status_t weft_graph_need(const char* op, const char* role, const void* t) {
  return t ? WEFT_OK
           : weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "%s: %s is NULL", op, role);
}

weft_status_t weft_graph_get_rows(weft_graph_t* graph, weft_tensor_t* table,
                                  weft_tensor_t* ids, weft_tensor_t** out_tensor) {
  WEFT_RETURN_IF_ERROR(weft_graph_need("get_rows", "table", table));
  WEFT_RETURN_IF_ERROR(weft_graph_need("get_rows", "ids", ids));
  WEFT_GRAPH_OPERANDS("get_rows", table, ids);
  int64_t ne[4] = {table->ne[0], ids->ne[0], ids->ne[1], ids->ne[2]};
  return weft_graph_op(graph, WEFT_OP_GET_ROWS, srcs, WEFT_DTYPE_F32, ne, NULL, NULL, 0,
                       out_tensor);
}

weft_status_t weft_graph_mul_mat(weft_graph_t* graph, weft_tensor_t* weights, weft_tensor_t* x,
                                 weft_tensor_t** out_tensor) {
  WEFT_RETURN_IF_ERROR(weft_graph_need("mul_mat", "weights", weights));
  WEFT_RETURN_IF_ERROR(weft_graph_need("mul_mat", "x", x));
  WEFT_GRAPH_OPERANDS("mul_mat", weights, x);
  int64_t ne[4] = {weights->ne[1], x->ne[1], x->ne[2], x->ne[3]};
  return weft_graph_op(graph, WEFT_OP_MUL_MAT, srcs, WEFT_DTYPE_F32, ne, NULL, NULL, 0,
                       out_tensor);
}

static weft_status_t weft_graph_binary(weft_graph_t* graph, uint32_t op, weft_tensor_t* a,
                                       weft_tensor_t* b, const void* params,
                                       uint32_t params_size, weft_tensor_t** out_tensor) {
  const char* name = weft_op_name(op);
  WEFT_RETURN_IF_ERROR(weft_graph_need(name, "src0", a));
  WEFT_RETURN_IF_ERROR(weft_graph_need(name, "src1", b));
  WEFT_GRAPH_OPERANDS(name, a, b);
  return weft_graph_op(graph, op, srcs, a->dtype, a->ne, NULL, params, params_size,
                       out_tensor);
}

static weft_status_t weft_graph_unary(weft_graph_t* graph, uint32_t op, weft_tensor_t* x,
                                      const void* params, uint32_t params_size,
                                      weft_tensor_t** out_tensor) {
  const char* name = weft_op_name(op);
  WEFT_RETURN_IF_ERROR(weft_graph_need(name, "src0", x));
  WEFT_GRAPH_OPERANDS(name, x);
  return weft_graph_op(graph, op, srcs, x->dtype, x->ne, NULL, params, params_size,
                       out_tensor);
}

weft_status_t weft_graph_add(weft_graph_t* graph, weft_tensor_t* a, weft_tensor_t* b,
                             weft_tensor_t** out_tensor) {
  return weft_graph_binary(graph, WEFT_OP_ADD, a, b, NULL, 0, out_tensor);
}

weft_status_t weft_graph_mul(weft_graph_t* graph, weft_tensor_t* a, weft_tensor_t* b,
                             weft_tensor_t** out_tensor) {
  return weft_graph_binary(graph, WEFT_OP_MUL, a, b, NULL, 0, out_tensor);
}

weft_status_t weft_graph_scale(weft_graph_t* graph, weft_tensor_t* x, float scale, float bias,
                               weft_tensor_t** out_tensor) {
  weft_op_scale_params_t params = {sizeof(params), scale, bias};
  return weft_graph_unary(graph, WEFT_OP_SCALE, x, &params, sizeof(params), out_tensor);
}

weft_status_t weft_graph_rms_norm(weft_graph_t* graph, weft_tensor_t* x, float eps,
                                  weft_tensor_t** out_tensor) {
  weft_op_rms_norm_params_t params = {sizeof(params), eps};
  return weft_graph_unary(graph, WEFT_OP_RMS_NORM, x, &params, sizeof(params), out_tensor);
}

weft_status_t weft_graph_rope(weft_graph_t* graph, weft_tensor_t* x, weft_tensor_t* positions,
                              const weft_op_rope_params_t* params,
                              weft_tensor_t** out_tensor) {
  weft_op_rope_params_t defaults = {sizeof(defaults), WEFT_ROPE_MODE_NORMAL, 0, 10000.0f, 1.0f};
  if (!params) params = &defaults;
  return weft_graph_binary(graph, WEFT_OP_ROPE, x, positions, params, sizeof(*params),
                           out_tensor);
}

weft_status_t weft_graph_soft_max(weft_graph_t* graph, weft_tensor_t* x, weft_tensor_t* mask,
                                  float scale, weft_tensor_t** out_tensor) {
  weft_op_soft_max_params_t params = {sizeof(params), scale};
  WEFT_RETURN_IF_ERROR(weft_graph_need("soft_max", "src0", x));
  WEFT_GRAPH_OPERANDS("soft_max", x, mask);
  return weft_graph_op(graph, WEFT_OP_SOFT_MAX, srcs, x->dtype, x->ne, NULL, &params,
                       sizeof(params), out_tensor);
}

weft_status_t weft_graph_gelu(weft_graph_t* graph, weft_tensor_t* x, weft_gelu_mode_t mode,
                              weft_tensor_t** out_tensor) {
  weft_op_gelu_params_t params = {sizeof(params), (uint32_t)mode};
  return weft_graph_unary(graph, WEFT_OP_GELU, x, &params, sizeof(params), out_tensor);
}

weft_status_t weft_graph_silu(weft_graph_t* graph, weft_tensor_t* x,
                              weft_tensor_t** out_tensor) {
  return weft_graph_unary(graph, WEFT_OP_SILU, x, NULL, 0, out_tensor);
}

weft_status_t weft_graph_swiglu(weft_graph_t* graph, weft_tensor_t* gate, weft_tensor_t* up,
                                weft_tensor_t** out_tensor) {
  return weft_graph_binary(graph, WEFT_OP_SWIGLU, gate, up, NULL, 0, out_tensor);
}

weft_status_t weft_graph_geglu(weft_graph_t* graph, weft_tensor_t* gate, weft_tensor_t* up,
                               weft_gelu_mode_t mode, weft_tensor_t** out_tensor) {
  weft_op_gelu_params_t params = {sizeof(params), (uint32_t)mode};
  return weft_graph_binary(graph, WEFT_OP_GEGLU, gate, up, &params, sizeof(params),
                           out_tensor);
}

weft_status_t weft_graph_cpy(weft_graph_t* graph, weft_tensor_t* src, weft_dtype_t dtype,
                             weft_tensor_t** out_tensor) {
  WEFT_RETURN_IF_ERROR(weft_graph_need("cpy", "src0", src));
  WEFT_GRAPH_OPERANDS("cpy", src);
  if (weft_dtype_block_elements(dtype) == 0) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "cpy: unknown dtype %d", (int)dtype);
  }
  return weft_graph_op(graph, WEFT_OP_CPY, srcs, dtype, src->ne, NULL, NULL, 0, out_tensor);
}

weft_status_t weft_graph_cpy_into(weft_graph_t* graph, weft_tensor_t* src, weft_tensor_t* dst,
                                  weft_tensor_t** out_tensor) {
  WEFT_RETURN_IF_ERROR(weft_graph_need("cpy", "src0", src));
  WEFT_RETURN_IF_ERROR(weft_graph_need("cpy", "dst", dst));
  WEFT_RETURN_IF_ERROR(weft_graph_check_operand(graph, "cpy", "dst", dst, false));
  WEFT_GRAPH_OPERANDS("cpy", src);
  return weft_graph_op(graph, WEFT_OP_CPY, srcs, 0, NULL, dst, NULL, 0, out_tensor);
}

weft_status_t weft_graph_cont(weft_graph_t* graph, weft_tensor_t* src,
                              weft_tensor_t** out_tensor) {
  return weft_graph_unary(graph, WEFT_OP_CONT, src, NULL, 0, out_tensor);
}

weft_status_t weft_graph_set_rows(weft_graph_t* graph, weft_tensor_t* table, weft_tensor_t* src,
                                  weft_tensor_t* ids, weft_tensor_t** out_tensor) {
  WEFT_RETURN_IF_ERROR(weft_graph_need("set_rows", "table", table));
  WEFT_RETURN_IF_ERROR(weft_graph_need("set_rows", "src0", src));
  WEFT_RETURN_IF_ERROR(weft_graph_need("set_rows", "ids", ids));
  WEFT_RETURN_IF_ERROR(weft_graph_check_operand(graph, "set_rows", "table", table, false));
  WEFT_GRAPH_OPERANDS("set_rows", src, ids);
  return weft_graph_op(graph, WEFT_OP_SET_ROWS, srcs, 0, NULL, table, NULL, 0, out_tensor);
}

weft_status_t weft_graph_flash_attn(weft_graph_t* graph, weft_tensor_t* q, weft_tensor_t* k,
                                    weft_tensor_t* v, weft_tensor_t* mask,
                                    const weft_op_flash_attn_params_t* params,
                                    weft_tensor_t** out_tensor) {
  weft_op_flash_attn_params_t defaults = {sizeof(defaults), 0.0f, 0.0f, 0};
  if (!params) params = &defaults;
  WEFT_RETURN_IF_ERROR(weft_graph_need("flash_attn", "q", q));
  WEFT_RETURN_IF_ERROR(weft_graph_need("flash_attn", "k", k));
  WEFT_RETURN_IF_ERROR(weft_graph_need("flash_attn", "v", v));
  WEFT_GRAPH_OPERANDS("flash_attn", q, k, v, mask);
  int64_t ne[4] = {v->ne[0], q->ne[1], q->ne[2], q->ne[3]};
  return weft_graph_op(graph, WEFT_OP_FLASH_ATTN, srcs, WEFT_DTYPE_F32, ne, NULL, params,
                       sizeof(*params), out_tensor);
}

weft_status_t weft_graph_argmax(weft_graph_t* graph, weft_tensor_t* x,
                                weft_tensor_t** out_tensor) {
  WEFT_RETURN_IF_ERROR(weft_graph_need("argmax", "src0", x));
  WEFT_GRAPH_OPERANDS("argmax", x);
  int64_t ne[4] = {x->ne[1], 1, 1, 1};
  return weft_graph_op(graph, WEFT_OP_ARGMAX, srcs, WEFT_DTYPE_I32, ne, NULL, NULL, 0,
                       out_tensor);
}

weft_status_t weft_graph_concat(weft_graph_t* graph, weft_tensor_t* a, weft_tensor_t* b,
                                int32_t dim, weft_tensor_t** out_tensor) {
  WEFT_RETURN_IF_ERROR(weft_graph_need("concat", "src0", a));
  WEFT_RETURN_IF_ERROR(weft_graph_need("concat", "src1", b));
  WEFT_GRAPH_OPERANDS("concat", a, b);
  if (dim < 0 || dim > 3) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT, "concat: dim is %d, expected 0..3",
                            dim);
  }
  int64_t ne[4] = {a->ne[0], a->ne[1], a->ne[2], a->ne[3]};
  ne[dim] += b->ne[dim];
  weft_op_concat_params_t params = {sizeof(params), dim};
  return weft_graph_op(graph, WEFT_OP_CONCAT, srcs, a->dtype, ne, NULL, &params,
                       sizeof(params), out_tensor);
}

/* ---- marking and info ---- */

weft_status_t weft_graph_output(weft_graph_t* graph, weft_tensor_t* tensor) {
  WEFT_RETURN_IF_ERROR(weft_graph_check_operand(graph, "weft_graph_output", "tensor", tensor,
                                                false));
  tensor->output = true;
  return WEFT_OK;
}

weft_status_t weft_tensor_name_set(weft_tensor_t* tensor, const char* name) {
  if (!tensor || !name) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_tensor_name_set: tensor and name must not be NULL");
  }
  weft__strlcpy(tensor->name, name, sizeof(tensor->name));
  return WEFT_OK;
}

weft_status_t weft_tensor_pin(weft_tensor_t* tensor, weft_device_t* device) {
  if (!tensor || !device) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_tensor_pin: tensor and device must not be NULL");
  }
  if (tensor->kind != WEFT_TENSOR_KIND_RESULT) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_tensor_pin: '%s' is not the result of an op", tensor->name);
  }
  if (device->runtime != tensor->graph->runtime) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_tensor_pin: device %s belongs to another runtime", device->id);
  }
  tensor->pin = device;
  return WEFT_OK;
}

void weft_tensor_info_get(const weft_tensor_t* tensor, weft_tensor_info_t* out_info) {
  if (!out_info) return;
  memset(out_info, 0, sizeof(*out_info));
  if (!tensor) return;
  out_info->name = tensor->name;
  out_info->dtype = tensor->dtype;
  out_info->rank = tensor->rank;
  memcpy(out_info->ne, tensor->ne, sizeof(out_info->ne));
  memcpy(out_info->nb, tensor->nb, sizeof(out_info->nb));
  out_info->op = tensor->kind == WEFT_TENSOR_KIND_RESULT ? tensor->op : WEFT_OP_NONE;
}
