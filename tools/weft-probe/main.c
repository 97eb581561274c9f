/* weft-probe: shows what libweft finds on this machine and why.
 *
 * It creates a runtime the way a host application would, then prints the
 * search path, one line per plugin file with its outcome (and, for anything
 * not active, the stage and reason), every device in the registry with its
 * capabilities, and the device an application would get by default. With
 * --json it prints the same facts as one JSON document (docs/probe-json.md).
 *
 * Exit status: 0 when a usable device exists, 1 when none does (or the
 * runtime could not be created), 2 on a usage error. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "json_writer.h"
#include "weft/abi/dtype.h"
#include "weft/abi/version.h"
#include "weft/weft.h"

#ifndef WEFT_PROBE_VERSION
#define WEFT_PROBE_VERSION "unknown"
#endif

/* Bump when a field changes meaning or disappears; adding fields does not. */
#define WEFT_PROBE_SCHEMA_VERSION 1

enum {
  WEFT_PROBE_EXIT_USABLE = 0,
  WEFT_PROBE_EXIT_NO_DEVICE = 1,
  WEFT_PROBE_EXIT_USAGE = 2,
};

typedef struct weft_probe_options_t {
  bool json;
  bool no_default_paths;
  bool help;
  bool version;
  int verbosity;
  const char** plugin_paths;
  size_t plugin_path_count;
} weft_probe_options_t;

/* ---- names ----
 * The tool spells stages, outcomes and kinds itself rather than borrowing the
 * library's strings, because these spellings are part of the JSON schema and
 * must not change when log wording does. */

static const char* weft_probe_stage_name(uint32_t stage) {
  static const char* const names[] = {"discover", "filter",    "open",
                                      "symbol",   "negotiate", "probe",
                                      "select",   "instance",  "ready"};
  return stage < sizeof(names) / sizeof(names[0]) ? names[stage] : "unknown";
}

static const char* weft_probe_outcome_name(uint32_t outcome) {
  static const char* const names[] = {"active", "passed-over", "unavailable",
                                      "skipped"};
  return outcome < sizeof(names) / sizeof(names[0]) ? names[outcome]
                                                    : "unknown";
}

static const char* weft_probe_kind_name(uint32_t kind) {
  static const char* const names[] = {"missing", "directory", "file", "other"};
  return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

static const char* weft_probe_kind_short_name(uint32_t kind) {
  static const char* const names[] = {"missing", "dir", "file", "other"};
  return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

static const char* weft_probe_origin_name(uint32_t origin) {
  static const char* const names[] = {"api", "WEFT_PLUGIN_PATH",
                                      "beside-library", "install"};
  return origin < sizeof(names) / sizeof(names[0]) ? names[origin] : "unknown";
}

static const char* weft_probe_device_type_name(uint32_t type) {
  static const char* const names[] = {"cpu", "gpu", "igpu", "accelerator",
                                      "virtual"};
  return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

/* GGUF spells the k-quants with a capital K ("q4_K"); so do we. */
static const char* weft_probe_dtype_name(uint32_t dtype) {
  switch (dtype) {
    case WEFT_DTYPE_F32: return "f32";
    case WEFT_DTYPE_F16: return "f16";
    case WEFT_DTYPE_Q4_0: return "q4_0";
    case WEFT_DTYPE_Q4_1: return "q4_1";
    case WEFT_DTYPE_Q5_0: return "q5_0";
    case WEFT_DTYPE_Q5_1: return "q5_1";
    case WEFT_DTYPE_Q8_0: return "q8_0";
    case WEFT_DTYPE_Q8_1: return "q8_1";
    case WEFT_DTYPE_Q2_K: return "q2_K";
    case WEFT_DTYPE_Q3_K: return "q3_K";
    case WEFT_DTYPE_Q4_K: return "q4_K";
    case WEFT_DTYPE_Q5_K: return "q5_K";
    case WEFT_DTYPE_Q6_K: return "q6_K";
    case WEFT_DTYPE_Q8_K: return "q8_K";
    case WEFT_DTYPE_I8: return "i8";
    case WEFT_DTYPE_I16: return "i16";
    case WEFT_DTYPE_I32: return "i32";
    case WEFT_DTYPE_I64: return "i64";
    case WEFT_DTYPE_F64: return "f64";
    case WEFT_DTYPE_BF16: return "bf16";
    default: return NULL;
  }
}

static const char* weft_probe_feature_name(unsigned bit) {
  switch (bit) {
    case 0: return "fp16-arith";
    case 1: return "bf16-arith";
    case 2: return "int8-dot";
    case 3: return "subgroups";
    case 4: return "coop-matrix";
    case 5: return "int8-matmul";
    default: return NULL;
  }
}

/* Calls `fn` once per set bit of a dtype mask with the dtype's name
 * ("dtype_40" for an id this tool does not know). */
typedef void (*weft_probe_name_fn)(void* user, const char* name);

static void weft_probe_dtypes_each(uint64_t mask, weft_probe_name_fn fn,
                                   void* user) {
  for (unsigned id = 0; id < 64; ++id) {
    if ((mask & ((uint64_t)1 << id)) == 0) {
      continue;
    }
    const char* name = weft_probe_dtype_name(id);
    char unknown[16];
    if (name == NULL) {
      snprintf(unknown, sizeof(unknown), "dtype_%u", id);
      name = unknown;
    }
    fn(user, name);
  }
}

static void weft_probe_features_each(uint64_t mask, weft_probe_name_fn fn,
                                     void* user) {
  for (unsigned bit = 0; bit < 64; ++bit) {
    if ((mask & ((uint64_t)1 << bit)) == 0) {
      continue;
    }
    const char* name = weft_probe_feature_name(bit);
    char unknown[16];
    if (name == NULL) {
      snprintf(unknown, sizeof(unknown), "feature_%u", bit);
      name = unknown;
    }
    fn(user, name);
  }
}

/* ---- environment ---- */

/* libweft reads its variables through secure_getenv, so a process running
 * with AT_SECURE (set-uid, set-gid, file capabilities) sees none of them; the
 * report follows the same rule so that it shows what libweft acted on. */
static bool weft_probe_env_trusted(void) {
  return getauxval(AT_SECURE) == 0;
}

static const char* weft_probe_env_get(const char* name) {
  return weft_probe_env_trusted() ? getenv(name) : NULL;
}

static const char* const weft_probe_env_names[] = {
    "WEFT_PLUGIN_PATH", "WEFT_PLUGINS_DISABLE", "WEFT_PLUGINS_ONLY",
    "WEFT_DEVICE",      "WEFT_LOG",
};
#define WEFT_PROBE_ENV_COUNT \
  (sizeof(weft_probe_env_names) / sizeof(weft_probe_env_names[0]))

/* WEFT_LOG as a level, or -1 when unset or not understood; accepts what
 * libweft accepts (a level name, "warning", or a digit 0-3). */
static int weft_probe_env_log_level(void) {
  static const char* const names[] = {"error", "warn", "info", "debug"};
  const char* value = weft_probe_env_get("WEFT_LOG");
  if (value == NULL) {
    return -1;
  }
  for (int i = 0; i < 4; ++i) {
    if (strcmp(value, names[i]) == 0) {
      return i;
    }
  }
  if (strcmp(value, "warning") == 0) {
    return WEFT_LOG_LEVEL_WARN;
  }
  if (value[0] >= '0' && value[0] <= '3' && value[1] == '\0') {
    return value[0] - '0';
  }
  return -1;
}

/* ---- small string helpers ---- */

/* A growable string; `failed` records an allocation failure so that callers
 * check once at the end. */
typedef struct weft_probe_text_t {
  char* data;
  size_t length;
  size_t capacity;
  bool failed;
} weft_probe_text_t;

static void weft_probe_text_append_v(weft_probe_text_t* text,
                                     const char* format, va_list args) {
  if (text->failed) {
    return;
  }
  va_list copy;
  va_copy(copy, args);
  int needed = vsnprintf(NULL, 0, format, copy);
  va_end(copy);
  if (needed < 0) {
    text->failed = true;
    return;
  }
  size_t want = text->length + (size_t)needed + 1;
  if (want > text->capacity) {
    size_t capacity = text->capacity ? text->capacity : 64;
    while (capacity < want) {
      capacity *= 2;
    }
    char* data = realloc(text->data, capacity);
    if (data == NULL) {
      text->failed = true;
      return;
    }
    text->data = data;
    text->capacity = capacity;
  }
  vsnprintf(text->data + text->length, text->capacity - text->length, format,
            args);
  text->length += (size_t)needed;
}

static void weft_probe_text_append(weft_probe_text_t* text, const char* format,
                                   ...) __attribute__((format(printf, 2, 3)));
static void weft_probe_text_append(weft_probe_text_t* text, const char* format,
                                   ...) {
  va_list args;
  va_start(args, format);
  weft_probe_text_append_v(text, format, args);
  va_end(args);
}

/* Hands over the buffer ("" when empty); NULL on allocation failure. */
static char* weft_probe_text_take(weft_probe_text_t* text) {
  if (text->failed) {
    free(text->data);
    memset(text, 0, sizeof(*text));
    return NULL;
  }
  if (text->data == NULL) {
    char* empty = malloc(1);
    if (empty != NULL) {
      empty[0] = '\0';
    }
    return empty;
  }
  char* data = text->data;
  memset(text, 0, sizeof(*text));
  return data;
}

static void weft_probe_text_name_append(void* user, const char* name) {
  weft_probe_text_t* text = user;
  weft_probe_text_append(text, "%s%s", text->length ? " " : "", name);
}

static const char* weft_probe_or_dash(const char* text) {
  return text != NULL && text[0] != '\0' ? text : "-";
}

static void weft_probe_bytes_format(uint64_t bytes, char* out, size_t size) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes == 0) {
    snprintf(out, size, "-");
    return;
  }
  double value = (double)bytes;
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < sizeof(units) / sizeof(units[0])) {
    value /= 1024.0;
    ++unit;
  }
  if (unit == 0) {
    snprintf(out, size, "%" PRIu64 " B", bytes);
  } else {
    snprintf(out, size, "%.1f %s", value, units[unit]);
  }
}

static void weft_probe_uuid_format(const uint8_t uuid[16], char out[37]) {
  size_t at = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out[at++] = '-';
    }
    static const char digits[] = "0123456789abcdef";
    out[at++] = digits[uuid[i] >> 4];
    out[at++] = digits[uuid[i] & 0xF];
  }
  out[at] = '\0';
}

static void weft_probe_abi_format(uint32_t version, char* out, size_t size) {
  if (version == 0) {
    snprintf(out, size, "-");
  } else {
    snprintf(out, size, "%" PRIu32 ".%" PRIu32,
             WEFT_ABI_VERSION_MAJOR_OF(version),
             WEFT_ABI_VERSION_MINOR_OF(version));
  }
}

/* ---- what the runtime reported, gathered once ---- */

typedef struct weft_probe_device_t {
  weft_device_t* device;
  weft_device_info_t info;
} weft_probe_device_t;

typedef struct weft_probe_report_t {
  weft_runtime_t* runtime;
  size_t path_count;
  size_t plugin_count;
  size_t device_count;
  weft_probe_device_t* devices;
  weft_device_t* default_device;
  size_t default_index;          /* SIZE_MAX when none */
  bool default_from_env;         /* chosen because WEFT_DEVICE named it */
  const char* weft_device;       /* WEFT_DEVICE, or NULL */
  char* default_detail;          /* one sentence for people; owned */
  bool env_trusted;
} weft_probe_report_t;

/* The active plugin of `record`'s family that beat it, or NULL. */
static const weft_plugin_record_t* weft_probe_winner_get(
    const weft_probe_report_t* report, const weft_plugin_record_t* record) {
  if (record->family == NULL || record->family[0] == '\0') {
    return NULL;
  }
  for (size_t i = 0; i < report->plugin_count; ++i) {
    const weft_plugin_record_t* other =
        weft_runtime_plugin_get(report->runtime, i);
    if (other != NULL && other != record &&
        other->outcome == WEFT_PLUGIN_OUTCOME_ACTIVE && other->family != NULL &&
        strcmp(other->family, record->family) == 0) {
      return other;
    }
  }
  return NULL;
}

/* The device of the same physical device that the registry prefers. */
static const weft_probe_device_t* weft_probe_preferred_get(
    const weft_probe_report_t* report, const weft_probe_device_t* device) {
  for (size_t i = 0; i < report->device_count; ++i) {
    const weft_probe_device_t* other = &report->devices[i];
    if (other->info.physical_index == device->info.physical_index &&
        other->info.preferred) {
      return other;
    }
  }
  return NULL;
}

static size_t weft_probe_same_physical_count(const weft_probe_report_t* report,
                                             const weft_probe_device_t* device) {
  size_t count = 0;
  for (size_t i = 0; i < report->device_count; ++i) {
    const weft_probe_device_t* other = &report->devices[i];
    if (other != device &&
        other->info.physical_index == device->info.physical_index) {
      ++count;
    }
  }
  return count;
}

/* Returns false on allocation failure. */
static bool weft_probe_report_init(weft_runtime_t* runtime,
                                   weft_probe_report_t* out_report) {
  memset(out_report, 0, sizeof(*out_report));
  out_report->runtime = runtime;
  out_report->default_index = SIZE_MAX;
  out_report->env_trusted = weft_probe_env_trusted();
  out_report->path_count = weft_runtime_search_path_count(runtime);
  out_report->plugin_count = weft_runtime_plugin_count(runtime);
  out_report->device_count = weft_runtime_device_count(runtime);
  if (out_report->device_count > 0) {
    out_report->devices =
        calloc(out_report->device_count, sizeof(out_report->devices[0]));
    if (out_report->devices == NULL) {
      return false;
    }
  }
  for (size_t i = 0; i < out_report->device_count; ++i) {
    weft_probe_device_t* entry = &out_report->devices[i];
    entry->device = weft_runtime_device_get(runtime, i);
    if (entry->device != NULL) {
      weft_device_info_get(entry->device, &entry->info);
    }
  }

  out_report->default_device = weft_runtime_device_default(runtime);
  for (size_t i = 0; i < out_report->device_count; ++i) {
    if (out_report->devices[i].device == out_report->default_device &&
        out_report->default_device != NULL) {
      out_report->default_index = i;
    }
  }

  /* Explain the choice the way weft_runtime_device_default makes it: the
   * device WEFT_DEVICE names, else the highest-scored preferred device. */
  weft_probe_text_t detail = {0};
  const char* wanted = weft_probe_env_get("WEFT_DEVICE");
  out_report->weft_device = wanted;
  if (out_report->default_index == SIZE_MAX) {
    weft_probe_text_append(&detail, "no device in the registry");
  } else if (wanted != NULL && wanted[0] != '\0') {
    weft_device_t* named = NULL;
    weft_status_t status = weft_runtime_device_find(runtime, wanted, &named);
    if (weft_status_is_ok(status) && named == out_report->default_device) {
      out_report->default_from_env = true;
      weft_probe_text_append(&detail, "WEFT_DEVICE=\"%s\" names it", wanted);
    } else if (weft_status_is_ok(status)) {
      weft_probe_text_append(&detail,
                             "WEFT_DEVICE=\"%s\" names another device; the "
                             "runtime chose this one by score",
                             wanted);
    } else {
      weft_probe_text_append(&detail,
                             "WEFT_DEVICE=\"%s\" matches no device (%s); "
                             "fell back to the highest score",
                             wanted, weft_status_message(status));
    }
    weft_status_free(status);
  } else {
    const weft_probe_device_t* chosen =
        &out_report->devices[out_report->default_index];
    weft_probe_text_append(&detail,
                           "highest score (%" PRId32
                           ") among preferred devices; WEFT_DEVICE is not set",
                           chosen->info.score);
  }
  out_report->default_detail = weft_probe_text_take(&detail);
  return out_report->default_detail != NULL;
}

static void weft_probe_report_deinit(weft_probe_report_t* report) {
  free(report->devices);
  free(report->default_detail);
  memset(report, 0, sizeof(*report));
}

static bool weft_probe_report_usable(const weft_probe_report_t* report) {
  return report->device_count > 0 && report->default_device != NULL;
}

/* ---- JSON output (docs/probe-json.md) ---- */

static void weft_probe_json_name_append(void* user, const char* name) {
  weft_json_string((weft_json_writer_t*)user, name);
}

static void weft_probe_json_search_path(weft_json_writer_t* json,
                                        const weft_probe_report_t* report) {
  weft_json_key(json, "search_path");
  weft_json_array_begin(json);
  for (size_t i = 0; i < report->path_count; ++i) {
    const weft_search_path_t* entry =
        weft_runtime_search_path_get(report->runtime, i);
    if (entry == NULL) {
      continue;
    }
    weft_json_object_begin(json);
    weft_json_member_uint(json, "index", i);
    weft_json_member_string(json, "path", entry->path);
    weft_json_member_string(json, "origin",
                            weft_probe_origin_name(entry->origin));
    weft_json_member_string(json, "kind", weft_probe_kind_name(entry->kind));
    weft_json_object_end(json);
  }
  weft_json_array_end(json);
}

/* "" from the runtime means "not known yet"; JSON says null. */
static void weft_probe_json_member_text(weft_json_writer_t* json,
                                        const char* key, const char* value) {
  weft_json_member_string(json, key,
                          value != NULL && value[0] != '\0' ? value : NULL);
}

static void weft_probe_json_plugins(weft_json_writer_t* json,
                                    const weft_probe_report_t* report) {
  weft_json_key(json, "plugins");
  weft_json_array_begin(json);
  for (size_t i = 0; i < report->plugin_count; ++i) {
    const weft_plugin_record_t* record =
        weft_runtime_plugin_get(report->runtime, i);
    if (record == NULL) {
      continue;
    }
    char abi[24];
    weft_probe_abi_format(record->abi_version, abi, sizeof(abi));
    weft_json_object_begin(json);
    weft_json_member_uint(json, "index", i);
    weft_json_member_string(json, "path", record->path);
    weft_json_member_bool(json, "built_in",
                          record->search_path_index == SIZE_MAX &&
                              record->path != NULL &&
                              strcmp(record->path, "(built-in)") == 0);
    if (record->search_path_index == SIZE_MAX) {
      weft_json_member_null(json, "search_path_index");
    } else {
      weft_json_member_uint(json, "search_path_index",
                            record->search_path_index);
    }
    weft_json_member_string(json, "outcome",
                            weft_probe_outcome_name(record->outcome));
    weft_json_member_string(json, "stage", weft_probe_stage_name(record->stage));
    weft_json_member_string(
        json, "status",
        weft_status_code_name((weft_status_code_t)record->status_code));
    weft_probe_json_member_text(json, "reason", record->reason);
    const weft_plugin_record_t* winner = NULL;
    if (record->outcome == WEFT_PLUGIN_OUTCOME_PASSED_OVER) {
      winner = weft_probe_winner_get(report, record);
    }
    weft_json_member_string(json, "passed_over_for",
                            winner != NULL ? winner->name : NULL);
    weft_probe_json_member_text(json, "name", record->name);
    weft_probe_json_member_text(json, "family", record->family);
    weft_probe_json_member_text(json, "version", record->version);
    weft_probe_json_member_text(json, "description", record->description);
    weft_probe_json_member_text(json, "built_for", record->built_for);
    weft_probe_json_member_text(json, "min_driver", record->min_driver);
    weft_json_member_string(json, "abi_version",
                            record->abi_version != 0 ? abi : NULL);
    weft_json_member_int(json, "variant_score", record->variant_score);
    weft_json_member_uint(json, "device_count", record->device_count);
    weft_json_object_end(json);
  }
  weft_json_array_end(json);
}

static void weft_probe_json_devices(weft_json_writer_t* json,
                                    const weft_probe_report_t* report) {
  weft_json_key(json, "devices");
  weft_json_array_begin(json);
  for (size_t i = 0; i < report->device_count; ++i) {
    const weft_probe_device_t* device = &report->devices[i];
    const weft_device_caps_t* caps = device->info.caps;
    if (device->device == NULL || caps == NULL) {
      continue;
    }
    weft_json_object_begin(json);
    weft_json_member_uint(json, "index", i);
    weft_json_member_string(json, "id", device->info.id);
    weft_json_member_string(json, "plugin", device->info.plugin);
    weft_json_member_string(json, "plugin_path", device->info.plugin_path);
    weft_json_member_string(json, "name", caps->name);
    weft_probe_json_member_text(json, "vendor", caps->vendor);
    weft_probe_json_member_text(json, "driver", caps->driver);
    weft_json_member_string(json, "type",
                            weft_probe_device_type_name(caps->type));
    weft_probe_json_member_text(json, "stable_id", caps->stable_id);
    if (caps->flags & WEFT_DEVICE_FLAG_HAS_UUID) {
      char uuid[37];
      weft_probe_uuid_format(caps->uuid, uuid);
      weft_json_member_string(json, "uuid", uuid);
    } else {
      weft_json_member_null(json, "uuid");
    }
    weft_json_member_uint(json, "pci_vendor_id", caps->vendor_id);
    weft_json_member_uint(json, "pci_device_id", caps->device_id);
    weft_json_member_uint(json, "compute_units", caps->compute_units);

    weft_json_key(json, "memory");
    weft_json_object_begin(json);
    weft_json_member_uint(json, "total", caps->memory_total);
    if (caps->memory_free != 0) {
      weft_json_member_uint(json, "free", caps->memory_free);
    } else {
      weft_json_member_null(json, "free");
    }
    weft_json_member_bool(json, "unified",
                          (caps->flags & WEFT_DEVICE_FLAG_UNIFIED_MEMORY) != 0);
    weft_json_member_bool(
        json, "host_visible_local",
        (caps->flags & WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL) != 0);
    weft_json_object_end(json);

    weft_json_member_bool(json, "async",
                          (caps->flags & WEFT_DEVICE_FLAG_ASYNC) != 0);
    weft_json_key(json, "dtypes");
    weft_json_array_begin_compact(json);
    weft_probe_dtypes_each(caps->dtypes, weft_probe_json_name_append, json);
    weft_json_array_end(json);
    weft_json_key(json, "features");
    weft_json_array_begin_compact(json);
    weft_probe_features_each(caps->features, weft_probe_json_name_append, json);
    weft_json_array_end(json);
    weft_json_member_string(json, "features_text", caps->features_text);
    weft_json_member_int(json, "caps_score", caps->score);
    weft_json_member_int(json, "score", device->info.score);
    weft_json_member_uint(json, "physical_index", device->info.physical_index);
    weft_json_member_bool(json, "preferred", device->info.preferred != 0);
    weft_json_key(json, "same_physical_device");
    weft_json_array_begin_compact(json);
    for (size_t j = 0; j < report->device_count; ++j) {
      const weft_probe_device_t* other = &report->devices[j];
      if (j != i && other->info.physical_index == device->info.physical_index) {
        weft_json_string(json, other->info.id);
      }
    }
    weft_json_array_end(json);
    const weft_probe_device_t* preferred =
        weft_probe_preferred_get(report, device);
    weft_json_member_string(json, "preferred_id",
                            preferred != NULL ? preferred->info.id : NULL);
    weft_json_member_bool(json, "default", i == report->default_index);
    weft_json_object_end(json);
  }
  weft_json_array_end(json);
}

static void weft_probe_json_default(weft_json_writer_t* json,
                                    const weft_probe_report_t* report) {
  weft_json_key(json, "default_device");
  if (report->default_index == SIZE_MAX) {
    weft_json_null(json);
    return;
  }
  const weft_probe_device_t* device = &report->devices[report->default_index];
  weft_json_object_begin(json);
  weft_json_member_string(json, "id", device->info.id);
  weft_json_member_uint(json, "index", report->default_index);
  weft_json_member_string(json, "name",
                          device->info.caps ? device->info.caps->name : NULL);
  weft_json_member_string(json, "reason", report->default_from_env
                                              ? "WEFT_DEVICE"
                                              : "highest-score");
  weft_json_member_string(json, "detail", report->default_detail);
  weft_json_object_end(json);
}

static bool weft_probe_json_write(const weft_probe_report_t* report) {
  weft_json_writer_t json;
  char abi[24];
  weft_probe_abi_format(weft_version_abi_get(), abi, sizeof(abi));
  weft_json_writer_init(&json, stdout, 2);
  weft_json_object_begin(&json);
  weft_json_member_string(&json, "schema", "weft-probe");
  weft_json_member_int(&json, "schema_version", WEFT_PROBE_SCHEMA_VERSION);
  weft_json_member_string(&json, "weft_version", weft_version_get());
  weft_json_member_string(&json, "abi_version", abi);

  weft_json_key(&json, "environment");
  weft_json_object_begin(&json);
  weft_json_member_bool(&json, "ignored", !report->env_trusted);
  for (size_t i = 0; i < WEFT_PROBE_ENV_COUNT; ++i) {
    weft_json_member_string(&json, weft_probe_env_names[i],
                            getenv(weft_probe_env_names[i]));
  }
  weft_json_object_end(&json);

  weft_probe_json_search_path(&json, report);
  weft_probe_json_plugins(&json, report);
  weft_probe_json_devices(&json, report);
  weft_probe_json_default(&json, report);
  weft_json_member_bool(&json, "usable", weft_probe_report_usable(report));
  weft_json_object_end(&json);
  return weft_json_writer_finish(&json);
}

/* ---- human output ---- */

typedef struct weft_probe_style_t {
  bool color;
} weft_probe_style_t;

static const char* weft_probe_outcome_color(uint32_t outcome) {
  switch (outcome) {
    case WEFT_PLUGIN_OUTCOME_ACTIVE: return "\033[32m";      /* green */
    case WEFT_PLUGIN_OUTCOME_PASSED_OVER: return "\033[36m"; /* cyan */
    case WEFT_PLUGIN_OUTCOME_UNAVAILABLE: return "\033[33m"; /* yellow */
    case WEFT_PLUGIN_OUTCOME_SKIPPED: return "\033[31m";     /* red */
    default: return "";
  }
}

static void weft_probe_heading(const weft_probe_style_t* style,
                               const char* format, ...)
    __attribute__((format(printf, 2, 3)));
static void weft_probe_heading(const weft_probe_style_t* style,
                               const char* format, ...) {
  va_list args;
  va_start(args, format);
  fputs(style->color ? "\n\033[1m" : "\n", stdout);
  vprintf(format, args);
  fputs(style->color ? "\033[0m\n" : "\n", stdout);
  va_end(args);
}

/* A table of owned cells printed with aligned columns. Each row may carry
 * detail lines printed under it, and one coloured column. */
#define WEFT_PROBE_TABLE_MAX_COLUMNS 10

typedef struct weft_probe_table_t {
  size_t columns;
  const char* headers[WEFT_PROBE_TABLE_MAX_COLUMNS];
  bool right_align[WEFT_PROBE_TABLE_MAX_COLUMNS];
  size_t color_column;   /* SIZE_MAX: none */
  size_t rows;
  size_t capacity;
  char** cells;          /* rows * columns */
  char** details;        /* per row, '\n'-separated, may be NULL */
  const char** colors;   /* per row */
  bool failed;
} weft_probe_table_t;

static void weft_probe_table_init(weft_probe_table_t* out_table, size_t columns,
                                  const char* const* headers) {
  memset(out_table, 0, sizeof(*out_table));
  out_table->columns = columns;
  out_table->color_column = SIZE_MAX;
  for (size_t i = 0; i < columns; ++i) {
    out_table->headers[i] = headers[i];
  }
}

static void weft_probe_table_deinit(weft_probe_table_t* table) {
  for (size_t i = 0; i < table->rows * table->columns; ++i) {
    free(table->cells[i]);
  }
  for (size_t i = 0; i < table->rows; ++i) {
    free(table->details[i]);
  }
  free(table->cells);
  free(table->details);
  free(table->colors);
  memset(table, 0, sizeof(*table));
}

/* Adds a row; `cells` are copied, `details` (owned, may be NULL) is taken. */
static void weft_probe_table_row_add(weft_probe_table_t* table,
                                     const char* const* cells, char* details,
                                     const char* color) {
  if (table->failed) {
    free(details);
    return;
  }
  if (table->rows == table->capacity) {
    size_t capacity = table->capacity ? table->capacity * 2 : 8;
    char** new_cells =
        realloc(table->cells, capacity * table->columns * sizeof(char*));
    if (new_cells != NULL) {
      table->cells = new_cells;
    }
    char** new_details = realloc(table->details, capacity * sizeof(char*));
    if (new_details != NULL) {
      table->details = new_details;
    }
    const char** new_colors = realloc(table->colors, capacity * sizeof(char*));
    if (new_colors != NULL) {
      table->colors = new_colors;
    }
    if (new_cells == NULL || new_details == NULL || new_colors == NULL) {
      table->failed = true;
      free(details);
      return;
    }
    table->capacity = capacity;
  }
  char** row = &table->cells[table->rows * table->columns];
  for (size_t i = 0; i < table->columns; ++i) {
    const char* text = cells[i] != NULL ? cells[i] : "";
    row[i] = malloc(strlen(text) + 1);
    if (row[i] == NULL) {
      table->failed = true;
    } else {
      memcpy(row[i], text, strlen(text) + 1);
    }
  }
  table->details[table->rows] = details;
  table->colors[table->rows] = color;
  table->rows++;
}

/* Display width of UTF-8 text, counting code points (good enough for the
 * names and paths shown here). */
static size_t weft_probe_width(const char* text) {
  size_t width = 0;
  for (const unsigned char* p = (const unsigned char*)text; *p; ++p) {
    if ((*p & 0xC0) != 0x80) {
      ++width;
    }
  }
  return width;
}

static void weft_probe_table_print(const weft_probe_table_t* table,
                                   const weft_probe_style_t* style) {
  size_t widths[WEFT_PROBE_TABLE_MAX_COLUMNS] = {0};
  if (table->failed) {
    return;  /* cells may be missing; the caller reports out of memory */
  }
  for (size_t c = 0; c < table->columns; ++c) {
    widths[c] = weft_probe_width(table->headers[c]);
    for (size_t r = 0; r < table->rows; ++r) {
      size_t w = weft_probe_width(table->cells[r * table->columns + c]);
      if (w > widths[c]) {
        widths[c] = w;
      }
    }
  }
  for (size_t r = 0; r <= table->rows; ++r) {
    bool header = r == 0;
    const char* const* row =
        header ? table->headers
               : (const char* const*)&table->cells[(r - 1) * table->columns];
    fputs("  ", stdout);
    if (header && style->color) {
      fputs("\033[2m", stdout);
    }
    for (size_t c = 0; c < table->columns; ++c) {
      const char* text = row[c];
      bool last = c + 1 == table->columns;
      size_t pad = widths[c] - weft_probe_width(text);
      bool colored = !header && style->color && c == table->color_column &&
                     table->colors[r - 1] != NULL &&
                     table->colors[r - 1][0] != '\0';
      if (table->right_align[c]) {
        printf("%*s", (int)pad, "");
      }
      if (colored) {
        fputs(table->colors[r - 1], stdout);
      }
      fputs(text, stdout);
      if (colored) {
        fputs("\033[0m", stdout);
      }
      if (!last) {
        if (!table->right_align[c]) {
          printf("%*s", (int)pad, "");
        }
        fputs("  ", stdout);
      }
    }
    if (header && style->color) {
      fputs("\033[0m", stdout);
    }
    fputc('\n', stdout);
    const char* details = header ? NULL : table->details[r - 1];
    while (details != NULL && details[0] != '\0') {
      const char* end = strchr(details, '\n');
      size_t length = end ? (size_t)(end - details) : strlen(details);
      printf("      %.*s\n", (int)length, details);
      details = end ? end + 1 : NULL;
    }
  }
}

static bool weft_probe_human_search_path(const weft_probe_report_t* report,
                                         const weft_probe_style_t* style) {
  static const char* const headers[] = {"#", "ORIGIN", "KIND", "PATH"};
  weft_probe_table_t table;
  weft_probe_heading(style, "Search path (searched in this order)");
  if (report->path_count == 0) {
    printf("  (empty: only the built-in reference CPU backend is available)\n");
    return true;
  }
  weft_probe_table_init(&table, 4, headers);
  table.right_align[0] = true;
  for (size_t i = 0; i < report->path_count; ++i) {
    const weft_search_path_t* entry =
        weft_runtime_search_path_get(report->runtime, i);
    if (entry == NULL) {
      continue;
    }
    char index[24];
    snprintf(index, sizeof(index), "%zu", i);
    const char* cells[] = {index, weft_probe_origin_name(entry->origin),
                           weft_probe_kind_short_name(entry->kind),
                           entry->path};
    weft_probe_table_row_add(&table, cells, NULL, NULL);
  }
  weft_probe_table_print(&table, style);
  bool ok = !table.failed;
  weft_probe_table_deinit(&table);
  return ok;
}

static char* weft_probe_plugin_details(const weft_probe_report_t* report,
                                       const weft_plugin_record_t* record,
                                       int verbosity) {
  weft_probe_text_t text = {0};
  const char* reason = record->reason != NULL ? record->reason : "";
  switch (record->outcome) {
    case WEFT_PLUGIN_OUTCOME_PASSED_OVER: {
      /* libweft's reason names the winner already; build one if it is
       * silent. */
      const weft_plugin_record_t* winner = weft_probe_winner_get(report, record);
      if (reason[0] != '\0') {
        weft_probe_text_append(&text, "%s", reason);
      } else if (winner != NULL) {
        weft_probe_text_append(&text,
                               "passed over for '%s' (variant score %" PRId32
                               " vs %" PRId32 ")",
                               weft_probe_or_dash(winner->name),
                               winner->variant_score, record->variant_score);
      } else {
        weft_probe_text_append(&text, "passed over");
      }
      break;
    }
    case WEFT_PLUGIN_OUTCOME_UNAVAILABLE:
      weft_probe_text_append(&text, "unavailable here: %s",
                             weft_probe_or_dash(reason));
      break;
    case WEFT_PLUGIN_OUTCOME_SKIPPED:
      weft_probe_text_append(&text, "skipped at %s",
                             weft_probe_stage_name(record->stage));
      if (record->status_code != WEFT_STATUS_OK) {
        weft_probe_text_append(
            &text, " [%s]",
            weft_status_code_name((weft_status_code_t)record->status_code));
      }
      weft_probe_text_append(&text, ": %s", weft_probe_or_dash(reason));
      break;
    default:
      break;
  }
  if (record->built_for != NULL && record->built_for[0] != '\0') {
    weft_probe_text_append(&text, "%sbuilt for: %s", text.length ? "\n" : "",
                           record->built_for);
  }
  if (record->min_driver != NULL && record->min_driver[0] != '\0') {
    weft_probe_text_append(&text, "%sneeds driver: %s",
                           text.length ? "\n" : "", record->min_driver);
  }
  if (verbosity > 0 && record->description != NULL &&
      record->description[0] != '\0') {
    weft_probe_text_append(&text, "%s%s", text.length ? "\n" : "",
                           record->description);
  }
  return weft_probe_text_take(&text);
}

static bool weft_probe_human_plugins(const weft_probe_report_t* report,
                                     const weft_probe_style_t* style,
                                     int verbosity) {
  static const char* const headers[] = {"OUTCOME", "STAGE", "NAME",
                                        "FAMILY",  "VERSION", "ABI",
                                        "VARIANT", "DEVICES", "FILE"};
  size_t counts[4] = {0};
  weft_probe_table_t table;
  weft_probe_table_init(&table, 9, headers);
  table.color_column = 0;
  table.right_align[6] = true;
  table.right_align[7] = true;
  for (size_t i = 0; i < report->plugin_count; ++i) {
    const weft_plugin_record_t* record =
        weft_runtime_plugin_get(report->runtime, i);
    if (record == NULL) {
      continue;
    }
    if (record->outcome < 4) {
      counts[record->outcome]++;
    }
    char abi[24];
    char score[24];
    char devices[24];
    weft_probe_abi_format(record->abi_version, abi, sizeof(abi));
    bool negotiated = record->abi_version != 0;
    snprintf(score, sizeof(score), "%" PRId32, record->variant_score);
    snprintf(devices, sizeof(devices), "%" PRIu32, record->device_count);
    const char* cells[] = {
        weft_probe_outcome_name(record->outcome),
        weft_probe_stage_name(record->stage),
        weft_probe_or_dash(record->name),
        weft_probe_or_dash(record->family),
        weft_probe_or_dash(record->version),
        abi,
        negotiated ? score : "-",
        record->outcome == WEFT_PLUGIN_OUTCOME_ACTIVE ? devices : "-",
        weft_probe_or_dash(record->path),
    };
    char* details = weft_probe_plugin_details(report, record, verbosity);
    if (details == NULL) {
      table.failed = true;
    }
    weft_probe_table_row_add(&table, cells, details,
                             weft_probe_outcome_color(record->outcome));
  }
  weft_probe_heading(style,
                     "Plugins (%zu: %zu active, %zu passed over, %zu "
                     "unavailable, %zu skipped)",
                     report->plugin_count, counts[0], counts[1], counts[2],
                     counts[3]);
  weft_probe_table_print(&table, style);
  printf(
      "  Outcomes: active = its devices are in the registry; passed-over = a\n"
      "  better variant of its family won; unavailable = loaded, but its "
      "probe\n"
      "  says it cannot run here; skipped = failed at STAGE (discover, "
      "filter,\n"
      "  open, symbol, negotiate, probe, select, instance), reason below it.\n");
  bool ok = !table.failed;
  weft_probe_table_deinit(&table);
  return ok;
}

static char* weft_probe_device_details(const weft_probe_report_t* report,
                                       const weft_probe_device_t* device) {
  const weft_device_caps_t* caps = device->info.caps;
  weft_probe_text_t text = {0};
  char total[32];
  char free_bytes[32];
  weft_probe_bytes_format(caps->memory_total, total, sizeof(total));
  weft_probe_bytes_format(caps->memory_free, free_bytes, sizeof(free_bytes));

  weft_probe_text_append(&text, "vendor: %s   driver: %s   stable id: %s",
                         weft_probe_or_dash(caps->vendor),
                         weft_probe_or_dash(caps->driver),
                         weft_probe_or_dash(caps->stable_id));
  if (caps->flags & WEFT_DEVICE_FLAG_HAS_UUID) {
    char uuid[37];
    weft_probe_uuid_format(caps->uuid, uuid);
    weft_probe_text_append(&text, "   uuid: %s", uuid);
  }
  weft_probe_text_append(&text, "\nmemory: total %s, free %s", total,
                         caps->memory_free ? free_bytes : "unknown");
  if (caps->flags & WEFT_DEVICE_FLAG_UNIFIED_MEMORY) {
    weft_probe_text_append(&text, ", unified with host");
  }
  if (caps->flags & WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL) {
    weft_probe_text_append(&text, ", host-mappable");
  }
  if (caps->compute_units != 0) {
    weft_probe_text_append(&text, "   compute units: %" PRIu32,
                           caps->compute_units);
  }
  weft_probe_text_append(&text, "\ndtypes: ");
  size_t mark = text.length;
  weft_probe_text_t names = {0};
  weft_probe_dtypes_each(caps->dtypes, weft_probe_text_name_append, &names);
  weft_probe_text_append(&text, "%s", names.data ? names.data : "");
  free(names.data);
  memset(&names, 0, sizeof(names));
  if (text.length == mark) {
    weft_probe_text_append(&text, "-");
  }
  weft_probe_features_each(caps->features, weft_probe_text_name_append, &names);
  if (caps->flags & WEFT_DEVICE_FLAG_ASYNC) {
    weft_probe_text_name_append(&names, "async");
  }
  weft_probe_text_append(&text, "\nfeatures: %s", weft_probe_or_dash(names.data));
  free(names.data);
  if (caps->features_text[0] != '\0') {
    weft_probe_text_append(&text, "   (%s)", caps->features_text);
  }
  weft_probe_text_append(&text, "\nfrom: %s",
                         weft_probe_or_dash(device->info.plugin_path));
  if (weft_probe_same_physical_count(report, device) > 0) {
    weft_probe_text_t others = {0};
    for (size_t j = 0; j < report->device_count; ++j) {
      const weft_probe_device_t* other = &report->devices[j];
      if (other != device &&
          other->info.physical_index == device->info.physical_index) {
        weft_probe_text_name_append(&others, other->info.id);
      }
    }
    const weft_probe_device_t* preferred =
        weft_probe_preferred_get(report, device);
    weft_probe_text_append(
        &text, "\nsame physical device as: %s; preferred path: %s%s",
        weft_probe_or_dash(others.data),
        preferred != NULL ? preferred->info.id : "-",
        device->info.preferred ? " (this one)" : "");
    free(others.data);
  }
  return weft_probe_text_take(&text);
}

static bool weft_probe_human_devices(const weft_probe_report_t* report,
                                     const weft_probe_style_t* style) {
  static const char* const headers[] = {"#",     "ID",   "TYPE", "SCORE",
                                        "FREE", "TOTAL", "NAME"};
  weft_probe_heading(style, "Devices (%zu, highest score first)",
                     report->device_count);
  if (report->device_count == 0) {
    printf("  (none)\n");
    return true;
  }
  weft_probe_table_t table;
  weft_probe_table_init(&table, 7, headers);
  table.right_align[0] = true;
  table.right_align[3] = true;
  table.right_align[4] = true;
  table.right_align[5] = true;
  table.color_column = 1;
  for (size_t i = 0; i < report->device_count; ++i) {
    const weft_probe_device_t* device = &report->devices[i];
    const weft_device_caps_t* caps = device->info.caps;
    if (device->device == NULL || caps == NULL) {
      continue;
    }
    char index[24];
    char score[24];
    char total[32];
    char free_bytes[32];
    snprintf(index, sizeof(index), "%s%zu",
             i == report->default_index ? "*" : "", i);
    snprintf(score, sizeof(score), "%" PRId32, device->info.score);
    weft_probe_bytes_format(caps->memory_total, total, sizeof(total));
    weft_probe_bytes_format(caps->memory_free, free_bytes, sizeof(free_bytes));
    const char* cells[] = {index, device->info.id,
                           weft_probe_device_type_name(caps->type), score,
                           free_bytes, total, caps->name};
    char* details = weft_probe_device_details(report, device);
    if (details == NULL) {
      table.failed = true;
    }
    weft_probe_table_row_add(&table, cells, details,
                             i == report->default_index ? "\033[1m" : NULL);
  }
  weft_probe_table_print(&table, style);
  printf("  * marks the default device. Typical scores: discrete GPU ~1000,\n"
         "  accelerator ~700, integrated GPU ~600, SIMD CPU 200-400, reference "
         "CPU 100,\n  CPU implementation of a GPU API 50.\n");
  bool ok = !table.failed;
  weft_probe_table_deinit(&table);
  return ok;
}

static bool weft_probe_human_write(const weft_probe_report_t* report,
                                   const weft_probe_style_t* style,
                                   int verbosity) {
  char abi[24];
  weft_probe_abi_format(weft_version_abi_get(), abi, sizeof(abi));
  printf("%sweft-probe %s%s (libweft %s, plugin ABI %s)\n", style->color ? "\033[1m" : "",
         WEFT_PROBE_VERSION, style->color ? "\033[0m" : "", weft_version_get(), abi);

  /* The variables that change what is found, so a report pasted into a bug
   * shows them. */
  bool any = false;
  for (size_t i = 0; i < WEFT_PROBE_ENV_COUNT; ++i) {
    const char* value = getenv(weft_probe_env_names[i]);
    if (value != NULL) {
      printf("%s%s=%s", any ? "  " : "Environment: ", weft_probe_env_names[i],
             value);
      any = true;
    }
  }
  if (any) {
    printf("%s\n", report->env_trusted
                       ? ""
                       : "  (ignored: set-uid/set-gid process)");
  } else {
    printf("Environment: no WEFT_* variables set\n");
  }

  bool ok = weft_probe_human_search_path(report, style);
  ok = weft_probe_human_plugins(report, style, verbosity) && ok;
  ok = weft_probe_human_devices(report, style) && ok;

  weft_probe_heading(style, "Default device");
  if (report->default_index == SIZE_MAX) {
    printf("  none: no usable device (%s)\n", report->default_detail);
  } else {
    const weft_probe_device_t* device =
        &report->devices[report->default_index];
    printf("  %s%s%s  %s\n  why: %s\n", style->color ? "\033[1m" : "",
           device->info.id, style->color ? "\033[0m" : "",
           device->info.caps ? device->info.caps->name : "",
           report->default_detail);
  }
  return ok;
}

/* ---- command line ---- */

static void weft_probe_usage_print(FILE* out) {
  fprintf(out,
          "usage: weft-probe [options]\n"
          "\n"
          "Shows where libweft looks for plugins, what it found and why each\n"
          "plugin is or is not used, the devices it registered, and the device\n"
          "an application gets by default.\n"
          "\n"
          "options:\n"
          "  --json               print one JSON document (schema: "
          "docs/probe-json.md)\n"
          "  --plugin-path PATH   search PATH (a directory or a plugin file) "
          "first;\n"
          "                       may be given several times\n"
          "  --no-default-paths   do not search <libweft dir>/plugins nor the "
          "install\n"
          "                       directory\n"
          "  -v, -vv              log loader messages at info (-v) or debug "
          "(-vv)\n"
          "                       level on stderr (default: WEFT_LOG, else "
          "warn)\n"
          "  -h, --help           show this help and exit\n"
          "  --version            show the version and exit\n"
          "\n"
          "environment: WEFT_PLUGIN_PATH, WEFT_PLUGINS_DISABLE, "
          "WEFT_PLUGINS_ONLY,\n"
          "WEFT_DEVICE, WEFT_LOG, NO_COLOR (docs/plugin-discovery.md)\n"
          "\n"
          "exit status: 0 a usable device exists, 1 none, 2 usage error\n");
}

/* Returns false on a usage error, after saying what it was. */
static bool weft_probe_options_parse(int argc, char** argv,
                                     weft_probe_options_t* options) {
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (strcmp(arg, "--json") == 0) {
      options->json = true;
    } else if (strcmp(arg, "--no-default-paths") == 0) {
      options->no_default_paths = true;
    } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      options->help = true;
    } else if (strcmp(arg, "--version") == 0) {
      options->version = true;
    } else if (strcmp(arg, "--verbose") == 0) {
      options->verbosity++;
    } else if (arg[0] == '-' && arg[1] == 'v' &&
               strspn(arg + 1, "v") == strlen(arg + 1)) {
      options->verbosity += (int)strlen(arg + 1);
    } else if (strcmp(arg, "--plugin-path") == 0 ||
               strncmp(arg, "--plugin-path=", 14) == 0) {
      const char* value;
      if (arg[13] == '=') {
        value = arg + 14;
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        fprintf(stderr, "weft-probe: --plugin-path needs a path\n");
        return false;
      }
      if (value[0] == '\0') {
        fprintf(stderr, "weft-probe: --plugin-path needs a non-empty path\n");
        return false;
      }
      options->plugin_paths[options->plugin_path_count++] = value;
    } else {
      fprintf(stderr, "weft-probe: unknown argument '%s' (try --help)\n", arg);
      return false;
    }
  }
  return true;
}

static void weft_probe_log_print(void* user, weft_log_level_t level,
                                 const char* source, const char* message) {
  (void)user;
  fprintf(stderr, "weft-probe: %s: %s: %s\n", weft_log_level_name(level),
          source != NULL ? source : "weft", message != NULL ? message : "");
}

int main(int argc, char** argv) {
  weft_probe_options_t options = {0};
  /* At most one path per argument. */
  options.plugin_paths =
      calloc((size_t)argc + 1, sizeof(options.plugin_paths[0]));
  if (options.plugin_paths == NULL) {
    fprintf(stderr, "weft-probe: out of memory\n");
    return WEFT_PROBE_EXIT_NO_DEVICE;
  }
  if (!weft_probe_options_parse(argc, argv, &options)) {
    free(options.plugin_paths);
    return WEFT_PROBE_EXIT_USAGE;
  }
  if (options.help) {
    weft_probe_usage_print(stdout);
    free(options.plugin_paths);
    return WEFT_PROBE_EXIT_USABLE;
  }
  if (options.version) {
    char abi[24];
    weft_probe_abi_format(weft_version_abi_get(), abi, sizeof(abi));
    printf("weft-probe %s (libweft %s, plugin ABI %s)\n", WEFT_PROBE_VERSION,
           weft_version_get(), abi);
    free(options.plugin_paths);
    return WEFT_PROBE_EXIT_USABLE;
  }

  weft_runtime_options_t runtime_options;
  weft_runtime_options_init(&runtime_options);
  runtime_options.plugin_paths = options.plugin_paths;
  runtime_options.plugin_path_count = options.plugin_path_count;
  if (options.no_default_paths) {
    runtime_options.flags |= WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  }
  runtime_options.log_fn = weft_probe_log_print;
  runtime_options.log_user = NULL;
  /* -v and -vv only ever raise the level WEFT_LOG asks for. */
  if (options.verbosity > 0) {
    int level = options.verbosity >= 2 ? WEFT_LOG_LEVEL_DEBUG
                                       : WEFT_LOG_LEVEL_INFO;
    int from_env = weft_probe_env_log_level();
    runtime_options.log_level = from_env > level ? from_env : level;
  } else {
    runtime_options.log_level = -1;
  }

  weft_runtime_t* runtime = NULL;
  weft_status_t status = weft_runtime_create(
      &runtime_options, weft_allocator_system(), &runtime);
  if (!weft_status_is_ok(status)) {
    fprintf(stderr, "weft-probe: cannot create a runtime: %s: %s\n",
            weft_status_code_name(weft_status_code(status)),
            weft_status_message(status));
    weft_status_free(status);
    free(options.plugin_paths);
    return WEFT_PROBE_EXIT_NO_DEVICE;
  }

  int exit_code = WEFT_PROBE_EXIT_NO_DEVICE;
  weft_probe_report_t report;
  if (!weft_probe_report_init(runtime, &report)) {
    fprintf(stderr, "weft-probe: out of memory\n");
  } else {
    bool written;
    if (options.json) {
      written = weft_probe_json_write(&report);
    } else {
      const char* no_color = getenv("NO_COLOR");
      weft_probe_style_t style = {
          .color = isatty(STDOUT_FILENO) &&
                   (no_color == NULL || no_color[0] == '\0'),
      };
      written = weft_probe_human_write(&report, &style, options.verbosity);
      written = fflush(stdout) == 0 && !ferror(stdout) && written;
    }
    if (!written) {
      fprintf(stderr, "weft-probe: could not write the report\n");
    } else if (weft_probe_report_usable(&report)) {
      exit_code = WEFT_PROBE_EXIT_USABLE;
    }
  }
  weft_probe_report_deinit(&report);
  weft_runtime_destroy(runtime);
  free(options.plugin_paths);
  return exit_code;
}
