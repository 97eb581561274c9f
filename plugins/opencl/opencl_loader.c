/* The OpenCL plugin: opening libOpenCL.so.1 and resolving its functions. See
 * opencl_loader.h. */
#include "opencl_loader.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WEFT_OPENCL_STATUS_(host, code, ...) \
  ((host)->status_make((host)->host_ctx, (code), __VA_ARGS__))

/* X(name): the error codes of the OpenCL 3.0 headers, plus cl_khr_icd's. */
#define WEFT_OPENCL_ERROR_LIST(X)                     \
  X(CL_SUCCESS)                                       \
  X(CL_DEVICE_NOT_FOUND)                              \
  X(CL_DEVICE_NOT_AVAILABLE)                          \
  X(CL_COMPILER_NOT_AVAILABLE)                        \
  X(CL_MEM_OBJECT_ALLOCATION_FAILURE)                 \
  X(CL_OUT_OF_RESOURCES)                              \
  X(CL_OUT_OF_HOST_MEMORY)                            \
  X(CL_PROFILING_INFO_NOT_AVAILABLE)                  \
  X(CL_MEM_COPY_OVERLAP)                              \
  X(CL_IMAGE_FORMAT_MISMATCH)                         \
  X(CL_IMAGE_FORMAT_NOT_SUPPORTED)                    \
  X(CL_BUILD_PROGRAM_FAILURE)                         \
  X(CL_MAP_FAILURE)                                   \
  X(CL_MISALIGNED_SUB_BUFFER_OFFSET)                  \
  X(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)     \
  X(CL_COMPILE_PROGRAM_FAILURE)                       \
  X(CL_LINKER_NOT_AVAILABLE)                          \
  X(CL_LINK_PROGRAM_FAILURE)                          \
  X(CL_DEVICE_PARTITION_FAILED)                       \
  X(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)                 \
  X(CL_INVALID_VALUE)                                 \
  X(CL_INVALID_DEVICE_TYPE)                           \
  X(CL_INVALID_PLATFORM)                              \
  X(CL_INVALID_DEVICE)                                \
  X(CL_INVALID_CONTEXT)                               \
  X(CL_INVALID_QUEUE_PROPERTIES)                      \
  X(CL_INVALID_COMMAND_QUEUE)                         \
  X(CL_INVALID_HOST_PTR)                              \
  X(CL_INVALID_MEM_OBJECT)                            \
  X(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)               \
  X(CL_INVALID_IMAGE_SIZE)                            \
  X(CL_INVALID_SAMPLER)                               \
  X(CL_INVALID_BINARY)                                \
  X(CL_INVALID_BUILD_OPTIONS)                         \
  X(CL_INVALID_PROGRAM)                               \
  X(CL_INVALID_PROGRAM_EXECUTABLE)                    \
  X(CL_INVALID_KERNEL_NAME)                           \
  X(CL_INVALID_KERNEL_DEFINITION)                     \
  X(CL_INVALID_KERNEL)                                \
  X(CL_INVALID_ARG_INDEX)                             \
  X(CL_INVALID_ARG_VALUE)                             \
  X(CL_INVALID_ARG_SIZE)                              \
  X(CL_INVALID_KERNEL_ARGS)                           \
  X(CL_INVALID_WORK_DIMENSION)                        \
  X(CL_INVALID_WORK_GROUP_SIZE)                       \
  X(CL_INVALID_WORK_ITEM_SIZE)                        \
  X(CL_INVALID_GLOBAL_OFFSET)                         \
  X(CL_INVALID_EVENT_WAIT_LIST)                       \
  X(CL_INVALID_EVENT)                                 \
  X(CL_INVALID_OPERATION)                             \
  X(CL_INVALID_GL_OBJECT)                             \
  X(CL_INVALID_BUFFER_SIZE)                           \
  X(CL_INVALID_MIP_LEVEL)                             \
  X(CL_INVALID_GLOBAL_WORK_SIZE)                      \
  X(CL_INVALID_PROPERTY)                              \
  X(CL_INVALID_IMAGE_DESCRIPTOR)                      \
  X(CL_INVALID_COMPILER_OPTIONS)                      \
  X(CL_INVALID_LINKER_OPTIONS)                        \
  X(CL_INVALID_DEVICE_PARTITION_COUNT)                \
  X(CL_INVALID_PIPE_SIZE)                             \
  X(CL_INVALID_DEVICE_QUEUE)                          \
  X(CL_INVALID_SPEC_ID)                               \
  X(CL_MAX_SIZE_RESTRICTION_EXCEEDED)                 \
  X(CL_PLATFORM_NOT_FOUND_KHR)

const char* weft_opencl_error_name(cl_int error) {
  switch (error) {
#define WEFT_OPENCL_ERROR_CASE_(name) \
  case name:                          \
    return #name;
    WEFT_OPENCL_ERROR_LIST(WEFT_OPENCL_ERROR_CASE_)
#undef WEFT_OPENCL_ERROR_CASE_
    default:
      return "CL_ERROR_UNKNOWN";
  }
}

weft_status_code_t weft_opencl_error_code(cl_int error) {
  switch (error) {
    case CL_SUCCESS:
      return WEFT_STATUS_OK;
    case CL_OUT_OF_HOST_MEMORY:
      return WEFT_STATUS_OUT_OF_MEMORY;
    /* Device memory or queue resources: freeing buffers may help. */
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_OUT_OF_RESOURCES:
    case CL_INVALID_BUFFER_SIZE:
      return WEFT_STATUS_RESOURCE_EXHAUSTED;
    case CL_DEVICE_NOT_FOUND:
    case CL_DEVICE_NOT_AVAILABLE:
    case CL_PLATFORM_NOT_FOUND_KHR:
      return WEFT_STATUS_UNAVAILABLE;
    case CL_MEM_COPY_OVERLAP:
      return WEFT_STATUS_INVALID_ARGUMENT;
    case CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST:
      return WEFT_STATUS_ABORTED;
    default:
      return WEFT_STATUS_INTERNAL;
  }
}

weft_status_t weft_opencl_status_from_error(const weft_host_services_t* host, cl_int error,
                                            const char* what_format, ...) {
  char what[160];
  va_list args;
  va_start(args, what_format);
  vsnprintf(what, sizeof(what), what_format, args);
  va_end(args);
  weft_status_code_t code = weft_opencl_error_code(error);
  if (code == WEFT_STATUS_OK) {
    code = WEFT_STATUS_INTERNAL; /* CL_SUCCESS reaching here is a plugin bug */
  }
  return WEFT_OPENCL_STATUS_(host, code, "opencl: %s failed: %s (%d)", what,
                             weft_opencl_error_name(error), (int)error);
}

/* dlsym into a function pointer of any type: ISO C has no conversion from
 * void*, POSIX guarantees the representation (dlsym, XSH 2.12.3). */
static void weft_opencl_loader_dlsym(void* library, const char* name, void* out_function) {
  void* symbol = dlsym(library, name);
  memcpy(out_function, &symbol, sizeof(symbol));
}

weft_status_t weft_opencl_loader_open(const weft_host_services_t* host,
                                      weft_opencl_loader_t* loader) {
  memset(loader, 0, sizeof(*loader));
  /* RTLD_NODELETE: ICD loaders never unload the drivers they open
   * (ocl-icd keeps every driver and its vendor list for the life of the
   * process and has no unload path). Unmapping the ICD loader would only
   * orphan that bookkeeping and make the next open, instance_create right
   * after probe, scan /etc/OpenCL/vendors and initialise every driver
   * again. dlclose then drops the handle alone. */
  void* library = dlopen(WEFT_OPENCL_LIBRARY_NAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (library == NULL) {
    const char* error = dlerror();
    return WEFT_OPENCL_STATUS_(host, WEFT_STATUS_UNAVAILABLE,
                               "%s not found (install an OpenCL ICD loader, e.g. "
                               "ocl-icd-libopencl1, and a driver): %s",
                               WEFT_OPENCL_LIBRARY_NAME,
                               error != NULL ? error : "dlopen failed");
  }
  loader->library = library;
  const char* missing = NULL;
#define WEFT_OPENCL_FN_(name)                                          \
  do {                                                                 \
    weft_opencl_loader_dlsym(library, #name, (void*)&loader->name);    \
    if (loader->name == NULL && missing == NULL) missing = #name;      \
  } while (0)
  WEFT_OPENCL_FN_(clGetPlatformIDs);
  WEFT_OPENCL_FN_(clGetPlatformInfo);
  WEFT_OPENCL_FN_(clGetDeviceIDs);
  WEFT_OPENCL_FN_(clGetDeviceInfo);
  WEFT_OPENCL_FN_(clCreateContext);
  WEFT_OPENCL_FN_(clReleaseContext);
  WEFT_OPENCL_FN_(clCreateCommandQueue);
  WEFT_OPENCL_FN_(clReleaseCommandQueue);
  WEFT_OPENCL_FN_(clCreateBuffer);
  WEFT_OPENCL_FN_(clReleaseMemObject);
  WEFT_OPENCL_FN_(clEnqueueReadBuffer);
  WEFT_OPENCL_FN_(clEnqueueWriteBuffer);
  WEFT_OPENCL_FN_(clEnqueueCopyBuffer);
  WEFT_OPENCL_FN_(clEnqueueFillBuffer);
  WEFT_OPENCL_FN_(clEnqueueMapBuffer);
  WEFT_OPENCL_FN_(clEnqueueUnmapMemObject);
  WEFT_OPENCL_FN_(clFinish);
#undef WEFT_OPENCL_FN_
  weft_opencl_loader_dlsym(library, "clCreateCommandQueueWithProperties",
                           (void*)&loader->clCreateCommandQueueWithProperties);
  if (missing != NULL) {
    weft_opencl_loader_close(loader);
    return WEFT_OPENCL_STATUS_(host, WEFT_STATUS_UNAVAILABLE,
                               "%s does not export %s; weft needs an OpenCL 1.2 or newer "
                               "ICD loader (update ocl-icd-libopencl1)",
                               WEFT_OPENCL_LIBRARY_NAME, missing);
  }
  return WEFT_OK;
}

void weft_opencl_loader_close(weft_opencl_loader_t* loader) {
  if (loader->library != NULL) {
    dlclose(loader->library);
  }
  memset(loader, 0, sizeof(*loader));
}
