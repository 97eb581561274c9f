/* weft-bench: measurements of libweft and its plugins on this machine.
 *
 * Usage: weft-bench <benchmark> [options]. Each benchmark is one entry of the
 * table in main.c; adding one means writing a weft_bench_main_fn and listing
 * it there. Benchmarks print a table for people (docs/perf.md keeps the
 * reference numbers and how they were taken).
 *
 * Helpers here are for the benchmarks: monotonic time, order statistics and
 * child processes that report a timestamp back. Nothing here allocates
 * behind the caller's back except where stated; nothing exits the process. */
#ifndef WEFT_TOOLS_BENCH_H_
#define WEFT_TOOLS_BENCH_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* argv[0] is the benchmark's name; returns the process exit code. */
typedef int (*weft_bench_main_fn)(int argc, char** argv);

typedef struct weft_bench_t {
  const char* name;    /* "startup" */
  const char* summary; /* one line for the list */
  const char* usage;   /* the options, one per line, for --help */
  weft_bench_main_fn main;
} weft_bench_t;

/* ---- benchmarks ---- */

int weft_bench_startup_main(int argc, char** argv);
extern const char weft_bench_startup_usage[];

/* ---- helpers (bench_util.c) ---- */

/* CLOCK_MONOTONIC in nanoseconds; comparable across processes of one boot. */
uint64_t weft_bench_now_ns(void);

typedef struct weft_bench_stats_t {
  size_t count;
  double min;
  double median;
  double p90; /* nearest-rank 90th percentile */
  double max;
} weft_bench_stats_t;

/* Order statistics of `values` (not modified). count 0 gives all zeros. */
weft_bench_stats_t weft_bench_stats(const double* values, size_t count);

/* The file descriptor a child writes its report line to. */
#define WEFT_BENCH_REPORT_FD 3

/* What a child process reported. */
typedef struct weft_bench_child_result_t {
  bool ok;              /* the child ran and said "ok" */
  uint64_t spawn_ns;    /* parent clock just before posix_spawn */
  uint64_t ready_ns;    /* child clock at its "ready" point */
  uint64_t exit_ns;     /* parent clock once the child was reaped */
  char detail[256];     /* the rest of the child's line, or why it failed */
} weft_bench_child_result_t;

/* Runs `argv` (argv[0] is the executable path) with stdin, stdout and
 * stderr on /dev/null and WEFT_BENCH_REPORT_FD on a pipe, waits for it and
 * parses its report line "<ready_ns> ok <detail>" or "<ready_ns> error
 * <detail>". Returns false (with detail set) when spawning failed; a child
 * that failed is reported through out_result->ok. */
bool weft_bench_child_run(char* const* argv, weft_bench_child_result_t* out_result);

/* Child side: writes the report line to WEFT_BENCH_REPORT_FD. */
void weft_bench_child_report(uint64_t ready_ns, bool ok, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

/* The running executable's absolute path (/proc/self/exe), for re-running
 * itself as a child. False when it cannot be read. */
bool weft_bench_self_path(char* out, size_t cap);

#endif /* WEFT_TOOLS_BENCH_H_ */
