/* The Vulkan plugin: opening libvulkan.so.1 and resolving its functions. See
 * vulkan_loader.h. */
#include "vulkan_loader.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WEFT_VULKAN_STATUS_(host, code, ...) \
  ((host)->status_make((host)->host_ctx, (code), __VA_ARGS__))

/* X(name): every VkResult the 1.3 headers define that a compute plugin can
 * meet. Names come from the enumerants themselves, so they cannot drift. */
#define WEFT_VULKAN_RESULT_LIST(X)               \
  X(VK_SUCCESS)                                  \
  X(VK_NOT_READY)                                \
  X(VK_TIMEOUT)                                  \
  X(VK_EVENT_SET)                                \
  X(VK_EVENT_RESET)                              \
  X(VK_INCOMPLETE)                               \
  X(VK_ERROR_OUT_OF_HOST_MEMORY)                 \
  X(VK_ERROR_OUT_OF_DEVICE_MEMORY)               \
  X(VK_ERROR_INITIALIZATION_FAILED)              \
  X(VK_ERROR_DEVICE_LOST)                        \
  X(VK_ERROR_MEMORY_MAP_FAILED)                  \
  X(VK_ERROR_LAYER_NOT_PRESENT)                  \
  X(VK_ERROR_EXTENSION_NOT_PRESENT)              \
  X(VK_ERROR_FEATURE_NOT_PRESENT)                \
  X(VK_ERROR_INCOMPATIBLE_DRIVER)                \
  X(VK_ERROR_TOO_MANY_OBJECTS)                   \
  X(VK_ERROR_FORMAT_NOT_SUPPORTED)               \
  X(VK_ERROR_FRAGMENTED_POOL)                    \
  X(VK_ERROR_UNKNOWN)                            \
  X(VK_ERROR_OUT_OF_POOL_MEMORY)                 \
  X(VK_ERROR_INVALID_EXTERNAL_HANDLE)            \
  X(VK_ERROR_FRAGMENTATION)                      \
  X(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)     \
  X(VK_PIPELINE_COMPILE_REQUIRED)                \
  X(VK_ERROR_SURFACE_LOST_KHR)                   \
  X(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR)           \
  X(VK_SUBOPTIMAL_KHR)                           \
  X(VK_ERROR_OUT_OF_DATE_KHR)                    \
  X(VK_ERROR_INCOMPATIBLE_DISPLAY_KHR)           \
  X(VK_ERROR_VALIDATION_FAILED_EXT)              \
  X(VK_ERROR_INVALID_SHADER_NV)                  \
  X(VK_ERROR_NOT_PERMITTED_KHR)                  \
  X(VK_THREAD_IDLE_KHR)                          \
  X(VK_THREAD_DONE_KHR)                          \
  X(VK_OPERATION_DEFERRED_KHR)                   \
  X(VK_OPERATION_NOT_DEFERRED_KHR)

const char* weft_vulkan_result_name(VkResult result) {
  switch (result) {
#define WEFT_VULKAN_RESULT_CASE_(name) \
  case name:                           \
    return #name;
    WEFT_VULKAN_RESULT_LIST(WEFT_VULKAN_RESULT_CASE_)
#undef WEFT_VULKAN_RESULT_CASE_
    default:
      return "VK_RESULT_UNKNOWN";
  }
}

weft_status_code_t weft_vulkan_result_code(VkResult result) {
  switch (result) {
    case VK_SUCCESS:
      return WEFT_STATUS_OK;
    case VK_ERROR_OUT_OF_HOST_MEMORY:
      return WEFT_STATUS_OUT_OF_MEMORY;
    /* Device memory is the device's resource: the caller may free buffers
     * and retry, which is what RESOURCE_EXHAUSTED tells it. */
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    case VK_ERROR_OUT_OF_POOL_MEMORY:
    case VK_ERROR_TOO_MANY_OBJECTS:
    case VK_ERROR_FRAGMENTATION:
    case VK_ERROR_FRAGMENTED_POOL:
      return WEFT_STATUS_RESOURCE_EXHAUSTED;
    case VK_ERROR_DEVICE_LOST:
      return WEFT_STATUS_DEVICE_LOST;
    case VK_ERROR_INCOMPATIBLE_DRIVER:
    case VK_ERROR_INITIALIZATION_FAILED:
    case VK_ERROR_LAYER_NOT_PRESENT:
      return WEFT_STATUS_UNAVAILABLE;
    case VK_ERROR_EXTENSION_NOT_PRESENT:
    case VK_ERROR_FEATURE_NOT_PRESENT:
    case VK_ERROR_FORMAT_NOT_SUPPORTED:
      return WEFT_STATUS_UNSUPPORTED;
    case VK_TIMEOUT:
      return WEFT_STATUS_DEADLINE_EXCEEDED;
    default:
      return WEFT_STATUS_INTERNAL;
  }
}

weft_status_t weft_vulkan_status_from_result(const weft_host_services_t* host,
                                             VkResult result, const char* what_format,
                                             ...) {
  char what[160];
  va_list args;
  va_start(args, what_format);
  vsnprintf(what, sizeof(what), what_format, args);
  va_end(args);
  weft_status_code_t code = weft_vulkan_result_code(result);
  if (code == WEFT_STATUS_OK) {
    /* A success code other than VK_SUCCESS (VK_INCOMPLETE...) reaching here
     * is a plugin bug; report it rather than pretend it failed nicely. */
    code = WEFT_STATUS_INTERNAL;
  }
  return WEFT_VULKAN_STATUS_(host, code, "vulkan: %s failed: %s (%d)", what,
                             weft_vulkan_result_name(result), (int)result);
}

/* dlsym through a union: ISO C has no conversion from void* to a function
 * pointer, POSIX guarantees the representation (dlsym, XSH 2.12.3). */
static PFN_vkVoidFunction weft_vulkan_loader_dlsym(void* library, const char* name) {
  union {
    void* object;
    PFN_vkVoidFunction function;
  } symbol;
  symbol.object = dlsym(library, name);
  return symbol.function;
}

weft_status_t weft_vulkan_loader_open(const weft_host_services_t* host,
                                      weft_vulkan_loader_t* loader) {
  memset(loader, 0, sizeof(*loader));
  /* RTLD_LOCAL: the loader's symbols must not satisfy anyone else's lookups,
   * nor ours theirs. */
  void* library = dlopen(WEFT_VULKAN_LIBRARY_NAME, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    const char* error = dlerror();
    return WEFT_VULKAN_STATUS_(
        host, WEFT_STATUS_UNAVAILABLE,
        "%s not found (install the Vulkan loader, e.g. libvulkan1, and a driver): %s",
        WEFT_VULKAN_LIBRARY_NAME, error != NULL ? error : "dlopen failed");
  }
  loader->library = library;
  loader->vkGetInstanceProcAddr = (PFN_vkGetInstanceProcAddr)weft_vulkan_loader_dlsym(
      library, "vkGetInstanceProcAddr");
  if (loader->vkGetInstanceProcAddr == NULL) {
    weft_vulkan_loader_close(loader);
    return WEFT_VULKAN_STATUS_(host, WEFT_STATUS_UNAVAILABLE,
                               "%s does not export vkGetInstanceProcAddr; it is not a "
                               "Vulkan loader (reinstall libvulkan1)",
                               WEFT_VULKAN_LIBRARY_NAME);
  }
  PFN_vkGetInstanceProcAddr get = loader->vkGetInstanceProcAddr;
  loader->vkCreateInstance = (PFN_vkCreateInstance)get(VK_NULL_HANDLE, "vkCreateInstance");
  PFN_vkEnumerateInstanceVersion enumerate_version =
      (PFN_vkEnumerateInstanceVersion)get(VK_NULL_HANDLE, "vkEnumerateInstanceVersion");
  if (loader->vkCreateInstance == NULL) {
    weft_vulkan_loader_close(loader);
    return WEFT_VULKAN_STATUS_(host, WEFT_STATUS_UNAVAILABLE,
                               "%s provides no vkCreateInstance (reinstall libvulkan1)",
                               WEFT_VULKAN_LIBRARY_NAME);
  }
  /* vkEnumerateInstanceVersion exists from 1.1 on; its absence means a 1.0
   * loader (Vulkan 1.3 spec, section 4.2 "Instances"). */
  uint32_t version = VK_API_VERSION_1_0;
  if (enumerate_version != NULL) {
    VkResult result = enumerate_version(&version);
    if (result != VK_SUCCESS) {
      weft_status_t status = weft_vulkan_status_from_result(
          host, result, "vkEnumerateInstanceVersion");
      weft_vulkan_loader_close(loader);
      return status;
    }
  }
  if (version < VK_API_VERSION_1_1) {
    weft_vulkan_loader_close(loader);
    return WEFT_VULKAN_STATUS_(host, WEFT_STATUS_UNAVAILABLE,
                               "the Vulkan loader %s is version %u.%u; weft needs 1.1 "
                               "or newer (update libvulkan1)",
                               WEFT_VULKAN_LIBRARY_NAME,
                               (unsigned)VK_API_VERSION_MAJOR(version),
                               (unsigned)VK_API_VERSION_MINOR(version));
  }
  loader->loader_version = version;
  return WEFT_OK;
}

weft_status_t weft_vulkan_loader_instance_create(const weft_host_services_t* host,
                                                 weft_vulkan_loader_t* loader) {
  /* Ask for the newest version both sides know: the physical devices still
   * report their own (Vulkan 1.3 spec, section 4.2 "Instances": apiVersion
   * is the highest version the application uses). */
  uint32_t api_version = loader->loader_version;
  if (api_version > VK_API_VERSION_1_3) {
    api_version = VK_API_VERSION_1_3;
  }
  VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "weft",
      .applicationVersion = 1,
      .pEngineName = "weft",
      .engineVersion = 1,
      .apiVersion = api_version,
  };
  VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
  };
#if defined(__APPLE__)
  /* MoltenVK is only listed for instances that accept portability drivers
   * (VK_KHR_portability_enumeration). Elsewhere no extension is asked for:
   * listing instance extensions makes the loader open every driver once
   * more, which is a large part of start-up time. */
  static const char* const kExtensions[] = {"VK_KHR_portability_enumeration"};
  info.flags |= 0x00000001; /* VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR */
  info.enabledExtensionCount = 1;
  info.ppEnabledExtensionNames = kExtensions;
#endif
  VkInstance instance = VK_NULL_HANDLE;
  VkResult result = loader->vkCreateInstance(&info, NULL, &instance);
  if (result == VK_ERROR_INCOMPATIBLE_DRIVER) {
    /* The loader's answer when it found no driver manifest it could load. */
    return WEFT_VULKAN_STATUS_(
        host, WEFT_STATUS_UNAVAILABLE,
        "no Vulkan driver (ICD) found: vkCreateInstance returned "
        "VK_ERROR_INCOMPATIBLE_DRIVER (%d); install one (e.g. mesa-vulkan-drivers) or "
        "check VK_ICD_FILENAMES / VK_DRIVER_FILES",
        (int)result);
  }
  if (result != VK_SUCCESS) {
    return weft_vulkan_status_from_result(host, result, "vkCreateInstance(apiVersion %u.%u)",
                                          (unsigned)VK_API_VERSION_MAJOR(api_version),
                                          (unsigned)VK_API_VERSION_MINOR(api_version));
  }
  loader->instance = instance;
  loader->api_version = api_version;

  PFN_vkGetInstanceProcAddr get = loader->vkGetInstanceProcAddr;
  const char* missing = NULL;
#define WEFT_VULKAN_INSTANCE_FN_(name)                         \
  do {                                                         \
    loader->name = (PFN_##name)get(instance, #name);           \
    if (loader->name == NULL && missing == NULL) missing = #name; \
  } while (0)
  WEFT_VULKAN_INSTANCE_FN_(vkDestroyInstance);
  WEFT_VULKAN_INSTANCE_FN_(vkEnumeratePhysicalDevices);
  WEFT_VULKAN_INSTANCE_FN_(vkGetPhysicalDeviceProperties);
  WEFT_VULKAN_INSTANCE_FN_(vkGetPhysicalDeviceProperties2);
  WEFT_VULKAN_INSTANCE_FN_(vkGetPhysicalDeviceFeatures2);
  WEFT_VULKAN_INSTANCE_FN_(vkGetPhysicalDeviceQueueFamilyProperties);
  WEFT_VULKAN_INSTANCE_FN_(vkGetPhysicalDeviceMemoryProperties);
  WEFT_VULKAN_INSTANCE_FN_(vkGetPhysicalDeviceMemoryProperties2);
  WEFT_VULKAN_INSTANCE_FN_(vkEnumerateDeviceExtensionProperties);
  WEFT_VULKAN_INSTANCE_FN_(vkCreateDevice);
  WEFT_VULKAN_INSTANCE_FN_(vkGetDeviceProcAddr);
#undef WEFT_VULKAN_INSTANCE_FN_
  if (missing != NULL) {
    weft_status_t status = WEFT_VULKAN_STATUS_(
        host, WEFT_STATUS_UNAVAILABLE,
        "the Vulkan loader %s does not provide %s for a %u.%u instance (update libvulkan1)",
        WEFT_VULKAN_LIBRARY_NAME, missing, (unsigned)VK_API_VERSION_MAJOR(api_version),
        (unsigned)VK_API_VERSION_MINOR(api_version));
    if (loader->vkDestroyInstance != NULL) {
      loader->vkDestroyInstance(instance, NULL);
    }
    loader->instance = VK_NULL_HANDLE;
    return status;
  }
  return WEFT_OK;
}

void weft_vulkan_loader_close(weft_vulkan_loader_t* loader) {
  if (loader->instance != VK_NULL_HANDLE && loader->vkDestroyInstance != NULL) {
    loader->vkDestroyInstance(loader->instance, NULL);
  }
  if (loader->library != NULL) {
    dlclose(loader->library);
  }
  memset(loader, 0, sizeof(*loader));
}

weft_status_t weft_vulkan_loader_device_table_load(const weft_host_services_t* host,
                                                   const weft_vulkan_loader_t* loader,
                                                   VkDevice device,
                                                   weft_vulkan_device_table_t* out_table) {
  memset(out_table, 0, sizeof(*out_table));
  PFN_vkGetDeviceProcAddr get = loader->vkGetDeviceProcAddr;
  const char* missing = NULL;
#define WEFT_VULKAN_DEVICE_FN_(name)                                \
  do {                                                              \
    out_table->name = (PFN_##name)get(device, #name);               \
    if (out_table->name == NULL && missing == NULL) missing = #name; \
  } while (0)
  WEFT_VULKAN_DEVICE_FN_(vkDestroyDevice);
  WEFT_VULKAN_DEVICE_FN_(vkGetDeviceQueue);
  WEFT_VULKAN_DEVICE_FN_(vkDeviceWaitIdle);
  WEFT_VULKAN_DEVICE_FN_(vkQueueSubmit);
  WEFT_VULKAN_DEVICE_FN_(vkQueueWaitIdle);
  WEFT_VULKAN_DEVICE_FN_(vkCreateCommandPool);
  WEFT_VULKAN_DEVICE_FN_(vkDestroyCommandPool);
  WEFT_VULKAN_DEVICE_FN_(vkAllocateCommandBuffers);
  WEFT_VULKAN_DEVICE_FN_(vkResetCommandBuffer);
  WEFT_VULKAN_DEVICE_FN_(vkBeginCommandBuffer);
  WEFT_VULKAN_DEVICE_FN_(vkEndCommandBuffer);
  WEFT_VULKAN_DEVICE_FN_(vkCmdCopyBuffer);
  WEFT_VULKAN_DEVICE_FN_(vkCmdFillBuffer);
  WEFT_VULKAN_DEVICE_FN_(vkCmdPipelineBarrier);
  WEFT_VULKAN_DEVICE_FN_(vkCreateFence);
  WEFT_VULKAN_DEVICE_FN_(vkDestroyFence);
  WEFT_VULKAN_DEVICE_FN_(vkWaitForFences);
  WEFT_VULKAN_DEVICE_FN_(vkResetFences);
  WEFT_VULKAN_DEVICE_FN_(vkCreateBuffer);
  WEFT_VULKAN_DEVICE_FN_(vkDestroyBuffer);
  WEFT_VULKAN_DEVICE_FN_(vkGetBufferMemoryRequirements);
  WEFT_VULKAN_DEVICE_FN_(vkAllocateMemory);
  WEFT_VULKAN_DEVICE_FN_(vkFreeMemory);
  WEFT_VULKAN_DEVICE_FN_(vkBindBufferMemory);
  WEFT_VULKAN_DEVICE_FN_(vkMapMemory);
  WEFT_VULKAN_DEVICE_FN_(vkUnmapMemory);
  WEFT_VULKAN_DEVICE_FN_(vkFlushMappedMemoryRanges);
  WEFT_VULKAN_DEVICE_FN_(vkInvalidateMappedMemoryRanges);
#undef WEFT_VULKAN_DEVICE_FN_
  if (missing != NULL) {
    return WEFT_VULKAN_STATUS_(host, WEFT_STATUS_UNAVAILABLE,
                               "vulkan: the driver provides no %s through "
                               "vkGetDeviceProcAddr",
                               missing);
  }
  return WEFT_OK;
}
