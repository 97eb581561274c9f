/* weft-bench startup: how long a fresh process takes to have weft's device
 * registry, next to what the vendor APIs take to list their devices and
 * what starting a process costs at all.
 *
 * Every measurement is a fresh child process (this executable again, in a
 * child mode), so nothing is warm in the process itself; the file system
 * cache is, after the warm-up rounds. The child reports CLOCK_MONOTONIC at
 * its "ready" point over a pipe; the parent subtracts the time it took just
 * before posix_spawn. Cases run interleaved, round after round, so that a
 * slow moment of the machine spreads over all of them.
 *
 * Cases:
 *   baseline   exec and dynamic linking (libweft included), ready at main()
 *   vendor     dlopen the vendor library and list devices with properties
 *   weft       weft_runtime_create until it returns; with the built-in
 *              backend only, with one plugin file, and with the default
 *              search path (every in-tree plugin beside libweft) */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "startup.h"
#include "weft/runtime.h"
#include "weft/status.h"

#ifndef WEFT_BENCH_BUILD_TYPE
#define WEFT_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef WEFT_BENCH_SANITIZERS
#define WEFT_BENCH_SANITIZERS ""
#endif

const char weft_bench_startup_usage[] =
    "  --runs N     timed runs of every case (default 20)\n"
    "  --warmup N   untimed rounds before them (default 2)\n";

#define WEFT_BENCH_STARTUP_MAX_CASES 24
#define WEFT_BENCH_STARTUP_MAX_RUNS 100000

typedef enum weft_bench_startup_kind_t {
  WEFT_BENCH_STARTUP_BASELINE = 0,
  WEFT_BENCH_STARTUP_VENDOR = 1,
  WEFT_BENCH_STARTUP_WEFT = 2,
} weft_bench_startup_kind_t;

typedef struct weft_bench_startup_case_t {
  weft_bench_startup_kind_t kind;
  char label[48];
  char mode[16];      /* child mode */
  char arg[PATH_MAX]; /* vendor API name or plugin file; "" for none */
  char plugin[32];    /* weft cases with one file: the plugin's name */
  bool enabled;
  char reason[256];   /* why it was not measured */
  char detail[256];   /* what the child found */
  double* ready_ms;   /* one per timed run */
  size_t count;
} weft_bench_startup_case_t;

/* ---- the child side ---- */

static int weft_bench_startup_child_weft(const char* mode, const char* file) {
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  /* The environment stays out: a WEFT_PLUGIN_PATH of the shell running the
   * benchmark must not change what is measured. */
  options.flags = WEFT_RUNTIME_FLAG_IGNORE_ENV;
  const char* paths[1] = {file};
  if (strcmp(mode, "weft-file") == 0) {
    options.flags |= WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
    options.plugin_paths = paths;
    options.plugin_path_count = 1;
  } else if (strcmp(mode, "weft-builtin") == 0) {
    options.flags |= WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  }
  weft_runtime_t* runtime = NULL;
  weft_status_t status = weft_runtime_create(&options, weft_allocator_system(), &runtime);
  uint64_t ready = weft_bench_now_ns();
  if (status != WEFT_OK) {
    weft_bench_child_report(ready, false, "weft_runtime_create: %s",
                            weft_status_message(status));
    weft_status_free(status);
    return 1;
  }
  size_t devices = weft_runtime_device_count(runtime);
  const char* outcome = "";
  for (size_t i = 0; file != NULL && i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    if (record != NULL && strcmp(record->path, file) == 0) {
      outcome = weft_plugin_outcome_name((weft_plugin_outcome_t)record->outcome);
    }
  }
  weft_bench_child_report(ready, true, "%zu device%s in the registry%s%s", devices,
                          devices == 1 ? "" : "s", outcome[0] != '\0' ? "; plugin " : "",
                          outcome);
  weft_runtime_destroy(runtime);
  return 0;
}

static int weft_bench_startup_child(int argc, char** argv) {
  /* argv: --child <mode> [arg] */
  const char* mode = argc > 1 ? argv[1] : "";
  const char* arg = argc > 2 ? argv[2] : NULL;
  if (strcmp(mode, "baseline") == 0) {
    weft_bench_child_report(weft_bench_now_ns(), true, "started");
    return 0;
  }
  if (strcmp(mode, "vendor") == 0 && arg != NULL) {
    uint64_t ready = 0;
    char detail[256];
    bool ok = weft_bench_vendor_enumerate(arg, &ready, detail, sizeof(detail));
    weft_bench_child_report(ok ? ready : weft_bench_now_ns(), ok, "%s", detail);
    return ok ? 0 : 1;
  }
  if (strcmp(mode, "weft-builtin") == 0 || strcmp(mode, "weft-default") == 0 ||
      (strcmp(mode, "weft-file") == 0 && arg != NULL)) {
    return weft_bench_startup_child_weft(mode, arg);
  }
  weft_bench_child_report(weft_bench_now_ns(), false, "unknown child mode '%s'", mode);
  return 2;
}

/* ---- the parent side ---- */

static weft_bench_startup_case_t* weft_bench_startup_case_add(
    weft_bench_startup_case_t* cases, size_t* count, weft_bench_startup_kind_t kind,
    const char* label, const char* mode, const char* arg) {
  if (*count >= WEFT_BENCH_STARTUP_MAX_CASES) {
    return NULL;
  }
  weft_bench_startup_case_t* c = &cases[(*count)++];
  memset(c, 0, sizeof(*c));
  c->kind = kind;
  c->enabled = true;
  snprintf(c->label, sizeof(c->label), "%s", label);
  snprintf(c->mode, sizeof(c->mode), "%s", mode);
  snprintf(c->arg, sizeof(c->arg), "%s", arg != NULL ? arg : "");
  return c;
}

static const char* weft_bench_startup_basename(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash != NULL ? slash + 1 : path;
}

/* Lists the in-tree plugin files the default search path finds, with what
 * each does on this machine, and adds one weft case per file. */
static bool weft_bench_startup_inventory(weft_bench_startup_case_t* cases, size_t* count) {
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  options.flags = WEFT_RUNTIME_FLAG_IGNORE_ENV;
  weft_runtime_t* runtime = NULL;
  weft_status_t status = weft_runtime_create(&options, weft_allocator_system(), &runtime);
  if (status != WEFT_OK) {
    fprintf(stderr, "weft-bench: weft_runtime_create: %s\n", weft_status_message(status));
    weft_status_free(status);
    return false;
  }
  printf("plugins    found by the default search path:\n");
  for (size_t i = 0; i < weft_runtime_plugin_count(runtime); ++i) {
    const weft_plugin_record_t* record = weft_runtime_plugin_get(runtime, i);
    const char* outcome = weft_plugin_outcome_name((weft_plugin_outcome_t)record->outcome);
    printf("             %-8s %-12s %u device%s  %s%s%s\n",
           record->name[0] != '\0' ? record->name : "?", outcome,
           (unsigned)record->device_count, record->device_count == 1 ? " " : "s",
           record->path, record->reason[0] != '\0' ? "\n                 " : "",
           record->reason);
    if (strcmp(record->path, "(built-in)") == 0) {
      continue;
    }
    char label[48];
    snprintf(label, sizeof(label), "weft: + %s", weft_bench_startup_basename(record->path));
    weft_bench_startup_case_t* c = weft_bench_startup_case_add(
        cases, count, WEFT_BENCH_STARTUP_WEFT, label, "weft-file", record->path);
    if (c != NULL) {
      snprintf(c->plugin, sizeof(c->plugin), "%s", record->name);
    }
  }
  weft_runtime_destroy(runtime);
  return true;
}

static void weft_bench_startup_header(int runs, int warmup) {
  struct utsname system;
  char cpu[128] = "unknown CPU";
  FILE* cpuinfo = fopen("/proc/cpuinfo", "r");
  if (cpuinfo != NULL) {
    char line[256];
    while (fgets(line, sizeof(line), cpuinfo) != NULL) {
      if (strncmp(line, "model name", 10) == 0) {
        const char* colon = strchr(line, ':');
        if (colon != NULL) {
          snprintf(cpu, sizeof(cpu), "%s", colon + 2);
          cpu[strcspn(cpu, "\n")] = '\0';
        }
        break;
      }
    }
    fclose(cpuinfo);
  }
  printf("weft-bench startup: process start to a populated device registry\n");
  printf("build      %s, sanitizers: %s\n", WEFT_BENCH_BUILD_TYPE,
         WEFT_BENCH_SANITIZERS[0] != '\0' ? WEFT_BENCH_SANITIZERS : "none");
  if (WEFT_BENCH_SANITIZERS[0] != '\0') {
    printf("           (sanitizer builds are slow at start-up: not numbers to keep)\n");
  }
  if (uname(&system) == 0) {
    printf("machine    %s %s %s, %ld CPUs online, %s\n", system.sysname, system.release,
           system.machine, sysconf(_SC_NPROCESSORS_ONLN), cpu);
  }
  printf("runs       %d timed per case after %d warm-up round%s, cases interleaved\n", runs,
         warmup, warmup == 1 ? "" : "s");
}

static double weft_bench_startup_median(const weft_bench_startup_case_t* c) {
  return weft_bench_stats(c->ready_ms, c->count).median;
}

static const weft_bench_startup_case_t* weft_bench_startup_find(
    const weft_bench_startup_case_t* cases, size_t count, weft_bench_startup_kind_t kind,
    const char* key) {
  for (size_t i = 0; i < count; ++i) {
    const weft_bench_startup_case_t* c = &cases[i];
    if (c->kind != kind || !c->enabled || c->count == 0) {
      continue;
    }
    if (key == NULL || (kind == WEFT_BENCH_STARTUP_VENDOR && strcmp(c->arg, key) == 0) ||
        (kind == WEFT_BENCH_STARTUP_WEFT && strcmp(c->mode, key) == 0) ||
        (kind == WEFT_BENCH_STARTUP_WEFT && strcmp(c->plugin, key) == 0)) {
      return c;
    }
  }
  return NULL;
}

static void weft_bench_startup_report(const weft_bench_startup_case_t* cases, size_t count) {
  const weft_bench_startup_case_t* baseline =
      weft_bench_startup_find(cases, count, WEFT_BENCH_STARTUP_BASELINE, NULL);
  const double base = baseline != NULL ? weft_bench_startup_median(baseline) : 0.0;
  printf("\nTime from posix_spawn to the child's ready point, in milliseconds:\n\n");
  printf("  %-32s %8s %8s %8s %10s   %s\n", "case", "median", "p90", "min", "-baseline",
         "what the child found");
  for (size_t i = 0; i < count; ++i) {
    const weft_bench_startup_case_t* c = &cases[i];
    if (!c->enabled || c->count == 0) {
      printf("  %-32s %8s %8s %8s %10s   not measured: %s\n", c->label, "-", "-", "-", "-",
             c->reason);
      continue;
    }
    weft_bench_stats_t stats = weft_bench_stats(c->ready_ms, c->count);
    if (c->kind == WEFT_BENCH_STARTUP_BASELINE) {
      printf("  %-32s %8.2f %8.2f %8.2f %10s   %s\n", c->label, stats.median, stats.p90,
             stats.min, "-", c->detail);
    } else {
      printf("  %-32s %8.2f %8.2f %8.2f %10.2f   %s\n", c->label, stats.median, stats.p90,
             stats.min, stats.median - base, c->detail);
    }
  }

  /* The headline: what weft adds on top of the drivers' own cost. */
  const weft_bench_startup_case_t* all =
      weft_bench_startup_find(cases, count, WEFT_BENCH_STARTUP_WEFT, "weft-default");
  const weft_bench_startup_case_t* builtin =
      weft_bench_startup_find(cases, count, WEFT_BENCH_STARTUP_WEFT, "weft-builtin");
  double vendor_sum = 0.0;
  char vendor_names[96] = "";
  for (size_t i = 0; i < count; ++i) {
    const weft_bench_startup_case_t* c = &cases[i];
    if (c->kind == WEFT_BENCH_STARTUP_VENDOR && strcmp(c->arg, "all") != 0 && c->enabled &&
        c->count > 0) {
      vendor_sum += weft_bench_startup_median(c) - base;
      size_t used = strlen(vendor_names);
      snprintf(vendor_names + used, sizeof(vendor_names) - used, "%s%s", used > 0 ? " + " : "",
               c->arg);
    }
  }
  printf("\nSummary (medians, minus the baseline):\n");
  char label[160];
  if (all != NULL && baseline != NULL) {
    double weft_cost = weft_bench_startup_median(all) - base;
    printf("  %-52s %8.2f ms\n", "weft, every in-tree plugin", weft_cost);
    if (vendor_sum > 0.0) {
      snprintf(label, sizeof(label), "vendor APIs listing devices (%s)", vendor_names);
      printf("  %-52s %8.2f ms\n", label, vendor_sum);
      printf("  %-52s %8.2f\n", "ratio weft / sum of vendor APIs", weft_cost / vendor_sum);
    }
    const weft_bench_startup_case_t* together =
        weft_bench_startup_find(cases, count, WEFT_BENCH_STARTUP_VENDOR, "all");
    if (together != NULL) {
      double together_cost = weft_bench_startup_median(together) - base;
      printf("  %-52s %8.2f ms\n", "all vendor APIs in one process", together_cost);
      if (together_cost > 0.0) {
        printf("  %-52s %8.2f\n", "ratio weft / vendor APIs in one process",
               weft_cost / together_cost);
      }
    }
  }
  if (builtin != NULL && baseline != NULL) {
    printf("  %-52s %8.2f ms\n", "weft, built-in backend only",
           weft_bench_startup_median(builtin) - base);
  }
  printf("\nPer plugin: weft with that one plugin file minus weft with none, against the\n"
         "vendor's own enumeration minus the baseline:\n");
  for (size_t i = 0; i < count; ++i) {
    const weft_bench_startup_case_t* c = &cases[i];
    if (c->kind != WEFT_BENCH_STARTUP_WEFT || c->plugin[0] == '\0' || builtin == NULL ||
        !c->enabled || c->count == 0) {
      continue;
    }
    double plugin_cost = weft_bench_startup_median(c) - weft_bench_startup_median(builtin);
    const weft_bench_startup_case_t* vendor =
        weft_bench_startup_find(cases, count, WEFT_BENCH_STARTUP_VENDOR, c->plugin);
    if (vendor != NULL) {
      double vendor_cost = weft_bench_startup_median(vendor) - base;
      if (vendor_cost > 0.1) {
        printf("  %-8s %8.2f ms vs %8.2f ms   ratio %5.2f\n", c->plugin, plugin_cost,
               vendor_cost, plugin_cost / vendor_cost);
      } else {
        printf("  %-8s %8.2f ms vs %8.2f ms   (both within noise of a process start)\n",
               c->plugin, plugin_cost, vendor_cost);
      }
    } else {
      printf("  %-8s %8.2f ms (no vendor enumeration to compare with)\n", c->plugin,
             plugin_cost);
    }
  }
}

int weft_bench_startup_main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--child") == 0) {
    return weft_bench_startup_child(argc - 1, argv + 1);
  }
  int runs = 20;
  int warmup = 2;
  for (int i = 1; i < argc; ++i) {
    if ((strcmp(argv[i], "--runs") == 0 || strcmp(argv[i], "--warmup") == 0) && i + 1 < argc) {
      char* end = NULL;
      long value = strtol(argv[i + 1], &end, 10);
      bool is_runs = strcmp(argv[i], "--runs") == 0;
      if (end == argv[i + 1] || *end != '\0' || value < (is_runs ? 1 : 0) ||
          value > WEFT_BENCH_STARTUP_MAX_RUNS) {
        fprintf(stderr, "weft-bench startup: %s wants a number from %d to %d, got '%s'\n",
                argv[i], is_runs ? 1 : 0, WEFT_BENCH_STARTUP_MAX_RUNS, argv[i + 1]);
        return 2;
      }
      *(is_runs ? &runs : &warmup) = (int)value;
      ++i;
    } else {
      fprintf(stderr, "weft-bench startup: unknown option '%s'\noptions:\n%s", argv[i],
              weft_bench_startup_usage);
      return 2;
    }
  }
  char self[PATH_MAX];
  if (!weft_bench_self_path(self, sizeof(self))) {
    fprintf(stderr, "weft-bench startup: cannot read /proc/self/exe to re-run itself\n");
    return 1;
  }

  weft_bench_startup_header(runs, warmup);
  static weft_bench_startup_case_t cases[WEFT_BENCH_STARTUP_MAX_CASES];
  size_t count = 0;
  weft_bench_startup_case_add(cases, &count, WEFT_BENCH_STARTUP_BASELINE,
                              "baseline: exec, no work", "baseline", NULL);
  weft_bench_startup_case_add(cases, &count, WEFT_BENCH_STARTUP_VENDOR,
                              "vulkan: list devices", "vendor", "vulkan");
  weft_bench_startup_case_add(cases, &count, WEFT_BENCH_STARTUP_VENDOR,
                              "opencl: list devices", "vendor", "opencl");
  weft_bench_startup_case_add(cases, &count, WEFT_BENCH_STARTUP_VENDOR, "cuda: list devices",
                              "vendor", "cuda");
  weft_bench_startup_case_add(cases, &count, WEFT_BENCH_STARTUP_VENDOR,
                              "all vendor APIs, one process", "vendor", "all");
  weft_bench_startup_case_add(cases, &count, WEFT_BENCH_STARTUP_WEFT,
                              "weft: built-in backend only", "weft-builtin", NULL);
  if (!weft_bench_startup_inventory(cases, &count)) {
    return 1;
  }
  weft_bench_startup_case_add(cases, &count, WEFT_BENCH_STARTUP_WEFT,
                              "weft: every in-tree plugin", "weft-default", NULL);
  for (size_t i = 0; i < count; ++i) {
    cases[i].ready_ms = calloc((size_t)runs, sizeof(double));
    if (cases[i].ready_ms == NULL) {
      fprintf(stderr, "weft-bench startup: out of memory for %d runs\n", runs);
      return 1;
    }
  }

  fflush(stdout);
  fprintf(stderr, "measuring");
  for (int round = -warmup; round < runs; ++round) {
    for (size_t i = 0; i < count; ++i) {
      weft_bench_startup_case_t* c = &cases[i];
      if (!c->enabled) {
        continue;
      }
      char* child_argv[6] = {self, (char*)"startup", (char*)"--child", c->mode, NULL, NULL};
      if (c->arg[0] != '\0') {
        child_argv[4] = c->arg;
      }
      weft_bench_child_result_t result;
      bool spawned = weft_bench_child_run(child_argv, &result);
      if (!spawned || !result.ok) {
        /* A case that fails once is not measured at all: partial samples
         * would make its median mean nothing. */
        c->enabled = false;
        snprintf(c->reason, sizeof(c->reason), "%s", result.detail);
        continue;
      }
      snprintf(c->detail, sizeof(c->detail), "%s", result.detail);
      if (round >= 0) {
        c->ready_ms[c->count++] = (double)(result.ready_ns - result.spawn_ns) / 1e6;
      }
    }
    fputc('.', stderr);
  }
  fputc('\n', stderr);

  weft_bench_startup_report(cases, count);
  for (size_t i = 0; i < count; ++i) {
    free(cases[i].ready_ms);
  }
  return 0;
}
