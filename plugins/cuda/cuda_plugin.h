/* The CUDA plugin: internal declarations shared by its files.
 *
 * libweft-cuda.so exposes every CUDA device of the NVIDIA driver. It loads
 * libcuda.so.1 itself with dlopen (cuda_loader.h) and never links it, so it
 * loads everywhere; where the driver is missing, probe() says so.
 *
 * This stage of the plugin enumerates devices with their real capabilities
 * and moves bytes through the driver API: a device uses its primary context
 * (shared with any CUDA runtime code in the process), device-local buffers
 * are cuMemAlloc memory, host-visible ones pinned host memory mapped into
 * the device's address space. Kernels come later (with nvcc): op_query
 * answers "unsupported" for every op and segment_submit returns
 * UNIMPLEMENTED.
 *
 * Files follow the layout every backend reuses:
 *   plugin.c        entry point, plugin info, probe, instance, function table
 *   device.c        device enumeration, capabilities, open/close, op support,
 *                   submission, memory queries
 *   buffer.c        device memory and transfers
 *   cuda_loader.c   libcuda.so.1 and its function table
 *
 * Threading: the host serialises calls on one open device but may make them
 * from any thread, so every call that needs the context pushes it onto the
 * calling thread and pops it again. */
#ifndef WEFT_CUDA_PLUGIN_H_
#define WEFT_CUDA_PLUGIN_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cuda_loader.h"
#include "weft/abi.h"

#define WEFT_CUDA_PLUGIN_NAME "cuda"
#define WEFT_CUDA_PLUGIN_VERSION "0.1.0"

/* What the plugin can hold in a buffer: the float types and the GGUF block
 * types as raw bytes, plus i32 for row ids and positions. */
#define WEFT_CUDA_DTYPES                                                      \
  (WEFT_DTYPE_BIT(WEFT_DTYPE_F32) | WEFT_DTYPE_BIT(WEFT_DTYPE_F16) |          \
   WEFT_DTYPE_BIT(WEFT_DTYPE_I32) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_0) |         \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_1) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q5_0) |        \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q5_1) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q8_0) |        \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q8_1) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q2_K) |        \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q3_K) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q4_K) |        \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q5_K) | WEFT_DTYPE_BIT(WEFT_DTYPE_Q6_K) |        \
   WEFT_DTYPE_BIT(WEFT_DTYPE_Q8_K))

/* cuMemAlloc returns 256-byte aligned memory (CUDA driver API, cuMemAlloc);
 * larger alignments are met by allocating more and offsetting. */
#define WEFT_CUDA_NATIVE_ALIGNMENT 256u

/* True when a host-sized struct `ptr` of ABI type `type` holds `member`
 * (docs/abi.md, "Sizes"). */
/* A status through the host (plugins never create status objects). */
#define WEFT_CUDA_STATUS(host, code, ...) \
  ((host)->status_make((host)->host_ctx, (code), __VA_ARGS__))

typedef struct weft_cuda_physical_t {
  CUdevice device;
  weft_device_caps_t caps; /* the whole record as this plugin knows it */
} weft_cuda_physical_t;

struct weft_plugin_instance_s {
  const weft_host_services_t* host; /* valid until instance_destroy */
  weft_cuda_loader_t loader;
  weft_cuda_physical_t* physical;   /* host->alloc'ed array */
  uint32_t physical_count;
  int driver_version;               /* cuDriverGetVersion: 1000 * major + 10 * minor */
};

struct weft_plugin_buffer_s {
  weft_plugin_buffer_t* prev; /* the device's list of live buffers */
  weft_plugin_buffer_t* next;
  uint64_t size;
  uint32_t memory_type;       /* weft_memory_type_t asked for */
  uint32_t reserved0;
  CUdeviceptr base;           /* what cuMemAlloc returned (device memory) */
  void* host_base;            /* what cuMemHostAlloc returned (host-visible) */
  CUdeviceptr pointer;        /* aligned start, device view */
  uint8_t* host;              /* aligned start, host view; NULL for device memory */
};

struct weft_plugin_device_s {
  weft_plugin_instance_t* instance;
  const weft_cuda_physical_t* physical;
  uint32_t index;
  CUcontext context;              /* the primary context, retained */
  weft_plugin_buffer_t* buffers;  /* live buffers, freed by device_close */
};

#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

/* ---- device.c ---- */

/* Fills the instance's device list and capability records. */
weft_status_t weft_cuda_physical_enumerate(weft_plugin_instance_t* instance);

uint32_t weft_cuda_device_count(weft_plugin_instance_t* instance);
weft_status_t weft_cuda_device_query_caps(weft_plugin_instance_t* instance, uint32_t index,
                                          weft_device_caps_t* inout_caps);
weft_status_t weft_cuda_device_open(weft_plugin_instance_t* instance, uint32_t index,
                                    weft_plugin_device_t** out_device);
void weft_cuda_device_close(weft_plugin_device_t* device);
weft_status_t weft_cuda_device_op_query(weft_plugin_device_t* device, const weft_node_t* node,
                                        const weft_tensor_desc_t* const* tensors,
                                        uint32_t tensor_count,
                                        weft_op_support_t* out_support);
weft_status_t weft_cuda_device_segment_submit(weft_plugin_device_t* device,
                                              const weft_segment_t* segment,
                                              weft_event_t* const* waits, uint32_t wait_count,
                                              weft_event_t* signal);
weft_status_t weft_cuda_device_synchronize(weft_plugin_device_t* device);
weft_status_t weft_cuda_device_memory_query(weft_plugin_device_t* device, uint64_t* out_free,
                                            uint64_t* out_total);

/* Makes the device's context current on this thread / restores the old
 * state. Every driver call that needs a context sits between the two. */
weft_status_t weft_cuda_context_enter(weft_plugin_device_t* device);
void weft_cuda_context_leave(weft_plugin_device_t* device);

/* ---- buffer.c ---- */

weft_status_t weft_cuda_buffer_allocate(weft_plugin_device_t* device,
                                        const weft_buffer_params_t* params,
                                        weft_plugin_buffer_t** out_buffer);
void weft_cuda_buffer_free(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);
weft_status_t weft_cuda_buffer_map(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer,
                                   void** out_ptr);
void weft_cuda_buffer_unmap(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);
weft_status_t weft_cuda_buffer_upload(weft_plugin_device_t* device,
                                      weft_plugin_buffer_t* buffer, uint64_t offset,
                                      const void* src, uint64_t size);
weft_status_t weft_cuda_buffer_download(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* buffer, uint64_t offset,
                                        void* dst, uint64_t size);
weft_status_t weft_cuda_buffer_copy(weft_plugin_device_t* device, weft_plugin_buffer_t* src,
                                    uint64_t src_offset, weft_plugin_buffer_t* dst,
                                    uint64_t dst_offset, uint64_t size);
weft_status_t weft_cuda_buffer_fill(weft_plugin_device_t* device,
                                    weft_plugin_buffer_t* buffer, uint64_t offset,
                                    uint64_t size, const void* pattern, uint32_t pattern_size);

/* Frees the memory (context current) and the record; not the list. */
void weft_cuda_buffer_release(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif /* WEFT_CUDA_PLUGIN_H_ */
