/* The null backend: device memory. Buffers are host memory from the host's
 * allocator, counted against a fixed budget, so that a backend copied from
 * this one starts with the checks and the accounting a device needs. */
#include <inttypes.h>
#include <string.h>

#include "null.h"

/* Range check shared by every transfer: the host checks ranges too, but a
 * plugin never trusts a caller with its memory (docs/abi.md, "Buffers"). */
static weft_status_t weft_null_buffer_range_check(weft_plugin_device_t* device,
                                                  const weft_plugin_buffer_t* buffer,
                                                  uint64_t offset, uint64_t size,
                                                  const char* what) {
  if (buffer == NULL) {
    return WEFT_NULL_STATUS(device->instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: %s without a buffer", what);
  }
  if (offset > buffer->size || size > buffer->size - offset) {
    return WEFT_NULL_STATUS(device->instance, WEFT_STATUS_OUT_OF_RANGE,
                            "null: %s range [%" PRIu64 ", %" PRIu64 " + %" PRIu64
                            ") is outside the buffer of %" PRIu64 " bytes",
                            what, offset, offset, size, buffer->size);
  }
  return WEFT_OK;
}

weft_status_t weft_null_buffer_allocate(weft_plugin_device_t* device,
                                        const weft_buffer_params_t* params,
                                        weft_plugin_buffer_t** out_buffer) {
  weft_plugin_instance_t* instance = device->instance;
  if (params == NULL || out_buffer == NULL) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: buffer_allocate called without %s",
                            params == NULL ? "params" : "out_buffer");
  }
  *out_buffer = NULL;
  if (!WEFT_ABI_HAS_MEMBER(params, weft_buffer_params_t, alignment)) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_INCOMPATIBLE,
                            "null: buffer params of %u bytes are smaller than ABI 1.0's",
                            (unsigned)params->struct_size);
  }
  if (params->memory_type != WEFT_MEMORY_TYPE_DEVICE_LOCAL &&
      params->memory_type != WEFT_MEMORY_TYPE_HOST_VISIBLE) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: unknown memory type %u",
                            (unsigned)params->memory_type);
  }
  uint64_t alignment = params->alignment != 0 ? params->alignment
                                              : WEFT_NULL_DEFAULT_ALIGNMENT;
  /* The cap also keeps the value inside a 32-bit size_t. */
  if ((alignment & (alignment - 1)) != 0 || alignment > WEFT_NULL_MEMORY_TOTAL) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: buffer alignment %" PRIu64
                            " is not a power of two of at most %" PRIu64,
                            params->alignment, WEFT_NULL_MEMORY_TOTAL);
  }
  if (params->size == 0) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: buffer size must be > 0, got 0");
  }
  uint64_t available = WEFT_NULL_MEMORY_TOTAL - device->memory_used;
  if (params->size > available) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_RESOURCE_EXHAUSTED,
                            "null: buffer of %" PRIu64 " bytes does not fit: %" PRIu64
                            " of %" PRIu64 " bytes free",
                            params->size, available, WEFT_NULL_MEMORY_TOTAL);
  }

  const weft_host_services_t* host = instance->host;
  weft_plugin_buffer_t* buffer = host->alloc(host->host_ctx, sizeof(*buffer), 0);
  if (buffer == NULL) {
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_OUT_OF_MEMORY,
                            "null: out of memory allocating a buffer record (%zu bytes)",
                            sizeof(*buffer));
  }
  memset(buffer, 0, sizeof(*buffer));
  /* size <= WEFT_NULL_MEMORY_TOTAL, so it fits a size_t. */
  buffer->data = host->alloc(host->host_ctx, (size_t)params->size, (size_t)alignment);
  if (buffer->data == NULL) {
    host->free(host->host_ctx, buffer);
    return WEFT_NULL_STATUS(instance, WEFT_STATUS_OUT_OF_MEMORY,
                            "null: out of memory allocating a buffer of %" PRIu64
                            " bytes (alignment %" PRIu64 ")",
                            params->size, alignment);
  }
  buffer->size = params->size;
  buffer->memory_type = params->memory_type;
  buffer->next = device->buffers;
  if (device->buffers != NULL) {
    device->buffers->prev = buffer;
  }
  device->buffers = buffer;
  device->memory_used += params->size;
  *out_buffer = buffer;
  return WEFT_OK;
}

void weft_null_buffer_free(weft_plugin_device_t* device,
                           weft_plugin_buffer_t* buffer) {
  if (buffer == NULL) {
    return;
  }
  const weft_host_services_t* host = device->instance->host;
  if (buffer->prev != NULL) {
    buffer->prev->next = buffer->next;
  } else {
    device->buffers = buffer->next;
  }
  if (buffer->next != NULL) {
    buffer->next->prev = buffer->prev;
  }
  device->memory_used -= buffer->size;
  host->free(host->host_ctx, buffer->data);
  host->free(host->host_ctx, buffer);
}

weft_status_t weft_null_buffer_map(weft_plugin_device_t* device,
                                   weft_plugin_buffer_t* buffer, void** out_ptr) {
  if (buffer == NULL || out_ptr == NULL) {
    return WEFT_NULL_STATUS(device->instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: buffer_map called without %s",
                            buffer == NULL ? "a buffer" : "out_ptr");
  }
  /* All of this device's memory is host memory, so every buffer maps. A
   * device with private memory returns WEFT_STATUS_UNSUPPORTED for
   * WEFT_MEMORY_TYPE_DEVICE_LOCAL buffers. */
  *out_ptr = buffer->data;
  return WEFT_OK;
}

void weft_null_buffer_unmap(weft_plugin_device_t* device,
                            weft_plugin_buffer_t* buffer) {
  (void)device;
  (void)buffer;
}

weft_status_t weft_null_buffer_upload(weft_plugin_device_t* device,
                                      weft_plugin_buffer_t* buffer,
                                      uint64_t offset, const void* src,
                                      uint64_t size) {
  weft_status_t status =
      weft_null_buffer_range_check(device, buffer, offset, size, "upload");
  if (status != WEFT_OK) {
    return status;
  }
  if (size > 0 && src == NULL) {
    return WEFT_NULL_STATUS(device->instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: upload of %" PRIu64 " bytes from a NULL source", size);
  }
  if (size > 0) {
    memcpy((char*)buffer->data + offset, src, (size_t)size);
  }
  return WEFT_OK;
}

weft_status_t weft_null_buffer_download(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* buffer,
                                        uint64_t offset, void* dst,
                                        uint64_t size) {
  weft_status_t status =
      weft_null_buffer_range_check(device, buffer, offset, size, "download");
  if (status != WEFT_OK) {
    return status;
  }
  if (size > 0 && dst == NULL) {
    return WEFT_NULL_STATUS(device->instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: download of %" PRIu64 " bytes to a NULL destination",
                            size);
  }
  if (size > 0) {
    memcpy(dst, (const char*)buffer->data + offset, (size_t)size);
  }
  return WEFT_OK;
}

weft_status_t weft_null_buffer_copy(weft_plugin_device_t* device,
                                    weft_plugin_buffer_t* src,
                                    uint64_t src_offset,
                                    weft_plugin_buffer_t* dst,
                                    uint64_t dst_offset, uint64_t size) {
  weft_status_t status =
      weft_null_buffer_range_check(device, src, src_offset, size, "copy source");
  if (status != WEFT_OK) {
    return status;
  }
  status = weft_null_buffer_range_check(device, dst, dst_offset, size,
                                        "copy destination");
  if (status != WEFT_OK) {
    return status;
  }
  if (size > 0) {
    /* memmove: source and destination may be the same buffer. */
    memmove((char*)dst->data + dst_offset, (const char*)src->data + src_offset,
            (size_t)size);
  }
  return WEFT_OK;
}

weft_status_t weft_null_buffer_fill(weft_plugin_device_t* device,
                                    weft_plugin_buffer_t* buffer,
                                    uint64_t offset, uint64_t size,
                                    const void* pattern, uint32_t pattern_size) {
  weft_status_t status =
      weft_null_buffer_range_check(device, buffer, offset, size, "fill");
  if (status != WEFT_OK) {
    return status;
  }
  if (pattern == NULL ||
      (pattern_size != 1 && pattern_size != 2 && pattern_size != 4)) {
    return WEFT_NULL_STATUS(device->instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: fill pattern must be 1, 2 or 4 bytes, got %u%s",
                            (unsigned)pattern_size,
                            pattern == NULL ? " and no pattern" : "");
  }
  if (offset % pattern_size != 0 || size % pattern_size != 0) {
    return WEFT_NULL_STATUS(device->instance, WEFT_STATUS_INVALID_ARGUMENT,
                            "null: fill offset %" PRIu64 " and size %" PRIu64
                            " must be multiples of the %u-byte pattern",
                            offset, size, (unsigned)pattern_size);
  }
  char* out = (char*)buffer->data + offset;
  for (uint64_t i = 0; i < size; i += pattern_size) {
    memcpy(out + i, pattern, pattern_size);
  }
  return WEFT_OK;
}
