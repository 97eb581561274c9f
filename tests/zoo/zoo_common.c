#include "zoo_common.h"

#include <stdio.h>
#include <string.h>

/* ---- instance, device and buffer ---- */

struct weft_plugin_instance_s {
  const weft_host_services_t* host;
};

struct weft_plugin_buffer_s {
  struct weft_plugin_buffer_s* prev;
  struct weft_plugin_buffer_s* next;
  uint64_t size;
  uint8_t* data;
};

struct weft_plugin_device_s {
  weft_plugin_instance_t* instance;
  uint32_t index;
  uint64_t used;                  /* bytes held by live buffers */
  weft_plugin_buffer_t* buffers;  /* freed on close if the host forgot */
};

void zoo_copy_text(char* dst, size_t cap, const char* text) {
  if (cap == 0) {
    return;
  }
  size_t i = 0;
  for (; text != NULL && text[i] != '\0' && i + 1 < cap; ++i) {
    dst[i] = text[i];
  }
  dst[i] = '\0';
}

static const char* zoo_name(void) { return zoo_spec.info.name; }

static const weft_host_services_t* zoo_device_host(weft_plugin_device_t* d) {
  return d->instance->host;
}

#define ZOO_ERROR(host, code, ...) \
  ((host)->status_make((host)->host_ctx, (uint32_t)(code), __VA_ARGS__))

/* ---- probe and instance ---- */

static int zoo_host_env_enabled(const weft_host_services_t* host) {
  if (zoo_spec.abi_minor < 1 || zoo_spec.probe_enable_env == NULL) {
    return 0;
  }
  /* env_get is an ABI 1.1 member: only present when the host's table is big
   * enough and the host speaks 1.1. */
  if (host->struct_size < offsetof(weft_host_services_t, env_get) +
                              sizeof(host->env_get) ||
      host->abi_version < WEFT_ABI_MAKE_VERSION(1, 1) ||
      host->env_get == NULL) {
    return 0;
  }
  const char* value = host->env_get(host->host_ctx, zoo_spec.probe_enable_env);
  return value != NULL && strcmp(value, "1") == 0;
}

static weft_status_t zoo_probe(const weft_host_services_t* host,
                               weft_probe_result_t* out_result) {
  if (out_result == NULL ||
      out_result->struct_size < offsetof(weft_probe_result_t, reason) +
                                    sizeof(out_result->reason)) {
    return ZOO_ERROR(host, WEFT_STATUS_INVALID_ARGUMENT,
                     "%s: probe result struct_size %u too small", zoo_name(),
                     out_result == NULL ? 0u : out_result->struct_size);
  }
  switch (zoo_spec.probe_mode) {
    case ZOO_PROBE_ERROR:
      return ZOO_ERROR(host, zoo_spec.probe_code, "%s", zoo_spec.probe_text);
    case ZOO_PROBE_UNAVAILABLE:
      if (!zoo_host_env_enabled(host)) {
        out_result->available = 0;
        out_result->device_count = 0;
        zoo_copy_text(out_result->reason, sizeof(out_result->reason),
                      zoo_spec.probe_text);
        return WEFT_OK;
      }
      break;
    case ZOO_PROBE_AVAILABLE:
      break;
  }
  out_result->available = 1;
  out_result->device_count = zoo_spec.device_count;
  out_result->variant_score = 0;
  return WEFT_OK;
}

static weft_status_t zoo_instance_create(const weft_host_services_t* host,
                                         weft_plugin_instance_t** out_instance) {
  weft_plugin_instance_t* instance = host->alloc(host->host_ctx,
                                                 sizeof(*instance), 0);
  if (instance == NULL) {
    return ZOO_ERROR(host, WEFT_STATUS_OUT_OF_MEMORY,
                     "%s: allocating the instance (%zu bytes) failed",
                     zoo_name(), sizeof(*instance));
  }
  instance->host = host;
  *out_instance = instance;
  return WEFT_OK;
}

static void zoo_instance_destroy(weft_plugin_instance_t* instance) {
  if (instance == NULL) {
    return;
  }
  const weft_host_services_t* host = instance->host;
  host->free(host->host_ctx, instance);
}

static uint32_t zoo_device_count(weft_plugin_instance_t* instance) {
  (void)instance;
  return zoo_spec.device_count;
}

/* A member is written only if it lies inside the host's struct. */

static weft_status_t zoo_device_query_caps(weft_plugin_instance_t* instance,
                                           uint32_t index,
                                           weft_device_caps_t* caps) {
  const weft_host_services_t* host = instance->host;
  if (index >= zoo_spec.device_count) {
    return ZOO_ERROR(host, WEFT_STATUS_OUT_OF_RANGE,
                     "%s: device index %u, the plugin has %u", zoo_name(),
                     index, zoo_spec.device_count);
  }
  if (caps == NULL || !WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, type)) {
    return ZOO_ERROR(host, WEFT_STATUS_INVALID_ARGUMENT,
                     "%s: capability record too small", zoo_name());
  }
  caps->type = zoo_spec.device_type;
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, name)) {
    zoo_copy_text(caps->name, sizeof(caps->name), zoo_spec.device_name);
  }
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, vendor)) {
    zoo_copy_text(caps->vendor, sizeof(caps->vendor), "weft zoo");
  }
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, driver)) {
    zoo_copy_text(caps->driver, sizeof(caps->driver), "host memory");
  }
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, stable_id)) {
    snprintf(caps->stable_id, sizeof(caps->stable_id), "zoo:%s:%u",
             zoo_name(), index);
  }
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, uuid)) {
    memcpy(caps->uuid, zoo_spec.device_uuid, sizeof(caps->uuid));
    caps->uuid[15] = (uint8_t)(caps->uuid[15] ^ index);
  }
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, flags)) {
    caps->flags = zoo_spec.device_flags;
  }
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, compute_units)) {
    caps->compute_units = 1;
  }
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, memory_total)) {
    caps->memory_total = zoo_spec.memory_total;
  }
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, memory_free)) {
    caps->memory_free = zoo_spec.memory_free;
  }
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, dtypes)) {
    caps->dtypes = WEFT_DTYPE_BIT(WEFT_DTYPE_F32);
  }
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, features_text)) {
    zoo_copy_text(caps->features_text, sizeof(caps->features_text), "zoo");
  }
  if (WEFT_ABI_HAS_MEMBER(caps, weft_device_caps_t, score)) {
    caps->score = zoo_spec.device_score;
  }
  return WEFT_OK;
}

static weft_status_t zoo_device_open(weft_plugin_instance_t* instance,
                                     uint32_t index,
                                     weft_plugin_device_t** out_device) {
  const weft_host_services_t* host = instance->host;
  if (index >= zoo_spec.device_count) {
    return ZOO_ERROR(host, WEFT_STATUS_OUT_OF_RANGE,
                     "%s: device index %u, the plugin has %u", zoo_name(),
                     index, zoo_spec.device_count);
  }
  weft_plugin_device_t* device = host->alloc(host->host_ctx, sizeof(*device), 0);
  if (device == NULL) {
    return ZOO_ERROR(host, WEFT_STATUS_OUT_OF_MEMORY,
                     "%s: allocating device %u (%zu bytes) failed",
                     zoo_name(), index, sizeof(*device));
  }
  memset(device, 0, sizeof(*device));
  device->instance = instance;
  device->index = index;
  *out_device = device;
  return WEFT_OK;
}

static void zoo_buffer_release(weft_plugin_device_t* device,
                               weft_plugin_buffer_t* buffer) {
  const weft_host_services_t* host = zoo_device_host(device);
  if (buffer->prev != NULL) {
    buffer->prev->next = buffer->next;
  } else {
    device->buffers = buffer->next;
  }
  if (buffer->next != NULL) {
    buffer->next->prev = buffer->prev;
  }
  device->used -= buffer->size;
  host->free(host->host_ctx, buffer->data);
  host->free(host->host_ctx, buffer);
}

static void zoo_device_close(weft_plugin_device_t* device) {
  if (device == NULL) {
    return;
  }
  while (device->buffers != NULL) {
    zoo_buffer_release(device, device->buffers);
  }
  const weft_host_services_t* host = zoo_device_host(device);
  host->free(host->host_ctx, device);
}

/* ---- buffers ---- */

static weft_status_t zoo_buffer_allocate(weft_plugin_device_t* device,
                                         const weft_buffer_params_t* params,
                                         weft_plugin_buffer_t** out_buffer) {
  const weft_host_services_t* host = zoo_device_host(device);
  if (params == NULL || params->size == 0 ||
      params->memory_type > WEFT_MEMORY_TYPE_HOST_VISIBLE) {
    return ZOO_ERROR(host, WEFT_STATUS_INVALID_ARGUMENT,
                     "%s: buffer of %llu bytes, memory type %u", zoo_name(),
                     params == NULL ? 0ull : (unsigned long long)params->size,
                     params == NULL ? 0u : params->memory_type);
  }
  uint64_t available = zoo_spec.memory_free - device->used;
  if (params->size > available || params->size > (uint64_t)SIZE_MAX) {
    return ZOO_ERROR(host, WEFT_STATUS_RESOURCE_EXHAUSTED,
                     "%s: buffer of %llu bytes, %llu bytes free", zoo_name(),
                     (unsigned long long)params->size,
                     (unsigned long long)available);
  }
  uint64_t alignment = params->alignment < 64 ? 64 : params->alignment;
  if ((alignment & (alignment - 1)) != 0 || alignment > 4096) {
    return ZOO_ERROR(host, WEFT_STATUS_INVALID_ARGUMENT,
                     "%s: buffer alignment %llu is not a power of two <= 4096",
                     zoo_name(), (unsigned long long)params->alignment);
  }
  weft_plugin_buffer_t* buffer = host->alloc(host->host_ctx, sizeof(*buffer), 0);
  if (buffer == NULL) {
    return ZOO_ERROR(host, WEFT_STATUS_OUT_OF_MEMORY,
                     "%s: allocating a buffer record failed", zoo_name());
  }
  buffer->data = host->alloc(host->host_ctx, (size_t)params->size,
                             (size_t)alignment);
  if (buffer->data == NULL) {
    host->free(host->host_ctx, buffer);
    return ZOO_ERROR(host, WEFT_STATUS_OUT_OF_MEMORY,
                     "%s: allocating %llu bytes of buffer memory failed",
                     zoo_name(), (unsigned long long)params->size);
  }
  buffer->size = params->size;
  buffer->prev = NULL;
  buffer->next = device->buffers;
  if (device->buffers != NULL) {
    device->buffers->prev = buffer;
  }
  device->buffers = buffer;
  device->used += buffer->size;
  *out_buffer = buffer;
  return WEFT_OK;
}

static void zoo_buffer_free(weft_plugin_device_t* device,
                            weft_plugin_buffer_t* buffer) {
  if (buffer != NULL) {
    zoo_buffer_release(device, buffer);
  }
}

static weft_status_t zoo_buffer_map(weft_plugin_device_t* device,
                                    weft_plugin_buffer_t* buffer,
                                    void** out_ptr) {
  (void)device;
  *out_ptr = buffer->data;
  return WEFT_OK;
}

static void zoo_buffer_unmap(weft_plugin_device_t* device,
                             weft_plugin_buffer_t* buffer) {
  (void)device;
  (void)buffer;
}

static weft_status_t zoo_check_range(weft_plugin_device_t* device,
                                     const weft_plugin_buffer_t* buffer,
                                     uint64_t offset, uint64_t size) {
  if (offset > buffer->size || size > buffer->size - offset) {
    return ZOO_ERROR(zoo_device_host(device), WEFT_STATUS_OUT_OF_RANGE,
                     "%s: range [%llu, %llu + %llu) outside a buffer of %llu "
                     "bytes",
                     zoo_name(), (unsigned long long)offset,
                     (unsigned long long)offset, (unsigned long long)size,
                     (unsigned long long)buffer->size);
  }
  return WEFT_OK;
}

static weft_status_t zoo_buffer_upload(weft_plugin_device_t* device,
                                       weft_plugin_buffer_t* buffer,
                                       uint64_t offset, const void* src,
                                       uint64_t size) {
  weft_status_t status = zoo_check_range(device, buffer, offset, size);
  if (status == WEFT_OK && size != 0) {
    memcpy(buffer->data + offset, src, (size_t)size);
  }
  return status;
}

static weft_status_t zoo_buffer_download(weft_plugin_device_t* device,
                                         weft_plugin_buffer_t* buffer,
                                         uint64_t offset, void* dst,
                                         uint64_t size) {
  weft_status_t status = zoo_check_range(device, buffer, offset, size);
  if (status == WEFT_OK && size != 0) {
    memcpy(dst, buffer->data + offset, (size_t)size);
  }
  return status;
}

static weft_status_t zoo_buffer_copy(weft_plugin_device_t* device,
                                     weft_plugin_buffer_t* src,
                                     uint64_t src_offset,
                                     weft_plugin_buffer_t* dst,
                                     uint64_t dst_offset, uint64_t size) {
  weft_status_t status = zoo_check_range(device, src, src_offset, size);
  if (status == WEFT_OK) {
    status = zoo_check_range(device, dst, dst_offset, size);
  }
  if (status == WEFT_OK && size != 0) {
    memmove(dst->data + dst_offset, src->data + src_offset, (size_t)size);
  }
  return status;
}

static weft_status_t zoo_buffer_fill(weft_plugin_device_t* device,
                                     weft_plugin_buffer_t* buffer,
                                     uint64_t offset, uint64_t size,
                                     const void* pattern,
                                     uint32_t pattern_size) {
  if (pattern == NULL ||
      (pattern_size != 1 && pattern_size != 2 && pattern_size != 4)) {
    return ZOO_ERROR(zoo_device_host(device), WEFT_STATUS_INVALID_ARGUMENT,
                     "%s: fill pattern of %u bytes (1, 2 or 4)", zoo_name(),
                     pattern_size);
  }
  weft_status_t status = zoo_check_range(device, buffer, offset, size);
  if (status == WEFT_OK) {
    const uint8_t* p = pattern;
    for (uint64_t i = 0; i < size; ++i) {
      buffer->data[offset + i] = p[i % pattern_size];
    }
  }
  return status;
}

/* ---- execution: none, honestly ---- */

static weft_status_t zoo_op_query(weft_plugin_device_t* device,
                                  const weft_node_t* node,
                                  const weft_tensor_desc_t* const* tensors,
                                  uint32_t tensor_count,
                                  weft_op_support_t* out_support) {
  (void)device;
  (void)tensors;
  (void)tensor_count;
  out_support->supported = 0;
  if (WEFT_ABI_HAS_MEMBER(out_support, weft_op_support_t, reason)) {
    snprintf(out_support->reason, sizeof(out_support->reason),
             "%s: op %u: a zoo device runs no ops", zoo_name(),
             node == NULL ? 0u : node->op);
  }
  return WEFT_OK;
}

/* Only empty segments (pure ordering points) are run: wait, then signal. */
static weft_status_t zoo_segment_submit(weft_plugin_device_t* device,
                                        const weft_segment_t* segment,
                                        weft_event_t* const* waits,
                                        uint32_t wait_count,
                                        weft_event_t* signal) {
  const weft_host_services_t* host = zoo_device_host(device);
  if (segment != NULL && segment->node_count != 0) {
    return ZOO_ERROR(host, WEFT_STATUS_UNIMPLEMENTED,
                     "%s: a zoo device runs no ops, segment has %u nodes",
                     zoo_name(), segment->node_count);
  }
  uint32_t code = WEFT_STATUS_OK;
  for (uint32_t i = 0; i < wait_count; ++i) {
    uint32_t c = host->event_wait(host->host_ctx, waits[i], UINT64_MAX);
    if (code == WEFT_STATUS_OK) {
      code = c;
    }
  }
  if (signal != NULL) {
    host->event_signal(host->host_ctx, signal, code);
  }
  return WEFT_OK;
}

static weft_status_t zoo_synchronize(weft_plugin_device_t* device) {
  (void)device;
  return WEFT_OK;
}

static weft_status_t zoo_device_memory_query(weft_plugin_device_t* device,
                                             uint64_t* out_free,
                                             uint64_t* out_total) {
  *out_free = zoo_spec.memory_free - device->used;
  *out_total = zoo_spec.memory_total;
  return WEFT_OK;
}

/* ---- the tables ---- */

/* The ABI 1.0 table, as a plugin compiled against the 1.0 headers has it: a
 * separate object that ends before device_memory_query, so that a host
 * reading past struct_size reads past the object (and AddressSanitizer says
 * so). */
typedef struct zoo_plugin_interface_1_0_t {
  uint32_t struct_size;
  uint32_t reserved0;
  const weft_plugin_info_t* info;
  weft_status_t (*probe)(const weft_host_services_t*, weft_probe_result_t*);
  weft_status_t (*instance_create)(const weft_host_services_t*,
                                   weft_plugin_instance_t**);
  void (*instance_destroy)(weft_plugin_instance_t*);
  uint32_t (*device_count)(weft_plugin_instance_t*);
  weft_status_t (*device_query_caps)(weft_plugin_instance_t*, uint32_t,
                                     weft_device_caps_t*);
  weft_status_t (*device_open)(weft_plugin_instance_t*, uint32_t,
                               weft_plugin_device_t**);
  void (*device_close)(weft_plugin_device_t*);
  weft_status_t (*buffer_allocate)(weft_plugin_device_t*,
                                   const weft_buffer_params_t*,
                                   weft_plugin_buffer_t**);
  void (*buffer_free)(weft_plugin_device_t*, weft_plugin_buffer_t*);
  weft_status_t (*buffer_map)(weft_plugin_device_t*, weft_plugin_buffer_t*,
                              void**);
  void (*buffer_unmap)(weft_plugin_device_t*, weft_plugin_buffer_t*);
  weft_status_t (*buffer_upload)(weft_plugin_device_t*, weft_plugin_buffer_t*,
                                 uint64_t, const void*, uint64_t);
  weft_status_t (*buffer_download)(weft_plugin_device_t*,
                                   weft_plugin_buffer_t*, uint64_t, void*,
                                   uint64_t);
  weft_status_t (*buffer_copy)(weft_plugin_device_t*, weft_plugin_buffer_t*,
                               uint64_t, weft_plugin_buffer_t*, uint64_t,
                               uint64_t);
  weft_status_t (*buffer_fill)(weft_plugin_device_t*, weft_plugin_buffer_t*,
                               uint64_t, uint64_t, const void*, uint32_t);
  weft_status_t (*op_query)(weft_plugin_device_t*, const weft_node_t*,
                            const weft_tensor_desc_t* const*, uint32_t,
                            weft_op_support_t*);
  weft_status_t (*segment_submit)(weft_plugin_device_t*, const weft_segment_t*,
                                  weft_event_t* const*, uint32_t,
                                  weft_event_t*);
  weft_status_t (*synchronize)(weft_plugin_device_t*);
} zoo_plugin_interface_1_0_t;

_Static_assert(sizeof(zoo_plugin_interface_1_0_t) ==
                   offsetof(weft_plugin_interface_t, device_memory_query),
               "the ABI 1.0 table is the 1.1 table minus device_memory_query");
_Static_assert(offsetof(zoo_plugin_interface_1_0_t, synchronize) ==
                   offsetof(weft_plugin_interface_t, synchronize),
               "the ABI 1.0 table has the 1.1 table's layout");

#define ZOO_TABLE_1_0_MEMBERS                      \
  .reserved0 = 0,                                  \
  .info = &zoo_spec.info,                          \
  .probe = zoo_probe,                              \
  .instance_create = zoo_instance_create,          \
  .instance_destroy = zoo_instance_destroy,        \
  .device_count = zoo_device_count,                \
  .device_query_caps = zoo_device_query_caps,      \
  .device_open = zoo_device_open,                  \
  .device_close = zoo_device_close,                \
  .buffer_allocate = zoo_buffer_allocate,          \
  .buffer_free = zoo_buffer_free,                  \
  .buffer_map = zoo_buffer_map,                    \
  .buffer_unmap = zoo_buffer_unmap,                \
  .buffer_upload = zoo_buffer_upload,              \
  .buffer_download = zoo_buffer_download,          \
  .buffer_copy = zoo_buffer_copy,                  \
  .buffer_fill = zoo_buffer_fill,                  \
  .op_query = zoo_op_query,                        \
  .segment_submit = zoo_segment_submit,            \
  .synchronize = zoo_synchronize

static const zoo_plugin_interface_1_0_t zoo_table_1_0 = {
    .struct_size = (uint32_t)sizeof(zoo_plugin_interface_1_0_t),
    ZOO_TABLE_1_0_MEMBERS,
};

static const weft_plugin_interface_t zoo_table_1_1 = {
    .struct_size = (uint32_t)sizeof(weft_plugin_interface_t),
    ZOO_TABLE_1_0_MEMBERS,
    .device_memory_query = zoo_device_memory_query,
};

const weft_plugin_interface_t* zoo_interface(void) {
  if (zoo_spec.abi_minor == 0) {
    return (const weft_plugin_interface_t*)(const void*)&zoo_table_1_0;
  }
  return &zoo_table_1_1;
}
