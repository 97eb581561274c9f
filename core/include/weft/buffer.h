/* weft buffers: device memory, owned by the application, allocated through
 * the device's plugin.
 *
 * Thread safety: one buffer must not be used from two threads at once; the
 * runtime serialises calls to one device. Errors name the buffer's device and
 * the offending values. */
#ifndef WEFT_BUFFER_H_
#define WEFT_BUFFER_H_

#include <stdbool.h>
#include <stdint.h>

#include "weft/abi/device.h"
#include "weft/export.h"
#include "weft/runtime.h"
#include "weft/status.h"

WEFT_EXTERN_C_BEGIN

typedef struct weft_buffer_s weft_buffer_t;

/* Allocates `size` bytes (> 0) of `memory_type` on `device`, opening the device
 * on first use. Errors: INVALID_ARGUMENT, OUT_OF_MEMORY / RESOURCE_EXHAUSTED
 * (device memory), UNAVAILABLE (device failed to open). */
WEFT_API weft_status_t weft_buffer_create(weft_device_t* device,
                                          weft_memory_type_t memory_type,
                                          uint64_t size,
                                          weft_buffer_t** out_buffer);
/* Wraps `size` bytes of the application's memory at `host_ptr` (aligned to at
 * least 64 bytes) as a buffer of `device`, without copying. The memory must
 * stay alive until the buffer is destroyed; the buffer reads and writes it in
 * place. Errors: UNSUPPORTED when the device cannot read host memory directly
 * (a discrete GPU: allocate with weft_buffer_create and write instead),
 * INVALID_ARGUMENT (NULL, misaligned, size 0). */
WEFT_API weft_status_t weft_buffer_wrap_host(weft_device_t* device, void* host_ptr,
                                             uint64_t size, weft_buffer_t** out_buffer);

/* The whole file at `path` as a read-only buffer of `device`: mapped and
 * wrapped without a copy where the device reads host memory (CPUs, unified
 * memory), else copied once into a device buffer. Bind tensors at their file
 * offsets (GGUF weights). Writes into it are refused (FAILED_PRECONDITION).
 * Errors: NOT_FOUND / PERMISSION_DENIED / IO_ERROR naming the path,
 * INVALID_ARGUMENT for an empty file, and what weft_buffer_create returns. */
WEFT_API weft_status_t weft_buffer_map_file(weft_device_t* device, const char* path,
                                            weft_buffer_t** out_buffer);

/* True for a buffer that only wraps memory (wrap_host, or a mapped file the
 * device reads in place); false for memory the device allocated. */
WEFT_API bool weft_buffer_is_zero_copy(const weft_buffer_t* buffer);

/* NULL is a no-op. A mapped file is unmapped. */
WEFT_API void weft_buffer_destroy(weft_buffer_t* buffer);

WEFT_API uint64_t weft_buffer_size(const weft_buffer_t* buffer);
WEFT_API weft_device_t* weft_buffer_device(const weft_buffer_t* buffer);

/* Blocking copies between host memory and the buffer. OUT_OF_RANGE when
 * [offset, offset + size) is not inside the buffer. */
WEFT_API weft_status_t weft_buffer_write(weft_buffer_t* buffer, uint64_t offset,
                                         const void* src, uint64_t size);
WEFT_API weft_status_t weft_buffer_read(weft_buffer_t* buffer, uint64_t offset,
                                        void* dst, uint64_t size);
/* Repeats a 1-, 2- or 4-byte pattern. */
WEFT_API weft_status_t weft_buffer_fill(weft_buffer_t* buffer, uint64_t offset,
                                        uint64_t size, const void* pattern,
                                        uint32_t pattern_size);
/* Copies between two buffers of the same device, or within one buffer.
 * INVALID_ARGUMENT when the two ranges overlap in the same buffer. */
WEFT_API weft_status_t weft_buffer_copy(weft_buffer_t* src, uint64_t src_offset,
                                        weft_buffer_t* dst, uint64_t dst_offset,
                                        uint64_t size);
/* Maps a host-visible buffer. UNSUPPORTED for device-local memory the host
 * cannot see. The pointer is valid until weft_buffer_unmap. */
WEFT_API weft_status_t weft_buffer_map(weft_buffer_t* buffer, void** out_ptr);
WEFT_API void weft_buffer_unmap(weft_buffer_t* buffer);

WEFT_EXTERN_C_END

#endif /* WEFT_BUFFER_H_ */
