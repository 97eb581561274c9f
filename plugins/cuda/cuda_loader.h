/* The CUDA plugin: libcuda.so.1 (the CUDA driver API), opened with dlopen,
 * and the functions the plugin calls through it.
 *
 * The plugin never links libcuda: it builds against cuda.h alone and
 * resolves every entry point at run time, so it loads on machines without
 * an NVIDIA driver, where probe() then says what to install. No CUDA runtime
 * (libcudart) is involved.
 *
 * Members are named after the exported symbols, which carry the _v2 suffix
 * cuda.h maps the plain names to (e.g. cuMemAlloc is cuMemAlloc_v2 since
 * CUDA 3.2); the pre-_v2 symbols are kept as fallbacks where a driver of the
 * supported range may lack the newer one.
 *
 * Thread safety: a loader is filled by one thread and then only read; the
 * driver API is thread-safe. */
#ifndef WEFT_CUDA_LOADER_H_
#define WEFT_CUDA_LOADER_H_

#include <cuda.h>

#include "weft/abi.h"

#define WEFT_CUDA_LIBRARY_NAME "libcuda.so.1"

typedef struct weft_cuda_loader_t {
  void* library; /* dlopen handle, NULL when closed */

  CUresult (CUDAAPI* cuInit)(unsigned int);
  CUresult (CUDAAPI* cuDriverGetVersion)(int*);
  CUresult (CUDAAPI* cuGetErrorName)(CUresult, const char**);
  CUresult (CUDAAPI* cuGetErrorString)(CUresult, const char**);
  CUresult (CUDAAPI* cuDeviceGetCount)(int*);
  CUresult (CUDAAPI* cuDeviceGet)(CUdevice*, int);
  CUresult (CUDAAPI* cuDeviceGetName)(char*, int, CUdevice);
  CUresult (CUDAAPI* cuDeviceGetAttribute)(int*, CUdevice_attribute, CUdevice);
  CUresult (CUDAAPI* cuDeviceTotalMem_v2)(size_t*, CUdevice);
  CUresult (CUDAAPI* cuDeviceGetUuid_v2)(CUuuid*, CUdevice); /* or the CUDA 9.2 cuDeviceGetUuid */
  CUresult (CUDAAPI* cuDevicePrimaryCtxRetain)(CUcontext*, CUdevice);
  CUresult (CUDAAPI* cuDevicePrimaryCtxRelease_v2)(CUdevice); /* or the pre-11.0 symbol */
  CUresult (CUDAAPI* cuCtxPushCurrent_v2)(CUcontext);
  CUresult (CUDAAPI* cuCtxPopCurrent_v2)(CUcontext*);
  CUresult (CUDAAPI* cuCtxSynchronize)(void);
  CUresult (CUDAAPI* cuMemGetInfo_v2)(size_t*, size_t*);
  CUresult (CUDAAPI* cuMemAlloc_v2)(CUdeviceptr*, size_t);
  CUresult (CUDAAPI* cuMemFree_v2)(CUdeviceptr);
  CUresult (CUDAAPI* cuMemHostAlloc)(void**, size_t, unsigned int);
  CUresult (CUDAAPI* cuMemFreeHost)(void*);
  CUresult (CUDAAPI* cuMemHostGetDevicePointer_v2)(CUdeviceptr*, void*, unsigned int);
  CUresult (CUDAAPI* cuMemcpyHtoD_v2)(CUdeviceptr, const void*, size_t);
  CUresult (CUDAAPI* cuMemcpyDtoH_v2)(void*, CUdeviceptr, size_t);
  CUresult (CUDAAPI* cuMemcpyDtoD_v2)(CUdeviceptr, CUdeviceptr, size_t);
  CUresult (CUDAAPI* cuMemsetD8_v2)(CUdeviceptr, unsigned char, size_t);
  CUresult (CUDAAPI* cuMemsetD16_v2)(CUdeviceptr, unsigned short, size_t);
  CUresult (CUDAAPI* cuMemsetD32_v2)(CUdeviceptr, unsigned int, size_t);
} weft_cuda_loader_t;

#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

/* dlopens libcuda.so.1 into `loader` and resolves every function. Errors:
 * UNAVAILABLE naming the library and what to install, or the missing symbol
 * and the driver update it needs. On error the loader is left closed. */
weft_status_t weft_cuda_loader_open(const weft_host_services_t* host,
                                    weft_cuda_loader_t* loader);

/* Releases the handle and zeroes the loader; a zeroed loader is a no-op.
 * libcuda itself stays mapped (opened RTLD_NODELETE, see the .c). */
void weft_cuda_loader_close(weft_cuda_loader_t* loader);

/* "CUDA_ERROR_OUT_OF_MEMORY" from the driver, or "CUresult" when it cannot
 * tell. Never NULL; driver-owned static storage. */
const char* weft_cuda_error_name(const weft_cuda_loader_t* loader, CUresult result);

/* The weft status code a CUresult maps to. */
weft_status_code_t weft_cuda_error_code(CUresult result);

/* A status for a failed driver call: "cuda: <what> failed: <NAME> (<n>):
 * <driver's description>". */
weft_status_t weft_cuda_status_from_result(const weft_host_services_t* host,
                                           const weft_cuda_loader_t* loader, CUresult result,
                                           const char* what_format, ...)
    __attribute__((format(printf, 4, 5)));

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif /* WEFT_CUDA_LOADER_H_ */
