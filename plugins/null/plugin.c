/* The null backend: entry point, plugin info, probe, instance and function
 * table. See null.h. */
#include <string.h>

#include "null.h"

static const weft_plugin_info_t weft_null_info = {
    .struct_size = sizeof(weft_plugin_info_t),
    .abi_version = WEFT_ABI_VERSION,
    .name = WEFT_NULL_PLUGIN_NAME,
    .family = "null",
    .version = WEFT_NULL_PLUGIN_VERSION,
    .description = "template backend: one device that runs no ops",
    .built_for = "any",
    .min_driver = "",
    .variant_score = 0,
};

/* Probing must be cheap and leave nothing behind (docs/abi.md, "Probe"). A
 * real backend checks here for its vendor library, driver and CPU features,
 * and on failure sets available = 0 with a reason a person can act on. The
 * null backend needs nothing, so it is always available. */
static weft_status_t weft_null_plugin_probe(const weft_host_services_t* host,
                                            weft_probe_result_t* out_result) {
  if (out_result == NULL) {
    return host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                             "null: probe called without a result struct");
  }
  if (WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, device_count)) {
    out_result->available = 1;
    out_result->device_count = 1;
  }
  if (WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, reason)) {
    out_result->reason[0] = '\0';
  }
  return WEFT_OK;
}

static weft_status_t weft_null_plugin_instance_create(
    const weft_host_services_t* host, weft_plugin_instance_t** out_instance) {
  /* `host` is never NULL (ABI guarantee): it is the only way to report. */
  if (out_instance == NULL) {
    return host->status_make(host->host_ctx, WEFT_STATUS_INVALID_ARGUMENT,
                             "null: instance_create called without out_instance");
  }
  *out_instance = NULL;
  weft_plugin_instance_t* instance =
      host->alloc(host->host_ctx, sizeof(*instance), 0);
  if (instance == NULL) {
    return host->status_make(host->host_ctx, WEFT_STATUS_OUT_OF_MEMORY,
                             "null: out of memory allocating the instance (%zu bytes)",
                             sizeof(*instance));
  }
  memset(instance, 0, sizeof(*instance));
  instance->host = host;
  host->log(host->host_ctx, WEFT_LOG_LEVEL_DEBUG,
            "instance created (1 device, host ABI %u.%u)",
            (unsigned)WEFT_ABI_VERSION_MAJOR_OF(host->abi_version),
            (unsigned)WEFT_ABI_VERSION_MINOR_OF(host->abi_version));
  *out_instance = instance;
  return WEFT_OK;
}

static void weft_null_plugin_instance_destroy(weft_plugin_instance_t* instance) {
  if (instance == NULL) {
    return;
  }
  /* A backend with worker threads joins them here, before freeing. */
  const weft_host_services_t* host = instance->host;
  host->free(host->host_ctx, instance);
}

/* Static: the host keeps a pointer to it for as long as the plugin is loaded.
 * probe, instance_*, device_count/query_caps/open/close and buffer_allocate/
 * free/upload/download are required; any other member a backend does not
 * implement may stay NULL, and the host treats that operation as unsupported
 * (docs/abi.md, "The plugin's function table"). */
static const weft_plugin_interface_t weft_null_interface = {
    .struct_size = sizeof(weft_plugin_interface_t),
    .info = &weft_null_info,
    /* ABI 1.0 */
    .probe = weft_null_plugin_probe,
    .instance_create = weft_null_plugin_instance_create,
    .instance_destroy = weft_null_plugin_instance_destroy,
    .device_count = weft_null_device_count,
    .device_query_caps = weft_null_device_query_caps,
    .device_open = weft_null_device_open,
    .device_close = weft_null_device_close,
    .buffer_allocate = weft_null_buffer_allocate,
    .buffer_free = weft_null_buffer_free,
    .buffer_map = weft_null_buffer_map,
    .buffer_unmap = weft_null_buffer_unmap,
    .buffer_upload = weft_null_buffer_upload,
    .buffer_download = weft_null_buffer_download,
    .buffer_copy = weft_null_buffer_copy,
    .buffer_fill = weft_null_buffer_fill,
    .op_query = weft_null_device_op_query,
    .segment_submit = weft_null_device_segment_submit,
    .synchronize = weft_null_device_synchronize,
    /* ABI 1.1 */
    .device_memory_query = weft_null_device_memory_query,
};

/* The one exported symbol. The default negotiation accepts any host of our
 * ABI major and answers with the lower of the two minors. */
WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* negotiation) {
  return weft_plugin_negotiate_default(negotiation, &weft_null_interface);
}
