/* weft runtime: plugin discovery and loading, the plugin records, and the
 * device registry.
 *
 * A runtime owns every plugin it loads and every device they expose. Creating
 * one discovers plugin files along the search path, loads, negotiates with and
 * probes each, activates the best available variant of each family and fills
 * the device registry; the reference CPU backend is built in and always
 * present. A plugin that fails at any stage is skipped and recorded with the
 * stage and the reason; creation still succeeds.
 *
 * Search order (docs/plugin-discovery.md):
 *   1. paths in weft_runtime_options_t.plugin_paths (directories or files);
 *   2. WEFT_PLUGIN_PATH, a ':'-separated list of directories or files;
 *   3. the directories "plugins" and "weft/plugins" beside the libweft binary
 *      itself (found with dladdr), so build trees and relocated installs work;
 *   4. the install directory ${libdir}/weft/plugins.
 * Never the current directory. Directories are read in sorted order; only
 * files named libweft-*.so are taken from them; a file reached twice (also
 * through a link) is loaded once.
 *
 * Filters, lists of glob patterns separated by ':' or ',':
 *   WEFT_PLUGINS_DISABLE  skips a file whose name or stem ("vulkan" for
 *                         libweft-vulkan.so) matches, before it is opened, and
 *                         a plugin whose negotiated name matches;
 *   WEFT_PLUGINS_ONLY     skips, before opening, every file whose name and
 *                         stem both fail to match.
 * The built-in reference CPU backend is never filtered.
 *
 * Environment variables (WEFT_PLUGIN_PATH, WEFT_PLUGINS_DISABLE,
 * WEFT_PLUGINS_ONLY, WEFT_DEVICE, WEFT_LOG) are ignored in set-uid processes
 * (secure_getenv), and when WEFT_RUNTIME_FLAG_IGNORE_ENV is set.
 *
 * Thread safety: a runtime may be used from several threads for reading
 * (records, devices, info). weft_runtime_plugins_load and
 * weft_runtime_destroy need exclusive access. */
#ifndef WEFT_RUNTIME_H_
#define WEFT_RUNTIME_H_

#include <stddef.h>
#include <stdint.h>

#include "weft/abi/device.h"
#include "weft/allocator.h"
#include "weft/export.h"
#include "weft/log.h"
#include "weft/status.h"

WEFT_EXTERN_C_BEGIN

typedef struct weft_runtime_s weft_runtime_t;
typedef struct weft_device_s weft_device_t;

/* weft_runtime_options_t.flags */
#define WEFT_RUNTIME_FLAG_IGNORE_ENV (1u << 0)       /* no WEFT_* variables  */
#define WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS (1u << 1) /* skip search steps 3, 4 */
#define WEFT_RUNTIME_FLAG_NO_REFERENCE_CPU (1u << 2) /* for tests of plugins alone */

typedef struct weft_runtime_options_t {
  uint32_t struct_size;   /* sizeof(weft_runtime_options_t) */
  uint32_t flags;         /* WEFT_RUNTIME_FLAG_* */
  const char* const* plugin_paths; /* searched first; borrowed for the call */
  size_t plugin_path_count;
  weft_log_fn log_fn;     /* NULL: messages are dropped */
  void* log_user;
  int32_t log_level;      /* weft_log_level_t, or -1: WEFT_LOG, else warn */
  uint32_t reserved0;
} weft_runtime_options_t;

/* Sets defaults: no extra paths, environment honoured, no logging. */
WEFT_API void weft_runtime_options_init(weft_runtime_options_t* out_options);

/* Creates a runtime and loads plugins. `options` may be NULL (defaults).
 * Errors: INVALID_ARGUMENT (bad options), OUT_OF_MEMORY. A broken plugin is
 * never an error here: it becomes a record. */
WEFT_API weft_status_t weft_runtime_create(const weft_runtime_options_t* options,
                                           weft_allocator_t allocator,
                                           weft_runtime_t** out_runtime);

/* Closes devices, destroys plugin instances (their threads are joined) and
 * unloads plugins. NULL is a no-op. Every buffer must have been destroyed. */
WEFT_API void weft_runtime_destroy(weft_runtime_t* runtime);

/* Adds a directory or a file to the search path (origin API) and loads what it
 * holds. New records and devices are appended; families are re-ranked, so a
 * better variant found now replaces an active one that has no open device.
 * Errors: INVALID_ARGUMENT, OUT_OF_MEMORY; a broken plugin is a record. */
WEFT_API weft_status_t weft_runtime_plugins_load(weft_runtime_t* runtime,
                                                 const char* path);

/* ---- search path ---- */

typedef enum weft_path_origin_t {
  WEFT_PATH_ORIGIN_API = 0,            /* options or weft_runtime_plugins_load */
  WEFT_PATH_ORIGIN_ENV = 1,            /* WEFT_PLUGIN_PATH */
  WEFT_PATH_ORIGIN_BESIDE_LIBRARY = 2, /* <dir of libweft>/plugins, .../weft/plugins */
  WEFT_PATH_ORIGIN_INSTALL = 3,        /* ${libdir}/weft/plugins */
} weft_path_origin_t;

typedef struct weft_search_path_t {
  const char* path;  /* as given, borrowed from the runtime */
  uint32_t origin;   /* weft_path_origin_t */
  uint32_t kind;     /* 0 missing, 1 directory, 2 file, 3 other */
} weft_search_path_t;

WEFT_API size_t weft_runtime_search_path_count(const weft_runtime_t* runtime);
/* Borrowed; valid until the runtime is destroyed. NULL when out of range. */
WEFT_API const weft_search_path_t* weft_runtime_search_path_get(
    const weft_runtime_t* runtime, size_t index);
/* "api", "WEFT_PLUGIN_PATH", "beside-library", "install". */
WEFT_API const char* weft_path_origin_name(weft_path_origin_t origin);

/* ---- plugin records ---- */

/* How far a plugin file got. */
typedef enum weft_plugin_stage_t {
  WEFT_PLUGIN_STAGE_DISCOVER = 0,  /* listing, stat, duplicate detection  */
  WEFT_PLUGIN_STAGE_FILTER = 1,    /* WEFT_PLUGINS_DISABLE / _ONLY         */
  WEFT_PLUGIN_STAGE_OPEN = 2,      /* dlopen                               */
  WEFT_PLUGIN_STAGE_SYMBOL = 3,    /* entry symbol lookup                  */
  WEFT_PLUGIN_STAGE_NEGOTIATE = 4, /* ABI version negotiation              */
  WEFT_PLUGIN_STAGE_PROBE = 5,     /* capability probe                     */
  WEFT_PLUGIN_STAGE_SELECT = 6,    /* family variant selection             */
  WEFT_PLUGIN_STAGE_INSTANCE = 7,  /* instance creation, device enumeration */
  WEFT_PLUGIN_STAGE_READY = 8,     /* active                               */
} weft_plugin_stage_t;

typedef enum weft_plugin_outcome_t {
  WEFT_PLUGIN_OUTCOME_ACTIVE = 0,      /* its devices are in the registry  */
  WEFT_PLUGIN_OUTCOME_PASSED_OVER = 1, /* a better variant of its family won */
  WEFT_PLUGIN_OUTCOME_UNAVAILABLE = 2, /* loaded fine; probe said it cannot run here */
  WEFT_PLUGIN_OUTCOME_SKIPPED = 3,     /* failed at `stage`, see reason    */
} weft_plugin_outcome_t;

/* One per file found (and one for the built-in reference CPU backend). All
 * strings are owned by the runtime and valid until it is destroyed; the ones
 * a plugin did not get far enough to provide are "". */
typedef struct weft_plugin_record_t {
  const char* path;        /* as found on the search path; "(built-in)"   */
  uint32_t outcome;        /* weft_plugin_outcome_t */
  uint32_t stage;          /* weft_plugin_stage_t reached (or failed at)  */
  uint32_t status_code;    /* weft_status_code_t of the failure, OK if none */
  uint32_t abi_version;    /* negotiated version, 0 before negotiation    */
  const char* reason;      /* why it is not active; "" when active        */
  const char* name;
  const char* family;
  const char* version;
  const char* description;
  const char* built_for;
  const char* min_driver;
  int32_t variant_score;
  uint32_t device_count;   /* devices it put in the registry */
  size_t search_path_index; /* which entry found it; SIZE_MAX: none */
} weft_plugin_record_t;

WEFT_API size_t weft_runtime_plugin_count(const weft_runtime_t* runtime);
/* Borrowed; valid until the runtime is destroyed. NULL when out of range. */
WEFT_API const weft_plugin_record_t* weft_runtime_plugin_get(
    const weft_runtime_t* runtime, size_t index);
WEFT_API const char* weft_plugin_stage_name(weft_plugin_stage_t stage);
WEFT_API const char* weft_plugin_outcome_name(weft_plugin_outcome_t outcome);

/* ---- device registry ---- */

/* Devices of every active plugin, highest score first (ties: plugin load
 * order). Borrowed; valid until the runtime is destroyed. */
WEFT_API size_t weft_runtime_device_count(const weft_runtime_t* runtime);
WEFT_API weft_device_t* weft_runtime_device_get(const weft_runtime_t* runtime,
                                                size_t index);

/* The device a host app gets by default: the one WEFT_DEVICE names if set
 * (see weft_runtime_device_find), else the highest-scored preferred device.
 * Never NULL while the reference CPU backend is present. */
WEFT_API weft_device_t* weft_runtime_device_default(const weft_runtime_t* runtime);

/* Finds a device by id ("vulkan:0"), by plugin name (its first device), by
 * type ("cpu", "gpu", "igpu", "accelerator") or by registry index ("#2").
 * Errors: NOT_FOUND naming the query and listing the ids there are. */
WEFT_API weft_status_t weft_runtime_device_find(const weft_runtime_t* runtime,
                                                const char* query,
                                                weft_device_t** out_device);

typedef struct weft_device_info_t {
  const char* id;          /* "<plugin name>:<index in plugin>", unique     */
  const char* plugin;      /* plugin name */
  const char* plugin_path; /* file it came from, "(built-in)"               */
  const weft_device_caps_t* caps; /* as the plugin reported them           */
  int32_t score;           /* registry score (caps score, family adjusted)  */
  uint32_t physical_index; /* devices with equal index are one physical device */
  uint32_t preferred;      /* 1 if it is the path chosen for its physical device */
  uint32_t reserved0;
} weft_device_info_t;

/* Fills `out_info` with borrowed pointers valid until the runtime is destroyed. */
WEFT_API void weft_device_info_get(const weft_device_t* device,
                                   weft_device_info_t* out_info);

/* "cpu", "gpu", "igpu", "accelerator", "virtual". */
WEFT_API const char* weft_device_type_name(weft_device_type_t type);

/* Current free/total bytes (plugins of ABI 1.1 and later answer live; 1.0 plugins give the
 * values from their capability record). Opens the device if needed. */
WEFT_API weft_status_t weft_device_memory_query(weft_device_t* device,
                                                uint64_t* out_free,
                                                uint64_t* out_total);

WEFT_EXTERN_C_END

#endif /* WEFT_RUNTIME_H_ */
