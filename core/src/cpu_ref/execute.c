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

/* ---- prepared segments (ABI 1.3) ----
 * Translated and checked once; each run only walks the kernel nodes. */

struct weft_prepared_segment_s {
  uint32_t node_count;
  weft_cpu_ref_node_t* nodes;
  weft_cpu_ref_tensor_t* tensors; /* node_count * (WEFT_MAX_SRC + 1) */
  size_t scratch_size;            /* the largest any node needs */
  void* scratch;
};

void weft__cpu_ref_segment_release(weft_plugin_device_t* device,
                                   weft_prepared_segment_t* prepared) {
  if (!prepared) return;
  const weft_host_services_t* host = device->host;
  host->free(host->host_ctx, prepared->scratch);
  host->free(host->host_ctx, prepared->tensors);
  host->free(host->host_ctx, prepared->nodes);
  host->free(host->host_ctx, prepared);
}

weft_status_t weft__cpu_ref_segment_prepare(weft_plugin_device_t* device,
                                            const weft_segment_t* segment,
                                            weft_prepared_segment_t** out_prepared) {
  const weft_host_services_t* host = device->host;
  *out_prepared = NULL;
  if (!segment || !WEFT_ABI_HAS_MEMBER(segment, weft_segment_t, nodes) ||
      (segment->node_count > 0 && (!segment->nodes || !segment->tensors))) {
    return host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                             "cpu-ref segment_prepare: segment is missing, too small or has "
                             "no node/tensor arrays");
  }
  weft_prepared_segment_t* prepared =
      (weft_prepared_segment_t*)host->alloc(host->host_ctx, sizeof(*prepared), 0);
  size_t count = segment->node_count;
  size_t node_bytes = (count ? count : 1) * sizeof(weft_cpu_ref_node_t);
  size_t tensor_bytes = (count ? count : 1) * (WEFT_MAX_SRC + 1) * sizeof(weft_cpu_ref_tensor_t);
  if (prepared) {
    memset(prepared, 0, sizeof(*prepared));
    prepared->nodes = (weft_cpu_ref_node_t*)host->alloc(host->host_ctx, node_bytes, 0);
    prepared->tensors = (weft_cpu_ref_tensor_t*)host->alloc(host->host_ctx, tensor_bytes, 0);
  }
  if (!prepared || !prepared->nodes || !prepared->tensors) {
    weft__cpu_ref_segment_release(device, prepared);
    return host->status_make(host->host_ctx, WEFT_STATUS_OUT_OF_MEMORY,
                             "cpu-ref: out of memory preparing a segment of %zu nodes", count);
  }
  prepared->node_count = (uint32_t)count;
  for (uint32_t n = 0; n < count; ++n) {
    char error[512];
    weft_cpu_ref_node_t* ref = &prepared->nodes[n];
    if (!weft__cpu_ref_node_from_abi(segment->nodes[n], segment->tensors, segment->tensor_count,
                                     weft_cpu_ref_buffer_resolve, NULL,
                                     &prepared->tensors[(size_t)n * (WEFT_MAX_SRC + 1)], ref,
                                     error, sizeof(error)) ||
        !weft__cpu_ref_node_check(ref, error, sizeof(error))) {
      weft__cpu_ref_segment_release(device, prepared);
      return host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                               "cpu-ref: segment node %u: %s", n, error);
    }
    size_t need = weft__cpu_ref_node_scratch_size_checked(ref);
    if (need > prepared->scratch_size) prepared->scratch_size = need;
  }
  if (prepared->scratch_size > 0) {
    prepared->scratch = prepared->scratch_size == SIZE_MAX
                            ? NULL
                            : host->alloc(host->host_ctx, prepared->scratch_size, 64);
    if (!prepared->scratch) {
      size_t need = prepared->scratch_size;
      weft__cpu_ref_segment_release(device, prepared);
      return host->status_make(host->host_ctx, WEFT_STATUS_OUT_OF_MEMORY,
                               "cpu-ref: out of memory for %zu bytes of scratch", need);
    }
  }
  *out_prepared = prepared;
  return WEFT_OK;
}

weft_status_t weft__cpu_ref_segment_submit_prepared(weft_plugin_device_t* device,
                                                    weft_prepared_segment_t* prepared,
                                                    weft_event_t* const* waits,
                                                    uint32_t wait_count, weft_event_t* signal) {
  const weft_host_services_t* host = device->host;
  uint32_t code = WEFT_STATUS_OK;
  for (uint32_t i = 0; i < wait_count && code == WEFT_STATUS_OK; ++i) {
    code = host->event_wait(host->host_ctx, waits[i], UINT64_MAX);
  }
  weft_status_t status = WEFT_OK;
  for (uint32_t n = 0; code == WEFT_STATUS_OK && n < prepared->node_count; ++n) {
    char error[512];
    if (!weft__cpu_ref_node_run_checked(&prepared->nodes[n], prepared->scratch,
                                        prepared->scratch_size, error, sizeof(error))) {
      status = host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                                 "cpu-ref: segment node %u: %s", n, error);
      code = WEFT_STATUS_INVALID_ARGUMENT;
    }
  }
  if (signal) host->event_signal(host->host_ctx, signal, code);
  return status;
}
