/* Internal layout of graphs and tensors, shared by the graph builder
 * (graph.c) and the compiler (program.c). */
#ifndef WEFT_CORE_GRAPH_IMPL_H_
#define WEFT_CORE_GRAPH_IMPL_H_

#include <stdbool.h>
#include <stdint.h>

#include "weft/abi/graph.h"
#include "weft/graph.h"

typedef enum weft_tensor_kind_t {
  WEFT_TENSOR_KIND_INPUT = 0,  /* supplied per execution; owns storage */
  WEFT_TENSOR_KIND_BOUND = 1,  /* lives in an app buffer; owns (borrowed) storage */
  WEFT_TENSOR_KIND_RESULT = 2, /* produced by an op; owns storage unless `base` */
  WEFT_TENSOR_KIND_VIEW = 3,   /* another shape over `base`'s storage */
} weft_tensor_kind_t;

#define WEFT_TENSOR_NAME_CAP 72 /* GGUF names are up to 64 bytes */
#define WEFT_TENSOR_PARAMS_CAP 64

struct weft_tensor_s {
  weft_graph_t* graph;
  uint32_t id;      /* index in graph->tensors, creation order */
  uint32_t kind;    /* weft_tensor_kind_t */
  uint32_t dtype;
  uint32_t rank;
  int64_t ne[4];
  int64_t nb[4];
  char name[WEFT_TENSOR_NAME_CAP];
  /* VIEW, and RESULT of an op that writes into another tensor (set_rows,
   * cpy_into): the tensor whose storage this one uses, and the byte offset
   * of element 0 from base's element 0. */
  weft_tensor_t* base;
  uint64_t offset;
  /* BOUND */
  weft_buffer_t* buffer;
  uint64_t buffer_offset;
  /* RESULT */
  uint32_t op;
  uint32_t params_size;
  weft_tensor_t* src[WEFT_MAX_SRC];
  uint64_t params[WEFT_TENSOR_PARAMS_CAP / 8]; /* aligned storage for the op's struct */
  weft_device_t* pin;
  bool output;
};

struct weft_graph_s {
  weft_runtime_t* runtime;
  weft_tensor_t** tensors;
  size_t tensor_count;
  size_t tensor_capacity;
};

/* The tensor that owns the storage `tensor` lives in, and the byte offset of
 * tensor's element 0 inside it. */
const weft_tensor_t* weft__tensor_storage_root(const weft_tensor_t* tensor,
                                               uint64_t* out_offset);

/* Bytes of a contiguous tensor of this dtype and shape (blocks counted
 * whole); 0 on overflow. */
uint64_t weft__tensor_contiguous_bytes(uint32_t dtype, const int64_t ne[4]);

/* Byte strides of a contiguous tensor. */
void weft__tensor_contiguous_strides(uint32_t dtype, const int64_t ne[4], int64_t out_nb[4]);

/* The bytes from element 0 to one past the last byte an element touches;
 * 0 on overflow. */
uint64_t weft__tensor_extent(uint32_t dtype, const int64_t ne[4], const int64_t nb[4]);

/* True when the tensor's elements are packed in logical order. */
bool weft__tensor_is_contiguous(const weft_tensor_t* tensor);

#endif /* WEFT_CORE_GRAPH_IMPL_H_ */
