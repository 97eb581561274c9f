/* weft-bench startup: what the vendor APIs cost on their own.
 *
 * Each function runs in a fresh child process and does the least an
 * application does to learn which devices the API offers, the way an
 * application would: dlopen the vendor library, list the devices and read
 * their properties. The "ready" time is taken once the list is known; the
 * teardown that follows is not counted (an application keeps its instance).
 *
 * Built with the vendor headers where the build found them; without them a
 * case reports that it was not built. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "startup.h"

#if WEFT_BENCH_HAVE_VULKAN
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>
#endif
#if WEFT_BENCH_HAVE_OPENCL
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 300
#endif
#include <CL/cl.h>
#endif
#if WEFT_BENCH_HAVE_CUDA
#include <cuda.h>
#endif

/* dlsym into any function pointer (POSIX guarantees the representation). */
static void weft_bench_vendor_dlsym(void* library, const char* name, void* out_function) {
  void* symbol = dlsym(library, name);
  memcpy(out_function, &symbol, sizeof(symbol));
}

static bool weft_bench_vendor_vulkan(uint64_t* out_ready_ns, char* detail, size_t cap) {
#if WEFT_BENCH_HAVE_VULKAN
  void* library = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    snprintf(detail, cap, "libvulkan.so.1 not found: %s", dlerror());
    return false;
  }
  PFN_vkGetInstanceProcAddr get = NULL;
  weft_bench_vendor_dlsym(library, "vkGetInstanceProcAddr", &get);
  PFN_vkCreateInstance create =
      get != NULL ? (PFN_vkCreateInstance)get(VK_NULL_HANDLE, "vkCreateInstance") : NULL;
  if (create == NULL) {
    snprintf(detail, cap, "libvulkan.so.1 has no vkCreateInstance");
    dlclose(library);
    return false;
  }
  VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "weft-bench",
      .apiVersion = VK_API_VERSION_1_1,
  };
  VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
  };
  VkInstance instance = VK_NULL_HANDLE;
  VkResult result = create(&info, NULL, &instance);
  if (result != VK_SUCCESS) {
    snprintf(detail, cap, "vkCreateInstance returned %d", (int)result);
    dlclose(library);
    return false;
  }
  PFN_vkEnumeratePhysicalDevices enumerate =
      (PFN_vkEnumeratePhysicalDevices)get(instance, "vkEnumeratePhysicalDevices");
  PFN_vkGetPhysicalDeviceProperties2 properties =
      (PFN_vkGetPhysicalDeviceProperties2)get(instance, "vkGetPhysicalDeviceProperties2");
  PFN_vkDestroyInstance destroy = (PFN_vkDestroyInstance)get(instance, "vkDestroyInstance");
  uint32_t count = 0;
  VkPhysicalDevice devices[16];
  bool ok = enumerate != NULL && properties != NULL && destroy != NULL;
  if (ok) {
    count = 16;
    result = enumerate(instance, &count, devices);
    ok = result == VK_SUCCESS || result == VK_INCOMPLETE;
  }
  char names[160] = "";
  for (uint32_t i = 0; ok && i < count; ++i) {
    VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDeviceProperties2 props = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
        .pNext = &id,
    };
    properties(devices[i], &props);
    if (i == 0) {
      snprintf(names, sizeof(names), "%.150s", props.properties.deviceName);
    }
  }
  *out_ready_ns = weft_bench_now_ns();
  if (ok) {
    snprintf(detail, cap, "%u device%s (%s)", (unsigned)count, count == 1 ? "" : "s", names);
  } else {
    snprintf(detail, cap, "vkEnumeratePhysicalDevices failed");
  }
  if (destroy != NULL) {
    destroy(instance, NULL);
  }
  dlclose(library);
  return ok;
#else
  (void)out_ready_ns;
  snprintf(detail, cap, "not built: the Vulkan headers were missing at build time");
  return false;
#endif
}

static bool weft_bench_vendor_opencl(uint64_t* out_ready_ns, char* detail, size_t cap) {
#if WEFT_BENCH_HAVE_OPENCL
  void* library = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    snprintf(detail, cap, "libOpenCL.so.1 not found: %s", dlerror());
    return false;
  }
  cl_int (*get_platforms)(cl_uint, cl_platform_id*, cl_uint*) = NULL;
  cl_int (*get_devices)(cl_platform_id, cl_device_type, cl_uint, cl_device_id*, cl_uint*) = NULL;
  cl_int (*get_info)(cl_device_id, cl_device_info, size_t, void*, size_t*) = NULL;
  weft_bench_vendor_dlsym(library, "clGetPlatformIDs", &get_platforms);
  weft_bench_vendor_dlsym(library, "clGetDeviceIDs", &get_devices);
  weft_bench_vendor_dlsym(library, "clGetDeviceInfo", &get_info);
  if (get_platforms == NULL || get_devices == NULL || get_info == NULL) {
    snprintf(detail, cap, "libOpenCL.so.1 lacks the platform functions");
    dlclose(library);
    return false;
  }
  cl_platform_id platforms[8];
  cl_uint platform_count = 0;
  cl_int error = get_platforms(8, platforms, &platform_count);
  if (error != CL_SUCCESS || platform_count == 0) {
    snprintf(detail, cap, "clGetPlatformIDs returned %d, %u platforms", (int)error,
             (unsigned)platform_count);
    dlclose(library);
    return false;
  }
  if (platform_count > 8) {
    platform_count = 8;
  }
  unsigned total = 0;
  char first[128] = "";
  for (cl_uint p = 0; p < platform_count; ++p) {
    cl_device_id devices[16];
    cl_uint count = 0;
    if (get_devices(platforms[p], CL_DEVICE_TYPE_ALL, 16, devices, &count) != CL_SUCCESS) {
      continue;
    }
    if (count > 16) {
      count = 16;
    }
    for (cl_uint d = 0; d < count; ++d) {
      char name[128];
      cl_device_type type = 0;
      cl_ulong memory = 0;
      get_info(devices[d], CL_DEVICE_NAME, sizeof(name), name, NULL);
      get_info(devices[d], CL_DEVICE_TYPE, sizeof(type), &type, NULL);
      get_info(devices[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(memory), &memory, NULL);
      name[sizeof(name) - 1] = '\0';
      if (total++ == 0) {
        snprintf(first, sizeof(first), "%s", name);
      }
    }
  }
  *out_ready_ns = weft_bench_now_ns();
  snprintf(detail, cap, "%u device%s (%s)", total, total == 1 ? "" : "s", first);
  /* No teardown: the ICD loader has no unload path (see the plugin). */
  return true;
#else
  (void)out_ready_ns;
  snprintf(detail, cap, "not built: the OpenCL headers were missing at build time");
  return false;
#endif
}

static bool weft_bench_vendor_cuda(uint64_t* out_ready_ns, char* detail, size_t cap) {
#if WEFT_BENCH_HAVE_CUDA
  void* library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    snprintf(detail, cap, "libcuda.so.1 not found: %s", dlerror());
    return false;
  }
  CUresult (*init)(unsigned int) = NULL;
  CUresult (*get_count)(int*) = NULL;
  weft_bench_vendor_dlsym(library, "cuInit", &init);
  weft_bench_vendor_dlsym(library, "cuDeviceGetCount", &get_count);
  if (init == NULL || get_count == NULL) {
    snprintf(detail, cap, "libcuda.so.1 lacks cuInit or cuDeviceGetCount");
    return false;
  }
  int count = 0;
  CUresult result = init(0);
  if (result == CUDA_SUCCESS) {
    result = get_count(&count);
  }
  *out_ready_ns = weft_bench_now_ns();
  if (result != CUDA_SUCCESS) {
    snprintf(detail, cap, "cuInit/cuDeviceGetCount returned %d", (int)result);
    return false;
  }
  snprintf(detail, cap, "%d device%s", count, count == 1 ? "" : "s");
  return true;
#else
  (void)out_ready_ns;
  snprintf(detail, cap, "not built: cuda.h was missing at build time");
  return false;
#endif
}

bool weft_bench_vendor_enumerate(const char* api, uint64_t* out_ready_ns, char* detail,
                                 size_t cap) {
  if (strcmp(api, "vulkan") == 0) {
    return weft_bench_vendor_vulkan(out_ready_ns, detail, cap);
  }
  if (strcmp(api, "opencl") == 0) {
    return weft_bench_vendor_opencl(out_ready_ns, detail, cap);
  }
  if (strcmp(api, "cuda") == 0) {
    return weft_bench_vendor_cuda(out_ready_ns, detail, cap);
  }
  if (strcmp(api, "all") == 0) {
    /* Every API in one process, as an application using them all directly
     * would: libraries they share (LLVM under lavapipe and PoCL) load once.
     * An API that is absent here is left out, as weft leaves it out. */
    static const char* const kApis[] = {"vulkan", "opencl", "cuda"};
    size_t used = 0;
    unsigned listed = 0;
    detail[0] = '\0';
    for (size_t i = 0; i < sizeof(kApis) / sizeof(kApis[0]); ++i) {
      uint64_t ready = 0;
      char one[256];
      if (weft_bench_vendor_enumerate(kApis[i], &ready, one, sizeof(one))) {
        ++listed;
        *out_ready_ns = ready;
        size_t keep = strcspn(one, "("); /* the count; names are in the API's own row */
        while (keep > 0 && one[keep - 1] == ' ') {
          --keep;
        }
        one[keep] = '\0';
        int n = snprintf(detail + used, cap - used, "%s%s: %.40s", used > 0 ? "; " : "",
                         kApis[i], one);
        if (n > 0 && (size_t)n < cap - used) {
          used += (size_t)n;
        }
      }
    }
    if (listed == 0) {
      snprintf(detail, cap, "no vendor API could list devices here");
      return false;
    }
    return true;
  }
  snprintf(detail, cap, "unknown vendor API '%s'", api);
  return false;
}
