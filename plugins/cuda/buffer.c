/* The CUDA plugin: device memory and blocking transfers. See cuda_plugin.h.
 *
 * Device-local buffers are cuMemAlloc memory. Host-visible buffers are
 * pinned host memory mapped into the device's address space
 * (cuMemHostAlloc with CU_MEMHOSTALLOC_DEVICEMAP): the host reads and writes
 * them in place and kernels reach them over the bus. Every transfer ends
 * with cuCtxSynchronize, so it is complete when the call returns, as the
 * ABI's blocking transfers require. */
#include <inttypes.h>
#include <string.h>

#include "cuda_plugin.h"

/* Pinned host memory is page-aligned (CUDA driver API, cuMemHostAlloc). */
#define WEFT_CUDA_HOST_ALIGNMENT 4096u

static weft_status_t weft_cuda_buffer_range_check(weft_plugin_device_t* device,
                                                  const weft_plugin_buffer_t* buffer,
                                                  uint64_t offset, uint64_t size,
                                                  const char* what) {
  if (buffer == NULL) {
    return WEFT_CUDA_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: %s without a buffer", what);
  }
  if (offset > buffer->size || size > buffer->size - offset) {
    return WEFT_CUDA_STATUS(device->instance->host, WEFT_STATUS_OUT_OF_RANGE,
                            "cuda: %s range [%" PRIu64 ", %" PRIu64 " + %" PRIu64
                            ") is outside the buffer of %" PRIu64 " bytes",
                            what, offset, offset, size, buffer->size);
  }
  return WEFT_OK;
}

/* A status for a failed driver call on this device. */
static weft_status_t weft_cuda_buffer_error(weft_plugin_device_t* device, CUresult result,
                                            const char* call, uint64_t bytes) {
  const weft_plugin_instance_t* instance = device->instance;
  return weft_cuda_status_from_result(instance->host, &instance->loader, result,
                                      "%s(%" PRIu64 " bytes on '%s')", call, bytes,
                                      device->physical->caps.name);
}

/* Waits for the device, context already current. */
static weft_status_t weft_cuda_buffer_sync(weft_plugin_device_t* device, const char* after) {
  CUresult result = device->instance->loader.cuCtxSynchronize();
  if (result != CUDA_SUCCESS) {
    const weft_plugin_instance_t* instance = device->instance;
    return weft_cuda_status_from_result(instance->host, &instance->loader, result,
                                        "cuCtxSynchronize (after %s on '%s')", after,
                                        device->physical->caps.name);
  }
  return WEFT_OK;
}

void weft_cuda_buffer_release(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  if (buffer == NULL) {
    return;
  }
  const weft_cuda_loader_t* loader = &device->instance->loader;
  if (buffer->base != 0) {
    (void)loader->cuMemFree_v2(buffer->base);
  }
  if (buffer->host_base != NULL) {
    (void)loader->cuMemFreeHost(buffer->host_base);
  }
  const weft_host_services_t* host = device->instance->host;
  host->free(host->host_ctx, buffer);
}

weft_status_t weft_cuda_buffer_allocate(weft_plugin_device_t* device,
                                        const weft_buffer_params_t* params,
                                        weft_plugin_buffer_t** out_buffer) {
  const weft_host_services_t* host = device->instance->host;
  const weft_cuda_loader_t* loader = &device->instance->loader;
  if (params == NULL || out_buffer == NULL) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: buffer_allocate called without %s",
                            params == NULL ? "params" : "out_buffer");
  }
  *out_buffer = NULL;
  if (!WEFT_ABI_HAS_MEMBER(params, weft_buffer_params_t, alignment)) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INCOMPATIBLE,
                            "cuda: buffer params of %u bytes are smaller than ABI 1.0's",
                            (unsigned)params->struct_size);
  }
  if (params->memory_type != WEFT_MEMORY_TYPE_DEVICE_LOCAL &&
      params->memory_type != WEFT_MEMORY_TYPE_HOST_VISIBLE) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT, "cuda: unknown memory type %u",
                            (unsigned)params->memory_type);
  }
  if (params->size == 0) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: buffer size must be > 0, got 0");
  }
  const bool host_visible = params->memory_type == WEFT_MEMORY_TYPE_HOST_VISIBLE;
  const uint64_t native = host_visible ? WEFT_CUDA_HOST_ALIGNMENT : WEFT_CUDA_NATIVE_ALIGNMENT;
  uint64_t alignment = params->alignment != 0 ? params->alignment : native;
  if ((alignment & (alignment - 1)) != 0) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: buffer alignment %" PRIu64 " is not a power of two",
                            params->alignment);
  }
  /* Alignments above what the allocator gives are met by allocating more
   * and starting the buffer inside. */
  uint64_t extra = alignment > native ? alignment : 0;
  uint64_t bytes = 0;
  if (__builtin_add_overflow(params->size, extra, &bytes) || bytes > SIZE_MAX) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_RESOURCE_EXHAUSTED,
                            "cuda: buffer of %" PRIu64 " bytes aligned to %" PRIu64
                            " does not fit the address space",
                            params->size, alignment);
  }
  weft_plugin_buffer_t* buffer = host->alloc(host->host_ctx, sizeof(*buffer), 0);
  if (buffer == NULL) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                            "cuda: out of memory allocating a buffer record (%zu bytes)",
                            sizeof(*buffer));
  }
  memset(buffer, 0, sizeof(*buffer));
  buffer->size = params->size;
  buffer->memory_type = params->memory_type;

  weft_status_t status = weft_cuda_context_enter(device);
  if (status != WEFT_OK) {
    host->free(host->host_ctx, buffer);
    return status;
  }
  CUresult result = CUDA_SUCCESS;
  if (host_visible) {
    result = loader->cuMemHostAlloc(&buffer->host_base, (size_t)bytes, CU_MEMHOSTALLOC_DEVICEMAP);
    if (result != CUDA_SUCCESS) {
      buffer->host_base = NULL;
      status = weft_cuda_buffer_error(device, result, "cuMemHostAlloc", bytes);
    } else {
      CUdeviceptr device_base = 0;
      result = loader->cuMemHostGetDevicePointer_v2(&device_base, buffer->host_base, 0);
      if (result != CUDA_SUCCESS) {
        status = weft_cuda_buffer_error(device, result, "cuMemHostGetDevicePointer", bytes);
      } else {
        uintptr_t start = ((uintptr_t)buffer->host_base + (alignment - 1)) &
                          ~(uintptr_t)(alignment - 1);
        buffer->host = (uint8_t*)start;
        buffer->pointer = device_base + (CUdeviceptr)(start - (uintptr_t)buffer->host_base);
      }
    }
  } else {
    result = loader->cuMemAlloc_v2(&buffer->base, (size_t)bytes);
    if (result != CUDA_SUCCESS) {
      buffer->base = 0;
      status = weft_cuda_buffer_error(device, result, "cuMemAlloc", bytes);
    } else {
      buffer->pointer = (buffer->base + (alignment - 1)) & ~(CUdeviceptr)(alignment - 1);
    }
  }
  if (status != WEFT_OK) {
    weft_cuda_buffer_release(device, buffer);
    weft_cuda_context_leave(device);
    return status;
  }
  weft_cuda_context_leave(device);
  buffer->next = device->buffers;
  if (device->buffers != NULL) {
    device->buffers->prev = buffer;
  }
  device->buffers = buffer;
  *out_buffer = buffer;
  return WEFT_OK;
}

void weft_cuda_buffer_free(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
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
  weft_status_t status = weft_cuda_context_enter(device);
  if (status != WEFT_OK) {
    /* Without the context the memory cannot be freed; it goes with the
     * context when the device closes. */
    const weft_host_services_t* host = device->instance->host;
    host->log(host->host_ctx, WEFT_LOG_LEVEL_ERROR, "buffer_free: %s",
              host->status_message(host->host_ctx, status));
    host->status_free(host->host_ctx, status);
    host->free(host->host_ctx, buffer);
    return;
  }
  weft_cuda_buffer_release(device, buffer);
  weft_cuda_context_leave(device);
}

weft_status_t weft_cuda_buffer_map(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer,
                                   void** out_ptr) {
  const weft_host_services_t* host = device->instance->host;
  if (buffer == NULL || out_ptr == NULL) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: buffer_map called without %s",
                            buffer == NULL ? "a buffer" : "out_ptr");
  }
  *out_ptr = NULL;
  if (buffer->host == NULL) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_UNSUPPORTED,
                            "cuda: buffer of %" PRIu64 " bytes is device memory of '%s', which "
                            "the host cannot map; use upload/download or a host-visible buffer",
                            buffer->size, device->physical->caps.name);
  }
  /* The device may still be writing it. */
  weft_status_t status = weft_cuda_context_enter(device);
  if (status == WEFT_OK) {
    status = weft_cuda_buffer_sync(device, "map");
    weft_cuda_context_leave(device);
  }
  if (status == WEFT_OK) {
    *out_ptr = buffer->host;
  }
  return status;
}

void weft_cuda_buffer_unmap(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  /* Pinned mapped memory is coherent: the host's writes need no flush. */
  (void)device;
  (void)buffer;
}

weft_status_t weft_cuda_buffer_upload(weft_plugin_device_t* device,
                                      weft_plugin_buffer_t* buffer, uint64_t offset,
                                      const void* src, uint64_t size) {
  weft_status_t status = weft_cuda_buffer_range_check(device, buffer, offset, size, "upload");
  if (status != WEFT_OK || size == 0) {
    return status;
  }
  if (src == NULL) {
    return WEFT_CUDA_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: upload of %" PRIu64 " bytes from NULL", size);
  }
  status = weft_cuda_context_enter(device);
  if (status != WEFT_OK) {
    return status;
  }
  if (buffer->host != NULL) {
    status = weft_cuda_buffer_sync(device, "upload");
    if (status == WEFT_OK) {
      memcpy(buffer->host + offset, src, (size_t)size);
    }
  } else {
    /* From pageable memory the copy may return before the DMA is done
     * (CUDA driver API, "API synchronization behavior"); the sync makes it
     * blocking. */
    CUresult result =
        device->instance->loader.cuMemcpyHtoD_v2(buffer->pointer + offset, src, (size_t)size);
    status = result != CUDA_SUCCESS ? weft_cuda_buffer_error(device, result, "cuMemcpyHtoD", size)
                                    : weft_cuda_buffer_sync(device, "upload");
  }
  weft_cuda_context_leave(device);
  return status;
}

weft_status_t weft_cuda_buffer_download(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* buffer, uint64_t offset, void* dst,
                                        uint64_t size) {
  weft_status_t status = weft_cuda_buffer_range_check(device, buffer, offset, size, "download");
  if (status != WEFT_OK || size == 0) {
    return status;
  }
  if (dst == NULL) {
    return WEFT_CUDA_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: download of %" PRIu64 " bytes to NULL", size);
  }
  status = weft_cuda_context_enter(device);
  if (status != WEFT_OK) {
    return status;
  }
  if (buffer->host != NULL) {
    status = weft_cuda_buffer_sync(device, "download");
    if (status == WEFT_OK) {
      memcpy(dst, buffer->host + offset, (size_t)size);
    }
  } else {
    CUresult result =
        device->instance->loader.cuMemcpyDtoH_v2(dst, buffer->pointer + offset, (size_t)size);
    if (result != CUDA_SUCCESS) {
      status = weft_cuda_buffer_error(device, result, "cuMemcpyDtoH", size);
    }
  }
  weft_cuda_context_leave(device);
  return status;
}

weft_status_t weft_cuda_buffer_copy(weft_plugin_device_t* device, weft_plugin_buffer_t* src,
                                    uint64_t src_offset, weft_plugin_buffer_t* dst,
                                    uint64_t dst_offset, uint64_t size) {
  weft_status_t status =
      weft_cuda_buffer_range_check(device, src, src_offset, size, "copy source");
  if (status == WEFT_OK) {
    status = weft_cuda_buffer_range_check(device, dst, dst_offset, size, "copy destination");
  }
  if (status != WEFT_OK || size == 0) {
    return status;
  }
  /* cuMemcpyDtoD leaves overlap undefined; refused, as in the other plugins. */
  if (src == dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
    return WEFT_CUDA_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: copy within one buffer with overlapping ranges "
                            "[%" PRIu64 ", +%" PRIu64 ") and [%" PRIu64 ", +%" PRIu64 ")",
                            src_offset, size, dst_offset, size);
  }
  status = weft_cuda_context_enter(device);
  if (status != WEFT_OK) {
    return status;
  }
  /* Device pointers of mapped host buffers are valid here too (unified
   * addressing), so one call covers every pairing. */
  CUresult result = device->instance->loader.cuMemcpyDtoD_v2(
      dst->pointer + dst_offset, src->pointer + src_offset, (size_t)size);
  status = result != CUDA_SUCCESS ? weft_cuda_buffer_error(device, result, "cuMemcpyDtoD", size)
                                  : weft_cuda_buffer_sync(device, "copy");
  weft_cuda_context_leave(device);
  return status;
}

weft_status_t weft_cuda_buffer_fill(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer,
                                    uint64_t offset, uint64_t size, const void* pattern,
                                    uint32_t pattern_size) {
  const weft_host_services_t* host = device->instance->host;
  const weft_cuda_loader_t* loader = &device->instance->loader;
  weft_status_t status = weft_cuda_buffer_range_check(device, buffer, offset, size, "fill");
  if (status != WEFT_OK) {
    return status;
  }
  if (pattern == NULL || (pattern_size != 1 && pattern_size != 2 && pattern_size != 4)) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: fill pattern must be 1, 2 or 4 bytes, got %u%s",
                            (unsigned)pattern_size, pattern == NULL ? " at NULL" : "");
  }
  if (size == 0) {
    return WEFT_OK;
  }
  const uint8_t* bytes = pattern;
  status = weft_cuda_context_enter(device);
  if (status != WEFT_OK) {
    return status;
  }
  if (buffer->host != NULL) {
    status = weft_cuda_buffer_sync(device, "fill");
    for (uint64_t i = 0; status == WEFT_OK && i < size; ++i) {
      buffer->host[offset + i] = bytes[i % pattern_size];
    }
    weft_cuda_context_leave(device);
    return status;
  }
  /* cuMemsetD16/D32 need a 2- or 4-byte aligned address (CUDA driver API);
   * allocations are 256-byte aligned, so offsets decide. A ragged head or
   * tail (callers keep whole patterns per docs/abi.md, but may not) is
   * copied in from host memory. */
  const uint64_t end = offset + size;
  uint64_t middle_begin = (offset + pattern_size - 1) / pattern_size * pattern_size;
  uint64_t middle_end = middle_begin + (end > middle_begin
                                            ? (end - middle_begin) / pattern_size * pattern_size
                                            : 0);
  if (middle_end <= middle_begin) {
    middle_begin = middle_end = end;
  }
  CUresult result = CUDA_SUCCESS;
  if (middle_end > middle_begin) {
    uint8_t rotated[4] = {0, 0, 0, 0};
    for (uint32_t k = 0; k < pattern_size; ++k) {
      rotated[k] = bytes[(middle_begin - offset + k) % pattern_size];
    }
    const size_t count = (size_t)((middle_end - middle_begin) / pattern_size);
    const CUdeviceptr target = buffer->pointer + middle_begin;
    if (pattern_size == 1) {
      result = loader->cuMemsetD8_v2(target, rotated[0], count);
    } else if (pattern_size == 2) {
      unsigned short value;
      memcpy(&value, rotated, sizeof(value)); /* bytes in memory order */
      result = loader->cuMemsetD16_v2(target, value, count);
    } else {
      unsigned int value;
      memcpy(&value, rotated, sizeof(value));
      result = loader->cuMemsetD32_v2(target, value, count);
    }
    if (result != CUDA_SUCCESS) {
      status = weft_cuda_buffer_error(device, result, "cuMemsetD", middle_end - middle_begin);
    }
  }
  const uint64_t edges[2][2] = {{offset, middle_begin < end ? middle_begin : end},
                                {middle_end > middle_begin ? middle_end : end, end}};
  for (int e = 0; status == WEFT_OK && e < 2; ++e) {
    const uint64_t begin = edges[e][0];
    const uint64_t stop = edges[e][1];
    if (stop <= begin) {
      continue;
    }
    uint8_t piece[8];
    for (uint64_t i = begin; i < stop; ++i) {
      piece[i - begin] = bytes[(i - offset) % pattern_size];
    }
    result = loader->cuMemcpyHtoD_v2(buffer->pointer + begin, piece, (size_t)(stop - begin));
    if (result != CUDA_SUCCESS) {
      status = weft_cuda_buffer_error(device, result, "cuMemcpyHtoD (fill edge)", stop - begin);
    }
  }
  if (status == WEFT_OK) {
    status = weft_cuda_buffer_sync(device, "fill");
  }
  weft_cuda_context_leave(device);
  return status;
}
