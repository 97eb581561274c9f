/* The CUDA plugin: opening libcuda.so.1 and resolving its functions. See
 * cuda_loader.h. */
#include "cuda_loader.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define WEFT_CUDA_STATUS_(host, code, ...) \
  ((host)->status_make((host)->host_ctx, (code), __VA_ARGS__))

const char* weft_cuda_error_name(const weft_cuda_loader_t* loader, CUresult result) {
  const char* name = NULL;
  if (loader != NULL && loader->cuGetErrorName != NULL &&
      loader->cuGetErrorName(result, &name) == CUDA_SUCCESS && name != NULL) {
    return name;
  }
  return "CUresult";
}

weft_status_code_t weft_cuda_error_code(CUresult result) {
  switch (result) {
    case CUDA_SUCCESS:
      return WEFT_STATUS_OK;
    case CUDA_ERROR_OUT_OF_MEMORY:
      return WEFT_STATUS_RESOURCE_EXHAUSTED;
    case CUDA_ERROR_NO_DEVICE:
    case (CUresult)34: /* CUDA_ERROR_STUB_LIBRARY; newer than some headers */
    case (CUresult)36: /* CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER; likewise */
    case CUDA_ERROR_NOT_INITIALIZED:
    case CUDA_ERROR_DEINITIALIZED:
    case (CUresult)46: /* CUDA_ERROR_DEVICE_UNAVAILABLE; newer than some headers */
    case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
    case CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
    case CUDA_ERROR_SYSTEM_NOT_READY:
    case CUDA_ERROR_OPERATING_SYSTEM:
      return WEFT_STATUS_UNAVAILABLE;
    /* The context is unusable after these (CUDA driver API, "Error
     * Handling": sticky errors). */
    case CUDA_ERROR_ILLEGAL_ADDRESS:
    case CUDA_ERROR_LAUNCH_FAILED:
    case CUDA_ERROR_ECC_UNCORRECTABLE:
    case CUDA_ERROR_HARDWARE_STACK_ERROR:
    case CUDA_ERROR_ILLEGAL_INSTRUCTION:
    case CUDA_ERROR_MISALIGNED_ADDRESS:
    case CUDA_ERROR_INVALID_ADDRESS_SPACE:
    case CUDA_ERROR_INVALID_PC:
      return WEFT_STATUS_DEVICE_LOST;
    case CUDA_ERROR_NOT_SUPPORTED:
      return WEFT_STATUS_UNSUPPORTED;
    default:
      return WEFT_STATUS_INTERNAL;
  }
}

weft_status_t weft_cuda_status_from_result(const weft_host_services_t* host,
                                           const weft_cuda_loader_t* loader, CUresult result,
                                           const char* what_format, ...) {
  char what[160];
  va_list args;
  va_start(args, what_format);
  vsnprintf(what, sizeof(what), what_format, args);
  va_end(args);
  const char* text = NULL;
  if (loader == NULL || loader->cuGetErrorString == NULL ||
      loader->cuGetErrorString(result, &text) != CUDA_SUCCESS || text == NULL) {
    text = "no description";
  }
  weft_status_code_t code = weft_cuda_error_code(result);
  if (code == WEFT_STATUS_OK) {
    code = WEFT_STATUS_INTERNAL; /* CUDA_SUCCESS reaching here is a plugin bug */
  }
  return WEFT_CUDA_STATUS_(host, code, "cuda: %s failed: %s (%d): %s", what,
                           weft_cuda_error_name(loader, result), (int)result, text);
}

/* One entry point: its symbol, an older symbol to fall back to, and where
 * it goes in the loader. */
typedef struct weft_cuda_symbol_t {
  const char* name;
  const char* fallback;
  size_t offset;
} weft_cuda_symbol_t;

#define WEFT_CUDA_SYMBOL_(member, fallback) \
  {#member, fallback, offsetof(weft_cuda_loader_t, member)}

static const weft_cuda_symbol_t kWeftCudaSymbols[] = {
    WEFT_CUDA_SYMBOL_(cuInit, NULL),
    WEFT_CUDA_SYMBOL_(cuDriverGetVersion, NULL),
    WEFT_CUDA_SYMBOL_(cuGetErrorName, NULL),
    WEFT_CUDA_SYMBOL_(cuGetErrorString, NULL),
    WEFT_CUDA_SYMBOL_(cuDeviceGetCount, NULL),
    WEFT_CUDA_SYMBOL_(cuDeviceGet, NULL),
    WEFT_CUDA_SYMBOL_(cuDeviceGetName, NULL),
    WEFT_CUDA_SYMBOL_(cuDeviceGetAttribute, NULL),
    WEFT_CUDA_SYMBOL_(cuDeviceTotalMem_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuDeviceGetUuid_v2, "cuDeviceGetUuid"),
    WEFT_CUDA_SYMBOL_(cuDevicePrimaryCtxRetain, NULL),
    WEFT_CUDA_SYMBOL_(cuDevicePrimaryCtxRelease_v2, "cuDevicePrimaryCtxRelease"),
    WEFT_CUDA_SYMBOL_(cuCtxPushCurrent_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuCtxPopCurrent_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuCtxSynchronize, NULL),
    WEFT_CUDA_SYMBOL_(cuMemGetInfo_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuMemAlloc_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuMemFree_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuMemHostAlloc, NULL),
    WEFT_CUDA_SYMBOL_(cuMemFreeHost, NULL),
    WEFT_CUDA_SYMBOL_(cuMemHostGetDevicePointer_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuMemcpyHtoD_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuMemcpyDtoH_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuMemcpyDtoD_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuMemsetD8_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuMemsetD16_v2, NULL),
    WEFT_CUDA_SYMBOL_(cuMemsetD32_v2, NULL),
};

weft_status_t weft_cuda_loader_open(const weft_host_services_t* host,
                                    weft_cuda_loader_t* loader) {
  memset(loader, 0, sizeof(*loader));
  /* RTLD_NODELETE: once cuInit has run, libcuda keeps process-wide state
   * (its own threads and exit handlers) that does not survive unmapping.
   * dlclose then only drops the handle; the driver stays, as it would in
   * any program that linked it. */
  void* library = dlopen(WEFT_CUDA_LIBRARY_NAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (library == NULL) {
    const char* error = dlerror();
    return WEFT_CUDA_STATUS_(host, WEFT_STATUS_UNAVAILABLE,
                             "%s not found (install the NVIDIA driver): %s",
                             WEFT_CUDA_LIBRARY_NAME, error != NULL ? error : "dlopen failed");
  }
  loader->library = library;
  for (size_t i = 0; i < sizeof(kWeftCudaSymbols) / sizeof(kWeftCudaSymbols[0]); ++i) {
    const weft_cuda_symbol_t* symbol = &kWeftCudaSymbols[i];
    void* address = dlsym(library, symbol->name);
    if (address == NULL && symbol->fallback != NULL) {
      address = dlsym(library, symbol->fallback);
    }
    if (address == NULL) {
      weft_cuda_loader_close(loader);
      return WEFT_CUDA_STATUS_(host, WEFT_STATUS_UNAVAILABLE,
                               "%s does not export %s; the NVIDIA driver is too old for weft "
                               "(update it to one for CUDA 11.0 or newer)",
                               WEFT_CUDA_LIBRARY_NAME, symbol->name);
    }
    /* Function pointers from dlsym: POSIX guarantees the representation
     * (XSH 2.12.3); memcpy keeps ISO C quiet about the conversion. */
    memcpy((char*)loader + symbol->offset, &address, sizeof(address));
  }
  return WEFT_OK;
}

void weft_cuda_loader_close(weft_cuda_loader_t* loader) {
  if (loader->library != NULL) {
    dlclose(loader->library);
  }
  memset(loader, 0, sizeof(*loader));
}
