/* The OpenCL plugin: libOpenCL.so.1 (the ICD loader), opened with dlopen, and
 * the functions the plugin calls through it.
 *
 * The plugin never links the ICD loader: it builds against the headers alone
 * and resolves every entry point at run time, so it loads on machines
 * without OpenCL, where probe() then explains what to install.
 *
 * The function types are declared here rather than taken from the headers:
 * OpenCL headers of different years name them differently, and these match
 * the OpenCL 3.0 API reference (section 4 "The OpenCL Platform Layer" and
 * section 5 "The OpenCL Runtime").
 *
 * Thread safety: a loader is filled by one thread and then only read; the
 * OpenCL calls used are thread-safe (OpenCL 3.0 API, appendix A.2). */
#ifndef WEFT_OPENCL_LOADER_H_
#define WEFT_OPENCL_LOADER_H_

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 300
#endif
#include <CL/cl.h>
#include <CL/cl_ext.h>

#include "weft/abi.h"

#define WEFT_OPENCL_LIBRARY_NAME "libOpenCL.so.1"

/* cl_khr_icd: what the ICD loader answers when it found no platform. */
#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

typedef struct weft_opencl_loader_t {
  void* library; /* dlopen handle, NULL when closed */

  cl_int (CL_API_CALL* clGetPlatformIDs)(cl_uint, cl_platform_id*, cl_uint*);
  cl_int (CL_API_CALL* clGetPlatformInfo)(cl_platform_id, cl_platform_info, size_t, void*, size_t*);
  cl_int (CL_API_CALL* clGetDeviceIDs)(cl_platform_id, cl_device_type, cl_uint, cl_device_id*, cl_uint*);
  cl_int (CL_API_CALL* clGetDeviceInfo)(cl_device_id, cl_device_info, size_t, void*, size_t*);
  cl_context (CL_API_CALL* clCreateContext)(const cl_context_properties*, cl_uint, const cl_device_id*,
                                void(CL_CALLBACK*)(const char*, const void*, size_t, void*), void*,
                                cl_int*);
  cl_int (CL_API_CALL* clReleaseContext)(cl_context);
  /* OpenCL 1.x; deprecated by 2.0 but what a 1.2 platform has. */
  cl_command_queue (CL_API_CALL* clCreateCommandQueue)(cl_context, cl_device_id, cl_bitfield, cl_int*);
  /* OpenCL 2.0+; NULL in old ICD loaders. */
  cl_command_queue (CL_API_CALL* clCreateCommandQueueWithProperties)(cl_context, cl_device_id,
                                                         const cl_bitfield*, cl_int*);
  cl_int (CL_API_CALL* clReleaseCommandQueue)(cl_command_queue);
  cl_mem (CL_API_CALL* clCreateBuffer)(cl_context, cl_mem_flags, size_t, void*, cl_int*);
  cl_int (CL_API_CALL* clReleaseMemObject)(cl_mem);
  cl_int (CL_API_CALL* clEnqueueReadBuffer)(cl_command_queue, cl_mem, cl_bool, size_t, size_t, void*,
                                cl_uint, const cl_event*, cl_event*);
  cl_int (CL_API_CALL* clEnqueueWriteBuffer)(cl_command_queue, cl_mem, cl_bool, size_t, size_t,
                                 const void*, cl_uint, const cl_event*, cl_event*);
  cl_int (CL_API_CALL* clEnqueueCopyBuffer)(cl_command_queue, cl_mem, cl_mem, size_t, size_t, size_t,
                                cl_uint, const cl_event*, cl_event*);
  cl_int (CL_API_CALL* clEnqueueFillBuffer)(cl_command_queue, cl_mem, const void*, size_t, size_t, size_t,
                                cl_uint, const cl_event*, cl_event*);
  void* (CL_API_CALL* clEnqueueMapBuffer)(cl_command_queue, cl_mem, cl_bool, cl_map_flags, size_t, size_t,
                              cl_uint, const cl_event*, cl_event*, cl_int*);
  cl_int (CL_API_CALL* clEnqueueUnmapMemObject)(cl_command_queue, cl_mem, void*, cl_uint, const cl_event*,
                                    cl_event*);
  cl_int (CL_API_CALL* clFinish)(cl_command_queue);
} weft_opencl_loader_t;

#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

/* dlopens libOpenCL.so.1 into `loader` and resolves every function (all but
 * clCreateCommandQueueWithProperties are required). Errors: UNAVAILABLE with
 * what to install. On error the loader is left closed. */
weft_status_t weft_opencl_loader_open(const weft_host_services_t* host,
                                      weft_opencl_loader_t* loader);

/* Drops the handle and zeroes the loader; a zeroed loader is a no-op.
 * libOpenCL.so.1 itself stays mapped (opened RTLD_NODELETE, see the .c). */
void weft_opencl_loader_close(weft_opencl_loader_t* loader);

/* "CL_OUT_OF_RESOURCES", or "CL_ERROR_UNKNOWN" for a value the OpenCL 3.0
 * headers do not define. Never NULL; static storage. */
const char* weft_opencl_error_name(cl_int error);

/* The weft status code an OpenCL error maps to. */
weft_status_code_t weft_opencl_error_code(cl_int error);

/* A status for a failed OpenCL call: "opencl: <what> failed: <NAME> (<n>)". */
weft_status_t weft_opencl_status_from_error(const weft_host_services_t* host, cl_int error,
                                            const char* what_format, ...)
    __attribute__((format(printf, 3, 4)));

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif /* WEFT_OPENCL_LOADER_H_ */
