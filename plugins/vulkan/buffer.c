/* The Vulkan plugin: device memory and blocking transfers. See
 * vulkan_plugin.h.
 *
 * Every buffer is one VkBuffer bound to its own VkDeviceMemory. That is
 * simple and wastes nothing for the few large tensors of a model, but counts
 * against maxMemoryAllocationCount (4096 on many drivers); a sub-allocator
 * comes with the executor. */
#include <inttypes.h>
#include <string.h>

#include "vulkan_plugin.h"

static const VkBufferUsageFlags kWeftVulkanBufferUsage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                                         VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                                         VK_BUFFER_USAGE_TRANSFER_DST_BIT;

/* The host checks ranges too, but a plugin never trusts a caller with its
 * memory (docs/abi.md, "Buffers"). */
static weft_status_t weft_vulkan_buffer_range_check(weft_plugin_device_t* device,
                                                    const weft_plugin_buffer_t* buffer,
                                                    uint64_t offset, uint64_t size,
                                                    const char* what) {
  if (buffer == NULL) {
    return WEFT_VULKAN_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: %s without a buffer", what);
  }
  if (offset > buffer->size || size > buffer->size - offset) {
    return WEFT_VULKAN_STATUS(device->instance->host, WEFT_STATUS_OUT_OF_RANGE,
                              "vulkan: %s range [%" PRIu64 ", %" PRIu64 " + %" PRIu64
                              ") is outside the buffer of %" PRIu64 " bytes",
                              what, offset, offset, size, (uint64_t)buffer->size);
  }
  return WEFT_OK;
}

/* The first memory type allowed by `bits` that has every `required` flag and,
 * unless heap is UINT32_MAX, lives on `heap`. */
static bool weft_vulkan_memory_type_find(const VkPhysicalDeviceMemoryProperties* memory,
                                         uint32_t bits, VkMemoryPropertyFlags required,
                                         uint32_t heap, uint32_t* out_index) {
  for (uint32_t i = 0; i < memory->memoryTypeCount; ++i) {
    if ((bits & (1u << i)) == 0) {
      continue;
    }
    if ((memory->memoryTypes[i].propertyFlags & required) != required) {
      continue;
    }
    if (heap != UINT32_MAX && memory->memoryTypes[i].heapIndex != heap) {
      continue;
    }
    *out_index = i;
    return true;
  }
  return false;
}

/* Chooses where a buffer lives. Device-local buffers go to host-visible
 * device-local memory where the main heap has it (no staging copy needed),
 * else to plain device-local memory. Host-visible buffers prefer cached
 * coherent memory: they are mostly read back by the host. */
static bool weft_vulkan_memory_type_choose(const weft_vulkan_physical_t* physical,
                                           uint32_t memory_type, uint32_t bits,
                                           uint32_t* out_index) {
  const VkPhysicalDeviceMemoryProperties* memory = &physical->memory;
  const VkMemoryPropertyFlags local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  const VkMemoryPropertyFlags visible = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
  const VkMemoryPropertyFlags coherent = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  const VkMemoryPropertyFlags cached = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
  if (memory_type == WEFT_MEMORY_TYPE_DEVICE_LOCAL) {
    if ((physical->caps.flags & WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL) != 0) {
      uint32_t heap = physical->largest_local_heap;
      if (weft_vulkan_memory_type_find(memory, bits, local | visible | coherent, heap,
                                       out_index) ||
          weft_vulkan_memory_type_find(memory, bits, local | visible, heap, out_index)) {
        return true;
      }
    }
    return weft_vulkan_memory_type_find(memory, bits, local, UINT32_MAX, out_index) ||
           weft_vulkan_memory_type_find(memory, bits, 0, UINT32_MAX, out_index);
  }
  return weft_vulkan_memory_type_find(memory, bits, visible | coherent | cached, UINT32_MAX,
                                      out_index) ||
         weft_vulkan_memory_type_find(memory, bits, visible | coherent, UINT32_MAX,
                                      out_index) ||
         weft_vulkan_memory_type_find(memory, bits, visible, UINT32_MAX, out_index);
}

void weft_vulkan_buffer_release(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  if (buffer == NULL) {
    return;
  }
  const weft_vulkan_device_table_t* vk = &device->vk;
  if (buffer->buffer != VK_NULL_HANDLE) {
    vk->vkDestroyBuffer(device->device, buffer->buffer, NULL);
  }
  if (buffer->memory != VK_NULL_HANDLE) {
    if (buffer->mapped != NULL) {
      vk->vkUnmapMemory(device->device, buffer->memory);
    }
    vk->vkFreeMemory(device->device, buffer->memory, NULL);
  }
  const weft_host_services_t* host = device->instance->host;
  host->free(host->host_ctx, buffer);
}

/* Creates a buffer with its own memory, mapped for good when host-visible.
 * Not linked into the device's list. */
static weft_status_t weft_vulkan_buffer_create(weft_plugin_device_t* device, VkDeviceSize size,
                                               uint32_t memory_type,
                                               weft_plugin_buffer_t** out_buffer) {
  const weft_host_services_t* host = device->instance->host;
  const weft_vulkan_device_table_t* vk = &device->vk;
  const weft_vulkan_physical_t* physical = device->physical;
  *out_buffer = NULL;
  weft_plugin_buffer_t* buffer = host->alloc(host->host_ctx, sizeof(*buffer), 0);
  if (buffer == NULL) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                              "vulkan: out of memory allocating a buffer record (%zu bytes)",
                              sizeof(*buffer));
  }
  memset(buffer, 0, sizeof(*buffer));
  buffer->size = size;
  buffer->memory_type = memory_type;

  VkBufferCreateInfo buffer_info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = size,
      .usage = kWeftVulkanBufferUsage,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  weft_status_t status = WEFT_OK;
  VkResult result = vk->vkCreateBuffer(device->device, &buffer_info, NULL, &buffer->buffer);
  if (result != VK_SUCCESS) {
    buffer->buffer = VK_NULL_HANDLE;
    status = weft_vulkan_status_from_result(host, result, "vkCreateBuffer(%" PRIu64 " bytes)",
                                            (uint64_t)size);
  }
  VkMemoryRequirements requirements;
  memset(&requirements, 0, sizeof(requirements));
  if (status == WEFT_OK) {
    vk->vkGetBufferMemoryRequirements(device->device, buffer->buffer, &requirements);
    if (!weft_vulkan_memory_type_choose(physical, memory_type, requirements.memoryTypeBits,
                                        &buffer->memory_type_index)) {
      status = WEFT_VULKAN_STATUS(
          host, WEFT_STATUS_UNSUPPORTED,
          "vulkan: '%s' has no %s memory type for buffers (allowed types 0x%x)",
          physical->caps.name,
          memory_type == WEFT_MEMORY_TYPE_DEVICE_LOCAL ? "device-local" : "host-visible",
          (unsigned)requirements.memoryTypeBits);
    }
  }
  if (status == WEFT_OK) {
    buffer->properties = physical->memory.memoryTypes[buffer->memory_type_index].propertyFlags;
    VkMemoryAllocateInfo allocate_info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = requirements.size,
        .memoryTypeIndex = buffer->memory_type_index,
    };
    result = vk->vkAllocateMemory(device->device, &allocate_info, NULL, &buffer->memory);
    if (result != VK_SUCCESS) {
      buffer->memory = VK_NULL_HANDLE;
      status = weft_vulkan_status_from_result(
          host, result, "vkAllocateMemory(%" PRIu64 " bytes, memory type %u)",
          (uint64_t)requirements.size, (unsigned)buffer->memory_type_index);
    }
  }
  if (status == WEFT_OK) {
    result = vk->vkBindBufferMemory(device->device, buffer->buffer, buffer->memory, 0);
    if (result != VK_SUCCESS) {
      status = weft_vulkan_status_from_result(host, result, "vkBindBufferMemory");
    }
  }
  if (status == WEFT_OK && (buffer->properties & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0) {
    result = vk->vkMapMemory(device->device, buffer->memory, 0, VK_WHOLE_SIZE, 0,
                             &buffer->mapped);
    if (result != VK_SUCCESS) {
      buffer->mapped = NULL;
      status = weft_vulkan_status_from_result(host, result, "vkMapMemory(%" PRIu64 " bytes)",
                                              (uint64_t)requirements.size);
    }
  }
  if (status != WEFT_OK) {
    weft_vulkan_buffer_release(device, buffer);
    return status;
  }
  *out_buffer = buffer;
  return WEFT_OK;
}

/* Flushes host writes (or invalidates before host reads) of a non-coherent
 * mapping. Ranges must be multiples of nonCoherentAtomSize (Vulkan 1.3 spec,
 * VkMappedMemoryRange valid usage), so the whole mapping is used: these
 * buffers are each their own allocation and the mapping covers it. */
static weft_status_t weft_vulkan_buffer_mapping_sync(weft_plugin_device_t* device,
                                                     weft_plugin_buffer_t* buffer,
                                                     bool host_wrote) {
  if ((buffer->properties & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0) {
    return WEFT_OK;
  }
  VkMappedMemoryRange range = {
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
      .memory = buffer->memory,
      .offset = 0,
      .size = VK_WHOLE_SIZE,
  };
  VkResult result = host_wrote
                        ? device->vk.vkFlushMappedMemoryRanges(device->device, 1, &range)
                        : device->vk.vkInvalidateMappedMemoryRanges(device->device, 1, &range);
  if (result != VK_SUCCESS) {
    return weft_vulkan_status_from_result(
        device->instance->host, result, "%s",
        host_wrote ? "vkFlushMappedMemoryRanges" : "vkInvalidateMappedMemoryRanges");
  }
  return WEFT_OK;
}

/* Whether transfers may use the buffer's own mapping. */
static bool weft_vulkan_buffer_direct(const weft_plugin_device_t* device,
                                      const weft_plugin_buffer_t* buffer) {
  return buffer->mapped != NULL && !device->instance->force_staging;
}

static weft_status_t weft_vulkan_staging_get(weft_plugin_device_t* device,
                                             weft_plugin_buffer_t** out_staging) {
  if (device->staging == NULL) {
    VkDeviceSize size = WEFT_VULKAN_STAGING_BYTES;
    if (device->physical->max_allocation != 0 && size > device->physical->max_allocation) {
      size = device->physical->max_allocation;
    }
    weft_status_t status =
        weft_vulkan_buffer_create(device, size, WEFT_MEMORY_TYPE_HOST_VISIBLE, &device->staging);
    if (status != WEFT_OK) {
      return status;
    }
  }
  *out_staging = device->staging;
  return WEFT_OK;
}

/* ---- recorded commands ---- */

typedef struct weft_vulkan_copy_args_t {
  VkBuffer src;
  VkBuffer dst;
  uint32_t region_count;
  VkBufferCopy regions[3];
} weft_vulkan_copy_args_t;

static void weft_vulkan_record_copy(weft_plugin_device_t* device, void* user) {
  const weft_vulkan_copy_args_t* args = user;
  device->vk.vkCmdCopyBuffer(device->command_buffer, args->src, args->dst, args->region_count,
                             args->regions);
}

typedef struct weft_vulkan_fill_args_t {
  VkBuffer buffer;
  VkDeviceSize offset; /* multiple of 4 */
  VkDeviceSize size;   /* multiple of 4; 0: no fill */
  uint32_t word;
  weft_vulkan_copy_args_t edges; /* unaligned head and tail from staging */
} weft_vulkan_fill_args_t;

static void weft_vulkan_record_fill(weft_plugin_device_t* device, void* user) {
  const weft_vulkan_fill_args_t* args = user;
  if (args->size > 0) {
    device->vk.vkCmdFillBuffer(device->command_buffer, args->buffer, args->offset, args->size,
                               args->word);
  }
  if (args->edges.region_count > 0) {
    weft_vulkan_record_copy(device, (void*)&args->edges);
  }
}

/* ---- the buffer interface ---- */

weft_status_t weft_vulkan_buffer_allocate(weft_plugin_device_t* device,
                                          const weft_buffer_params_t* params,
                                          weft_plugin_buffer_t** out_buffer) {
  const weft_host_services_t* host = device->instance->host;
  if (params == NULL || out_buffer == NULL) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: buffer_allocate called without %s",
                              params == NULL ? "params" : "out_buffer");
  }
  *out_buffer = NULL;
  if (!WEFT_ABI_HAS_MEMBER(params, weft_buffer_params_t, alignment)) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INCOMPATIBLE,
                              "vulkan: buffer params of %u bytes are smaller than ABI 1.0's",
                              (unsigned)params->struct_size);
  }
  if (params->memory_type != WEFT_MEMORY_TYPE_DEVICE_LOCAL &&
      params->memory_type != WEFT_MEMORY_TYPE_HOST_VISIBLE) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: unknown memory type %u", (unsigned)params->memory_type);
  }
  if (params->size == 0) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: buffer size must be > 0, got 0");
  }
  /* Each buffer is its own allocation at offset 0, and allocations meet
   * every alignment the device has; any power of two is honoured. */
  if ((params->alignment & (params->alignment - 1)) != 0) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: buffer alignment %" PRIu64 " is not a power of two",
                              params->alignment);
  }
  const weft_vulkan_physical_t* physical = device->physical;
  if (physical->max_allocation != 0 && params->size > physical->max_allocation) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_RESOURCE_EXHAUSTED,
                              "vulkan: buffer of %" PRIu64 " bytes exceeds '%s' "
                              "maxMemoryAllocationSize of %" PRIu64 " bytes",
                              params->size, physical->caps.name,
                              (uint64_t)physical->max_allocation);
  }
  weft_plugin_buffer_t* buffer = NULL;
  weft_status_t status = weft_vulkan_buffer_create(device, params->size, params->memory_type,
                                                   &buffer);
  if (status != WEFT_OK) {
    return status;
  }
  buffer->next = device->buffers;
  if (device->buffers != NULL) {
    device->buffers->prev = buffer;
  }
  device->buffers = buffer;
  *out_buffer = buffer;
  return WEFT_OK;
}

void weft_vulkan_buffer_free(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
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
  /* Transfers are blocking, so the device is not using the buffer. */
  weft_vulkan_buffer_release(device, buffer);
}

weft_status_t weft_vulkan_buffer_map(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer,
                                     void** out_ptr) {
  const weft_host_services_t* host = device->instance->host;
  if (buffer == NULL || out_ptr == NULL) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: buffer_map called without %s",
                              buffer == NULL ? "a buffer" : "out_ptr");
  }
  *out_ptr = NULL;
  if (buffer->mapped == NULL) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_UNSUPPORTED,
                              "vulkan: buffer of %" PRIu64 " bytes on '%s' is in memory the "
                              "host cannot map (memory type %u, flags 0x%x); use "
                              "upload/download",
                              (uint64_t)buffer->size, device->physical->caps.name,
                              (unsigned)buffer->memory_type_index,
                              (unsigned)buffer->properties);
  }
  weft_status_t status = weft_vulkan_buffer_mapping_sync(device, buffer, false);
  if (status != WEFT_OK) {
    return status;
  }
  *out_ptr = buffer->mapped;
  return WEFT_OK;
}

void weft_vulkan_buffer_unmap(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer) {
  if (buffer == NULL || buffer->mapped == NULL) {
    return;
  }
  /* The mapping itself stays; the host's writes are made visible. unmap
   * cannot report, so a failed flush is logged. */
  weft_status_t status = weft_vulkan_buffer_mapping_sync(device, buffer, true);
  if (status != WEFT_OK) {
    const weft_host_services_t* host = device->instance->host;
    host->log(host->host_ctx, WEFT_LOG_LEVEL_ERROR, "unmap: %s",
              host->status_message(host->host_ctx, status));
    host->status_free(host->host_ctx, status);
  }
}

weft_status_t weft_vulkan_buffer_upload(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* buffer, uint64_t offset,
                                        const void* src, uint64_t size) {
  weft_status_t status = weft_vulkan_buffer_range_check(device, buffer, offset, size, "upload");
  if (status != WEFT_OK || size == 0) {
    return status;
  }
  if (src == NULL) {
    return WEFT_VULKAN_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: upload of %" PRIu64 " bytes from NULL", size);
  }
  if (weft_vulkan_buffer_direct(device, buffer)) {
    memcpy((uint8_t*)buffer->mapped + offset, src, (size_t)size);
    return weft_vulkan_buffer_mapping_sync(device, buffer, true);
  }
  weft_plugin_buffer_t* staging = NULL;
  status = weft_vulkan_staging_get(device, &staging);
  for (uint64_t done = 0; status == WEFT_OK && done < size;) {
    uint64_t n = size - done < staging->size ? size - done : staging->size;
    memcpy(staging->mapped, (const uint8_t*)src + done, (size_t)n);
    status = weft_vulkan_buffer_mapping_sync(device, staging, true);
    if (status == WEFT_OK) {
      weft_vulkan_copy_args_t args = {
          .src = staging->buffer,
          .dst = buffer->buffer,
          .region_count = 1,
          .regions = {{.srcOffset = 0, .dstOffset = offset + done, .size = n}},
      };
      status = weft_vulkan_device_run_transfer(device, weft_vulkan_record_copy, &args, "upload");
    }
    done += n;
  }
  return status;
}

weft_status_t weft_vulkan_buffer_download(weft_plugin_device_t* device,
                                          weft_plugin_buffer_t* buffer, uint64_t offset,
                                          void* dst, uint64_t size) {
  weft_status_t status =
      weft_vulkan_buffer_range_check(device, buffer, offset, size, "download");
  if (status != WEFT_OK || size == 0) {
    return status;
  }
  if (dst == NULL) {
    return WEFT_VULKAN_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: download of %" PRIu64 " bytes to NULL", size);
  }
  if (weft_vulkan_buffer_direct(device, buffer)) {
    status = weft_vulkan_buffer_mapping_sync(device, buffer, false);
    if (status == WEFT_OK) {
      memcpy(dst, (const uint8_t*)buffer->mapped + offset, (size_t)size);
    }
    return status;
  }
  weft_plugin_buffer_t* staging = NULL;
  status = weft_vulkan_staging_get(device, &staging);
  for (uint64_t done = 0; status == WEFT_OK && done < size;) {
    uint64_t n = size - done < staging->size ? size - done : staging->size;
    weft_vulkan_copy_args_t args = {
        .src = buffer->buffer,
        .dst = staging->buffer,
        .region_count = 1,
        .regions = {{.srcOffset = offset + done, .dstOffset = 0, .size = n}},
    };
    status = weft_vulkan_device_run_transfer(device, weft_vulkan_record_copy, &args, "download");
    if (status == WEFT_OK) {
      status = weft_vulkan_buffer_mapping_sync(device, staging, false);
    }
    if (status == WEFT_OK) {
      memcpy((uint8_t*)dst + done, staging->mapped, (size_t)n);
    }
    done += n;
  }
  return status;
}

weft_status_t weft_vulkan_buffer_copy(weft_plugin_device_t* device, weft_plugin_buffer_t* src,
                                      uint64_t src_offset, weft_plugin_buffer_t* dst,
                                      uint64_t dst_offset, uint64_t size) {
  weft_status_t status =
      weft_vulkan_buffer_range_check(device, src, src_offset, size, "copy source");
  if (status == WEFT_OK) {
    status = weft_vulkan_buffer_range_check(device, dst, dst_offset, size, "copy destination");
  }
  if (status != WEFT_OK || size == 0) {
    return status;
  }
  /* vkCmdCopyBuffer forbids overlapping regions (Vulkan 1.3 spec,
   * vkCmdCopyBuffer valid usage); the other plugins refuse them alike. */
  if (src == dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
    return WEFT_VULKAN_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: copy within one buffer with overlapping ranges "
                              "[%" PRIu64 ", +%" PRIu64 ") and [%" PRIu64 ", +%" PRIu64 ")",
                              src_offset, size, dst_offset, size);
  }
  weft_vulkan_copy_args_t args = {
      .src = src->buffer,
      .dst = dst->buffer,
      .region_count = 1,
      .regions = {{.srcOffset = src_offset, .dstOffset = dst_offset, .size = size}},
  };
  return weft_vulkan_device_run_transfer(device, weft_vulkan_record_copy, &args, "copy");
}

weft_status_t weft_vulkan_buffer_fill(weft_plugin_device_t* device,
                                      weft_plugin_buffer_t* buffer, uint64_t offset,
                                      uint64_t size, const void* pattern,
                                      uint32_t pattern_size) {
  const weft_host_services_t* host = device->instance->host;
  weft_status_t status = weft_vulkan_buffer_range_check(device, buffer, offset, size, "fill");
  if (status != WEFT_OK) {
    return status;
  }
  if (pattern == NULL || (pattern_size != 1 && pattern_size != 2 && pattern_size != 4)) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: fill pattern must be 1, 2 or 4 bytes, got %u%s",
                              (unsigned)pattern_size, pattern == NULL ? " at NULL" : "");
  }
  if (size == 0) {
    return WEFT_OK;
  }
  const uint8_t* bytes = pattern;
  if (weft_vulkan_buffer_direct(device, buffer)) {
    uint8_t* target = (uint8_t*)buffer->mapped + offset;
    for (uint64_t i = 0; i < size; ++i) {
      target[i] = bytes[i % pattern_size];
    }
    return weft_vulkan_buffer_mapping_sync(device, buffer, true);
  }
  /* vkCmdFillBuffer writes 4-byte words at 4-byte aligned offsets (Vulkan
   * 1.3 spec, vkCmdFillBuffer valid usage). The aligned middle is filled with
   * the pattern as it falls at that offset; the unaligned head and tail
   * (fewer than 4 bytes each) are copied from the staging buffer, where
   * vkCmdCopyBuffer has no alignment rule. */
  const uint64_t end = offset + size;
  uint64_t middle_begin = (offset + 3) & ~(uint64_t)3;
  uint64_t middle_end = end & ~(uint64_t)3;
  if (middle_begin >= middle_end) {
    middle_begin = middle_end = end; /* no whole word: all of it is an edge */
  }
  weft_vulkan_fill_args_t args;
  memset(&args, 0, sizeof(args));
  args.buffer = buffer->buffer;
  args.offset = middle_begin;
  args.size = middle_end - middle_begin;
  uint8_t word[4];
  for (uint32_t k = 0; k < 4; ++k) {
    word[k] = bytes[(middle_begin - offset + k) % pattern_size];
  }
  memcpy(&args.word, word, sizeof(word)); /* the bytes in memory order */

  const uint64_t head_end = middle_begin < end ? middle_begin : end;
  const uint64_t tail_begin = middle_end > head_end ? middle_end : head_end;
  if (head_end > offset || end > tail_begin) {
    weft_plugin_buffer_t* staging = NULL;
    status = weft_vulkan_staging_get(device, &staging);
    if (status != WEFT_OK) {
      return status;
    }
    /* Head bytes at staging[0..], tail bytes at staging[8..]; each < 8. */
    uint8_t* stage = staging->mapped;
    args.edges.src = staging->buffer;
    args.edges.dst = buffer->buffer;
    if (head_end > offset) {
      for (uint64_t i = offset; i < head_end; ++i) {
        stage[i - offset] = bytes[(i - offset) % pattern_size];
      }
      args.edges.regions[args.edges.region_count++] =
          (VkBufferCopy){.srcOffset = 0, .dstOffset = offset, .size = head_end - offset};
    }
    if (end > tail_begin) {
      for (uint64_t i = tail_begin; i < end; ++i) {
        stage[8 + (i - tail_begin)] = bytes[(i - offset) % pattern_size];
      }
      args.edges.regions[args.edges.region_count++] =
          (VkBufferCopy){.srcOffset = 8, .dstOffset = tail_begin, .size = end - tail_begin};
    }
    status = weft_vulkan_buffer_mapping_sync(device, staging, true);
    if (status != WEFT_OK) {
      return status;
    }
  }
  return weft_vulkan_device_run_transfer(device, weft_vulkan_record_fill, &args, "fill");
}
