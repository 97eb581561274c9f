/* The Vulkan plugin: internal declarations shared by its files.
 *
 * libweft-vulkan.so exposes every Vulkan 1.1+ physical device that has a
 * compute queue. It loads libvulkan.so.1 itself with dlopen (vulkan_loader.h)
 * and never links it, so it loads everywhere; where the loader or a driver is
 * missing, probe() says so and what to install.
 *
 * This stage of the plugin enumerates devices with their real capabilities
 * and moves bytes: buffers are VkBuffers in device-local memory, written and
 * read through a host-visible staging buffer, or directly through a
 * persistent mapping where the device-local memory is host-visible (UMA,
 * resizable BAR, CPU drivers). Kernels come later: op_query answers
 * "unsupported" for every op and segment_submit returns UNIMPLEMENTED.
 *
 * Files follow the layout every backend reuses:
 *   plugin.c          entry point, plugin info, probe, instance, function table
 *   device.c          device enumeration, capabilities, open/close, op support,
 *                     submission, memory queries
 *   buffer.c          device memory and transfers
 *   vulkan_loader.c   libvulkan.so.1 and its function tables
 *
 * Configuration (read through the host, so WEFT_RUNTIME_FLAG_IGNORE_ENV and
 * set-uid processes ignore it):
 *   WEFT_VULKAN_STAGING=always  transfer through the staging buffer even when
 *                               the memory is host-visible; exercises the
 *                               discrete-GPU path on integrated and CPU drivers.
 *
 * Threading: the host serialises calls on one open device; different devices
 * share only the instance, whose Vulkan calls used here are thread-safe
 * (Vulkan 1.3 spec, section 3.6 "Threading Behavior"). */
#ifndef WEFT_VULKAN_PLUGIN_H_
#define WEFT_VULKAN_PLUGIN_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vulkan_loader.h"
#include "weft/abi.h"

#define WEFT_VULKAN_PLUGIN_NAME "vulkan"
#define WEFT_VULKAN_PLUGIN_VERSION "0.1.0"

/* Bytes of the staging buffer; larger transfers go through it in pieces. */
#define WEFT_VULKAN_STAGING_BYTES ((VkDeviceSize)4 << 20)

/* What the plugin can hold in a buffer: the float types and the GGUF block
 * types as raw bytes, plus i32 for row ids and positions. Kernels for them
 * come later; the record says what a buffer may carry. */
#define WEFT_VULKAN_DTYPES                                                    \
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
#define WEFT_VULKAN_STATUS(host, code, ...) \
  ((host)->status_make((host)->host_ctx, (code), __VA_ARGS__))

/* One usable physical device and everything learnt about it at enumeration. */
typedef struct weft_vulkan_physical_t {
  VkPhysicalDevice handle;
  uint32_t api_version;
  uint32_t queue_family;          /* the compute family device_open uses */
  VkPhysicalDeviceMemoryProperties memory;
  uint32_t largest_local_heap;    /* index of the largest device-local heap */
  VkDeviceSize max_allocation;    /* maxMemoryAllocationSize (1.1 core) */
  VkDeviceSize non_coherent_atom; /* nonCoherentAtomSize */
  bool has_memory_budget;         /* VK_EXT_memory_budget */
  weft_device_caps_t caps;        /* the whole record as this plugin knows it */
} weft_vulkan_physical_t;

struct weft_plugin_instance_s {
  const weft_host_services_t* host; /* valid until instance_destroy */
  weft_vulkan_loader_t loader;
  weft_vulkan_physical_t* physical; /* host->alloc'ed array */
  uint32_t physical_count;
  bool force_staging;               /* WEFT_VULKAN_STAGING=always */
};

struct weft_plugin_buffer_s {
  weft_plugin_buffer_t* prev; /* the device's list of live buffers */
  weft_plugin_buffer_t* next;
  VkBuffer buffer;
  VkDeviceMemory memory;
  VkDeviceSize size;          /* as asked for */
  VkMemoryPropertyFlags properties;
  uint32_t memory_type_index;
  uint32_t memory_type;       /* weft_memory_type_t asked for */
  void* mapped;               /* persistent mapping when host-visible */
};

struct weft_plugin_device_s {
  weft_plugin_instance_t* instance;
  const weft_vulkan_physical_t* physical;
  uint32_t index;
  VkDevice device;
  weft_vulkan_device_table_t vk;
  VkQueue queue;
  VkCommandPool command_pool;
  VkCommandBuffer command_buffer; /* one, reused by every blocking transfer */
  VkFence fence;
  weft_plugin_buffer_t* staging;  /* created on first use, not in `buffers` */
  weft_plugin_buffer_t* buffers;  /* live buffers, freed by device_close */
};

#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

/* ---- device.c ---- */

/* Lists the physical devices weft can use (Vulkan 1.1+, a compute queue) into
 * a host->alloc'ed array; *out_physical is NULL when there are none, and
 * *out_total_count counts every device the loader listed, usable or not.
 * With `with_caps` false only handle, api_version and queue_family are
 * filled, which is all probe() needs. */
weft_status_t weft_vulkan_physical_enumerate(const weft_host_services_t* host,
                                             const weft_vulkan_loader_t* loader,
                                             bool with_caps,
                                             weft_vulkan_physical_t** out_physical,
                                             uint32_t* out_count,
                                             uint32_t* out_total_count);

uint32_t weft_vulkan_device_count(weft_plugin_instance_t* instance);
weft_status_t weft_vulkan_device_query_caps(weft_plugin_instance_t* instance,
                                            uint32_t index,
                                            weft_device_caps_t* inout_caps);
weft_status_t weft_vulkan_device_open(weft_plugin_instance_t* instance, uint32_t index,
                                      weft_plugin_device_t** out_device);
void weft_vulkan_device_close(weft_plugin_device_t* device);
weft_status_t weft_vulkan_device_op_query(weft_plugin_device_t* device,
                                          const weft_node_t* node,
                                          const weft_tensor_desc_t* const* tensors,
                                          uint32_t tensor_count,
                                          weft_op_support_t* out_support);
weft_status_t weft_vulkan_device_segment_submit(weft_plugin_device_t* device,
                                                const weft_segment_t* segment,
                                                weft_event_t* const* waits,
                                                uint32_t wait_count,
                                                weft_event_t* signal);
weft_status_t weft_vulkan_device_synchronize(weft_plugin_device_t* device);
weft_status_t weft_vulkan_device_memory_query(weft_plugin_device_t* device,
                                              uint64_t* out_free, uint64_t* out_total);

/* Records the commands `record` adds into the device's command buffer, after
 * a barrier that makes earlier device writes visible to transfers, submits
 * them and waits for completion. `what` names the operation in errors. */
typedef void (*weft_vulkan_record_fn)(weft_plugin_device_t* device, void* user);
weft_status_t weft_vulkan_device_run_transfer(weft_plugin_device_t* device,
                                              weft_vulkan_record_fn record, void* user,
                                              const char* what);

/* ---- buffer.c ---- */

weft_status_t weft_vulkan_buffer_allocate(weft_plugin_device_t* device,
                                          const weft_buffer_params_t* params,
                                          weft_plugin_buffer_t** out_buffer);
void weft_vulkan_buffer_free(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);
weft_status_t weft_vulkan_buffer_map(weft_plugin_device_t* device,
                                     weft_plugin_buffer_t* buffer, void** out_ptr);
void weft_vulkan_buffer_unmap(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);
weft_status_t weft_vulkan_buffer_upload(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* buffer, uint64_t offset,
                                        const void* src, uint64_t size);
weft_status_t weft_vulkan_buffer_download(weft_plugin_device_t* device,
                                          weft_plugin_buffer_t* buffer, uint64_t offset,
                                          void* dst, uint64_t size);
weft_status_t weft_vulkan_buffer_copy(weft_plugin_device_t* device,
                                      weft_plugin_buffer_t* src, uint64_t src_offset,
                                      weft_plugin_buffer_t* dst, uint64_t dst_offset,
                                      uint64_t size);
weft_status_t weft_vulkan_buffer_fill(weft_plugin_device_t* device,
                                      weft_plugin_buffer_t* buffer, uint64_t offset,
                                      uint64_t size, const void* pattern,
                                      uint32_t pattern_size);

/* Frees a buffer without touching the device's list (device_close and the
 * staging buffer use it). */
void weft_vulkan_buffer_release(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif /* WEFT_VULKAN_PLUGIN_H_ */
