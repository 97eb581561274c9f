/* The Vulkan plugin: libvulkan.so.1, opened with dlopen, and the functions
 * the plugin calls through it.
 *
 * The plugin never links the Vulkan loader: it builds against the headers
 * alone (VK_NO_PROTOTYPES, so no call can bind to a library symbol by
 * accident) and resolves every entry point at run time. That keeps the plugin
 * loadable on machines without Vulkan, where probe() then explains what to
 * install instead of the dynamic linker refusing the file.
 *
 * Global and instance functions come through vkGetInstanceProcAddr, device
 * functions through vkGetDeviceProcAddr (Vulkan 1.3 spec, section 5.8
 * "Command Function Pointers"), which skips the loader's dispatch for device
 * calls.
 *
 * Thread safety: a loader is filled by one thread and then only read. */
#ifndef WEFT_VULKAN_LOADER_H_
#define WEFT_VULKAN_LOADER_H_

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include "weft/abi.h"

#define WEFT_VULKAN_LIBRARY_NAME "libvulkan.so.1"

/* The instance-level table. Members are named after the Vulkan commands. */
typedef struct weft_vulkan_loader_t {
  void* library; /* dlopen handle, NULL when closed */
  uint32_t loader_version; /* vkEnumerateInstanceVersion */
  uint32_t api_version;    /* what the instance was created for */
  VkInstance instance;     /* VK_NULL_HANDLE until weft_vulkan_loader_instance_create */

  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
  PFN_vkCreateInstance vkCreateInstance;

  PFN_vkDestroyInstance vkDestroyInstance;
  PFN_vkEnumeratePhysicalDevices vkEnumeratePhysicalDevices;
  PFN_vkGetPhysicalDeviceProperties vkGetPhysicalDeviceProperties;
  PFN_vkGetPhysicalDeviceProperties2 vkGetPhysicalDeviceProperties2;
  PFN_vkGetPhysicalDeviceFeatures2 vkGetPhysicalDeviceFeatures2;
  PFN_vkGetPhysicalDeviceQueueFamilyProperties vkGetPhysicalDeviceQueueFamilyProperties;
  PFN_vkGetPhysicalDeviceMemoryProperties vkGetPhysicalDeviceMemoryProperties;
  PFN_vkGetPhysicalDeviceMemoryProperties2 vkGetPhysicalDeviceMemoryProperties2;
  PFN_vkEnumerateDeviceExtensionProperties vkEnumerateDeviceExtensionProperties;
  PFN_vkCreateDevice vkCreateDevice;
  PFN_vkGetDeviceProcAddr vkGetDeviceProcAddr;
} weft_vulkan_loader_t;

/* The device-level table, one per VkDevice. */
typedef struct weft_vulkan_device_table_t {
  PFN_vkDestroyDevice vkDestroyDevice;
  PFN_vkGetDeviceQueue vkGetDeviceQueue;
  PFN_vkDeviceWaitIdle vkDeviceWaitIdle;
  PFN_vkQueueSubmit vkQueueSubmit;
  PFN_vkQueueWaitIdle vkQueueWaitIdle;
  PFN_vkCreateCommandPool vkCreateCommandPool;
  PFN_vkDestroyCommandPool vkDestroyCommandPool;
  PFN_vkAllocateCommandBuffers vkAllocateCommandBuffers;
  PFN_vkResetCommandBuffer vkResetCommandBuffer;
  PFN_vkBeginCommandBuffer vkBeginCommandBuffer;
  PFN_vkEndCommandBuffer vkEndCommandBuffer;
  PFN_vkCmdCopyBuffer vkCmdCopyBuffer;
  PFN_vkCmdFillBuffer vkCmdFillBuffer;
  PFN_vkCmdPipelineBarrier vkCmdPipelineBarrier;
  PFN_vkCreateFence vkCreateFence;
  PFN_vkDestroyFence vkDestroyFence;
  PFN_vkWaitForFences vkWaitForFences;
  PFN_vkResetFences vkResetFences;
  PFN_vkCreateBuffer vkCreateBuffer;
  PFN_vkDestroyBuffer vkDestroyBuffer;
  PFN_vkGetBufferMemoryRequirements vkGetBufferMemoryRequirements;
  PFN_vkAllocateMemory vkAllocateMemory;
  PFN_vkFreeMemory vkFreeMemory;
  PFN_vkBindBufferMemory vkBindBufferMemory;
  PFN_vkMapMemory vkMapMemory;
  PFN_vkUnmapMemory vkUnmapMemory;
  PFN_vkFlushMappedMemoryRanges vkFlushMappedMemoryRanges;
  PFN_vkInvalidateMappedMemoryRanges vkInvalidateMappedMemoryRanges;
} weft_vulkan_device_table_t;

#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

/* dlopens libvulkan.so.1 into a zeroed `loader` and resolves the global
 * functions. Errors: UNAVAILABLE with what to install when the library or
 * vkGetInstanceProcAddr is missing, or when the loader is older than Vulkan
 * 1.1. On error the loader is left closed. */
weft_status_t weft_vulkan_loader_open(const weft_host_services_t* host,
                                      weft_vulkan_loader_t* loader);

/* Creates the VkInstance (API 1.1 or newer, no layers, no extensions on
 * Linux) and resolves the instance functions. Errors: UNAVAILABLE when no
 * driver is installed (VK_ERROR_INCOMPATIBLE_DRIVER), else the VkResult
 * mapped to a code, naming the call. */
weft_status_t weft_vulkan_loader_instance_create(const weft_host_services_t* host,
                                                 weft_vulkan_loader_t* loader);

/* Destroys the instance if any and dlcloses the library; the loader is zeroed
 * and may be opened again. A zeroed loader is a no-op. */
void weft_vulkan_loader_close(weft_vulkan_loader_t* loader);

/* Resolves every member of `out_table` for `device`. Errors: UNAVAILABLE
 * naming the first command the driver does not provide. */
weft_status_t weft_vulkan_loader_device_table_load(const weft_host_services_t* host,
                                                   const weft_vulkan_loader_t* loader,
                                                   VkDevice device,
                                                   weft_vulkan_device_table_t* out_table);

/* The enumerant's name, "VK_ERROR_OUT_OF_DEVICE_MEMORY"; values this header
 * does not know give "VK_RESULT_UNKNOWN" (callers print the number too).
 * Never NULL; static storage. */
const char* weft_vulkan_result_name(VkResult result);

/* The weft status code a VkResult maps to (OUT_OF_MEMORY, RESOURCE_EXHAUSTED
 * for device memory, DEVICE_LOST, UNAVAILABLE, UNSUPPORTED, INTERNAL). */
weft_status_code_t weft_vulkan_result_code(VkResult result);

/* A status for a failed Vulkan call: "vulkan: <what> failed: <NAME> (<n>)".
 * `what` is printf-style and names the call and its key arguments. */
weft_status_t weft_vulkan_status_from_result(const weft_host_services_t* host,
                                             VkResult result, const char* what_format,
                                             ...) __attribute__((format(printf, 3, 4)));

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif /* WEFT_VULKAN_LOADER_H_ */
