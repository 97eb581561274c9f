/* The device registry: devices of every active plugin, highest score first.
 * The same physical device seen through two plugins (equal UUIDs, or equal
 * stable ids such as "cpu:host" or a PCI address) is one physical device with
 * several paths; the highest-scored path is preferred. */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "logger.h"
#include "util.h"

static bool weft_devices_same_physical(const weft_device_t* a, const weft_device_t* b) {
  if ((a->caps.flags & WEFT_DEVICE_FLAG_HAS_UUID) &&
      (b->caps.flags & WEFT_DEVICE_FLAG_HAS_UUID)) {
    return memcmp(a->caps.uuid, b->caps.uuid, sizeof(a->caps.uuid)) == 0;
  }
  return a->caps.stable_id[0] != '\0' &&
         strcmp(a->caps.stable_id, b->caps.stable_id) == 0;
}

weft_status_t weft__registry_rebuild(weft_runtime_t* runtime) {
  size_t live = 0;
  for (size_t i = 0; i < runtime->device_count; ++i) {
    if (!runtime->devices[i]->retired) ++live;
  }
  weft_device_t** ordered = NULL;
  size_t bytes = 0;
  if (weft__mul_overflows(live ? live : 1, sizeof(weft_device_t*), &bytes)) {
    return weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "%zu devices overflow", live);
  }
  WEFT_RETURN_IF_ERROR(weft__alloc(runtime->allocator, bytes, "the device registry",
                                   (void**)&ordered));
  size_t count = 0;
  for (size_t i = 0; i < runtime->device_count; ++i) {
    weft_device_t* device = runtime->devices[i];
    if (device->retired) continue;
    size_t at = count;
    while (at > 0 && ordered[at - 1]->score < device->score) {
      ordered[at] = ordered[at - 1];
      --at;
    }
    ordered[at] = device;
    ++count;
  }
  uint32_t groups = 0;
  for (size_t i = 0; i < count; ++i) {
    weft_device_t* device = ordered[i];
    device->preferred = 1;
    device->physical_index = groups;
    for (size_t j = 0; j < i; ++j) {
      if (weft_devices_same_physical(ordered[j], device)) {
        device->physical_index = ordered[j]->physical_index;
        device->preferred = 0; /* an earlier path scores at least as high */
        break;
      }
    }
    if (device->preferred) ++groups;
  }
  weft__free(runtime->allocator, runtime->ordered);
  runtime->ordered = ordered;
  runtime->ordered_count = count;
  return WEFT_OK;
}

size_t weft_runtime_device_count(const weft_runtime_t* runtime) {
  return runtime ? runtime->ordered_count : 0;
}

weft_device_t* weft_runtime_device_get(const weft_runtime_t* runtime, size_t index) {
  if (!runtime || index >= runtime->ordered_count) return NULL;
  return runtime->ordered[index];
}

static const char* const weft_device_type_names[] = {"cpu", "gpu", "igpu",
                                                     "accelerator", "virtual"};

const char* weft_device_type_name(weft_device_type_t type) {
  if ((unsigned)type < sizeof(weft_device_type_names) / sizeof(weft_device_type_names[0])) {
    return weft_device_type_names[type];
  }
  return "unknown";
}

weft_status_t weft_runtime_device_find(const weft_runtime_t* runtime, const char* query,
                                       weft_device_t** out_device) {
  if (out_device) *out_device = NULL;
  if (!runtime || !query || !out_device) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_runtime_device_find: runtime, query and out_device "
                            "must not be NULL");
  }
  if (query[0] == '#') {
    char* end = NULL;
    unsigned long index = strtoul(query + 1, &end, 10);
    if (end != query + 1 && *end == '\0' && index < runtime->ordered_count) {
      *out_device = runtime->ordered[index];
      return WEFT_OK;
    }
  }
  for (size_t i = 0; i < runtime->ordered_count; ++i) {
    if (strcmp(runtime->ordered[i]->id, query) == 0) {
      *out_device = runtime->ordered[i];
      return WEFT_OK;
    }
  }
  for (size_t i = 0; i < runtime->ordered_count; ++i) {
    weft_device_t* device = runtime->ordered[i];
    if (strcmp(runtime->records[device->plugin->record_index].name, query) == 0) {
      *out_device = device;
      return WEFT_OK;
    }
  }
  for (size_t i = 0; i < runtime->ordered_count; ++i) {
    weft_device_t* device = runtime->ordered[i];
    if (device->preferred &&
        strcmp(weft_device_type_name((weft_device_type_t)device->caps.type), query) == 0) {
      *out_device = device;
      return WEFT_OK;
    }
  }
  char ids[512];
  size_t used = 0;
  ids[0] = '\0';
  for (size_t i = 0; i < runtime->ordered_count && used + 1 < sizeof(ids); ++i) {
    int n = snprintf(ids + used, sizeof(ids) - used, "%s%s", i ? ", " : "",
                     runtime->ordered[i]->id);
    if (n < 0) break;
    used += (size_t)n;
  }
  return weft_status_make(WEFT_STATUS_NOT_FOUND,
                          "no device matches '%s' (an id, a plugin name, a type such "
                          "as cpu or gpu, or #index); devices: %s",
                          query, runtime->ordered_count ? ids : "none");
}

weft_device_t* weft_runtime_device_default(const weft_runtime_t* runtime) {
  if (!runtime || runtime->ordered_count == 0) return NULL;
  const char* wanted = weft__env_get(runtime, "WEFT_DEVICE");
  if (wanted && wanted[0]) {
    weft_device_t* device = NULL;
    weft_status_t status = weft_runtime_device_find(runtime, wanted, &device);
    if (status == WEFT_OK) return device;
    weft__log(runtime, WEFT_LOG_LEVEL_WARN, "registry",
              "WEFT_DEVICE ignored: %s", weft_status_message(status));
    weft_status_free(status);
  }
  return runtime->ordered[0];
}

void weft_device_info_get(const weft_device_t* device, weft_device_info_t* out_info) {
  if (!out_info) return;
  memset(out_info, 0, sizeof(*out_info));
  if (!device) return;
  const weft_plugin_record_t* record =
      &device->runtime->records[device->plugin->record_index];
  out_info->id = device->id;
  out_info->plugin = record->name;
  out_info->plugin_path = record->path;
  out_info->caps = &device->caps;
  out_info->score = device->score;
  out_info->physical_index = device->physical_index;
  out_info->preferred = device->preferred;
}
