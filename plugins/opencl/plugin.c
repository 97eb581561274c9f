/* The OpenCL plugin: entry point, plugin info, probe, instance and function
 * table. See opencl_plugin.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "opencl_plugin.h"

static const weft_plugin_info_t weft_opencl_info = {
    .struct_size = sizeof(weft_plugin_info_t),
    .abi_version = WEFT_ABI_VERSION,
    .name = WEFT_OPENCL_PLUGIN_NAME,
    .family = "opencl",
    .version = WEFT_OPENCL_PLUGIN_VERSION,
    .description = "OpenCL 1.2+ devices through the system's OpenCL ICD loader",
    .built_for = "OpenCL 1.2+",
    .min_driver = "OpenCL 1.2 ICD loader and driver",
    .variant_score = 0,
    .reserved0 = 0,
};

static void weft_opencl_plugin_probe_refuse(weft_probe_result_t* out_result,
                                            const char* format, ...)
    __attribute__((format(printf, 2, 3)));
static void weft_opencl_plugin_probe_refuse(weft_probe_result_t* out_result,
                                            const char* format, ...) {
  out_result->available = 0;
  out_result->device_count = 0;
  if (WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, reason)) {
    va_list args;
    va_start(args, format);
    vsnprintf(out_result->reason, sizeof(out_result->reason), format, args);
    va_end(args);
  }
}

/* Counts devices the way instance_create will, then closes libOpenCL.so.1
 * again. Listing platforms and devices creates no context (docs/abi.md,
 * "Probe"); the ICD loader does load the drivers to ask them. */
static weft_status_t weft_opencl_plugin_probe(const weft_host_services_t* host,
                                              weft_probe_result_t* out_result) {
  if (out_result == NULL ||
      !WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, device_count)) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: probe called without a result struct large "
                              "enough for ABI 1.0");
  }
  weft_opencl_loader_t loader;
  weft_status_t status = weft_opencl_loader_open(host, &loader);
  if (status != WEFT_OK) {
    if (host->status_code(host->host_ctx, status) != WEFT_STATUS_UNAVAILABLE) {
      return status;
    }
    weft_opencl_plugin_probe_refuse(out_result, "%s",
                                    host->status_message(host->host_ctx, status));
    host->status_free(host->host_ctx, status);
    return WEFT_OK;
  }
  weft_opencl_physical_t* physical = NULL;
  uint32_t count = 0;
  uint32_t total = 0;
  uint32_t platforms = 0;
  cl_int platform_error = CL_SUCCESS;
  status = weft_opencl_physical_enumerate(host, &loader, false, &physical, &count, &total,
                                          &platforms, &platform_error);
  host->free(host->host_ctx, physical);
  weft_opencl_loader_close(&loader);
  if (status != WEFT_OK) {
    return status;
  }
  if (platforms == 0) {
    weft_opencl_plugin_probe_refuse(
        out_result,
        "no OpenCL platform: clGetPlatformIDs returned %s (%d); install a driver "
        "(e.g. pocl-opencl-icd) or check OCL_ICD_VENDORS",
        platform_error != CL_SUCCESS ? weft_opencl_error_name(platform_error) : "0 platforms",
        (int)platform_error);
    return WEFT_OK;
  }
  if (count == 0) {
    weft_opencl_plugin_probe_refuse(
        out_result,
        "no usable OpenCL device: %u devices on %u platforms, none both available and "
        "OpenCL 1.2 or newer",
        (unsigned)total, (unsigned)platforms);
    return WEFT_OK;
  }
  out_result->available = 1;
  out_result->device_count = count;
  if (WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, reason)) {
    out_result->reason[0] = '\0';
  }
  return WEFT_OK;
}

static weft_status_t weft_opencl_plugin_instance_create(
    const weft_host_services_t* host, weft_plugin_instance_t** out_instance) {
  if (out_instance == NULL) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: instance_create called without out_instance");
  }
  *out_instance = NULL;
  weft_plugin_instance_t* instance = host->alloc(host->host_ctx, sizeof(*instance), 0);
  if (instance == NULL) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                              "opencl: out of memory allocating the instance (%zu bytes)",
                              sizeof(*instance));
  }
  memset(instance, 0, sizeof(*instance));
  instance->host = host;
  uint32_t total = 0;
  uint32_t platforms = 0;
  cl_int platform_error = CL_SUCCESS;
  weft_status_t status = weft_opencl_loader_open(host, &instance->loader);
  if (status == WEFT_OK) {
    status = weft_opencl_physical_enumerate(host, &instance->loader, true, &instance->physical,
                                            &instance->physical_count, &total, &platforms,
                                            &platform_error);
  }
  if (status != WEFT_OK) {
    weft_opencl_loader_close(&instance->loader);
    host->free(host->host_ctx, instance);
    return status;
  }
  host->log(host->host_ctx, WEFT_LOG_LEVEL_DEBUG,
            "instance created: %u of %u devices usable on %u platforms",
            (unsigned)instance->physical_count, (unsigned)total, (unsigned)platforms);
  *out_instance = instance;
  return WEFT_OK;
}

static void weft_opencl_plugin_instance_destroy(weft_plugin_instance_t* instance) {
  if (instance == NULL) {
    return;
  }
  /* The host closes every device first; the plugin starts no threads. */
  const weft_host_services_t* host = instance->host;
  host->free(host->host_ctx, instance->physical);
  weft_opencl_loader_close(&instance->loader);
  host->free(host->host_ctx, instance);
}

static const weft_plugin_interface_t weft_opencl_interface = {
    .struct_size = sizeof(weft_plugin_interface_t),
    .reserved0 = 0,
    .info = &weft_opencl_info,
    /* ABI 1.0 */
    .probe = weft_opencl_plugin_probe,
    .instance_create = weft_opencl_plugin_instance_create,
    .instance_destroy = weft_opencl_plugin_instance_destroy,
    .device_count = weft_opencl_device_count,
    .device_query_caps = weft_opencl_device_query_caps,
    .device_open = weft_opencl_device_open,
    .device_close = weft_opencl_device_close,
    .buffer_allocate = weft_opencl_buffer_allocate,
    .buffer_free = weft_opencl_buffer_free,
    .buffer_map = weft_opencl_buffer_map,
    .buffer_unmap = weft_opencl_buffer_unmap,
    .buffer_upload = weft_opencl_buffer_upload,
    .buffer_download = weft_opencl_buffer_download,
    .buffer_copy = weft_opencl_buffer_copy,
    .buffer_fill = weft_opencl_buffer_fill,
    .op_query = weft_opencl_device_op_query,
    .segment_submit = weft_opencl_device_segment_submit,
    .synchronize = weft_opencl_device_synchronize,
    /* ABI 1.1 */
    .device_memory_query = weft_opencl_device_memory_query,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* negotiation) {
  return weft_plugin_negotiate_default(negotiation, &weft_opencl_interface);
}
