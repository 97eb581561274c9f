/* The zoo: plugins that are broken in one way each, for the loader tests.
 *
 * The healthy parts they share live in zoo_common.c: a plugin table whose
 * device is plain host memory (allocate/free/map/upload/download/copy/fill),
 * answers op_query with "unsupported" and runs only empty segments. Each zoo
 * member is one small file that defines `zoo_spec` (who it is, what its probe
 * says, what its device reports) and its own weft_plugin_negotiate, which is
 * where most of them misbehave.
 *
 * Builds against abi/ alone, like any out-of-tree plugin. */
#ifndef WEFT_TESTS_ZOO_ZOO_COMMON_H_
#define WEFT_TESTS_ZOO_ZOO_COMMON_H_

#include <stddef.h>
#include <stdint.h>

#include "weft/abi.h"

typedef enum zoo_probe_mode_t {
  ZOO_PROBE_AVAILABLE = 0,
  ZOO_PROBE_UNAVAILABLE = 1, /* WEFT_OK, available = 0, reason = probe_text  */
  ZOO_PROBE_ERROR = 2,       /* status_make(probe_code, "%s", probe_text)     */
} zoo_probe_mode_t;

typedef struct zoo_spec_t {
  weft_plugin_info_t info;
  /* 0: built against ABI 1.0 (table ends before device_memory_query, never
   * touches host->env_get). 1: ABI 1.1. */
  uint32_t abi_minor;

  zoo_probe_mode_t probe_mode;
  uint32_t probe_code;     /* ZOO_PROBE_ERROR */
  const char* probe_text;  /* reason or error message */
  /* When set and the host (ABI >= 1.1) reports this variable as "1" through
   * env_get, an UNAVAILABLE probe turns available: checks that env_get
   * reaches plugins and honours WEFT_RUNTIME_FLAG_IGNORE_ENV. */
  const char* probe_enable_env;

  uint32_t device_count;
  uint32_t device_type;   /* weft_device_type_t */
  int32_t device_score;
  uint32_t device_flags;  /* WEFT_DEVICE_FLAG_* */
  uint8_t device_uuid[16];
  const char* device_name;
  uint64_t memory_total;
  /* Free bytes reported in the capability record. An ABI 1.1 zoo device
   * answers device_memory_query live: memory_free minus what its buffers use;
   * an ABI 1.0 one cannot, and the host falls back to this value. */
  uint64_t memory_free;
} zoo_spec_t;

/* Defined by each zoo member. */
extern const zoo_spec_t zoo_spec;

/* The table for zoo_spec: its struct_size covers ABI 1.1 when abi_minor is 1
 * and ends at offsetof(device_memory_query) when it is 0. */
const weft_plugin_interface_t* zoo_interface(void);

/* Copies `text` into a fixed-size reason buffer, NUL-terminated, truncated;
 * negotiate may not allocate, so no snprintf into heap memory. */
void zoo_copy_text(char* dst, size_t cap, const char* text);

#endif /* WEFT_TESTS_ZOO_ZOO_COMMON_H_ */
