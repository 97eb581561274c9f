/* test-split: device memory. Each device owns its buffers and accounts them
 * against its budget; the host cannot map them. Every call first proves that
 * the handle is a live buffer of this very device, then drains the device's
 * queue so that it sees (and does not race) the work submitted before it. */
#include <string.h>

#include "split.h"

weft_status_t weft_split_buffer_check(weft_plugin_device_t* device,
                                      const weft_plugin_buffer_t* buffer, const char* what) {
  const weft_host_services_t* host = device->host;
  if (buffer == NULL) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT, "%s %s: the buffer is NULL",
                             device->id, what);
  }
  /* The magic is the first member, so reading it stays inside any handle a
   * plugin hands out (every handle points at something of 8 bytes or more). */
  if (buffer->magic != WEFT_SPLIT_BUFFER_MAGIC) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s %s: handle %p is not a test-split buffer (another plugin's "
                             "handle, or a freed one)",
                             device->id, what, (const void*)buffer);
  }
  if (buffer->owner != device) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s %s: buffer %p belongs to %s, not to this device (each "
                             "device has its own memory; copy through the host)",
                             device->id, what, (const void*)buffer, buffer->owner->id);
  }
  return WEFT_OK;
}

static weft_status_t weft_split_buffer_range(weft_plugin_device_t* device,
                                             const weft_plugin_buffer_t* buffer,
                                             const char* what, uint64_t offset, uint64_t size) {
  if (offset > buffer->size || size > buffer->size - offset) {
    return WEFT_SPLIT_STATUS(device->host, WEFT_STATUS_OUT_OF_RANGE,
                             "%s %s: [%llu, +%llu) is outside a buffer of %llu bytes",
                             device->id, what, (unsigned long long)offset,
                             (unsigned long long)size, (unsigned long long)buffer->size);
  }
  return WEFT_OK;
}

/* The checks every transfer starts with, then the wait for queued work. */
static weft_status_t weft_split_buffer_prepare(weft_plugin_device_t* device,
                                               const weft_plugin_buffer_t* buffer,
                                               const char* what, uint64_t offset,
                                               uint64_t size) {
  weft_status_t status = weft_split_buffer_check(device, buffer, what);
  if (status == WEFT_OK) status = weft_split_buffer_range(device, buffer, what, offset, size);
  if (status == WEFT_OK) {
    weft_split_device_drain(device);
    status = weft_split_device_check_alive(device, what);
  }
  return status;
}

weft_status_t weft_split_buffer_allocate(weft_plugin_device_t* device,
                                         const weft_buffer_params_t* params,
                                         weft_plugin_buffer_t** out_buffer) {
  const weft_host_services_t* host = device->host;
  if (out_buffer == NULL || params == NULL ||
      !WEFT_ABI_HAS_MEMBER(params, weft_buffer_params_t, alignment)) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s buffer_allocate: %s", device->id,
                             out_buffer == NULL ? "out_buffer is NULL"
                                                : "params are missing or smaller than ABI 1.0's");
  }
  *out_buffer = NULL;
  weft_status_t status = weft_split_device_check_alive(device, "buffer_allocate");
  if (status != WEFT_OK) return status;
  if (params->size == 0 || params->size > (uint64_t)SIZE_MAX / 2) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s: cannot allocate a buffer of %llu bytes", device->id,
                             (unsigned long long)params->size);
  }
  if (params->memory_type != WEFT_MEMORY_TYPE_DEVICE_LOCAL &&
      params->memory_type != WEFT_MEMORY_TYPE_HOST_VISIBLE) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s: unknown memory type %u", device->id, params->memory_type);
  }
  uint64_t alignment = params->alignment > WEFT_SPLIT_DEFAULT_ALIGNMENT
                           ? params->alignment : WEFT_SPLIT_DEFAULT_ALIGNMENT;
  if ((alignment & (alignment - 1)) != 0 || alignment > ((uint64_t)1 << 20)) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s: alignment %llu is not a power of two up to 1 MiB",
                             device->id, (unsigned long long)params->alignment);
  }
  uint64_t total = device->instance->config.memory_total;
  if (params->size > total - device->memory_used) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_RESOURCE_EXHAUSTED,
                             "%s: buffer of %llu bytes does not fit: %llu of %llu bytes free "
                             "(%s)",
                             device->id, (unsigned long long)params->size,
                             (unsigned long long)(total - device->memory_used),
                             (unsigned long long)total, WEFT_SPLIT_ENV_MEMORY);
  }
  weft_plugin_buffer_t* buffer = host->alloc(host->host_ctx, sizeof(*buffer), 0);
  void* data = buffer != NULL ? host->alloc(host->host_ctx, (size_t)params->size,
                                            (size_t)alignment)
                              : NULL;
  if (buffer == NULL || data == NULL) {
    host->free(host->host_ctx, buffer);
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                             "%s: out of host memory for a buffer of %llu bytes", device->id,
                             (unsigned long long)params->size);
  }
  memset(buffer, 0, sizeof(*buffer));
  buffer->magic = WEFT_SPLIT_BUFFER_MAGIC;
  buffer->owner = device;
  buffer->data = data;
  buffer->size = params->size;
  buffer->memory_type = params->memory_type;
  buffer->next = device->buffers;
  if (device->buffers != NULL) device->buffers->prev = buffer;
  device->buffers = buffer;
  device->memory_used += params->size;
  *out_buffer = buffer;
  return WEFT_OK;
}

void weft_split_buffer_release(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  if (buffer->prev != NULL) {
    buffer->prev->next = buffer->next;
  } else {
    device->buffers = buffer->next;
  }
  if (buffer->next != NULL) buffer->next->prev = buffer->prev;
  buffer->magic = WEFT_SPLIT_BUFFER_FREED;
  const weft_host_services_t* host = device->host;
  if (!buffer->imported) {
    device->memory_used -= buffer->size;
    host->free(host->host_ctx, buffer->data);
  }
  host->free(host->host_ctx, buffer);
}

void weft_split_buffer_free(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  if (buffer == NULL) return;
  weft_status_t status = weft_split_buffer_check(device, buffer, "buffer_free");
  if (status != WEFT_OK) {
    /* Nothing to return the error through: say it, and leave the handle
     * alone rather than free what is not ours. */
    const weft_host_services_t* host = device->host;
    host->log(host->host_ctx, WEFT_LOG_LEVEL_ERROR, "%s",
              host->status_message(host->host_ctx, status));
    host->status_free(host->host_ctx, status);
    return;
  }
  /* Queued work may still read or write it (cudaFree waits too). */
  weft_split_device_drain(device);
  weft_split_buffer_release(device, buffer);
}

weft_status_t weft_split_buffer_import_host(weft_plugin_device_t* device, void* host_ptr,
                                           uint64_t size, weft_plugin_buffer_t** out_buffer) {
  const weft_host_services_t* host = device->host;
  *out_buffer = NULL;
  if (!device->instance->config.unified) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_UNSUPPORTED,
                             "%s: a discrete device cannot read host memory in place (%s=1 "
                             "makes it unified)",
                             device->id, WEFT_SPLIT_ENV_UNIFIED);
  }
  if (host_ptr == NULL || size == 0) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s: cannot wrap %llu bytes at %p", device->id,
                             (unsigned long long)size, host_ptr);
  }
  weft_plugin_buffer_t* buffer = host->alloc(host->host_ctx, sizeof(*buffer), 0);
  if (buffer == NULL) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                             "%s: out of host memory wrapping a buffer", device->id);
  }
  memset(buffer, 0, sizeof(*buffer));
  buffer->magic = WEFT_SPLIT_BUFFER_MAGIC;
  buffer->owner = device;
  buffer->data = host_ptr;
  buffer->size = size;
  buffer->memory_type = WEFT_MEMORY_TYPE_HOST_VISIBLE;
  buffer->imported = 1;
  buffer->next = device->buffers;
  if (device->buffers != NULL) device->buffers->prev = buffer;
  device->buffers = buffer;
  *out_buffer = buffer;
  return WEFT_OK;
}

weft_status_t weft_split_buffer_map(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer,
                                    void** out_ptr) {
  if (out_ptr != NULL) *out_ptr = NULL;
  weft_status_t status = weft_split_buffer_check(device, buffer, "buffer_map");
  if (status != WEFT_OK) return status;
  if (device->instance->config.unified) {
    /* Unified memory: the host sees it once queued work is done with it. */
    weft_split_device_drain(device);
    *out_ptr = buffer->data;
    return WEFT_OK;
  }
  return WEFT_SPLIT_STATUS(device->host, WEFT_STATUS_UNSUPPORTED,
                           "%s: device memory is not host-visible (a discrete device); "
                           "use upload and download",
                           device->id);
}

void weft_split_buffer_unmap(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  (void)device; /* nothing is ever mapped */
  (void)buffer;
}

weft_status_t weft_split_buffer_upload(weft_plugin_device_t* device,
                                       weft_plugin_buffer_t* buffer, uint64_t offset,
                                       const void* src, uint64_t size) {
  if (src == NULL && size > 0) {
    return WEFT_SPLIT_STATUS(device->host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s upload: src is NULL", device->id);
  }
  weft_status_t status = weft_split_buffer_prepare(device, buffer, "upload", offset, size);
  if (status != WEFT_OK) return status;
  if (size > 0) memcpy((char*)buffer->data + offset, src, (size_t)size);
  return WEFT_OK;
}

weft_status_t weft_split_buffer_download(weft_plugin_device_t* device,
                                         weft_plugin_buffer_t* buffer, uint64_t offset,
                                         void* dst, uint64_t size) {
  if (dst == NULL && size > 0) {
    return WEFT_SPLIT_STATUS(device->host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s download: dst is NULL", device->id);
  }
  weft_status_t status = weft_split_buffer_prepare(device, buffer, "download", offset, size);
  if (status != WEFT_OK) return status;
  if (size > 0) memcpy(dst, (const char*)buffer->data + offset, (size_t)size);
  return WEFT_OK;
}

weft_status_t weft_split_buffer_copy(weft_plugin_device_t* device, weft_plugin_buffer_t* src,
                                     uint64_t src_offset, weft_plugin_buffer_t* dst,
                                     uint64_t dst_offset, uint64_t size) {
  weft_status_t status = weft_split_buffer_check(device, src, "copy source");
  if (status == WEFT_OK) status = weft_split_buffer_check(device, dst, "copy target");
  if (status == WEFT_OK) {
    status = weft_split_buffer_range(device, src, "copy source", src_offset, size);
  }
  if (status == WEFT_OK) {
    status = weft_split_buffer_range(device, dst, "copy target", dst_offset, size);
  }
  if (status != WEFT_OK) return status;
  /* Device copies forbid overlap (docs/abi.md section 13); so does this one. */
  if (src == dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
    return WEFT_SPLIT_STATUS(device->host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s copy: source [%llu, +%llu) and target [%llu, +%llu) overlap "
                             "in one buffer",
                             device->id, (unsigned long long)src_offset,
                             (unsigned long long)size, (unsigned long long)dst_offset,
                             (unsigned long long)size);
  }
  weft_split_device_drain(device);
  status = weft_split_device_check_alive(device, "copy");
  if (status != WEFT_OK) return status;
  if (size > 0) {
    memcpy((char*)dst->data + dst_offset, (const char*)src->data + src_offset, (size_t)size);
  }
  return WEFT_OK;
}

weft_status_t weft_split_buffer_fill(weft_plugin_device_t* device,
                                     weft_plugin_buffer_t* buffer, uint64_t offset,
                                     uint64_t size, const void* pattern,
                                     uint32_t pattern_size) {
  if (pattern == NULL || (pattern_size != 1 && pattern_size != 2 && pattern_size != 4) ||
      offset % (pattern_size ? pattern_size : 1) != 0 ||
      size % (pattern_size ? pattern_size : 1) != 0) {
    return WEFT_SPLIT_STATUS(device->host, WEFT_STATUS_INVALID_ARGUMENT,
                             "%s fill: pattern %s of %u bytes at offset %llu, size %llu "
                             "(1, 2 or 4 bytes; offset and size its multiples)",
                             device->id, pattern == NULL ? "NULL" : "given", pattern_size,
                             (unsigned long long)offset, (unsigned long long)size);
  }
  weft_status_t status = weft_split_buffer_prepare(device, buffer, "fill", offset, size);
  if (status != WEFT_OK) return status;
  char* out = (char*)buffer->data + offset;
  for (uint64_t i = 0; i < size; i += pattern_size) memcpy(out + i, pattern, pattern_size);
  return WEFT_OK;
}
