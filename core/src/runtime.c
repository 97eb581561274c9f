/* The runtime: creation, plugin loading, records and teardown. */
#include <stddef.h>
#include <string.h>

#include "cpu_ref/cpu_ref.h"
#include "env.h"
#include "loader.h"
#include "logger.h"
#include "registry.h"
#include "runtime_impl.h"
#include "util.h"

void weft_runtime_options_init(weft_runtime_options_t* out_options) {
  if (!out_options) return;
  memset(out_options, 0, sizeof(*out_options));
  out_options->struct_size = (uint32_t)sizeof(*out_options);
  out_options->log_level = -1;
}

weft_status_t weft_runtime_create(const weft_runtime_options_t* options,
                                  weft_allocator_t allocator,
                                  weft_runtime_t** out_runtime) {
  if (!out_runtime) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_runtime_create: out_runtime is NULL");
  }
  *out_runtime = NULL;
  if (!allocator.alloc || !allocator.free) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_runtime_create: the allocator lacks alloc or free");
  }
  weft_runtime_options_t defaults;
  weft_runtime_options_init(&defaults);
  if (options) {
    if (options->struct_size < offsetof(weft_runtime_options_t, reserved0)) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "weft_runtime_options_t.struct_size is %u, expected at "
                              "least %zu (call weft_runtime_options_init)",
                              options->struct_size,
                              offsetof(weft_runtime_options_t, reserved0));
    }
    if (options->plugin_path_count > 0 && !options->plugin_paths) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "options.plugin_path_count is %zu but plugin_paths is NULL",
                              options->plugin_path_count);
    }
    if (options->log_level > WEFT_LOG_LEVEL_DEBUG) {
      return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                              "options.log_level is %d; expected -1 or 0..3",
                              options->log_level);
    }
  } else {
    options = &defaults;
  }

  weft_runtime_t* runtime = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(allocator, sizeof(*runtime), "the runtime",
                                   (void**)&runtime));
  runtime->allocator = allocator;
  pthread_mutex_init(&runtime->buffers_lock, NULL);
  runtime->next_buffer_serial = 1;
  runtime->flags = options->flags;
  runtime->log_fn = options->log_fn;
  runtime->log_user = options->log_user;
  runtime->log_level = WEFT_LOG_LEVEL_WARN;
  if (options->log_level >= 0) {
    runtime->log_level = options->log_level;
  } else {
    const char* level_text = weft__env_get(runtime, "WEFT_LOG");
    int level = weft__log_level_parse(level_text);
    if (level >= 0) {
      runtime->log_level = level;
    } else if (level_text && level_text[0]) {
      weft__log(runtime, WEFT_LOG_LEVEL_WARN, "runtime",
                "WEFT_LOG='%s' is not one of error, warn, info, debug; using warn",
                level_text);
    }
  }

  weft_status_t status = weft__search_path_build(runtime, options);
  if (status == WEFT_OK && !(runtime->flags & WEFT_RUNTIME_FLAG_NO_REFERENCE_CPU)) {
    status = weft__loader_load_builtin(runtime, weft__cpu_ref_negotiate);
  }
  if (status == WEFT_OK) status = weft__loader_load_entries(runtime, 0);
  if (status != WEFT_OK) {
    weft_runtime_destroy(runtime);
    return status;
  }
  weft__log(runtime, WEFT_LOG_LEVEL_INFO, "runtime",
            "ready: %zu plugin record%s, %zu device%s", runtime->record_count,
            runtime->record_count == 1 ? "" : "s", runtime->ordered_count,
            runtime->ordered_count == 1 ? "" : "s");
  *out_runtime = runtime;
  return WEFT_OK;
}

void weft_runtime_destroy(weft_runtime_t* runtime) {
  if (!runtime) return;
  weft_allocator_t allocator = runtime->allocator;
  for (size_t i = 0; i < runtime->device_count; ++i) {
    if (runtime->devices[i]->live_buffers > 0) {
      weft__log(runtime, WEFT_LOG_LEVEL_WARN, "runtime",
                "device %s destroyed with %zu live buffer%s; the plugin frees them",
                runtime->devices[i]->id, runtime->devices[i]->live_buffers,
                runtime->devices[i]->live_buffers == 1 ? "" : "s");
    }
  }
  /* Unload in reverse order of activation. */
  for (size_t i = runtime->plugin_count; i > 0; --i) {
    weft__plugin_unload(runtime, runtime->plugins[i - 1]);
  }
  weft__free(allocator, runtime->plugins);
  for (size_t i = 0; i < runtime->device_count; ++i) {
    pthread_mutex_destroy(&runtime->devices[i]->lock);
    weft__free(allocator, runtime->devices[i]);
  }
  weft__free(allocator, runtime->devices);
  weft__free(allocator, runtime->ordered);
  weft__free(allocator, runtime->files);
  weft__records_free(runtime);
  for (size_t i = 0; i < runtime->search_path_count; ++i) {
    weft__free(allocator, (void*)runtime->search_path[i].path);
  }
  weft__free(allocator, runtime->search_path);
  weft__free(allocator, runtime->live_serials);
  pthread_mutex_destroy(&runtime->buffers_lock);
  weft__free(allocator, runtime);
}

weft_status_t weft_runtime_plugins_load(weft_runtime_t* runtime, const char* path) {
  if (!runtime || !path || !path[0]) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_runtime_plugins_load: runtime is %s and path is %s",
                            runtime ? "set" : "NULL",
                            path ? (path[0] ? "set" : "empty") : "NULL");
  }
  size_t first = runtime->search_path_count;
  WEFT_RETURN_IF_ERROR(weft__search_path_append(runtime, path, WEFT_PATH_ORIGIN_API));
  return weft__loader_load_entries(runtime, first);
}

size_t weft_runtime_search_path_count(const weft_runtime_t* runtime) {
  return runtime ? runtime->search_path_count : 0;
}

const weft_search_path_t* weft_runtime_search_path_get(const weft_runtime_t* runtime,
                                                       size_t index) {
  if (!runtime || index >= runtime->search_path_count) return NULL;
  return &runtime->search_path[index];
}

const char* weft_path_origin_name(weft_path_origin_t origin) {
  switch (origin) {
    case WEFT_PATH_ORIGIN_API: return "api";
    case WEFT_PATH_ORIGIN_ENV: return "WEFT_PLUGIN_PATH";
    case WEFT_PATH_ORIGIN_BESIDE_LIBRARY: return "beside-library";
    case WEFT_PATH_ORIGIN_INSTALL: return "install";
  }
  return "unknown";
}

size_t weft_runtime_plugin_count(const weft_runtime_t* runtime) {
  return runtime ? runtime->record_count : 0;
}

const weft_plugin_record_t* weft_runtime_plugin_get(const weft_runtime_t* runtime,
                                                    size_t index) {
  if (!runtime || index >= runtime->record_count) return NULL;
  return &runtime->records[index];
}

const char* weft_plugin_stage_name(weft_plugin_stage_t stage) {
  switch (stage) {
    case WEFT_PLUGIN_STAGE_DISCOVER: return "discover";
    case WEFT_PLUGIN_STAGE_FILTER: return "filter";
    case WEFT_PLUGIN_STAGE_OPEN: return "open";
    case WEFT_PLUGIN_STAGE_SYMBOL: return "symbol";
    case WEFT_PLUGIN_STAGE_NEGOTIATE: return "negotiate";
    case WEFT_PLUGIN_STAGE_PROBE: return "probe";
    case WEFT_PLUGIN_STAGE_SELECT: return "select";
    case WEFT_PLUGIN_STAGE_INSTANCE: return "instance";
    case WEFT_PLUGIN_STAGE_READY: return "ready";
  }
  return "unknown";
}

const char* weft_plugin_outcome_name(weft_plugin_outcome_t outcome) {
  switch (outcome) {
    case WEFT_PLUGIN_OUTCOME_ACTIVE: return "active";
    case WEFT_PLUGIN_OUTCOME_PASSED_OVER: return "passed-over";
    case WEFT_PLUGIN_OUTCOME_UNAVAILABLE: return "unavailable";
    case WEFT_PLUGIN_OUTCOME_SKIPPED: return "skipped";
  }
  return "unknown";
}
