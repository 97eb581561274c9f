/* Buffers: application-owned handles to memory a plugin allocated. Ranges are
 * checked here, before the plugin sees them. */
#include "weft/buffer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buffer_impl.h"
#include "device.h"
#include "runtime_impl.h"
#include "util.h"


static weft_status_t weft_buffer_check_writable(const weft_buffer_t* buffer,
                                                const char* what) {
  if (buffer->read_only) {
    return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                            "%s on device %s: the buffer is a read-only mapped file", what,
                            buffer->device->id);
  }
  return WEFT_OK;
}

static weft_status_t weft_buffer_check_range(const weft_buffer_t* buffer,
                                             const char* what, uint64_t offset,
                                             uint64_t size) {
  if (offset > buffer->size || size > buffer->size - offset) {
    return weft_status_make(WEFT_STATUS_OUT_OF_RANGE,
                            "%s on device %s: range [%llu, %llu + %llu) is outside the "
                            "buffer of %llu bytes",
                            what, buffer->device->id, (unsigned long long)offset,
                            (unsigned long long)offset, (unsigned long long)size,
                            (unsigned long long)buffer->size);
  }
  return WEFT_OK;
}

/* A buffer outlives nothing: once its device's plugin is unloaded, every use
 * is refused rather than reaching freed plugin state. Caller holds the lock. */
static weft_status_t weft_buffer_device_ready(const weft_buffer_t* buffer) {
  if (!buffer->device->opened) {
    return weft_status_make(WEFT_STATUS_FAILED_PRECONDITION,
                            "device %s is closed (its plugin was unloaded)",
                            buffer->device->id);
  }
  return WEFT_OK;
}

bool weft__buffer_serial_alive(weft_runtime_t* runtime, uint64_t serial) {
  pthread_mutex_lock(&runtime->buffers_lock);
  bool alive = false;
  for (size_t i = 0; i < runtime->live_serial_count && !alive; ++i) {
    alive = runtime->live_serials[i] == serial;
  }
  pthread_mutex_unlock(&runtime->buffers_lock);
  return alive;
}

static weft_status_t weft_buffer_serial_register(weft_runtime_t* runtime,
                                                 uint64_t* out_serial) {
  pthread_mutex_lock(&runtime->buffers_lock);
  weft_status_t status = weft__array_reserve_one(
      runtime->allocator, (void**)&runtime->live_serials, &runtime->live_serial_capacity,
      runtime->live_serial_count, sizeof(uint64_t));
  if (status == WEFT_OK) {
    *out_serial = runtime->next_buffer_serial++;
    runtime->live_serials[runtime->live_serial_count++] = *out_serial;
  }
  pthread_mutex_unlock(&runtime->buffers_lock);
  return status;
}

static void weft_buffer_serial_unregister(weft_runtime_t* runtime, uint64_t serial) {
  pthread_mutex_lock(&runtime->buffers_lock);
  for (size_t i = 0; i < runtime->live_serial_count; ++i) {
    if (runtime->live_serials[i] == serial) {
      runtime->live_serials[i] = runtime->live_serials[--runtime->live_serial_count];
      break;
    }
  }
  pthread_mutex_unlock(&runtime->buffers_lock);
}

/* Makes a buffer object around a handle the plugin creates in `make`
 * (allocate or import), registered and counted like every buffer. */
typedef weft_status_t (*weft_buffer_make_fn)(weft_device_t* device, void* ctx,
                                             weft_plugin_buffer_t** out_handle);

static weft_status_t weft_buffer_new(weft_device_t* device, uint64_t size,
                                     uint32_t memory_type, bool imported,
                                     weft_buffer_make_fn make, void* ctx,
                                     weft_buffer_t** out_buffer) {
  weft_allocator_t allocator = device->runtime->allocator;
  weft_buffer_t* buffer = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(allocator, sizeof(*buffer), "a buffer", (void**)&buffer));
  buffer->device = device;
  buffer->size = size;
  buffer->memory_type = memory_type;
  buffer->imported = imported;
  pthread_mutex_lock(&device->lock);
  weft_status_t status = weft__device_ensure_open_locked(device);
  if (status == WEFT_OK) {
    status = make(device, ctx, &buffer->handle);
    if (status == WEFT_OK && !buffer->handle) {
      status = weft_status_make(WEFT_STATUS_INTERNAL,
                                "device %s: the plugin returned OK without a buffer",
                                device->id);
    } else if (status == WEFT_OK) {
      device->live_buffers++;
    }
  }
  pthread_mutex_unlock(&device->lock);
  if (status == WEFT_OK) {
    status = weft_buffer_serial_register(device->runtime, &buffer->serial);
    if (status != WEFT_OK) {
      pthread_mutex_lock(&device->lock);
      device->plugin->table.buffer_free(device->opened, buffer->handle);
      device->live_buffers--;
      pthread_mutex_unlock(&device->lock);
    }
  }
  if (status != WEFT_OK) {
    weft__free(allocator, buffer);
    return status;
  }
  *out_buffer = buffer;
  return WEFT_OK;
}

static weft_status_t weft_buffer_make_allocated(weft_device_t* device, void* ctx,
                                                weft_plugin_buffer_t** out_handle) {
  const weft_buffer_params_t* params = (const weft_buffer_params_t*)ctx;
  weft_status_t status =
      device->plugin->table.buffer_allocate(device->opened, params, out_handle);
  return weft_status_annotate(status, "device %s: allocating %llu bytes", device->id,
                              (unsigned long long)params->size);
}

weft_status_t weft_buffer_create(weft_device_t* device, weft_memory_type_t memory_type,
                                 uint64_t size, weft_buffer_t** out_buffer) {
  if (out_buffer) *out_buffer = NULL;
  if (!device || !out_buffer) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_create: device and out_buffer must not be NULL");
  }
  if (size == 0) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_create on device %s: size is 0", device->id);
  }
  if (memory_type != WEFT_MEMORY_TYPE_DEVICE_LOCAL &&
      memory_type != WEFT_MEMORY_TYPE_HOST_VISIBLE) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_create on device %s: unknown memory type %d",
                            device->id, (int)memory_type);
  }
  if (device->caps.memory_total != 0 && size > device->caps.memory_total) {
    return weft_status_make(WEFT_STATUS_RESOURCE_EXHAUSTED,
                            "weft_buffer_create on device %s: %llu bytes requested, the "
                            "device has %llu",
                            device->id, (unsigned long long)size,
                            (unsigned long long)device->caps.memory_total);
  }
  weft_buffer_params_t params;
  memset(&params, 0, sizeof(params));
  params.struct_size = (uint32_t)sizeof(params);
  params.memory_type = (uint32_t)memory_type;
  params.size = size;
  return weft_buffer_new(device, size, (uint32_t)memory_type, false,
                         weft_buffer_make_allocated, &params, out_buffer);
}

typedef struct weft_buffer_import_t {
  void* host_ptr;
  uint64_t size;
} weft_buffer_import_t;

static weft_status_t weft_buffer_make_imported(weft_device_t* device, void* ctx,
                                               weft_plugin_buffer_t** out_handle) {
  const weft_buffer_import_t* import = (const weft_buffer_import_t*)ctx;
  if (!device->plugin->table.buffer_import_host) {
    return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                            "device %s cannot wrap host memory (its plugin speaks ABI %u.%u "
                            "without buffer_import_host)",
                            device->id, WEFT_ABI_VERSION_MAJOR_OF(device->plugin->abi_version),
                            WEFT_ABI_VERSION_MINOR_OF(device->plugin->abi_version));
  }
  weft_status_t status = device->plugin->table.buffer_import_host(
      device->opened, import->host_ptr, import->size, out_handle);
  return weft_status_annotate(status, "device %s: wrapping %llu bytes of host memory",
                              device->id, (unsigned long long)import->size);
}

weft_status_t weft_buffer_wrap_host(weft_device_t* device, void* host_ptr, uint64_t size,
                                    weft_buffer_t** out_buffer) {
  if (out_buffer) *out_buffer = NULL;
  if (!device || !host_ptr || !out_buffer || size == 0) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_wrap_host: device, host_ptr, out_buffer and a size "
                            "> 0 are needed (size %llu)",
                            (unsigned long long)size);
  }
  if ((uintptr_t)host_ptr % 64 != 0) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_wrap_host on %s: %p is not aligned to 64 bytes",
                            device->id, host_ptr);
  }
  weft_buffer_import_t import = {host_ptr, size};
  return weft_buffer_new(device, size, WEFT_MEMORY_TYPE_HOST_VISIBLE, true,
                         weft_buffer_make_imported, &import, out_buffer);
}

weft_status_t weft_buffer_map_file(weft_device_t* device, const char* path,
                                   weft_buffer_t** out_buffer) {
  if (out_buffer) *out_buffer = NULL;
  if (!device || !path || !out_buffer) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_map_file: device, path and out_buffer must not be "
                            "NULL");
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    return weft_status_make(error == ENOENT   ? WEFT_STATUS_NOT_FOUND
                            : error == EACCES ? WEFT_STATUS_PERMISSION_DENIED
                                              : WEFT_STATUS_IO_ERROR,
                            "cannot open '%s': %s", path, strerror(error));
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) || info.st_size <= 0) {
    int error = errno;
    close(fd);
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "'%s' is not a non-empty regular file%s%s", path,
                            error ? ": " : "", error ? strerror(error) : "");
  }
  size_t size = (size_t)info.st_size;
  void* map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) {
    return weft_status_make(WEFT_STATUS_IO_ERROR, "cannot map '%s' (%zu bytes): %s", path,
                            size, strerror(errno));
  }
  weft_buffer_t* buffer = NULL;
  weft_buffer_import_t import = {map, size};
  weft_status_t status = weft_buffer_new(device, size, WEFT_MEMORY_TYPE_HOST_VISIBLE, true,
                                         weft_buffer_make_imported, &import, &buffer);
  if (status == WEFT_OK) {
    buffer->file_map = map;
    buffer->file_map_size = size;
  } else if (weft_status_code(status) == WEFT_STATUS_UNSUPPORTED) {
    /* A device that cannot read host memory gets a copy, made once. */
    weft_status_free(status);
    status = weft_buffer_create(device, WEFT_MEMORY_TYPE_DEVICE_LOCAL, size, &buffer);
    if (status == WEFT_OK) status = weft_buffer_write(buffer, 0, map, size);
    if (status != WEFT_OK) {
      weft_buffer_destroy(buffer);
      buffer = NULL;
    }
    munmap(map, size);
  } else {
    munmap(map, size);
  }
  if (status != WEFT_OK) return weft_status_annotate(status, "mapping '%s'", path);
  buffer->read_only = true;
  *out_buffer = buffer;
  return WEFT_OK;
}

bool weft_buffer_is_zero_copy(const weft_buffer_t* buffer) {
  return buffer && buffer->imported;
}

void weft_buffer_destroy(weft_buffer_t* buffer) {
  if (!buffer) return;
  weft_device_t* device = buffer->device;
  pthread_mutex_lock(&device->lock);
  if (device->opened) {
    if (buffer->mapped && device->plugin->table.buffer_unmap) {
      device->plugin->table.buffer_unmap(device->opened, buffer->handle);
    }
    device->plugin->table.buffer_free(device->opened, buffer->handle);
  }
  if (device->live_buffers > 0) device->live_buffers--;
  pthread_mutex_unlock(&device->lock);
  weft_buffer_serial_unregister(device->runtime, buffer->serial);
  if (buffer->file_map) munmap(buffer->file_map, buffer->file_map_size);
  weft__free(device->runtime->allocator, buffer);
}

uint64_t weft_buffer_size(const weft_buffer_t* buffer) { return buffer ? buffer->size : 0; }

weft_device_t* weft_buffer_device(const weft_buffer_t* buffer) {
  return buffer ? buffer->device : NULL;
}

weft_status_t weft_buffer_write(weft_buffer_t* buffer, uint64_t offset, const void* src,
                                uint64_t size) {
  if (!buffer || (!src && size)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_write: buffer and src must not be NULL");
  }
  WEFT_RETURN_IF_ERROR(weft_buffer_check_range(buffer, "weft_buffer_write", offset, size));
  WEFT_RETURN_IF_ERROR(weft_buffer_check_writable(buffer, "weft_buffer_write"));
  if (size == 0) return WEFT_OK;
  weft_device_t* device = buffer->device;
  pthread_mutex_lock(&device->lock);
  weft_status_t status = weft_buffer_device_ready(buffer);
  if (status == WEFT_OK) {
    status = device->plugin->table.buffer_upload(device->opened, buffer->handle, offset,
                                                 src, size);
  }
  pthread_mutex_unlock(&device->lock);
  return weft_status_annotate(status, "device %s: write", device->id);
}

weft_status_t weft_buffer_read(weft_buffer_t* buffer, uint64_t offset, void* dst,
                               uint64_t size) {
  if (!buffer || (!dst && size)) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_read: buffer and dst must not be NULL");
  }
  WEFT_RETURN_IF_ERROR(weft_buffer_check_range(buffer, "weft_buffer_read", offset, size));
  if (size == 0) return WEFT_OK;
  weft_device_t* device = buffer->device;
  pthread_mutex_lock(&device->lock);
  weft_status_t status = weft_buffer_device_ready(buffer);
  if (status == WEFT_OK) {
    status = device->plugin->table.buffer_download(device->opened, buffer->handle, offset,
                                                   dst, size);
  }
  pthread_mutex_unlock(&device->lock);
  return weft_status_annotate(status, "device %s: read", device->id);
}

weft_status_t weft_buffer_fill(weft_buffer_t* buffer, uint64_t offset, uint64_t size,
                               const void* pattern, uint32_t pattern_size) {
  if (!buffer || !pattern) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_fill: buffer and pattern must not be NULL");
  }
  if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_fill: pattern_size is %u; expected 1, 2 or 4",
                            pattern_size);
  }
  if (offset % pattern_size != 0 || size % pattern_size != 0) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_fill: offset %llu and size %llu must be multiples "
                            "of the pattern size %u",
                            (unsigned long long)offset, (unsigned long long)size,
                            pattern_size);
  }
  WEFT_RETURN_IF_ERROR(weft_buffer_check_range(buffer, "weft_buffer_fill", offset, size));
  WEFT_RETURN_IF_ERROR(weft_buffer_check_writable(buffer, "weft_buffer_fill"));
  if (size == 0) return WEFT_OK;
  weft_device_t* device = buffer->device;
  if (!device->plugin->table.buffer_fill) {
    return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                            "device %s: its plugin does not implement buffer_fill",
                            device->id);
  }
  pthread_mutex_lock(&device->lock);
  weft_status_t status = weft_buffer_device_ready(buffer);
  if (status == WEFT_OK) {
    status = device->plugin->table.buffer_fill(device->opened, buffer->handle, offset, size,
                                               pattern, pattern_size);
  }
  pthread_mutex_unlock(&device->lock);
  return weft_status_annotate(status, "device %s: fill", device->id);
}

weft_status_t weft_buffer_copy(weft_buffer_t* src, uint64_t src_offset, weft_buffer_t* dst,
                               uint64_t dst_offset, uint64_t size) {
  if (!src || !dst) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_copy: src and dst must not be NULL");
  }
  if (src->device != dst->device) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_copy: buffers live on different devices (%s, %s)",
                            src->device->id, dst->device->id);
  }
  WEFT_RETURN_IF_ERROR(weft_buffer_check_range(src, "weft_buffer_copy source", src_offset, size));
  WEFT_RETURN_IF_ERROR(weft_buffer_check_range(dst, "weft_buffer_copy target", dst_offset, size));
  WEFT_RETURN_IF_ERROR(weft_buffer_check_writable(dst, "weft_buffer_copy"));
  /* Vulkan, OpenCL and CUDA all forbid overlapping copies; refusing them here
   * gives every device the same contract. */
  if (src == dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_copy on device %s: source [%llu, +%llu) and target "
                            "[%llu, +%llu) overlap in the same buffer",
                            src->device->id, (unsigned long long)src_offset,
                            (unsigned long long)size, (unsigned long long)dst_offset,
                            (unsigned long long)size);
  }
  if (size == 0) return WEFT_OK;
  weft_device_t* device = src->device;
  if (!device->plugin->table.buffer_copy) {
    return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                            "device %s: its plugin does not implement buffer_copy",
                            device->id);
  }
  pthread_mutex_lock(&device->lock);
  weft_status_t status = weft_buffer_device_ready(src);
  if (status == WEFT_OK) {
    status = device->plugin->table.buffer_copy(device->opened, src->handle, src_offset,
                                               dst->handle, dst_offset, size);
  }
  pthread_mutex_unlock(&device->lock);
  return weft_status_annotate(status, "device %s: copy", device->id);
}

weft_status_t weft_buffer_map(weft_buffer_t* buffer, void** out_ptr) {
  if (out_ptr) *out_ptr = NULL;
  if (!buffer || !out_ptr) {
    return weft_status_make(WEFT_STATUS_INVALID_ARGUMENT,
                            "weft_buffer_map: buffer and out_ptr must not be NULL");
  }
  weft_device_t* device = buffer->device;
  if (!device->plugin->table.buffer_map) {
    return weft_status_make(WEFT_STATUS_UNSUPPORTED,
                            "device %s: its plugin cannot map buffers", device->id);
  }
  pthread_mutex_lock(&device->lock);
  void* ptr = NULL;
  weft_status_t status = weft_buffer_device_ready(buffer);
  if (status == WEFT_OK) {
    status = device->plugin->table.buffer_map(device->opened, buffer->handle, &ptr);
  }
  if (status == WEFT_OK) {
    buffer->mapped = 1;
    *out_ptr = ptr;
  }
  pthread_mutex_unlock(&device->lock);
  return weft_status_annotate(status, "device %s: map", device->id);
}

void weft_buffer_unmap(weft_buffer_t* buffer) {
  if (!buffer || !buffer->mapped) return;
  weft_device_t* device = buffer->device;
  pthread_mutex_lock(&device->lock);
  if (device->opened && device->plugin->table.buffer_unmap) {
    device->plugin->table.buffer_unmap(device->opened, buffer->handle);
  }
  buffer->mapped = 0;
  pthread_mutex_unlock(&device->lock);
}
