/* weft plugin ABI: device capability records and buffers. */
#ifndef WEFT_ABI_DEVICE_H_
#define WEFT_ABI_DEVICE_H_

#include <stddef.h>
#include <stdint.h>

#include "weft/abi/ext.h"

typedef enum weft_device_type_t {
  WEFT_DEVICE_TYPE_CPU = 0,
  WEFT_DEVICE_TYPE_GPU = 1,            /* discrete GPU */
  WEFT_DEVICE_TYPE_INTEGRATED_GPU = 2, /* shares memory with the CPU */
  WEFT_DEVICE_TYPE_ACCELERATOR = 3,    /* NPU, DSP, ... */
  WEFT_DEVICE_TYPE_VIRTUAL = 4,        /* software implementation of a GPU API */
} weft_device_type_t;

/* weft_device_caps_t.flags */
#define WEFT_DEVICE_FLAG_HAS_UUID        (1u << 0) /* uuid[] is meaningful */
#define WEFT_DEVICE_FLAG_UNIFIED_MEMORY  (1u << 1) /* device memory is host memory */
#define WEFT_DEVICE_FLAG_HOST_VISIBLE_LOCAL (1u << 2) /* device-local memory can be mapped */
#define WEFT_DEVICE_FLAG_ASYNC           (1u << 3) /* submit returns before completion */

/* weft_device_caps_t.features: arithmetic and instruction features. */
#define WEFT_DEVICE_FEATURE_FP16_ARITH   (1ull << 0)
#define WEFT_DEVICE_FEATURE_BF16_ARITH   (1ull << 1)
#define WEFT_DEVICE_FEATURE_INT8_DOT     (1ull << 2)
#define WEFT_DEVICE_FEATURE_SUBGROUPS    (1ull << 3)
#define WEFT_DEVICE_FEATURE_COOP_MATRIX  (1ull << 4)
#define WEFT_DEVICE_FEATURE_INT8_MATMUL  (1ull << 5)

#define WEFT_DEVICE_NAME_CAP 128
#define WEFT_DEVICE_TEXT_CAP 64
#define WEFT_DEVICE_FEATURES_TEXT_CAP 256

/* Filled in by a plugin into storage the host owns. The host sets struct_size
 * (and zeroes the rest) before the call; the plugin writes only members that lie
 * inside both its own and the host's size. Strings are NUL-terminated and
 * truncated to fit. */
typedef struct weft_device_caps_t {
  uint32_t struct_size;
  uint32_t type;        /* weft_device_type_t */
  const weft_ext_header_t* next;
  char name[WEFT_DEVICE_NAME_CAP];       /* "NVIDIA H100 80GB HBM3"           */
  char vendor[WEFT_DEVICE_TEXT_CAP];     /* "NVIDIA"                          */
  char driver[WEFT_DEVICE_TEXT_CAP];     /* driver name and version           */
  char stable_id[WEFT_DEVICE_TEXT_CAP];  /* "pci:0000:01:00.0", "cpu:host"    */
  uint8_t uuid[16];     /* same bytes as Vulkan deviceUUID / CUDA / OpenCL UUID */
  uint32_t flags;       /* WEFT_DEVICE_FLAG_* */
  uint32_t vendor_id;   /* PCI vendor id, 0 when not applicable */
  uint32_t device_id;   /* PCI device id, 0 when not applicable */
  uint32_t compute_units;
  uint64_t memory_total; /* bytes usable for buffers */
  uint64_t memory_free;  /* bytes free at query time, 0 if unknown */
  uint64_t dtypes;       /* WEFT_DTYPE_BIT of every dtype the device can store and compute with */
  uint64_t features;     /* WEFT_DEVICE_FEATURE_* */
  char features_text[WEFT_DEVICE_FEATURES_TEXT_CAP]; /* "avx2 fma f16c", "sm_90" */
  int32_t score;         /* higher is preferred; see docs/abi.md "Scores" */
  uint32_t reserved0;
} weft_device_caps_t;

typedef enum weft_memory_type_t {
  WEFT_MEMORY_TYPE_DEVICE_LOCAL = 0, /* fastest for the device; maybe not mappable */
  WEFT_MEMORY_TYPE_HOST_VISIBLE = 1, /* mappable by the host (staging, unified) */
} weft_memory_type_t;

typedef struct weft_buffer_params_t {
  uint32_t struct_size;
  uint32_t memory_type; /* weft_memory_type_t */
  const weft_ext_header_t* next;
  uint64_t size;        /* bytes, > 0 */
  uint64_t alignment;   /* 0: the device's default (at least 64) */
} weft_buffer_params_t;

/* For plugins: answers device_query_caps from a complete record the plugin
 * keeps. Copies the members both sides know (the smaller of the two sizes)
 * and leaves the host's struct_size and extension chain as they were. */
static inline void weft_device_caps_write(weft_device_caps_t* inout_caps,
                                          const weft_device_caps_t* caps) {
  uint32_t host_size = inout_caps->struct_size;
  const weft_ext_header_t* next = inout_caps->next;
  size_t size = host_size < sizeof(*caps) ? host_size : sizeof(*caps);
  const unsigned char* from = (const unsigned char*)caps;
  unsigned char* to = (unsigned char*)inout_caps;
  for (size_t i = 0; i < size; ++i) to[i] = from[i];
  inout_caps->struct_size = host_size;
  if (host_size >= offsetof(weft_device_caps_t, next) + sizeof(next)) {
    inout_caps->next = next;
  }
}

#endif /* WEFT_ABI_DEVICE_H_ */
