/* Internal state of the reference CPU backend. */
#ifndef WEFT_CORE_CPU_REF_IMPL_H_
#define WEFT_CORE_CPU_REF_IMPL_H_

#include <stdbool.h>

#include "weft/abi/plugin.h"

struct weft_plugin_instance_s {
  const weft_host_services_t* host;
};

struct weft_plugin_device_s {
  weft_plugin_instance_t* instance;
  const weft_host_services_t* host;
  uint64_t live_bytes;
};

struct weft_plugin_buffer_s {
  void* data;
  uint64_t size;
  bool owned; /* false: wraps the host's memory (buffer_import_host) */
};

/* Device and buffer entry points (buffer.c). */
weft_status_t weft__cpu_ref_device_open(weft_plugin_instance_t* instance, uint32_t index,
                                        weft_plugin_device_t** out_device);
void weft__cpu_ref_device_close(weft_plugin_device_t* device);
weft_status_t weft__cpu_ref_buffer_allocate(weft_plugin_device_t* device,
                                            const weft_buffer_params_t* params,
                                            weft_plugin_buffer_t** out_buffer);
weft_status_t weft__cpu_ref_buffer_import_host(weft_plugin_device_t* device, void* host_ptr,
                                              uint64_t size, weft_plugin_buffer_t** out_buffer);
void weft__cpu_ref_buffer_free(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);
weft_status_t weft__cpu_ref_buffer_map(weft_plugin_device_t* device,
                                       weft_plugin_buffer_t* buffer, void** out_ptr);
void weft__cpu_ref_buffer_unmap(weft_plugin_device_t* device, weft_plugin_buffer_t* buffer);
weft_status_t weft__cpu_ref_buffer_upload(weft_plugin_device_t* device,
                                          weft_plugin_buffer_t* buffer, uint64_t offset,
                                          const void* src, uint64_t size);
weft_status_t weft__cpu_ref_buffer_download(weft_plugin_device_t* device,
                                            weft_plugin_buffer_t* buffer, uint64_t offset,
                                            void* dst, uint64_t size);
weft_status_t weft__cpu_ref_buffer_copy(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* src, uint64_t src_offset,
                                        weft_plugin_buffer_t* dst, uint64_t dst_offset,
                                        uint64_t size);
weft_status_t weft__cpu_ref_buffer_fill(weft_plugin_device_t* device,
                                        weft_plugin_buffer_t* buffer, uint64_t offset,
                                        uint64_t size, const void* pattern,
                                        uint32_t pattern_size);
weft_status_t weft__cpu_ref_op_query(weft_plugin_device_t* device, const weft_node_t* node,
                                     const weft_tensor_desc_t* const* tensors,
                                     uint32_t tensor_count, weft_op_support_t* out_support);
weft_status_t weft__cpu_ref_segment_submit(weft_plugin_device_t* device,
                                           const weft_segment_t* segment,
                                           weft_event_t* const* waits, uint32_t wait_count,
                                           weft_event_t* signal);
weft_status_t weft__cpu_ref_synchronize(weft_plugin_device_t* device);
weft_status_t weft__cpu_ref_segment_prepare(weft_plugin_device_t* device,
                                            const weft_segment_t* segment,
                                            weft_prepared_segment_t** out_prepared);
weft_status_t weft__cpu_ref_segment_submit_prepared(weft_plugin_device_t* device,
                                                    weft_prepared_segment_t* prepared,
                                                    weft_event_t* const* waits,
                                                    uint32_t wait_count, weft_event_t* signal);
void weft__cpu_ref_segment_release(weft_plugin_device_t* device,
                                   weft_prepared_segment_t* prepared);
weft_status_t weft__cpu_ref_device_memory_query(weft_plugin_device_t* device,
                                                uint64_t* out_free, uint64_t* out_total);
/* Total and available physical memory. */
void weft__cpu_ref_memory(uint64_t* out_free, uint64_t* out_total);

#endif /* WEFT_CORE_CPU_REF_IMPL_H_ */
