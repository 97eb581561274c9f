/* Reference CPU backend: op queries and segment execution, through the
 * kernels of op set version 1 (ops/kernels.h, docs/ops.md). A segment runs
 * synchronously on the calling thread: wait for the events, run every node
 * in order, signal. */
#include <stdio.h>
#include <string.h>

#include "cpu_ref_impl.h"
#include "ops/kernels.h"

/* cpu-ref buffers are host memory it allocated itself. */
static bool weft_cpu_ref_buffer_resolve(void* ctx, const weft_plugin_buffer_t* buffer,
                                        void** out_data, uint64_t* out_size, char* error,
                                        size_t error_cap) {
  (void)ctx;
  (void)error;
  (void)error_cap;
  *out_data = buffer->data;
  *out_size = buffer->size;
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
      weft__cpu_ref_node_from_abi(node, tensors, tensor_count, NULL, NULL, storage, &ref,
                                  reason, sizeof(reason)) &&
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
    if (!weft__cpu_ref_node_from_abi(node, segment->tensors, segment->tensor_count,
                                     weft_cpu_ref_buffer_resolve, NULL, storage, &ref, error,
                                     sizeof(error)) ||
        !weft__cpu_ref_node_check(&ref, error, sizeof(error))) {
      status = host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                                 "cpu-ref: segment node %u: %s", n, error);
      code = WEFT_STATUS_INVALID_ARGUMENT;
      break;
    }
    size_t scratch_size = weft__cpu_ref_node_scratch_size_checked(&ref);
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
    bool ran = weft__cpu_ref_node_run_checked(&ref, scratch, scratch_size, error, sizeof(error));
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
