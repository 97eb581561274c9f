/* The Vulkan plugin: physical device enumeration, capability records, device
 * open/close, op support, submission and memory queries. See
 * vulkan_plugin.h. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vulkan_plugin.h"

/* ---- small helpers ---- */

/* printf into a fixed text field of the caps record, truncating to fit: the
 * driver's strings may be longer than the ABI's fields. */
static void weft_vulkan_text_format(char* text, size_t cap, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
static void weft_vulkan_text_format(char* text, size_t cap, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(text, cap, format, args);
  va_end(args);
}

/* Appends printf output to a fixed text buffer, space-separated, truncating
 * at the end (features_text is informative, never parsed). */
static void weft_vulkan_text_append(char* text, size_t cap, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
static void weft_vulkan_text_append(char* text, size_t cap, const char* format, ...) {
  size_t used = strlen(text);
  if (used + 1 >= cap) {
    return;
  }
  if (used > 0) {
    text[used++] = ' ';
    text[used] = '\0';
  }
  va_list args;
  va_start(args, format);
  vsnprintf(text + used, cap - used, format, args);
  va_end(args);
}

static bool weft_vulkan_extension_has(const VkExtensionProperties* extensions,
                                      uint32_t count, const char* name) {
  for (uint32_t i = 0; i < count; ++i) {
    if (strcmp(extensions[i].extensionName, name) == 0) {
      return true;
    }
  }
  return false;
}

/* Vendor ids: PCI-SIG for hardware vendors, Khronos (VkVendorId, >= 0x10000)
 * for vendors without one. */
static const char* weft_vulkan_vendor_name(uint32_t vendor_id) {
  switch (vendor_id) {
    case 0x1002: return "AMD";
    case 0x1010: return "Imagination";
    case 0x106B: return "Apple";
    case 0x10DE: return "NVIDIA";
    case 0x13B5: return "ARM";
    case 0x14E4: return "Broadcom";
    case 0x5143: return "Qualcomm";
    case 0x8086: return "Intel";
    case 0x1AE0: return "Google";
    case VK_VENDOR_ID_VIV: return "Vivante";
    case VK_VENDOR_ID_VSI: return "VeriSilicon";
    case VK_VENDOR_ID_KAZAN: return "Kazan";
    case VK_VENDOR_ID_CODEPLAY: return "Codeplay";
    case VK_VENDOR_ID_MESA: return "Mesa";
    case VK_VENDOR_ID_POCL: return "PoCL";
    default: return NULL;
  }
}

/* ---- enumeration ---- */

/* Picks the queue family device_open will use: a compute family, preferably
 * one without graphics (a dedicated compute queue does not share its time
 * slices with a compositor). Returns false when there is none. */
static bool weft_vulkan_queue_family_choose(const weft_host_services_t* host,
                                            const weft_vulkan_loader_t* loader,
                                            VkPhysicalDevice handle, uint32_t* out_family,
                                            weft_status_t* out_status) {
  *out_status = WEFT_OK;
  uint32_t count = 0;
  loader->vkGetPhysicalDeviceQueueFamilyProperties(handle, &count, NULL);
  if (count == 0) {
    return false;
  }
  VkQueueFamilyProperties* families =
      host->alloc(host->host_ctx, (size_t)count * sizeof(*families), 0);
  if (families == NULL) {
    *out_status = WEFT_VULKAN_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                                     "vulkan: out of memory listing %u queue families",
                                     (unsigned)count);
    return false;
  }
  loader->vkGetPhysicalDeviceQueueFamilyProperties(handle, &count, families);
  uint32_t any = UINT32_MAX;
  uint32_t dedicated = UINT32_MAX;
  for (uint32_t i = 0; i < count; ++i) {
    if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) == 0 || families[i].queueCount == 0) {
      continue;
    }
    if (any == UINT32_MAX) {
      any = i;
    }
    if (dedicated == UINT32_MAX && (families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) == 0) {
      dedicated = i;
    }
  }
  host->free(host->host_ctx, families);
  uint32_t chosen = dedicated != UINT32_MAX ? dedicated : any;
  if (chosen == UINT32_MAX) {
    return false;
  }
  *out_family = chosen;
  return true;
}

/* Fills physical->caps and the memory facts from the driver's answers. */
static weft_status_t weft_vulkan_physical_describe(const weft_host_services_t* host,
                                                   const weft_vulkan_loader_t* loader,
                                                   weft_vulkan_physical_t* physical,
                                                   uint32_t index) {
  VkPhysicalDevice handle = physical->handle;
  uint32_t api = physical->api_version;

  uint32_t extension_count = 0;
  VkResult result =
      loader->vkEnumerateDeviceExtensionProperties(handle, NULL, &extension_count, NULL);
  if (result != VK_SUCCESS) {
    return weft_vulkan_status_from_result(host, result,
                                          "vkEnumerateDeviceExtensionProperties(device %u)",
                                          (unsigned)index);
  }
  VkExtensionProperties* extensions = NULL;
  if (extension_count > 0) {
    extensions = host->alloc(host->host_ctx, (size_t)extension_count * sizeof(*extensions), 0);
    if (extensions == NULL) {
      return WEFT_VULKAN_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                                "vulkan: out of memory listing %u device extensions",
                                (unsigned)extension_count);
    }
    result = loader->vkEnumerateDeviceExtensionProperties(handle, NULL, &extension_count,
                                                          extensions);
    if (result != VK_SUCCESS && result != VK_INCOMPLETE) {
      host->free(host->host_ctx, extensions);
      return weft_vulkan_status_from_result(
          host, result, "vkEnumerateDeviceExtensionProperties(device %u)", (unsigned)index);
    }
  }
#define WEFT_VULKAN_HAS_EXT_(name) \
  weft_vulkan_extension_has(extensions, extension_count, name)
  const bool has_driver_props = api >= VK_API_VERSION_1_2 ||
                                WEFT_VULKAN_HAS_EXT_(VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME);
  const bool has_pci = WEFT_VULKAN_HAS_EXT_(VK_EXT_PCI_BUS_INFO_EXTENSION_NAME);
  const bool has_budget = WEFT_VULKAN_HAS_EXT_(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  const bool has_dot = api >= VK_API_VERSION_1_3 ||
                       WEFT_VULKAN_HAS_EXT_(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
  const bool has_size_control =
      api >= VK_API_VERSION_1_3 ||
      WEFT_VULKAN_HAS_EXT_(VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
  const bool has_f16i8 = api >= VK_API_VERSION_1_2 ||
                         WEFT_VULKAN_HAS_EXT_(VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
  const bool has_storage8 = api >= VK_API_VERSION_1_2 ||
                            WEFT_VULKAN_HAS_EXT_(VK_KHR_8BIT_STORAGE_EXTENSION_NAME);
  const bool has_sm_builtins = WEFT_VULKAN_HAS_EXT_(VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME);
  const bool has_amd_cores =
      WEFT_VULKAN_HAS_EXT_(VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME);
  /* Named by string: VK_KHR_cooperative_matrix is newer than some headers. */
  const bool has_coopmat_khr = WEFT_VULKAN_HAS_EXT_("VK_KHR_cooperative_matrix");
  const bool has_coopmat_nv = WEFT_VULKAN_HAS_EXT_("VK_NV_cooperative_matrix");
#undef WEFT_VULKAN_HAS_EXT_
  host->free(host->host_ctx, extensions);

  /* Properties: 1.1 core structs always, the rest where the device has them
   * (chaining a struct the device does not know is invalid usage). */
  VkPhysicalDeviceProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
  VkPhysicalDeviceSubgroupProperties subgroup = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceMaintenance3Properties maintenance3 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  VkPhysicalDeviceDriverProperties driver = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDevicePCIBusInfoPropertiesEXT pci = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PCI_BUS_INFO_PROPERTIES_EXT};
  VkPhysicalDeviceShaderIntegerDotProductProperties dot = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES};
  VkPhysicalDeviceSubgroupSizeControlProperties size_control = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
  VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm_builtins = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV};
  VkPhysicalDeviceShaderCorePropertiesAMD amd_cores = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD};
  VkBaseOutStructure* tail = (VkBaseOutStructure*)&props;
#define WEFT_VULKAN_CHAIN_(s)                 \
  do {                                        \
    tail->pNext = (VkBaseOutStructure*)&(s);  \
    tail = (VkBaseOutStructure*)&(s);         \
  } while (0)
  WEFT_VULKAN_CHAIN_(id);
  WEFT_VULKAN_CHAIN_(subgroup);
  WEFT_VULKAN_CHAIN_(maintenance3);
  if (has_driver_props) WEFT_VULKAN_CHAIN_(driver);
  if (has_pci) WEFT_VULKAN_CHAIN_(pci);
  if (has_dot) WEFT_VULKAN_CHAIN_(dot);
  if (has_size_control) WEFT_VULKAN_CHAIN_(size_control);
  if (has_sm_builtins) WEFT_VULKAN_CHAIN_(sm_builtins);
  if (has_amd_cores) WEFT_VULKAN_CHAIN_(amd_cores);
  loader->vkGetPhysicalDeviceProperties2(handle, &props);

  VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDevice16BitStorageFeatures storage16 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  VkPhysicalDevice8BitStorageFeatures storage8 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
  VkPhysicalDeviceShaderFloat16Int8Features f16i8 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
  VkPhysicalDeviceShaderIntegerDotProductFeatures dot_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
  tail = (VkBaseOutStructure*)&features;
  WEFT_VULKAN_CHAIN_(storage16);
  if (has_storage8) WEFT_VULKAN_CHAIN_(storage8);
  if (has_f16i8) WEFT_VULKAN_CHAIN_(f16i8);
  if (has_dot) WEFT_VULKAN_CHAIN_(dot_features);
  loader->vkGetPhysicalDeviceFeatures2(handle, &features);

  VkPhysicalDeviceMemoryProperties2 memory = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  tail = (VkBaseOutStructure*)&memory;
  if (has_budget) WEFT_VULKAN_CHAIN_(budget);
#undef WEFT_VULKAN_CHAIN_
  loader->vkGetPhysicalDeviceMemoryProperties2(handle, &memory);

  physical->memory = memory.memoryProperties;
  physical->max_allocation = maintenance3.maxMemoryAllocationSize;
  physical->non_coherent_atom = props.properties.limits.nonCoherentAtomSize;
  physical->has_memory_budget = has_budget;

  weft_device_caps_t* caps = &physical->caps;
  memset(caps, 0, sizeof(*caps));
  caps->struct_size = (uint32_t)sizeof(*caps);
  const VkPhysicalDeviceProperties* p = &props.properties;

  /* Scores per docs/abi.md "Scores": CPU implementations of the API
   * (lavapipe, SwiftShader) stay far below a real CPU backend. */
  switch (p->deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      caps->type = WEFT_DEVICE_TYPE_GPU;
      caps->score = 1000;
      break;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      caps->type = WEFT_DEVICE_TYPE_INTEGRATED_GPU;
      caps->score = 600;
      caps->flags |= WEFT_DEVICE_FLAG_UNIFIED_MEMORY;
      break;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      /* A real GPU behind a paravirtual driver (virtio-gpu Venus): a GPU,
       * but every call crosses the hypervisor, so it ranks below an iGPU. */
      caps->type = WEFT_DEVICE_TYPE_GPU;
      caps->score = 500;
      break;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      caps->type = WEFT_DEVICE_TYPE_VIRTUAL;
      caps->score = 50;
      caps->flags |= WEFT_DEVICE_FLAG_UNIFIED_MEMORY;
      break;
    default:
      caps->type = WEFT_DEVICE_TYPE_ACCELERATOR;
      caps->score = 100;
      break;
  }

  weft_vulkan_text_format(caps->name, sizeof(caps->name), "%s", p->deviceName);
  const char* vendor = weft_vulkan_vendor_name(p->vendorID);
  if (vendor != NULL) {
    snprintf(caps->vendor, sizeof(caps->vendor), "%s", vendor);
  } else {
    snprintf(caps->vendor, sizeof(caps->vendor), "vendor 0x%04x", (unsigned)p->vendorID);
  }
  if (has_driver_props && driver.driverName[0] != '\0') {
    weft_vulkan_text_format(caps->driver, sizeof(caps->driver), "%s %s", driver.driverName,
                            driver.driverInfo);
  } else if (p->vendorID == 0x10DE) {
    /* NVIDIA packs 10.8.8.6 bits into driverVersion. */
    snprintf(caps->driver, sizeof(caps->driver), "NVIDIA %u.%u.%u",
             (unsigned)(p->driverVersion >> 22), (unsigned)((p->driverVersion >> 14) & 0xFF),
             (unsigned)((p->driverVersion >> 6) & 0xFF));
  } else {
    snprintf(caps->driver, sizeof(caps->driver), "driver %u.%u.%u",
             (unsigned)VK_API_VERSION_MAJOR(p->driverVersion),
             (unsigned)VK_API_VERSION_MINOR(p->driverVersion),
             (unsigned)VK_API_VERSION_PATCH(p->driverVersion));
  }
  if (has_pci) {
    snprintf(caps->stable_id, sizeof(caps->stable_id), "pci:%04x:%02x:%02x.%x",
             (unsigned)pci.pciDomain, (unsigned)pci.pciBus, (unsigned)pci.pciDevice,
             (unsigned)pci.pciFunction);
  } else {
    snprintf(caps->stable_id, sizeof(caps->stable_id), "vulkan:%u", (unsigned)index);
  }
  memcpy(caps->uuid, id.deviceUUID, sizeof(caps->uuid));
  for (size_t i = 0; i < sizeof(caps->uuid); ++i) {
    if (caps->uuid[i] != 0) {
      caps->flags |= WEFT_DEVICE_FLAG_HAS_UUID;
      break;
    }
  }
  /* vendorID is a PCI id only below 0x10000 (VkVendorId values are above). */
  if (p->vendorID < 0x10000) {
    caps->vendor_id = p->vendorID;
    caps->device_id = p->deviceID;
  }

  /* Memory: the largest device-local heap is "the device's memory". Smaller
   * device-local heaps (the 256 MiB BAR window) are views of it, so summing
   * them would count VRAM twice. */
  const VkPhysicalDeviceMemoryProperties* mp = &physical->memory;
  uint32_t largest = UINT32_MAX;
  for (uint32_t h = 0; h < mp->memoryHeapCount; ++h) {
    if ((mp->memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) == 0) {
      continue;
    }
    if (largest == UINT32_MAX || mp->memoryHeaps[h].size > mp->memoryHeaps[largest].size) {
      largest = h;
    }
  }
  if (largest == UINT32_MAX) {
    largest = 0; /* the spec requires a device-local heap; be lenient */
  }
  physical->largest_local_heap = largest;
  caps->memory_total = mp->memoryHeapCount > 0 ? mp->memoryHeaps[largest].size : 0;
  if (has_budget && budget.heapBudget[largest] > budget.heapUsage[largest]) {
    caps->memory_free = budget.heapBudget[largest] - budget.heapUsage[largest];
  }
  /* Host-visible device-local memory on the main heap means buffers can be
   * written in place (UMA, resizable BAR); a 256 MiB BAR heap does not
   * count, it cannot hold the weights. */
  for (uint32_t t = 0; t < mp->memoryTypeCount; ++t) {
    const VkMemoryPropertyFlags want =
        VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    if ((mp->memoryTypes[t].propertyFlags & want) == want &&
        mp->memoryTypes[t].heapIndex == largest) {
      caps->flags |= WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL;
      break;
    }
  }

  if (has_sm_builtins) {
    caps->compute_units = sm_builtins.shaderSMCount;
  } else if (has_amd_cores) {
    caps->compute_units = amd_cores.shaderEngineCount * amd_cores.shaderArraysPerEngineCount *
                          amd_cores.computeUnitsPerShaderArray;
  }

  caps->dtypes = WEFT_VULKAN_DTYPES;
  char* text = caps->features_text;
  const size_t cap = sizeof(caps->features_text);
  weft_vulkan_text_append(text, cap, "vulkan%u.%u", (unsigned)VK_API_VERSION_MAJOR(api),
                          (unsigned)VK_API_VERSION_MINOR(api));
  if ((subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0) {
    weft_vulkan_text_append(text, cap, "subgroup=%u", (unsigned)subgroup.subgroupSize);
    if (has_size_control && size_control.minSubgroupSize != size_control.maxSubgroupSize) {
      weft_vulkan_text_append(text, cap, "subgroup-sizes=%u-%u",
                              (unsigned)size_control.minSubgroupSize,
                              (unsigned)size_control.maxSubgroupSize);
    }
    /* Reductions are what kernels need subgroups for. */
    if ((subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) != 0) {
      caps->features |= WEFT_DEVICE_FEATURE_SUBGROUPS;
    }
  }
  if (has_f16i8 && f16i8.shaderFloat16) {
    caps->features |= WEFT_DEVICE_FEATURE_FP16_ARITH;
    weft_vulkan_text_append(text, cap, "fp16");
  }
  if (has_f16i8 && f16i8.shaderInt8) {
    weft_vulkan_text_append(text, cap, "int8");
  }
  if (storage16.storageBuffer16BitAccess) {
    weft_vulkan_text_append(text, cap, "storage16");
  }
  if (has_storage8 && storage8.storageBuffer8BitAccess) {
    weft_vulkan_text_append(text, cap, "storage8");
  }
  if (has_dot && dot_features.shaderIntegerDotProduct) {
    /* Every 1.3 driver exposes the instructions; only "accelerated" means
     * hardware does them faster than the equivalent multiply-adds. */
    if (dot.integerDotProduct4x8BitPackedSignedAccelerated ||
        dot.integerDotProduct4x8BitPackedMixedSignednessAccelerated) {
      caps->features |= WEFT_DEVICE_FEATURE_INT8_DOT;
      weft_vulkan_text_append(text, cap, "int8dot");
    } else {
      weft_vulkan_text_append(text, cap, "int8dot-emulated");
    }
  }
  if (has_coopmat_khr || has_coopmat_nv) {
    caps->features |= WEFT_DEVICE_FEATURE_COOP_MATRIX;
    weft_vulkan_text_append(text, cap, has_coopmat_khr ? "coopmat" : "coopmat-nv");
  }
  if (has_budget) {
    weft_vulkan_text_append(text, cap, "memory-budget");
  }
  return WEFT_OK;
}

weft_status_t weft_vulkan_physical_enumerate(const weft_host_services_t* host,
                                             const weft_vulkan_loader_t* loader,
                                             bool with_caps,
                                             weft_vulkan_physical_t** out_physical,
                                             uint32_t* out_count,
                                             uint32_t* out_total_count) {
  *out_physical = NULL;
  *out_count = 0;
  *out_total_count = 0;
  uint32_t total = 0;
  VkResult result = loader->vkEnumeratePhysicalDevices(loader->instance, &total, NULL);
  if (result != VK_SUCCESS) {
    return weft_vulkan_status_from_result(host, result, "vkEnumeratePhysicalDevices");
  }
  if (total == 0) {
    return WEFT_OK;
  }
  VkPhysicalDevice* handles = host->alloc(host->host_ctx, (size_t)total * sizeof(*handles), 0);
  weft_vulkan_physical_t* list =
      host->alloc(host->host_ctx, (size_t)total * sizeof(*list), 0);
  if (handles == NULL || list == NULL) {
    host->free(host->host_ctx, handles);
    host->free(host->host_ctx, list);
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                              "vulkan: out of memory listing %u physical devices",
                              (unsigned)total);
  }
  memset(list, 0, (size_t)total * sizeof(*list));
  /* VK_INCOMPLETE: a device vanished between the two calls; use the rest. */
  result = loader->vkEnumeratePhysicalDevices(loader->instance, &total, handles);
  weft_status_t status = WEFT_OK;
  if (result != VK_SUCCESS && result != VK_INCOMPLETE) {
    status = weft_vulkan_status_from_result(host, result, "vkEnumeratePhysicalDevices");
  }
  uint32_t count = 0;
  for (uint32_t i = 0; status == WEFT_OK && i < total; ++i) {
    VkPhysicalDeviceProperties props;
    loader->vkGetPhysicalDeviceProperties(handles[i], &props);
    if (props.apiVersion < VK_API_VERSION_1_1) {
      host->log(host->host_ctx, WEFT_LOG_LEVEL_INFO,
                "skipping physical device %u '%s': Vulkan %u.%u, weft needs 1.1",
                (unsigned)i, props.deviceName, (unsigned)VK_API_VERSION_MAJOR(props.apiVersion),
                (unsigned)VK_API_VERSION_MINOR(props.apiVersion));
      continue;
    }
    uint32_t family = 0;
    if (!weft_vulkan_queue_family_choose(host, loader, handles[i], &family, &status)) {
      if (status == WEFT_OK) {
        host->log(host->host_ctx, WEFT_LOG_LEVEL_INFO,
                  "skipping physical device %u '%s': no compute queue", (unsigned)i,
                  props.deviceName);
      }
      continue;
    }
    weft_vulkan_physical_t* physical = &list[count];
    physical->handle = handles[i];
    /* Use no more than the instance asked for (Vulkan 1.3 spec, section
     * 4.1 "Physical Devices": the effective version is the lower one). */
    physical->api_version =
        props.apiVersion < loader->api_version ? props.apiVersion : loader->api_version;
    physical->queue_family = family;
    if (with_caps) {
      status = weft_vulkan_physical_describe(host, loader, physical, count);
    }
    if (status == WEFT_OK) {
      ++count;
    }
  }
  host->free(host->host_ctx, handles);
  if (status != WEFT_OK || count == 0) {
    host->free(host->host_ctx, list);
    list = NULL;
  }
  if (status != WEFT_OK) {
    return status;
  }
  *out_physical = list;
  *out_count = count;
  *out_total_count = total;
  return WEFT_OK;
}

/* ---- the device interface ---- */

uint32_t weft_vulkan_device_count(weft_plugin_instance_t* instance) {
  return instance != NULL ? instance->physical_count : 0;
}

weft_status_t weft_vulkan_device_query_caps(weft_plugin_instance_t* instance, uint32_t index,
                                            weft_device_caps_t* inout_caps) {
  const weft_host_services_t* host = instance->host;
  if (index >= instance->physical_count) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_OUT_OF_RANGE,
                              "vulkan: device index %u out of range (%u devices)",
                              (unsigned)index, (unsigned)instance->physical_count);
  }
  if (inout_caps == NULL) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: device_query_caps called without caps");
  }
  if (!WEFT_ABI_HAS_MEMBER(inout_caps, weft_device_caps_t, reserved0)) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INCOMPATIBLE,
                              "vulkan: caps record of %u bytes is smaller than ABI 1.0's",
                              (unsigned)inout_caps->struct_size);
  }
  weft_device_caps_write(inout_caps, &instance->physical[index].caps);
  return WEFT_OK;
}

weft_status_t weft_vulkan_device_open(weft_plugin_instance_t* instance, uint32_t index,
                                      weft_plugin_device_t** out_device) {
  const weft_host_services_t* host = instance->host;
  if (out_device == NULL) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: device_open called without out_device");
  }
  *out_device = NULL;
  if (index >= instance->physical_count) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_OUT_OF_RANGE,
                              "vulkan: device index %u out of range (%u devices)",
                              (unsigned)index, (unsigned)instance->physical_count);
  }
  weft_plugin_device_t* device = host->alloc(host->host_ctx, sizeof(*device), 0);
  if (device == NULL) {
    return WEFT_VULKAN_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                              "vulkan: out of memory opening device %u (%zu bytes)",
                              (unsigned)index, sizeof(*device));
  }
  memset(device, 0, sizeof(*device));
  device->instance = instance;
  device->index = index;
  device->physical = &instance->physical[index];
  const weft_vulkan_physical_t* physical = device->physical;
  const weft_vulkan_loader_t* loader = &instance->loader;

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = physical->queue_family,
      .queueCount = 1,
      .pQueuePriorities = &priority,
  };
  VkDeviceCreateInfo device_info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &queue_info,
  };
  weft_status_t status = WEFT_OK;
  VkResult result = loader->vkCreateDevice(physical->handle, &device_info, NULL, &device->device);
  if (result != VK_SUCCESS) {
    device->device = VK_NULL_HANDLE;
    status = weft_vulkan_status_from_result(host, result, "vkCreateDevice('%s')",
                                            physical->caps.name);
  }
  if (status == WEFT_OK) {
    status = weft_vulkan_loader_device_table_load(host, loader, device->device, &device->vk);
  }
  if (status == WEFT_OK) {
    device->vk.vkGetDeviceQueue(device->device, physical->queue_family, 0, &device->queue);
    VkCommandPoolCreateInfo pool_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = physical->queue_family,
    };
    result = device->vk.vkCreateCommandPool(device->device, &pool_info, NULL,
                                            &device->command_pool);
    if (result != VK_SUCCESS) {
      device->command_pool = VK_NULL_HANDLE;
      status = weft_vulkan_status_from_result(host, result, "vkCreateCommandPool(family %u)",
                                              (unsigned)physical->queue_family);
    }
  }
  if (status == WEFT_OK) {
    VkCommandBufferAllocateInfo command_info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = device->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    result = device->vk.vkAllocateCommandBuffers(device->device, &command_info,
                                                 &device->command_buffer);
    if (result != VK_SUCCESS) {
      device->command_buffer = VK_NULL_HANDLE;
      status = weft_vulkan_status_from_result(host, result, "vkAllocateCommandBuffers");
    }
  }
  if (status == WEFT_OK) {
    VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    result = device->vk.vkCreateFence(device->device, &fence_info, NULL, &device->fence);
    if (result != VK_SUCCESS) {
      device->fence = VK_NULL_HANDLE;
      status = weft_vulkan_status_from_result(host, result, "vkCreateFence");
    }
  }
  if (status != WEFT_OK) {
    weft_vulkan_device_close(device);
    return status;
  }
  host->log(host->host_ctx, WEFT_LOG_LEVEL_DEBUG, "opened device %u '%s' (queue family %u)",
            (unsigned)index, physical->caps.name, (unsigned)physical->queue_family);
  *out_device = device;
  return WEFT_OK;
}

void weft_vulkan_device_close(weft_plugin_device_t* device) {
  if (device == NULL) {
    return;
  }
  const weft_host_services_t* host = device->instance->host;
  if (device->device != VK_NULL_HANDLE) {
    /* Nothing may be in use when objects are destroyed (Vulkan 1.3 spec,
     * section 3.3.1 "Object Lifetime"). A lost device is past caring. */
    if (device->vk.vkDeviceWaitIdle != NULL) {
      (void)device->vk.vkDeviceWaitIdle(device->device);
    }
    while (device->buffers != NULL) {
      weft_plugin_buffer_t* buffer = device->buffers;
      device->buffers = buffer->next;
      weft_vulkan_buffer_release(device, buffer);
    }
    if (device->staging != NULL) {
      weft_vulkan_buffer_release(device, device->staging);
      device->staging = NULL;
    }
    if (device->fence != VK_NULL_HANDLE) {
      device->vk.vkDestroyFence(device->device, device->fence, NULL);
    }
    /* Destroying the pool frees its command buffers. */
    if (device->command_pool != VK_NULL_HANDLE) {
      device->vk.vkDestroyCommandPool(device->device, device->command_pool, NULL);
    }
    if (device->vk.vkDestroyDevice != NULL) {
      device->vk.vkDestroyDevice(device->device, NULL);
    }
  }
  host->free(host->host_ctx, device);
}

weft_status_t weft_vulkan_device_run_transfer(weft_plugin_device_t* device,
                                              weft_vulkan_record_fn record, void* user,
                                              const char* what) {
  const weft_host_services_t* host = device->instance->host;
  const weft_vulkan_device_table_t* vk = &device->vk;
  VkCommandBuffer cb = device->command_buffer;
  VkResult result = vk->vkResetCommandBuffer(cb, 0);
  if (result != VK_SUCCESS) {
    return weft_vulkan_status_from_result(host, result, "vkResetCommandBuffer (%s)", what);
  }
  VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };
  result = vk->vkBeginCommandBuffer(cb, &begin);
  if (result != VK_SUCCESS) {
    return weft_vulkan_status_from_result(host, result, "vkBeginCommandBuffer (%s)", what);
  }
  /* Earlier submissions' writes (transfers now, kernels later) become
   * visible to this transfer: a fence wait alone orders execution, not
   * memory (Vulkan 1.3 spec, section 7.1 "Execution and Memory
   * Dependencies"). */
  VkMemoryBarrier before = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
  };
  vk->vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                           VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, NULL, 0, NULL);
  record(device, user);
  /* Transfer writes become visible to host reads after the fence wait
   * (Vulkan 1.3 spec, "Synchronization Examples": download to the host). */
  VkMemoryBarrier after = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
  };
  vk->vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0,
                           1, &after, 0, NULL, 0, NULL);
  result = vk->vkEndCommandBuffer(cb);
  if (result != VK_SUCCESS) {
    return weft_vulkan_status_from_result(host, result, "vkEndCommandBuffer (%s)", what);
  }
  VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &cb,
  };
  result = vk->vkQueueSubmit(device->queue, 1, &submit, device->fence);
  if (result != VK_SUCCESS) {
    return weft_vulkan_status_from_result(host, result, "vkQueueSubmit (%s)", what);
  }
  result = vk->vkWaitForFences(device->device, 1, &device->fence, VK_TRUE, UINT64_MAX);
  if (result != VK_SUCCESS) {
    return weft_vulkan_status_from_result(host, result, "vkWaitForFences (%s)", what);
  }
  result = vk->vkResetFences(device->device, 1, &device->fence);
  if (result != VK_SUCCESS) {
    return weft_vulkan_status_from_result(host, result, "vkResetFences (%s)", what);
  }
  return WEFT_OK;
}

weft_status_t weft_vulkan_device_op_query(weft_plugin_device_t* device, const weft_node_t* node,
                                          const weft_tensor_desc_t* const* tensors,
                                          uint32_t tensor_count,
                                          weft_op_support_t* out_support) {
  (void)tensors;
  (void)tensor_count;
  if (node == NULL || out_support == NULL) {
    return WEFT_VULKAN_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: op_query called without %s",
                              node == NULL ? "a node" : "a result struct");
  }
  weft_op_support_refuse(out_support, node->op,
                         "kernels are not implemented in this plugin yet");
  return WEFT_OK;
}

weft_status_t weft_vulkan_device_segment_submit(weft_plugin_device_t* device,
                                                const weft_segment_t* segment,
                                                weft_event_t* const* waits,
                                                uint32_t wait_count, weft_event_t* signal) {
  (void)waits;
  (void)wait_count;
  (void)signal;
  /* Refused before starting, so per the ABI the event is not signalled. */
  return WEFT_VULKAN_STATUS(device->instance->host, WEFT_STATUS_UNIMPLEMENTED,
                            "vulkan: segment execution is not implemented in this plugin "
                            "yet (segment of %u nodes on '%s')",
                            segment != NULL ? (unsigned)segment->node_count : 0u,
                            device->physical->caps.name);
}

weft_status_t weft_vulkan_device_synchronize(weft_plugin_device_t* device) {
  VkResult result = device->vk.vkQueueWaitIdle(device->queue);
  if (result != VK_SUCCESS) {
    return weft_vulkan_status_from_result(device->instance->host, result,
                                          "vkQueueWaitIdle('%s')",
                                          device->physical->caps.name);
  }
  return WEFT_OK;
}

weft_status_t weft_vulkan_device_memory_query(weft_plugin_device_t* device, uint64_t* out_free,
                                              uint64_t* out_total) {
  const weft_plugin_instance_t* instance = device->instance;
  if (out_free == NULL || out_total == NULL) {
    return WEFT_VULKAN_STATUS(instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                              "vulkan: device_memory_query called without %s",
                              out_free == NULL ? "out_free" : "out_total");
  }
  const weft_vulkan_physical_t* physical = device->physical;
  *out_total = physical->caps.memory_total;
  *out_free = physical->caps.memory_free;
  if (physical->has_memory_budget) {
    /* VK_EXT_memory_budget: the budget is what this process may use,
     * usage what it uses; both change as other processes allocate. */
    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 memory = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
        .pNext = &budget,
    };
    instance->loader.vkGetPhysicalDeviceMemoryProperties2(physical->handle, &memory);
    uint32_t heap = physical->largest_local_heap;
    *out_free = budget.heapBudget[heap] > budget.heapUsage[heap]
                    ? budget.heapBudget[heap] - budget.heapUsage[heap]
                    : 0;
  }
  return WEFT_OK;
}
