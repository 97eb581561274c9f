/* The scheduler and executor across devices, with the test-split plugin
 * (tests/split: reference kernels behind separate memories and worker
 * threads, so copies and events are real):
 *   - a graph split over two devices gives the same bits as on the reference
 *     CPU alone, with copies between the devices, and with none at all when
 *     the devices have unified memory and read each other's in place;
 *   - an op a device does not support falls back to the reference CPU;
 *   - a device lost while executing is an error naming it, and with
 *     WEFT_COMPILE_FLAG_REPLAN_ON_FAILURE the program plans again without it
 *     and gets the right answer;
 *   - an arena larger than a device is refused at compile time, naming both;
 *   - running out of memory at any allocation during execution is a precise
 *     status, and the program runs correctly afterwards. */
#define _POSIX_C_SOURCE 200809L /* setenv under -std=c11 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "block.h"
#include "graph_impl.h"
#include "testing/test_allocator.h"
#include "weft/weft.h"

static const weft_block_config_t kConfig = {
    .embd = 64, .heads = 4, .kv_heads = 2, .ffn = 160, .tokens = 5, .layers = 2, .seed = 3};
#define OUT_COUNT ((size_t)(64 * 5))

static void split_env(const char* devices, const char* memory, const char* fail_after) {
  setenv("WEFT_TEST_SPLIT_DEVICES", devices, 1);
  if (memory) setenv("WEFT_TEST_SPLIT_MEMORY", memory, 1); else unsetenv("WEFT_TEST_SPLIT_MEMORY");
  if (fail_after) setenv("WEFT_TEST_SPLIT_FAIL_AFTER", fail_after, 1);
  else unsetenv("WEFT_TEST_SPLIT_FAIL_AFTER");
  unsetenv("WEFT_TEST_SPLIT_UNSUPPORTED");
  unsetenv("WEFT_TEST_SPLIT_UNIFIED");
  unsetenv("WEFT_PLUGIN_PATH");
  unsetenv("WEFT_DEVICE");
  unsetenv("WEFT_SCHED_DEBUG");
}

static weft_runtime_t* runtime_with_split(weft_allocator_t allocator) {
  const char* paths[] = {WEFT_SPLIT_PLUGIN_PATH};
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  options.flags = WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS; /* the plugin reads its knobs */
  options.plugin_paths = paths;
  options.plugin_path_count = 1;
  weft_runtime_t* runtime = NULL;
  assert_null(weft_runtime_create(&options, allocator, &runtime));
  return runtime;
}

static weft_device_t* device(weft_runtime_t* runtime, const char* id) {
  weft_device_t* found = NULL;
  assert_null(weft_runtime_device_find(runtime, id, &found));
  return found;
}

typedef struct run_t {
  weft_graph_t* graph;
  weft_block_t block;
  weft_program_t* program;
} run_t;

static weft_status_t run_prepare(weft_runtime_t* runtime, weft_device_t* weights_on,
                                 weft_device_t* const* allowed, size_t allowed_count,
                                 uint32_t flags, run_t* run) {
  memset(run, 0, sizeof(*run));
  assert_null(weft_graph_create(runtime, &run->graph));
  assert_null(weft_block_init(&kConfig, weights_on, run->graph, &run->block));
  weft_compile_options_t options;
  weft_compile_options_init(&options);
  options.flags = flags;
  options.devices = allowed;
  options.device_count = allowed_count;
  weft_status_t status = weft_graph_compile(run->graph, &options, &run->program);
  if (status == WEFT_OK) {
    assert_null(weft_block_inputs_set(&kConfig, &run->block, run->program, 5));
  }
  return status;
}

static void run_finish(run_t* run) {
  weft_program_destroy(run->program);
  weft_graph_destroy(run->graph);
  weft_block_deinit(&run->block);
}

static void run_read(run_t* run, float* out) {
  assert_null(weft_program_read(run->program, run->block.out, out, OUT_COUNT * sizeof(float)));
}

/* The block on the reference CPU alone: the answer every other run must give. */
static void reference_output(float* out) {
  split_env("2", NULL, NULL);
  weft_runtime_t* runtime = runtime_with_split(weft_allocator_system());
  weft_device_t* cpu = device(runtime, "cpu-ref:0");
  run_t run;
  assert_null(run_prepare(runtime, cpu, &cpu, 1, 0, &run));
  assert_null(weft_program_execute(run.program));
  run_read(&run, out);
  run_finish(&run);
  weft_runtime_destroy(runtime);
}

static void expect_error(weft_status_t status, weft_status_code_t code, const char* text) {
  assert_int_equal(weft_status_code(status), code);
  if (!strstr(weft_status_message(status), text)) {
    print_error("message '%s' lacks '%s'\n", weft_status_message(status), text);
    fail();
  }
  weft_status_free(status);
}

static void test_split_over_two_devices_equals_one(void** state) {
  (void)state;
  float expected[OUT_COUNT], got[OUT_COUNT];
  reference_output(expected);
  split_env("2", NULL, NULL);
  weft_runtime_t* runtime = runtime_with_split(weft_allocator_system());
  weft_device_t* d0 = device(runtime, "test-split:0");
  weft_device_t* d1 = device(runtime, "test-split:1");
  run_t run;
  memset(&run, 0, sizeof(run));
  assert_null(weft_graph_create(runtime, &run.graph));
  assert_null(weft_block_init(&kConfig, d0, run.graph, &run.block));
  /* The second half of the ops goes to the other device. */
  size_t results = 0, pinned = 0;
  for (size_t i = 0; i < run.graph->tensor_count; ++i) {
    results += run.graph->tensors[i]->kind == WEFT_TENSOR_KIND_RESULT;
  }
  for (size_t i = 0, seen = 0; i < run.graph->tensor_count; ++i) {
    weft_tensor_t* t = run.graph->tensors[i];
    if (t->kind != WEFT_TENSOR_KIND_RESULT) continue;
    if (seen++ >= results / 2) {
      assert_null(weft_tensor_pin(t, d1));
      ++pinned;
    }
  }
  assert_null(weft_graph_compile(run.graph, NULL, &run.program));
  weft_program_stats_t stats;
  weft_program_stats_get(run.program, &stats);
  assert_int_equal(stats.device_count, 2);
  assert_true(stats.copy_count > 0);
  bool saw_copy_between = false;
  for (size_t s = 0; s < weft_program_step_count(run.program); ++s) {
    weft_program_step_t step;
    assert_null(weft_program_step_get(run.program, s, &step));
    if (step.kind == 1 && strcmp(step.source_device, "test-split:0") == 0 &&
        strcmp(step.device, "test-split:1") == 0) {
      saw_copy_between = true;
    }
  }
  assert_true(saw_copy_between);
  assert_null(weft_block_inputs_set(&kConfig, &run.block, run.program, 5));
  for (int again = 0; again < 2; ++again) {
    assert_null(weft_program_execute(run.program));
    run_read(&run, got);
    assert_memory_equal(got, expected, sizeof(expected));
  }
  /* Asynchronously too. */
  assert_null(weft_program_execute_async(run.program));
  assert_null(weft_program_wait(run.program));
  run_read(&run, got);
  assert_memory_equal(got, expected, sizeof(expected));
  run_finish(&run);
  weft_runtime_destroy(runtime);
}

/* Devices with unified memory read each other's memory in place: the same
 * split as above, with no copy at all. */
static void test_unified_devices_share_memory(void** state) {
  (void)state;
  float expected[OUT_COUNT], got[OUT_COUNT];
  reference_output(expected);
  split_env("2", NULL, NULL);
  setenv("WEFT_TEST_SPLIT_UNIFIED", "1", 1);
  weft_runtime_t* runtime = runtime_with_split(weft_allocator_system());
  weft_device_t* d0 = device(runtime, "test-split:0");
  weft_device_t* d1 = device(runtime, "test-split:1");
  weft_device_t* cpu = device(runtime, "cpu-ref:0");
  run_t run;
  memset(&run, 0, sizeof(run));
  assert_null(weft_graph_create(runtime, &run.graph));
  /* Weights on the reference CPU; ops spread over the three devices. */
  assert_null(weft_block_init(&kConfig, cpu, run.graph, &run.block));
  size_t seen = 0;
  for (size_t i = 0; i < run.graph->tensor_count; ++i) {
    weft_tensor_t* t = run.graph->tensors[i];
    if (t->kind != WEFT_TENSOR_KIND_RESULT) continue;
    weft_device_t* target = (seen / 5) % 3 == 0 ? d0 : (seen / 5) % 3 == 1 ? d1 : cpu;
    if (t->op != WEFT_OP_ARGMAX) assert_null(weft_tensor_pin(t, target));
    ++seen;
  }
  assert_null(weft_graph_compile(run.graph, NULL, &run.program));
  weft_program_stats_t stats;
  weft_program_stats_get(run.program, &stats);
  assert_int_equal(stats.device_count, 3);
  assert_int_equal(stats.copy_count, 0);
  assert_true(stats.shared_count > 0);
  assert_null(weft_block_inputs_set(&kConfig, &run.block, run.program, 5));
  for (int again = 0; again < 3; ++again) {
    if (again == 2) {
      assert_null(weft_program_execute_async(run.program));
      assert_null(weft_program_wait(run.program));
    } else {
      assert_null(weft_program_execute(run.program));
    }
    run_read(&run, got);
    assert_memory_equal(got, expected, sizeof(expected));
  }
  run_finish(&run);
  weft_runtime_destroy(runtime);
  unsetenv("WEFT_TEST_SPLIT_UNIFIED");
}

static void test_unsupported_op_falls_back_to_the_reference(void** state) {
  (void)state;
  split_env("2", NULL, NULL);
  weft_runtime_t* runtime = runtime_with_split(weft_allocator_system());
  weft_graph_t* graph = NULL;
  assert_null(weft_graph_create(runtime, &graph));
  weft_tensor_t *x, *s, *a;
  int64_t ne[2] = {8, 3};
  assert_null(weft_graph_input(graph, "x", WEFT_DTYPE_F32, 2, ne, &x));
  assert_null(weft_graph_silu(graph, x, &s));
  assert_null(weft_graph_argmax(graph, s, &a)); /* test-split refuses argmax */
  assert_null(weft_graph_output(graph, a));
  weft_program_t* program = NULL;
  assert_null(weft_graph_compile(graph, NULL, &program));
  const char* silu_on = NULL;
  const char* argmax_on = NULL;
  for (size_t i = 0; i < weft_program_step_count(program); ++i) {
    weft_program_step_t step;
    assert_null(weft_program_step_get(program, i, &step));
    if (step.kind != 0) continue;
    if (strcmp(step.first_op, "silu") == 0) silu_on = step.device;
    if (strcmp(step.first_op, "argmax") == 0) argmax_on = step.device;
  }
  assert_non_null(silu_on);
  assert_non_null(argmax_on);
  assert_string_equal(silu_on, "test-split:0");
  assert_string_equal(argmax_on, "cpu-ref:0");
  float values[24];
  for (int i = 0; i < 24; ++i) values[i] = (float)((i * 5) % 8);
  assert_null(weft_program_set_input(program, x, values, sizeof(values)));
  assert_null(weft_program_execute(program));
  int32_t index[3];
  assert_null(weft_program_read(program, a, index, sizeof(index)));
  for (int r = 0; r < 3; ++r) assert_int_equal(index[r], 3); /* 3 * 5 % 8 == 7 */
  weft_program_destroy(program);
  weft_graph_destroy(graph);
  weft_runtime_destroy(runtime);
}

static void test_pinned_to_a_device_that_cannot_run_it(void** state) {
  (void)state;
  split_env("1", NULL, NULL);
  weft_runtime_t* runtime = runtime_with_split(weft_allocator_system());
  weft_graph_t* graph = NULL;
  assert_null(weft_graph_create(runtime, &graph));
  weft_tensor_t *x, *a;
  int64_t ne[2] = {8, 3};
  assert_null(weft_graph_input(graph, "x", WEFT_DTYPE_F32, 2, ne, &x));
  assert_null(weft_graph_argmax(graph, x, &a));
  assert_null(weft_tensor_name_set(a, "best"));
  assert_null(weft_tensor_pin(a, device(runtime, "test-split:0")));
  weft_program_t* program = (weft_program_t*)1;
  expect_error(weft_graph_compile(graph, NULL, &program), WEFT_STATUS_UNSUPPORTED,
               "argmax 'best' is pinned to test-split:0, which cannot run it: argmax: disabled "
               "in test-split");
  assert_null(program);
  weft_graph_destroy(graph);
  weft_runtime_destroy(runtime);
}

static void test_device_lost_then_replanned(void** state) {
  (void)state;
  float expected[OUT_COUNT], got[OUT_COUNT];
  reference_output(expected);
  for (int replan = 0; replan < 2; ++replan) {
    split_env("2", NULL, "3"); /* the third node test-split runs fails */
    weft_runtime_t* runtime = runtime_with_split(weft_allocator_system());
    weft_device_t* cpu = device(runtime, "cpu-ref:0");
    run_t run;
    assert_null(run_prepare(runtime, cpu, NULL, 0,
                            replan ? WEFT_COMPILE_FLAG_REPLAN_ON_FAILURE : 0, &run));
    weft_status_t status = weft_program_execute(run.program);
    if (!replan) {
      expect_error(status, WEFT_STATUS_DEVICE_LOST, "test-split:0");
    } else {
      assert_null(status);
      run_read(&run, got);
      assert_memory_equal(got, expected, sizeof(expected));
      /* The new plan no longer uses the lost device. */
      for (size_t s = 0; s < weft_program_step_count(run.program); ++s) {
        weft_program_step_t step;
        assert_null(weft_program_step_get(run.program, s, &step));
        assert_string_not_equal(step.device, "test-split:0");
      }
    }
    run_finish(&run);
    weft_runtime_destroy(runtime);
  }
}

static void test_arena_larger_than_the_device(void** state) {
  (void)state;
  split_env("1", "4096", NULL);
  weft_runtime_t* runtime = runtime_with_split(weft_allocator_system());
  weft_device_t* cpu = device(runtime, "cpu-ref:0");
  weft_device_t* d0 = device(runtime, "test-split:0");
  run_t run;
  weft_status_t status = run_prepare(runtime, cpu, &d0, 1, 0, &run);
  assert_int_equal(weft_status_code(status), WEFT_STATUS_RESOURCE_EXHAUSTED);
  assert_non_null(strstr(weft_status_message(status), "the planned arena of"));
  assert_non_null(strstr(weft_status_message(status), "test-split:0"));
  weft_status_free(status);
  run_finish(&run);
  /* The runtime is still usable. */
  assert_null(run_prepare(runtime, cpu, &cpu, 1, 0, &run));
  assert_null(weft_program_execute(run.program));
  run_finish(&run);
  weft_runtime_destroy(runtime);
}

static void test_out_of_memory_while_executing(void** state) {
  (void)state;
  float expected[OUT_COUNT], got[OUT_COUNT];
  reference_output(expected);
  split_env("2", NULL, NULL);
  weft_test_allocator_t counting;
  assert_true(weft_test_allocator_init(&counting));
  weft_runtime_t* runtime = runtime_with_split(weft_test_allocator_get(&counting));
  weft_device_t* cpu = device(runtime, "cpu-ref:0");
  run_t run;
  /* Weights on the reference CPU, ops on test-split: copies, scratch and
   * queued segments all allocate while executing. */
  assert_null(run_prepare(runtime, cpu, NULL, 0, 0, &run));
  int failures = 0;
  for (uint64_t n = 0; n < 400; ++n) {
    weft_test_allocator_fail_after(&counting, n);
    weft_status_t status = weft_program_execute(run.program);
    bool hit = weft_test_allocator_stats(&counting).failure_hit;
    weft_test_allocator_fail_at(&counting, WEFT_TEST_ALLOCATOR_NEVER);
    if (!hit) {
      assert_null(status);
      break;
    }
    if (status != WEFT_OK) {
      ++failures;
      assert_int_equal(weft_status_code(status), WEFT_STATUS_OUT_OF_MEMORY);
      weft_status_free(status);
    }
    /* Whatever happened, the next run is right. */
    assert_null(weft_program_execute(run.program));
    run_read(&run, got);
    assert_memory_equal(got, expected, sizeof(expected));
  }
  assert_true(failures > 0);
  run_finish(&run);
  weft_runtime_destroy(runtime);
  assert_int_equal(weft_test_allocator_stats(&counting).live_count, 0);
  weft_test_allocator_deinit(&counting);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_split_over_two_devices_equals_one),
      cmocka_unit_test(test_unified_devices_share_memory),
      cmocka_unit_test(test_unsupported_op_falls_back_to_the_reference),
      cmocka_unit_test(test_pinned_to_a_device_that_cannot_run_it),
      cmocka_unit_test(test_device_lost_then_replanned),
      cmocka_unit_test(test_arena_larger_than_the_device),
      cmocka_unit_test(test_out_of_memory_while_executing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
