/* Reference CPU backend: entry, info, probe, instance and device caps. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cpu_ref.h"
#include "cpu_ref_impl.h"

static const weft_plugin_info_t weft_cpu_ref_info = {
    .struct_size = sizeof(weft_plugin_info_t),
    .abi_version = WEFT_ABI_VERSION,
    .name = "cpu-ref",
    .family = "cpu-ref",
    .version = WEFT_VERSION_STRING,
    .description = "reference CPU backend: portable C11, the oracle for every op",
    .built_for = "any CPU (portable C11, no SIMD)",
    .min_driver = "",
    .variant_score = 1,
};

static weft_status_t weft_cpu_ref_probe(const weft_host_services_t* host,
                                        weft_probe_result_t* out_result) {
  (void)host;
  out_result->available = 1;
  out_result->device_count = 1;
  return WEFT_OK;
}

static weft_status_t weft_cpu_ref_instance_create(const weft_host_services_t* host,
                                                  weft_plugin_instance_t** out_instance) {
  *out_instance = NULL;
  weft_plugin_instance_t* instance =
      (weft_plugin_instance_t*)host->alloc(host->host_ctx, sizeof(*instance), 0);
  if (!instance) {
    return host->status_make(host->host_ctx, WEFT_STATUS_OUT_OF_MEMORY,
                             "cpu-ref: out of memory creating the instance (%zu bytes)",
                             sizeof(*instance));
  }
  instance->host = host;
  *out_instance = instance;
  return WEFT_OK;
}

static void weft_cpu_ref_instance_destroy(weft_plugin_instance_t* instance) {
  if (!instance) return;
  instance->host->free(instance->host->host_ctx, instance);
}

static uint32_t weft_cpu_ref_device_count(weft_plugin_instance_t* instance) {
  (void)instance;
  return 1;
}

/* The CPU's model name from /proc/cpuinfo, or "" where there is none. */
static void weft_cpu_ref_model_name(char* out, size_t cap) {
  out[0] = '\0';
  FILE* file = fopen("/proc/cpuinfo", "r");
  if (!file) return;
  char line[512];
  while (fgets(line, sizeof(line), file)) {
    if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Hardware", 8) == 0) {
      const char* colon = strchr(line, ':');
      if (!colon) continue;
      ++colon;
      while (*colon == ' ' || *colon == '\t') ++colon;
      size_t length = strcspn(colon, "\n");
      if (length >= cap) length = cap - 1;
      memcpy(out, colon, length);
      out[length] = '\0';
      break;
    }
  }
  fclose(file);
}

void weft__cpu_ref_memory(uint64_t* out_free, uint64_t* out_total) {
  long pages = sysconf(_SC_PHYS_PAGES);
  long available = sysconf(_SC_AVPHYS_PAGES);
  long page_size = sysconf(_SC_PAGESIZE);
  *out_total = pages > 0 && page_size > 0 ? (uint64_t)pages * (uint64_t)page_size : 0;
  *out_free = available > 0 && page_size > 0 ? (uint64_t)available * (uint64_t)page_size : 0;
}

static void weft_cpu_ref_copy_text(char* dst, size_t cap, const char* src) {
  size_t length = strlen(src);
  if (length >= cap) length = cap - 1;
  memcpy(dst, src, length);
  dst[length] = '\0';
}

static weft_status_t weft_cpu_ref_device_query_caps(weft_plugin_instance_t* instance,
                                                    uint32_t index,
                                                    weft_device_caps_t* inout_caps) {
  if (index != 0) {
    return instance->host->status_make(instance->host->host_ctx, WEFT_STATUS_OUT_OF_RANGE,
                                       "cpu-ref: device index %u, it has 1 device", index);
  }
  /* Write only inside the host's struct: build a full record, then copy the
   * prefix both sides know. */
  weft_device_caps_t caps;
  memset(&caps, 0, sizeof(caps));
  caps.struct_size = (uint32_t)sizeof(caps);
  caps.type = WEFT_DEVICE_TYPE_CPU;
  char model[96];
  weft_cpu_ref_model_name(model, sizeof(model));
  snprintf(caps.name, sizeof(caps.name), "Reference CPU%s%s", model[0] ? ": " : "", model);
  weft_cpu_ref_copy_text(caps.vendor, sizeof(caps.vendor), "weft");
  weft_cpu_ref_copy_text(caps.driver, sizeof(caps.driver), "cpu-ref " WEFT_VERSION_STRING);
  /* Every CPU plugin reports this id, so the registry sees one physical CPU. */
  weft_cpu_ref_copy_text(caps.stable_id, sizeof(caps.stable_id), "cpu:host");
  caps.flags = WEFT_DEVICE_FLAG_UNIFIED_MEMORY | WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  caps.compute_units = cpus > 0 ? (uint32_t)cpus : 1;
  weft__cpu_ref_memory(&caps.memory_free, &caps.memory_total);
  caps.dtypes = WEFT_DTYPE_BIT(WEFT_DTYPE_F32) | WEFT_DTYPE_BIT(WEFT_DTYPE_F16) |
                WEFT_DTYPE_BIT(WEFT_DTYPE_BF16) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_0) |
                WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_1) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q5_0) |
                WEFT_DTYPE_BIT(WEFT_DTYPE_Q5_1) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q8_0) |
                WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_K) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q6_K) |
                WEFT_DTYPE_BIT(WEFT_DTYPE_I32);
  caps.features = 0;
  weft_cpu_ref_copy_text(caps.features_text, sizeof(caps.features_text),
                         "portable-c11 single-threaded");
  caps.score = 100;
  weft_device_caps_write(inout_caps, &caps);
  return WEFT_OK;
}

static const weft_plugin_interface_t weft_cpu_ref_interface = {
    .struct_size = sizeof(weft_plugin_interface_t),
    .info = &weft_cpu_ref_info,
    .probe = weft_cpu_ref_probe,
    .instance_create = weft_cpu_ref_instance_create,
    .instance_destroy = weft_cpu_ref_instance_destroy,
    .device_count = weft_cpu_ref_device_count,
    .device_query_caps = weft_cpu_ref_device_query_caps,
    .device_open = weft__cpu_ref_device_open,
    .device_close = weft__cpu_ref_device_close,
    .buffer_allocate = weft__cpu_ref_buffer_allocate,
    .buffer_free = weft__cpu_ref_buffer_free,
    .buffer_map = weft__cpu_ref_buffer_map,
    .buffer_unmap = weft__cpu_ref_buffer_unmap,
    .buffer_upload = weft__cpu_ref_buffer_upload,
    .buffer_download = weft__cpu_ref_buffer_download,
    .buffer_copy = weft__cpu_ref_buffer_copy,
    .buffer_fill = weft__cpu_ref_buffer_fill,
    .op_query = weft__cpu_ref_op_query,
    .segment_submit = weft__cpu_ref_segment_submit,
    .synchronize = weft__cpu_ref_synchronize,
    .device_memory_query = weft__cpu_ref_device_memory_query,
    .buffer_import_host = weft__cpu_ref_buffer_import_host,
    .segment_prepare = weft__cpu_ref_segment_prepare,
    .segment_submit_prepared = weft__cpu_ref_segment_submit_prepared,
    .segment_release = weft__cpu_ref_segment_release,
};

int32_t weft__cpu_ref_negotiate(weft_negotiation_t* negotiation) {
  return weft_plugin_negotiate_default(negotiation, &weft_cpu_ref_interface);
}
