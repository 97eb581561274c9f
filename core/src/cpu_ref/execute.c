/* Reference CPU backend: op queries and segment execution, through the
 * kernels of op set version 1 (ops/kernels.h, docs/ops.md). A segment runs
 * synchronously on the calling thread: wait for the events, run every node
 * in order, signal. */
#include <stdio.h>
#include <string.h>

#include "cpu_ref_impl.h"
#include "ops/kernels.h"

/* The host's view of one tensor turned into the kernels' view. With `bind`
 * the data address is resolved and the whole extent is checked against the
 * buffer; without it (op queries) data stays NULL. */
static bool weft_cpu_ref_tensor_from_desc(const weft_tensor_desc_t* desc, bool bind,
                                          weft_cpu_ref_tensor_t* out, char* error,
                                          size_t error_cap) {
  memset(out, 0, sizeof(*out));
  if (!desc || !WEFT_ABI_HAS_MEMBER(desc, weft_tensor_desc_t, offset)) {
    snprintf(error, error_cap, "tensor descriptor is missing or smaller than ABI 1.0's");
    return false;
  }
  out->dtype = desc->dtype;
  for (int i = 0; i < WEFT_MAX_DIMS; ++i) {
    out->ne[i] = desc->ne[i];
    out->nb[i] = desc->nb[i];
    if (desc->ne[i] < 1 || desc->nb[i] < 0) {
      snprintf(error, error_cap, "ne[%d] = %lld and nb[%d] = %lld: extents must be >= 1 and "
               "strides >= 0", i, (long long)desc->ne[i], i, (long long)desc->nb[i]);
      return false;
    }
  }
  if (!bind) return true;
  const weft_plugin_buffer_t* buffer = desc->buffer;
  if (!buffer) {
    snprintf(error, error_cap, "tensor has no buffer");
    return false;
  }
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
  if (desc->offset > buffer->size || extent > buffer->size - desc->offset) {
    snprintf(error, error_cap, "tensor spans [%llu, +%llu) but its buffer has %llu bytes",
             (unsigned long long)desc->offset, (unsigned long long)extent,
             (unsigned long long)buffer->size);
    return false;
  }
  out->data = (char*)buffer->data + desc->offset;
  return true;
}

/* Builds the kernels' node from an ABI node whose operands index `tensors`.
 * storage holds the converted tensors (one per operand slot plus dst). */
static bool weft_cpu_ref_node_from_abi(const weft_node_t* node,
                                       const weft_tensor_desc_t* const* tensors,
                                       uint32_t tensor_count, bool bind,
                                       weft_cpu_ref_tensor_t storage[WEFT_MAX_SRC + 1],
                                       weft_cpu_ref_node_t* out, char* error, size_t error_cap) {
  memset(out, 0, sizeof(*out));
  if (!node || !WEFT_ABI_HAS_MEMBER(node, weft_node_t, params)) {
    snprintf(error, error_cap, "node is missing or smaller than ABI 1.0's");
    return false;
  }
  out->op = node->op;
  const char* name = weft_op_name(node->op);
  char detail[200];
  for (int i = 0; i < WEFT_MAX_SRC; ++i) {
    uint32_t index = node->src[i];
    if (index == WEFT_NODE_NO_TENSOR) continue;
    if (index >= tensor_count) {
      snprintf(error, error_cap, "%s: src%d is tensor %u of %u", name, i, index, tensor_count);
      return false;
    }
    if (!weft_cpu_ref_tensor_from_desc(tensors[index], bind, &storage[i], detail,
                                       sizeof(detail))) {
      snprintf(error, error_cap, "%s: src%d (tensor %u): %s", name, i, index, detail);
      return false;
    }
    out->src[i] = &storage[i];
  }
  if (node->dst >= tensor_count) {
    snprintf(error, error_cap, "%s: dst is tensor %u of %u", name, node->dst, tensor_count);
    return false;
  }
  if (!weft_cpu_ref_tensor_from_desc(tensors[node->dst], bind, &storage[WEFT_MAX_SRC], detail,
                                     sizeof(detail))) {
    snprintf(error, error_cap, "%s: dst (tensor %u): %s", name, node->dst, detail);
    return false;
  }
  out->dst = &storage[WEFT_MAX_SRC];
  out->params = node->params;
  out->params_size = node->params ? node->params_size : 0;
  return true;
}

weft_status_t weft__cpu_ref_op_query(weft_plugin_device_t* device, const weft_node_t* node,
                                     const weft_tensor_desc_t* const* tensors,
                                     uint32_t tensor_count, weft_op_support_t* out_support) {
  const weft_host_services_t* host = device->host;
  if (!out_support || !WEFT_ABI_HAS_MEMBER(out_support, weft_op_support_t, reason)) {
    return host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                             "cpu-ref op_query: the answer struct is missing or too small");
  }
  weft_cpu_ref_tensor_t storage[WEFT_MAX_SRC + 1];
  weft_cpu_ref_node_t ref;
  char reason[512];
  bool supported =
      weft_cpu_ref_node_from_abi(node, tensors, tensor_count, false, storage, &ref, reason,
                                 sizeof(reason)) &&
      weft__cpu_ref_node_check(&ref, reason, sizeof(reason));
  out_support->supported = supported ? 1u : 0u;
  /* The answer holds WEFT_REASON_CAP bytes; a longer reason is cut there. */
  size_t length = supported ? 0 : strnlen(reason, sizeof(out_support->reason) - 1);
  memcpy(out_support->reason, reason, length);
  out_support->reason[length] = '\0';
  return WEFT_OK;
}

weft_status_t weft__cpu_ref_segment_submit(weft_plugin_device_t* device,
                                           const weft_segment_t* segment,
                                           weft_event_t* const* waits, uint32_t wait_count,
                                           weft_event_t* signal) {
  const weft_host_services_t* host = device->host;
  if (!segment || !WEFT_ABI_HAS_MEMBER(segment, weft_segment_t, nodes) ||
      (segment->node_count > 0 && (!segment->nodes || !segment->tensors))) {
    return host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                             "cpu-ref segment_submit: segment is missing, too small or has "
                             "no node/tensor arrays");
  }
  /* Synchronous device: wait, run, signal. A failed wait is passed on. */
  uint32_t code = WEFT_STATUS_OK;
  for (uint32_t i = 0; i < wait_count && code == WEFT_STATUS_OK; ++i) {
    code = host->event_wait(host->host_ctx, waits[i], UINT64_MAX);
  }
  weft_status_t status = WEFT_OK;
  for (uint32_t n = 0; code == WEFT_STATUS_OK && n < segment->node_count; ++n) {
    weft_cpu_ref_tensor_t storage[WEFT_MAX_SRC + 1];
    weft_cpu_ref_node_t ref;
    char error[512];
    const weft_node_t* node = segment->nodes[n];
    if (!weft_cpu_ref_node_from_abi(node, segment->tensors, segment->tensor_count, true,
                                    storage, &ref, error, sizeof(error)) ||
        !weft__cpu_ref_node_check(&ref, error, sizeof(error))) {
      status = host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                                 "cpu-ref: segment node %u: %s", n, error);
      code = WEFT_STATUS_INVALID_ARGUMENT;
      break;
    }
    size_t scratch_size = weft__cpu_ref_node_scratch_size(&ref);
    void* scratch = NULL;
    if (scratch_size > 0) {
      scratch = scratch_size == SIZE_MAX ? NULL : host->alloc(host->host_ctx, scratch_size, 64);
      if (!scratch) {
        status = host->status_make(host->host_ctx, WEFT_STATUS_OUT_OF_MEMORY,
                                   "cpu-ref: segment node %u (%s): out of memory for %zu "
                                   "bytes of scratch",
                                   n, weft_op_name(ref.op), scratch_size);
        code = WEFT_STATUS_OUT_OF_MEMORY;
        break;
      }
    }
    bool ran = weft__cpu_ref_node_run(&ref, scratch, scratch_size, error, sizeof(error));
    host->free(host->host_ctx, scratch);
    if (!ran) {
      status = host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                                 "cpu-ref: segment node %u: %s", n, error);
      code = WEFT_STATUS_INVALID_ARGUMENT;
      break;
    }
  }
  /* The segment was started, so the event carries the outcome either way. */
  if (signal) host->event_signal(host->host_ctx, signal, code);
  return status;
}

weft_status_t weft__cpu_ref_synchronize(weft_plugin_device_t* device) {
  (void)device;
  return WEFT_OK;
}
