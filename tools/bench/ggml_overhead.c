/* ggml_overhead: the ggml side of `weft-bench executor`.
 *
 * Builds the graph weft-bench builds (an input x of `elements` f32 values,
 * then a chain of `nodes` ops alternating t = add(t, x) and t = scale(t, 0.25)
 * with the last t the output) with ggml's public API, and times what ggml
 * spends per node, on one thread, two ways:
 *
 *   cplan    ggml_graph_compute with a plan made once (ggml_graph_plan, work
 *            buffer allocated once); every tensor has its own memory in a
 *            context that allocates (no reuse). The lowest level ggml offers.
 *   backend  ggml_backend_graph_compute on the CPU backend, one thread, the
 *            graph allocated by ggml_gallocr (memory reused by liveness, as
 *            weft's planned arena). Each run first sets x with
 *            ggml_backend_tensor_set, as weft_program_execute uploads inputs.
 *
 * and, for each, the cost of building the graph (context, tensors, cgraph)
 * and of allocating it (gallocr for backend; the context's own bump
 * allocation, already part of the build, for cplan).
 *
 * This is a separate program, built by hand against a ggml checkout
 * (tools/bench/README.md), because weft does not depend on ggml. It prints
 * one line per mode that weft-bench parses:
 *
 *   ggml_overhead mode=<cplan|backend> nodes=N elements=E runs=R threads=1
 *     execute_median_ns=.. execute_min_ns=.. execute_p90_ns=.. (per node)
 *     build_ns=.. alloc_ns=.. (per node, medians) output=<value> check=<ok|bad>
 *
 * (all on one line), after a line "ggml_overhead version=.. commit=..". */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"

#define GGML_OVERHEAD_MAX_RUNS 100000
#define GGML_OVERHEAD_MAX_NODES 10000000
#define GGML_OVERHEAD_MAX_ELEMENTS 65536

typedef struct options_t {
  long nodes;
  long runs;
  long warmup;
  long elements;
  long build_runs;
  bool cplan;
  bool backend;
} options_t;

static uint64_t now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static int compare_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* Sorts `values` in place. */
static double median_of(double* values, size_t count) {
  qsort(values, count, sizeof(*values), compare_double);
  return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2.0;
}

static double p90_of_sorted(const double* values, size_t count) {
  size_t rank = (count * 9 + 9) / 10;
  return values[rank - 1];
}

/* The value weft-bench and this program must both produce, computed the way
 * the kernels do (float add, float multiply). */
static float expected_value(long nodes, float x) {
  float t = x;
  for (long i = 0; i < nodes; ++i) t = (i % 2 == 0) ? t + x : t * 0.25f;
  return t;
}

static struct ggml_tensor* build_chain(struct ggml_context* ctx, struct ggml_tensor* x,
                                       long nodes) {
  struct ggml_tensor* t = x;
  for (long i = 0; i < nodes; ++i) {
    t = (i % 2 == 0) ? ggml_add(ctx, t, x) : ggml_scale(ctx, t, 0.25f);
  }
  return t;
}

static size_t context_size(const options_t* o, bool with_data) {
  size_t tensors = (size_t)o->nodes + 1;
  size_t size = tensors * ggml_tensor_overhead() + ggml_graph_overhead_custom(tensors, false);
  if (with_data) size += tensors * ((size_t)o->elements * sizeof(float) + 64);
  return size + 4096;
}

static bool values_close(float a, float b) {
  float d = a > b ? a - b : b - a;
  float m = (a > 0 ? a : -a) + 1e-6f;
  return d <= 1e-5f * m;
}

static void print_result(const char* mode, const options_t* o, double* samples, double build,
                         double alloc, float output, float expected) {
  size_t count = (size_t)o->runs;
  double median = median_of(samples, count);
  printf("ggml_overhead mode=%s nodes=%ld elements=%ld runs=%ld threads=1 "
         "execute_median_ns=%.3f execute_min_ns=%.3f execute_p90_ns=%.3f build_ns=%.3f "
         "alloc_ns=%.3f output=%.9g check=%s\n",
         mode, o->nodes, o->elements, o->runs, median / (double)o->nodes,
         samples[0] / (double)o->nodes, p90_of_sorted(samples, count) / (double)o->nodes,
         build / (double)o->nodes, alloc / (double)o->nodes, (double)output,
         values_close(output, expected) ? "ok" : "bad");
  fflush(stdout);
}

/* ggml_graph_compute with a plan made once; the context holds the data. */
static int run_cplan(const options_t* o, const float* input, float expected) {
  double* builds = calloc((size_t)o->build_runs, sizeof(double));
  double* samples = calloc((size_t)o->runs, sizeof(double));
  if (!builds || !samples) {
    fprintf(stderr, "ggml_overhead: out of memory\n");
    free(builds);
    free(samples);
    return 1;
  }
  struct ggml_context* ctx = NULL;
  struct ggml_tensor* x = NULL;
  struct ggml_tensor* out = NULL;
  struct ggml_cgraph* graph = NULL;
  for (long b = 0; b < o->build_runs; ++b) {
    if (ctx) ggml_free(ctx);
    uint64_t start = now_ns();
    struct ggml_init_params params = {context_size(o, true), NULL, false};
    ctx = ggml_init(params);
    x = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, o->elements);
    out = build_chain(ctx, x, o->nodes);
    graph = ggml_new_graph_custom(ctx, (size_t)o->nodes + 1, false);
    ggml_build_forward_expand(graph, out);
    builds[b] = (double)(now_ns() - start);
  }
  memcpy(x->data, input, (size_t)o->elements * sizeof(float));
  struct ggml_cplan plan = ggml_graph_plan(graph, 1, NULL);
  uint8_t* work = plan.work_size ? malloc(plan.work_size) : NULL;
  plan.work_data = work;
  int rc = 0;
  for (long r = -o->warmup; r < o->runs; ++r) {
    uint64_t start = now_ns();
    enum ggml_status status = ggml_graph_compute(graph, &plan);
    uint64_t end = now_ns();
    if (status != GGML_STATUS_SUCCESS) {
      fprintf(stderr, "ggml_overhead: ggml_graph_compute returned %d\n", (int)status);
      rc = 1;
      break;
    }
    if (r >= 0) samples[r] = (double)(end - start);
  }
  if (rc == 0) {
    float value = ((const float*)out->data)[0];
    print_result("cplan", o, samples, median_of(builds, (size_t)o->build_runs), 0.0, value,
                 expected);
  }
  free(work);
  ggml_free(ctx);
  free(builds);
  free(samples);
  return rc;
}

/* ggml_backend_graph_compute on the CPU backend with a gallocr arena. */
static int run_backend(const options_t* o, const float* input, float expected) {
  double* builds = calloc((size_t)o->build_runs, sizeof(double));
  double* allocs = calloc((size_t)o->build_runs, sizeof(double));
  double* samples = calloc((size_t)o->runs, sizeof(double));
  ggml_backend_t backend = ggml_backend_cpu_init();
  if (!builds || !allocs || !samples || !backend) {
    fprintf(stderr, "ggml_overhead: out of memory or no CPU backend\n");
    free(builds);
    free(allocs);
    free(samples);
    if (backend) ggml_backend_free(backend);
    return 1;
  }
  ggml_backend_cpu_set_n_threads(backend, 1);
  struct ggml_context* ctx = NULL;
  ggml_gallocr_t galloc = NULL;
  struct ggml_tensor* x = NULL;
  struct ggml_tensor* out = NULL;
  struct ggml_cgraph* graph = NULL;
  int rc = 0;
  for (long b = 0; b < o->build_runs && rc == 0; ++b) {
    if (galloc) ggml_gallocr_free(galloc);
    if (ctx) ggml_free(ctx);
    uint64_t start = now_ns();
    struct ggml_init_params params = {context_size(o, false), NULL, true};
    ctx = ggml_init(params);
    x = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, o->elements);
    ggml_set_input(x);
    out = build_chain(ctx, x, o->nodes);
    ggml_set_output(out);
    graph = ggml_new_graph_custom(ctx, (size_t)o->nodes + 1, false);
    ggml_build_forward_expand(graph, out);
    uint64_t built = now_ns();
    galloc = ggml_gallocr_new(ggml_backend_get_default_buffer_type(backend));
    if (!ggml_gallocr_alloc_graph(galloc, graph)) {
      fprintf(stderr, "ggml_overhead: ggml_gallocr_alloc_graph failed\n");
      rc = 1;
    }
    uint64_t allocated = now_ns();
    builds[b] = (double)(built - start);
    allocs[b] = (double)(allocated - built);
  }
  const size_t bytes = (size_t)o->elements * sizeof(float);
  for (long r = -o->warmup; r < o->runs && rc == 0; ++r) {
    uint64_t start = now_ns();
    ggml_backend_tensor_set(x, input, 0, bytes);
    enum ggml_status status = ggml_backend_graph_compute(backend, graph);
    uint64_t end = now_ns();
    if (status != GGML_STATUS_SUCCESS) {
      fprintf(stderr, "ggml_overhead: ggml_backend_graph_compute returned %d\n", (int)status);
      rc = 1;
      break;
    }
    if (r >= 0) samples[r] = (double)(end - start);
  }
  if (rc == 0) {
    float value = 0.0f;
    ggml_backend_tensor_get(out, &value, 0, sizeof(value));
    print_result("backend", o, samples, median_of(builds, (size_t)o->build_runs),
                 median_of(allocs, (size_t)o->build_runs), value, expected);
  }
  if (galloc) ggml_gallocr_free(galloc);
  if (ctx) ggml_free(ctx);
  ggml_backend_free(backend);
  free(builds);
  free(allocs);
  free(samples);
  return rc;
}

static void usage(FILE* out) {
  fprintf(out,
          "usage: ggml_overhead [--nodes N] [--runs R] [--warmup W] [--elements E]\n"
          "                     [--build-runs B] [--mode cplan|backend|both]\n"
          "  --nodes N       ops in the chain (default 10000)\n"
          "  --runs R        timed executions (default 50)\n"
          "  --warmup W      untimed executions first (default 5)\n"
          "  --elements E    f32 elements of every tensor (default 4)\n"
          "  --build-runs B  graph builds (and allocations) timed (default 5)\n"
          "  --mode M        which ggml entry point to time (default both)\n");
}

static bool parse_long(const char* text, long low, long high, long* out) {
  char* end = NULL;
  long value = strtol(text, &end, 10);
  if (!text[0] || *end || value < low || value > high) return false;
  *out = value;
  return true;
}

int main(int argc, char** argv) {
  options_t o = {10000, 50, 5, 4, 5, true, true};
  for (int i = 1; i < argc; i += 2) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    bool ok = value != NULL;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(arg, "--nodes") == 0) {
      ok = ok && parse_long(value, 1, GGML_OVERHEAD_MAX_NODES, &o.nodes);
    } else if (strcmp(arg, "--runs") == 0) {
      ok = ok && parse_long(value, 1, GGML_OVERHEAD_MAX_RUNS, &o.runs);
    } else if (strcmp(arg, "--warmup") == 0) {
      ok = ok && parse_long(value, 0, GGML_OVERHEAD_MAX_RUNS, &o.warmup);
    } else if (strcmp(arg, "--elements") == 0) {
      ok = ok && parse_long(value, 1, GGML_OVERHEAD_MAX_ELEMENTS, &o.elements);
    } else if (strcmp(arg, "--build-runs") == 0) {
      ok = ok && parse_long(value, 1, GGML_OVERHEAD_MAX_RUNS, &o.build_runs);
    } else if (strcmp(arg, "--mode") == 0) {
      ok = ok && (strcmp(value, "cplan") == 0 || strcmp(value, "backend") == 0 ||
                  strcmp(value, "both") == 0);
      if (ok) {
        o.cplan = strcmp(value, "backend") != 0;
        o.backend = strcmp(value, "cplan") != 0;
      }
    } else {
      fprintf(stderr, "ggml_overhead: unknown option '%s'\n", arg);
      usage(stderr);
      return 2;
    }
    if (!ok) {
      fprintf(stderr, "ggml_overhead: %s needs a value in range, got '%s'\n", arg,
              value ? value : "(nothing)");
      return 2;
    }
  }
  /* ggml logs through stderr; keep stdout for the result lines. */
  float* input = malloc((size_t)o.elements * sizeof(float));
  if (!input) {
    fprintf(stderr, "ggml_overhead: out of memory\n");
    return 1;
  }
  for (long i = 0; i < o.elements; ++i) input[i] = 1.0f + 0.25f * (float)i;
  float expected = expected_value(o.nodes, input[0]);
  printf("ggml_overhead version=%s commit=%s\n", ggml_version(), ggml_commit());
  fflush(stdout);
  int rc = 0;
  if (o.cplan) rc = run_cplan(&o, input, expected);
  if (rc == 0 && o.backend) rc = run_backend(&o, input, expected);
  free(input);
  return rc;
}
