/* weft-bench executor: overhead per node of the graph executor, beside ggml.
 * See executor.h.
 *
 * The graph: an input x of E f32 elements (default 4), then N ops (default
 * 10,000) alternating t = add(t, x) and t = scale(t, 0.25), the last t the
 * output. Every op is a few floating-point operations, so the time per node
 * is the executor's: for weft, weft_program_execute of the compiled program
 * on the reference CPU (one thread); for ggml, ggml_graph_compute and
 * ggml_backend_graph_compute on one thread (tools/bench/ggml_overhead.c).
 *
 * A round measures weft (C graph builds and compiles, then W warm-up and R
 * timed executions of the last program) and then, with --ggml, runs the
 * harness as a child process with the same N, E, R, W and C. Rounds
 * alternate so that a slow moment of a shared machine spreads over both;
 * the report gives the median of the round medians. */
#define _GNU_SOURCE
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "weft/weft.h"

#ifndef WEFT_BENCH_BUILD_TYPE
#define WEFT_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef WEFT_BENCH_SANITIZERS
#define WEFT_BENCH_SANITIZERS ""
#endif

extern char** environ;

const char weft_bench_executor_usage[] =
    "  --nodes N         ops in the chain (default 10000)\n"
    "  --elements E      f32 elements of every tensor (default 4)\n"
    "  --runs R          timed executions per round (default 50)\n"
    "  --warmup W        untimed executions before them (default 5)\n"
    "  --compile-runs C  graph builds and compiles timed per round (default 5)\n"
    "  --rounds K        rounds; with --ggml, weft then ggml in each (default 3)\n"
    "  --ggml PATH       the ggml harness (tools/bench/ggml_overhead, built by hand\n"
    "                    against a ggml checkout: tools/bench/README.md), run each round\n"
    "                    with the same graph; prints weft / ggml ratios\n";

#define WEFT_BENCH_EXECUTOR_MAX_NODES 1000000
#define WEFT_BENCH_EXECUTOR_MAX_ELEMENTS 65536
#define WEFT_BENCH_EXECUTOR_MAX_RUNS 100000
#define WEFT_BENCH_EXECUTOR_MAX_ROUNDS 100
#define WEFT_BENCH_EXECUTOR_SCALE 0.25f

typedef struct weft_bench_executor_options_t {
  long nodes;
  long elements;
  long runs;
  long warmup;
  long compile_runs;
  long rounds;
  const char* ggml;
} weft_bench_executor_options_t;

/* One round's medians, in nanoseconds per node. */
typedef struct weft_bench_executor_round_t {
  double execute;     /* median */
  double execute_min;
  double execute_p90;
  double build;       /* graph API calls (weft) or context + graph (ggml) */
  double plan;        /* weft_graph_compile, or ggml_gallocr (backend) */
  float output;       /* element 0 of the result */
  bool ok;            /* measured and the output is right */
} weft_bench_executor_round_t;

/* ---- shared with plan.c ---- */

void weft_bench_machine_print(void) {
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
  printf("build      %s, sanitizers: %s\n", WEFT_BENCH_BUILD_TYPE,
         WEFT_BENCH_SANITIZERS[0] != '\0' ? WEFT_BENCH_SANITIZERS : "none");
  if (WEFT_BENCH_SANITIZERS[0] != '\0') {
    printf("           (sanitizers slow every allocation and call: not numbers to keep)\n");
  }
  if (uname(&system) == 0) {
    printf("machine    %s %s %s, %ld CPUs online, %s\n", system.sysname, system.release,
           system.machine, sysconf(_SC_NPROCESSORS_ONLN), cpu);
  }
}

/* ---- the weft side ---- */

/* What the harness computes too: float add, float multiply. */
static float weft_bench_executor_expected(long nodes, float x) {
  float t = x;
  for (long i = 0; i < nodes; ++i) {
    t = (i % 2 == 0) ? t + x : t * WEFT_BENCH_EXECUTOR_SCALE;
  }
  return t;
}

static bool weft_bench_executor_close(float a, float b) {
  float difference = fabsf(a - b);
  return difference <= 1e-5f * (fabsf(a) + 1e-6f);
}

static weft_status_t weft_bench_executor_graph(weft_runtime_t* runtime,
                                               const weft_bench_executor_options_t* o,
                                               weft_graph_t** out_graph, weft_tensor_t** out_x,
                                               weft_tensor_t** out_result) {
  weft_graph_t* graph = NULL;
  WEFT_RETURN_IF_ERROR(weft_graph_create(runtime, &graph));
  int64_t ne[1] = {o->elements};
  weft_tensor_t* x = NULL;
  weft_status_t status = weft_graph_input(graph, "x", WEFT_DTYPE_F32, 1, ne, &x);
  weft_tensor_t* t = x;
  for (long i = 0; i < o->nodes && status == WEFT_OK; ++i) {
    status = (i % 2 == 0) ? weft_graph_add(graph, t, x, &t)
                          : weft_graph_scale(graph, t, WEFT_BENCH_EXECUTOR_SCALE, 0.0f, &t);
  }
  if (status == WEFT_OK) status = weft_graph_output(graph, t);
  if (status != WEFT_OK) {
    weft_graph_destroy(graph);
    return status;
  }
  *out_graph = graph;
  *out_x = x;
  *out_result = t;
  return WEFT_OK;
}

/* Builds and compiles C times (timing each part), then executes the last
 * program W + R times. */
static weft_status_t weft_bench_executor_weft_round(weft_runtime_t* runtime,
                                                    weft_device_t* device,
                                                    const weft_bench_executor_options_t* o,
                                                    const float* input, double* samples,
                                                    weft_bench_executor_round_t* out) {
  memset(out, 0, sizeof(*out));
  const double n = (double)o->nodes;
  double* builds = calloc((size_t)o->compile_runs, sizeof(double));
  double* compiles = calloc((size_t)o->compile_runs, sizeof(double));
  float* result = calloc((size_t)o->elements, sizeof(float));
  weft_status_t status = WEFT_OK;
  if (!builds || !compiles || !result) {
    status = weft_status_make(WEFT_STATUS_OUT_OF_MEMORY, "executor benchmark: %ld samples",
                              o->compile_runs);
  }
  weft_program_t* program = NULL;
  weft_tensor_t* x = NULL;
  weft_tensor_t* last = NULL;
  weft_compile_options_t options;
  weft_compile_options_init(&options);
  options.devices = &device;
  options.device_count = 1;
  /* The last graph stays: its tensor handles name the input and output. */
  weft_graph_t* graph = NULL;
  for (long c = 0; c < o->compile_runs && status == WEFT_OK; ++c) {
    weft_program_destroy(program);
    weft_graph_destroy(graph);
    program = NULL;
    graph = NULL;
    uint64_t start = weft_bench_now_ns();
    status = weft_bench_executor_graph(runtime, o, &graph, &x, &last);
    uint64_t built = weft_bench_now_ns();
    if (status == WEFT_OK) status = weft_graph_compile(graph, &options, &program);
    uint64_t compiled = weft_bench_now_ns();
    builds[c] = (double)(built - start) / n;
    compiles[c] = (double)(compiled - built) / n;
  }
  if (status == WEFT_OK) {
    weft_program_stats_t stats;
    weft_program_stats_get(program, &stats);
    if (stats.node_count != (size_t)o->nodes) {
      status = weft_status_make(WEFT_STATUS_INTERNAL,
                                "executor benchmark: the program runs %zu ops, expected %ld",
                                stats.node_count, o->nodes);
    }
  }
  if (status == WEFT_OK) {
    status = weft_program_set_input(program, x, input, (uint64_t)o->elements * sizeof(float));
  }
  for (long r = -o->warmup; r < o->runs && status == WEFT_OK; ++r) {
    uint64_t start = weft_bench_now_ns();
    status = weft_program_execute(program);
    uint64_t end = weft_bench_now_ns();
    if (r >= 0) samples[r] = (double)(end - start) / n;
  }
  if (status == WEFT_OK) {
    status = weft_program_read(program, last, result, (uint64_t)o->elements * sizeof(float));
  }
  if (status == WEFT_OK) {
    weft_bench_stats_t execute = weft_bench_stats(samples, (size_t)o->runs);
    out->execute = execute.median;
    out->execute_min = execute.min;
    out->execute_p90 = execute.p90;
    out->build = weft_bench_stats(builds, (size_t)o->compile_runs).median;
    out->plan = weft_bench_stats(compiles, (size_t)o->compile_runs).median;
    out->output = result[0];
    out->ok = true;
    for (long i = 0; i < o->elements && out->ok; ++i) {
      out->ok = weft_bench_executor_close(result[i],
                                          weft_bench_executor_expected(o->nodes, input[i]));
    }
  }
  weft_program_destroy(program);
  weft_graph_destroy(graph);
  free(builds);
  free(compiles);
  free(result);
  return status;
}

/* ---- the ggml side: the harness as a child process ---- */

/* The number after " key=" in `line`. */
static bool weft_bench_executor_field(const char* line, const char* key, double* out) {
  char pattern[64];
  snprintf(pattern, sizeof(pattern), " %s=", key);
  const char* at = strstr(line, pattern);
  if (at == NULL) return false;
  char* end = NULL;
  errno = 0;
  double value = strtod(at + strlen(pattern), &end);
  if (errno != 0 || end == at + strlen(pattern)) return false;
  *out = value;
  return true;
}

static bool weft_bench_executor_text_field(const char* line, const char* key, char* out,
                                           size_t cap) {
  char pattern[64];
  snprintf(pattern, sizeof(pattern), " %s=", key);
  const char* at = strstr(line, pattern);
  if (at == NULL || cap == 0) return false;
  at += strlen(pattern);
  size_t length = strcspn(at, " \n");
  if (length >= cap) length = cap - 1;
  memcpy(out, at, length);
  out[length] = '\0';
  return true;
}

typedef struct weft_bench_executor_ggml_t {
  weft_bench_executor_round_t cplan;
  weft_bench_executor_round_t backend;
  char version[64];
  char error[256];
} weft_bench_executor_ggml_t;

/* One "ggml_overhead mode=..." line into `round`; checks that the harness
 * measured the graph that was asked for. */
static bool weft_bench_executor_ggml_line(const char* line,
                                          const weft_bench_executor_options_t* o,
                                          weft_bench_executor_round_t* round, char* error,
                                          size_t cap) {
  double nodes = 0, elements = 0, output = 0;
  char check[16] = "";
  bool parsed = weft_bench_executor_field(line, "nodes", &nodes) &&
                weft_bench_executor_field(line, "elements", &elements) &&
                weft_bench_executor_field(line, "execute_median_ns", &round->execute) &&
                weft_bench_executor_field(line, "execute_min_ns", &round->execute_min) &&
                weft_bench_executor_field(line, "execute_p90_ns", &round->execute_p90) &&
                weft_bench_executor_field(line, "build_ns", &round->build) &&
                weft_bench_executor_field(line, "alloc_ns", &round->plan) &&
                weft_bench_executor_field(line, "output", &output) &&
                weft_bench_executor_text_field(line, "check", check, sizeof(check));
  if (!parsed) {
    snprintf(error, cap, "cannot parse the harness's line: %.180s", line);
    return false;
  }
  if ((long)nodes != o->nodes || (long)elements != o->elements) {
    snprintf(error, cap, "the harness measured %.0f nodes of %.0f elements, not %ld of %ld",
             nodes, elements, o->nodes, o->elements);
    return false;
  }
  round->output = (float)output;
  round->ok = strcmp(check, "ok") == 0;
  if (!round->ok) snprintf(error, cap, "the harness's output %g is wrong", output);
  return round->ok;
}

/* Runs the harness with stdout on a pipe (stderr stays the terminal's, so
 * ggml's own messages show) and parses its result lines. */
static bool weft_bench_executor_ggml_run(const weft_bench_executor_options_t* o,
                                         weft_bench_executor_ggml_t* out) {
  memset(out, 0, sizeof(*out));
  char nodes[24], elements[24], runs[24], warmup[24], builds[24];
  snprintf(nodes, sizeof(nodes), "%ld", o->nodes);
  snprintf(elements, sizeof(elements), "%ld", o->elements);
  snprintf(runs, sizeof(runs), "%ld", o->runs);
  snprintf(warmup, sizeof(warmup), "%ld", o->warmup);
  snprintf(builds, sizeof(builds), "%ld", o->compile_runs);
  char* argv[] = {(char*)o->ggml,   (char*)"--nodes",  nodes,         (char*)"--elements",
                  elements,         (char*)"--runs",   runs,          (char*)"--warmup",
                  warmup,           (char*)"--build-runs", builds,    NULL};
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    snprintf(out->error, sizeof(out->error), "pipe: %s", strerror(errno));
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  pid_t pid = 0;
  int error = posix_spawn(&pid, o->ggml, &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (error != 0) {
    close(fds[0]);
    snprintf(out->error, sizeof(out->error), "cannot run %s: %s", o->ggml, strerror(error));
    return false;
  }
  FILE* pipe = fdopen(fds[0], "r");
  bool have_cplan = false, have_backend = false, ok = true;
  if (pipe == NULL) {
    close(fds[0]);
    ok = false;
    snprintf(out->error, sizeof(out->error), "fdopen: %s", strerror(errno));
  }
  char line[1024];
  while (pipe != NULL && fgets(line, sizeof(line), pipe) != NULL) {
    if (strncmp(line, "ggml_overhead ", 14) != 0) continue;
    if (strstr(line, " version=") != NULL) {
      weft_bench_executor_text_field(line, "version", out->version, sizeof(out->version));
    } else if (ok && strstr(line, " mode=cplan ") != NULL) {
      ok = weft_bench_executor_ggml_line(line, o, &out->cplan, out->error, sizeof(out->error));
      have_cplan = ok;
    } else if (ok && strstr(line, " mode=backend ") != NULL) {
      ok = weft_bench_executor_ggml_line(line, o, &out->backend, out->error,
                                         sizeof(out->error));
      have_backend = ok;
    }
  }
  if (pipe != NULL) fclose(pipe);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (ok && !(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)) {
    ok = false;
    snprintf(out->error, sizeof(out->error), "%s %s %d", o->ggml,
             WIFEXITED(wstatus) ? "exited with" : "was killed by signal",
             WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus));
  }
  if (ok && !(have_cplan && have_backend)) {
    ok = false;
    snprintf(out->error, sizeof(out->error), "%s printed no result line for %s", o->ggml,
             have_cplan ? "mode=backend" : "mode=cplan");
  }
  return ok;
}

/* ---- the report ---- */

typedef struct weft_bench_executor_series_t {
  double execute, execute_min, execute_p90, build, plan;
} weft_bench_executor_series_t;

/* Medians of the round medians; the minimum of the minima. */
static weft_bench_executor_series_t weft_bench_executor_summary(
    const weft_bench_executor_round_t* rounds, size_t count, double* scratch) {
  weft_bench_executor_series_t s;
  memset(&s, 0, sizeof(s));
#define WEFT_BENCH_EXECUTOR_MEDIAN(member)                                     \
  do {                                                                         \
    for (size_t i = 0; i < count; ++i) scratch[i] = rounds[i].member;          \
    s.member = weft_bench_stats(scratch, count).median;                        \
  } while (0)
  WEFT_BENCH_EXECUTOR_MEDIAN(execute);
  WEFT_BENCH_EXECUTOR_MEDIAN(execute_p90);
  WEFT_BENCH_EXECUTOR_MEDIAN(build);
  WEFT_BENCH_EXECUTOR_MEDIAN(plan);
#undef WEFT_BENCH_EXECUTOR_MEDIAN
  for (size_t i = 0; i < count; ++i) scratch[i] = rounds[i].execute_min;
  s.execute_min = weft_bench_stats(scratch, count).min;
  return s;
}

static void weft_bench_executor_row(const char* label, const weft_bench_executor_series_t* s,
                                    long nodes) {
  printf("| %-44s | %8.1f | %8.1f | %8.1f | %9.1f |\n", label, s->execute, s->execute_min,
         s->execute_p90, s->execute * (double)nodes / 1e3);
}

static void weft_bench_executor_plan_row(const char* label,
                                         const weft_bench_executor_series_t* s) {
  printf("| %-44s | %8.1f | %8.1f | %8.1f |\n", label, s->build, s->plan, s->build + s->plan);
}

static bool weft_bench_executor_parse(int argc, char** argv, weft_bench_executor_options_t* o) {
  for (int i = 1; i < argc; i += 2) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    long* target = NULL;
    long low = 1, high = WEFT_BENCH_EXECUTOR_MAX_RUNS;
    if (strcmp(arg, "--nodes") == 0) {
      target = &o->nodes;
      high = WEFT_BENCH_EXECUTOR_MAX_NODES;
    } else if (strcmp(arg, "--elements") == 0) {
      target = &o->elements;
      high = WEFT_BENCH_EXECUTOR_MAX_ELEMENTS;
    } else if (strcmp(arg, "--runs") == 0) {
      target = &o->runs;
    } else if (strcmp(arg, "--warmup") == 0) {
      target = &o->warmup;
      low = 0;
    } else if (strcmp(arg, "--compile-runs") == 0) {
      target = &o->compile_runs;
    } else if (strcmp(arg, "--rounds") == 0) {
      target = &o->rounds;
      high = WEFT_BENCH_EXECUTOR_MAX_ROUNDS;
    } else if (strcmp(arg, "--ggml") == 0) {
      if (value == NULL || value[0] == '\0') {
        fprintf(stderr, "weft-bench executor: --ggml needs the harness's path\n");
        return false;
      }
      o->ggml = value;
      continue;
    } else {
      fprintf(stderr, "weft-bench executor: unknown option '%s' (see --help)\n", arg);
      return false;
    }
    char* end = NULL;
    long number = value != NULL ? strtol(value, &end, 10) : 0;
    if (value == NULL || value[0] == '\0' || *end != '\0' || number < low || number > high) {
      fprintf(stderr, "weft-bench executor: %s takes a number from %ld to %ld, got '%s'\n",
              arg, low, high, value != NULL ? value : "(nothing)");
      return false;
    }
    *target = number;
  }
  return true;
}

int weft_bench_executor_main(int argc, char** argv) {
  weft_bench_executor_options_t o = {10000, 4, 50, 5, 5, 3, NULL};
  if (!weft_bench_executor_parse(argc, argv, &o)) return 2;
  if (o.ggml != NULL && access(o.ggml, X_OK) != 0) {
    fprintf(stderr, "weft-bench executor: --ggml %s is not an executable file: %s\n", o.ggml,
            strerror(errno));
    return 2;
  }

  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  /* The built-in reference CPU alone: plugins found through the environment
   * or beside libweft must not change what is measured. */
  options.flags = WEFT_RUNTIME_FLAG_IGNORE_ENV | WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  weft_runtime_t* runtime = NULL;
  weft_device_t* device = NULL;
  weft_status_t status = weft_runtime_create(&options, weft_allocator_system(), &runtime);
  if (status == WEFT_OK) status = weft_runtime_device_find(runtime, "cpu-ref:0", &device);
  if (status != WEFT_OK) {
    fprintf(stderr, "weft-bench executor: %s\n", weft_status_message(status));
    weft_status_free(status);
    weft_runtime_destroy(runtime);
    return 1;
  }

  size_t rounds = (size_t)o.rounds;
  float* input = calloc((size_t)o.elements, sizeof(float));
  double* samples = calloc((size_t)o.runs, sizeof(double));
  double* scratch = calloc(rounds, sizeof(double));
  weft_bench_executor_round_t* weft = calloc(rounds, sizeof(*weft));
  weft_bench_executor_round_t* cplan = calloc(rounds, sizeof(*cplan));
  weft_bench_executor_round_t* backend = calloc(rounds, sizeof(*backend));
  int rc = 0;
  if (!input || !samples || !scratch || !weft || !cplan || !backend) {
    fprintf(stderr, "weft-bench executor: out of memory\n");
    rc = 1;
    goto done;
  }
  for (long i = 0; i < o.elements; ++i) input[i] = 1.0f + 0.25f * (float)i;

  printf("weft-bench executor: overhead per node of a chain of tiny ops\n");
  weft_bench_machine_print();
  printf("graph      %ld ops, add and scale alternating, on f32 [%ld]; one input, one output\n",
         o.nodes, o.elements);
  printf("weft       reference CPU (cpu-ref:0), one thread; weft_program_execute\n");
  printf("runs       %ld timed after %ld warm-up, %ld graph builds and compiles, %ld round%s\n",
         o.runs, o.warmup, o.compile_runs, o.rounds, o.rounds == 1 ? "" : "s");
  fflush(stdout);

  char version[64] = "";
  for (size_t r = 0; r < rounds && rc == 0; ++r) {
    status = weft_bench_executor_weft_round(runtime, device, &o, input, samples, &weft[r]);
    if (status != WEFT_OK) {
      fprintf(stderr, "weft-bench executor: %s\n", weft_status_message(status));
      weft_status_free(status);
      rc = 1;
      break;
    }
    if (!weft[r].ok) {
      fprintf(stderr, "weft-bench executor: weft computed %g, expected %g\n",
              (double)weft[r].output, (double)weft_bench_executor_expected(o.nodes, input[0]));
      rc = 1;
      break;
    }
    fprintf(stderr, "round %zu: weft %.1f ns/node", r + 1, weft[r].execute);
    if (o.ggml != NULL) {
      weft_bench_executor_ggml_t ggml;
      if (!weft_bench_executor_ggml_run(&o, &ggml)) {
        fprintf(stderr, "\nweft-bench executor: ggml harness: %s\n", ggml.error);
        rc = 1;
        break;
      }
      cplan[r] = ggml.cplan;
      backend[r] = ggml.backend;
      snprintf(version, sizeof(version), "%s", ggml.version);
      fprintf(stderr, ", ggml_graph_compute %.1f, ggml_backend_graph_compute %.1f",
              ggml.cplan.execute, ggml.backend.execute);
    }
    fputc('\n', stderr);
  }
  if (rc != 0) goto done;

  weft_bench_executor_series_t w = weft_bench_executor_summary(weft, rounds, scratch);
  weft_bench_executor_series_t c, b;
  memset(&c, 0, sizeof(c));
  memset(&b, 0, sizeof(b));
  if (o.ggml != NULL) {
    c = weft_bench_executor_summary(cplan, rounds, scratch);
    b = weft_bench_executor_summary(backend, rounds, scratch);
    printf("ggml       %s (version %s), one thread\n", o.ggml, version[0] ? version : "?");
  }
  printf("\nexecute, ns per node (median of round medians; min of all runs; p90)\n\n");
  printf("| %-44s | %8s | %8s | %8s | %9s |\n", "engine", "median", "min", "p90", "run (us)");
  printf("|----------------------------------------------|---------:|---------:|---------:|"
         "----------:|\n");
  weft_bench_executor_row("weft: weft_program_execute", &w, o.nodes);
  if (o.ggml != NULL) {
    weft_bench_executor_row("ggml: ggml_graph_compute (plan made once)", &c, o.nodes);
    weft_bench_executor_row("ggml: ggml_backend_graph_compute (CPU)", &b, o.nodes);
  }
  printf("\nbuild and plan, ns per node (medians)\n\n");
  printf("| %-44s | %8s | %8s | %8s |\n", "engine", "build", "plan", "total");
  printf("|----------------------------------------------|---------:|---------:|---------:|\n");
  weft_bench_executor_plan_row("weft: graph API + weft_graph_compile", &w);
  if (o.ggml != NULL) {
    weft_bench_executor_plan_row("ggml: allocating context + graph", &c);
    weft_bench_executor_plan_row("ggml: no_alloc context + graph, gallocr", &b);
    printf("\nweft / ggml (below 1: weft costs less per node)\n\n");
    printf("  execute vs ggml_graph_compute          %6.2f\n", w.execute / c.execute);
    printf("  execute vs ggml_backend_graph_compute  %6.2f\n", w.execute / b.execute);
    printf("  build + compile vs build + gallocr     %6.2f\n",
           (w.build + w.plan) / (b.build + b.plan));
    if (!weft_bench_executor_close(weft[0].output, cplan[0].output) ||
        !weft_bench_executor_close(weft[0].output, backend[0].output)) {
      printf("  (outputs differ: weft %g, ggml %g and %g)\n", (double)weft[0].output,
             (double)cplan[0].output, (double)backend[0].output);
    }
  }

done:
  free(input);
  free(samples);
  free(scratch);
  free(weft);
  free(cplan);
  free(backend);
  weft_runtime_destroy(runtime);
  return rc;
}
