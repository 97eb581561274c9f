/* The null backend: device enumeration, capabilities, op support and
 * submission. See null.h. */
#include <stdio.h>
#include <string.h>

#include "null.h"

/* Copies a NUL-terminated string into a fixed array, truncating to fit. */
static void weft_null_device_text_set(char* dst, size_t cap, const char* src) {
  size_t n = strlen(src);
  if (n >= cap) {
    n = cap - 1;
  }
  memcpy(dst, src, n);
  dst[n] = '\0';
}

uint32_t weft_null_device_count(weft_plugin_instance_t* instance) {
  (void)instance;
  return 1;
}

weft_status_t weft_null_device_query_caps(weft_plugin_instance_t* instance,
                                          uint32_t index,
                                          weft_device_caps_t* inout_caps) {
  if (index >= weft_null_device_count(instance)) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_OUT_OF_RANGE,
                            "null: device index %u out of range (1 device)",
                            (unsigned)index);
  }
  if (inout_caps == NULL) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: device_query_caps called without caps");
  }
  /* Every member below is in the ABI 1.0 record; checking the last one is
   * enough today. Members appended later get their own check. */
  if (!WEFT_ABI_HAS_MEMBER(inout_caps, weft_device_caps_t, reserved0)) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_INCOMPATIBLE,
                            "null: caps record of %u bytes is smaller than ABI 1.0's",
                            (unsigned)inout_caps->struct_size);
  }
  weft_device_caps_t* caps = inout_caps;
  /* A software device: "virtual" and score 0 keep it below every real device
   * (docs/abi.md, "Scores"); it is the default only when asked for. */
  caps->type = WEFT_DEVICE_TYPE_VIRTUAL;
  weft_null_device_text_set(caps->name, sizeof(caps->name), "weft null device");
  weft_null_device_text_set(caps->vendor, sizeof(caps->vendor), "weft");
  weft_null_device_text_set(caps->driver, sizeof(caps->driver),
                            "null " WEFT_NULL_PLUGIN_VERSION);
  weft_null_device_text_set(caps->stable_id, sizeof(caps->stable_id), "null:0");
  caps->flags = WEFT_DEVICE_FLAG_UNIFIED_MEMORY | WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL;
  caps->vendor_id = 0;
  caps->device_id = 0;
  caps->compute_units = 0;
  caps->memory_total = WEFT_NULL_MEMORY_TOTAL;
  /* Queried before any buffer exists; device_memory_query gives live values. */
  caps->memory_free = WEFT_NULL_MEMORY_TOTAL;
  caps->dtypes = 0; /* computes with none */
  caps->features = 0;
  caps->features_text[0] = '\0';
  caps->score = 0;
  return WEFT_OK;
}

weft_status_t weft_null_device_open(weft_plugin_instance_t* instance,
                                    uint32_t index,
                                    weft_plugin_device_t** out_device) {
  if (out_device == NULL) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: device_open called without out_device");
  }
  *out_device = NULL;
  if (index >= weft_null_device_count(instance)) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_OUT_OF_RANGE,
                            "null: device index %u out of range (1 device)",
                            (unsigned)index);
  }
  const weft_host_services_t* host = instance->host;
  weft_plugin_device_t* device = host->alloc(host->host_ctx, sizeof(*device), 0);
  if (device == NULL) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_OUT_OF_MEMORY,
                            "null: out of memory opening device %u (%zu bytes)",
                            (unsigned)index, sizeof(*device));
  }
  memset(device, 0, sizeof(*device));
  device->instance = instance;
  device->index = index;
  *out_device = device;
  return WEFT_OK;
}

void weft_null_device_close(weft_plugin_device_t* device) {
  if (device == NULL) {
    return;
  }
  /* Work is synchronous, so nothing is outstanding; the ABI has device_close
   * free the buffers that are left. */
  while (device->buffers != NULL) {
    weft_null_buffer_free(device, device->buffers);
  }
  const weft_host_services_t* host = device->instance->host;
  host->free(host->host_ctx, device);
}

weft_status_t weft_null_device_op_query(weft_plugin_device_t* device,
                                        const weft_node_t* node,
                                        const weft_tensor_desc_t* const* tensors,
                                        uint32_t tensor_count,
                                        weft_op_support_t* out_support) {
  (void)tensors;
  (void)tensor_count;
  if (node == NULL || out_support == NULL) {
    return WEFT_NULL_STATUS(device->instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: op_query called without %s",
                            node == NULL ? "a node" : "a result struct");
  }
  if (WEFT_ABI_HAS_MEMBER(out_support, weft_op_support_t, supported)) {
    out_support->supported = 0;
  }
  if (WEFT_ABI_HAS_MEMBER(out_support, weft_op_support_t, reason)) {
    /* A real backend names the op, the dtype or shape it lacks:
     * "mul_mat: q6_K weights not implemented". */
    snprintf(out_support->reason, sizeof(out_support->reason),
             "null: op %u not implemented (the null backend runs no ops)",
             (unsigned)node->op);
  }
  return WEFT_OK;
}

weft_status_t weft_null_device_segment_submit(weft_plugin_device_t* device,
                                              const weft_segment_t* segment,
                                              weft_event_t* const* waits,
                                              uint32_t wait_count,
                                              weft_event_t* signal) {
  weft_plugin_instance_t* instance = device->instance;
  if (segment == NULL || (wait_count > 0 && waits == NULL)) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: segment_submit called without %s",
                            segment == NULL ? "a segment" : "the wait list");
  }
  if (segment->node_count > 0) {
    /* Refused before starting: per the ABI the plugin then does not signal. */
    const weft_node_t* first = segment->nodes != NULL ? segment->nodes[0] : NULL;
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_UNSUPPORTED,
                            "null: cannot run node 0 (op %u) of a %u-node segment: "
                            "the null backend runs no ops",
                            first != NULL ? (unsigned)first->op : 0u,
                            (unsigned)segment->node_count);
  }
  /* An empty segment still honours its dependencies: wait for every event,
   * then pass the first failure (or success) on to whoever waits on ours. */
  const weft_host_services_t* host = instance->host;
  uint32_t outcome = WEFT_STATUS_OK;
  for (uint32_t i = 0; i < wait_count; ++i) {
    uint32_t code = host->event_wait(host->host_ctx, waits[i], UINT64_MAX);
    if (outcome == WEFT_STATUS_OK && code != WEFT_STATUS_OK) {
      outcome = code;
    }
  }
  if (signal != NULL) {
    host->event_signal(host->host_ctx, signal, outcome);
  }
  return WEFT_OK;
}

weft_status_t weft_null_device_synchronize(weft_plugin_device_t* device) {
  (void)device; /* submission is synchronous: nothing is ever in flight */
  return WEFT_OK;
}

weft_status_t weft_null_device_memory_query(weft_plugin_device_t* device,
                                            uint64_t* out_free,
                                            uint64_t* out_total) {
  if (out_free == NULL || out_total == NULL) {
    return WEFT_NULL_STATUS(device->instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: device_memory_query called without %s",
                            out_free == NULL ? "out_free" : "out_total");
  }
  *out_free = WEFT_NULL_MEMORY_TOTAL - device->memory_used;
  *out_total = WEFT_NULL_MEMORY_TOTAL;
  return WEFT_OK;
}
