/* weft-bench executor: what the graph executor costs per node, beside ggml.
 *
 * A chain of tiny ops (t = add(t, x), t = scale(t, 0.25), alternating, on a
 * few f32 elements) runs on the reference CPU, so the kernels take next to
 * nothing and what is measured is the executor: building the graph,
 * compiling it, and executing the compiled program again and again. With
 * --ggml the harness of tools/bench (the same graph through ggml's public
 * API) runs in the same invocation, round after round, and the ratios are
 * printed. docs/perf.md, "Executor overhead per node", records a run. */
#ifndef WEFT_TOOLS_BENCH_EXECUTOR_H_
#define WEFT_TOOLS_BENCH_EXECUTOR_H_

int weft_bench_executor_main(int argc, char** argv);
extern const char weft_bench_executor_usage[];

/* Prints the build kind (and a warning for sanitizer builds) and the
 * machine: kernel, architecture, CPUs online and the CPU model. Shared by
 * the executor and planning benchmarks. */
void weft_bench_machine_print(void);

#endif /* WEFT_TOOLS_BENCH_EXECUTOR_H_ */
