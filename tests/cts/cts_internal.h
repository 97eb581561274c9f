/* Shared between the parts of the conformance suite: the loaded plugin,
 * the per-device context, check bookkeeping and the two halves of a run
 * (contract checks in cts_contract.c, op cases in cts_ops.c). Not part of
 * the suite's API (cts.h). */
#ifndef WEFT_TESTS_CTS_CTS_INTERNAL_H_
#define WEFT_TESTS_CTS_CTS_INTERNAL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cts.h"
#include "cts_cases.h"
#include "cts_host.h"
#include "weft/abi/plugin.h"

/* A member of the plugin's table may be called only when it lies inside the
 * table's struct_size and is not NULL (docs/abi.md, section 6). Reads
 * nothing past struct_size, so a 1.0 table's 160 bytes are never overrun. */
#define CTS_HAS(table, member)                                         \
  (WEFT_ABI_HAS_MEMBER((table), weft_plugin_interface_t, member) && \
   (table)->member != NULL)

/* ABI 1.0's sizes (docs/abi.md, LP64): the plugin table ended before
 * device_memory_query; the output records have not grown since, which the
 * asserts below keep true until one does (then its 1.0 size stays here). */
#define CTS_TABLE_SIZE_1_0 160u
#define CTS_CAPS_SIZE_1_0 664u
#define CTS_PROBE_SIZE_1_0 272u
#define CTS_SUPPORT_SIZE_1_0 264u
_Static_assert(offsetof(weft_plugin_interface_t, device_memory_query) == CTS_TABLE_SIZE_1_0,
               "ABI 1.0's table ends at device_memory_query");
_Static_assert(sizeof(weft_device_caps_t) == CTS_CAPS_SIZE_1_0 &&
                   sizeof(weft_probe_result_t) == CTS_PROBE_SIZE_1_0 &&
                   sizeof(weft_op_support_t) == CTS_SUPPORT_SIZE_1_0,
               "an output record grew: the suite's newer-host cases need a look");

typedef struct cts_plugin_t {
  void* library; /* dlopen handle; NULL for the built-in backend */
  weft_plugin_negotiate_fn negotiate;
  bool builtin;
} cts_plugin_t;

/* Opens a plugin file (RTLD_NOW | RTLD_LOCAL) and finds its entry point. */
bool cts_plugin_open(const char* path, cts_plugin_t* out_plugin, char* error, size_t error_cap);
/* The reference CPU backend built into libweft. */
void cts_plugin_open_builtin(cts_plugin_t* out_plugin);
void cts_plugin_close(cts_plugin_t* plugin);

/* Everything the device-level checks and the op cases need. */
typedef struct cts_device_ctx_t {
  const cts_options_t* options;
  cts_host_t* host;
  const weft_plugin_interface_t* table;
  weft_plugin_device_t* device;
  cts_device_result_t* result;
  const cts_combo_def_t* combos;
  size_t combo_count;
} cts_device_ctx_t;

/* Appends a check; false only when out of memory. */
bool cts_check_add(cts_check_list_t* list, const char* name, cts_outcome_t outcome,
                   const char* format, ...) __attribute__((format(printf, 4, 5)));

/* "INVALID_ARGUMENT". */
const char* cts_code_name(uint32_t code);

/* Progress lines, when options->log is set. */
void cts_logf(const cts_options_t* options, int level, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- cts_contract.c ---- */

/* Negotiation with hosts of other versions, the table, and probe. Returns the
 * table a host of these headers gets (NULL when the plugin refuses it; the
 * failure is in the report). */
const weft_plugin_interface_t* cts_contract_plugin(const cts_plugin_t* plugin,
                                                   const cts_options_t* options,
                                                   cts_report_t* report, cts_host_t* host,
                                                   bool* out_available);
/* A whole life (probe .. instance_destroy) under a host that speaks 1.0,
 * whose services table ends before env_get. */
void cts_contract_old_host(const cts_plugin_t* plugin, const cts_options_t* options,
                           cts_report_t* report);
/* Capability records of every device, out-of-range indices. */
void cts_contract_devices(const cts_options_t* options, cts_report_t* report, cts_host_t* host,
                          const weft_plugin_interface_t* table,
                          weft_plugin_instance_t* instance);
/* Buffers, op_query records, events and synchronisation on an open device. */
void cts_contract_device(cts_device_ctx_t* ctx);
/* After instance_destroy: allocations, statuses, host-table traps. */
void cts_contract_leaks(cts_report_t* report, cts_host_t* host, const char* prefix);

/* ---- cts_ops.c ---- */

/* Every selected op case on the device; results into ctx->result. False
 * only when out of memory. */
bool cts_ops_run(cts_device_ctx_t* ctx, char* error, size_t error_cap);

#endif /* WEFT_TESTS_CTS_CTS_INTERNAL_H_ */
