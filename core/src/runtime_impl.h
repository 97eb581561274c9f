/* Internal layout of the runtime, its plugins and devices. Shared by the
 * loader, registry, runtime and buffer code; never installed. */
#ifndef WEFT_CORE_RUNTIME_IMPL_H_
#define WEFT_CORE_RUNTIME_IMPL_H_

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "weft/abi/plugin.h"
#include "weft/runtime.h"

typedef struct weft_plugin_s weft_plugin_t;

/* Per-plugin host context: what host services see as host_ctx. */
typedef struct weft_plugin_host_t {
  weft_host_services_t services;
  weft_runtime_t* runtime;
  weft_plugin_t* plugin;
} weft_plugin_host_t;

struct weft_plugin_s {
  weft_runtime_t* runtime;
  size_t record_index;
  void* dl_handle;                  /* NULL for built-in */
  weft_plugin_interface_t table;    /* copy, zero beyond the plugin's size */
  uint32_t abi_version;             /* negotiated */
  weft_plugin_host_t host;
  weft_probe_result_t probe;
  int32_t score;                    /* effective variant score */
  weft_plugin_instance_t* instance; /* non-NULL while active */
  bool active;
};

struct weft_device_s {
  weft_runtime_t* runtime;
  weft_plugin_t* plugin;
  uint32_t index;                 /* within the plugin */
  weft_device_caps_t caps;
  char id[96];
  int32_t score;
  uint32_t physical_index;
  uint32_t preferred;
  bool retired;                   /* its plugin was replaced by a better variant */
  pthread_mutex_t lock;           /* serialises calls into the plugin device */
  weft_plugin_device_t* opened;   /* NULL until first use */
  size_t live_buffers;
};

struct weft_runtime_s {
  weft_allocator_t allocator;
  uint32_t flags;
  weft_log_fn log_fn;
  void* log_user;
  int32_t log_level;

  weft_search_path_t* search_path;
  size_t search_path_count;
  size_t search_path_capacity;

  weft_plugin_record_t* records;
  size_t record_count;
  size_t record_capacity;
  /* Identity of every file loaded so far, to load each file once. */
  struct weft_file_id_t {
    dev_t dev;
    ino_t ino;
    size_t record_index;
  }* files;
  size_t file_count;
  size_t file_capacity;

  weft_plugin_t** plugins; /* every plugin kept loaded (active ones) */
  size_t plugin_count;
  size_t plugin_capacity;

  weft_device_t** devices;     /* every device ever created, in creation order */
  size_t device_count;
  size_t device_capacity;
  weft_device_t** ordered;     /* registry order: live devices by score */
  size_t ordered_count;

  /* Serials of live buffers, so a program can tell that a buffer it was
   * compiled against was destroyed without touching the freed handle. */
  pthread_mutex_t buffers_lock;
  uint64_t next_buffer_serial;
  uint64_t* live_serials;
  size_t live_serial_count;
  size_t live_serial_capacity;
};

/* True while the buffer with this serial exists (buffer.c). */
bool weft__buffer_serial_alive(weft_runtime_t* runtime, uint64_t serial);

#endif /* WEFT_CORE_RUNTIME_IMPL_H_ */
