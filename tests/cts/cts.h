/* The weft conformance suite: op cases and ABI contract checks run against
 * any plugin file (or the built-in reference device) through the plugin ABI
 * alone, with the reference kernels (docs/ops.md) as the oracle.
 *
 * The suite is its own minimal host: it dlopens the plugin, negotiates,
 * hands the plugin a host-services table of its own (a counting allocator,
 * status objects it counts, mutex/condition events), probes, creates the
 * instance, opens devices and drives buffers, op_query and segment_submit
 * directly. Nothing here goes through libweft's runtime; libweft (the static
 * library) contributes the reference kernels and the built-in backend's
 * negotiation entry only.
 *
 * Used by tools/weft-conform (the command-line tool backend authors run) and
 * by tests/cts. docs/writing-a-backend.md, "Checking a backend with
 * weft-conform", explains the output.
 *
 * Thread safety: one cts_run at a time per process is the intended use; a
 * report is owned by its caller. */
#ifndef WEFT_TESTS_CTS_CTS_H_
#define WEFT_TESTS_CTS_CTS_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "weft/abi/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the JSON document weft-conform --json writes. Bumped when a
 * field changes meaning or disappears; adding fields does not bump it. */
#define CTS_JSON_SCHEMA_VERSION 1

/* Exit statuses of weft-conform (cts_report_exit_code). */
#define CTS_EXIT_OK 0          /* nothing failed; skips are fine */
#define CTS_EXIT_FAILED 1      /* a case or a contract check failed */
#define CTS_EXIT_USAGE 2       /* bad command line, or --device out of range */
#define CTS_EXIT_UNAVAILABLE 77 /* the plugin cannot run here (no driver, no
                                   device); nothing that ran failed */

typedef enum cts_mode_t {
  CTS_MODE_QUICK = 0,   /* one case per op and dtype combination */
  CTS_MODE_DEFAULT = 1, /* two cases each, one of them waiting on events */
  CTS_MODE_FULL = 2,    /* eight cases each, larger shapes, repeated ids */
} cts_mode_t;

typedef struct cts_options_t {
  /* The plugin file, or NULL with builtin set: the reference CPU backend
   * built into libweft, loaded through its negotiation entry as a file
   * would be. */
  const char* plugin_path;
  bool builtin;
  int64_t device;       /* only this device index; -1: every device */
  uint64_t seed;        /* every case derives its data from it */
  cts_mode_t mode;
  uint64_t op_mask;     /* bit (1 << op) selects an op; 0: every op */
  bool require_pass;    /* a selected op without one passing case fails */
  /* Progress and the plugin's log lines go here when not NULL. verbose 0:
   * plugin errors only; 1: plugin warnings and one line per failed case;
   * 2: every case. */
  FILE* log;
  int verbose;
} cts_options_t;

/* Defaults: every device, seed 1, default mode, every op. */
void cts_options_init(cts_options_t* out_options);

typedef enum cts_outcome_t {
  CTS_OUTCOME_PASS = 0,
  CTS_OUTCOME_FAIL = 1,
  CTS_OUTCOME_SKIP = 2, /* not applicable here; never counted as passed */
  CTS_OUTCOME_WARN = 3, /* a deviation from docs/abi.md that a host
                           survives; reported, does not fail the run */
} cts_outcome_t;

const char* cts_outcome_name(cts_outcome_t outcome); /* "pass", "fail", ... */

#define CTS_CHECK_NAME_CAP 48
#define CTS_DETAIL_CAP 512

/* One ABI contract check. Names are stable identifiers ("negotiate.host_1_0")
 * listed in docs/writing-a-backend.md. */
typedef struct cts_check_t {
  char name[CTS_CHECK_NAME_CAP];
  cts_outcome_t outcome;
  char detail[CTS_DETAIL_CAP];
} cts_check_t;

typedef struct cts_check_list_t {
  cts_check_t* items;
  size_t count;
  size_t capacity;
} cts_check_list_t;

#define CTS_DTYPES_CAP 48
#define CTS_CASE_ID_CAP 96
/* Failures kept per combination (the count covers all of them). */
#define CTS_FAILURES_KEPT 3

typedef struct cts_failure_t {
  char case_id[CTS_CASE_ID_CAP]; /* "add/f32,f16->f32/#1" */
  char shapes[384];              /* operand shapes, layouts and params */
  char message[CTS_DETAIL_CAP];
} cts_failure_t;

/* The outcome of every case of one op and dtype combination on a device. */
typedef struct cts_combo_result_t {
  uint32_t op;
  char dtypes[CTS_DTYPES_CAP]; /* operands in order, "none" when absent,
                                  then "->" and dst: "q4_0,i32->f32" */
  uint32_t passed;
  uint32_t failed;
  uint32_t skipped;
  char skip_reason[WEFT_REASON_CAP]; /* the plugin's reason (first skip) */
  uint32_t failures_kept;
  cts_failure_t failures[CTS_FAILURES_KEPT];
} cts_combo_result_t;

/* Timing of the executed cases of one op: submit until the signal event. */
typedef struct cts_op_perf_t {
  uint32_t samples;
  double median_us;
  double flops;      /* mul_mat: total floating-point operations */
  double seconds;    /* mul_mat: total time of those cases */
} cts_op_perf_t;

typedef struct cts_device_result_t {
  uint32_t index;
  bool caps_valid;
  weft_device_caps_t caps;
  cts_check_list_t checks;
  cts_combo_result_t* combos;
  size_t combo_count;
  cts_op_perf_t perf[WEFT_OP_COUNT_];
} cts_device_result_t;

typedef struct cts_report_t {
  char plugin_path[1024];
  bool builtin;
  bool loaded;               /* opened and negotiated */
  char plugin_name[64];
  char plugin_version[64];
  uint32_t plugin_abi;       /* info->abi_version */
  uint32_t negotiated;       /* plugin_version answered to this host */
  uint32_t table_size;       /* the table's struct_size */
  bool available;            /* probe and instance_create said yes */
  char unavailable_reason[WEFT_REASON_CAP];
  uint32_t device_count;
  cts_check_list_t checks;   /* plugin-level contract checks */
  cts_device_result_t* devices;
  size_t device_result_count;
  bool usage_error;
  char usage_message[256];
  uint64_t seed;
  cts_mode_t mode;
  uint64_t op_mask;
  bool require_pass;
  double seconds;            /* wall time of the run */
} cts_report_t;

/* Runs the suite as `options` says and fills `out_report` (caller's storage;
 * release with cts_report_deinit). Failures of the plugin end up in the
 * report; false only when the suite itself could not run (out of memory),
 * with a message in `error`. */
bool cts_run(const cts_options_t* options, cts_report_t* out_report, char* error,
             size_t error_cap);

void cts_report_deinit(cts_report_t* report);

/* Totals over the report. */
typedef struct cts_totals_t {
  uint64_t cases_passed, cases_failed, cases_skipped;
  uint64_t checks_passed, checks_failed, checks_skipped, checks_warned;
  uint64_t ops_without_pass; /* selected ops with no passing case */
} cts_totals_t;
cts_totals_t cts_report_totals(const cts_report_t* report);

/* CTS_EXIT_*: usage error, else any failure, else unavailable, else OK. */
int cts_report_exit_code(const cts_report_t* report);

/* "quick", "default", "full". */
const char* cts_mode_name(cts_mode_t mode);

/* The op id for a name of docs/ops.md ("mul_mat"), or 0 when unknown. */
uint32_t cts_op_from_name(const char* name);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* WEFT_TESTS_CTS_CTS_H_ */
