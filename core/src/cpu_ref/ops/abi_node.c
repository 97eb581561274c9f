/* ABI nodes to kernel nodes: shared by every backend that runs the reference
 * kernels (the built-in cpu-ref device, and test plugins that compile these
 * sources in). Pure: the caller says how a buffer handle maps to memory. */
#include <stdio.h>
#include <string.h>

#include "kernels.h"

/* WEFT_ABI_HAS_MEMBER without depending on the ext header's include order. */
#define WEFT_CPU_REF_HAS(ptr, type, member) \
  ((size_t)(ptr)->struct_size >= offsetof(type, member) + sizeof(((type*)0)->member))

static bool weft_cpu_ref_tensor_from_desc(const weft_tensor_desc_t* desc,
                                          weft_cpu_ref_buffer_resolve_fn resolve, void* ctx,
                                          weft_cpu_ref_tensor_t* out, char* error,
                                          size_t error_cap) {
  memset(out, 0, sizeof(*out));
  if (!desc || !WEFT_CPU_REF_HAS(desc, weft_tensor_desc_t, offset)) {
    snprintf(error, error_cap, "tensor descriptor is missing or smaller than ABI 1.0's");
    return false;
  }
  out->dtype = desc->dtype;
  for (int i = 0; i < WEFT_MAX_DIMS; ++i) {
    out->ne[i] = desc->ne[i];
    out->nb[i] = desc->nb[i];
    if (desc->ne[i] < 1 || desc->nb[i] < 0) {
      snprintf(error, error_cap,
               "ne[%d] = %lld and nb[%d] = %lld: extents must be >= 1 and strides >= 0", i,
               (long long)desc->ne[i], i, (long long)desc->nb[i]);
      return false;
    }
  }
  if (!resolve) return true;
  if (!desc->buffer) {
    snprintf(error, error_cap, "tensor has no buffer");
    return false;
  }
  void* data = NULL;
  uint64_t size = 0;
  if (!resolve(ctx, desc->buffer, &data, &size, error, error_cap)) return false;
  /* The last byte any element touches: the kernels trust the caller on this. */
  uint64_t block = weft_dtype_block_elements(desc->dtype);
  uint64_t block_bytes = weft_dtype_block_bytes(desc->dtype);
  if (block == 0 || (uint64_t)desc->ne[0] % block != 0) {
    snprintf(error, error_cap, "dtype %u with ne[0] = %lld is not a whole number of blocks",
             desc->dtype, (long long)desc->ne[0]);
    return false;
  }
  uint64_t extent = block_bytes, term = 0;
  uint64_t counts[WEFT_MAX_DIMS] = {(uint64_t)desc->ne[0] / block - 1, (uint64_t)desc->ne[1] - 1,
                                    (uint64_t)desc->ne[2] - 1, (uint64_t)desc->ne[3] - 1};
  for (int i = 0; i < WEFT_MAX_DIMS; ++i) {
    if (__builtin_mul_overflow(counts[i], (uint64_t)desc->nb[i], &term) ||
        __builtin_add_overflow(extent, term, &extent)) {
      snprintf(error, error_cap, "tensor extent overflows");
      return false;
    }
  }
  if (desc->offset > size || extent > size - desc->offset) {
    snprintf(error, error_cap, "tensor spans [%llu, +%llu) but its buffer has %llu bytes",
             (unsigned long long)desc->offset, (unsigned long long)extent,
             (unsigned long long)size);
    return false;
  }
  out->data = (char*)data + desc->offset;
  return true;
}

bool weft__cpu_ref_node_from_abi(const weft_node_t* node,
                                 const weft_tensor_desc_t* const* tensors,
                                 uint32_t tensor_count, weft_cpu_ref_buffer_resolve_fn resolve,
                                 void* ctx, weft_cpu_ref_tensor_t storage[WEFT_MAX_SRC + 1],
                                 weft_cpu_ref_node_t* out, char* error, size_t error_cap) {
  memset(out, 0, sizeof(*out));
  if (!node || !WEFT_CPU_REF_HAS(node, weft_node_t, params)) {
    snprintf(error, error_cap, "node is missing or smaller than ABI 1.0's");
    return false;
  }
  if (!tensors && tensor_count > 0) {
    snprintf(error, error_cap, "%u tensors but no tensor array", tensor_count);
    return false;
  }
  out->op = node->op;
  const char* name = weft_op_name(node->op);
  char detail[300];
  for (int i = 0; i <= WEFT_MAX_SRC; ++i) {
    uint32_t index = i < WEFT_MAX_SRC ? node->src[i] : node->dst;
    if (i < WEFT_MAX_SRC && index == WEFT_NODE_NO_TENSOR) continue;
    /* Messages are formatted only on failure: this runs for every node. */
    char role[8];
    if (index >= tensor_count) {
      snprintf(role, sizeof(role), i < WEFT_MAX_SRC ? "src%d" : "dst", i);
      snprintf(error, error_cap, "%s: %s is tensor %u of %u", name, role, index, tensor_count);
      return false;
    }
    if (!weft_cpu_ref_tensor_from_desc(tensors[index], resolve, ctx, &storage[i], detail,
                                       sizeof(detail))) {
      snprintf(role, sizeof(role), i < WEFT_MAX_SRC ? "src%d" : "dst", i);
      snprintf(error, error_cap, "%s: %s (tensor %u): %s", name, role, index, detail);
      return false;
    }
    if (i < WEFT_MAX_SRC) {
      out->src[i] = &storage[i];
    } else {
      out->dst = &storage[i];
    }
  }
  out->params = node->params;
  out->params_size = node->params ? node->params_size : 0;
  return true;
}
