/* weft-bench plan: compiling an N-layer transformer graph, and executing
 * the compiled program again without planning again. See plan.h.
 *
 * The graph is tools/common/block.c's llama-style block stacked `layers`
 * times, weights bound in one buffer on the reference CPU. The graph is
 * built once; weft_graph_compile runs W + R times on it (each program but
 * the last destroyed at once), then the last program executes W + R times.
 * Everything runs on the reference CPU, which is the device the compile
 * options allow. */
#include "plan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "block.h"
#include "executor.h"
#include "weft/weft.h"

const char weft_bench_plan_usage[] =
    "  --layers L    transformer blocks stacked (default 30)\n"
    "  --embd E      model width (default 256)\n"
    "  --heads H     query heads (default 4)\n"
    "  --kv-heads G  key/value heads, dividing H (default 2)\n"
    "  --ffn F       feed-forward width (default 512)\n"
    "  --tokens T    tokens per execution (default 8)\n"
    "  --runs R      timed compiles, and timed executions (default 10)\n"
    "  --warmup W    untimed compiles and executions before them (default 1)\n";

#define WEFT_BENCH_PLAN_MAX 1000000

typedef struct weft_bench_plan_options_t {
  long layers, embd, heads, kv_heads, ffn, tokens, runs, warmup;
} weft_bench_plan_options_t;

static bool weft_bench_plan_parse(int argc, char** argv, weft_bench_plan_options_t* o) {
  static const struct {
    const char* flag;
    size_t offset;
    long low;
  } kFlags[] = {
      {"--layers", offsetof(weft_bench_plan_options_t, layers), 1},
      {"--embd", offsetof(weft_bench_plan_options_t, embd), 1},
      {"--heads", offsetof(weft_bench_plan_options_t, heads), 1},
      {"--kv-heads", offsetof(weft_bench_plan_options_t, kv_heads), 1},
      {"--ffn", offsetof(weft_bench_plan_options_t, ffn), 1},
      {"--tokens", offsetof(weft_bench_plan_options_t, tokens), 1},
      {"--runs", offsetof(weft_bench_plan_options_t, runs), 1},
      {"--warmup", offsetof(weft_bench_plan_options_t, warmup), 0},
  };
  for (int i = 1; i < argc; i += 2) {
    size_t k = 0;
    while (k < sizeof(kFlags) / sizeof(kFlags[0]) && strcmp(argv[i], kFlags[k].flag) != 0) ++k;
    if (k == sizeof(kFlags) / sizeof(kFlags[0])) {
      fprintf(stderr, "weft-bench plan: unknown option '%s' (see --help)\n", argv[i]);
      return false;
    }
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    char* end = NULL;
    long number = value != NULL ? strtol(value, &end, 10) : 0;
    if (value == NULL || value[0] == '\0' || *end != '\0' || number < kFlags[k].low ||
        number > WEFT_BENCH_PLAN_MAX) {
      fprintf(stderr, "weft-bench plan: %s takes a number from %ld to %d, got '%s'\n",
              argv[i], kFlags[k].low, WEFT_BENCH_PLAN_MAX, value != NULL ? value : "(nothing)");
      return false;
    }
    *(long*)((char*)o + kFlags[k].offset) = number;
  }
  if (o->embd % o->heads != 0 || o->heads % o->kv_heads != 0) {
    fprintf(stderr, "weft-bench plan: --embd %ld must divide by --heads %ld, and that by "
            "--kv-heads %ld\n", o->embd, o->heads, o->kv_heads);
    return false;
  }
  return true;
}

static void weft_bench_plan_row(const char* label, const double* ms, size_t count,
                                size_t nodes) {
  weft_bench_stats_t s = weft_bench_stats(ms, count);
  printf("| %-40s | %10.3f | %10.3f | %10.3f | %11.3f |\n", label, s.median, s.min, s.p90,
         s.median * 1e3 / (double)(nodes ? nodes : 1));
}

static double weft_bench_plan_mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

int weft_bench_plan_main(int argc, char** argv) {
  weft_bench_plan_options_t o = {30, 256, 4, 2, 512, 8, 10, 1};
  if (!weft_bench_plan_parse(argc, argv, &o)) return 2;
  weft_block_config_t config;
  memset(&config, 0, sizeof(config));
  config.embd = o.embd;
  config.heads = o.heads;
  config.kv_heads = o.kv_heads;
  config.ffn = o.ffn;
  config.tokens = o.tokens;
  config.layers = (int32_t)o.layers;
  config.seed = 7;

  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  /* The built-in reference CPU alone, whatever the environment says. */
  options.flags = WEFT_RUNTIME_FLAG_IGNORE_ENV | WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  weft_runtime_t* runtime = NULL;
  weft_device_t* device = NULL;
  weft_graph_t* graph = NULL;
  weft_program_t* program = NULL;
  weft_block_t block;
  memset(&block, 0, sizeof(block));
  size_t runs = (size_t)o.runs;
  double* compile_ms = calloc(runs, sizeof(double));
  double* execute_ms = calloc(runs, sizeof(double));
  double* both_ms = calloc(runs, sizeof(double));
  weft_status_t status = WEFT_OK;
  if (!compile_ms || !execute_ms || !both_ms) {
    status = weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "plan benchmark: %zu samples", runs);
  }
  if (status == WEFT_OK) {
    status = weft_runtime_create(&options, weft_allocator_system(), &runtime);
  }
  if (status == WEFT_OK) status = weft_runtime_device_find(runtime, "cpu-ref:0", &device);
  if (status == WEFT_OK) status = weft_graph_create(runtime, &graph);
  uint64_t build_start = weft_bench_now_ns();
  if (status == WEFT_OK) status = weft_block_init(&config, device, graph, &block);
  double build_ms = (double)(weft_bench_now_ns() - build_start) / 1e6;

  weft_compile_options_t compile;
  weft_compile_options_init(&compile);
  compile.devices = &device;
  compile.device_count = 1;
  for (long r = -o.warmup; r < o.runs && status == WEFT_OK; ++r) {
    weft_program_destroy(program);
    program = NULL;
    uint64_t start = weft_bench_now_ns();
    status = weft_graph_compile(graph, &compile, &program);
    if (r >= 0) compile_ms[r] = (double)(weft_bench_now_ns() - start) / 1e6;
  }
  if (status == WEFT_OK) status = weft_block_inputs_set(&config, &block, program, 11);
  for (long r = -o.warmup; r < o.runs && status == WEFT_OK; ++r) {
    uint64_t start = weft_bench_now_ns();
    status = weft_program_execute(program);
    if (r >= 0) execute_ms[r] = (double)(weft_bench_now_ns() - start) / 1e6;
  }
  if (status != WEFT_OK) {
    fprintf(stderr, "weft-bench plan: %s\n", weft_status_message(status));
    weft_status_free(status);
    weft_program_destroy(program);
    weft_graph_destroy(graph);
    weft_block_deinit(&block);
    weft_runtime_destroy(runtime);
    free(compile_ms);
    free(execute_ms);
    free(both_ms);
    return 1;
  }

  weft_program_stats_t stats;
  weft_program_stats_get(program, &stats);
  /* Re-planning on every run would cost compile + execute; pair them run by
   * run so the spread stays honest. */
  for (size_t r = 0; r < runs; ++r) both_ms[r] = compile_ms[r] + execute_ms[r];
  double compile_median = weft_bench_stats(compile_ms, runs).median;
  double execute_median = weft_bench_stats(execute_ms, runs).median;
  uint64_t weight_bytes = 0;
  {
    int64_t d = o.embd / o.heads;
    int64_t per_layer = 2 * o.embd + 2 * o.embd * o.embd + 2 * o.embd * d * o.kv_heads +
                        3 * o.embd * o.ffn;
    weight_bytes = (uint64_t)(per_layer * o.layers) * 4u;
  }

  printf("weft-bench plan: compiling a transformer graph, and executing it without "
         "re-planning\n");
  weft_bench_machine_print();
  printf("model      %ld layers, embd %ld, heads %ld (kv %ld), ffn %ld, %ld tokens; f32 "
         "weights, %.1f MiB, on cpu-ref:0\n",
         o.layers, o.embd, o.heads, o.kv_heads, o.ffn, o.tokens,
         weft_bench_plan_mib(weight_bytes));
  printf("program    %zu ops, %zu segment%s, %zu cop%s, %zu device%s\n", stats.node_count,
         stats.segment_count, stats.segment_count == 1 ? "" : "s", stats.copy_count,
         stats.copy_count == 1 ? "y" : "ies", stats.device_count,
         stats.device_count == 1 ? "" : "s");
  printf("runs       %ld timed compiles, then %ld timed executions of the last program, "
         "after %ld warm-up each\n",
         o.runs, o.runs, o.warmup);
  printf("graph      built once in %.1f ms (weights generated and uploaded included)\n\n",
         build_ms);
  printf("| %-40s | %10s | %10s | %10s | %11s |\n", "step", "median ms", "min ms", "p90 ms",
         "per op (us)");
  printf("|------------------------------------------|-----------:|-----------:|-----------:|"
         "------------:|\n");
  weft_bench_plan_row("weft_graph_compile", compile_ms, runs, stats.node_count);
  weft_bench_plan_row("weft_program_execute (plan reused)", execute_ms, runs,
                      stats.node_count);
  weft_bench_plan_row("compile + execute (re-planning each)", both_ms, runs, stats.node_count);
  printf("\nplanning is %.2f%% of one execution: re-planning before every run would make "
         "it %.2fx as long\n",
         100.0 * compile_median / execute_median,
         (compile_median + execute_median) / execute_median);

  double reuse = stats.unplanned_bytes
                     ? (double)stats.planned_bytes / (double)stats.unplanned_bytes
                     : 0.0;
  printf("\n| %-40s | %14s | %10s |\n", "memory", "bytes", "MiB");
  printf("|------------------------------------------|---------------:|-----------:|\n");
  printf("| %-40s | %14llu | %10.2f |\n", "planned arena (slots shared by liveness)",
         (unsigned long long)stats.planned_bytes, weft_bench_plan_mib(stats.planned_bytes));
  printf("| %-40s | %14llu | %10.2f |\n", "sum of intermediates (no reuse)",
         (unsigned long long)stats.unplanned_bytes, weft_bench_plan_mib(stats.unplanned_bytes));
  printf("\nthe arena is %.1f%% of the sum of intermediates (%.1fx smaller)\n", 100.0 * reuse,
         reuse > 0.0 ? 1.0 / reuse : 0.0);

  weft_program_destroy(program);
  weft_graph_destroy(graph);
  weft_block_deinit(&block);
  weft_runtime_destroy(runtime);
  free(compile_ms);
  free(execute_ms);
  free(both_ms);
  return 0;
}
