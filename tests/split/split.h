/* test-split: a test plugin that behaves like a discrete accelerator, so that
 * the graph executor's scheduler, its copies between devices and its handling
 * of failures can be tested for real on any machine.
 *
 * It computes with the reference kernels (core/src/cpu_ref/ops, compiled into
 * this plugin: they are pure C and need nothing from libweft), so its results
 * equal cpu-ref's bit for bit. Everything around the kernels is what a GPU
 * plugin does:
 *
 *   - N devices of type ACCELERATOR, score 700 - index (device 0 first), each
 *     with its own stable_id "test-split:<i>" and UUID, so the registry sees N
 *     physical devices;
 *   - separate memory: each device owns its buffers (host allocations behind
 *     an opaque handle), within a budget; memory is neither unified nor
 *     host-visible (buffer_map answers UNSUPPORTED), so data moves only by
 *     upload, download and copy; a handle of another device or of another
 *     plugin is refused with INVALID_ARGUMENT in every call that takes one;
 *   - asynchronous execution (WEFT_DEVICE_FLAG_ASYNC): each open device has
 *     one worker thread and a FIFO queue. segment_submit validates the
 *     segment, copies it (the host's structs live only for the call) and
 *     returns; the worker waits for the segment's events, runs its nodes and
 *     signals the segment's event with the outcome. Transfers, buffer_free
 *     and synchronize first drain the device's queue, so they are ordered
 *     with the work submitted before them;
 *   - a subset of ops: every op the reference kernels run except the ones
 *     WEFT_TEST_SPLIT_UNSUPPORTED names, so a scheduler always has something
 *     to place elsewhere;
 *   - failure injection: the n-th node the instance executes fails with
 *     DEVICE_LOST, and its device stays lost.
 *
 * Configuration, read once per instance through the host's env_get (so a
 * runtime created with WEFT_RUNTIME_FLAG_IGNORE_ENV sees the defaults):
 *
 *   WEFT_TEST_SPLIT_DEVICES      devices to expose, 1..8; default 2
 *   WEFT_TEST_SPLIT_MEMORY       bytes of memory per device, decimal, > 0;
 *                                default 268435456 (256 MiB). Allocations
 *                                beyond it fail with RESOURCE_EXHAUSTED
 *   WEFT_TEST_SPLIT_UNSUPPORTED  op names (docs/abi.md section 17) separated by
 *                                ',' or ':' that op_query refuses and
 *                                segment_submit rejects; default "argmax";
 *                                set and empty: none
 *   WEFT_TEST_SPLIT_FAIL_AFTER   n > 0: the n-th node executed by the
 *                                instance (counted over all its devices, from
 *                                1) fails with DEVICE_LOST instead of running;
 *                                0 or unset: never
 * A value that does not parse makes the probe answer "unavailable" with the
 * variable and the value in the reason (and instance_create INVALID_ARGUMENT).
 *
 * A lost device (after an injected failure) refuses new work: segment_submit,
 * synchronize, buffer_allocate and every transfer return DEVICE_LOST; work
 * already queued is not run and its events are signalled DEVICE_LOST.
 * buffer_free, op_query, device_memory_query and device_close keep working.
 *
 * Errors of work that ran asynchronously (a node that failed, the injected
 * loss) are signalled through the segment's event as a code; the first one
 * with its message is kept and returned by the next synchronize.
 *
 * A segment whose wait events are never signalled blocks its device's queue
 * (as on a GPU): synchronize, transfers, buffer_free and device_close wait
 * for it. Events must outlive the work that waits on or signals them.
 *
 * Builds against the ABI headers alone plus the reference kernels; never
 * links libweft. Not installed: it exists for the tests. */
#ifndef WEFT_TESTS_SPLIT_SPLIT_H_
#define WEFT_TESTS_SPLIT_SPLIT_H_

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/abi.h"

#define WEFT_SPLIT_PLUGIN_NAME "test-split"
#define WEFT_SPLIT_PLUGIN_VERSION "0.1.0"

#define WEFT_SPLIT_ENV_DEVICES "WEFT_TEST_SPLIT_DEVICES"
#define WEFT_SPLIT_ENV_MEMORY "WEFT_TEST_SPLIT_MEMORY"
#define WEFT_SPLIT_ENV_UNSUPPORTED "WEFT_TEST_SPLIT_UNSUPPORTED"
#define WEFT_SPLIT_ENV_FAIL_AFTER "WEFT_TEST_SPLIT_FAIL_AFTER"
/* "1": the devices behave like integrated GPUs instead: unified memory that
 * the host can map, and host memory wrapped without a copy (ABI 1.2), so the
 * scheduler can let them read each other's and the CPU's memory in place. */
#define WEFT_SPLIT_ENV_UNIFIED "WEFT_TEST_SPLIT_UNIFIED"

#define WEFT_SPLIT_MAX_DEVICES 8u
#define WEFT_SPLIT_DEFAULT_DEVICES 2u
#define WEFT_SPLIT_DEFAULT_MEMORY ((uint64_t)256 << 20)
#define WEFT_SPLIT_DEFAULT_UNSUPPORTED "argmax"
#define WEFT_SPLIT_DEFAULT_ALIGNMENT 64u
/* Room for op ids: the disabled set is a bit mask. */
#define WEFT_SPLIT_OP_LIMIT 64u

/* The first member of every buffer this plugin hands out. A handle whose first
 * eight bytes differ is not ours (another plugin's, or freed). */
#define WEFT_SPLIT_BUFFER_MAGIC UINT64_C(0x74657374546c7053) /* "SplTtest" */
#define WEFT_SPLIT_BUFFER_FREED UINT64_C(0x6465657246746c53)

typedef struct weft_split_config_t {
  uint32_t device_count;
  uint32_t reserved0;
  uint64_t memory_total;
  uint64_t fail_after;   /* 0: never */
  uint64_t disabled_ops; /* bit op: refused by this plugin */
  bool unified;          /* WEFT_TEST_SPLIT_UNIFIED=1 */
} weft_split_config_t;

struct weft_plugin_instance_s {
  /* Valid from instance_create until instance_destroy (ABI guarantee). */
  const weft_host_services_t* host;
  weft_split_config_t config;
  /* Nodes started by every worker of the instance: the injection counter. */
  atomic_uint_fast64_t nodes_started;
  /* Guards open[]: devices open and close on different threads. */
  pthread_mutex_t lock;
  weft_plugin_device_t* open[WEFT_SPLIT_MAX_DEVICES];
};

/* A copied segment waiting in a device's queue; one allocation. */
typedef struct weft_split_job_t {
  struct weft_split_job_t* next;
  uint64_t sequence; /* the device's submission number, for messages */
  uint32_t tensor_count;
  uint32_t node_count;
  uint32_t wait_count;
  uint32_t reserved0;
  const weft_tensor_desc_t** tensors; /* into the same allocation */
  const weft_node_t** nodes;
  weft_event_t** waits;
  weft_event_t* signal;
} weft_split_job_t;

struct weft_plugin_device_s {
  weft_plugin_instance_t* instance;
  const weft_host_services_t* host;
  uint32_t index;
  char id[32]; /* "test-split:<index>" */
  /* Touched only by host calls, which the host serialises per device. */
  uint64_t memory_used;
  weft_plugin_buffer_t* buffers; /* live buffers, freed by device_close */
  uint64_t submitted;            /* segments accepted so far */

  /* The queue, shared with the worker. */
  pthread_mutex_t lock;
  pthread_cond_t work;    /* a job arrived, or stopping */
  pthread_cond_t idle;    /* the queue ran empty */
  pthread_t worker;
  weft_split_job_t* head; /* FIFO: taken at head, added at tail */
  weft_split_job_t* tail;
  bool busy;              /* the worker is running a job */
  bool stopping;          /* device_close: finish the queue, then exit */
  bool lost;              /* an injected failure hit this device */
  weft_status_t async_error; /* first asynchronous failure, for synchronize */
};

struct weft_plugin_buffer_s {
  uint64_t magic; /* WEFT_SPLIT_BUFFER_MAGIC; first, see above */
  weft_plugin_device_t* owner;
  weft_plugin_buffer_t* prev; /* in the owner's list of live buffers */
  weft_plugin_buffer_t* next;
  void* data; /* from host->alloc, freed with host->free */
  uint64_t size;
  uint32_t memory_type;
  uint32_t imported; /* wraps host memory (buffer_import_host): not ours to free */
};

#define WEFT_SPLIT_STATUS(host, code, ...) \
  ((host)->status_make((host)->host_ctx, (code), __VA_ARGS__))

/* Everything but the entry point stays out of the dynamic symbol table. */
#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

/* ---- plugin.c ---- */

/* Reads the configuration through env_get (when the host has it). On a
 * value that does not parse, returns false with the reason in `error`. */
bool weft_split_config_read(const weft_host_services_t* host, weft_split_config_t* out_config,
                            char* error, size_t error_cap);

/* ---- device.c ---- */

uint32_t weft_split_device_count(weft_plugin_instance_t* instance);
weft_status_t weft_split_device_query_caps(weft_plugin_instance_t* instance, uint32_t index,
                                           weft_device_caps_t* inout_caps);
weft_status_t weft_split_device_open(weft_plugin_instance_t* instance, uint32_t index,
                                     weft_plugin_device_t** out_device);
void weft_split_device_close(weft_plugin_device_t* device);
weft_status_t weft_split_device_op_query(weft_plugin_device_t* device, const weft_node_t* node,
                                         const weft_tensor_desc_t* const* tensors,
                                         uint32_t tensor_count, weft_op_support_t* out_support);
weft_status_t weft_split_device_segment_submit(weft_plugin_device_t* device,
                                               const weft_segment_t* segment,
                                               weft_event_t* const* waits, uint32_t wait_count,
                                               weft_event_t* signal);
weft_status_t weft_split_device_synchronize(weft_plugin_device_t* device);
weft_status_t weft_split_device_memory_query(weft_plugin_device_t* device, uint64_t* out_free,
                                             uint64_t* out_total);
/* Blocks until the device's queue is empty and its worker idle. */
void weft_split_device_drain(weft_plugin_device_t* device);
/* DEVICE_LOST naming the device when an injected failure hit it, else OK.
 * `what` names the refused call. */
weft_status_t weft_split_device_check_alive(weft_plugin_device_t* device, const char* what);

/* ---- buffer.c ---- */

/* OK when `buffer` is a live buffer of `device`; INVALID_ARGUMENT naming
 * `what` and the problem otherwise. */
weft_status_t weft_split_buffer_check(weft_plugin_device_t* device,
                                      const weft_plugin_buffer_t* buffer, const char* what);
weft_status_t weft_split_buffer_allocate(weft_plugin_device_t* device,
                                         const weft_buffer_params_t* params,
                                         weft_plugin_buffer_t** out_buffer);
void weft_split_buffer_free(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);
/* Frees without draining the queue: device_close, after the worker exited. */
void weft_split_buffer_release(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);
weft_status_t weft_split_buffer_import_host(weft_plugin_device_t* device, void* host_ptr,
                                           uint64_t size, weft_plugin_buffer_t** out_buffer);
weft_status_t weft_split_buffer_map(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer,
                                    void** out_ptr);
void weft_split_buffer_unmap(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);
weft_status_t weft_split_buffer_upload(weft_plugin_device_t* device,
                                       weft_plugin_buffer_t* buffer, uint64_t offset,
                                       const void* src, uint64_t size);
weft_status_t weft_split_buffer_download(weft_plugin_device_t* device,
                                         weft_plugin_buffer_t* buffer, uint64_t offset,
                                         void* dst, uint64_t size);
weft_status_t weft_split_buffer_copy(weft_plugin_device_t* device, weft_plugin_buffer_t* src,
                                     uint64_t src_offset, weft_plugin_buffer_t* dst,
                                     uint64_t dst_offset, uint64_t size);
weft_status_t weft_split_buffer_fill(weft_plugin_device_t* device,
                                     weft_plugin_buffer_t* buffer, uint64_t offset,
                                     uint64_t size, const void* pattern,
                                     uint32_t pattern_size);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif /* WEFT_TESTS_SPLIT_SPLIT_H_ */
