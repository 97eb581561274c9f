#include "device.h"

#include "logger.h"

weft_status_t weft__device_ensure_open_locked(weft_device_t* device) {
  if (device->opened) return WEFT_OK;
  if (device->retired || !device->plugin->instance) {
    return weft_status_make(WEFT_STATUS_UNAVAILABLE,
                            "device %s: its plugin was unloaded", device->id);
  }
  weft_plugin_device_t* opened = NULL;
  weft_status_t status = device->plugin->table.device_open(device->plugin->instance,
                                                           device->index, &opened);
  if (status != WEFT_OK) {
    return weft_status_annotate(status, "device %s: open failed", device->id);
  }
  if (!opened) {
    return weft_status_make(WEFT_STATUS_INTERNAL,
                            "device %s: open returned OK without a device", device->id);
  }
  device->opened = opened;
  weft__log(device->runtime, WEFT_LOG_LEVEL_DEBUG, "runtime", "device %s opened",
            device->id);
  return WEFT_OK;
}

weft_status_t weft_device_memory_query(weft_device_t* device, uint64_t* out_free,
                                       uint64_t* out_total) {
  if (!device || !out_free || !out_total) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_device_memory_query: device, out_free and out_total "
                            "must not be NULL");
  }
  pthread_mutex_lock(&device->lock);
  weft_status_t status = weft__device_ensure_open_locked(device);
  if (status == WEFT_OK && device->plugin->table.device_memory_query) {
    uint64_t free_bytes = 0, total_bytes = 0;
    status = device->plugin->table.device_memory_query(device->opened, &free_bytes,
                                                       &total_bytes);
    if (status == WEFT_OK) {
      *out_free = free_bytes;
      *out_total = total_bytes;
    } else {
      status = weft_status_annotate(status, "device %s: memory query", device->id);
    }
  } else if (status == WEFT_OK) {
    /* An ABI 1.0 plugin: the capability record is all there is. */
    *out_free = device->caps.memory_free;
    *out_total = device->caps.memory_total;
  }
  pthread_mutex_unlock(&device->lock);
  return status;
}
