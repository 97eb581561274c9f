/* weft plugin ABI: negotiation, plugin info, probing and the plugin's
 * function table. This is the contract between libweft (the host) and a
 * backend plugin (a shared object). Specified in docs/abi.md, ABI 1.3.
 *
 * Life of a plugin, as the host drives it:
 *   1. dlopen(RTLD_NOW | RTLD_LOCAL); look up WEFT_PLUGIN_ENTRY_SYMBOL.
 *   2. Negotiate: the only call made before versions agree. The host offers
 *      the range of versions it speaks; the plugin answers with the version it
 *      will use and its function table, or refuses with a reason.
 *   3. probe(): cheap and side-effect free. Says whether the plugin can run on
 *      this machine (CPU features present and enabled by the OS, vendor
 *      library and driver present) and how many devices it would expose.
 *   4. For the variant chosen within its family: instance_create(), then
 *      device_count()/device_query_caps() to populate the registry.
 *   5. device_open() when a device is first used; buffers, op queries and
 *      segment submission on the open device.
 *   6. device_close(), instance_destroy() (joins every thread the plugin
 *      started), then dlclose().
 *
 * Threading contract:
 *   - negotiate, probe and instance_create/destroy are called from one thread
 *     at a time per plugin.
 *   - Calls on one open device are serialised by the host; calls on different
 *     devices may run concurrently on different threads.
 *   - A plugin may run work on its own threads after segment_submit returns
 *     (WEFT_DEVICE_FLAG_ASYNC) and signals the event from any thread.
 *   - Host services may be called from any thread.
 *
 * Memory contract: what the plugin allocates, the plugin frees; strings in
 * weft_plugin_info_t live as long as the plugin is loaded; every struct the host
 * passes in lives only for the duration of the call. */
#ifndef WEFT_ABI_PLUGIN_H_
#define WEFT_ABI_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#include "weft/abi/device.h"
#include "weft/abi/dtype.h"
#include "weft/abi/ext.h"
#include "weft/abi/graph.h"
#include "weft/abi/host.h"
#include "weft/abi/op.h"
#include "weft/abi/status.h"
#include "weft/abi/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define WEFT_PLUGIN_EXPORT __declspec(dllexport)
#else
#define WEFT_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* The one symbol every plugin exports. */
#define WEFT_PLUGIN_ENTRY_SYMBOL "weft_plugin_negotiate"

#define WEFT_REASON_CAP 256

typedef struct weft_plugin_interface_t weft_plugin_interface_t;

/* The negotiation record. Its layout is frozen across every ABI major so that
 * hosts and plugins of any version can talk long enough to disagree politely.
 * The host fills the first four members and zeroes the rest. */
typedef struct weft_negotiation_t {
  uint32_t struct_size;      /* host: sizeof(weft_negotiation_t)             */
  uint32_t host_version;     /* host: the highest ABI version it speaks      */
  uint32_t host_min_version; /* host: the lowest ABI version it accepts      */
  uint32_t plugin_version;   /* plugin: the version it will use              */
  const weft_plugin_interface_t* plugin; /* plugin: its table (static)      */
  char refusal[WEFT_REASON_CAP]; /* plugin: why it refuses, NUL-terminated   */
} weft_negotiation_t;

/* Returns 0 to accept (plugin_version and plugin set), non-zero to refuse
 * (refusal set). Must not allocate, start threads or touch vendor libraries. */
typedef int32_t (*weft_plugin_negotiate_fn)(weft_negotiation_t* negotiation);

/* Static description of a plugin; strings live while the plugin is loaded. */
typedef struct weft_plugin_info_t {
  uint32_t struct_size;
  uint32_t abi_version;     /* WEFT_ABI_VERSION the plugin was built against */
  const char* name;         /* unique: "cpu-avx2", "vulkan", "cuda-12"       */
  const char* family;       /* variants of one family share it: "cpu"        */
  const char* version;      /* the plugin's own version: "1.0.0"             */
  const char* description;  /* one line for people                           */
  const char* built_for;    /* ISA / GPU architectures: "x86-64 avx2 fma f16c" */
  const char* min_driver;   /* minimum driver or runtime, "" when none       */
  int32_t variant_score;    /* rank within the family; highest available wins */
  uint32_t reserved0;
} weft_plugin_info_t;

/* Filled by probe() into host storage (host sets struct_size, zeroes the rest). */
typedef struct weft_probe_result_t {
  uint32_t struct_size;
  uint32_t available;     /* 1: usable on this machine; 0: see reason       */
  uint32_t device_count;  /* devices an instance would expose; 0 if not
                             known without creating one                  */
  int32_t variant_score;  /* refines info->variant_score; 0 keeps it        */
  char reason[WEFT_REASON_CAP]; /* when unavailable, what a person can act on:
                                   "libcuda.so.1 not found", "CPU lacks AVX2
                                   (OS has not enabled YMM state)" */
} weft_probe_result_t;

/* Answer of op_query (host sets struct_size, zeroes the rest). */
typedef struct weft_op_support_t {
  uint32_t struct_size;
  uint32_t supported;     /* 1 or 0 */
  char reason[WEFT_REASON_CAP]; /* when unsupported: "mul_mat: q6_K weights not implemented" */
} weft_op_support_t;

typedef struct weft_plugin_instance_s weft_plugin_instance_t;
typedef struct weft_plugin_device_s weft_plugin_device_t;
typedef struct weft_prepared_segment_s weft_prepared_segment_t;

/* The plugin's function table. Grows only at the end; the host calls a member
 * only if it lies inside struct_size and is non-NULL. Unless stated, functions
 * return WEFT_OK or a status the host then owns. */
struct weft_plugin_interface_t {
  uint32_t struct_size;
  uint32_t reserved0;
  const weft_plugin_info_t* info;

  /* ---- ABI 1.0 ---- */

  /* Cheap, side-effect free: no lasting allocations, threads or contexts. A
   * plugin that cannot run here returns WEFT_OK with available = 0 and a
   * reason; an error status means the probe itself failed. */
  weft_status_t (*probe)(const weft_host_services_t* host,
                         weft_probe_result_t* out_result);

  /* Creates the plugin's state; `host` stays valid until instance_destroy.
   * WEFT_STATUS_UNAVAILABLE means the plugin cannot run here after all (the
   * host records it as unavailable, with the message as the reason, and tries
   * the next variant of the family): a probe may leave to this call what is
   * too expensive to do twice, such as loading a GPU driver. */
  weft_status_t (*instance_create)(const weft_host_services_t* host,
                                   weft_plugin_instance_t** out_instance);
  /* Joins every thread and frees everything; NULL is a no-op. */
  void (*instance_destroy)(weft_plugin_instance_t* instance);

  uint32_t (*device_count)(weft_plugin_instance_t* instance);
  weft_status_t (*device_query_caps)(weft_plugin_instance_t* instance,
                                     uint32_t index,
                                     weft_device_caps_t* inout_caps);
  weft_status_t (*device_open)(weft_plugin_instance_t* instance, uint32_t index,
                               weft_plugin_device_t** out_device);
  /* Waits for outstanding work, frees remaining buffers; NULL is a no-op. */
  void (*device_close)(weft_plugin_device_t* device);

  weft_status_t (*buffer_allocate)(weft_plugin_device_t* device,
                                   const weft_buffer_params_t* params,
                                   weft_plugin_buffer_t** out_buffer);
  void (*buffer_free)(weft_plugin_device_t* device,
                      weft_plugin_buffer_t* buffer);
  /* WEFT_STATUS_UNSUPPORTED when the buffer is not host-visible. */
  weft_status_t (*buffer_map)(weft_plugin_device_t* device,
                              weft_plugin_buffer_t* buffer, void** out_ptr);
  void (*buffer_unmap)(weft_plugin_device_t* device,
                       weft_plugin_buffer_t* buffer);
  /* Blocking transfers; ranges are checked by the host and again by the
   * plugin (WEFT_STATUS_OUT_OF_RANGE). */
  weft_status_t (*buffer_upload)(weft_plugin_device_t* device,
                                 weft_plugin_buffer_t* buffer, uint64_t offset,
                                 const void* src, uint64_t size);
  weft_status_t (*buffer_download)(weft_plugin_device_t* device,
                                   weft_plugin_buffer_t* buffer,
                                   uint64_t offset, void* dst, uint64_t size);
  weft_status_t (*buffer_copy)(weft_plugin_device_t* device,
                               weft_plugin_buffer_t* src, uint64_t src_offset,
                               weft_plugin_buffer_t* dst, uint64_t dst_offset,
                               uint64_t size);
  /* Repeats pattern (1, 2 or 4 bytes) over [offset, offset + size). */
  weft_status_t (*buffer_fill)(weft_plugin_device_t* device,
                               weft_plugin_buffer_t* buffer, uint64_t offset,
                               uint64_t size, const void* pattern,
                               uint32_t pattern_size);

  /* Can this device run `node` with exactly these tensor descriptors? Tensor
   * buffers may be NULL during the query. */
  weft_status_t (*op_query)(weft_plugin_device_t* device,
                            const weft_node_t* node,
                            const weft_tensor_desc_t* const* tensors,
                            uint32_t tensor_count,
                            weft_op_support_t* out_support);

  /* Runs a segment after every event in waits is signalled, then signals
   * `signal` (may be NULL) with the outcome. May return before the work is
   * done if the device is WEFT_DEVICE_FLAG_ASYNC. On an error return the host
   * signals `signal` with the error's code itself, so waiters never hang; a
   * plugin that already signalled it loses nothing (the first signal wins). */
  weft_status_t (*segment_submit)(weft_plugin_device_t* device,
                                  const weft_segment_t* segment,
                                  weft_event_t* const* waits,
                                  uint32_t wait_count, weft_event_t* signal);

  /* Blocks until all submitted work on the device is done. */
  weft_status_t (*synchronize)(weft_plugin_device_t* device);

  /* ---- ABI 1.1 ---- */

  /* Current free and total bytes; fresher than device_query_caps. */
  weft_status_t (*device_memory_query)(weft_plugin_device_t* device,
                                       uint64_t* out_free,
                                       uint64_t* out_total);

  /* ---- ABI 1.2 ---- */

  /* Wraps `size` bytes of host memory at `host_ptr` (aligned to at least 64)
   * as a buffer of the device, without copying: for devices that read host
   * memory directly (CPUs, integrated GPUs with unified memory). The host
   * keeps the memory alive and unchanged in place until buffer_free, which
   * releases the wrapper only. The buffer may be read-only memory (a mapped
   * file); the host never lets the device write into such a buffer.
   * WEFT_STATUS_UNSUPPORTED when the device cannot. */
  weft_status_t (*buffer_import_host)(weft_plugin_device_t* device, void* host_ptr,
                                      uint64_t size,
                                      weft_plugin_buffer_t** out_buffer);

  /* ---- ABI 1.3 ---- */

  /* Prepared segments: a host that runs the same segment many times (a
   * compiled program) hands it over once, so the plugin translates and checks
   * it once (pipelines, command buffers, kernel arguments) instead of on every
   * submit. The segment struct is valid only during segment_prepare; the
   * buffers it names stay alive and in place until segment_release. A
   * prepared segment is submitted on one thread at a time, in order with the
   * device's other work, with the same event contract as segment_submit.
   * A plugin without these (NULL, or outside struct_size) is sent segments
   * through segment_submit every time; segment_prepare may also answer
   * WEFT_STATUS_UNSUPPORTED for a segment it would rather take that way. */
  weft_status_t (*segment_prepare)(weft_plugin_device_t* device,
                                   const weft_segment_t* segment,
                                   weft_prepared_segment_t** out_prepared);
  weft_status_t (*segment_submit_prepared)(weft_plugin_device_t* device,
                                           weft_prepared_segment_t* prepared,
                                           weft_event_t* const* waits, uint32_t wait_count,
                                           weft_event_t* signal);
  /* Frees a prepared segment; NULL is a no-op. Never while it runs. */
  void (*segment_release)(weft_plugin_device_t* device, weft_prepared_segment_t* prepared);
};

/* Helper for plugins: answers op_query with "unsupported" and the reason
 * "<op name>: <why>" (cut to fit), writing only inside the host's struct. */
static inline void weft_op_support_refuse(weft_op_support_t* out_support, uint32_t op,
                                          const char* why) {
  if (out_support->struct_size >= offsetof(weft_op_support_t, reason)) {
    out_support->supported = 0;
  }
  if (out_support->struct_size < offsetof(weft_op_support_t, reason) + WEFT_REASON_CAP) {
    return;
  }
  const char* parts[3] = {weft_op_name(op), ": ", why ? why : ""};
  size_t used = 0;
  for (int p = 0; p < 3; ++p) {
    for (const char* c = parts[p]; *c != '\0' && used + 1 < WEFT_REASON_CAP; ++c) {
      out_support->reason[used++] = *c;
    }
  }
  out_support->reason[used] = '\0';
}

/* Every plugin defines exactly this function:
 *   WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* n);
 */
WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* negotiation);

/* Helper for plugins: the usual negotiation. Accepts a host whose major is
 * ours and whose range of versions includes one we speak; answers with
 * min(host, ours). Refuses, with a reason, a host of another major or one
 * whose lowest accepted version is newer than ours. */
static inline int32_t weft_plugin_negotiate_default(
    weft_negotiation_t* negotiation, const weft_plugin_interface_t* table) {
  const uint32_t ours = WEFT_ABI_VERSION;
  uint32_t host = negotiation->host_version;
  const char* text = NULL;
  if (WEFT_ABI_VERSION_MAJOR_OF(host) != WEFT_ABI_VERSION_MAJOR_OF(ours)) {
    text = "host speaks another ABI major";
  } else if (negotiation->host_min_version > ours) {
    text = "host needs a newer ABI minor than this plugin was built for";
  }
  if (text) {
    size_t i = 0;
    for (; text[i] != '\0' && i + 1 < sizeof(negotiation->refusal); ++i) {
      negotiation->refusal[i] = text[i];
    }
    negotiation->refusal[i] = '\0';
    return 1;
  }
  negotiation->plugin_version = host < ours ? host : ours;
  negotiation->plugin = table;
  return 0;
}

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* WEFT_ABI_PLUGIN_H_ */
