/* weft-conform: runs the op conformance suite and the ABI contract checks
 * against one plugin file, or against the reference CPU backend built into
 * libweft (--builtin), and prints a pass/fail/skip matrix per op and dtype
 * combination (or one JSON document with --json).
 *
 *   weft-conform PLUGIN.so [--device N] [--seed S] [--quick|--full] [--json]
 *                [--op NAME]... [--require-pass] [-v]
 *   weft-conform --builtin [same options]
 *
 * Exit status: 0 when nothing failed (skips are fine), 1 when a case or a
 * check failed, 2 on a usage error, 77 when the plugin cannot run on this
 * machine (no driver, no device) and nothing that ran failed.
 * docs/writing-a-backend.md, "Checking a backend with weft-conform". */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cts.h"
#include "report.h"
#include "weft/abi/op.h"

#ifndef WEFT_CONFORM_VERSION
#define WEFT_CONFORM_VERSION "unknown"
#endif

static void conform_usage(FILE* out) {
  fprintf(out,
          "usage: weft-conform PLUGIN.so [options]\n"
          "       weft-conform --builtin [options]\n"
          "\n"
          "Runs every op of op set 1 (docs/ops.md) on the plugin's devices, compares each\n"
          "result with the reference kernels, and checks the plugin ABI contract\n"
          "(docs/abi.md).\n"
          "\n"
          "options:\n"
          "  --builtin        test the reference CPU backend built into libweft\n"
          "  --device N       test device N only (default: every device)\n"
          "  --seed S         seed of every case's data (default 1)\n"
          "  --quick          one case per op and dtype combination\n"
          "  --full           eight cases each, larger shapes, repeated set_rows ids\n"
          "  --op NAME        test this op only; repeat for more (e.g. --op mul_mat)\n"
          "  --require-pass   fail when a selected op has no passing case\n"
          "  --json           print one JSON document instead of the text report\n"
          "  -v, --verbose    progress on stderr (-v: ops and failures, -vv: every case)\n"
          "  --version        print the version\n"
          "  -h, --help       print this help\n"
          "\n"
          "exit status: 0 nothing failed (skips are fine), 1 a case or check failed,\n"
          "             2 usage error, 77 the plugin cannot run on this machine\n");
}

static bool conform_parse_u64(const char* text, uint64_t* out) {
  if (text == NULL || *text == '\0' || *text == '-') return false;
  char* end = NULL;
  errno = 0;
  const unsigned long long value = strtoull(text, &end, 0);
  if (errno != 0 || end == NULL || *end != '\0') return false;
  *out = (uint64_t)value;
  return true;
}

static int conform_usage_error(const char* format, const char* value) {
  fprintf(stderr, "weft-conform: ");
  fprintf(stderr, format, value);
  fprintf(stderr, "\n(weft-conform --help for usage)\n");
  return CTS_EXIT_USAGE;
}

int main(int argc, char** argv) {
  cts_options_t options;
  cts_options_init(&options);
  bool json = false, quick = false, full = false;
  int verbose = 0;
  const char* path = NULL;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      conform_usage(stdout);
      return CTS_EXIT_OK;
    } else if (strcmp(arg, "--version") == 0) {
      printf("weft-conform %s (plugin ABI %u.%u, op set 1)\n", WEFT_CONFORM_VERSION,
             (unsigned)WEFT_ABI_VERSION_MAJOR, (unsigned)WEFT_ABI_VERSION_MINOR);
      return CTS_EXIT_OK;
    } else if (strcmp(arg, "--builtin") == 0) {
      options.builtin = true;
    } else if (strcmp(arg, "--json") == 0) {
      json = true;
    } else if (strcmp(arg, "--quick") == 0) {
      quick = true;
    } else if (strcmp(arg, "--full") == 0) {
      full = true;
    } else if (strcmp(arg, "--require-pass") == 0) {
      options.require_pass = true;
    } else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
      ++verbose;
    } else if (strcmp(arg, "-vv") == 0) {
      verbose += 2;
    } else if (strcmp(arg, "--device") == 0) {
      uint64_t device = 0;
      if (!conform_parse_u64(value, &device) || device > INT32_MAX) {
        return conform_usage_error("--device needs a device index, got '%s'",
                                   value != NULL ? value : "");
      }
      options.device = (int64_t)device;
      ++i;
    } else if (strcmp(arg, "--seed") == 0) {
      if (!conform_parse_u64(value, &options.seed)) {
        return conform_usage_error("--seed needs an unsigned number, got '%s'",
                                   value != NULL ? value : "");
      }
      ++i;
    } else if (strcmp(arg, "--op") == 0) {
      const uint32_t op = value != NULL ? cts_op_from_name(value) : 0;
      if (op == 0) {
        return conform_usage_error("--op needs an op of op set 1 (get_rows, mul_mat, add, ..., "
                                   "concat), got '%s'",
                                   value != NULL ? value : "");
      }
      options.op_mask |= (uint64_t)1 << op;
      ++i;
    } else if (arg[0] == '-') {
      return conform_usage_error("unknown option '%s'", arg);
    } else if (path != NULL) {
      return conform_usage_error("one plugin file at a time; '%s' is a second one", arg);
    } else {
      path = arg;
    }
  }
  if (quick && full) return conform_usage_error("%s", "--quick and --full exclude each other");
  if (options.builtin == (path != NULL)) {
    return conform_usage_error("%s", options.builtin ? "--builtin takes no plugin file"
                                                     : "name a plugin file or --builtin");
  }
  options.plugin_path = path;
  options.mode = quick ? CTS_MODE_QUICK : full ? CTS_MODE_FULL : CTS_MODE_DEFAULT;
  options.verbose = verbose;
  /* Plugin error lines always reach stderr; progress with -v. */
  options.log = stderr;

  cts_report_t report;
  char error[256];
  if (!cts_run(&options, &report, error, sizeof(error))) {
    fprintf(stderr, "weft-conform: the suite could not run: %s\n", error);
    cts_report_deinit(&report);
    return CTS_EXIT_FAILED;
  }
  const int exit_code = cts_report_exit_code(&report);
  if (report.usage_error) fprintf(stderr, "weft-conform: %s\n", report.usage_message);
  if (json) {
    if (!conform_report_json(stdout, &report)) {
      fprintf(stderr, "weft-conform: writing the JSON document failed\n");
      cts_report_deinit(&report);
      return CTS_EXIT_FAILED;
    }
  } else {
    conform_report_text(stdout, &report, verbose);
  }
  fflush(stdout);
  cts_report_deinit(&report);
  return exit_code;
}
