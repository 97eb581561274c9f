/* Reference CPU backend: the device and its host-memory buffers. Buffers are
 * plain host memory from the host allocator, so they are always mappable
 * (unified memory). */
#include <string.h>

#include "cpu_ref_impl.h"

#define WEFT_CPU_REF_ALIGNMENT 64

static weft_status_t weft_cpu_ref_range(const weft_host_services_t* host,
                                        const char* what,
                                        const weft_plugin_buffer_t* buffer,
                                        uint64_t offset, uint64_t size) {
  if (offset > buffer->size || size > buffer->size - offset) {
    return host->status_make(host->host_ctx, WEFT_STATUS_OUT_OF_RANGE,
                             "cpu-ref %s: [%llu, +%llu) outside a buffer of %llu bytes",
                             what, (unsigned long long)offset, (unsigned long long)size,
                             (unsigned long long)buffer->size);
  }
  return WEFT_OK;
}

weft_status_t weft__cpu_ref_device_open(weft_plugin_instance_t* instance, uint32_t index,
                                        weft_plugin_device_t** out_device) {
  const weft_host_services_t* host = instance->host;
  *out_device = NULL;
  if (index != 0) {
    return host->status_make(host->host_ctx, WEFT_STATUS_OUT_OF_RANGE,
                             "cpu-ref: device index %u, it has 1 device", index);
  }
  weft_plugin_device_t* device =
      (weft_plugin_device_t*)host->alloc(host->host_ctx, sizeof(*device), 0);
  if (!device) {
    return host->status_make(host->host_ctx, WEFT_STATUS_OUT_OF_MEMORY,
                             "cpu-ref: out of memory opening the device");
  }
  memset(device, 0, sizeof(*device));
  device->instance = instance;
  device->host = host;
  *out_device = device;
  return WEFT_OK;
}

void weft__cpu_ref_device_close(weft_plugin_device_t* device) {
  if (!device) return;
  device->host->free(device->host->host_ctx, device);
}

weft_status_t weft__cpu_ref_buffer_allocate(weft_plugin_device_t* device,
                                            const weft_buffer_params_t* params,
                                            weft_plugin_buffer_t** out_buffer) {
  const weft_host_services_t* host = device->host;
  *out_buffer = NULL;
  if (params->size == 0 || params->size > (uint64_t)SIZE_MAX / 2) {
    return host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                             "cpu-ref: cannot allocate a buffer of %llu bytes",
                             (unsigned long long)params->size);
  }
  size_t alignment = params->alignment > WEFT_CPU_REF_ALIGNMENT
                         ? (size_t)params->alignment : WEFT_CPU_REF_ALIGNMENT;
  if ((alignment & (alignment - 1)) != 0) {
    return host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                             "cpu-ref: alignment %zu is not a power of two", alignment);
  }
  weft_plugin_buffer_t* buffer =
      (weft_plugin_buffer_t*)host->alloc(host->host_ctx, sizeof(*buffer), 0);
  void* data = buffer ? host->alloc(host->host_ctx, (size_t)params->size, alignment) : NULL;
  if (!buffer || !data) {
    host->free(host->host_ctx, buffer);
    return host->status_make(host->host_ctx, WEFT_STATUS_OUT_OF_MEMORY,
                             "cpu-ref: out of memory allocating a buffer of %llu bytes",
                             (unsigned long long)params->size);
  }
  buffer->data = data;
  buffer->size = params->size;
  buffer->owned = true;
  device->live_bytes += params->size;
  *out_buffer = buffer;
  return WEFT_OK;
}

weft_status_t weft__cpu_ref_buffer_import_host(weft_plugin_device_t* device, void* host_ptr,
                                              uint64_t size, weft_plugin_buffer_t** out_buffer) {
  const weft_host_services_t* host = device->host;
  *out_buffer = NULL;
  if (!host_ptr || size == 0) {
    return host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                             "cpu-ref: cannot wrap %llu bytes at %p", (unsigned long long)size,
                             host_ptr);
  }
  weft_plugin_buffer_t* buffer =
      (weft_plugin_buffer_t*)host->alloc(host->host_ctx, sizeof(*buffer), 0);
  if (!buffer) {
    return host->status_make(host->host_ctx, WEFT_STATUS_OUT_OF_MEMORY,
                             "cpu-ref: out of memory wrapping host memory");
  }
  buffer->data = host_ptr;
  buffer->size = size;
  buffer->owned = false; /* the host's memory: wrapped, never freed here */
  *out_buffer = buffer;
  return WEFT_OK;
}

void weft__cpu_ref_buffer_free(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  if (!buffer) return;
  if (buffer->owned) {
    device->live_bytes -= buffer->size;
    device->host->free(device->host->host_ctx, buffer->data);
  }
  device->host->free(device->host->host_ctx, buffer);
}

weft_status_t weft__cpu_ref_buffer_map(weft_plugin_device_t* device,
                                       weft_plugin_buffer_t* buffer, void** out_ptr) {
  (void)device;
  *out_ptr = buffer->data;
  return WEFT_OK;
}

void weft__cpu_ref_buffer_unmap(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  (void)device;
  (void)buffer;
}

weft_status_t weft__cpu_ref_buffer_upload(weft_plugin_device_t* device,
                                          weft_plugin_buffer_t* buffer, uint64_t offset,
                                          const void* src, uint64_t size) {
  weft_status_t status = weft_cpu_ref_range(device->host, "upload", buffer, offset, size);
  if (status) return status;
  memcpy((char*)buffer->data + offset, src, (size_t)size);
  return WEFT_OK;
}

weft_status_t weft__cpu_ref_buffer_download(weft_plugin_device_t* device,
                                            weft_plugin_buffer_t* buffer, uint64_t offset,
                                            void* dst, uint64_t size) {
  weft_status_t status = weft_cpu_ref_range(device->host, "download", buffer, offset, size);
  if (status) return status;
  memcpy(dst, (const char*)buffer->data + offset, (size_t)size);
  return WEFT_OK;
}

weft_status_t weft__cpu_ref_buffer_copy(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* src, uint64_t src_offset,
                                        weft_plugin_buffer_t* dst, uint64_t dst_offset,
                                        uint64_t size) {
  weft_status_t status = weft_cpu_ref_range(device->host, "copy source", src, src_offset, size);
  if (!status) status = weft_cpu_ref_range(device->host, "copy target", dst, dst_offset, size);
  if (status) return status;
  memmove((char*)dst->data + dst_offset, (const char*)src->data + src_offset, (size_t)size);
  return WEFT_OK;
}

weft_status_t weft__cpu_ref_buffer_fill(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* buffer, uint64_t offset,
                                        uint64_t size, const void* pattern,
                                        uint32_t pattern_size) {
  const weft_host_services_t* host = device->host;
  weft_status_t status = weft_cpu_ref_range(host, "fill", buffer, offset, size);
  if (status) return status;
  if ((pattern_size != 1 && pattern_size != 2 && pattern_size != 4) ||
      size % pattern_size != 0) {
    return host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                             "cpu-ref fill: pattern size %u with size %llu", pattern_size,
                             (unsigned long long)size);
  }
  char* out = (char*)buffer->data + offset;
  for (uint64_t i = 0; i < size; i += pattern_size) memcpy(out + i, pattern, pattern_size);
  return WEFT_OK;
}

weft_status_t weft__cpu_ref_device_memory_query(weft_plugin_device_t* device,
                                                uint64_t* out_free, uint64_t* out_total) {
  (void)device;
  weft__cpu_ref_memory(out_free, out_total);
  return WEFT_OK;
}
