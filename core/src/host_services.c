#include "host_services.h"

#include <stdarg.h>
#include <stddef.h>

#include "env.h"
#include "event.h"
#include "logger.h"

static const char* weft_host_plugin_name(weft_plugin_host_t* host) {
  if (host->plugin && host->runtime &&
      host->plugin->record_index < host->runtime->record_count) {
    const char* name = host->runtime->records[host->plugin->record_index].name;
    if (name && name[0]) return name;
  }
  return "plugin";
}

static void* weft_host_alloc(void* host_ctx, size_t size, size_t alignment) {
  weft_plugin_host_t* host = (weft_plugin_host_t*)host_ctx;
  if (alignment != 0 && (alignment & (alignment - 1)) != 0) return NULL;
  weft_allocator_t allocator = host->runtime->allocator;
  return allocator.alloc(allocator.self, size, alignment);
}

static void weft_host_free(void* host_ctx, void* ptr) {
  weft_plugin_host_t* host = (weft_plugin_host_t*)host_ctx;
  if (!ptr) return;
  weft_allocator_t allocator = host->runtime->allocator;
  allocator.free(allocator.self, ptr);
}

static void weft_host_log(void* host_ctx, uint32_t level, const char* format, ...) {
  weft_plugin_host_t* host = (weft_plugin_host_t*)host_ctx;
  if (level > WEFT_LOG_LEVEL_DEBUG) level = WEFT_LOG_LEVEL_DEBUG;
  va_list args;
  va_start(args, format);
  weft__log_v(host->runtime, (weft_log_level_t)level, weft_host_plugin_name(host),
              format, args);
  va_end(args);
}

static weft_status_t weft_host_status_make(void* host_ctx, uint32_t code,
                                           const char* format, ...) {
  (void)host_ctx;
  if (code >= WEFT_STATUS_CODE_COUNT_) code = WEFT_STATUS_UNKNOWN;
  va_list args;
  va_start(args, format);
  weft_status_t status = weft_status_make_v((weft_status_code_t)code, format, args);
  va_end(args);
  return status;
}

static uint32_t weft_host_status_code(void* host_ctx, weft_status_t status) {
  (void)host_ctx;
  return (uint32_t)weft_status_code(status);
}

static const char* weft_host_status_message(void* host_ctx, weft_status_t status) {
  (void)host_ctx;
  return weft_status_message(status);
}

static void weft_host_status_free(void* host_ctx, weft_status_t status) {
  (void)host_ctx;
  weft_status_free(status);
}

static void weft_host_event_signal(void* host_ctx, weft_event_t* event,
                                   uint32_t code) {
  (void)host_ctx;
  weft__event_signal(event, code);
}

static uint32_t weft_host_event_wait(void* host_ctx, weft_event_t* event,
                                     uint64_t timeout_ns) {
  (void)host_ctx;
  return weft__event_wait(event, timeout_ns);
}

static const char* weft_host_env_get(void* host_ctx, const char* name) {
  weft_plugin_host_t* host = (weft_plugin_host_t*)host_ctx;
  if (!name) return NULL;
  return weft__env_get(host->runtime, name);
}

void weft__host_services_init(weft_plugin_host_t* host, weft_runtime_t* runtime,
                              weft_plugin_t* plugin) {
  host->runtime = runtime;
  host->plugin = plugin;
  weft_host_services_t* services = &host->services;
  services->struct_size = (uint32_t)sizeof(*services);
  services->abi_version = WEFT_ABI_VERSION;
  services->host_ctx = host;
  services->alloc = weft_host_alloc;
  services->free = weft_host_free;
  services->log = weft_host_log;
  services->status_make = weft_host_status_make;
  services->status_code = weft_host_status_code;
  services->status_message = weft_host_status_message;
  services->status_free = weft_host_status_free;
  services->event_signal = weft_host_event_signal;
  services->event_wait = weft_host_event_wait;
  services->env_get = weft_host_env_get;
}
