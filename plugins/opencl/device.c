/* The OpenCL plugin: device enumeration, capability records, device
 * open/close, op support, submission and memory queries. See
 * opencl_plugin.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opencl_plugin.h"

/* cl_nv_device_attribute_query; newer than some cl_ext.h. */
#ifndef CL_DEVICE_PCI_BUS_ID_NV
#define CL_DEVICE_PCI_BUS_ID_NV 0x4008
#endif
#ifndef CL_DEVICE_PCI_SLOT_ID_NV
#define CL_DEVICE_PCI_SLOT_ID_NV 0x4009
#endif
#ifndef CL_DEVICE_PCI_DOMAIN_ID_NV
#define CL_DEVICE_PCI_DOMAIN_ID_NV 0x400A
#endif

/* ---- small helpers ---- */

static void weft_opencl_text_format(char* text, size_t cap, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
static void weft_opencl_text_format(char* text, size_t cap, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(text, cap, format, args);
  va_end(args);
}

/* Appends to a space-separated text (features_text), truncating at the end. */
static void weft_opencl_text_append(char* text, size_t cap, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
static void weft_opencl_text_append(char* text, size_t cap, const char* format, ...) {
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

/* Whether a space-separated extension list holds `name` as a whole word. */
static bool weft_opencl_extension_has(const char* extensions, const char* name) {
  size_t n = strlen(name);
  for (const char* p = extensions; p != NULL && *p != '\0';) {
    while (*p == ' ') {
      ++p;
    }
    size_t length = strcspn(p, " ");
    if (length == n && strncmp(p, name, n) == 0) {
      return true;
    }
    p += length;
  }
  return false;
}

/* "OpenCL 3.0 PoCL ..." -> 300; 0 when the text does not follow the spec's
 * "OpenCL<space><major.minor><space><vendor-specific>" form. */
static uint32_t weft_opencl_version_parse(const char* text) {
  unsigned major = 0;
  unsigned minor = 0;
  if (sscanf(text, "OpenCL %u.%u", &major, &minor) != 2) {
    return 0;
  }
  return major * 100u + minor;
}

/* A string query into host memory the caller frees with host->free. */
static weft_status_t weft_opencl_device_string(const weft_host_services_t* host,
                                               const weft_opencl_loader_t* loader,
                                               cl_device_id device, cl_device_info param,
                                               const char* param_name, char** out_text) {
  *out_text = NULL;
  size_t size = 0;
  cl_int error = loader->clGetDeviceInfo(device, param, 0, NULL, &size);
  if (error != CL_SUCCESS) {
    return weft_opencl_status_from_error(host, error, "clGetDeviceInfo(%s)", param_name);
  }
  char* text = host->alloc(host->host_ctx, size + 1, 0);
  if (text == NULL) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                              "opencl: out of memory reading %s (%zu bytes)", param_name,
                              size + 1);
  }
  error = loader->clGetDeviceInfo(device, param, size, text, NULL);
  if (error != CL_SUCCESS) {
    host->free(host->host_ctx, text);
    return weft_opencl_status_from_error(host, error, "clGetDeviceInfo(%s)", param_name);
  }
  text[size] = '\0';
  *out_text = text;
  return WEFT_OK;
}

static weft_status_t weft_opencl_platform_string(const weft_host_services_t* host,
                                                 const weft_opencl_loader_t* loader,
                                                 cl_platform_id platform,
                                                 cl_platform_info param,
                                                 const char* param_name, char** out_text) {
  *out_text = NULL;
  size_t size = 0;
  cl_int error = loader->clGetPlatformInfo(platform, param, 0, NULL, &size);
  if (error != CL_SUCCESS) {
    return weft_opencl_status_from_error(host, error, "clGetPlatformInfo(%s)", param_name);
  }
  char* text = host->alloc(host->host_ctx, size + 1, 0);
  if (text == NULL) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                              "opencl: out of memory reading %s (%zu bytes)", param_name,
                              size + 1);
  }
  error = loader->clGetPlatformInfo(platform, param, size, text, NULL);
  if (error != CL_SUCCESS) {
    host->free(host->host_ctx, text);
    return weft_opencl_status_from_error(host, error, "clGetPlatformInfo(%s)", param_name);
  }
  text[size] = '\0';
  *out_text = text;
  return WEFT_OK;
}

/* A fixed-size query; false (and *out untouched) when the device refuses it,
 * which for optional vendor queries just means "not known". */
static bool weft_opencl_device_value(const weft_opencl_loader_t* loader, cl_device_id device,
                                     cl_device_info param, void* out, size_t size) {
  return loader->clGetDeviceInfo(device, param, size, out, NULL) == CL_SUCCESS;
}

/* ---- enumeration ---- */

static weft_status_t weft_opencl_physical_describe(const weft_host_services_t* host,
                                                   const weft_opencl_loader_t* loader,
                                                   weft_opencl_physical_t* physical,
                                                   uint32_t index) {
  cl_device_id id = physical->device;
  char* name = NULL;
  char* vendor = NULL;
  char* driver = NULL;
  char* extensions = NULL;
  char* platform_name = NULL;
  weft_status_t status =
      weft_opencl_device_string(host, loader, id, CL_DEVICE_NAME, "CL_DEVICE_NAME", &name);
  if (status == WEFT_OK) {
    status = weft_opencl_device_string(host, loader, id, CL_DEVICE_VENDOR, "CL_DEVICE_VENDOR",
                                       &vendor);
  }
  if (status == WEFT_OK) {
    status = weft_opencl_device_string(host, loader, id, CL_DRIVER_VERSION,
                                       "CL_DRIVER_VERSION", &driver);
  }
  if (status == WEFT_OK) {
    status = weft_opencl_device_string(host, loader, id, CL_DEVICE_EXTENSIONS,
                                       "CL_DEVICE_EXTENSIONS", &extensions);
  }
  if (status == WEFT_OK) {
    status = weft_opencl_platform_string(host, loader, physical->platform, CL_PLATFORM_NAME,
                                         "CL_PLATFORM_NAME", &platform_name);
  }
  cl_device_type type = 0;
  cl_uint vendor_id = 0;
  cl_uint compute_units = 0;
  cl_ulong global_memory = 0;
  cl_ulong max_allocation = 0;
  if (status == WEFT_OK) {
    if (!weft_opencl_device_value(loader, id, CL_DEVICE_TYPE, &type, sizeof(type)) ||
        !weft_opencl_device_value(loader, id, CL_DEVICE_GLOBAL_MEM_SIZE, &global_memory,
                                  sizeof(global_memory)) ||
        !weft_opencl_device_value(loader, id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, &max_allocation,
                                  sizeof(max_allocation))) {
      status = WEFT_OPENCL_STATUS(host, WEFT_STATUS_INTERNAL,
                                  "opencl: device %u '%s' does not answer the OpenCL 1.2 "
                                  "core queries (type, global memory, max allocation)",
                                  (unsigned)index, name);
    }
  }
  if (status != WEFT_OK) {
    host->free(host->host_ctx, name);
    host->free(host->host_ctx, vendor);
    host->free(host->host_ctx, driver);
    host->free(host->host_ctx, extensions);
    host->free(host->host_ctx, platform_name);
    return status;
  }
  (void)weft_opencl_device_value(loader, id, CL_DEVICE_VENDOR_ID, &vendor_id, sizeof(vendor_id));
  (void)weft_opencl_device_value(loader, id, CL_DEVICE_MAX_COMPUTE_UNITS, &compute_units,
                                 sizeof(compute_units));
  physical->max_allocation = max_allocation;
  physical->has_amd_free_memory =
      weft_opencl_extension_has(extensions, "cl_amd_device_attribute_query");

  weft_device_caps_t* caps = &physical->caps;
  memset(caps, 0, sizeof(*caps));
  caps->struct_size = (uint32_t)sizeof(*caps);

  /* Scores per docs/abi.md "Scores". An OpenCL CPU device (PoCL, the Intel
   * CPU runtime) is a CPU implementation of a GPU API: below the CPU
   * backends. A GPU that shares host memory is an integrated one. */
  if ((type & CL_DEVICE_TYPE_GPU) != 0) {
    cl_bool unified = CL_FALSE;
    /* Deprecated by 2.0 but still answered; a refusal means "not unified". */
    (void)weft_opencl_device_value(loader, id, CL_DEVICE_HOST_UNIFIED_MEMORY, &unified,
                                   sizeof(unified));
    if (unified) {
      caps->type = WEFT_DEVICE_TYPE_INTEGRATED_GPU;
      caps->score = 600;
      caps->flags |= WEFT_DEVICE_FLAG_UNIFIED_MEMORY | WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL;
    } else {
      caps->type = WEFT_DEVICE_TYPE_GPU;
      caps->score = 1000;
    }
  } else if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) {
    caps->type = WEFT_DEVICE_TYPE_ACCELERATOR;
    caps->score = 700;
  } else {
    caps->type = WEFT_DEVICE_TYPE_VIRTUAL;
    caps->score = 50;
    caps->flags |= WEFT_DEVICE_FLAG_UNIFIED_MEMORY | WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL;
  }

  weft_opencl_text_format(caps->name, sizeof(caps->name), "%s", name);
  weft_opencl_text_format(caps->vendor, sizeof(caps->vendor), "%s", vendor);
  weft_opencl_text_format(caps->driver, sizeof(caps->driver), "%s %s", platform_name, driver);
  /* CL_DEVICE_VENDOR_ID is the PCI vendor id for GPUs and accelerators; for
   * a CPU device it names the CPU's maker, which is no PCI device. */
  if (caps->type != WEFT_DEVICE_TYPE_VIRTUAL) {
    caps->vendor_id = vendor_id;
  }
  caps->compute_units = compute_units;
  caps->memory_total = global_memory;

  if (weft_opencl_extension_has(extensions, "cl_khr_device_uuid")) {
    cl_uchar uuid[CL_UUID_SIZE_KHR];
    if (weft_opencl_device_value(loader, id, CL_DEVICE_UUID_KHR, uuid, sizeof(uuid))) {
      memcpy(caps->uuid, uuid, sizeof(caps->uuid));
      caps->flags |= WEFT_DEVICE_FLAG_HAS_UUID;
    }
  }

  /* Stable id: the PCI address where a KHR or vendor query gives it. */
  bool have_pci = false;
  unsigned domain = 0;
  unsigned bus = 0;
  unsigned dev = 0;
  unsigned function = 0;
  if (weft_opencl_extension_has(extensions, "cl_khr_pci_bus_info")) {
    cl_device_pci_bus_info_khr pci;
    if (weft_opencl_device_value(loader, id, CL_DEVICE_PCI_BUS_INFO_KHR, &pci, sizeof(pci))) {
      have_pci = true;
      domain = pci.pci_domain;
      bus = pci.pci_bus;
      dev = pci.pci_device;
      function = pci.pci_function;
    }
  }
  if (!have_pci && weft_opencl_extension_has(extensions, "cl_nv_device_attribute_query")) {
    cl_uint nv_bus = 0;
    cl_uint nv_slot = 0;
    cl_uint nv_domain = 0;
    if (weft_opencl_device_value(loader, id, CL_DEVICE_PCI_BUS_ID_NV, &nv_bus, sizeof(nv_bus)) &&
        weft_opencl_device_value(loader, id, CL_DEVICE_PCI_SLOT_ID_NV, &nv_slot,
                                 sizeof(nv_slot))) {
      (void)weft_opencl_device_value(loader, id, CL_DEVICE_PCI_DOMAIN_ID_NV, &nv_domain,
                                     sizeof(nv_domain));
      /* The slot id packs device << 3 | function, as in PCI devfn. */
      have_pci = true;
      domain = nv_domain;
      bus = nv_bus;
      dev = nv_slot >> 3;
      function = nv_slot & 7;
    }
  }
  if (weft_opencl_extension_has(extensions, "cl_amd_device_attribute_query")) {
    cl_device_topology_amd topology;
    if (!have_pci &&
        weft_opencl_device_value(loader, id, CL_DEVICE_TOPOLOGY_AMD, &topology,
                                 sizeof(topology)) &&
        topology.raw.type == CL_DEVICE_TOPOLOGY_TYPE_PCIE_AMD) {
      have_pci = true;
      bus = (unsigned char)topology.pcie.bus;
      dev = (unsigned char)topology.pcie.device;
      function = (unsigned char)topology.pcie.function;
    }
    cl_uint pcie_id = 0;
    if (weft_opencl_device_value(loader, id, CL_DEVICE_PCIE_ID_AMD, &pcie_id, sizeof(pcie_id))) {
      caps->device_id = pcie_id;
    }
  }
  if (have_pci) {
    weft_opencl_text_format(caps->stable_id, sizeof(caps->stable_id), "pci:%04x:%02x:%02x.%x",
                            domain, bus, dev, function);
  } else {
    weft_opencl_text_format(caps->stable_id, sizeof(caps->stable_id), "opencl:%u",
                            (unsigned)index);
  }

  if (physical->has_amd_free_memory) {
    size_t free_kib[2] = {0, 0}; /* total free, largest free block; KiB */
    if (weft_opencl_device_value(loader, id, CL_DEVICE_GLOBAL_FREE_MEMORY_AMD, free_kib,
                                 sizeof(free_kib))) {
      caps->memory_free = (uint64_t)free_kib[0] * 1024u;
    }
  }

  caps->dtypes = WEFT_OPENCL_DTYPES;
  char* text = caps->features_text;
  const size_t cap = sizeof(caps->features_text);
  weft_opencl_text_append(text, cap, "opencl%u.%u", (unsigned)(physical->version / 100),
                          (unsigned)(physical->version % 100));
  /* The subgroup width is a property of a compiled kernel in core OpenCL;
   * vendors that fix it per device say so through their own queries. */
  cl_uint width = 0;
  if (weft_opencl_extension_has(extensions, "cl_nv_device_attribute_query") &&
      weft_opencl_device_value(loader, id, CL_DEVICE_WARP_SIZE_NV, &width, sizeof(width))) {
    weft_opencl_text_append(text, cap, "subgroup=%u", (unsigned)width);
  } else if (weft_opencl_extension_has(extensions, "cl_amd_device_attribute_query") &&
             weft_opencl_device_value(loader, id, CL_DEVICE_WAVEFRONT_WIDTH_AMD, &width,
                                      sizeof(width))) {
    weft_opencl_text_append(text, cap, "subgroup=%u", (unsigned)width);
  } else if (weft_opencl_extension_has(extensions, "cl_intel_required_subgroup_size")) {
    size_t sizes[8];
    size_t bytes = 0;
    if (loader->clGetDeviceInfo(id, CL_DEVICE_SUB_GROUP_SIZES_INTEL, sizeof(sizes), sizes,
                                &bytes) == CL_SUCCESS &&
        bytes >= sizeof(size_t)) {
      char list[64] = "";
      size_t used = 0;
      for (size_t i = 0; i < bytes / sizeof(size_t) && used + 8 < sizeof(list); ++i) {
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%zu", i > 0 ? "," : "",
                                 sizes[i]);
      }
      weft_opencl_text_append(text, cap, "subgroup=%s", list);
    }
  }
  cl_uint max_subgroups = 0;
  if (weft_opencl_extension_has(extensions, "cl_khr_subgroups") ||
      weft_opencl_extension_has(extensions, "cl_intel_subgroups") ||
      (physical->version >= 201 &&
       weft_opencl_device_value(loader, id, CL_DEVICE_MAX_NUM_SUB_GROUPS, &max_subgroups,
                                sizeof(max_subgroups)) &&
       max_subgroups > 0)) {
    caps->features |= WEFT_DEVICE_FEATURE_SUBGROUPS;
    weft_opencl_text_append(text, cap, "subgroups");
  }
  if (weft_opencl_extension_has(extensions, "cl_khr_fp16")) {
    caps->features |= WEFT_DEVICE_FEATURE_FP16_ARITH;
    weft_opencl_text_append(text, cap, "fp16");
  }
  if (weft_opencl_extension_has(extensions, "cl_khr_fp64")) {
    weft_opencl_text_append(text, cap, "fp64");
  }
  bool int8_dot = weft_opencl_extension_has(extensions, "cl_arm_integer_dot_product_int8");
  if (!int8_dot && weft_opencl_extension_has(extensions, "cl_khr_integer_dot_product")) {
    cl_bitfield dot = 0;
    int8_dot = weft_opencl_device_value(loader, id,
                                        CL_DEVICE_INTEGER_DOT_PRODUCT_CAPABILITIES_KHR, &dot,
                                        sizeof(dot)) &&
               (dot & CL_DEVICE_INTEGER_DOT_PRODUCT_INPUT_4x8BIT_PACKED_KHR) != 0;
  }
  if (int8_dot) {
    caps->features |= WEFT_DEVICE_FEATURE_INT8_DOT;
    weft_opencl_text_append(text, cap, "int8dot");
  }
  if (weft_opencl_extension_has(extensions, "cl_intel_subgroup_matrix_multiply_accumulate")) {
    caps->features |= WEFT_DEVICE_FEATURE_COOP_MATRIX;
    weft_opencl_text_append(text, cap, "coopmat-intel");
  }

  host->free(host->host_ctx, name);
  host->free(host->host_ctx, vendor);
  host->free(host->host_ctx, driver);
  host->free(host->host_ctx, extensions);
  host->free(host->host_ctx, platform_name);
  return WEFT_OK;
}

/* Whether enumeration keeps a device; *out_version is its OpenCL version. */
static weft_status_t weft_opencl_device_usable(const weft_host_services_t* host,
                                               const weft_opencl_loader_t* loader,
                                               cl_device_id id, bool* out_usable,
                                               uint32_t* out_version) {
  *out_usable = false;
  *out_version = 0;
  cl_device_type type = 0;
  cl_bool available = CL_FALSE;
  if (!weft_opencl_device_value(loader, id, CL_DEVICE_TYPE, &type, sizeof(type)) ||
      !weft_opencl_device_value(loader, id, CL_DEVICE_AVAILABLE, &available,
                                sizeof(available))) {
    return WEFT_OK; /* a device that does not answer is not one to use */
  }
  char* version_text = NULL;
  weft_status_t status = weft_opencl_device_string(host, loader, id, CL_DEVICE_VERSION,
                                                   "CL_DEVICE_VERSION", &version_text);
  if (status != WEFT_OK) {
    return status;
  }
  uint32_t version = weft_opencl_version_parse(version_text);
  /* Custom devices run no OpenCL C (OpenCL 3.0 API, section 4.2). */
  bool kind_ok = (type & (CL_DEVICE_TYPE_CPU | CL_DEVICE_TYPE_GPU |
                          CL_DEVICE_TYPE_ACCELERATOR)) != 0;
  if (!available || !kind_ok || version < WEFT_OPENCL_VERSION_1_2) {
    host->log(host->host_ctx, WEFT_LOG_LEVEL_INFO,
              "skipping an OpenCL device (%s): %s", version_text,
              !available ? "not available"
              : !kind_ok ? "a custom device"
                         : "weft needs OpenCL 1.2 (clEnqueueFillBuffer)");
  } else {
    *out_usable = true;
    *out_version = version;
  }
  host->free(host->host_ctx, version_text);
  return WEFT_OK;
}

weft_status_t weft_opencl_physical_enumerate(const weft_host_services_t* host,
                                             const weft_opencl_loader_t* loader,
                                             bool with_caps,
                                             weft_opencl_physical_t** out_physical,
                                             uint32_t* out_count, uint32_t* out_total_count,
                                             uint32_t* out_platform_count,
                                             cl_int* out_platform_error) {
  *out_physical = NULL;
  *out_count = 0;
  *out_total_count = 0;
  *out_platform_count = 0;
  *out_platform_error = CL_SUCCESS;
  cl_uint platform_count = 0;
  cl_int error = loader->clGetPlatformIDs(0, NULL, &platform_count);
  if (error == CL_PLATFORM_NOT_FOUND_KHR) {
    /* cl_khr_icd: the ICD loader found no driver. Not an error here. */
    *out_platform_error = error;
    return WEFT_OK;
  }
  if (error != CL_SUCCESS) {
    return weft_opencl_status_from_error(host, error, "clGetPlatformIDs");
  }
  if (platform_count == 0) {
    return WEFT_OK;
  }
  cl_platform_id* platforms =
      host->alloc(host->host_ctx, (size_t)platform_count * sizeof(*platforms), 0);
  if (platforms == NULL) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                              "opencl: out of memory listing %u platforms",
                              (unsigned)platform_count);
  }
  weft_status_t status = WEFT_OK;
  error = loader->clGetPlatformIDs(platform_count, platforms, &platform_count);
  if (error != CL_SUCCESS) {
    status = weft_opencl_status_from_error(host, error, "clGetPlatformIDs(%u)",
                                           (unsigned)platform_count);
  }
  /* Count first, so that one array holds every platform's devices. */
  uint32_t total = 0;
  for (cl_uint p = 0; status == WEFT_OK && p < platform_count; ++p) {
    cl_uint n = 0;
    error = loader->clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &n);
    if (error == CL_SUCCESS) {
      total += n;
    } else if (error != CL_DEVICE_NOT_FOUND) {
      status = weft_opencl_status_from_error(host, error, "clGetDeviceIDs(platform %u)",
                                             (unsigned)p);
    }
  }
  weft_opencl_physical_t* list = NULL;
  cl_device_id* ids = NULL;
  if (status == WEFT_OK && total > 0) {
    list = host->alloc(host->host_ctx, (size_t)total * sizeof(*list), 0);
    ids = host->alloc(host->host_ctx, (size_t)total * sizeof(*ids), 0);
    if (list == NULL || ids == NULL) {
      status = WEFT_OPENCL_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                                  "opencl: out of memory listing %u devices", (unsigned)total);
    } else {
      memset(list, 0, (size_t)total * sizeof(*list));
    }
  }
  uint32_t count = 0;
  uint32_t seen = 0;
  for (cl_uint p = 0; status == WEFT_OK && total > 0 && p < platform_count; ++p) {
    cl_uint n = 0;
    error = loader->clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, total - seen, ids + seen,
                                   &n);
    if (error == CL_DEVICE_NOT_FOUND) {
      continue;
    }
    if (error != CL_SUCCESS) {
      status = weft_opencl_status_from_error(host, error, "clGetDeviceIDs(platform %u)",
                                             (unsigned)p);
      break;
    }
    if (n > total - seen) {
      n = total - seen; /* a device appeared since counting; ignore it */
    }
    for (cl_uint d = 0; status == WEFT_OK && d < n; ++d) {
      bool usable = false;
      uint32_t version = 0;
      status = weft_opencl_device_usable(host, loader, ids[seen + d], &usable, &version);
      if (status != WEFT_OK || !usable) {
        continue;
      }
      weft_opencl_physical_t* physical = &list[count];
      physical->platform = platforms[p];
      physical->device = ids[seen + d];
      physical->version = version;
      if (with_caps) {
        status = weft_opencl_physical_describe(host, loader, physical, count);
      }
      if (status == WEFT_OK) {
        ++count;
      }
    }
    seen += n;
  }
  host->free(host->host_ctx, ids);
  host->free(host->host_ctx, platforms);
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
  *out_platform_count = platform_count;
  return WEFT_OK;
}

/* ---- the device interface ---- */

uint32_t weft_opencl_device_count(weft_plugin_instance_t* instance) {
  return instance != NULL ? instance->physical_count : 0;
}

weft_status_t weft_opencl_device_query_caps(weft_plugin_instance_t* instance, uint32_t index,
                                            weft_device_caps_t* inout_caps) {
  const weft_host_services_t* host = instance->host;
  if (index >= instance->physical_count) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_OUT_OF_RANGE,
                              "opencl: device index %u out of range (%u devices)",
                              (unsigned)index, (unsigned)instance->physical_count);
  }
  if (inout_caps == NULL) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: device_query_caps called without caps");
  }
  if (!WEFT_ABI_HAS_MEMBER(inout_caps, weft_device_caps_t, reserved0)) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INCOMPATIBLE,
                              "opencl: caps record of %u bytes is smaller than ABI 1.0's",
                              (unsigned)inout_caps->struct_size);
  }
  weft_device_caps_write(inout_caps, &instance->physical[index].caps);
  return WEFT_OK;
}

weft_status_t weft_opencl_device_open(weft_plugin_instance_t* instance, uint32_t index,
                                      weft_plugin_device_t** out_device) {
  const weft_host_services_t* host = instance->host;
  if (out_device == NULL) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: device_open called without out_device");
  }
  *out_device = NULL;
  if (index >= instance->physical_count) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_OUT_OF_RANGE,
                              "opencl: device index %u out of range (%u devices)",
                              (unsigned)index, (unsigned)instance->physical_count);
  }
  weft_plugin_device_t* device = host->alloc(host->host_ctx, sizeof(*device), 0);
  if (device == NULL) {
    return WEFT_OPENCL_STATUS(host, WEFT_STATUS_OUT_OF_MEMORY,
                              "opencl: out of memory opening device %u (%zu bytes)",
                              (unsigned)index, sizeof(*device));
  }
  memset(device, 0, sizeof(*device));
  device->instance = instance;
  device->index = index;
  device->physical = &instance->physical[index];
  const weft_opencl_physical_t* physical = device->physical;
  const weft_opencl_loader_t* loader = &instance->loader;

  cl_context_properties properties[] = {
      CL_CONTEXT_PLATFORM, (cl_context_properties)physical->platform, 0};
  cl_int error = CL_SUCCESS;
  weft_status_t status = WEFT_OK;
  device->context = loader->clCreateContext(properties, 1, &physical->device, NULL, NULL, &error);
  if (device->context == NULL || error != CL_SUCCESS) {
    device->context = NULL;
    status = weft_opencl_status_from_error(host, error, "clCreateContext('%s')",
                                           physical->caps.name);
  }
  if (status == WEFT_OK) {
    /* No properties: an in-order queue without profiling. The 2.0 call where
     * the device is 2.0+, since 3.0 drivers may drop the deprecated one. */
    if (physical->version >= WEFT_OPENCL_VERSION_2_0 &&
        loader->clCreateCommandQueueWithProperties != NULL) {
      device->queue = loader->clCreateCommandQueueWithProperties(
          device->context, physical->device, NULL, &error);
    } else {
      device->queue = loader->clCreateCommandQueue(device->context, physical->device, 0, &error);
    }
    if (device->queue == NULL || error != CL_SUCCESS) {
      device->queue = NULL;
      status = weft_opencl_status_from_error(host, error, "clCreateCommandQueue('%s')",
                                             physical->caps.name);
    }
  }
  if (status != WEFT_OK) {
    weft_opencl_device_close(device);
    return status;
  }
  host->log(host->host_ctx, WEFT_LOG_LEVEL_DEBUG, "opened device %u '%s'", (unsigned)index,
            physical->caps.name);
  *out_device = device;
  return WEFT_OK;
}

void weft_opencl_device_close(weft_plugin_device_t* device) {
  if (device == NULL) {
    return;
  }
  const weft_opencl_loader_t* loader = &device->instance->loader;
  const weft_host_services_t* host = device->instance->host;
  if (device->queue != NULL) {
    (void)loader->clFinish(device->queue);
  }
  while (device->buffers != NULL) {
    weft_plugin_buffer_t* buffer = device->buffers;
    device->buffers = buffer->next;
    weft_opencl_buffer_release(device, buffer);
  }
  if (device->queue != NULL) {
    (void)loader->clReleaseCommandQueue(device->queue);
  }
  if (device->context != NULL) {
    (void)loader->clReleaseContext(device->context);
  }
  host->free(host->host_ctx, device);
}

weft_status_t weft_opencl_device_op_query(weft_plugin_device_t* device, const weft_node_t* node,
                                          const weft_tensor_desc_t* const* tensors,
                                          uint32_t tensor_count,
                                          weft_op_support_t* out_support) {
  (void)tensors;
  (void)tensor_count;
  if (node == NULL || out_support == NULL) {
    return WEFT_OPENCL_STATUS(device->instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: op_query called without %s",
                              node == NULL ? "a node" : "a result struct");
  }
  weft_op_support_refuse(out_support, node->op,
                         "kernels are not implemented in this plugin yet");
  return WEFT_OK;
}

weft_status_t weft_opencl_device_segment_submit(weft_plugin_device_t* device,
                                                const weft_segment_t* segment,
                                                weft_event_t* const* waits,
                                                uint32_t wait_count, weft_event_t* signal) {
  (void)waits;
  (void)wait_count;
  (void)signal;
  /* Refused before starting, so per the ABI the event is not signalled. */
  return WEFT_OPENCL_STATUS(device->instance->host, WEFT_STATUS_UNIMPLEMENTED,
                            "opencl: segment execution is not implemented in this plugin "
                            "yet (segment of %u nodes on '%s')",
                            segment != NULL ? (unsigned)segment->node_count : 0u,
                            device->physical->caps.name);
}

weft_status_t weft_opencl_device_synchronize(weft_plugin_device_t* device) {
  cl_int error = device->instance->loader.clFinish(device->queue);
  if (error != CL_SUCCESS) {
    return weft_opencl_status_from_error(device->instance->host, error, "clFinish('%s')",
                                         device->physical->caps.name);
  }
  return WEFT_OK;
}

weft_status_t weft_opencl_device_memory_query(weft_plugin_device_t* device, uint64_t* out_free,
                                              uint64_t* out_total) {
  const weft_plugin_instance_t* instance = device->instance;
  if (out_free == NULL || out_total == NULL) {
    return WEFT_OPENCL_STATUS(instance->host, WEFT_STATUS_INVALID_ARGUMENT,
                              "opencl: device_memory_query called without %s",
                              out_free == NULL ? "out_free" : "out_total");
  }
  const weft_opencl_physical_t* physical = device->physical;
  *out_total = physical->caps.memory_total;
  *out_free = physical->caps.memory_free;
  /* Core OpenCL has no free-memory query; AMD's extension does. */
  if (physical->has_amd_free_memory) {
    size_t free_kib[2] = {0, 0};
    if (weft_opencl_device_value(&instance->loader, physical->device,
                                 CL_DEVICE_GLOBAL_FREE_MEMORY_AMD, free_kib,
                                 sizeof(free_kib))) {
      *out_free = (uint64_t)free_kib[0] * 1024u;
    }
  }
  return WEFT_OK;
}
