/* The Vulkan plugin: entry point, plugin info, probe, instance and function
 * table. See vulkan_plugin.h. */
#include <stdio.h>
#include <string.h>

#include "vulkan_plugin.h"

static const weft_plugin_info_t weft_vulkan_info = {
    .struct_size = sizeof(weft_plugin_info_t),
    .abi_version = WEFT_ABI_VERSION,
    .name = WEFT_VULKAN_PLUGIN_NAME,
    .family = "vulkan",
    .version = WEFT_VULKAN_PLUGIN_VERSION,
    .description = "Vulkan 1.1+ compute devices through the system's Vulkan loader",
    .built_for = "Vulkan 1.1+",
    .min_driver = "Vulkan 1.1 loader and driver",
    .variant_score = 0,
    .reserved0 = 0,
};

/* Turns an UNAVAILABLE status into the probe's answer (available = 0 and the
 * message as the reason) and frees it; any other status is returned. */
static weft_status_t weft_vulkan_plugin_probe_unavailable(const weft_host_services_t* host,
                                                          weft_status_t status,
                                                          weft_probe_result_t* out_result) {
  if (host->status_code(host->host_ctx, status) != WEFT_STATUS_UNAVAILABLE) {
    return status;
  }
  out_result->available = 0;
  out_result->device_count = 0;
  if (WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, reason)) {
    snprintf(out_result->reason, sizeof(out_result->reason), "%s",
             host->status_message(host->host_ctx, status));
  }
  host->status_free(host->host_ctx, status);
  return WEFT_OK;
}

/* Checks that a Vulkan 1.1 loader is there, and nothing more: creating a
 * VkInstance loads every driver (ICD), which costs as much again as the whole
 * rest of start-up, and the host creates the instance right after a
 * successful probe anyway. Whether a driver and a usable device exist is
 * answered by instance_create, which returns UNAVAILABLE with the reason
 * (docs/abi.md, "Probe"). The device count is therefore 0, "not known yet". */
static weft_status_t weft_vulkan_plugin_probe(const weft_host_services_t* host,
                                              weft_probe_result_t* out_result) {
  if (out_result == NULL ||
      !WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, device_count)) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: probe called without a result struct large "
                              "enough for ABI 1.0");
  }
  weft_vulkan_loader_t loader;
  weft_status_t status = weft_vulkan_loader_open(host, &loader);
  if (status != WEFT_OK) {
    return weft_vulkan_plugin_probe_unavailable(host, status, out_result);
  }
  weft_vulkan_loader_close(&loader);
  out_result->available = 1;
  out_result->device_count = 0;
  if (WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, reason)) {
    out_result->reason[0] = '\0';
  }
  return WEFT_OK;
}

/* The reason no device is usable, as UNAVAILABLE. */
static weft_status_t weft_vulkan_plugin_no_device(const weft_host_services_t* host,
                                                  uint32_t total) {
  if (total == 0) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_UNAVAILABLE,
                              "no Vulkan driver (ICD) found: vkEnumeratePhysicalDevices "
                              "returned 0 devices; install one (e.g. mesa-vulkan-drivers) "
                              "or check VK_ICD_FILENAMES / VK_DRIVER_FILES");
  }
  return WEFT_VULKAN_STATUS(host, WEFT_STATUS_UNAVAILABLE,
                            "no usable Vulkan device: vkEnumeratePhysicalDevices returned "
                            "%u, none with Vulkan 1.1 and a compute queue (update the "
                            "driver)",
                            (unsigned)total);
}

/* A configuration variable through the host; NULL for hosts before ABI 1.1,
 * which had no env_get. */
static const char* weft_vulkan_plugin_env_get(const weft_host_services_t* host,
                                              const char* name) {
  if (!WEFT_ABI_HAS_MEMBER(host, weft_host_services_t, env_get) ||
      host->env_get == NULL) {
    return NULL;
  }
  return host->env_get(host->host_ctx, name);
}

static weft_status_t weft_vulkan_plugin_instance_create(
    const weft_host_services_t* host, weft_plugin_instance_t** out_instance) {
  if (out_instance == NULL) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: instance_create called without out_instance");
  }
  *out_instance = NULL;
  weft_plugin_instance_t* instance = host->alloc(host->host_ctx, sizeof(*instance), 0);
  if (instance == NULL) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                              "vulkan: out of memory allocating the instance (%zu bytes)",
                              sizeof(*instance));
  }
  memset(instance, 0, sizeof(*instance));
  instance->host = host;

  uint32_t total = 0;
  weft_status_t status = weft_vulkan_loader_open(host, &instance->loader);
  if (status == WEFT_OK) {
    status = weft_vulkan_loader_instance_create(host, &instance->loader);
  }
  if (status == WEFT_OK) {
    status = weft_vulkan_physical_enumerate(host, &instance->loader, true,
                                            &instance->physical,
                                            &instance->physical_count, &total);
  }
  if (status == WEFT_OK && instance->physical_count == 0) {
    status = weft_vulkan_plugin_no_device(host, total);
  }
  if (status != WEFT_OK) {
    host->free(host->host_ctx, instance->physical);
    weft_vulkan_loader_close(&instance->loader);
    host->free(host->host_ctx, instance);
    return status;
  }
  const char* staging = weft_vulkan_plugin_env_get(host, "WEFT_VULKAN_STAGING");
  instance->force_staging = staging != NULL && strcmp(staging, "always") == 0;
  host->log(host->host_ctx, WEFT_LOG_LEVEL_DEBUG,
            "instance created: Vulkan %u.%u, %u of %u physical devices usable%s",
            (unsigned)VK_API_VERSION_MAJOR(instance->loader.api_version),
            (unsigned)VK_API_VERSION_MINOR(instance->loader.api_version),
            (unsigned)instance->physical_count, (unsigned)total,
            instance->force_staging ? ", transfers always staged" : "");
  *out_instance = instance;
  return WEFT_OK;
}

static void weft_vulkan_plugin_instance_destroy(weft_plugin_instance_t* instance) {
  if (instance == NULL) {
    return;
  }
  /* The host closes every device first; the plugin starts no threads. */
  const weft_host_services_t* host = instance->host;
  host->free(host->host_ctx, instance->physical);
  weft_vulkan_loader_close(&instance->loader);
  host->free(host->host_ctx, instance);
}

static const weft_plugin_interface_t weft_vulkan_interface = {
    .struct_size = sizeof(weft_plugin_interface_t),
    .reserved0 = 0,
    .info = &weft_vulkan_info,
    /* ABI 1.0 */
    .probe = weft_vulkan_plugin_probe,
    .instance_create = weft_vulkan_plugin_instance_create,
    .instance_destroy = weft_vulkan_plugin_instance_destroy,
    .device_count = weft_vulkan_device_count,
    .device_query_caps = weft_vulkan_device_query_caps,
    .device_open = weft_vulkan_device_open,
    .device_close = weft_vulkan_device_close,
    .buffer_allocate = weft_vulkan_buffer_allocate,
    .buffer_free = weft_vulkan_buffer_free,
    .buffer_map = weft_vulkan_buffer_map,
    .buffer_unmap = weft_vulkan_buffer_unmap,
    .buffer_upload = weft_vulkan_buffer_upload,
    .buffer_download = weft_vulkan_buffer_download,
    .buffer_copy = weft_vulkan_buffer_copy,
    .buffer_fill = weft_vulkan_buffer_fill,
    .op_query = weft_vulkan_device_op_query,
    .segment_submit = weft_vulkan_device_segment_submit,
    .synchronize = weft_vulkan_device_synchronize,
    /* ABI 1.1 */
    .device_memory_query = weft_vulkan_device_memory_query,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* negotiation) {
  return weft_plugin_negotiate_default(negotiation, &weft_vulkan_interface);
}
