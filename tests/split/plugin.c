/* test-split: entry point, plugin info, configuration, probe, instance and
 * function table. See split.h. */
#define _POSIX_C_SOURCE 200809L /* strnlen under -std=c11 */
#include <stdio.h>
#include <string.h>

#include "split.h"

static const weft_plugin_info_t weft_split_info = {
    .struct_size = sizeof(weft_plugin_info_t),
    .abi_version = WEFT_ABI_VERSION,
    .name = WEFT_SPLIT_PLUGIN_NAME,
    .family = WEFT_SPLIT_PLUGIN_NAME,
    .version = WEFT_SPLIT_PLUGIN_VERSION,
    .description = "test plugin: discrete devices with separate memory and asynchronous "
                   "queues over the reference kernels",
    .built_for = "any CPU (reference kernels)",
    .min_driver = "",
    .variant_score = 1,
};

_Static_assert(WEFT_OP_COUNT_ <= WEFT_SPLIT_OP_LIMIT,
               "the disabled-op mask of test-split has room for 64 op ids");

static const char* weft_split_env(const weft_host_services_t* host, const char* name) {
  /* env_get arrived with ABI 1.1; an older host has no configuration. */
  if (host->struct_size < offsetof(weft_host_services_t, env_get) + sizeof(host->env_get) ||
      host->env_get == NULL) {
    return NULL;
  }
  return host->env_get(host->host_ctx, name);
}

/* Strict decimal: digits only, no sign, no overflow. */
static bool weft_split_parse_u64(const char* text, uint64_t* out_value) {
  if (text == NULL || text[0] == '\0') return false;
  uint64_t value = 0;
  for (const char* c = text; *c != '\0'; ++c) {
    if (*c < '0' || *c > '9') return false;
    if (__builtin_mul_overflow(value, 10u, &value) ||
        __builtin_add_overflow(value, (uint64_t)(*c - '0'), &value)) {
      return false;
    }
  }
  *out_value = value;
  return true;
}

/* Sets the bit of every op named in `list` (',' or ':' separated, blanks
 * around names ignored). */
static bool weft_split_parse_ops(const char* list, uint64_t* out_mask, char* error,
                                 size_t error_cap) {
  uint64_t mask = 0;
  const char* cursor = list;
  while (*cursor != '\0') {
    size_t length = strcspn(cursor, ",:");
    const char* start = cursor;
    const char* end = cursor + length;
    while (start < end && (*start == ' ' || *start == '\t')) ++start;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) --end;
    if (end > start) {
      uint32_t found = WEFT_OP_NONE;
      for (uint32_t op = WEFT_OP_NONE + 1; op < WEFT_OP_COUNT_; ++op) {
        const char* name = weft_op_name(op);
        if (strlen(name) == (size_t)(end - start) && memcmp(name, start, (size_t)(end - start)) == 0) {
          found = op;
          break;
        }
      }
      if (found == WEFT_OP_NONE) {
        snprintf(error, error_cap,
                 "%s=\"%s\": unknown op \"%.*s\" (op names as docs/abi.md spells them, "
                 "e.g. soft_max, rope, argmax)",
                 WEFT_SPLIT_ENV_UNSUPPORTED, list, (int)(end - start), start);
        return false;
      }
      mask |= (uint64_t)1 << found;
    }
    cursor += length;
    if (*cursor != '\0') ++cursor;
  }
  *out_mask = mask;
  return true;
}

bool weft_split_config_read(const weft_host_services_t* host, weft_split_config_t* out_config,
                            char* error, size_t error_cap) {
  weft_split_config_t config;
  memset(&config, 0, sizeof(config));
  config.device_count = WEFT_SPLIT_DEFAULT_DEVICES;
  config.memory_total = WEFT_SPLIT_DEFAULT_MEMORY;

  const char* text = weft_split_env(host, WEFT_SPLIT_ENV_DEVICES);
  if (text != NULL) {
    uint64_t value = 0;
    if (!weft_split_parse_u64(text, &value) || value < 1 || value > WEFT_SPLIT_MAX_DEVICES) {
      snprintf(error, error_cap, "%s=\"%s\": expected a device count from 1 to %u",
               WEFT_SPLIT_ENV_DEVICES, text, WEFT_SPLIT_MAX_DEVICES);
      return false;
    }
    config.device_count = (uint32_t)value;
  }
  text = weft_split_env(host, WEFT_SPLIT_ENV_MEMORY);
  if (text != NULL) {
    uint64_t value = 0;
    if (!weft_split_parse_u64(text, &value) || value == 0) {
      snprintf(error, error_cap, "%s=\"%s\": expected bytes per device, a decimal number > 0",
               WEFT_SPLIT_ENV_MEMORY, text);
      return false;
    }
    config.memory_total = value;
  }
  text = weft_split_env(host, WEFT_SPLIT_ENV_UNSUPPORTED);
  if (!weft_split_parse_ops(text != NULL ? text : WEFT_SPLIT_DEFAULT_UNSUPPORTED,
                            &config.disabled_ops, error, error_cap)) {
    return false;
  }
  text = weft_split_env(host, WEFT_SPLIT_ENV_UNIFIED);
  if (text != NULL) {
    if (strcmp(text, "0") != 0 && strcmp(text, "1") != 0) {
      snprintf(error, error_cap, "%s=\"%s\": expected 0 or 1", WEFT_SPLIT_ENV_UNIFIED, text);
      return false;
    }
    config.unified = text[0] == '1';
  }
  text = weft_split_env(host, WEFT_SPLIT_ENV_FAIL_AFTER);
  if (text != NULL) {
    if (!weft_split_parse_u64(text, &config.fail_after)) {
      snprintf(error, error_cap,
               "%s=\"%s\": expected the number of the node to fail (1 is the first), or 0",
               WEFT_SPLIT_ENV_FAIL_AFTER, text);
      return false;
    }
  }
  *out_config = config;
  return true;
}

static weft_status_t weft_split_probe(const weft_host_services_t* host,
                                      weft_probe_result_t* out_result) {
  if (out_result == NULL) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "test-split: probe called without a result struct");
  }
  weft_split_config_t config;
  char error[WEFT_REASON_CAP];
  bool valid = weft_split_config_read(host, &config, error, sizeof(error));
  if (WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, device_count)) {
    out_result->available = valid ? 1u : 0u;
    out_result->device_count = valid ? config.device_count : 0u;
  }
  if (WEFT_ABI_HAS_MEMBER(out_result, weft_probe_result_t, reason)) {
    size_t length = valid ? 0 : strnlen(error, sizeof(out_result->reason) - 1);
    memcpy(out_result->reason, error, length);
    out_result->reason[length] = '\0';
  }
  return WEFT_OK;
}

static weft_status_t weft_split_instance_create(const weft_host_services_t* host,
                                                weft_plugin_instance_t** out_instance) {
  if (out_instance == NULL) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                             "test-split: instance_create called without out_instance");
  }
  *out_instance = NULL;
  weft_split_config_t config;
  char error[WEFT_REASON_CAP];
  if (!weft_split_config_read(host, &config, error, sizeof(error))) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT, "test-split: %s", error);
  }
  weft_plugin_instance_t* instance = host->alloc(host->host_ctx, sizeof(*instance), 0);
  if (instance == NULL) {
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                             "test-split: out of memory allocating the instance (%zu bytes)",
                             sizeof(*instance));
  }
  memset(instance, 0, sizeof(*instance));
  if (pthread_mutex_init(&instance->lock, NULL) != 0) {
    host->free(host->host_ctx, instance);
    return WEFT_SPLIT_STATUS(host, WEFT_STATUS_RESOURCE_EXHAUSTED,
                             "test-split: cannot initialise the instance's mutex");
  }
  instance->host = host;
  instance->config = config;
  atomic_init(&instance->nodes_started, 0);
  host->log(host->host_ctx, WEFT_LOG_LEVEL_DEBUG,
            "instance created: %u devices of %llu bytes, unsupported ops mask 0x%llx, "
            "failure injected at node %llu (0: never)",
            config.device_count, (unsigned long long)config.memory_total,
            (unsigned long long)config.disabled_ops, (unsigned long long)config.fail_after);
  *out_instance = instance;
  return WEFT_OK;
}

static void weft_split_instance_destroy(weft_plugin_instance_t* instance) {
  if (instance == NULL) return;
  /* The host closes its devices first; a device it left open is closed here,
   * so that no worker thread outlives the instance. */
  for (uint32_t i = 0; i < WEFT_SPLIT_MAX_DEVICES; ++i) {
    pthread_mutex_lock(&instance->lock);
    weft_plugin_device_t* device = instance->open[i];
    pthread_mutex_unlock(&instance->lock);
    weft_split_device_close(device);
  }
  pthread_mutex_destroy(&instance->lock);
  const weft_host_services_t* host = instance->host;
  host->free(host->host_ctx, instance);
}

static const weft_plugin_interface_t weft_split_interface = {
    .struct_size = sizeof(weft_plugin_interface_t),
    .info = &weft_split_info,
    /* ABI 1.0 */
    .probe = weft_split_probe,
    .instance_create = weft_split_instance_create,
    .instance_destroy = weft_split_instance_destroy,
    .device_count = weft_split_device_count,
    .device_query_caps = weft_split_device_query_caps,
    .device_open = weft_split_device_open,
    .device_close = weft_split_device_close,
    .buffer_allocate = weft_split_buffer_allocate,
    .buffer_free = weft_split_buffer_free,
    .buffer_map = weft_split_buffer_map,
    .buffer_import_host = weft_split_buffer_import_host,
    .buffer_unmap = weft_split_buffer_unmap,
    .buffer_upload = weft_split_buffer_upload,
    .buffer_download = weft_split_buffer_download,
    .buffer_copy = weft_split_buffer_copy,
    .buffer_fill = weft_split_buffer_fill,
    .op_query = weft_split_device_op_query,
    .segment_submit = weft_split_device_segment_submit,
    .synchronize = weft_split_device_synchronize,
    /* ABI 1.1 */
    .device_memory_query = weft_split_device_memory_query,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* negotiation) {
  return weft_plugin_negotiate_default(negotiation, &weft_split_interface);
}
