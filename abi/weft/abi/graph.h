/* weft plugin ABI: tensor descriptors, nodes and graph segments.
 *
 * A segment is a run of nodes the scheduler placed on one device. It is
 * described by the host, in host memory, and is valid only for the duration of
 * the call that receives it (plugins copy what they need to keep).
 *
 * Shapes follow the GGUF convention: ne[0] is the innermost, contiguous
 * dimension; nb[i] is the byte stride of dimension i. Unused dimensions have
 * ne = 1. For block-quantized dtypes ne[0] is a multiple of the block size and
 * nb[0] is the block size in bytes. */
#ifndef WEFT_ABI_GRAPH_H_
#define WEFT_ABI_GRAPH_H_

#include <stdint.h>

#define WEFT_MAX_DIMS 4
#define WEFT_MAX_SRC 8

/* A buffer owned by a plugin; the host treats it as an opaque handle. */
typedef struct weft_plugin_buffer_s weft_plugin_buffer_t;

typedef struct weft_tensor_desc_t {
  uint32_t struct_size;
  uint32_t dtype;              /* weft_dtype_t */
  int64_t ne[WEFT_MAX_DIMS];   /* elements per dimension, ne[0] innermost  */
  int64_t nb[WEFT_MAX_DIMS];   /* byte strides                             */
  weft_plugin_buffer_t* buffer; /* the device buffer holding the data      */
  uint64_t offset;             /* byte offset of element 0 in buffer       */
} weft_tensor_desc_t;

#define WEFT_NODE_NO_TENSOR UINT32_MAX

typedef struct weft_node_t {
  uint32_t struct_size;
  uint32_t op;                  /* weft_op_t                                 */
  uint32_t src[WEFT_MAX_SRC];   /* tensor indices, WEFT_NODE_NO_TENSOR if unused */
  uint32_t dst;                 /* tensor index                              */
  uint32_t params_size;         /* bytes at params; equals its struct_size   */
  const void* params;           /* op-specific struct or NULL                */
} weft_node_t;

/* Arrays are arrays of pointers so that either side may have grown the
 * element struct: each element states its own size. */
typedef struct weft_segment_t {
  uint32_t struct_size;
  uint32_t tensor_count;
  uint32_t node_count;
  uint32_t reserved0;
  const weft_tensor_desc_t* const* tensors;
  const weft_node_t* const* nodes; /* in execution order */
} weft_segment_t;

#endif /* WEFT_ABI_GRAPH_H_ */
