/* weft-bench: the benchmark table and the command line. See bench.h. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "executor.h"
#include "plan.h"

static const weft_bench_t kWeftBenchTable[] = {
    {"startup", "process start to a populated device registry, against the vendor APIs",
     weft_bench_startup_usage, weft_bench_startup_main},
    {"executor", "executor overhead per node of a chain of tiny ops (--ggml: beside ggml)",
     weft_bench_executor_usage, weft_bench_executor_main},
    {"plan", "compiling an N-layer transformer graph, and executing it without re-planning",
     weft_bench_plan_usage, weft_bench_plan_main},
};

static const size_t kWeftBenchCount = sizeof(kWeftBenchTable) / sizeof(kWeftBenchTable[0]);

static void weft_bench_usage(FILE* out) {
  fprintf(out,
          "usage: weft-bench <benchmark> [options]\n"
          "       weft-bench <benchmark> --help\n"
          "       weft-bench list\n\n"
          "benchmarks:\n");
  for (size_t i = 0; i < kWeftBenchCount; ++i) {
    fprintf(out, "  %-12s %s\n", kWeftBenchTable[i].name, kWeftBenchTable[i].summary);
  }
  fprintf(out,
          "\nBuild without sanitizers (a Release or RelWithDebInfo build) for numbers "
          "worth keeping;\ndocs/perf.md records the reference runs.\n");
}

int main(int argc, char** argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    weft_bench_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "list") == 0) {
    for (size_t i = 0; i < kWeftBenchCount; ++i) {
      printf("%s\t%s\n", kWeftBenchTable[i].name, kWeftBenchTable[i].summary);
    }
    return 0;
  }
  for (size_t i = 0; i < kWeftBenchCount; ++i) {
    const weft_bench_t* bench = &kWeftBenchTable[i];
    if (strcmp(argv[1], bench->name) != 0) {
      continue;
    }
    if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
      printf("usage: weft-bench %s [options]\n%s\n\noptions:\n%s", bench->name, bench->summary,
             bench->usage);
      return 0;
    }
    return bench->main(argc - 1, argv + 1);
  }
  fprintf(stderr, "weft-bench: unknown benchmark '%s'\n\n", argv[1]);
  weft_bench_usage(stderr);
  return 2;
}
