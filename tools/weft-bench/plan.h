/* weft-bench plan: what planning costs, and what running a plan again saves.
 *
 * Compiles the transformer of tools/common/block.c (N layers, small width
 * so that memory stays small) again and again, then executes one of the
 * programs repeatedly without planning again, and prints both times, the
 * share planning would add to every run if it were redone each time, and
 * the planned arena against the sum of every intermediate's size.
 * docs/perf.md, "Planning cost", records a run. */
#ifndef WEFT_TOOLS_BENCH_PLAN_H_
#define WEFT_TOOLS_BENCH_PLAN_H_

int weft_bench_plan_main(int argc, char** argv);
extern const char weft_bench_plan_usage[];

#endif /* WEFT_TOOLS_BENCH_PLAN_H_ */
