/* The OpenCL plugin: device memory and blocking transfers. See
 * opencl_plugin.h.
 *
 * Buffers are cl_mem objects of one context per device. Transfers are
 * blocking enqueues on the device's in-order queue, so they are ordered
 * after everything submitted before them. */
#include <inttypes.h>
#include <string.h>

#include "opencl_plugin.h"

static weft_status_t weft_opencl_buffer_range_check(weft_plugin_device_t* device,
                                                    const weft_plugin_buffer_t* buffer,
                                                    uint64_t offset, uint64_t size,
                                                    const char* what) {
  if (buffer == NULL) {
    return WEFT_OPENCL_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: %s without a buffer", what);
  }
  if (offset > buffer->size || size > buffer->size - offset) {
    return WEFT_OPENCL_STATUS(device->instance->host, WEFT_STATUS_OUT_OF_RANGE,
                              "opencl: %s range [%" PRIu64 ", %" PRIu64 " + %" PRIu64
                              ") is outside the buffer of %" PRIu64 " bytes",
                              what, offset, offset, size, buffer->size);
  }
  return WEFT_OK;
}

void weft_opencl_buffer_release(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  if (buffer == NULL) {
    return;
  }
  const weft_opencl_loader_t* loader = &device->instance->loader;
  if (buffer->mapped != NULL) {
    (void)loader->clEnqueueUnmapMemObject(device->queue, buffer->memory, buffer->mapped, 0,
                                          NULL, NULL);
    (void)loader->clFinish(device->queue);
  }
  if (buffer->memory != NULL) {
    (void)loader->clReleaseMemObject(buffer->memory);
  }
  const weft_host_services_t* host = device->instance->host;
  host->free(host->host_ctx, buffer);
}

weft_status_t weft_opencl_buffer_allocate(weft_plugin_device_t* device,
                                          const weft_buffer_params_t* params,
                                          weft_plugin_buffer_t** out_buffer) {
  const weft_host_services_t* host = device->instance->host;
  if (params == NULL || out_buffer == NULL) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: buffer_allocate called without %s",
                              params == NULL ? "params" : "out_buffer");
  }
  *out_buffer = NULL;
  if (!WEFT_ABI_HAS_MEMBER(params, weft_buffer_params_t, alignment)) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INCOMPATIBLE,
                              "opencl: buffer params of %u bytes are smaller than ABI 1.0's",
                              (unsigned)params->struct_size);
  }
  if (params->memory_type != WEFT_MEMORY_TYPE_DEVICE_LOCAL &&
      params->memory_type != WEFT_MEMORY_TYPE_HOST_VISIBLE) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: unknown memory type %u", (unsigned)params->memory_type);
  }
  if (params->size == 0) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: buffer size must be > 0, got 0");
  }
  /* A cl_mem is aligned to CL_DEVICE_MEM_BASE_ADDR_ALIGN (at least 128
   * bytes for a full-profile device), and weft addresses it by offsets. */
  if ((params->alignment & (params->alignment - 1)) != 0) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: buffer alignment %" PRIu64 " is not a power of two",
                              params->alignment);
  }
  const weft_opencl_physical_t* physical = device->physical;
  if (params->size > physical->max_allocation || params->size > SIZE_MAX) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_RESOURCE_EXHAUSTED,
                              "opencl: buffer of %" PRIu64 " bytes exceeds '%s' "
                              "CL_DEVICE_MAX_MEM_ALLOC_SIZE of %" PRIu64 " bytes",
                              params->size, physical->caps.name, physical->max_allocation);
  }
  weft_plugin_buffer_t* buffer = host->alloc(host->host_ctx, sizeof(*buffer), 0);
  if (buffer == NULL) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                              "opencl: out of memory allocating a buffer record (%zu bytes)",
                              sizeof(*buffer));
  }
  memset(buffer, 0, sizeof(*buffer));
  buffer->size = params->size;
  buffer->memory_type = params->memory_type;
  /* Host-visible buffers live where the host can map them without a copy
   * (pinned host memory on a discrete GPU). */
  cl_mem_flags flags = CL_MEM_READ_WRITE;
  if (params->memory_type == WEFT_MEMORY_TYPE_HOST_VISIBLE) {
    flags |= CL_MEM_ALLOC_HOST_PTR;
  }
  cl_int error = CL_SUCCESS;
  buffer->memory = device->instance->loader.clCreateBuffer(device->context, flags,
                                                           (size_t)params->size, NULL, &error);
  if (buffer->memory == NULL || error != CL_SUCCESS) {
    host->free(host->host_ctx, buffer);
    return weft_opencl_status_from_error(host, error, "clCreateBuffer(%" PRIu64 " bytes on '%s')",
                                         params->size, physical->caps.name);
  }
  buffer->next = device->buffers;
  if (device->buffers != NULL) {
    device->buffers->prev = buffer;
  }
  device->buffers = buffer;
  *out_buffer = buffer;
  return WEFT_OK;
}

void weft_opencl_buffer_free(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  if (buffer == NULL) {
    return;
  }
  if (buffer->prev != NULL) {
    buffer->prev->next = buffer->next;
  } else if (device->buffers == buffer) {
    device->buffers = buffer->next;
  }
  if (buffer->next != NULL) {
    buffer->next->prev = buffer->prev;
  }
  weft_opencl_buffer_release(device, buffer);
}

weft_status_t weft_opencl_buffer_map(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer,
                                     void** out_ptr) {
  const weft_host_services_t* host = device->instance->host;
  if (buffer == NULL || out_ptr == NULL) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: buffer_map called without %s",
                              buffer == NULL ? "a buffer" : "out_ptr");
  }
  *out_ptr = NULL;
  /* OpenCL can map any buffer, but on a discrete GPU mapping device memory
   * copies it both ways behind the caller's back; weft maps only memory the
   * host sees as it is. */
  const bool unified = (device->physical->caps.flags & WEFT_DEVICE_FLAG_UNIFIED_MEMORY) != 0;
  if (buffer->memory_type != WEFT_MEMORY_TYPE_HOST_VISIBLE && !unified) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_UNSUPPORTED,
                              "opencl: buffer of %" PRIu64 " bytes is device-local memory of "
                              "'%s', which the host cannot map; use upload/download or a "
                              "host-visible buffer",
                              buffer->size, device->physical->caps.name);
  }
  if (buffer->mapped == NULL) {
    cl_int error = CL_SUCCESS;
    void* mapped = device->instance->loader.clEnqueueMapBuffer(
        device->queue, buffer->memory, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0,
        (size_t)buffer->size, 0, NULL, NULL, &error);
    if (mapped == NULL || error != CL_SUCCESS) {
      return weft_opencl_status_from_error(host, error, "clEnqueueMapBuffer(%" PRIu64 " bytes)",
                                           buffer->size);
    }
    buffer->mapped = mapped;
  }
  *out_ptr = buffer->mapped;
  return WEFT_OK;
}

void weft_opencl_buffer_unmap(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  if (buffer == NULL || buffer->mapped == NULL) {
    return;
  }
  const weft_opencl_loader_t* loader = &device->instance->loader;
  cl_int error = loader->clEnqueueUnmapMemObject(device->queue, buffer->memory, buffer->mapped,
                                                 0, NULL, NULL);
  if (error == CL_SUCCESS) {
    /* The host's writes reach the buffer when the unmap completes. */
    error = loader->clFinish(device->queue);
  }
  buffer->mapped = NULL;
  if (error != CL_SUCCESS) {
    /* unmap cannot report; the log keeps the failure visible. */
    const weft_host_services_t* host = device->instance->host;
    host->log(host->host_ctx, WEFT_LOG_LEVEL_ERROR,
              "unmap of a %" PRIu64 "-byte buffer failed: %s (%d)", buffer->size,
              weft_opencl_error_name(error), (int)error);
  }
}

weft_status_t weft_opencl_buffer_upload(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* buffer, uint64_t offset,
                                        const void* src, uint64_t size) {
  weft_status_t status = weft_opencl_buffer_range_check(device, buffer, offset, size, "upload");
  if (status != WEFT_OK || size == 0) {
    return status;
  }
  if (src == NULL) {
    return WEFT_OPENCL_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: upload of %" PRIu64 " bytes from NULL", size);
  }
  cl_int error = device->instance->loader.clEnqueueWriteBuffer(
      device->queue, buffer->memory, CL_TRUE, (size_t)offset, (size_t)size, src, 0, NULL, NULL);
  if (error != CL_SUCCESS) {
    return weft_opencl_status_from_error(device->instance->host, error,
                                         "clEnqueueWriteBuffer(offset %" PRIu64 ", %" PRIu64
                                         " bytes)",
                                         offset, size);
  }
  return WEFT_OK;
}

weft_status_t weft_opencl_buffer_download(weft_plugin_device_t* device,
                                          weft_plugin_buffer_t* buffer, uint64_t offset,
                                          void* dst, uint64_t size) {
  weft_status_t status =
      weft_opencl_buffer_range_check(device, buffer, offset, size, "download");
  if (status != WEFT_OK || size == 0) {
    return status;
  }
  if (dst == NULL) {
    return WEFT_OPENCL_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: download of %" PRIu64 " bytes to NULL", size);
  }
  cl_int error = device->instance->loader.clEnqueueReadBuffer(
      device->queue, buffer->memory, CL_TRUE, (size_t)offset, (size_t)size, dst, 0, NULL, NULL);
  if (error != CL_SUCCESS) {
    return weft_opencl_status_from_error(device->instance->host, error,
                                         "clEnqueueReadBuffer(offset %" PRIu64 ", %" PRIu64
                                         " bytes)",
                                         offset, size);
  }
  return WEFT_OK;
}

weft_status_t weft_opencl_buffer_copy(weft_plugin_device_t* device, weft_plugin_buffer_t* src,
                                      uint64_t src_offset, weft_plugin_buffer_t* dst,
                                      uint64_t dst_offset, uint64_t size) {
  const weft_host_services_t* host = device->instance->host;
  weft_status_t status =
      weft_opencl_buffer_range_check(device, src, src_offset, size, "copy source");
  if (status == WEFT_OK) {
    status = weft_opencl_buffer_range_check(device, dst, dst_offset, size, "copy destination");
  }
  if (status != WEFT_OK || size == 0) {
    return status;
  }
  /* OpenCL refuses overlap with CL_MEM_COPY_OVERLAP; say so in weft's words,
   * as the other plugins do. */
  if (src == dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: copy within one buffer with overlapping ranges "
                              "[%" PRIu64 ", +%" PRIu64 ") and [%" PRIu64 ", +%" PRIu64 ")",
                              src_offset, size, dst_offset, size);
  }
  const weft_opencl_loader_t* loader = &device->instance->loader;
  cl_int error =
      loader->clEnqueueCopyBuffer(device->queue, src->memory, dst->memory, (size_t)src_offset,
                                  (size_t)dst_offset, (size_t)size, 0, NULL, NULL);
  if (error != CL_SUCCESS) {
    return weft_opencl_status_from_error(host, error, "clEnqueueCopyBuffer(%" PRIu64 " bytes)",
                                         size);
  }
  error = loader->clFinish(device->queue);
  if (error != CL_SUCCESS) {
    return weft_opencl_status_from_error(host, error, "clFinish (after a copy)");
  }
  return WEFT_OK;
}

weft_status_t weft_opencl_buffer_fill(weft_plugin_device_t* device,
                                      weft_plugin_buffer_t* buffer, uint64_t offset,
                                      uint64_t size, const void* pattern,
                                      uint32_t pattern_size) {
  const weft_host_services_t* host = device->instance->host;
  weft_status_t status = weft_opencl_buffer_range_check(device, buffer, offset, size, "fill");
  if (status != WEFT_OK) {
    return status;
  }
  if (pattern == NULL || (pattern_size != 1 && pattern_size != 2 && pattern_size != 4)) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: fill pattern must be 1, 2 or 4 bytes, got %u%s",
                              (unsigned)pattern_size, pattern == NULL ? " at NULL" : "");
  }
  if (size == 0) {
    return WEFT_OK;
  }
  const weft_opencl_loader_t* loader = &device->instance->loader;
  const uint8_t* bytes = pattern;
  /* clEnqueueFillBuffer wants offset and size in whole patterns (OpenCL 3.0
   * API, section 5.2.3). The ABI promises that too; should a caller not
   * keep it, the ragged head and tail are written as plain bytes. */
  const uint64_t end = offset + size;
  uint64_t middle_begin = (offset + pattern_size - 1) / pattern_size * pattern_size;
  uint64_t middle_end = middle_begin + (end > middle_begin
                                            ? (end - middle_begin) / pattern_size * pattern_size
                                            : 0);
  if (middle_end <= middle_begin) {
    middle_begin = middle_end = end;
  }
  cl_int error = CL_SUCCESS;
  if (middle_end > middle_begin) {
    uint8_t rotated[4];
    for (uint32_t k = 0; k < pattern_size; ++k) {
      rotated[k] = bytes[(middle_begin - offset + k) % pattern_size];
    }
    error = loader->clEnqueueFillBuffer(device->queue, buffer->memory, rotated, pattern_size,
                                        (size_t)middle_begin, (size_t)(middle_end - middle_begin),
                                        0, NULL, NULL);
    if (error != CL_SUCCESS) {
      return weft_opencl_status_from_error(
          host, error, "clEnqueueFillBuffer(offset %" PRIu64 ", %" PRIu64 " bytes)",
          middle_begin, middle_end - middle_begin);
    }
  }
  const uint64_t edges[2][2] = {{offset, middle_begin < end ? middle_begin : end},
                                {middle_end > offset ? middle_end : offset, end}};
  for (int e = 0; e < 2; ++e) {
    uint64_t begin = edges[e][0];
    uint64_t stop = edges[e][1];
    if (e == 1 && begin < edges[0][1]) {
      begin = edges[0][1]; /* no middle: the head already covered it all */
    }
    if (stop <= begin) {
      continue;
    }
    uint8_t piece[8];
    for (uint64_t i = begin; i < stop; ++i) {
      piece[i - begin] = bytes[(i - offset) % pattern_size];
    }
    error = loader->clEnqueueWriteBuffer(device->queue, buffer->memory, CL_TRUE, (size_t)begin,
                                         (size_t)(stop - begin), piece, 0, NULL, NULL);
    if (error != CL_SUCCESS) {
      return weft_opencl_status_from_error(host, error,
                                           "clEnqueueWriteBuffer(fill edge at %" PRIu64 ")",
                                           begin);
    }
  }
  error = loader->clFinish(device->queue);
  if (error != CL_SUCCESS) {
    return weft_opencl_status_from_error(host, error, "clFinish (after a fill)");
  }
  return WEFT_OK;
}
