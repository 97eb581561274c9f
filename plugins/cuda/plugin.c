/* The CUDA plugin: entry point, plugin info, probe, instance and function
 * table. See cuda_plugin.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cuda_plugin.h"

static const weft_plugin_info_t weft_cuda_info = {
    .struct_size = sizeof(weft_plugin_info_t),
    .abi_version = WEFT_ABI_VERSION,
    .name = WEFT_CUDA_PLUGIN_NAME,
    .family = "cuda",
    .version = WEFT_CUDA_PLUGIN_VERSION,
    .description = "NVIDIA GPUs through the CUDA driver API (libcuda.so.1)",
    .built_for = "CUDA driver API",
    .min_driver = "NVIDIA driver for CUDA 11.0",
    .variant_score = 0,
    .reserved0 = 0,
};

static void weft_cuda_plugin_probe_refuse(weft_probe_result_t* out_result, const char* format,
                                          ...) __attribute__((format(printf, 2, 3)));
static void weft_cuda_plugin_probe_refuse(weft_probe_result_t* out_result, const char* format,
                                          ...) {
  out_result->available = 0;
  out_result->device_count = 0;
  if (WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, reason)) {
    va_list args;
    va_start(args, format);
    vsnprintf(out_result->reason, sizeof(out_result->reason), format, args);
    va_end(args);
  }
}

/* What to tell a person whose driver will not start. */
static const char* weft_cuda_plugin_init_advice(CUresult result) {
  switch (result) {
    case CUDA_ERROR_NO_DEVICE:
      return "no NVIDIA GPU is visible to this process (check CUDA_VISIBLE_DEVICES)";
    case (CUresult)34: /* CUDA_ERROR_STUB_LIBRARY; newer than some headers */
      return "libcuda.so.1 is the CUDA toolkit's stub library, not a driver; install the "
             "NVIDIA driver";
    case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
    case CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
      return "the NVIDIA driver and its kernel module do not match; update the driver or "
             "reboot";
    default:
      return "check that the NVIDIA kernel module is loaded and /dev/nvidia* is accessible";
  }
}

/* Counts devices without creating a context: cuInit and cuDeviceGetCount
 * only (docs/abi.md, "Probe"). */
static weft_status_t weft_cuda_plugin_probe(const weft_host_services_t* host,
                                            weft_probe_result_t* out_result) {
  if (out_result == NULL ||
      !WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, device_count)) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: probe called without a result struct large enough for "
                            "ABI 1.0");
  }
  weft_cuda_loader_t loader;
  weft_status_t status = weft_cuda_loader_open(host, &loader);
  if (status != WEFT_OK) {
    if (host->status_code(host->host_ctx, status) != WEFT_STATUS_UNAVAILABLE) {
      return status;
    }
    weft_cuda_plugin_probe_refuse(out_result, "%s",
                                  host->status_message(host->host_ctx, status));
    host->status_free(host->host_ctx, status);
    return WEFT_OK;
  }
  CUresult result = loader.cuInit(0);
  int count = 0;
  if (result != CUDA_SUCCESS) {
    weft_cuda_plugin_probe_refuse(out_result, "%s: cuInit returned %s (%d); %s",
                                  result == CUDA_ERROR_NO_DEVICE ? "no CUDA device"
                                                                 : "the CUDA driver cannot start",
                                  weft_cuda_error_name(&loader, result), (int)result,
                                  weft_cuda_plugin_init_advice(result));
  } else if ((result = loader.cuDeviceGetCount(&count)) != CUDA_SUCCESS) {
    weft_cuda_plugin_probe_refuse(out_result,
                                  "the CUDA driver cannot list devices: cuDeviceGetCount "
                                  "returned %s (%d)",
                                  weft_cuda_error_name(&loader, result), (int)result);
  } else if (count <= 0) {
    weft_cuda_plugin_probe_refuse(out_result,
                                  "no CUDA device: cuDeviceGetCount returned 0 devices");
  } else {
    out_result->available = 1;
    out_result->device_count = (uint32_t)count;
    if (WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, reason)) {
      out_result->reason[0] = '\0';
    }
  }
  weft_cuda_loader_close(&loader);
  return WEFT_OK;
}

static weft_status_t weft_cuda_plugin_instance_create(const weft_host_services_t* host,
                                                      weft_plugin_instance_t** out_instance) {
  if (out_instance == NULL) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                            "cuda: instance_create called without out_instance");
  }
  *out_instance = NULL;
  weft_plugin_instance_t* instance = host->alloc(host->host_ctx, sizeof(*instance), 0);
  if (instance == NULL) {
    return WEFT_CUDA_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                            "cuda: out of memory allocating the instance (%zu bytes)",
                            sizeof(*instance));
  }
  memset(instance, 0, sizeof(*instance));
  instance->host = host;
  weft_status_t status = weft_cuda_loader_open(host, &instance->loader);
  if (status == WEFT_OK) {
    CUresult result = instance->loader.cuInit(0);
    if (result != CUDA_SUCCESS) {
      status = weft_cuda_status_from_result(host, &instance->loader, result, "cuInit");
    }
  }
  if (status == WEFT_OK) {
    CUresult result = instance->loader.cuDriverGetVersion(&instance->driver_version);
    if (result != CUDA_SUCCESS) {
      status = weft_cuda_status_from_result(host, &instance->loader, result,
                                            "cuDriverGetVersion");
    }
  }
  if (status == WEFT_OK) {
    status = weft_cuda_physical_enumerate(instance);
  }
  if (status != WEFT_OK) {
    host->free(host->host_ctx, instance->physical);
    weft_cuda_loader_close(&instance->loader);
    host->free(host->host_ctx, instance);
    return status;
  }
  host->log(host->host_ctx, WEFT_LOG_LEVEL_DEBUG, "instance created: CUDA %d.%d driver, %u devices",
            instance->driver_version / 1000, (instance->driver_version % 1000) / 10,
            (unsigned)instance->physical_count);
  *out_instance = instance;
  return WEFT_OK;
}

static void weft_cuda_plugin_instance_destroy(weft_plugin_instance_t* instance) {
  if (instance == NULL) {
    return;
  }
  /* The host closes every device first, which releases the primary
   * contexts; the plugin starts no threads of its own. */
  const weft_host_services_t* host = instance->host;
  host->free(host->host_ctx, instance->physical);
  weft_cuda_loader_close(&instance->loader);
  host->free(host->host_ctx, instance);
}

static const weft_plugin_interface_t weft_cuda_interface = {
    .struct_size = sizeof(weft_plugin_interface_t),
    .reserved0 = 0,
    .info = &weft_cuda_info,
    /* ABI 1.0 */
    .probe = weft_cuda_plugin_probe,
    .instance_create = weft_cuda_plugin_instance_create,
    .instance_destroy = weft_cuda_plugin_instance_destroy,
    .device_count = weft_cuda_device_count,
    .device_query_caps = weft_cuda_device_query_caps,
    .device_open = weft_cuda_device_open,
    .device_close = weft_cuda_device_close,
    .buffer_allocate = weft_cuda_buffer_allocate,
    .buffer_free = weft_cuda_buffer_free,
    .buffer_map = weft_cuda_buffer_map,
    .buffer_unmap = weft_cuda_buffer_unmap,
    .buffer_upload = weft_cuda_buffer_upload,
    .buffer_download = weft_cuda_buffer_download,
    .buffer_copy = weft_cuda_buffer_copy,
    .buffer_fill = weft_cuda_buffer_fill,
    .op_query = weft_cuda_device_op_query,
    .segment_submit = weft_cuda_device_segment_submit,
    .synchronize = weft_cuda_device_synchronize,
    /* ABI 1.1 */
    .device_memory_query = weft_cuda_device_memory_query,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* negotiation) {
  return weft_plugin_negotiate_default(negotiation, &weft_cuda_interface);
}
