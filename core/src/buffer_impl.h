/* Internal layout of a host buffer handle, shared with the executor and
 * tests that reach a buffer's plugin handle. */
#ifndef WEFT_CORE_BUFFER_IMPL_H_
#define WEFT_CORE_BUFFER_IMPL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime_impl.h"
#include "weft/buffer.h"

struct weft_buffer_s {
  weft_device_t* device;
  weft_plugin_buffer_t* handle;
  uint64_t size;
  uint32_t memory_type;
  uint32_t mapped;
  uint64_t serial;  /* unique in its runtime, never reused */
  bool imported;    /* wraps memory the device does not own */
  bool read_only;   /* a mapped file: ops and writes may not change it */
  void* file_map;   /* munmap'ed at destroy */
  size_t file_map_size;
};

#endif /* WEFT_CORE_BUFFER_IMPL_H_ */
