/* The conformance suite's own parts: the comparisons of docs/ops.md section
 * 3, the host's counting of allocations, statuses and event signals, the
 * table of op and dtype combinations, cases the reference accepts, and a
 * quick run over the built-in reference device. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu_ref/ops/kernels.h"
#include "cts.h"
#include "cts_cases.h"
#include "cts_host.h"
#include "cts_tensor.h"

static void test_compare_nmse(void** state) {
  (void)state;
  const double want[4] = {1.0, -2.0, 0.5, 0.0};
  double got[4] = {1.0, -2.0, 0.5, 0.0};
  cts_compare_t r = cts_compare_nmse(got, want, 4, 0.0);
  assert_true(r.ok);
  assert_true(r.nmse == 0.0);
  got[2] = 0.5 + 1e-3;
  r = cts_compare_nmse(got, want, 4, 1e-7);
  assert_false(r.ok);
  assert_int_equal(r.worst, 2);
  assert_true(fabs(r.nmse - 1e-6 / 5.25) < 1e-12);
  assert_true(cts_compare_nmse(got, want, 4, 1e-6 / 5.0).ok);
  /* A NaN where the reference has one is equal; anywhere else it fails. */
  const double want_nan[2] = {NAN, 1.0};
  const double got_nan[2] = {NAN, 1.0};
  assert_true(cts_compare_nmse(got_nan, want_nan, 2, 0.0).ok);
  const double got_bad[2] = {1.0, NAN};
  assert_false(cts_compare_nmse(got_bad, want_nan, 2, 1.0).ok);
  /* All-zero reference: only exact zeros pass. */
  const double zeros[2] = {0.0, 0.0};
  const double tiny[2] = {0.0, 1e-30};
  assert_true(cts_compare_nmse(zeros, zeros, 2, 0.0).ok);
  assert_false(cts_compare_nmse(tiny, zeros, 2, 1.0).ok);
}

static void test_compare_exact(void** state) {
  (void)state;
  cts_tensor_t t;
  memset(&t, 0, sizeof(t));
  t.dtype = WEFT_DTYPE_F32;
  t.ne[0] = 3;
  t.ne[1] = t.ne[2] = t.ne[3] = 1;
  cts_tensor_contiguous(&t);
  t.offset = 4;
  uint8_t a[16] = {0}, e[16] = {0};
  cts_tensor_set(&t, a, 0, 0, 0, 0, -0.0);
  cts_tensor_set(&t, e, 0, 0, 0, 0, 0.0);
  cts_tensor_set(&t, a, 1, 0, 0, 0, NAN);
  cts_tensor_set(&t, e, 1, 0, 0, 0, NAN);
  cts_tensor_set(&t, a, 2, 0, 0, 0, 1.0);
  cts_tensor_set(&t, e, 2, 0, 0, 0, 1.0);
  assert_true(cts_compare_exact(&t, a, e).ok); /* +0 == -0, NaN == NaN */
  cts_tensor_set(&t, a, 2, 0, 0, 0, nextafterf(1.0f, 2.0f));
  cts_compare_t r = cts_compare_exact(&t, a, e);
  assert_false(r.ok);
  assert_int_equal(r.worst, 2);
  assert_int_equal(r.mismatches, 1);
  /* Integers compare as bytes. */
  t.dtype = WEFT_DTYPE_I64;
  t.ne[0] = 1;
  cts_tensor_contiguous(&t);
  const int64_t x = ((int64_t)1 << 60) + 1, y = (int64_t)1 << 60;
  memcpy(a + 4, &x, 8);
  memcpy(e + 4, &y, 8);
  assert_false(cts_compare_exact(&t, a, e).ok);
}

static void test_tensor_mark_and_span(void** state) {
  (void)state;
  cts_tensor_t t;
  memset(&t, 0, sizeof(t));
  t.dtype = WEFT_DTYPE_F16;
  t.ne[0] = 3;
  t.ne[1] = 2;
  t.ne[2] = t.ne[3] = 1;
  /* Transposed with a gap: nb[0] = 6, nb[1] = 2 * 2. */
  t.nb[0] = 6;
  t.nb[1] = 2;
  t.nb[2] = t.nb[3] = 64;
  t.offset = 1;
  assert_int_equal(cts_tensor_span(&t), 2 * 6 + 1 * 2 + 2);
  uint8_t mask[32] = {0};
  cts_tensor_mark(&t, mask);
  int marked = 0;
  for (int i = 0; i < 32; ++i) marked += mask[i];
  assert_int_equal(marked, 12);
  assert_int_equal(mask[0], 0);
  assert_int_equal(mask[1], 1);
  assert_int_equal(mask[5], 0);
  assert_int_equal(mask[7], 1);
}

static void test_host_counts(void** state) {
  (void)state;
  cts_host_t host;
  cts_host_init(&host, WEFT_ABI_VERSION, NULL, 0);
  const weft_host_services_t* s = &host.services;
  void* p = s->alloc(s->host_ctx, 100, 64);
  assert_non_null(p);
  assert_int_equal((uintptr_t)p % 64, 0);
  assert_null(s->alloc(s->host_ctx, 100, 48)); /* not a power of two */
  assert_null(s->alloc(s->host_ctx, (size_t)CTS_HOST_ALLOC_LIMIT + 1, 0));
  int local = 0;
  s->free(s->host_ctx, &local); /* foreign */
  cts_host_counters_t c = cts_host_counters(&host);
  assert_int_equal(c.live_blocks, 1);
  assert_int_equal(c.foreign_frees, 1);
  assert_int_equal(c.bad_alignment, 1);
  s->free(s->host_ctx, p);

  weft_status_t status = s->status_make(s->host_ctx, WEFT_STATUS_OUT_OF_RANGE, "x %d", 7);
  assert_int_equal(s->status_code(s->host_ctx, status), WEFT_STATUS_OUT_OF_RANGE);
  assert_string_equal(s->status_message(s->host_ctx, status), "x 7");
  assert_null(s->status_make(s->host_ctx, WEFT_STATUS_OK, "fine"));
  weft_status_t leaked = s->status_make(s->host_ctx, WEFT_STATUS_INTERNAL, "kept");
  char message[32];
  assert_int_equal(cts_host_status_take(&host, status, message, sizeof(message)),
                   WEFT_STATUS_OUT_OF_RANGE);
  assert_string_equal(message, "x 7");
  assert_int_equal(cts_host_status_take(&host, (weft_status_t)(void*)&local, NULL, 0),
                   WEFT_STATUS_UNKNOWN);
  c = cts_host_counters(&host);
  assert_int_equal(c.live_blocks, 0);
  assert_int_equal(c.statuses_made, 2);
  assert_int_equal(c.statuses_live, 1);
  assert_int_equal(c.status_foreign, 1);
  (void)leaked; /* freed by deinit, after being counted */

  cts_event_t event;
  cts_event_init(&event);
  s->event_signal(s->host_ctx, cts_event_handle(&event), WEFT_STATUS_ABORTED);
  s->event_signal(s->host_ctx, cts_event_handle(&event), WEFT_STATUS_OK);
  assert_int_equal(s->event_wait(s->host_ctx, cts_event_handle(&event), 0), WEFT_STATUS_ABORTED);
  uint32_t count = 0;
  cts_event_state(&event, NULL, NULL, &count, NULL);
  assert_int_equal(count, 2);
  cts_event_t later;
  cts_event_init(&later);
  assert_int_equal(cts_event_wait(&later, 1000000), WEFT_STATUS_DEADLINE_EXCEEDED);
  cts_signaller_t signaller;
  assert_true(cts_signaller_start(&signaller, &host, &later, WEFT_STATUS_OK, 1000000));
  assert_int_equal(cts_event_wait(&later, UINT64_MAX), WEFT_STATUS_OK);
  cts_signaller_join(&signaller);
  cts_event_deinit(&event);
  cts_event_deinit(&later);
  cts_host_deinit(&host);
}

static void test_old_host_table(void** state) {
  (void)state;
  cts_host_t host;
  cts_host_init(&host, WEFT_ABI_MAKE_VERSION(1, 0), NULL, 0);
  assert_int_equal(host.services.struct_size, offsetof(weft_host_services_t, env_get));
  assert_false(WEFT_ABI_HAS_MEMBER(&host.services, weft_host_services_t, env_get));
  /* A plugin that ignores struct_size lands in the trap. */
  assert_null(host.services.env_get(host.services.host_ctx, "HOME"));
  assert_int_equal(cts_host_counters(&host).trap_calls, 1);
  cts_host_deinit(&host);
}

static void test_combos_cover_op_set(void** state) {
  (void)state;
  const size_t count = cts_combos_build(NULL, 0);
  cts_combo_def_t* combos = calloc(count, sizeof(*combos));
  assert_non_null(combos);
  assert_int_equal(cts_combos_build(combos, count), count);
  size_t per_op[WEFT_OP_COUNT_] = {0};
  for (size_t i = 0; i < count; ++i) {
    per_op[combos[i].op]++;
    for (size_t j = 0; j < i; ++j) {
      if (combos[j].op == combos[i].op) assert_string_not_equal(combos[j].label, combos[i].label);
    }
  }
  /* docs/ops.md: 15 tables x 2 id types, 15 weight types, 27 float triples,
   * 9 float pairs, 16 + 16 cpy pairs, 8 cont/concat dtypes, 24 set_rows, 27
   * flash_attn, 3 argmax. */
  static const size_t kWant[WEFT_OP_COUNT_] = {0, 30, 15, 27, 27, 9, 9, 9, 36, 9,
                                               9, 27, 27, 32, 8, 24, 27, 3, 8};
  for (uint32_t op = 1; op < WEFT_OP_COUNT_; ++op) {
    if (per_op[op] != kWant[op]) {
      fail_msg("%s: %zu combinations, expected %zu", weft_op_name(op), per_op[op], kWant[op]);
    }
  }
  free(combos);
}

/* Every generated case is one the reference accepts: the generator and
 * docs/ops.md agree. */
static void test_cases_accepted_by_reference(void** state) {
  (void)state;
  const size_t count = cts_combos_build(NULL, 0);
  cts_combo_def_t* combos = calloc(count, sizeof(*combos));
  assert_non_null(combos);
  cts_combos_build(combos, count);
  for (size_t k = 0; k < count; ++k) {
    for (uint32_t index = 0; index < 8; ++index) {
      cts_case_t c;
      char error[256];
      if (!cts_case_make(&c, &combos[k], (uint32_t)k, index, 12345, CTS_MODE_FULL, error,
                         sizeof(error))) {
        fail_msg("%s", error);
      }
      weft_cpu_ref_tensor_t t[CTS_MAX_TENSORS];
      for (uint32_t i = 0; i < c.tensor_count; ++i) {
        t[i].dtype = c.t[i].dtype;
        memcpy(t[i].ne, c.t[i].ne, sizeof(t[i].ne));
        memcpy(t[i].nb, c.t[i].nb, sizeof(t[i].nb));
        t[i].data = c.image[c.t[i].buffer] + c.t[i].offset;
        assert_true(c.t[i].offset + c.t[i].span + 64 <= c.buffer_size[c.t[i].buffer]);
        assert_true(c.t[i].offset >= 64);
      }
      weft_cpu_ref_node_t node;
      memset(&node, 0, sizeof(node));
      node.op = c.op;
      for (int s = 0; s < WEFT_MAX_SRC; ++s) node.src[s] = c.src[s] >= 0 ? &t[c.src[s]] : NULL;
      node.dst = &t[c.dst];
      node.params = c.params_size ? &c.params : NULL;
      node.params_size = c.params_size;
      char reason[256];
      if (!weft__cpu_ref_node_check(&node, reason, sizeof(reason))) {
        fail_msg("%s refused: %s [%s]", c.case_id, reason, c.shapes);
      }
      cts_case_free(&c);
    }
  }
  free(combos);
}

static void test_builtin_quick_run(void** state) {
  (void)state;
  cts_options_t options;
  cts_options_init(&options);
  options.builtin = true;
  options.mode = CTS_MODE_QUICK;
  options.seed = 7;
  options.require_pass = true;
  cts_report_t report;
  char error[256];
  assert_true(cts_run(&options, &report, error, sizeof(error)));
  const cts_totals_t totals = cts_report_totals(&report);
  if (totals.cases_failed != 0 || totals.checks_failed != 0 || totals.ops_without_pass != 0) {
    for (size_t i = 0; i < report.checks.count; ++i) {
      if (report.checks.items[i].outcome == CTS_OUTCOME_FAIL) {
        print_message("check %s: %s\n", report.checks.items[i].name, report.checks.items[i].detail);
      }
    }
    for (size_t k = 0; k < report.device_result_count; ++k) {
      const cts_device_result_t* d = &report.devices[k];
      for (size_t i = 0; i < d->checks.count; ++i) {
        if (d->checks.items[i].outcome == CTS_OUTCOME_FAIL) {
          print_message("check %s: %s\n", d->checks.items[i].name, d->checks.items[i].detail);
        }
      }
      for (size_t i = 0; i < d->combo_count; ++i) {
        for (uint32_t f = 0; f < d->combos[i].failures_kept; ++f) {
          print_message("%s: %s\n", d->combos[i].failures[f].case_id,
                        d->combos[i].failures[f].message);
        }
      }
    }
    fail_msg("%llu cases and %llu checks failed, %llu ops without a pass",
             (unsigned long long)totals.cases_failed, (unsigned long long)totals.checks_failed,
             (unsigned long long)totals.ops_without_pass);
  }
  assert_int_equal(totals.cases_skipped, 0);
  assert_int_equal(cts_report_exit_code(&report), CTS_EXIT_OK);
  assert_int_equal(report.device_result_count, 1);
  assert_string_equal(report.plugin_name, "cpu-ref");
  cts_report_deinit(&report);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_compare_nmse),
      cmocka_unit_test(test_compare_exact),
      cmocka_unit_test(test_tensor_mark_and_span),
      cmocka_unit_test(test_host_counts),
      cmocka_unit_test(test_old_host_table),
      cmocka_unit_test(test_combos_cover_op_set),
      cmocka_unit_test(test_cases_accepted_by_reference),
      cmocka_unit_test(test_builtin_quick_run),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
