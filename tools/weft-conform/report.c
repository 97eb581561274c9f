/* weft-conform: the text matrix and the JSON document (see report.h). */
#include "report.h"

#include <inttypes.h>
#include <string.h>

#include "json_writer.h"
#include "weft/abi/op.h"

#ifndef WEFT_CONFORM_VERSION
#define WEFT_CONFORM_VERSION "unknown"
#endif

static const char* conform_type_name(uint32_t type) {
  static const char* const kNames[] = {"cpu", "gpu", "integrated-gpu", "accelerator", "virtual"};
  return type < sizeof(kNames) / sizeof(kNames[0]) ? kNames[type] : "unknown";
}

static const char* conform_result_word(int exit_code) {
  switch (exit_code) {
    case CTS_EXIT_OK: return "PASS";
    case CTS_EXIT_UNAVAILABLE: return "UNAVAILABLE";
    case CTS_EXIT_USAGE: return "USAGE ERROR";
    default: return "FAIL";
  }
}

static bool conform_op_selected(const cts_report_t* report, uint32_t op) {
  return report->op_mask == 0 || (report->op_mask >> op) & 1u;
}

/* ---- text ---- */

static void conform_text_checks(FILE* out, const cts_check_list_t* list, const char* indent) {
  for (size_t i = 0; i < list->count; ++i) {
    const cts_check_t* c = &list->items[i];
    fprintf(out, "%s%-4s  %-30s %s\n", indent,
            c->outcome == CTS_OUTCOME_FAIL ? "FAIL" : cts_outcome_name(c->outcome), c->name,
            c->detail);
  }
}

/* Combinations [first, end) of one op. */
static void conform_text_op(FILE* out, const cts_device_result_t* d, size_t first, size_t end,
                            int verbose) {
  const uint32_t op = d->combos[first].op;
  uint32_t passed = 0, failed = 0, skipped = 0;
  bool same_reason = true;
  for (size_t i = first; i < end; ++i) {
    passed += d->combos[i].passed;
    failed += d->combos[i].failed;
    skipped += d->combos[i].skipped;
    if (strcmp(d->combos[i].skip_reason, d->combos[first].skip_reason) != 0) same_reason = false;
  }
  if (verbose == 0 && passed == 0 && failed == 0 && same_reason) {
    char label[48];
    snprintf(label, sizeof(label), "(all %zu)", end - first);
    fprintf(out, "    %-11s %-26s %5u %5u %5u  skip: %s\n", weft_op_name(op), label, passed,
            failed, skipped, d->combos[first].skip_reason);
    return;
  }
  for (size_t i = first; i < end; ++i) {
    const cts_combo_result_t* c = &d->combos[i];
    const char* note = "";
    const char* text = "";
    if (c->failed > 0) {
      note = "FAIL: ";
      text = c->failures_kept > 0 ? c->failures[0].message : "";
    } else if (c->skipped > 0) {
      note = "skip: ";
      text = c->skip_reason;
    }
    fprintf(out, "    %-11s %-26s %5u %5u %5u%s%s%s\n", i == first ? weft_op_name(op) : "",
            c->dtypes, c->passed, c->failed, c->skipped, note[0] != '\0' ? "  " : "", note,
            text);
  }
}

void conform_report_text(FILE* out, const cts_report_t* report, int verbose) {
  const cts_totals_t totals = cts_report_totals(report);
  const int exit_code = cts_report_exit_code(report);
  fprintf(out, "weft-conform %s\n", WEFT_CONFORM_VERSION);
  if (report->loaded) {
    fprintf(out, "plugin   %s %s (%s), built for ABI %u.%u, negotiated %u.%u, table %u bytes\n",
            report->plugin_name, report->plugin_version,
            report->builtin ? "built into libweft" : report->plugin_path,
            (unsigned)WEFT_ABI_VERSION_MAJOR_OF(report->plugin_abi),
            (unsigned)WEFT_ABI_VERSION_MINOR_OF(report->plugin_abi),
            (unsigned)WEFT_ABI_VERSION_MAJOR_OF(report->negotiated),
            (unsigned)WEFT_ABI_VERSION_MINOR_OF(report->negotiated), report->table_size);
  } else {
    fprintf(out, "plugin   %s (not loaded)\n", report->plugin_path);
  }
  fprintf(out, "run      seed %" PRIu64 ", mode %s, %s\n", report->seed,
          cts_mode_name(report->mode), report->op_mask == 0 ? "every op" : "selected ops");

  fprintf(out, "\nContract checks: plugin\n");
  conform_text_checks(out, &report->checks, "  ");
  if (!report->available && report->loaded) {
    fprintf(out, "\nUnavailable here: %s\n", report->unavailable_reason);
  }
  for (size_t k = 0; k < report->device_result_count; ++k) {
    const cts_device_result_t* d = &report->devices[k];
    fprintf(out, "\nDevice %u: %s (%s, score %d)\n", d->index,
            d->caps_valid ? d->caps.name : "(no capability record)",
            d->caps_valid ? conform_type_name(d->caps.type) : "?",
            d->caps_valid ? (int)d->caps.score : 0);
    fprintf(out, "  Contract checks\n");
    conform_text_checks(out, &d->checks, "    ");
    if (d->combo_count == 0) continue;
    fprintf(out, "  Op matrix (cases per op and dtype combination: operands -> dst)\n");
    fprintf(out, "    %-11s %-26s %5s %5s %5s  %s\n", "op", "dtypes", "pass", "fail", "skip",
            "note");
    for (size_t first = 0; first < d->combo_count;) {
      size_t end = first;
      while (end < d->combo_count && d->combos[end].op == d->combos[first].op) ++end;
      conform_text_op(out, d, first, end, verbose);
      first = end;
    }
    bool any_perf = false;
    for (uint32_t op = 1; op < WEFT_OP_COUNT_; ++op) any_perf |= d->perf[op].samples > 0;
    if (any_perf) {
      fprintf(out, "  Performance (segment_submit to signal, median over passing cases without waits)\n");
      for (uint32_t op = 1; op < WEFT_OP_COUNT_; ++op) {
        const cts_op_perf_t* p = &d->perf[op];
        if (p->samples == 0) continue;
        fprintf(out, "    %-11s %4u cases  median %10.1f us", weft_op_name(op), p->samples,
                p->median_us);
        if (p->flops > 0 && p->seconds > 0) {
          fprintf(out, "  %8.3f GFLOP/s", p->flops / p->seconds * 1e-9);
        }
        fputc('\n', out);
      }
    }
    bool any_failure = false;
    for (size_t i = 0; i < d->combo_count; ++i) any_failure |= d->combos[i].failed > 0;
    if (any_failure) {
      fprintf(out, "  Failures (reproduce with --seed %" PRIu64 " --op <op>; up to %d per row)\n",
              report->seed, CTS_FAILURES_KEPT);
      for (size_t i = 0; i < d->combo_count; ++i) {
        const cts_combo_result_t* c = &d->combos[i];
        for (uint32_t f = 0; f < c->failures_kept; ++f) {
          fprintf(out, "    FAIL %s: %s\n         %s\n", c->failures[f].case_id,
                  c->failures[f].message, c->failures[f].shapes);
        }
      }
    }
  }
  if (report->require_pass && totals.ops_without_pass > 0) {
    fprintf(out, "\n--require-pass: %" PRIu64 " selected op(s) without a passing case:",
            totals.ops_without_pass);
    uint32_t passed[WEFT_OP_COUNT_] = {0};
    for (size_t k = 0; k < report->device_result_count; ++k) {
      for (size_t i = 0; i < report->devices[k].combo_count; ++i) {
        passed[report->devices[k].combos[i].op] += report->devices[k].combos[i].passed;
      }
    }
    for (uint32_t op = 1; op < WEFT_OP_COUNT_; ++op) {
      if (conform_op_selected(report, op) && passed[op] == 0) fprintf(out, " %s", weft_op_name(op));
    }
    fputc('\n', out);
  }
  if (report->usage_error) fprintf(out, "\n%s\n", report->usage_message);
  fprintf(out,
          "\nSummary: contract checks %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64
          " warned, %" PRIu64 " skipped; op cases %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64
          " skipped (%.1f s)\n",
          totals.checks_passed, totals.checks_failed, totals.checks_warned, totals.checks_skipped,
          totals.cases_passed, totals.cases_failed, totals.cases_skipped, report->seconds);
  fprintf(out, "Result: %s (exit %d)\n", conform_result_word(exit_code), exit_code);
}

/* ---- JSON ---- */

static void conform_json_version(weft_json_writer_t* w, const char* key, uint32_t version) {
  char text[16];
  snprintf(text, sizeof(text), "%u.%u", (unsigned)WEFT_ABI_VERSION_MAJOR_OF(version),
           (unsigned)WEFT_ABI_VERSION_MINOR_OF(version));
  weft_json_member_string(w, key, text);
}

static void conform_json_checks(weft_json_writer_t* w, const cts_check_list_t* list) {
  weft_json_key(w, "checks");
  weft_json_array_begin(w);
  for (size_t i = 0; i < list->count; ++i) {
    weft_json_object_begin(w);
    weft_json_member_string(w, "name", list->items[i].name);
    weft_json_member_string(w, "result", cts_outcome_name(list->items[i].outcome));
    weft_json_member_string(w, "detail", list->items[i].detail);
    weft_json_object_end(w);
  }
  weft_json_array_end(w);
}

static void conform_json_device(weft_json_writer_t* w, const cts_device_result_t* d) {
  weft_json_object_begin(w);
  weft_json_member_uint(w, "index", d->index);
  if (d->caps_valid) {
    weft_json_member_string(w, "name", d->caps.name);
    weft_json_member_string(w, "type", conform_type_name(d->caps.type));
    weft_json_member_int(w, "score", d->caps.score);
  } else {
    weft_json_member_null(w, "name");
    weft_json_member_null(w, "type");
    weft_json_member_null(w, "score");
  }
  conform_json_checks(w, &d->checks);
  weft_json_key(w, "ops");
  weft_json_array_begin(w);
  for (size_t first = 0; first < d->combo_count;) {
    const uint32_t op = d->combos[first].op;
    size_t end = first;
    uint32_t passed = 0, failed = 0, skipped = 0;
    while (end < d->combo_count && d->combos[end].op == op) {
      passed += d->combos[end].passed;
      failed += d->combos[end].failed;
      skipped += d->combos[end].skipped;
      ++end;
    }
    weft_json_object_begin(w);
    weft_json_member_string(w, "op", weft_op_name(op));
    weft_json_member_uint(w, "passed", passed);
    weft_json_member_uint(w, "failed", failed);
    weft_json_member_uint(w, "skipped", skipped);
    const cts_op_perf_t* p = &d->perf[op];
    weft_json_key(w, "perf");
    weft_json_object_begin(w);
    weft_json_member_uint(w, "samples", p->samples);
    /* The writer has integers only: nanoseconds and MFLOP/s. */
    weft_json_member_uint(w, "median_ns", (uint64_t)(p->median_us * 1000.0 + 0.5));
    if (p->flops > 0 && p->seconds > 0) {
      weft_json_member_uint(w, "mflops", (uint64_t)(p->flops / p->seconds * 1e-6 + 0.5));
    } else {
      weft_json_member_null(w, "mflops");
    }
    weft_json_object_end(w);
    weft_json_key(w, "combinations");
    weft_json_array_begin(w);
    for (size_t i = first; i < end; ++i) {
      const cts_combo_result_t* c = &d->combos[i];
      weft_json_object_begin(w);
      weft_json_member_string(w, "dtypes", c->dtypes);
      weft_json_member_uint(w, "passed", c->passed);
      weft_json_member_uint(w, "failed", c->failed);
      weft_json_member_uint(w, "skipped", c->skipped);
      if (c->skipped > 0) {
        weft_json_member_string(w, "skip_reason", c->skip_reason);
      } else {
        weft_json_member_null(w, "skip_reason");
      }
      weft_json_key(w, "failures");
      weft_json_array_begin(w);
      for (uint32_t f = 0; f < c->failures_kept; ++f) {
        weft_json_object_begin(w);
        weft_json_member_string(w, "case", c->failures[f].case_id);
        weft_json_member_string(w, "message", c->failures[f].message);
        weft_json_member_string(w, "shapes", c->failures[f].shapes);
        weft_json_object_end(w);
      }
      weft_json_array_end(w);
      weft_json_object_end(w);
    }
    weft_json_array_end(w);
    weft_json_object_end(w);
    first = end;
  }
  weft_json_array_end(w);
  weft_json_object_end(w);
}

bool conform_report_json(FILE* out, const cts_report_t* report) {
  const cts_totals_t t = cts_report_totals(report);
  const int exit_code = cts_report_exit_code(report);
  weft_json_writer_t w;
  weft_json_writer_init(&w, out, 2);
  weft_json_object_begin(&w);
  weft_json_member_uint(&w, "schema_version", CTS_JSON_SCHEMA_VERSION);
  weft_json_member_string(&w, "tool", "weft-conform");
  weft_json_member_string(&w, "tool_version", WEFT_CONFORM_VERSION);
  weft_json_member_uint(&w, "seed", report->seed);
  weft_json_member_string(&w, "mode", cts_mode_name(report->mode));
  weft_json_key(&w, "selected_ops");
  weft_json_array_begin_compact(&w);
  for (uint32_t op = 1; op < WEFT_OP_COUNT_; ++op) {
    if (conform_op_selected(report, op)) weft_json_string(&w, weft_op_name(op));
  }
  weft_json_array_end(&w);
  weft_json_key(&w, "plugin");
  weft_json_object_begin(&w);
  weft_json_member_string(&w, "path", report->builtin ? NULL : report->plugin_path);
  weft_json_member_bool(&w, "builtin", report->builtin);
  weft_json_member_bool(&w, "loaded", report->loaded);
  if (report->loaded) {
    weft_json_member_string(&w, "name", report->plugin_name);
    weft_json_member_string(&w, "version", report->plugin_version);
    conform_json_version(&w, "abi_version", report->plugin_abi);
    conform_json_version(&w, "negotiated", report->negotiated);
    weft_json_member_uint(&w, "table_size", report->table_size);
  }
  weft_json_object_end(&w);
  weft_json_member_bool(&w, "available", report->available);
  weft_json_member_string(&w, "unavailable_reason",
                          report->available || !report->loaded ? NULL
                                                               : report->unavailable_reason);
  weft_json_member_uint(&w, "device_count", report->device_count);
  conform_json_checks(&w, &report->checks);
  weft_json_key(&w, "devices");
  weft_json_array_begin(&w);
  for (size_t k = 0; k < report->device_result_count; ++k) {
    conform_json_device(&w, &report->devices[k]);
  }
  weft_json_array_end(&w);
  weft_json_key(&w, "summary");
  weft_json_object_begin(&w);
  weft_json_member_uint(&w, "checks_passed", t.checks_passed);
  weft_json_member_uint(&w, "checks_failed", t.checks_failed);
  weft_json_member_uint(&w, "checks_warned", t.checks_warned);
  weft_json_member_uint(&w, "checks_skipped", t.checks_skipped);
  weft_json_member_uint(&w, "cases_passed", t.cases_passed);
  weft_json_member_uint(&w, "cases_failed", t.cases_failed);
  weft_json_member_uint(&w, "cases_skipped", t.cases_skipped);
  weft_json_member_uint(&w, "ops_without_pass", t.ops_without_pass);
  weft_json_member_uint(&w, "milliseconds", (uint64_t)(report->seconds * 1000.0 + 0.5));
  weft_json_object_end(&w);
  weft_json_member_string(&w, "usage_error", report->usage_error ? report->usage_message : NULL);
  weft_json_member_string(&w, "result", conform_result_word(exit_code));
  weft_json_member_int(&w, "exit_code", exit_code);
  weft_json_object_end(&w);
  return weft_json_writer_finish(&w);
}
