/* The null backend: the smallest complete weft plugin, and the template for
 * new backends (docs/writing-a-backend.md).
 *
 * It negotiates, probes as available everywhere and exposes one device of
 * type "virtual" with score 0, so it never wins over a real device unless
 * asked for ("null:0"). The device keeps buffers in host memory, within a
 * fixed budget, and runs no ops: every op_query answers "unsupported" with a
 * reason, and a segment with nodes is refused.
 *
 * Files follow the layout every backend reuses:
 *   plugin.c  entry point, plugin info, probe, instance, function table
 *   device.c  device enumeration, capabilities, op support, submission
 *   buffer.c  device memory
 *
 * Builds against the ABI headers alone (abi/, or the installed SDK through
 * find_package(weft) or pkg-config weft-abi); never links libweft. */
#ifndef WEFT_NULL_H_
#define WEFT_NULL_H_

#include <stddef.h>
#include <stdint.h>

#include "weft/abi.h"

#define WEFT_NULL_PLUGIN_NAME "null"
#define WEFT_NULL_PLUGIN_VERSION "0.1.0"

/* Device memory budget. Buffers live in host memory; the cap keeps the
 * accounting (and RESOURCE_EXHAUSTED) as real as on a device. */
#define WEFT_NULL_MEMORY_TOTAL ((uint64_t)64 << 20)
#define WEFT_NULL_DEFAULT_ALIGNMENT 64u

/* True when a host-sized struct `ptr` (of ABI type `type`) is large enough to
 * hold `member`: the size-prefix rule (docs/abi.md, "Sizes"). A plugin writes
 * a member of a host struct only when this holds, so a plugin built against a
 * newer minor never writes past an older host's storage. */
struct weft_plugin_instance_s {
  /* Valid from instance_create until instance_destroy (ABI guarantee). */
  const weft_host_services_t* host;
};

struct weft_plugin_device_s {
  weft_plugin_instance_t* instance;
  uint32_t index;
  /* Calls on one device are serialised by the host, so neither needs a lock. */
  uint64_t memory_used;          /* bytes held by live buffers */
  weft_plugin_buffer_t* buffers; /* live buffers, freed by device_close */
};

struct weft_plugin_buffer_s {
  weft_plugin_buffer_t* prev; /* in the device's list of live buffers */
  weft_plugin_buffer_t* next;
  void* data; /* from host->alloc, freed with host->free */
  uint64_t size;
  uint32_t memory_type;
  uint32_t reserved0;
};

/* Convenience: a status with a message, through the host (plugins never
 * create status objects themselves; docs/abi.md, "Status ownership"). */
#define WEFT_NULL_STATUS(instance, code, ...)                                \
  ((instance)->host->status_make((instance)->host->host_ctx, (code),         \
                                 __VA_ARGS__))

/* Internal functions stay out of the dynamic symbol table even when built
 * without -fvisibility=hidden (the plain `cc $(pkg-config ...)` build): the
 * only export is weft_plugin_negotiate. */
#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

/* ---- device.c ---- */

uint32_t weft_null_device_count(weft_plugin_instance_t* instance);
weft_status_t weft_null_device_query_caps(weft_plugin_instance_t* instance,
                                          uint32_t index,
                                          weft_device_caps_t* inout_caps);
weft_status_t weft_null_device_open(weft_plugin_instance_t* instance,
                                    uint32_t index,
                                    weft_plugin_device_t** out_device);
void weft_null_device_close(weft_plugin_device_t* device);
weft_status_t weft_null_device_op_query(weft_plugin_device_t* device,
                                        const weft_node_t* node,
                                        const weft_tensor_desc_t* const* tensors,
                                        uint32_t tensor_count,
                                        weft_op_support_t* out_support);
weft_status_t weft_null_device_segment_submit(weft_plugin_device_t* device,
                                              const weft_segment_t* segment,
                                              weft_event_t* const* waits,
                                              uint32_t wait_count,
                                              weft_event_t* signal);
weft_status_t weft_null_device_synchronize(weft_plugin_device_t* device);
weft_status_t weft_null_device_memory_query(weft_plugin_device_t* device,
                                            uint64_t* out_free,
                                            uint64_t* out_total);

/* ---- buffer.c ---- */

weft_status_t weft_null_buffer_allocate(weft_plugin_device_t* device,
                                        const weft_buffer_params_t* params,
                                        weft_plugin_buffer_t** out_buffer);
void weft_null_buffer_free(weft_plugin_device_t* device,
                           weft_plugin_buffer_t* buffer);
weft_status_t weft_null_buffer_map(weft_plugin_device_t* device,
                                   weft_plugin_buffer_t* buffer, void** out_ptr);
void weft_null_buffer_unmap(weft_plugin_device_t* device,
                            weft_plugin_buffer_t* buffer);
weft_status_t weft_null_buffer_upload(weft_plugin_device_t* device,
                                      weft_plugin_buffer_t* buffer,
                                      uint64_t offset, const void* src,
                                      uint64_t size);
weft_status_t weft_null_buffer_download(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* buffer,
                                        uint64_t offset, void* dst,
                                        uint64_t size);
weft_status_t weft_null_buffer_copy(weft_plugin_device_t* device,
                                    weft_plugin_buffer_t* src,
                                    uint64_t src_offset,
                                    weft_plugin_buffer_t* dst,
                                    uint64_t dst_offset, uint64_t size);
weft_status_t weft_null_buffer_fill(weft_plugin_device_t* device,
                                    weft_plugin_buffer_t* buffer,
                                    uint64_t offset, uint64_t size,
                                    const void* pattern, uint32_t pattern_size);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif /* WEFT_NULL_H_ */
