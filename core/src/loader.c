/* Plugin discovery and loading, in the manner of the Vulkan loader: every
 * file found is carried through the stages discover, filter, open, symbol,
 * negotiate, probe, select and instance, and the first stage that fails is
 * recorded with its reason. Nothing a plugin does wrong fails the host. */
#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env.h"
#include "host_services.h"
#include "logger.h"
#include "registry.h"
#include "util.h"

#define WEFT_PLUGIN_FILE_PREFIX "libweft-"
#define WEFT_PLUGIN_FILE_SUFFIX ".so"
/* More devices than this from one plugin is taken as a broken plugin. */
#define WEFT_MAX_DEVICES_PER_PLUGIN 4096u
/* The oldest ABI this host still accepts. */
#define WEFT_ABI_MIN_VERSION WEFT_ABI_MAKE_VERSION(1, 0)

static char weft_empty_string[] = "";

/* Plugins that got through probe and wait for variant selection. */
typedef struct weft_pending_t {
  weft_plugin_t** items;
  size_t count;
  size_t capacity;
} weft_pending_t;

/* ---- records ---- */

static void weft_record_string_free(weft_runtime_t* runtime, const char* text) {
  if (text && text != weft_empty_string) weft__free(runtime->allocator, (void*)text);
}

static void weft_record_free(weft_runtime_t* runtime, weft_plugin_record_t* record) {
  weft_record_string_free(runtime, record->path);
  weft_record_string_free(runtime, record->reason);
  weft_record_string_free(runtime, record->name);
  weft_record_string_free(runtime, record->family);
  weft_record_string_free(runtime, record->version);
  weft_record_string_free(runtime, record->description);
  weft_record_string_free(runtime, record->built_for);
  weft_record_string_free(runtime, record->min_driver);
}

void weft__records_free(weft_runtime_t* runtime) {
  for (size_t i = 0; i < runtime->record_count; ++i) {
    weft_record_free(runtime, &runtime->records[i]);
  }
  weft__free(runtime->allocator, runtime->records);
  runtime->records = NULL;
  runtime->record_count = runtime->record_capacity = 0;
}

static weft_status_t weft_record_append(weft_runtime_t* runtime, const char* path,
                                        size_t search_index, size_t* out_index) {
  WEFT_RETURN_IF_ERROR(weft__array_reserve_one(
      runtime->allocator, (void**)&runtime->records, &runtime->record_capacity,
      runtime->record_count, sizeof(weft_plugin_record_t)));
  char* path_copy = NULL;
  WEFT_RETURN_IF_ERROR(weft__strdup(runtime->allocator, path, &path_copy));
  weft_plugin_record_t* record = &runtime->records[runtime->record_count];
  memset(record, 0, sizeof(*record));
  record->path = path_copy;
  record->outcome = WEFT_PLUGIN_OUTCOME_SKIPPED;
  record->stage = WEFT_PLUGIN_STAGE_DISCOVER;
  record->status_code = WEFT_STATUS_OK;
  record->reason = record->name = record->family = record->version =
      record->description = record->built_for = record->min_driver =
          weft_empty_string;
  record->search_path_index = search_index;
  *out_index = runtime->record_count++;
  return WEFT_OK;
}

/* Sets a record's outcome and reason. Only out-of-memory fails. */
static weft_status_t weft_record_set(weft_runtime_t* runtime, size_t index,
                                     weft_plugin_outcome_t outcome,
                                     weft_plugin_stage_t stage,
                                     weft_status_code_t code,
                                     const char* format, ...)
    __attribute__((format(printf, 6, 7)));

static weft_status_t weft_record_set(weft_runtime_t* runtime, size_t index,
                                     weft_plugin_outcome_t outcome,
                                     weft_plugin_stage_t stage,
                                     weft_status_code_t code,
                                     const char* format, ...) {
  char reason[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(reason, sizeof(reason), format, args);
  va_end(args);
  char* copy = NULL;
  WEFT_RETURN_IF_ERROR(weft__strdup(runtime->allocator, reason, &copy));
  weft_plugin_record_t* record = &runtime->records[index];
  weft_record_string_free(runtime, record->reason);
  record->reason = copy;
  record->outcome = outcome;
  record->stage = stage;
  record->status_code = code;
  weft__log(runtime,
            outcome == WEFT_PLUGIN_OUTCOME_SKIPPED ? WEFT_LOG_LEVEL_WARN
                                                   : WEFT_LOG_LEVEL_INFO,
            "loader", "%s: %s at %s: %s", record->path,
            weft_plugin_outcome_name(outcome), weft_plugin_stage_name(stage),
            reason);
  return WEFT_OK;
}

static weft_status_t weft_record_mark_active(weft_runtime_t* runtime, size_t index,
                                             uint32_t device_count) {
  weft_plugin_record_t* record = &runtime->records[index];
  weft_record_string_free(runtime, record->reason);
  record->reason = weft_empty_string;
  record->outcome = WEFT_PLUGIN_OUTCOME_ACTIVE;
  record->stage = WEFT_PLUGIN_STAGE_READY;
  record->status_code = WEFT_STATUS_OK;
  record->device_count = device_count;
  weft__log(runtime, WEFT_LOG_LEVEL_INFO, "loader",
            "%s: active as '%s' (ABI %u.%u, %u device%s)", record->path,
            record->name, WEFT_ABI_VERSION_MAJOR_OF(record->abi_version),
            WEFT_ABI_VERSION_MINOR_OF(record->abi_version), device_count,
            device_count == 1 ? "" : "s");
  return WEFT_OK;
}

/* Copies a string the plugin owns, bounded, into the record. */
static weft_status_t weft_record_copy_text(weft_runtime_t* runtime,
                                           const char** field, const char* text) {
  if (!text || !text[0]) return WEFT_OK;
  char bounded[512];
  weft__strlcpy(bounded, text, sizeof(bounded));
  char* copy = NULL;
  WEFT_RETURN_IF_ERROR(weft__strdup(runtime->allocator, bounded, &copy));
  weft_record_string_free(runtime, *field);
  *field = copy;
  return WEFT_OK;
}

/* ---- search path ---- */

static uint32_t weft_path_kind(const char* path) {
  struct stat info;
  if (stat(path, &info) != 0) return 0;
  if (S_ISDIR(info.st_mode)) return 1;
  if (S_ISREG(info.st_mode)) return 2;
  return 3;
}

weft_status_t weft__search_path_append(weft_runtime_t* runtime, const char* path,
                                       weft_path_origin_t origin) {
  WEFT_RETURN_IF_ERROR(weft__array_reserve_one(
      runtime->allocator, (void**)&runtime->search_path,
      &runtime->search_path_capacity, runtime->search_path_count,
      sizeof(weft_search_path_t)));
  char* copy = NULL;
  WEFT_RETURN_IF_ERROR(weft__strdup(runtime->allocator, path, &copy));
  weft_search_path_t* entry = &runtime->search_path[runtime->search_path_count++];
  entry->path = copy;
  entry->origin = origin;
  entry->kind = weft_path_kind(path);
  return WEFT_OK;
}

/* Appends a default entry unless it names a directory already on the path
 * (the install directory is often the one beside the library). Missing
 * defaults stay listed, so weft-probe shows everywhere it looked. */
static weft_status_t weft_search_path_append_default(weft_runtime_t* runtime,
                                                     const char* path,
                                                     weft_path_origin_t origin) {
  char resolved[PATH_MAX];
  if (realpath(path, resolved)) {
    for (size_t i = 0; i < runtime->search_path_count; ++i) {
      char other[PATH_MAX];
      if (realpath(runtime->search_path[i].path, other) && strcmp(other, resolved) == 0) {
        return WEFT_OK;
      }
    }
  }
  return weft__search_path_append(runtime, path, origin);
}

/* The directory "plugins" beside the binary that holds libweft's code: the
 * shared library, or the executable when linked statically. */
static weft_status_t weft_search_path_beside_library(weft_runtime_t* runtime) {
  Dl_info info;
  char location[PATH_MAX];
  location[0] = '\0';
  if (dladdr((void*)&weft_runtime_create, &info) != 0 && info.dli_fname &&
      strchr(info.dli_fname, '/')) {
    weft__strlcpy(location, info.dli_fname, sizeof(location));
  } else {
    ssize_t length = readlink("/proc/self/exe", location, sizeof(location) - 1);
    if (length <= 0) return WEFT_OK;
    location[length] = '\0';
  }
  char resolved[PATH_MAX];
  if (realpath(location, resolved)) weft__strlcpy(location, resolved, sizeof(location));
  char* slash = strrchr(location, '/');
  if (!slash) return WEFT_OK;
  *slash = '\0';
  /* "plugins" beside the library, and "weft/plugins" beside it, which is
   * where an installation keeps them: so a relocated install still finds its
   * own plugins. */
  static const char* const subdirs[] = {"plugins", "weft/plugins"};
  for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); ++i) {
    char* directory = NULL;
    WEFT_RETURN_IF_ERROR(weft__strprintf(runtime->allocator, &directory, "%s/%s",
                                         location, subdirs[i]));
    weft_status_t status = weft_search_path_append_default(
        runtime, directory, WEFT_PATH_ORIGIN_BESIDE_LIBRARY);
    weft__free(runtime->allocator, directory);
    WEFT_RETURN_IF_ERROR(status);
  }
  return WEFT_OK;
}

weft_status_t weft__search_path_build(weft_runtime_t* runtime,
                                      const weft_runtime_options_t* options) {
  if (options) {
    for (size_t i = 0; i < options->plugin_path_count; ++i) {
      const char* path = options->plugin_paths[i];
      if (!path || !path[0]) {
        return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                                "options.plugin_paths[%zu] is %s", i,
                                path ? "empty" : "NULL");
      }
      WEFT_RETURN_IF_ERROR(weft__search_path_append(runtime, path, WEFT_PATH_ORIGIN_API));
    }
  }
  const char* env = weft__env_get(runtime, "WEFT_PLUGIN_PATH");
  if (env) {
    const char* cursor = env;
    while (*cursor) {
      size_t length = strcspn(cursor, ":");
      if (length > 0 && length < PATH_MAX) {
        char entry[PATH_MAX];
        memcpy(entry, cursor, length);
        entry[length] = '\0';
        WEFT_RETURN_IF_ERROR(weft__search_path_append(runtime, entry, WEFT_PATH_ORIGIN_ENV));
      }
      cursor += length;
      if (*cursor) ++cursor;
    }
  }
  if (!(runtime->flags & WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS)) {
    WEFT_RETURN_IF_ERROR(weft_search_path_beside_library(runtime));
    WEFT_RETURN_IF_ERROR(weft_search_path_append_default(runtime, WEFT_INSTALL_PLUGIN_DIR,
                                                         WEFT_PATH_ORIGIN_INSTALL));
  }
  return WEFT_OK;
}

/* ---- plugins ---- */

static weft_status_t weft_plugin_new(weft_runtime_t* runtime, size_t record_index,
                                     void* dl_handle, weft_plugin_t** out_plugin) {
  weft_plugin_t* plugin = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(runtime->allocator, sizeof(*plugin), "a plugin",
                                   (void**)&plugin));
  plugin->runtime = runtime;
  plugin->record_index = record_index;
  plugin->dl_handle = dl_handle;
  weft__host_services_init(&plugin->host, runtime, plugin);
  *out_plugin = plugin;
  return WEFT_OK;
}

void weft__plugin_unload(weft_runtime_t* runtime, weft_plugin_t* plugin) {
  if (!plugin) return;
  for (size_t i = 0; i < runtime->device_count; ++i) {
    weft_device_t* device = runtime->devices[i];
    if (device->plugin != plugin) continue;
    if (device->opened && plugin->table.device_close) {
      plugin->table.device_close(device->opened);
    }
    device->opened = NULL;
    device->retired = true;
  }
  if (plugin->instance && plugin->table.instance_destroy) {
    plugin->table.instance_destroy(plugin->instance);
  }
  plugin->instance = NULL;
  plugin->active = false;
  if (plugin->dl_handle) dlclose(plugin->dl_handle);
  weft__free(runtime->allocator, plugin);
}

static const char* weft_basename(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* "vulkan" for "libweft-vulkan.so"; the whole name for other files. */
static void weft_plugin_file_stem(const char* base, char* out, size_t cap) {
  size_t length = strlen(base);
  size_t prefix = strlen(WEFT_PLUGIN_FILE_PREFIX);
  size_t suffix = strlen(WEFT_PLUGIN_FILE_SUFFIX);
  if (length > prefix + suffix && strncmp(base, WEFT_PLUGIN_FILE_PREFIX, prefix) == 0 &&
      strcmp(base + length - suffix, WEFT_PLUGIN_FILE_SUFFIX) == 0) {
    size_t stem = length - prefix - suffix;
    if (stem >= cap) stem = cap - 1;
    memcpy(out, base + prefix, stem);
    out[stem] = '\0';
    return;
  }
  weft__strlcpy(out, base, cap);
}

/* The interface members every plugin must provide. */
static const char* weft_plugin_missing_function(const weft_plugin_interface_t* t) {
  if (!t->probe) return "probe";
  if (!t->instance_create) return "instance_create";
  if (!t->instance_destroy) return "instance_destroy";
  if (!t->device_count) return "device_count";
  if (!t->device_query_caps) return "device_query_caps";
  if (!t->device_open) return "device_open";
  if (!t->device_close) return "device_close";
  if (!t->buffer_allocate) return "buffer_allocate";
  if (!t->buffer_free) return "buffer_free";
  if (!t->buffer_upload) return "buffer_upload";
  if (!t->buffer_download) return "buffer_download";
  return NULL;
}

/* Negotiates, checks the table, copies the info and probes. On success
 * *out_plugin is a candidate for selection; otherwise the record says why and
 * the plugin (with its handle) is released. Takes ownership of dl_handle. */
static weft_status_t weft_plugin_admit(weft_runtime_t* runtime, size_t record_index,
                                       void* dl_handle,
                                       weft_plugin_negotiate_fn negotiate,
                                       weft_plugin_t** out_plugin) {
  *out_plugin = NULL;
  weft_plugin_t* plugin = NULL;
  weft_status_t status = weft_plugin_new(runtime, record_index, dl_handle, &plugin);
  if (status != WEFT_OK) {
    if (dl_handle) dlclose(dl_handle);
    return status;
  }
  weft_plugin_record_t* record = &runtime->records[record_index];
  bool admitted = false;

  /* Negotiate: the only call before versions agree. */
  weft_negotiation_t negotiation;
  memset(&negotiation, 0, sizeof(negotiation));
  negotiation.struct_size = (uint32_t)sizeof(negotiation);
  negotiation.host_version = WEFT_ABI_VERSION;
  negotiation.host_min_version = WEFT_ABI_MIN_VERSION;
  int32_t answer = negotiate(&negotiation);
  negotiation.refusal[sizeof(negotiation.refusal) - 1] = '\0';
  uint32_t version = negotiation.plugin_version;
  const weft_plugin_interface_t* table = negotiation.plugin;
  const weft_plugin_info_t* info = NULL;
  const char* missing = NULL;
  size_t table_size = 0;
  const size_t table_min = offsetof(weft_plugin_interface_t, device_memory_query);

  if (answer != 0) {
    status = weft_record_set(
        runtime, record_index, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_NEGOTIATE,
        WEFT_STATUS_INCOMPATIBLE,
        "plugin refused ABI negotiation (host speaks %u.%u down to %u.%u): %s",
        WEFT_ABI_VERSION_MAJOR, WEFT_ABI_VERSION_MINOR,
        WEFT_ABI_VERSION_MAJOR_OF(WEFT_ABI_MIN_VERSION),
        WEFT_ABI_VERSION_MINOR_OF(WEFT_ABI_MIN_VERSION),
        negotiation.refusal[0] ? negotiation.refusal : "no reason given");
    goto done;
  }
  if (WEFT_ABI_VERSION_MAJOR_OF(version) != WEFT_ABI_VERSION_MAJOR ||
      version < WEFT_ABI_MIN_VERSION || version > WEFT_ABI_VERSION) {
    status = weft_record_set(
        runtime, record_index, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_NEGOTIATE,
        WEFT_STATUS_INCOMPATIBLE,
        "plugin answered ABI %u.%u; this host speaks %u.%u down to %u.%u",
        WEFT_ABI_VERSION_MAJOR_OF(version), WEFT_ABI_VERSION_MINOR_OF(version),
        WEFT_ABI_VERSION_MAJOR, WEFT_ABI_VERSION_MINOR,
        WEFT_ABI_VERSION_MAJOR_OF(WEFT_ABI_MIN_VERSION),
        WEFT_ABI_VERSION_MINOR_OF(WEFT_ABI_MIN_VERSION));
    goto done;
  }
  if (!table) {
    status = weft_record_set(runtime, record_index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                             WEFT_PLUGIN_STAGE_NEGOTIATE, WEFT_STATUS_INVALID_ARGUMENT,
                             "plugin accepted ABI %u.%u but returned no function table",
                             WEFT_ABI_VERSION_MAJOR_OF(version),
                             WEFT_ABI_VERSION_MINOR_OF(version));
    goto done;
  }
  record->abi_version = version;
  table_size = table->struct_size;
  if (table_size < table_min) {
    status = weft_record_set(runtime, record_index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                             WEFT_PLUGIN_STAGE_NEGOTIATE, WEFT_STATUS_INCOMPATIBLE,
                             "function table is %zu bytes; ABI 1.0 needs at least %zu",
                             table_size, table_min);
    goto done;
  }
  /* Members beyond the plugin's size stay NULL: an older minor simply lacks
   * the newer functions. */
  memcpy(&plugin->table, table,
         table_size < sizeof(plugin->table) ? table_size : sizeof(plugin->table));
  plugin->table.struct_size = (uint32_t)sizeof(plugin->table);
  plugin->abi_version = version;
  info = plugin->table.info;
  if (!info || info->struct_size < offsetof(weft_plugin_info_t, reserved0) ||
      !info->name || !info->name[0]) {
    status = weft_record_set(runtime, record_index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                             WEFT_PLUGIN_STAGE_NEGOTIATE, WEFT_STATUS_INVALID_ARGUMENT,
                             "plugin info is missing, too small or has no name");
    goto done;
  }
  if ((status = weft_record_copy_text(runtime, &record->name, info->name)) != WEFT_OK ||
      (status = weft_record_copy_text(runtime, &record->family,
                                      info->family && info->family[0] ? info->family
                                                                      : info->name)) != WEFT_OK ||
      (status = weft_record_copy_text(runtime, &record->version, info->version)) != WEFT_OK ||
      (status = weft_record_copy_text(runtime, &record->description, info->description)) != WEFT_OK ||
      (status = weft_record_copy_text(runtime, &record->built_for, info->built_for)) != WEFT_OK ||
      (status = weft_record_copy_text(runtime, &record->min_driver, info->min_driver)) != WEFT_OK) {
    goto done;
  }
  record->variant_score = info->variant_score;
  missing = weft_plugin_missing_function(&plugin->table);
  if (missing) {
    status = weft_record_set(runtime, record_index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                             WEFT_PLUGIN_STAGE_NEGOTIATE, WEFT_STATUS_INVALID_ARGUMENT,
                             "function table lacks the required function '%s'", missing);
    goto done;
  }

  /* Filters by plugin name, now that the name is known. */
  if (plugin->dl_handle) {
    char pattern[256];
    const char* disable = weft__env_get(runtime, "WEFT_PLUGINS_DISABLE");
    if (weft__glob_list_match(disable, record->name, pattern, sizeof(pattern))) {
      status = weft_record_set(runtime, record_index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                               WEFT_PLUGIN_STAGE_FILTER, WEFT_STATUS_CANCELLED,
                               "plugin '%s' disabled by WEFT_PLUGINS_DISABLE pattern '%s'",
                               record->name, pattern);
      goto done;
    }
  }

  /* Probe: cheap and side-effect free by contract. */
  {
    weft_probe_result_t* probe = &plugin->probe;
    memset(probe, 0, sizeof(*probe));
    probe->struct_size = (uint32_t)sizeof(*probe);
    weft_status_t probe_status = plugin->table.probe(&plugin->host.services, probe);
    probe->reason[sizeof(probe->reason) - 1] = '\0';
    if (probe_status != WEFT_OK) {
      status = weft_record_set(runtime, record_index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                               WEFT_PLUGIN_STAGE_PROBE, weft_status_code(probe_status),
                               "probe failed: %s", weft_status_message(probe_status));
      weft_status_free(probe_status);
      goto done;
    }
    if (!probe->available) {
      status = weft_record_set(runtime, record_index, WEFT_PLUGIN_OUTCOME_UNAVAILABLE,
                               WEFT_PLUGIN_STAGE_PROBE, WEFT_STATUS_UNAVAILABLE, "%s",
                               probe->reason[0] ? probe->reason
                                                : "probe reported unavailable without a reason");
      goto done;
    }
    plugin->score = probe->variant_score ? probe->variant_score : info->variant_score;
    record->variant_score = plugin->score;
    record->stage = WEFT_PLUGIN_STAGE_SELECT;
    admitted = true;
  }

done:
  if (admitted && status == WEFT_OK) {
    *out_plugin = plugin;
  } else {
    plugin->table.instance_destroy = NULL; /* nothing was created */
    weft__plugin_unload(runtime, plugin);
  }
  return status;
}

static weft_status_t weft_pending_push(weft_runtime_t* runtime,
                                       weft_pending_t* pending,
                                       weft_plugin_t* plugin) {
  weft_status_t status = weft__array_reserve_one(
      runtime->allocator, (void**)&pending->items, &pending->capacity,
      pending->count, sizeof(weft_plugin_t*));
  if (status != WEFT_OK) {
    weft__plugin_unload(runtime, plugin);
    return status;
  }
  pending->items[pending->count++] = plugin;
  return WEFT_OK;
}

static void weft_pending_release(weft_runtime_t* runtime, weft_pending_t* pending) {
  for (size_t i = 0; i < pending->count; ++i) {
    weft__plugin_unload(runtime, pending->items[i]);
  }
  weft__free(runtime->allocator, pending->items);
  memset(pending, 0, sizeof(*pending));
}

/* glibc answers a shared object of another architecture with "cannot open
 * shared object file: No such file or directory", which misleads for a file
 * that is plainly there. Reads the ELF header (System V gABI, "ELF Header")
 * and, when its class or machine is not this process's, says so as
 * "; the file is an ELF for aarch64 (machine 183), this process is x86-64".
 * Leaves `out` empty otherwise. */
static const char* weft_elf_machine_name(uint16_t machine) {
  switch (machine) {
    case 3: return "x86 (i386)";
    case 8: return "MIPS";
    case 20: return "PowerPC";
    case 21: return "PowerPC64";
    case 22: return "s390";
    case 40: return "ARM (32-bit)";
    case 62: return "x86-64";
    case 183: return "aarch64";
    case 243: return "RISC-V";
    case 258: return "LoongArch";
    default: return "another machine";
  }
}

static uint16_t weft_elf_host_machine(void) {
#if defined(__x86_64__)
  return 62;
#elif defined(__aarch64__)
  return 183;
#elif defined(__i386__)
  return 3;
#elif defined(__arm__)
  return 40;
#elif defined(__riscv)
  return 243;
#elif defined(__powerpc64__)
  return 21;
#elif defined(__s390x__)
  return 22;
#else
  return 0;
#endif
}

static void weft_elf_mismatch_describe(const char* path, char* out, size_t cap) {
  out[0] = '\0';
  unsigned char header[20];
  FILE* file = fopen(path, "rb");
  if (!file) return;
  size_t got = fread(header, 1, sizeof(header), file);
  fclose(file);
  if (got < sizeof(header) || memcmp(header, "\177ELF", 4) != 0) return;
  unsigned elf_class = header[4]; /* 1: 32-bit, 2: 64-bit */
  unsigned data = header[5];      /* 1: little endian, 2: big endian */
  uint16_t machine = data == 2 ? (uint16_t)((header[18] << 8) | header[19])
                               : (uint16_t)((header[19] << 8) | header[18]);
  unsigned host_class = sizeof(void*) == 8 ? 2 : 1;
  uint16_t host_machine = weft_elf_host_machine();
  if (host_machine != 0 && machine != host_machine) {
    snprintf(out, cap, "; the file is an ELF for %s (machine %u), this process is %s",
             weft_elf_machine_name(machine), machine, weft_elf_machine_name(host_machine));
  } else if (elf_class != host_class) {
    snprintf(out, cap, "; the file is a %u-bit ELF, this process is %u-bit",
             elf_class == 1 ? 32u : 64u, host_class == 1 ? 32u : 64u);
  }
}

/* Carries one file through discover, filter, open and symbol, then admits it. */
static weft_status_t weft_loader_load_file(weft_runtime_t* runtime, const char* path,
                                           size_t search_index,
                                           weft_pending_t* pending) {
  size_t index = 0;
  WEFT_RETURN_IF_ERROR(weft_record_append(runtime, path, search_index, &index));

  struct stat link_info;
  struct stat info;
  if (lstat(path, &link_info) != 0) {
    return weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                           WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_NOT_FOUND,
                           "cannot stat the file: %s", strerror(errno));
  }
  if (stat(path, &info) != 0) {
    int error = errno;
    if (S_ISLNK(link_info.st_mode)) {
      char target[PATH_MAX];
      ssize_t length = readlink(path, target, sizeof(target) - 1);
      target[length > 0 ? length : 0] = '\0';
      return weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                             WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_NOT_FOUND,
                             "dangling symbolic link to '%s': %s", target,
                             strerror(error));
    }
    return weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                           WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_NOT_FOUND,
                           "cannot stat the file: %s", strerror(error));
  }
  if (!S_ISREG(info.st_mode)) {
    return weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                           WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_INVALID_ARGUMENT,
                           "not a regular file (mode 0%o)", (unsigned)info.st_mode);
  }
  for (size_t i = 0; i < runtime->file_count; ++i) {
    if (runtime->files[i].dev == info.st_dev && runtime->files[i].ino == info.st_ino) {
      return weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                             WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_ALREADY_EXISTS,
                             "same file as '%s', already reached on the search path; "
                             "loaded once",
                             runtime->records[runtime->files[i].record_index].path);
    }
  }
  WEFT_RETURN_IF_ERROR(weft__array_reserve_one(
      runtime->allocator, (void**)&runtime->files, &runtime->file_capacity,
      runtime->file_count, sizeof(runtime->files[0])));
  runtime->files[runtime->file_count].dev = info.st_dev;
  runtime->files[runtime->file_count].ino = info.st_ino;
  runtime->files[runtime->file_count].record_index = index;
  runtime->file_count++;

  /* Filters run before dlopen, so a plugin that misbehaves when loaded can
   * be kept out. Patterns match the file name or its stem ("vulkan" for
   * libweft-vulkan.so); after negotiation they are checked against the
   * plugin's own name too. */
  char pattern[256];
  char stem[256];
  const char* base = weft_basename(path);
  weft_plugin_file_stem(base, stem, sizeof(stem));
  const char* disable = weft__env_get(runtime, "WEFT_PLUGINS_DISABLE");
  const char* only = weft__env_get(runtime, "WEFT_PLUGINS_ONLY");
  if (weft__glob_list_match(disable, base, pattern, sizeof(pattern)) ||
      weft__glob_list_match(disable, stem, pattern, sizeof(pattern))) {
    return weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                           WEFT_PLUGIN_STAGE_FILTER, WEFT_STATUS_CANCELLED,
                           "file disabled by WEFT_PLUGINS_DISABLE pattern '%s'", pattern);
  }
  if (only && only[0] && !weft__glob_list_match(only, base, NULL, 0) &&
      !weft__glob_list_match(only, stem, NULL, 0)) {
    return weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                           WEFT_PLUGIN_STAGE_FILTER, WEFT_STATUS_CANCELLED,
                           "file '%s' is not in WEFT_PLUGINS_ONLY (%s)", base, only);
  }

  dlerror();
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* error = dlerror();
    char elf[160];
    weft_elf_mismatch_describe(path, elf, sizeof(elf));
    return weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                           WEFT_PLUGIN_STAGE_OPEN, WEFT_STATUS_UNAVAILABLE,
                           "dlopen failed: %s%s", error ? error : "no dlerror text", elf);
  }
  runtime->records[index].stage = WEFT_PLUGIN_STAGE_SYMBOL;
  dlerror();
  void* symbol = dlsym(handle, WEFT_PLUGIN_ENTRY_SYMBOL);
  if (!symbol) {
    const char* error = dlerror();
    weft_status_t status = weft_record_set(
        runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_SYMBOL,
        WEFT_STATUS_NOT_FOUND, "no entry symbol '%s' (not a weft plugin?): %s",
        WEFT_PLUGIN_ENTRY_SYMBOL, error ? error : "symbol is NULL");
    dlclose(handle);
    return status;
  }
  weft_plugin_negotiate_fn negotiate;
  memcpy(&negotiate, &symbol, sizeof(negotiate)); /* object to function pointer */
  runtime->records[index].stage = WEFT_PLUGIN_STAGE_NEGOTIATE;
  weft_plugin_t* plugin = NULL;
  WEFT_RETURN_IF_ERROR(weft_plugin_admit(runtime, index, handle, negotiate, &plugin));
  if (plugin) return weft_pending_push(runtime, pending, plugin);
  return WEFT_OK;
}

static int weft_compare_names(const void* a, const void* b) {
  return strcmp(*(const char* const*)a, *(const char* const*)b);
}

static bool weft_is_plugin_file_name(const char* name) {
  size_t length = strlen(name);
  size_t prefix = strlen(WEFT_PLUGIN_FILE_PREFIX);
  size_t suffix = strlen(WEFT_PLUGIN_FILE_SUFFIX);
  return length > prefix + suffix &&
         strncmp(name, WEFT_PLUGIN_FILE_PREFIX, prefix) == 0 &&
         strcmp(name + length - suffix, WEFT_PLUGIN_FILE_SUFFIX) == 0;
}

static weft_status_t weft_loader_load_directory(weft_runtime_t* runtime,
                                                const char* directory,
                                                size_t search_index,
                                                weft_pending_t* pending) {
  DIR* dir = opendir(directory);
  if (!dir) {
    int error = errno;
    size_t index = 0;
    WEFT_RETURN_IF_ERROR(weft_record_append(runtime, directory, search_index, &index));
    return weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                           WEFT_PLUGIN_STAGE_DISCOVER,
                           error == EACCES ? WEFT_STATUS_PERMISSION_DENIED
                                           : WEFT_STATUS_IO_ERROR,
                           "cannot read plugin directory: %s", strerror(error));
  }
  char** names = NULL;
  size_t count = 0, capacity = 0;
  weft_status_t status = WEFT_OK;
  struct dirent* entry;
  while (status == WEFT_OK && (entry = readdir(dir)) != NULL) {
    if (!weft_is_plugin_file_name(entry->d_name)) continue;
    status = weft__array_reserve_one(runtime->allocator, (void**)&names, &capacity,
                                     count, sizeof(char*));
    if (status == WEFT_OK) {
      status = weft__strprintf(runtime->allocator, &names[count], "%s/%s",
                               directory, entry->d_name);
      if (status == WEFT_OK) ++count;
    }
  }
  closedir(dir);
  if (status == WEFT_OK && count > 1) {
    qsort(names, count, sizeof(char*), weft_compare_names);
  }
  for (size_t i = 0; i < count; ++i) {
    if (status == WEFT_OK) {
      status = weft_loader_load_file(runtime, names[i], search_index, pending);
    }
    weft__free(runtime->allocator, names[i]);
  }
  weft__free(runtime->allocator, names);
  return status;
}

/* ---- activation ---- */

static weft_status_t weft_plugin_activate(weft_runtime_t* runtime,
                                          weft_plugin_t* plugin, bool* out_ok) {
  *out_ok = false;
  size_t index = plugin->record_index;
  runtime->records[index].stage = WEFT_PLUGIN_STAGE_INSTANCE;
  weft_plugin_instance_t* instance = NULL;
  weft_status_t created = plugin->table.instance_create(&plugin->host.services, &instance);
  if (created != WEFT_OK || !instance) {
    weft_status_code_t code = created ? weft_status_code(created) : WEFT_STATUS_INTERNAL;
    weft_status_t status;
    if (code == WEFT_STATUS_UNAVAILABLE) {
      /* A probe may leave the expensive part of "can it run here" (loading a
       * driver) to instance creation; its UNAVAILABLE is the probe's answer. */
      status = weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_UNAVAILABLE,
                               WEFT_PLUGIN_STAGE_INSTANCE, code, "%s",
                               weft_status_message(created));
    } else {
      status = weft_record_set(
          runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED, WEFT_PLUGIN_STAGE_INSTANCE, code,
          "instance creation failed: %s",
          created ? weft_status_message(created) : "returned OK without an instance");
    }
    weft_status_free(created);
    return status;
  }
  plugin->instance = instance;
  uint32_t count = plugin->table.device_count(instance);
  if (count > WEFT_MAX_DEVICES_PER_PLUGIN) {
    plugin->table.instance_destroy(instance);
    plugin->instance = NULL;
    return weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                           WEFT_PLUGIN_STAGE_INSTANCE, WEFT_STATUS_OUT_OF_RANGE,
                           "plugin reports %u devices; at most %u are accepted", count,
                           WEFT_MAX_DEVICES_PER_PLUGIN);
  }
  uint32_t added = 0;
  for (uint32_t i = 0; i < count; ++i) {
    weft_device_t* device = NULL;
    weft_status_t status = weft__alloc(runtime->allocator, sizeof(*device), "a device",
                                       (void**)&device);
    if (status == WEFT_OK) {
      status = weft__array_reserve_one(runtime->allocator, (void**)&runtime->devices,
                                       &runtime->device_capacity, runtime->device_count,
                                       sizeof(weft_device_t*));
    }
    if (status != WEFT_OK) {
      weft__free(runtime->allocator, device);
      plugin->table.instance_destroy(instance);
      plugin->instance = NULL;
      return status;
    }
    device->runtime = runtime;
    device->plugin = plugin;
    device->index = i;
    device->caps.struct_size = (uint32_t)sizeof(device->caps);
    weft_status_t caps = plugin->table.device_query_caps(instance, i, &device->caps);
    device->caps.struct_size = (uint32_t)sizeof(device->caps);
    device->caps.next = NULL; /* the chain belongs to the plugin's call */
    if (caps != WEFT_OK) {
      weft__log(runtime, WEFT_LOG_LEVEL_WARN, "loader",
                "%s: device %u left out: capability query failed: %s",
                runtime->records[index].path, i, weft_status_message(caps));
      weft_status_free(caps);
      weft__free(runtime->allocator, device);
      continue;
    }
    device->caps.name[sizeof(device->caps.name) - 1] = '\0';
    device->caps.vendor[sizeof(device->caps.vendor) - 1] = '\0';
    device->caps.driver[sizeof(device->caps.driver) - 1] = '\0';
    device->caps.stable_id[sizeof(device->caps.stable_id) - 1] = '\0';
    device->caps.features_text[sizeof(device->caps.features_text) - 1] = '\0';
    snprintf(device->id, sizeof(device->id), "%s:%u", runtime->records[index].name, i);
    device->score = device->caps.score;
    pthread_mutex_init(&device->lock, NULL);
    runtime->devices[runtime->device_count++] = device;
    ++added;
  }
  plugin->active = true;
  *out_ok = true;
  return weft_record_mark_active(runtime, index, added);
}

/* The active plugin of a family, from earlier loads. */
static weft_plugin_t* weft_family_active(weft_runtime_t* runtime, const char* family) {
  for (size_t i = 0; i < runtime->plugin_count; ++i) {
    weft_plugin_t* plugin = runtime->plugins[i];
    if (plugin->active &&
        strcmp(runtime->records[plugin->record_index].family, family) == 0) {
      return plugin;
    }
  }
  return NULL;
}

static bool weft_plugin_has_open_device(weft_runtime_t* runtime, weft_plugin_t* plugin) {
  for (size_t i = 0; i < runtime->device_count; ++i) {
    if (runtime->devices[i]->plugin == plugin && runtime->devices[i]->opened) return true;
  }
  return false;
}

static void weft_plugins_remove(weft_runtime_t* runtime, weft_plugin_t* plugin) {
  for (size_t i = 0; i < runtime->plugin_count; ++i) {
    if (runtime->plugins[i] == plugin) {
      memmove(&runtime->plugins[i], &runtime->plugins[i + 1],
              (runtime->plugin_count - i - 1) * sizeof(weft_plugin_t*));
      runtime->plugin_count--;
      return;
    }
  }
}

static weft_status_t weft_pass_over(weft_runtime_t* runtime, weft_plugin_t* loser,
                                    weft_plugin_t* winner, const char* why) {
  const weft_plugin_record_t* w = &runtime->records[winner->record_index];
  if (!why && winner->score == loser->score) {
    why = "equal scores; the one found first on the search path wins";
  }
  return weft_record_set(runtime, loser->record_index, WEFT_PLUGIN_OUTCOME_PASSED_OVER,
                         WEFT_PLUGIN_STAGE_SELECT, WEFT_STATUS_OK,
                         "passed over for '%s' (%s, variant score %d vs %d)%s%s", w->name,
                         w->path, winner->score, loser->score, why ? ": " : "",
                         why ? why : "");
}

/* Picks, for each family among the pending plugins (and an active plugin of
 * the same family from an earlier load), the available variant with the
 * highest score, falling back to the next when one fails to activate. */
static weft_status_t weft_loader_select(weft_runtime_t* runtime, weft_pending_t* pending) {
  weft_status_t status = WEFT_OK;
  while (status == WEFT_OK && pending->count > 0) {
    const char* family = runtime->records[pending->items[0]->record_index].family;
    /* Order this family's candidates by score, stable in load order. */
    weft_plugin_t* group[64];
    size_t group_count = 0;
    for (size_t i = 0; i < pending->count && group_count < 64;) {
      weft_plugin_t* plugin = pending->items[i];
      if (strcmp(runtime->records[plugin->record_index].family, family) == 0) {
        size_t at = group_count;
        while (at > 0 && group[at - 1]->score < plugin->score) {
          group[at] = group[at - 1];
          --at;
        }
        group[at] = plugin;
        ++group_count;
        memmove(&pending->items[i], &pending->items[i + 1],
                (pending->count - i - 1) * sizeof(weft_plugin_t*));
        pending->count--;
      } else {
        ++i;
      }
    }
    weft_plugin_t* incumbent = weft_family_active(runtime, family);
    weft_plugin_t* winner = NULL;
    size_t next = 0;
    if (incumbent && incumbent->score >= group[0]->score) {
      winner = incumbent;
    } else if (incumbent && weft_plugin_has_open_device(runtime, incumbent)) {
      winner = incumbent;
    }
    for (; !winner && next < group_count && status == WEFT_OK; ++next) {
      bool ok = false;
      status = weft__array_reserve_one(runtime->allocator, (void**)&runtime->plugins,
                                       &runtime->plugin_capacity, runtime->plugin_count,
                                       sizeof(weft_plugin_t*));
      if (status != WEFT_OK) break;
      status = weft_plugin_activate(runtime, group[next], &ok);
      if (ok) {
        winner = group[next];
        runtime->plugins[runtime->plugin_count++] = winner;
        group[next] = NULL;
      } else {
        weft__plugin_unload(runtime, group[next]);
        group[next] = NULL;
      }
    }
    if (winner && incumbent && winner != incumbent && status == WEFT_OK) {
      status = weft_pass_over(runtime, incumbent, winner, "a better variant was loaded later");
      weft_plugins_remove(runtime, incumbent);
      weft__plugin_unload(runtime, incumbent);
    }
    for (size_t i = 0; i < group_count; ++i) {
      if (!group[i]) continue;
      if (status == WEFT_OK && winner) {
        status = weft_pass_over(
            runtime, group[i], winner,
            winner == incumbent && incumbent->score < group[i]->score
                ? "the active variant has devices in use"
                : NULL);
      }
      weft__plugin_unload(runtime, group[i]);
    }
  }
  return status;
}

weft_status_t weft__loader_load_entries(weft_runtime_t* runtime, size_t first_entry) {
  weft_pending_t pending = {0};
  weft_status_t status = WEFT_OK;
  for (size_t i = first_entry; i < runtime->search_path_count && status == WEFT_OK; ++i) {
    const weft_search_path_t* entry = &runtime->search_path[i];
    switch (entry->kind) {
      case 1:
        status = weft_loader_load_directory(runtime, entry->path, i, &pending);
        break;
      case 0:
        if (entry->origin == WEFT_PATH_ORIGIN_API || entry->origin == WEFT_PATH_ORIGIN_ENV) {
          size_t index = 0;
          status = weft_record_append(runtime, entry->path, i, &index);
          if (status == WEFT_OK) {
            status = weft_record_set(runtime, index, WEFT_PLUGIN_OUTCOME_SKIPPED,
                                     WEFT_PLUGIN_STAGE_DISCOVER, WEFT_STATUS_NOT_FOUND,
                                     "search path entry (from %s) does not exist",
                                     weft_path_origin_name((weft_path_origin_t)entry->origin));
          }
        }
        break;
      default:
        status = weft_loader_load_file(runtime, entry->path, i, &pending);
        break;
    }
  }
  if (status == WEFT_OK) status = weft_loader_select(runtime, &pending);
  weft_pending_release(runtime, &pending);
  if (status == WEFT_OK) status = weft__registry_rebuild(runtime);
  return status;
}

weft_status_t weft__loader_load_builtin(weft_runtime_t* runtime,
                                        weft_plugin_negotiate_fn negotiate) {
  size_t index = 0;
  WEFT_RETURN_IF_ERROR(weft_record_append(runtime, "(built-in)", SIZE_MAX, &index));
  runtime->records[index].stage = WEFT_PLUGIN_STAGE_NEGOTIATE;
  weft_plugin_t* plugin = NULL;
  WEFT_RETURN_IF_ERROR(weft_plugin_admit(runtime, index, NULL, negotiate, &plugin));
  if (!plugin) return WEFT_OK;
  weft_pending_t pending = {0};
  weft_status_t status = weft_pending_push(runtime, &pending, plugin);
  if (status == WEFT_OK) status = weft_loader_select(runtime, &pending);
  weft_pending_release(runtime, &pending);
  if (status == WEFT_OK) status = weft__registry_rebuild(runtime);
  return status;
}
