/* Graph-level cases on the reference CPU, with the llama-style transformer
 * block of tools/common/block.c:
 *   - the planner's reuse changes nothing: the block compiled normally gives
 *     bit-identical results to the same block with every intermediate kept
 *     (no memory shared), i.e. to the plain composition of the reference ops;
 *   - the planned peak is far below the sum of all intermediates, with ops
 *     run in place where docs/ops.md allows it;
 *   - a graph compiled with WEFT_COMPILE_FLAG_DEBUG logs its placement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "block.h"
#include "graph_impl.h"
#include "weft/weft.h"

static const weft_block_config_t kConfig = {
    .embd = 64, .heads = 4, .kv_heads = 2, .ffn = 160, .tokens = 7, .layers = 2, .seed = 42};

static int g_scheduler_lines;

static void count_scheduler_lines(void* user, weft_log_level_t level, const char* source,
                                  const char* message) {
  (void)user;
  (void)level;
  (void)message;
  if (strcmp(source, "scheduler") == 0) ++g_scheduler_lines;
}

static weft_runtime_t* runtime_create(void) {
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  options.flags = WEFT_RUNTIME_FLAG_IGNORE_ENV | WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  options.log_fn = count_scheduler_lines;
  weft_runtime_t* runtime = NULL;
  assert_null(weft_runtime_create(&options, weft_allocator_system(), &runtime));
  return runtime;
}

/* Runs the block; with keep_all every op result is an output. */
static float* run_block(weft_runtime_t* runtime, bool keep_all, weft_program_stats_t* stats,
                        uint32_t flags) {
  weft_device_t* cpu = NULL;
  assert_null(weft_runtime_device_find(runtime, "cpu-ref:0", &cpu));
  weft_graph_t* graph = NULL;
  assert_null(weft_graph_create(runtime, &graph));
  weft_block_t block;
  assert_null(weft_block_init(&kConfig, cpu, graph, &block));
  if (keep_all) {
    for (size_t i = 0; i < graph->tensor_count; ++i) {
      if (graph->tensors[i]->kind == WEFT_TENSOR_KIND_RESULT) {
        assert_null(weft_graph_output(graph, graph->tensors[i]));
      }
    }
  }
  weft_compile_options_t options;
  weft_compile_options_init(&options);
  options.flags = flags;
  weft_program_t* program = NULL;
  assert_null(weft_graph_compile(graph, &options, &program));
  weft_program_stats_get(program, stats);
  assert_null(weft_block_inputs_set(&kConfig, &block, program, 7));
  assert_null(weft_program_execute(program));
  size_t count = (size_t)(kConfig.embd * kConfig.tokens);
  float* result = (float*)malloc(count * sizeof(float));
  assert_non_null(result);
  assert_null(weft_program_read(program, block.out, result, count * sizeof(float)));
  weft_program_destroy(program);
  weft_graph_destroy(graph);
  weft_block_deinit(&block);
  return result;
}

static void test_reuse_changes_nothing_and_saves_memory(void** state) {
  (void)state;
  weft_runtime_t* runtime = runtime_create();
  weft_program_stats_t planned, kept;
  float* with_reuse = run_block(runtime, false, &planned, 0);
  float* without = run_block(runtime, true, &kept, 0);
  size_t count = (size_t)(kConfig.embd * kConfig.tokens);
  assert_memory_equal(with_reuse, without, count * sizeof(float));
  for (size_t i = 0; i < count; ++i) assert_true(with_reuse[i] == with_reuse[i]); /* no NaN */
  print_message("block x%d: %zu ops, planned %llu bytes, intermediates %llu bytes; every "
                "intermediate kept: %llu bytes\n",
                kConfig.layers, planned.node_count, (unsigned long long)planned.planned_bytes,
                (unsigned long long)planned.unplanned_bytes,
                (unsigned long long)kept.planned_bytes);
  assert_int_equal(planned.node_count, kept.node_count);
  /* The residual adds, norms and activations run in place. */
  assert_true(planned.in_place_count > 0);
  assert_int_equal(kept.in_place_count, 0);
  /* Liveness reuse: at most a quarter of the sum of all intermediates. */
  assert_true(planned.planned_bytes * 4 <= planned.unplanned_bytes);
  /* With every result kept nothing can share: most of the sum is needed. */
  assert_true(kept.planned_bytes * 4 >= planned.unplanned_bytes * 3);
  free(with_reuse);
  free(without);
  weft_runtime_destroy(runtime);
}

static void test_debug_flag_logs_the_schedule(void** state) {
  (void)state;
  weft_runtime_t* runtime = runtime_create();
  weft_program_stats_t stats;
  g_scheduler_lines = 0;
  free(run_block(runtime, false, &stats, WEFT_COMPILE_FLAG_DEBUG));
  /* One segment and one arena line at least. */
  assert_true(g_scheduler_lines >= 2);
  weft_runtime_destroy(runtime);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reuse_changes_nothing_and_saves_memory),
      cmocka_unit_test(test_debug_flag_logs_the_schedule),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
