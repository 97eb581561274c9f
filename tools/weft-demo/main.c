/* weft-demo: one transformer block with random weights, run on every usable
 * device; prints per device how many ops it ran itself, whether the result
 * matches the reference CPU's and how long a run took.
 *
 *   weft-demo [--runs N] [--tokens T]
 *
 * Exit status: 0 when every device matched the reference, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block.h"
#include "weft/weft.h"

static double weft_demo_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void weft_demo_log(void* user, weft_log_level_t level, const char* source,
                          const char* message) {
  (void)user;
  fprintf(stderr, "weft-demo: %s: %s: %s\n", weft_log_level_name(level), source, message);
}

static int weft_demo_compare(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

typedef struct weft_demo_result_t {
  float* output;
  double median_ms;
  size_t ops_here, ops_total, copies;
} weft_demo_result_t;

/* Runs the block with its weights on `device`, ops allowed on `device` only
 * (the reference CPU remains the fallback). */
static weft_status_t weft_demo_run(weft_runtime_t* runtime, weft_device_t* device,
                                   const weft_block_config_t* config, int runs,
                                   weft_demo_result_t* out) {
  memset(out, 0, sizeof(*out));
  weft_graph_t* graph = NULL;
  weft_block_t block;
  memset(&block, 0, sizeof(block));
  weft_program_t* program = NULL;
  weft_status_t status = weft_graph_create(runtime, &graph);
  if (status == WEFT_OK) status = weft_block_init(config, device, graph, &block);
  if (status == WEFT_OK) {
    weft_compile_options_t options;
    weft_compile_options_init(&options);
    options.devices = &device;
    options.device_count = 1;
    status = weft_graph_compile(graph, &options, &program);
  }
  if (status == WEFT_OK) status = weft_block_inputs_set(config, &block, program, 11);
  double* times = (double*)calloc((size_t)runs, sizeof(double));
  for (int r = 0; r < runs && status == WEFT_OK; ++r) {
    double start = weft_demo_now();
    status = weft_program_execute(program);
    times[r] = (weft_demo_now() - start) * 1e3;
  }
  if (status == WEFT_OK) {
    qsort(times, (size_t)runs, sizeof(double), weft_demo_compare);
    out->median_ms = times[runs / 2];
    size_t count = (size_t)(config->embd * config->tokens);
    out->output = (float*)malloc(count * sizeof(float));
    status = out->output ? weft_program_read(program, block.out, out->output,
                                             count * sizeof(float))
                         : weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "demo output");
    weft_device_info_t info;
    weft_device_info_get(device, &info);
    for (size_t s = 0; s < weft_program_step_count(program); ++s) {
      weft_program_step_t step;
      weft_status_free(weft_program_step_get(program, s, &step));
      if (step.kind == 1) {
        out->copies++;
        continue;
      }
      out->ops_total += step.node_count;
      if (strcmp(step.device, info.id) == 0) out->ops_here += step.node_count;
    }
  }
  free(times);
  weft_program_destroy(program);
  weft_graph_destroy(graph);
  weft_block_deinit(&block);
  return status;
}

int main(int argc, char** argv) {
  weft_block_config_t config = {
      .embd = 256, .heads = 8, .kv_heads = 4, .ffn = 640, .tokens = 16, .layers = 1, .seed = 1};
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--tokens") == 0 && i + 1 < argc) {
      config.tokens = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: weft-demo [--runs N] [--tokens T]\n");
      return 2;
    }
  }
  if (runs < 1 || config.tokens < 1) {
    fprintf(stderr, "weft-demo: --runs and --tokens must be >= 1\n");
    return 2;
  }
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  options.log_fn = weft_demo_log;
  weft_runtime_t* runtime = NULL;
  weft_status_t status = weft_runtime_create(&options, weft_allocator_system(), &runtime);
  if (status != WEFT_OK) {
    fprintf(stderr, "weft-demo: %s\n", weft_status_message(status));
    weft_status_free(status);
    return 1;
  }
  weft_device_t* reference = NULL;
  status = weft_runtime_device_find(runtime, "cpu-ref:0", &reference);
  weft_demo_result_t oracle;
  if (status == WEFT_OK) status = weft_demo_run(runtime, reference, &config, 1, &oracle);
  if (status != WEFT_OK) {
    fprintf(stderr, "weft-demo: reference run failed: %s\n", weft_status_message(status));
    weft_status_free(status);
    weft_runtime_destroy(runtime);
    return 1;
  }
  size_t count = (size_t)(config.embd * config.tokens);
  printf("Demo graph: one transformer block (width %lld, %lld heads / %lld kv heads, ffn %lld, "
         "%lld tokens), random f32 weights, %zu ops\n",
         (long long)config.embd, (long long)config.heads, (long long)config.kv_heads,
         (long long)config.ffn, (long long)config.tokens, oracle.ops_total);
  printf("Each device holds the weights and runs the ops it supports; the reference CPU runs "
         "the rest.\n\n");
  printf("  %-16s %-12s %-9s %-10s %s\n", "DEVICE", "OPS HERE", "COPIES", "MATCH", "TIME/RUN");
  int mismatches = 0;
  for (size_t i = 0; i < weft_runtime_device_count(runtime); ++i) {
    weft_device_t* device = weft_runtime_device_get(runtime, i);
    weft_device_info_t info;
    weft_device_info_get(device, &info);
    if (!info.preferred) continue;
    weft_demo_result_t result;
    status = weft_demo_run(runtime, device, &config, runs, &result);
    if (status != WEFT_OK) {
      printf("  %-16s failed: %s\n", info.id, weft_status_message(status));
      weft_status_free(status);
      ++mismatches;
      continue;
    }
    double num = 0.0, den = 0.0;
    for (size_t k = 0; k < count; ++k) {
      double d = (double)result.output[k] - (double)oracle.output[k];
      num += d * d;
      den += (double)oracle.output[k] * (double)oracle.output[k];
    }
    double nmse = den > 0.0 ? num / den : num;
    bool match = nmse <= 1e-6 && nmse == nmse;
    if (!match) ++mismatches;
    char ops[32];
    snprintf(ops, sizeof(ops), "%zu/%zu", result.ops_here, result.ops_total);
    char verdict[32];
    snprintf(verdict, sizeof(verdict), "%s", match ? (nmse == 0.0 ? "exact" : "yes") : "NO");
    printf("  %-16s %-12s %-9zu %-10s %.2f ms   (NMSE %.1e)\n", info.id, ops, result.copies,
           verdict, result.median_ms, nmse);
    free(result.output);
  }
  printf("\nMATCH: NMSE against the reference CPU's result <= 1e-6 (docs/ops.md). TIME: median "
         "of %d runs.\n",
         runs);
  free(oracle.output);
  weft_runtime_destroy(runtime);
  return mismatches ? 1 : 0;
}
