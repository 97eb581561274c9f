/* libweft-cts-broken.so: a plugin whose kernels are wrong on purpose, so
 * that the conformance suite is shown to catch them.
 *
 * Everything but its two kernels keeps the ABI contract: host-memory
 * buffers with range checks, events, statuses, the size-prefix rule. It
 * claims add and scale on f32 tensors of any shape and layout, and
 *   - add writes one element past the end of dst (an out-of-bounds write
 *     that only the guard bytes around dst reveal), and
 *   - scale multiplies by 1% more than asked (a wrong result that only the
 *     NMSE comparison with the reference reveals).
 * weft-conform must exit 1 and name both. Builds against abi/ alone. */
#include <stdio.h>
#include <string.h>

#include "weft/abi.h"

#define BROKEN_NAME "cts-broken"

struct weft_plugin_instance_s {
  const weft_host_services_t* host;
};

struct weft_plugin_device_s {
  weft_plugin_instance_t* instance;
  weft_plugin_buffer_t* buffers; /* freed by device_close */
};

struct weft_plugin_buffer_s {
  weft_plugin_buffer_t* prev;
  weft_plugin_buffer_t* next;
  uint8_t* data;
  uint64_t size;
};

#define BROKEN_ERROR(host, code, ...) \
  ((host)->status_make((host)->host_ctx, (uint32_t)(code), __VA_ARGS__))

static const weft_host_services_t* broken_host(weft_plugin_device_t* device) {
  return device->instance->host;
}

static weft_status_t broken_probe(const weft_host_services_t* host,
                                  weft_probe_result_t* out_result) {
  (void)host;
  if (WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, device_count)) {
    out_result->available = 1;
    out_result->device_count = 1;
  }
  return WEFT_OK;
}

static weft_status_t broken_instance_create(const weft_host_services_t* host,
                                            weft_plugin_instance_t** out_instance) {
  weft_plugin_instance_t* instance = host->alloc(host->host_ctx, sizeof(*instance), 0);
  if (instance == NULL) {
    return BROKEN_ERROR(host, WEFT_STATUS_OUT_OF_MEMORY, BROKEN_NAME ": no memory for the instance");
  }
  instance->host = host;
  *out_instance = instance;
  return WEFT_OK;
}

static void broken_instance_destroy(weft_plugin_instance_t* instance) {
  if (instance != NULL) instance->host->free(instance->host->host_ctx, instance);
}

static uint32_t broken_device_count(weft_plugin_instance_t* instance) {
  (void)instance;
  return 1;
}

static weft_status_t broken_device_query_caps(weft_plugin_instance_t* instance, uint32_t index,
                                              weft_device_caps_t* inout_caps) {
  if (index != 0) {
    return BROKEN_ERROR(instance->host, WEFT_STATUS_OUT_OF_RANGE,
                        BROKEN_NAME ": device index %u, it has 1 device", index);
  }
  weft_device_caps_t caps;
  memset(&caps, 0, sizeof(caps));
  caps.struct_size = sizeof(caps);
  caps.type = WEFT_DEVICE_TYPE_VIRTUAL;
  snprintf(caps.name, sizeof(caps.name), "conformance-suite broken device");
  snprintf(caps.vendor, sizeof(caps.vendor), "weft tests");
  snprintf(caps.driver, sizeof(caps.driver), "host memory");
  snprintf(caps.stable_id, sizeof(caps.stable_id), BROKEN_NAME ":0");
  caps.flags = WEFT_DEVICE_FLAG_UNIFIED_MEMORY | WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL;
  caps.memory_total = (uint64_t)256 << 20;
  caps.dtypes = WEFT_DTYPE_BIT(WEFT_DTYPE_F32);
  caps.score = 0;
  weft_device_caps_write(inout_caps, &caps);
  return WEFT_OK;
}

static weft_status_t broken_device_open(weft_plugin_instance_t* instance, uint32_t index,
                                        weft_plugin_device_t** out_device) {
  const weft_host_services_t* host = instance->host;
  if (index != 0) {
    return BROKEN_ERROR(host, WEFT_STATUS_OUT_OF_RANGE,
                        BROKEN_NAME ": device index %u, it has 1 device", index);
  }
  weft_plugin_device_t* device = host->alloc(host->host_ctx, sizeof(*device), 0);
  if (device == NULL) {
    return BROKEN_ERROR(host, WEFT_STATUS_OUT_OF_MEMORY, BROKEN_NAME ": no memory for the device");
  }
  memset(device, 0, sizeof(*device));
  device->instance = instance;
  *out_device = device;
  return WEFT_OK;
}

static void broken_buffer_free(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  if (buffer == NULL) return;
  const weft_host_services_t* host = broken_host(device);
  if (buffer->prev != NULL) {
    buffer->prev->next = buffer->next;
  } else {
    device->buffers = buffer->next;
  }
  if (buffer->next != NULL) buffer->next->prev = buffer->prev;
  host->free(host->host_ctx, buffer->data);
  host->free(host->host_ctx, buffer);
}

static void broken_device_close(weft_plugin_device_t* device) {
  if (device == NULL) return;
  while (device->buffers != NULL) broken_buffer_free(device, device->buffers);
  const weft_host_services_t* host = broken_host(device);
  host->free(host->host_ctx, device);
}

static weft_status_t broken_buffer_allocate(weft_plugin_device_t* device,
                                            const weft_buffer_params_t* params,
                                            weft_plugin_buffer_t** out_buffer) {
  const weft_host_services_t* host = broken_host(device);
  if (params->size == 0 || params->size > ((uint64_t)256 << 20)) {
    return BROKEN_ERROR(host, WEFT_STATUS_RESOURCE_EXHAUSTED,
                        BROKEN_NAME ": cannot allocate %llu bytes (1 .. 256 MiB)",
                        (unsigned long long)params->size);
  }
  weft_plugin_buffer_t* buffer = host->alloc(host->host_ctx, sizeof(*buffer), 0);
  uint8_t* data = buffer != NULL ? host->alloc(host->host_ctx, (size_t)params->size, 64) : NULL;
  if (data == NULL) {
    host->free(host->host_ctx, buffer);
    return BROKEN_ERROR(host, WEFT_STATUS_OUT_OF_MEMORY,
                        BROKEN_NAME ": no memory for a buffer of %llu bytes",
                        (unsigned long long)params->size);
  }
  buffer->data = data;
  buffer->size = params->size;
  buffer->prev = NULL;
  buffer->next = device->buffers;
  if (device->buffers != NULL) device->buffers->prev = buffer;
  device->buffers = buffer;
  *out_buffer = buffer;
  return WEFT_OK;
}

static weft_status_t broken_buffer_map(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer,
                                       void** out_ptr) {
  (void)device;
  *out_ptr = buffer->data;
  return WEFT_OK;
}

static void broken_buffer_unmap(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  (void)device;
  (void)buffer;
}

static weft_status_t broken_range(weft_plugin_device_t* device, const weft_plugin_buffer_t* buffer,
                                  uint64_t offset, uint64_t size) {
  if (offset > buffer->size || size > buffer->size - offset) {
    return BROKEN_ERROR(broken_host(device), WEFT_STATUS_OUT_OF_RANGE,
                        BROKEN_NAME ": [%llu, +%llu) outside a buffer of %llu bytes",
                        (unsigned long long)offset, (unsigned long long)size,
                        (unsigned long long)buffer->size);
  }
  return WEFT_OK;
}

static weft_status_t broken_buffer_upload(weft_plugin_device_t* device,
                                          weft_plugin_buffer_t* buffer, uint64_t offset,
                                          const void* src, uint64_t size) {
  weft_status_t status = broken_range(device, buffer, offset, size);
  if (status == WEFT_OK && size > 0) memcpy(buffer->data + offset, src, (size_t)size);
  return status;
}

static weft_status_t broken_buffer_download(weft_plugin_device_t* device,
                                            weft_plugin_buffer_t* buffer, uint64_t offset,
                                            void* dst, uint64_t size) {
  weft_status_t status = broken_range(device, buffer, offset, size);
  if (status == WEFT_OK && size > 0) memcpy(dst, buffer->data + offset, (size_t)size);
  return status;
}

/* ---- the kernels (wrong on purpose) ---- */

static int broken_is_f32(const weft_tensor_desc_t* t) {
  return t != NULL && t->dtype == WEFT_DTYPE_F32;
}

/* add: f32 with src1 broadcast; scale: f32. Anything else: no. */
static int broken_supported(const weft_node_t* node, const weft_tensor_desc_t* const* tensors,
                            uint32_t count, char* reason, size_t cap) {
  const uint32_t s0 = node->src[0], s1 = node->src[1], d = node->dst;
  if (node->op != WEFT_OP_ADD && node->op != WEFT_OP_SCALE) {
    snprintf(reason, cap, "%s: " BROKEN_NAME " runs add and scale only",
             weft_op_name(node->op));
    return 0;
  }
  if (s0 >= count || d >= count || !broken_is_f32(tensors[s0]) || !broken_is_f32(tensors[d]) ||
      (node->op == WEFT_OP_ADD && (s1 >= count || !broken_is_f32(tensors[s1])))) {
    snprintf(reason, cap, "%s: " BROKEN_NAME " runs f32 only", weft_op_name(node->op));
    return 0;
  }
  return 1;
}

static weft_status_t broken_op_query(weft_plugin_device_t* device, const weft_node_t* node,
                                     const weft_tensor_desc_t* const* tensors,
                                     uint32_t tensor_count, weft_op_support_t* out_support) {
  (void)device;
  char reason[WEFT_REASON_CAP];
  const int supported = broken_supported(node, tensors, tensor_count, reason, sizeof(reason));
  if (WEFT_ABI_HAS_MEMBER(out_support, weft_op_support_t, supported)) {
    out_support->supported = (uint32_t)supported;
  }
  if (WEFT_ABI_HAS_MEMBER(out_support, weft_op_support_t, reason)) {
    snprintf(out_support->reason, sizeof(out_support->reason), "%s", supported ? "" : reason);
  }
  return WEFT_OK;
}

/* Byte address of an element: views may sit at any address. */
static uint8_t* broken_at(const weft_tensor_desc_t* t, int64_t i0, int64_t i1, int64_t i2,
                          int64_t i3) {
  return t->buffer->data + t->offset + i0 * t->nb[0] + i1 * t->nb[1] + i2 * t->nb[2] +
         i3 * t->nb[3];
}

static void broken_run(const weft_node_t* node, const weft_tensor_desc_t* const* tensors) {
  const weft_tensor_desc_t* a = tensors[node->src[0]];
  const weft_tensor_desc_t* dst = tensors[node->dst];
  const weft_tensor_desc_t* b = node->op == WEFT_OP_ADD ? tensors[node->src[1]] : NULL;
  float scale = 1.0f, bias = 0.0f;
  if (node->op == WEFT_OP_SCALE && node->params != NULL) {
    const weft_op_scale_params_t* p = node->params;
    if (node->params_size >= 8) scale = p->scale;
    if (node->params_size >= 12) bias = p->bias;
  }
  uint8_t* last = NULL;
  float last_value = 0.0f;
  for (int64_t i3 = 0; i3 < a->ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < a->ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < a->ne[1]; ++i1)
        for (int64_t i0 = 0; i0 < a->ne[0]; ++i0) {
          float x, y;
          memcpy(&x, broken_at(a, i0, i1, i2, i3), 4);
          if (b != NULL) {
            float z;
            memcpy(&z, broken_at(b, i0 % b->ne[0], i1 % b->ne[1], i2 % b->ne[2], i3 % b->ne[3]),
                   4);
            y = x + z;
          } else {
            y = x * (scale * 1.01f) + bias; /* wrong by 1% */
          }
          uint8_t* out = broken_at(dst, i0, i1, i2, i3);
          memcpy(out, &y, 4);
          if (last == NULL || out > last) {
            last = out;
            last_value = y;
          }
        }
  if (b != NULL && last != NULL) {
    /* One element past the highest one written: outside dst. */
    memcpy(last + 4, &last_value, 4);
  }
}

static weft_status_t broken_segment_submit(weft_plugin_device_t* device,
                                           const weft_segment_t* segment,
                                           weft_event_t* const* waits, uint32_t wait_count,
                                           weft_event_t* signal) {
  const weft_host_services_t* host = broken_host(device);
  uint32_t code = WEFT_STATUS_OK;
  for (uint32_t i = 0; i < wait_count; ++i) {
    const uint32_t c = host->event_wait(host->host_ctx, waits[i], UINT64_MAX);
    if (code == WEFT_STATUS_OK) code = c;
  }
  for (uint32_t n = 0; code == WEFT_STATUS_OK && n < segment->node_count; ++n) {
    char reason[WEFT_REASON_CAP];
    if (!broken_supported(segment->nodes[n], segment->tensors, segment->tensor_count, reason,
                          sizeof(reason))) {
      if (signal != NULL) host->event_signal(host->host_ctx, signal, WEFT_STATUS_UNSUPPORTED);
      return BROKEN_ERROR(host, WEFT_STATUS_UNSUPPORTED, "%s", reason);
    }
    broken_run(segment->nodes[n], segment->tensors);
  }
  if (signal != NULL) host->event_signal(host->host_ctx, signal, code);
  return WEFT_OK;
}

static weft_status_t broken_synchronize(weft_plugin_device_t* device) {
  (void)device;
  return WEFT_OK;
}

static const weft_plugin_info_t broken_info = {
    .struct_size = sizeof(weft_plugin_info_t),
    .abi_version = WEFT_ABI_VERSION,
    .name = BROKEN_NAME,
    .family = BROKEN_NAME,
    .version = "0.0.1",
    .description = "conformance-suite test plugin with wrong kernels",
    .built_for = "any",
    .min_driver = "",
    .variant_score = 0,
};

static const weft_plugin_interface_t broken_interface = {
    .struct_size = sizeof(weft_plugin_interface_t),
    .info = &broken_info,
    .probe = broken_probe,
    .instance_create = broken_instance_create,
    .instance_destroy = broken_instance_destroy,
    .device_count = broken_device_count,
    .device_query_caps = broken_device_query_caps,
    .device_open = broken_device_open,
    .device_close = broken_device_close,
    .buffer_allocate = broken_buffer_allocate,
    .buffer_free = broken_buffer_free,
    .buffer_map = broken_buffer_map,
    .buffer_unmap = broken_buffer_unmap,
    .buffer_upload = broken_buffer_upload,
    .buffer_download = broken_buffer_download,
    .op_query = broken_op_query,
    .segment_submit = broken_segment_submit,
    .synchronize = broken_synchronize,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* negotiation) {
  return weft_plugin_negotiate_default(negotiation, &broken_interface);
}
