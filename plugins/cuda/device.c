/* The CUDA plugin: device enumeration, capability records, device
 * open/close, op support, submission and memory queries. See
 * cuda_plugin.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cuda_plugin.h"

static void weft_cuda_text_format(char* text, size_t cap, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
static void weft_cuda_text_format(char* text, size_t cap, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(text, cap, format, args);
  va_end(args);
}

static void weft_cuda_text_append(char* text, size_t cap, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
static void weft_cuda_text_append(char* text, size_t cap, const char* format, ...) {
  size_t used = strlen(text);
  if (used + 1 >= cap) {
    return;
  }
  if (used > 0) {
    text[used++] = ' ';
    text[used] = '\0';
  }
  va_list args;
  va_start(args, format);
  vsnprintf(text + used, cap - used, format, args);
  va_end(args);
}

/* An attribute, or 0 when the driver does not know it (older drivers lack
 * the newer attributes; 0 reads as "absent" for every one used here). */
static int weft_cuda_attribute(const weft_cuda_loader_t* loader, CUdevice device,
                               CUdevice_attribute attribute) {
  int value = 0;
  if (loader->cuDeviceGetAttribute(&value, attribute, device) != CUDA_SUCCESS) {
    return 0;
  }
  return value;
}

/* The kernel module's version ("550.54.15") from /proc/driver/nvidia/version,
 * which the driver API does not report; false where it is not readable. */
static bool weft_cuda_kernel_module_version(char* out, size_t cap) {
  FILE* file = fopen("/proc/driver/nvidia/version", "r");
  if (file == NULL) {
    return false;
  }
  char line[512];
  bool found = false;
  /* "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  <date>" or
   * "... Open Kernel Module for x86_64  550.54.15  Release Build ...". */
  if (fgets(line, sizeof(line), file) != NULL) {
    const char* p = strstr(line, "Kernel Module");
    while (p != NULL && *p != '\0' && !found) {
      p += strcspn(p, " ");
      p += strspn(p, " ");
      if (*p >= '0' && *p <= '9') {
        size_t length = strcspn(p, " \t\n");
        if (length > 0 && length < cap) {
          memcpy(out, p, length);
          out[length] = '\0';
          found = true;
        }
      }
    }
  }
  fclose(file);
  return found;
}

static weft_status_t weft_cuda_physical_describe(weft_plugin_instance_t* instance,
                                                 weft_cuda_physical_t* physical,
                                                 uint32_t index) {
  const weft_host_services_t* host = instance->host;
  const weft_cuda_loader_t* loader = &instance->loader;
  CUdevice device = physical->device;
  char name[256];
  CUresult result = loader->cuDeviceGetName(name, (int)sizeof(name), device);
  if (result != CUDA_SUCCESS) {
    return weft_cuda_status_from_result(host, loader, result, "cuDeviceGetName(device %u)",
                                        (unsigned)index);
  }
  name[sizeof(name) - 1] = '\0';
  size_t total = 0;
  result = loader->cuDeviceTotalMem_v2(&total, device);
  if (result != CUDA_SUCCESS) {
    return weft_cuda_status_from_result(host, loader, result, "cuDeviceTotalMem(device %u)",
                                        (unsigned)index);
  }

  weft_device_caps_t* caps = &physical->caps;
  memset(caps, 0, sizeof(*caps));
  caps->struct_size = (uint32_t)sizeof(*caps);
  /* Scores per docs/abi.md "Scores". */
  if (weft_cuda_attribute(loader, device, CU_DEVICE_ATTRIBUTE_INTEGRATED) != 0) {
    caps->type = WEFT_DEVICE_TYPE_INTEGRATED_GPU; /* Jetson, Grace-coupled parts */
    caps->score = 600;
    caps->flags |= WEFT_DEVICE_FLAG_UNIFIED_MEMORY;
  } else {
    caps->type = WEFT_DEVICE_TYPE_GPU;
    caps->score = 1000;
  }
  weft_cuda_text_format(caps->name, sizeof(caps->name), "%s", name);
  weft_cuda_text_format(caps->vendor, sizeof(caps->vendor), "NVIDIA");
  const int version = instance->driver_version;
  char module[32];
  if (weft_cuda_kernel_module_version(module, sizeof(module))) {
    weft_cuda_text_format(caps->driver, sizeof(caps->driver), "NVIDIA %s (CUDA %d.%d)", module,
                          version / 1000, (version % 1000) / 10);
  } else {
    weft_cuda_text_format(caps->driver, sizeof(caps->driver), "NVIDIA (CUDA %d.%d)",
                          version / 1000, (version % 1000) / 10);
  }
  caps->vendor_id = 0x10DE;
  /* The driver API has no PCI device id; the PCI address it does have. */
  weft_cuda_text_format(caps->stable_id, sizeof(caps->stable_id), "pci:%04x:%02x:%02x.0",
                        (unsigned)weft_cuda_attribute(loader, device,
                                                      CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID),
                        (unsigned)weft_cuda_attribute(loader, device,
                                                      CU_DEVICE_ATTRIBUTE_PCI_BUS_ID),
                        (unsigned)weft_cuda_attribute(loader, device,
                                                      CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID));
  CUuuid uuid;
  if (loader->cuDeviceGetUuid_v2(&uuid, device) == CUDA_SUCCESS) {
    memcpy(caps->uuid, uuid.bytes, sizeof(caps->uuid));
    caps->flags |= WEFT_DEVICE_FLAG_HAS_UUID;
  }
  caps->compute_units =
      (uint32_t)weft_cuda_attribute(loader, device, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  caps->memory_total = total;
  /* memory_free needs a context (cuMemGetInfo); device_memory_query has it. */
  caps->dtypes = WEFT_CUDA_DTYPES;

  const int major =
      weft_cuda_attribute(loader, device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
  const int minor =
      weft_cuda_attribute(loader, device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
  const int cc = major * 10 + minor;
  const int warp = weft_cuda_attribute(loader, device, CU_DEVICE_ATTRIBUTE_WARP_SIZE);
  char* text = caps->features_text;
  const size_t cap = sizeof(caps->features_text);
  weft_cuda_text_append(text, cap, "sm_%d%d", major, minor);
  /* Feature floors from the CUDA C++ Programming Guide, "Compute
   * Capabilities": warp shuffles 3.0, half arithmetic 5.3, dp4a 6.1, tensor
   * cores 7.0 (int8 from 7.2), bf16 8.0. */
  if (warp > 0) {
    weft_cuda_text_append(text, cap, "subgroup=%d", warp);
    caps->features |= WEFT_DEVICE_FEATURE_SUBGROUPS;
  }
  if (cc >= 53) {
    caps->features |= WEFT_DEVICE_FEATURE_FP16_ARITH;
    weft_cuda_text_append(text, cap, "fp16");
  }
  if (cc >= 80) {
    caps->features |= WEFT_DEVICE_FEATURE_BF16_ARITH;
    weft_cuda_text_append(text, cap, "bf16");
  }
  if (cc >= 61) {
    caps->features |= WEFT_DEVICE_FEATURE_INT8_DOT;
    weft_cuda_text_append(text, cap, "int8dot");
  }
  if (cc >= 70) {
    caps->features |= WEFT_DEVICE_FEATURE_COOP_MATRIX;
    weft_cuda_text_append(text, cap, "tensorcore");
  }
  if (cc >= 72) {
    caps->features |= WEFT_DEVICE_FEATURE_INT8_MATMUL;
    weft_cuda_text_append(text, cap, "int8mma");
  }
  return WEFT_OK;
}

weft_status_t weft_cuda_physical_enumerate(weft_plugin_instance_t* instance) {
  const weft_host_services_t* host = instance->host;
  const weft_cuda_loader_t* loader = &instance->loader;
  int count = 0;
  CUresult result = loader->cuDeviceGetCount(&count);
  if (result != CUDA_SUCCESS) {
    return weft_cuda_status_from_result(host, loader, result, "cuDeviceGetCount");
  }
  if (count <= 0) {
    return WEFT_OK;
  }
  weft_cuda_physical_t* list =
      host->alloc(host->host_ctx, (size_t)count * sizeof(*list), 0);
  if (list == NULL) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                            "cuda: out of memory listing %d devices", count);
  }
  memset(list, 0, (size_t)count * sizeof(*list));
  weft_status_t status = WEFT_OK;
  for (int i = 0; status == WEFT_OK && i < count; ++i) {
    result = loader->cuDeviceGet(&list[i].device, i);
    if (result != CUDA_SUCCESS) {
      status = weft_cuda_status_from_result(host, loader, result, "cuDeviceGet(%d)", i);
    } else {
      status = weft_cuda_physical_describe(instance, &list[i], (uint32_t)i);
    }
  }
  if (status != WEFT_OK) {
    host->free(host->host_ctx, list);
    return status;
  }
  instance->physical = list;
  instance->physical_count = (uint32_t)count;
  return WEFT_OK;
}

/* ---- the device interface ---- */

uint32_t weft_cuda_device_count(weft_plugin_instance_t* instance) {
  return instance != NULL ? instance->physical_count : 0;
}

weft_status_t weft_cuda_device_query_caps(weft_plugin_instance_t* instance, uint32_t index,
                                          weft_device_caps_t* inout_caps) {
  const weft_host_services_t* host = instance->host;
  if (index >= instance->physical_count) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_OUT_OF_RANGE,
                            "cuda: device index %u out of range (%u devices)", (unsigned)index,
                            (unsigned)instance->physical_count);
  }
  if (inout_caps == NULL) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: device_query_caps called without caps");
  }
  if (!WEFT_ABI_HAS_MEMBER(inout_caps, weft_device_caps_t, reserved0)) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INCOMPATIBLE,
                            "cuda: caps record of %u bytes is smaller than ABI 1.0's",
                            (unsigned)inout_caps->struct_size);
  }
  weft_device_caps_write(inout_caps, &instance->physical[index].caps);
  return WEFT_OK;
}

weft_status_t weft_cuda_context_enter(weft_plugin_device_t* device) {
  const weft_plugin_instance_t* instance = device->instance;
  CUresult result = instance->loader.cuCtxPushCurrent_v2(device->context);
  if (result != CUDA_SUCCESS) {
    return weft_cuda_status_from_result(instance->host, &instance->loader, result,
                                        "cuCtxPushCurrent('%s')", device->physical->caps.name);
  }
  return WEFT_OK;
}

void weft_cuda_context_leave(weft_plugin_device_t* device) {
  CUcontext popped = NULL;
  (void)device->instance->loader.cuCtxPopCurrent_v2(&popped);
}

weft_status_t weft_cuda_device_open(weft_plugin_instance_t* instance, uint32_t index,
                                    weft_plugin_device_t** out_device) {
  const weft_host_services_t* host = instance->host;
  if (out_device == NULL) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: device_open called without out_device");
  }
  *out_device = NULL;
  if (index >= instance->physical_count) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_OUT_OF_RANGE,
                            "cuda: device index %u out of range (%u devices)", (unsigned)index,
                            (unsigned)instance->physical_count);
  }
  weft_plugin_device_t* device = host->alloc(host->host_ctx, sizeof(*device), 0);
  if (device == NULL) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                            "cuda: out of memory opening device %u (%zu bytes)", (unsigned)index,
                            sizeof(*device));
  }
  memset(device, 0, sizeof(*device));
  device->instance = instance;
  device->index = index;
  device->physical = &instance->physical[index];
  /* The primary context is the one the CUDA runtime uses too, so buffers
   * are shareable with CUDA code in the same process. */
  CUresult result =
      instance->loader.cuDevicePrimaryCtxRetain(&device->context, device->physical->device);
  if (result != CUDA_SUCCESS) {
    weft_status_t status =
        weft_cuda_status_from_result(host, &instance->loader, result,
                                     "cuDevicePrimaryCtxRetain('%s')", device->physical->caps.name);
    host->free(host->host_ctx, device);
    return status;
  }
  host->log(host->host_ctx, WEFT_LOG_LEVEL_DEBUG, "opened device %u '%s'", (unsigned)index,
            device->physical->caps.name);
  *out_device = device;
  return WEFT_OK;
}

void weft_cuda_device_close(weft_plugin_device_t* device) {
  if (device == NULL) {
    return;
  }
  const weft_plugin_instance_t* instance = device->instance;
  const weft_host_services_t* host = instance->host;
  if (weft_cuda_context_enter(device) == WEFT_OK) {
    (void)instance->loader.cuCtxSynchronize();
    while (device->buffers != NULL) {
      weft_plugin_buffer_t* buffer = device->buffers;
      device->buffers = buffer->next;
      weft_cuda_buffer_release(device, buffer);
    }
    weft_cuda_context_leave(device);
  } else {
    /* The context is gone; so is its memory. Free the records alone. */
    while (device->buffers != NULL) {
      weft_plugin_buffer_t* buffer = device->buffers;
      device->buffers = buffer->next;
      host->free(host->host_ctx, buffer);
    }
  }
  (void)instance->loader.cuDevicePrimaryCtxRelease_v2(device->physical->device);
  host->free(host->host_ctx, device);
}

weft_status_t weft_cuda_device_op_query(weft_plugin_device_t* device, const weft_node_t* node,
                                        const weft_tensor_desc_t* const* tensors,
                                        uint32_t tensor_count,
                                        weft_op_support_t* out_support) {
  (void)tensors;
  (void)tensor_count;
  if (node == NULL || out_support == NULL) {
    return WEFT_CUDA_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: op_query called without %s",
                            node == NULL ? "a node" : "a result struct");
  }
  weft_op_support_refuse(out_support, node->op,
                         "kernels are not implemented in this plugin yet");
  return WEFT_OK;
}

weft_status_t weft_cuda_device_segment_submit(weft_plugin_device_t* device,
                                              const weft_segment_t* segment,
                                              weft_event_t* const* waits, uint32_t wait_count,
                                              weft_event_t* signal) {
  (void)waits;
  (void)wait_count;
  (void)signal;
  /* Refused before starting, so per the ABI the event is not signalled. */
  return WEFT_CUDA_STATUS(device->instance->host, WEFT_STATUS_UNIMPLEMENTED,
                          "cuda: segment execution is not implemented in this plugin yet "
                          "(segment of %u nodes on '%s')",
                          segment != NULL ? (unsigned)segment->node_count : 0u,
                          device->physical->caps.name);
}

weft_status_t weft_cuda_device_synchronize(weft_plugin_device_t* device) {
  weft_status_t status = weft_cuda_context_enter(device);
  if (status != WEFT_OK) {
    return status;
  }
  const weft_plugin_instance_t* instance = device->instance;
  CUresult result = instance->loader.cuCtxSynchronize();
  weft_cuda_context_leave(device);
  if (result != CUDA_SUCCESS) {
    return weft_cuda_status_from_result(instance->host, &instance->loader, result,
                                        "cuCtxSynchronize('%s')", device->physical->caps.name);
  }
  return WEFT_OK;
}

weft_status_t weft_cuda_device_memory_query(weft_plugin_device_t* device, uint64_t* out_free,
                                            uint64_t* out_total) {
  const weft_plugin_instance_t* instance = device->instance;
  if (out_free == NULL || out_total == NULL) {
    return WEFT_CUDA_STATUS(instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: device_memory_query called without %s",
                            out_free == NULL ? "out_free" : "out_total");
  }
  weft_status_t status = weft_cuda_context_enter(device);
  if (status != WEFT_OK) {
    return status;
  }
  size_t free_bytes = 0;
  size_t total_bytes = 0;
  CUresult result = instance->loader.cuMemGetInfo_v2(&free_bytes, &total_bytes);
  weft_cuda_context_leave(device);
  if (result != CUDA_SUCCESS) {
    return weft_cuda_status_from_result(instance->host, &instance->loader, result,
                                        "cuMemGetInfo('%s')", device->physical->caps.name);
  }
  *out_free = free_bytes;
  *out_total = total_bytes;
  return WEFT_OK;
}
