/* The OpenCL plugin: internal declarations shared by its files.
 *
 * libweft-opencl.so exposes every available OpenCL 1.2+ device (CPU, GPU or
 * accelerator; custom devices run no OpenCL C and are left out) of every
 * platform the ICD loader finds. It loads libOpenCL.so.1 itself with dlopen
 * (opencl_loader.h) and never links it, so it loads everywhere; where the
 * loader or a driver is missing, probe() says so and what to install.
 *
 * This stage of the plugin enumerates devices with their real capabilities
 * and moves bytes: a device gets a context and an in-order queue, buffers are
 * cl_mem objects written, read, copied and filled with blocking commands.
 * Kernels come later: op_query answers "unsupported" for every op and
 * segment_submit returns UNIMPLEMENTED.
 *
 * Files follow the layout every backend reuses:
 *   plugin.c          entry point, plugin info, probe, instance, function table
 *   device.c          device enumeration, capabilities, open/close, op support,
 *                     submission, memory queries
 *   buffer.c          device memory and transfers
 *   opencl_loader.c   libOpenCL.so.1 and its function table
 *
 * Threading: the host serialises calls on one open device; devices share
 * only the loader and the platform, whose calls are thread-safe. */
#ifndef WEFT_OPENCL_PLUGIN_H_
#define WEFT_OPENCL_PLUGIN_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opencl_loader.h"
#include "weft/abi.h"

#define WEFT_OPENCL_PLUGIN_NAME "opencl"
#define WEFT_OPENCL_PLUGIN_VERSION "0.1.0"

/* What the plugin can hold in a buffer: the float types and the GGUF block
 * types as raw bytes, plus i32 for row ids and positions. */
#define WEFT_OPENCL_DTYPES                                                    \
  (WEFT_DTYPE_BIT(WEFT_DTYPE_F32) | WEFT_DTYPE_BIT(WEFT_DTYPE_F16) |          \
   WEFT_DTYPE_BIT(WEFT_DTYPE_I32) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_0) |         \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_1) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q5_0) |        \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q5_1) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q8_0) |        \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q8_1) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q2_K) |        \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q3_K) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_K) |        \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q5_K) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q6_K) |        \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q8_K))

/* True when a host-sized struct `ptr` of ABI type `type` holds `member`
 * (docs/abi.md, "Sizes"). */
/* A status through the host (plugins never create status objects). */
#define WEFT_OPENCL_STATUS(host, code, ...) \
  ((host)->status_make((host)->host_ctx, (code), __VA_ARGS__))

/* OpenCL versions as major * 100 + minor (from "OpenCL <major>.<minor> ..."). */
#define WEFT_OPENCL_VERSION_1_2 102u
#define WEFT_OPENCL_VERSION_2_0 200u

/* One usable device and everything learnt about it at enumeration. */
typedef struct weft_opencl_physical_t {
  cl_platform_id platform;
  cl_device_id device;
  uint32_t version;          /* CL_DEVICE_VERSION */
  uint64_t max_allocation;   /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
  bool has_amd_free_memory;  /* cl_amd_device_attribute_query */
  weft_device_caps_t caps;   /* the whole record as this plugin knows it */
} weft_opencl_physical_t;

struct weft_plugin_instance_s {
  const weft_host_services_t* host; /* valid until instance_destroy */
  weft_opencl_loader_t loader;
  weft_opencl_physical_t* physical; /* host->alloc'ed array */
  uint32_t physical_count;
};

struct weft_plugin_buffer_s {
  weft_plugin_buffer_t* prev; /* the device's list of live buffers */
  weft_plugin_buffer_t* next;
  cl_mem memory;
  uint64_t size;
  uint32_t memory_type;       /* weft_memory_type_t asked for */
  uint32_t reserved0;
  void* mapped;               /* between buffer_map and buffer_unmap */
};

struct weft_plugin_device_s {
  weft_plugin_instance_t* instance;
  const weft_opencl_physical_t* physical;
  uint32_t index;
  cl_context context;
  cl_command_queue queue;         /* in order */
  weft_plugin_buffer_t* buffers;  /* live buffers, freed by device_close */
};

#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

/* ---- device.c ---- */

/* Lists the devices weft can use (available, OpenCL 1.2+, not custom) of
 * every platform into a host->alloc'ed array; *out_physical is NULL when
 * there are none. With `with_caps` false only platform, device and version
 * are filled, which is all probe() needs. *out_total_count counts every
 * device found, *out_platform_count the platforms. An ICD loader without a
 * platform is not an error: both counts are 0. */
weft_status_t weft_opencl_physical_enumerate(const weft_host_services_t* host,
                                             const weft_opencl_loader_t* loader,
                                             bool with_caps,
                                             weft_opencl_physical_t** out_physical,
                                             uint32_t* out_count, uint32_t* out_total_count,
                                             uint32_t* out_platform_count,
                                             cl_int* out_platform_error);

uint32_t weft_opencl_device_count(weft_plugin_instance_t* instance);
weft_status_t weft_opencl_device_query_caps(weft_plugin_instance_t* instance, uint32_t index,
                                            weft_device_caps_t* inout_caps);
weft_status_t weft_opencl_device_open(weft_plugin_instance_t* instance, uint32_t index,
                                      weft_plugin_device_t** out_device);
void weft_opencl_device_close(weft_plugin_device_t* device);
weft_status_t weft_opencl_device_op_query(weft_plugin_device_t* device,
                                          const weft_node_t* node,
                                          const weft_tensor_desc_t* const* tensors,
                                          uint32_t tensor_count,
                                          weft_op_support_t* out_support);
weft_status_t weft_opencl_device_segment_submit(weft_plugin_device_t* device,
                                                const weft_segment_t* segment,
                                                weft_event_t* const* waits,
                                                uint32_t wait_count,
                                                weft_event_t* signal);
weft_status_t weft_opencl_device_synchronize(weft_plugin_device_t* device);
weft_status_t weft_opencl_device_memory_query(weft_plugin_device_t* device,
                                              uint64_t* out_free, uint64_t* out_total);

/* ---- buffer.c ---- */

weft_status_t weft_opencl_buffer_allocate(weft_plugin_device_t* device,
                                          const weft_buffer_params_t* params,
                                          weft_plugin_buffer_t** out_buffer);
void weft_opencl_buffer_free(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);
weft_status_t weft_opencl_buffer_map(weft_plugin_device_t* device,
                                     weft_plugin_buffer_t* buffer, void** out_ptr);
void weft_opencl_buffer_unmap(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);
weft_status_t weft_opencl_buffer_upload(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* buffer, uint64_t offset,
                                        const void* src, uint64_t size);
weft_status_t weft_opencl_buffer_download(weft_plugin_device_t* device,
                                          weft_plugin_buffer_t* buffer, uint64_t offset,
                                          void* dst, uint64_t size);
weft_status_t weft_opencl_buffer_copy(weft_plugin_device_t* device,
                                      weft_plugin_buffer_t* src, uint64_t src_offset,
                                      weft_plugin_buffer_t* dst, uint64_t dst_offset,
                                      uint64_t size);
weft_status_t weft_opencl_buffer_fill(weft_plugin_device_t* device,
                                      weft_plugin_buffer_t* buffer, uint64_t offset,
                                      uint64_t size, const void* pattern,
                                      uint32_t pattern_size);

/* Unmaps if mapped and releases the cl_mem; does not touch the list. */
void weft_opencl_buffer_release(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif /* WEFT_OPENCL_PLUGIN_H_ */
