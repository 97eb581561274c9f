/* A conformance run: load the plugin, the plugin-level contract checks, the
 * instance, every selected device (its checks and op cases), teardown and
 * what it left behind. See cts.h. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_ref/cpu_ref.h" /* weft__cpu_ref_negotiate: the built-in backend */
#include "cts_internal.h"

/* More devices than this is taken as a broken plugin (docs/abi.md, 11). */
#define CTS_MAX_DEVICES 4096u

void cts_options_init(cts_options_t* out_options) {
  memset(out_options, 0, sizeof(*out_options));
  out_options->device = -1;
  out_options->seed = 1;
  out_options->mode = CTS_MODE_DEFAULT;
}

const char* cts_outcome_name(cts_outcome_t outcome) {
  switch (outcome) {
    case CTS_OUTCOME_PASS: return "pass";
    case CTS_OUTCOME_FAIL: return "fail";
    case CTS_OUTCOME_SKIP: return "skip";
    case CTS_OUTCOME_WARN: return "warn";
    default: return "unknown";
  }
}

const char* cts_mode_name(cts_mode_t mode) {
  switch (mode) {
    case CTS_MODE_QUICK: return "quick";
    case CTS_MODE_FULL: return "full";
    default: return "default";
  }
}

uint32_t cts_op_from_name(const char* name) {
  for (uint32_t op = 1; op < WEFT_OP_COUNT_; ++op) {
    if (strcmp(weft_op_name(op), name) == 0) return op;
  }
  return 0;
}

const char* cts_code_name(uint32_t code) {
  switch (code) {
#define CTS_CODE_NAME_(name, value, text) \
  case value:                             \
    return #name;
    WEFT_STATUS_CODE_LIST(CTS_CODE_NAME_)
#undef CTS_CODE_NAME_
    default:
      return "UNKNOWN_CODE";
  }
}

bool cts_check_add(cts_check_list_t* list, const char* name, cts_outcome_t outcome,
                   const char* format, ...) {
  if (list->count == list->capacity) {
    const size_t capacity = list->capacity == 0 ? 32 : list->capacity * 2;
    cts_check_t* items = (cts_check_t*)realloc(list->items, capacity * sizeof(*items));
    if (items == NULL) return false;
    list->items = items;
    list->capacity = capacity;
  }
  cts_check_t* check = &list->items[list->count++];
  memset(check, 0, sizeof(*check));
  snprintf(check->name, sizeof(check->name), "%s", name);
  check->outcome = outcome;
  va_list args;
  va_start(args, format);
  vsnprintf(check->detail, sizeof(check->detail), format, args);
  va_end(args);
  return true;
}

void cts_logf(const cts_options_t* options, int level, const char* format, ...) {
  if (options->log == NULL || options->verbose < level) return;
  va_list args;
  va_start(args, format);
  vfprintf(options->log, format, args);
  va_end(args);
  fputc('\n', options->log);
  fflush(options->log);
}

/* ---- loading ---- */

bool cts_plugin_open(const char* path, cts_plugin_t* out_plugin, char* error, size_t error_cap) {
  memset(out_plugin, 0, sizeof(*out_plugin));
  dlerror();
  void* library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    const char* why = dlerror();
    snprintf(error, error_cap, "dlopen failed: %s", why != NULL ? why : "(no reason)");
    return false;
  }
  void* entry = dlsym(library, WEFT_PLUGIN_ENTRY_SYMBOL);
  if (entry == NULL) {
    snprintf(error, error_cap, "the file does not export %s", WEFT_PLUGIN_ENTRY_SYMBOL);
    dlclose(library);
    return false;
  }
  out_plugin->library = library;
  /* POSIX: a data pointer from dlsym converts to a function pointer. */
  memcpy(&out_plugin->negotiate, &entry, sizeof(entry));
  return true;
}

void cts_plugin_open_builtin(cts_plugin_t* out_plugin) {
  memset(out_plugin, 0, sizeof(*out_plugin));
  out_plugin->negotiate = weft__cpu_ref_negotiate;
  out_plugin->builtin = true;
}

void cts_plugin_close(cts_plugin_t* plugin) {
  if (plugin->library != NULL) dlclose(plugin->library);
  memset(plugin, 0, sizeof(*plugin));
}

/* ---- the run ---- */

static void cts_instance_phase(const cts_options_t* options, cts_report_t* report,
                               cts_host_t* host, const weft_plugin_interface_t* table,
                               const cts_combo_def_t* combos, size_t combo_count,
                               bool* out_ok, char* error, size_t error_cap) {
  *out_ok = true;
  char message[384];
  weft_plugin_instance_t* instance = NULL;
  uint32_t code = cts_host_status_take(host, table->instance_create(&host->services, &instance),
                                       message, sizeof(message));
  if (code == WEFT_STATUS_UNAVAILABLE) {
    report->available = false;
    snprintf(report->unavailable_reason, sizeof(report->unavailable_reason),
             "instance_create: %.230s", message);
    cts_check_add(&report->checks, "instance.create", CTS_OUTCOME_SKIP,
                  "UNAVAILABLE (the plugin cannot run here): %s", message);
    return;
  }
  if (code != WEFT_STATUS_OK || instance == NULL) {
    cts_check_add(&report->checks, "instance.create", CTS_OUTCOME_FAIL,
                  "instance_create failed: %s: %s", cts_code_name(code),
                  instance == NULL && code == WEFT_STATUS_OK ? "OK without an instance"
                                                              : message);
    return;
  }
  cts_check_add(&report->checks, "instance.create", CTS_OUTCOME_PASS, "instance created");
  const uint32_t count = table->device_count(instance);
  report->device_count = count;
  if (count > CTS_MAX_DEVICES) {
    cts_check_add(&report->checks, "instance.device_count", CTS_OUTCOME_FAIL,
                  "%u devices, more than %u: a broken count", count, CTS_MAX_DEVICES);
  } else if (count == 0) {
    report->available = false;
    snprintf(report->unavailable_reason, sizeof(report->unavailable_reason),
             "the instance has no devices");
    cts_check_add(&report->checks, "instance.device_count", CTS_OUTCOME_SKIP, "no devices here");
  } else if (options->device >= (int64_t)count) {
    report->usage_error = true;
    snprintf(report->usage_message, sizeof(report->usage_message),
             "--device %lld is out of range: the plugin has %u device%s",
             (long long)options->device, count, count == 1 ? "" : "s");
  } else {
    cts_check_add(&report->checks, "instance.device_count", CTS_OUTCOME_PASS, "%u device%s",
                  count, count == 1 ? "" : "s");
    const size_t selected = options->device >= 0 ? 1 : count;
    report->devices = (cts_device_result_t*)calloc(selected, sizeof(cts_device_result_t));
    if (report->devices == NULL) {
      snprintf(error, error_cap, "out of memory for %zu device results", selected);
      *out_ok = false;
    } else {
      report->device_result_count = selected;
      for (size_t k = 0; k < selected; ++k) {
        report->devices[k].index = options->device >= 0 ? (uint32_t)options->device : (uint32_t)k;
      }
      cts_contract_devices(options, report, host, table, instance);
      for (size_t k = 0; k < selected && *out_ok; ++k) {
        cts_device_result_t* r = &report->devices[k];
        weft_plugin_device_t* device = NULL;
        code = cts_host_status_take(host, table->device_open(instance, r->index, &device),
                                    message, sizeof(message));
        if (code != WEFT_STATUS_OK || device == NULL) {
          cts_check_add(&r->checks, "device.open",
                        code == WEFT_STATUS_UNAVAILABLE ? CTS_OUTCOME_SKIP : CTS_OUTCOME_FAIL,
                        "device_open(%u) failed: %s: %s", r->index, cts_code_name(code),
                        message);
          continue;
        }
        cts_check_add(&r->checks, "device.open", CTS_OUTCOME_PASS, "device %u opened", r->index);
        cts_logf(options, 1, "device %u: %s", r->index, r->caps_valid ? r->caps.name : "?");
        cts_device_ctx_t ctx = {options, host, table, device, r, combos, combo_count};
        cts_contract_device(&ctx);
        if (!cts_ops_run(&ctx, error, error_cap)) *out_ok = false;
        table->device_close(device);
      }
    }
  }
  /* NULL handles are no-ops (docs/abi.md section 6). */
  table->device_close(NULL);
  table->instance_destroy(NULL);
  table->instance_destroy(instance);
  cts_check_add(&report->checks, "null_handles", CTS_OUTCOME_PASS,
                "buffer_free, device_close and instance_destroy accept NULL");
}

bool cts_run(const cts_options_t* options, cts_report_t* out_report, char* error,
             size_t error_cap) {
  cts_report_t* report = out_report;
  memset(report, 0, sizeof(*report));
  report->builtin = options->builtin;
  report->seed = options->seed;
  report->mode = options->mode;
  report->op_mask = options->op_mask;
  report->require_pass = options->require_pass;
  snprintf(report->plugin_path, sizeof(report->plugin_path), "%s",
           options->builtin ? "(built in)" : options->plugin_path != NULL ? options->plugin_path
                                                                          : "");
  const uint64_t start = cts_now_ns();
  if (error != NULL && error_cap > 0) error[0] = '\0';

  const size_t combo_count = cts_combos_build(NULL, 0);
  cts_combo_def_t* combos = (cts_combo_def_t*)calloc(combo_count, sizeof(*combos));
  if (combos == NULL) {
    snprintf(error, error_cap, "out of memory for %zu op combinations", combo_count);
    return false;
  }
  cts_combos_build(combos, combo_count);

  cts_plugin_t plugin;
  char message[512];
  if (options->builtin) {
    cts_plugin_open_builtin(&plugin);
  } else if (options->plugin_path == NULL ||
             !cts_plugin_open(options->plugin_path, &plugin, message, sizeof(message))) {
    cts_check_add(&report->checks, "load", CTS_OUTCOME_FAIL, "%s: %s",
                  options->plugin_path != NULL ? options->plugin_path : "(no path)",
                  options->plugin_path != NULL ? message : "no plugin given");
    free(combos);
    report->seconds = (double)(cts_now_ns() - start) * 1e-9;
    return true;
  }
  cts_check_add(&report->checks, "load", CTS_OUTCOME_PASS, "%s",
                options->builtin ? "the reference CPU backend built into libweft"
                                 : "dlopen(RTLD_NOW | RTLD_LOCAL) and weft_plugin_negotiate found");

  cts_host_t* host = (cts_host_t*)malloc(sizeof(cts_host_t));
  if (host == NULL) {
    snprintf(error, error_cap, "out of memory for the host");
    cts_plugin_close(&plugin);
    free(combos);
    return false;
  }
  cts_host_init(host, WEFT_ABI_VERSION, options->log, options->verbose);
  bool ok = true;
  bool available = false;
  const weft_plugin_interface_t* table =
      cts_contract_plugin(&plugin, options, report, host, &available);
  if (table != NULL && available) {
    report->available = true;
    cts_contract_old_host(&plugin, options, report);
    /* Negotiate once more as this host: the last answer is the one a
     * plugin that keeps state from negotiation goes by. */
    weft_negotiation_t n;
    memset(&n, 0, sizeof(n));
    n.struct_size = (uint32_t)sizeof(n);
    n.host_version = WEFT_ABI_VERSION;
    n.host_min_version = WEFT_ABI_MAKE_VERSION(1, 0);
    if (plugin.negotiate(&n) == 0 && n.plugin != NULL) table = n.plugin;
    cts_instance_phase(options, report, host, table, combos, combo_count, &ok, error, error_cap);
  }
  if (table != NULL) cts_contract_leaks(report, host, "");
  cts_host_deinit(host);
  free(host);
  cts_plugin_close(&plugin);
  free(combos);
  report->seconds = (double)(cts_now_ns() - start) * 1e-9;
  return ok;
}

void cts_report_deinit(cts_report_t* report) {
  free(report->checks.items);
  for (size_t k = 0; k < report->device_result_count; ++k) {
    free(report->devices[k].checks.items);
    free(report->devices[k].combos);
  }
  free(report->devices);
  memset(report, 0, sizeof(*report));
}

static void cts_totals_checks(const cts_check_list_t* list, cts_totals_t* t) {
  for (size_t i = 0; i < list->count; ++i) {
    switch (list->items[i].outcome) {
      case CTS_OUTCOME_PASS: t->checks_passed++; break;
      case CTS_OUTCOME_FAIL: t->checks_failed++; break;
      case CTS_OUTCOME_SKIP: t->checks_skipped++; break;
      case CTS_OUTCOME_WARN: t->checks_warned++; break;
    }
  }
}

cts_totals_t cts_report_totals(const cts_report_t* report) {
  cts_totals_t t;
  memset(&t, 0, sizeof(t));
  cts_totals_checks(&report->checks, &t);
  uint32_t passed_per_op[WEFT_OP_COUNT_] = {0};
  for (size_t k = 0; k < report->device_result_count; ++k) {
    const cts_device_result_t* d = &report->devices[k];
    cts_totals_checks(&d->checks, &t);
    for (size_t i = 0; i < d->combo_count; ++i) {
      t.cases_passed += d->combos[i].passed;
      t.cases_failed += d->combos[i].failed;
      t.cases_skipped += d->combos[i].skipped;
      passed_per_op[d->combos[i].op] += d->combos[i].passed;
    }
  }
  if (report->available && report->device_result_count > 0) {
    for (uint32_t op = 1; op < WEFT_OP_COUNT_; ++op) {
      const bool selected = report->op_mask == 0 || (report->op_mask >> op) & 1u;
      if (selected && passed_per_op[op] == 0) t.ops_without_pass++;
    }
  }
  return t;
}

int cts_report_exit_code(const cts_report_t* report) {
  if (report->usage_error) return CTS_EXIT_USAGE;
  const cts_totals_t t = cts_report_totals(report);
  if (t.cases_failed > 0 || t.checks_failed > 0) return CTS_EXIT_FAILED;
  if (report->require_pass && t.ops_without_pass > 0) return CTS_EXIT_FAILED;
  if (!report->loaded) return CTS_EXIT_FAILED;
  if (!report->available) return CTS_EXIT_UNAVAILABLE;
  return CTS_EXIT_OK;
}
