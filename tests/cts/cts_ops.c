/* Op cases on a device: for each case, ask op_query (with the buffers left
 * NULL, as the ABI allows), and when the device says yes upload the inputs
 * and the guard pattern, submit a one-node segment, wait for its signal
 * event, download, and compare with the reference kernels run on the same
 * bytes in host memory. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_ref/ops/kernels.h"
#include "cts_internal.h"

/* Long enough for a slow software device under sanitizers; a device that
 * needs more for a case of 10^5 elements has a problem worth reporting. */
#define CTS_SIGNAL_TIMEOUT_NS (30ull * 1000000000ull)

typedef struct cts_case_outcome_t {
  cts_outcome_t outcome;
  char message[CTS_DETAIL_CAP];
  bool timed;
  double seconds; /* submit until the signal was seen */
} cts_case_outcome_t;

static void cts_outcome_set(cts_case_outcome_t* out, cts_outcome_t outcome, const char* format,
                            ...) __attribute__((format(printf, 3, 4)));

static void cts_outcome_set(cts_case_outcome_t* out, cts_outcome_t outcome, const char* format,
                            ...) {
  out->outcome = outcome;
  va_list args;
  va_start(args, format);
  vsnprintf(out->message, sizeof(out->message), format, args);
  va_end(args);
}

/* Appends to a failure message already set. */
static void cts_outcome_append(cts_case_outcome_t* out, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

static void cts_outcome_append(cts_case_outcome_t* out, const char* format, ...) {
  size_t used = strlen(out->message);
  if (used + 3 >= sizeof(out->message)) return;
  if (used > 0) {
    memcpy(out->message + used, "; ", 3);
    used += 2;
  }
  va_list args;
  va_start(args, format);
  vsnprintf(out->message + used, sizeof(out->message) - used, format, args);
  va_end(args);
  out->outcome = CTS_OUTCOME_FAIL;
}

/* "[i0, i1, i2, i3]" of logical index k. */
static void cts_index_text(const cts_tensor_t* t, int64_t k, char* out, size_t cap) {
  int64_t idx[4];
  for (int d = 0; d < 4; ++d) {
    idx[d] = k % t->ne[d];
    k /= t->ne[d];
  }
  snprintf(out, cap, "[%lld,%lld,%lld,%lld]", (long long)idx[0], (long long)idx[1],
           (long long)idx[2], (long long)idx[3]);
}

/* ---- the reference ---- */

/* Runs the case's node on the reference kernels over `images` (copies of
 * the case's initial buffers), which then hold the expected bytes. */
static bool cts_reference_run(const cts_case_t* c, uint8_t* const* images, char* error,
                              size_t error_cap) {
  weft_cpu_ref_tensor_t tensors[CTS_MAX_TENSORS];
  for (uint32_t i = 0; i < c->tensor_count; ++i) {
    const cts_tensor_t* t = &c->t[i];
    tensors[i].dtype = t->dtype;
    memcpy(tensors[i].ne, t->ne, sizeof(t->ne));
    memcpy(tensors[i].nb, t->nb, sizeof(t->nb));
    tensors[i].data = images[t->buffer] + t->offset;
  }
  weft_cpu_ref_node_t node;
  memset(&node, 0, sizeof(node));
  node.op = c->op;
  for (int s = 0; s < WEFT_MAX_SRC; ++s) node.src[s] = c->src[s] >= 0 ? &tensors[c->src[s]] : NULL;
  node.dst = &tensors[c->dst];
  node.params = c->params_size != 0 ? &c->params : NULL;
  node.params_size = c->params_size;
  char reason[512];
  if (!weft__cpu_ref_node_check(&node, reason, sizeof(reason))) {
    snprintf(error, error_cap, "the reference refuses this case (a bug in the suite): %.400s",
             reason);
    return false;
  }
  const size_t need = weft__cpu_ref_node_scratch_size(&node);
  void* scratch = need != 0 ? malloc(need) : NULL;
  if (need != 0 && scratch == NULL) {
    snprintf(error, error_cap, "out of memory for %zu bytes of reference scratch", need);
    return false;
  }
  const bool ran = weft__cpu_ref_node_run(&node, scratch, need, reason, sizeof(reason));
  free(scratch);
  if (!ran) snprintf(error, error_cap, "the reference failed on this case: %.400s", reason);
  return ran;
}

/* ---- comparison ---- */

/* Values of dst against the reference's. */
static void cts_compare_values(const cts_case_t* c, uint8_t* const* actual,
                               uint8_t* const* expected, cts_case_outcome_t* out) {
  const cts_tensor_t* dst = &c->t[c->dst];
  char where[96]; /* four 20-digit indices fit */
  if (c->exact) {
    cts_compare_t r = cts_compare_exact(dst, actual[dst->buffer], expected[dst->buffer]);
    if (!r.ok) {
      if (r.worst < 0) {
        cts_outcome_append(out, "out of memory comparing dst");
        return;
      }
      cts_index_text(dst, r.worst, where, sizeof(where));
      cts_outcome_append(out,
                         "not exact: %lld of %lld elements differ, first at dst%s: got %.9g, "
                         "want %.9g",
                         (long long)r.mismatches, (long long)cts_tensor_count(dst), where, r.got,
                         r.want);
    }
    return;
  }
  const int64_t n = cts_tensor_count(dst);
  double* a = (double*)malloc((size_t)n * sizeof(double));
  double* e = (double*)malloc((size_t)n * sizeof(double));
  if (a == NULL || e == NULL) {
    free(a);
    free(e);
    cts_outcome_append(out, "out of memory comparing dst");
    return;
  }
  cts_tensor_values(dst, actual[dst->buffer], a);
  cts_tensor_values(dst, expected[dst->buffer], e);
  cts_compare_t r = cts_compare_nmse(a, e, n, c->limit);
  free(a);
  free(e);
  if (!r.ok) {
    cts_index_text(dst, r.worst, where, sizeof(where));
    cts_outcome_append(out, "NMSE %.3g > %.3g (worst element dst%s: got %.9g, want %.9g)",
                       r.nmse, c->limit, where, r.got, r.want);
  }
}

/* Every byte that is not an element of dst must be as it was: the guard
 * regions around each tensor, the gaps inside strided views, the inputs. */
static void cts_compare_guards(const cts_case_t* c, uint8_t* const* actual,
                               cts_case_outcome_t* out) {
  const cts_tensor_t* dst = &c->t[c->dst];
  for (uint32_t b = 0; b < c->buffer_count; ++b) {
    uint8_t* mask = (uint8_t*)calloc(1, (size_t)c->buffer_size[b]);
    if (mask == NULL) {
      cts_outcome_append(out, "out of memory checking guards");
      return;
    }
    if (dst->buffer == b) cts_tensor_mark(dst, mask);
    uint64_t changed = 0, first = 0;
    for (uint64_t k = 0; k < c->buffer_size[b]; ++k) {
      if (mask[k] == 0 && actual[b][k] != c->image[b][k]) {
        if (changed == 0) first = k;
        ++changed;
      }
    }
    free(mask);
    if (changed == 0) continue;
    /* Say where the first changed byte is, relative to the tensors. */
    char where[160];
    int owner = -1;
    for (uint32_t i = 0; i < c->tensor_count; ++i) {
      const cts_tensor_t* t = &c->t[i];
      /* In place, src0 is dst: its gaps are dst's. */
      if (t->buffer == b && t->alias_of < 0 && first >= t->offset &&
          first < t->offset + t->span && i != c->dst && dst->alias_of != (int32_t)i) {
        owner = (int)i;
      }
    }
    if (owner >= 0) {
      int src = -1;
      for (int s = 0; s < WEFT_MAX_SRC; ++s) {
        if (c->src[s] == owner) src = s;
      }
      snprintf(where, sizeof(where), "inside input src%d (an input was modified)", src);
    } else if (dst->buffer == b && first == dst->offset + dst->span) {
      snprintf(where, sizeof(where), "right past the end of dst's last element");
    } else if (dst->buffer == b && first > dst->offset + dst->span) {
      snprintf(where, sizeof(where), "%llu bytes past the end of dst's last element",
               (unsigned long long)(first - (dst->offset + dst->span)));
    } else if (dst->buffer == b && first < dst->offset) {
      snprintf(where, sizeof(where), "%llu bytes before dst's first element",
               (unsigned long long)(dst->offset - first));
    } else if (dst->buffer == b) {
      snprintf(where, sizeof(where), "between dst's elements, at dst+%llu",
               (unsigned long long)(first - dst->offset));
    } else {
      snprintf(where, sizeof(where), "in the guard region of buffer %u", b);
    }
    cts_outcome_append(out,
                       "guard bytes changed (out-of-bounds write): %llu bytes in buffer %u, "
                       "first at byte %llu, %s (0x%02x -> 0x%02x)",
                       (unsigned long long)changed, b, (unsigned long long)first, where,
                       c->image[b][first], actual[b][first]);
  }
}

/* ---- one case on the device ---- */

typedef struct cts_case_device_t {
  weft_plugin_buffer_t* buffers[CTS_MAX_TENSORS];
  uint8_t* actual[CTS_MAX_TENSORS];
  uint8_t* expected[CTS_MAX_TENSORS];
} cts_case_device_t;

static void cts_case_device_release(cts_device_ctx_t* ctx, const cts_case_t* c,
                                    cts_case_device_t* d) {
  for (uint32_t b = 0; b < CTS_MAX_TENSORS; ++b) {
    if (d->buffers[b] != NULL) ctx->table->buffer_free(ctx->device, d->buffers[b]);
    free(d->actual[b]);
    free(d->expected[b]);
  }
  (void)c;
}

/* Fills the whole buffer with the guard pattern (buffer_fill when the plugin
 * has it) and uploads each tensor's bytes, then reads everything back: a
 * broken fill or upload is named as such rather than blamed on the op. */
static bool cts_case_upload(cts_device_ctx_t* ctx, const cts_case_t* c, cts_case_device_t* d,
                            cts_case_outcome_t* out) {
  const weft_plugin_interface_t* table = ctx->table;
  char message[384];
  for (uint32_t b = 0; b < c->buffer_count; ++b) {
    uint32_t code;
    if (CTS_HAS(table, buffer_fill)) {
      code = cts_host_status_take(ctx->host,
                                  table->buffer_fill(ctx->device, d->buffers[b], 0,
                                                     c->buffer_size[b], CTS_GUARD_PATTERN, 4),
                                  message, sizeof(message));
      if (code != WEFT_STATUS_OK) {
        cts_outcome_set(out, CTS_OUTCOME_FAIL, "buffer_fill of %llu bytes failed: %s: %s",
                        (unsigned long long)c->buffer_size[b], cts_code_name(code), message);
        return false;
      }
      for (uint32_t i = 0; i < c->tensor_count; ++i) {
        const cts_tensor_t* t = &c->t[i];
        if (t->buffer != b || t->alias_of >= 0) continue;
        code = cts_host_status_take(
            ctx->host,
            table->buffer_upload(ctx->device, d->buffers[b], t->offset, c->image[b] + t->offset,
                                 t->span),
            message, sizeof(message));
        if (code != WEFT_STATUS_OK) break;
      }
    } else {
      code = cts_host_status_take(
          ctx->host,
          table->buffer_upload(ctx->device, d->buffers[b], 0, c->image[b], c->buffer_size[b]),
          message, sizeof(message));
    }
    if (code != WEFT_STATUS_OK) {
      cts_outcome_set(out, CTS_OUTCOME_FAIL, "buffer_upload failed: %s: %s", cts_code_name(code),
                      message);
      return false;
    }
    code = cts_host_status_take(
        ctx->host,
        table->buffer_download(ctx->device, d->buffers[b], 0, d->actual[b], c->buffer_size[b]),
        message, sizeof(message));
    if (code != WEFT_STATUS_OK) {
      cts_outcome_set(out, CTS_OUTCOME_FAIL, "buffer_download failed: %s: %s",
                      cts_code_name(code), message);
      return false;
    }
    for (uint64_t k = 0; k < c->buffer_size[b]; ++k) {
      if (d->actual[b][k] != c->image[b][k]) {
        cts_outcome_set(out, CTS_OUTCOME_FAIL,
                        "buffer setup: byte %llu of a %llu-byte buffer reads 0x%02x after "
                        "buffer_fill/buffer_upload wrote 0x%02x",
                        (unsigned long long)k, (unsigned long long)c->buffer_size[b],
                        d->actual[b][k], c->image[b][k]);
        return false;
      }
    }
  }
  return true;
}

static void cts_case_run(cts_device_ctx_t* ctx, cts_case_t* c, cts_case_outcome_t* out) {
  const weft_plugin_interface_t* table = ctx->table;
  cts_host_t* host = ctx->host;
  memset(out, 0, sizeof(*out));
  out->outcome = CTS_OUTCOME_PASS;
  char message[384];

  /* Descriptors as the host's graph builder would send them. */
  weft_tensor_desc_t descs[CTS_MAX_TENSORS];
  const weft_tensor_desc_t* desc_ptrs[CTS_MAX_TENSORS];
  for (uint32_t i = 0; i < c->tensor_count; ++i) {
    memset(&descs[i], 0, sizeof(descs[i]));
    descs[i].struct_size = (uint32_t)sizeof(descs[i]);
    descs[i].dtype = c->t[i].dtype;
    memcpy(descs[i].ne, c->t[i].ne, sizeof(descs[i].ne));
    memcpy(descs[i].nb, c->t[i].nb, sizeof(descs[i].nb));
    descs[i].buffer = NULL;
    descs[i].offset = c->t[i].offset;
    desc_ptrs[i] = &descs[i];
  }
  weft_node_t node;
  memset(&node, 0, sizeof(node));
  node.struct_size = (uint32_t)sizeof(node);
  node.op = c->op;
  for (int s = 0; s < WEFT_MAX_SRC; ++s) {
    node.src[s] = c->src[s] >= 0 ? (uint32_t)c->src[s] : WEFT_NODE_NO_TENSOR;
  }
  node.dst = c->dst;
  node.params_size = c->params_size;
  node.params = c->params_size != 0 ? &c->params : NULL;

  if (!CTS_HAS(table, op_query)) {
    cts_outcome_set(out, CTS_OUTCOME_SKIP, "the plugin has no op_query (supports no op)");
    return;
  }
  weft_op_support_t support;
  memset(&support, 0, sizeof(support));
  support.struct_size = (uint32_t)sizeof(support);
  uint32_t code = cts_host_status_take(
      host, table->op_query(ctx->device, &node, desc_ptrs, c->tensor_count, &support), message,
      sizeof(message));
  if (code != WEFT_STATUS_OK) {
    cts_outcome_set(out, CTS_OUTCOME_FAIL, "op_query failed: %s: %s", cts_code_name(code),
                    message);
    return;
  }
  if (support.supported == 0) {
    support.reason[sizeof(support.reason) - 1] = '\0';
    cts_outcome_set(out, CTS_OUTCOME_SKIP, "%s",
                    support.reason[0] != '\0' ? support.reason : "(no reason given)");
    return;
  }

  /* The expected bytes. */
  cts_case_device_t d;
  memset(&d, 0, sizeof(d));
  for (uint32_t b = 0; b < c->buffer_count; ++b) {
    d.expected[b] = (uint8_t*)malloc((size_t)c->buffer_size[b]);
    d.actual[b] = (uint8_t*)malloc((size_t)c->buffer_size[b]);
    if (d.expected[b] == NULL || d.actual[b] == NULL) {
      cts_outcome_set(out, CTS_OUTCOME_FAIL, "out of memory for host copies");
      cts_case_device_release(ctx, c, &d);
      return;
    }
    memcpy(d.expected[b], c->image[b], (size_t)c->buffer_size[b]);
  }
  if (!cts_reference_run(c, d.expected, out->message, sizeof(out->message))) {
    out->outcome = CTS_OUTCOME_FAIL;
    cts_case_device_release(ctx, c, &d);
    return;
  }

  for (uint32_t b = 0; b < c->buffer_count; ++b) {
    weft_buffer_params_t params;
    memset(&params, 0, sizeof(params));
    params.struct_size = (uint32_t)sizeof(params);
    params.memory_type = WEFT_MEMORY_TYPE_DEVICE_LOCAL;
    params.size = c->buffer_size[b];
    code = cts_host_status_take(host, table->buffer_allocate(ctx->device, &params, &d.buffers[b]),
                                message, sizeof(message));
    if (code != WEFT_STATUS_OK || d.buffers[b] == NULL) {
      d.buffers[b] = NULL;
      cts_outcome_set(out, CTS_OUTCOME_FAIL, "buffer_allocate(%llu bytes) failed: %s: %s",
                      (unsigned long long)params.size, cts_code_name(code), message);
      cts_case_device_release(ctx, c, &d);
      return;
    }
  }
  if (!cts_case_upload(ctx, c, &d, out)) {
    cts_case_device_release(ctx, c, &d);
    return;
  }

  for (uint32_t i = 0; i < c->tensor_count; ++i) descs[i].buffer = d.buffers[c->t[i].buffer];
  const weft_node_t* node_ptrs[1] = {&node};
  weft_segment_t segment;
  memset(&segment, 0, sizeof(segment));
  segment.struct_size = (uint32_t)sizeof(segment);
  segment.tensor_count = c->tensor_count;
  segment.node_count = 1;
  segment.tensors = desc_ptrs;
  segment.nodes = node_ptrs;

  /* With waits: one event already signalled, one signalled from another
   * thread a moment after the submit. */
  cts_event_t signal, ready, later;
  cts_event_init(&signal);
  cts_event_init(&ready);
  cts_event_init(&later);
  cts_signaller_t signaller;
  memset(&signaller, 0, sizeof(signaller));
  weft_event_t* waits[2] = {cts_event_handle(&ready), cts_event_handle(&later)};
  if (c->waits) {
    cts_event_signal(host, &ready, WEFT_STATUS_OK);
    if (!cts_signaller_start(&signaller, host, &later, WEFT_STATUS_OK, 2000000ull)) {
      cts_event_signal(host, &later, WEFT_STATUS_OK);
    }
  }
  if (!CTS_HAS(table, segment_submit)) {
    cts_outcome_set(out, CTS_OUTCOME_FAIL,
                    "op_query says supported but the plugin has no segment_submit");
  } else {
    const uint64_t start = cts_now_ns();
    code = cts_host_status_take(
        host,
        table->segment_submit(ctx->device, &segment, c->waits ? waits : NULL, c->waits ? 2 : 0,
                              cts_event_handle(&signal)),
        message, sizeof(message));
    if (code != WEFT_STATUS_OK) {
      /* As the host does: waiters must not hang on a failed submit. */
      cts_event_signal(host, &signal, code);
      cts_outcome_set(out, CTS_OUTCOME_FAIL, "segment_submit failed: %s: %s",
                      cts_code_name(code), message);
    } else {
      const uint32_t signalled = cts_event_wait(&signal, CTS_SIGNAL_TIMEOUT_NS);
      out->seconds = (double)(cts_now_ns() - start) * 1e-9;
      /* Cases that wait on the other thread's event are not timed. */
      out->timed = signalled == WEFT_STATUS_OK && !c->waits;
      if (signalled == WEFT_STATUS_DEADLINE_EXCEEDED) {
        cts_outcome_set(out, CTS_OUTCOME_FAIL,
                        "the signal event was not signalled within %llu s of segment_submit",
                        CTS_SIGNAL_TIMEOUT_NS / 1000000000ull);
      } else if (signalled != WEFT_STATUS_OK) {
        cts_outcome_set(out, CTS_OUTCOME_FAIL, "the segment signalled %s (not OK)",
                        cts_code_name(signalled));
      }
    }
  }
  if (CTS_HAS(table, synchronize)) {
    code = cts_host_status_take(host, table->synchronize(ctx->device), message, sizeof(message));
    if (code != WEFT_STATUS_OK) {
      cts_outcome_append(out, "synchronize failed: %s: %s", cts_code_name(code), message);
    }
  }
  cts_signaller_join(&signaller);
  if (out->outcome == CTS_OUTCOME_PASS) {
    uint32_t count = 0;
    uint64_t signal_seq = 0, later_seq = 0;
    cts_event_state(&signal, NULL, NULL, &count, &signal_seq);
    cts_event_state(&later, NULL, NULL, NULL, &later_seq);
    if (count != 1) cts_outcome_append(out, "the signal event was signalled %u times", count);
    if (c->waits && signal_seq < later_seq) {
      cts_outcome_append(out,
                         "the segment signalled before an event it waits on was signalled");
    }
  }
  cts_event_deinit(&signal);
  cts_event_deinit(&ready);
  cts_event_deinit(&later);
  if (out->outcome != CTS_OUTCOME_PASS) {
    cts_case_device_release(ctx, c, &d);
    return;
  }

  for (uint32_t b = 0; b < c->buffer_count; ++b) {
    code = cts_host_status_take(
        host,
        table->buffer_download(ctx->device, d.buffers[b], 0, d.actual[b], c->buffer_size[b]),
        message, sizeof(message));
    if (code != WEFT_STATUS_OK) {
      cts_outcome_set(out, CTS_OUTCOME_FAIL, "buffer_download after the op failed: %s: %s",
                      cts_code_name(code), message);
      cts_case_device_release(ctx, c, &d);
      return;
    }
  }
  cts_compare_values(c, d.actual, d.expected, out);
  cts_compare_guards(c, d.actual, out);
  cts_case_device_release(ctx, c, &d);
}

/* ---- bookkeeping ---- */

static int cts_double_less(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

bool cts_ops_run(cts_device_ctx_t* ctx, char* error, size_t error_cap) {
  const cts_options_t* options = ctx->options;
  cts_device_result_t* result = ctx->result;
  const uint32_t per_combo = cts_cases_per_combo(options->mode);
  size_t selected = 0;
  for (size_t k = 0; k < ctx->combo_count; ++k) {
    if (options->op_mask == 0 || (options->op_mask >> ctx->combos[k].op) & 1u) ++selected;
  }
  result->combos = (cts_combo_result_t*)calloc(selected > 0 ? selected : 1, sizeof(*result->combos));
  double* times[WEFT_OP_COUNT_] = {NULL};
  size_t time_count[WEFT_OP_COUNT_] = {0};
  const size_t time_cap = ctx->combo_count * per_combo;
  bool ok = result->combos != NULL;
  for (uint32_t op = 0; ok && op < WEFT_OP_COUNT_; ++op) {
    times[op] = (double*)malloc(time_cap * sizeof(double));
    ok = times[op] != NULL;
  }
  if (!ok) {
    snprintf(error, error_cap, "out of memory for the op results");
    for (uint32_t op = 0; op < WEFT_OP_COUNT_; ++op) free(times[op]);
    return false;
  }
  uint32_t last_op = 0;
  for (size_t k = 0; k < ctx->combo_count; ++k) {
    const cts_combo_def_t* combo = &ctx->combos[k];
    if (options->op_mask != 0 && !((options->op_mask >> combo->op) & 1u)) continue;
    cts_combo_result_t* r = &result->combos[result->combo_count++];
    r->op = combo->op;
    snprintf(r->dtypes, sizeof(r->dtypes), "%s", combo->label);
    if (combo->op != last_op) {
      cts_logf(options, 1, "  %s ...", weft_op_name(combo->op));
      last_op = combo->op;
    }
    /* Within the combination index k of the full table keeps each case's
     * data independent of --op filters. */
    for (uint32_t index = 0; index < per_combo; ++index) {
      cts_case_t c;
      if (!cts_case_make(&c, combo, (uint32_t)k, index, options->seed, options->mode, error,
                         error_cap)) {
        for (uint32_t op = 0; op < WEFT_OP_COUNT_; ++op) free(times[op]);
        return false;
      }
      /* Waiting on events: the second case of each combination, or in
       * quick mode (one case each) the first combination of each op. */
      c.waits = index == 1 || (per_combo == 1 && (k == 0 || ctx->combos[k - 1].op != combo->op));
      cts_case_outcome_t outcome;
      cts_case_run(ctx, &c, &outcome);
      switch (outcome.outcome) {
        case CTS_OUTCOME_PASS:
          r->passed++;
          if (outcome.timed) {
            times[combo->op][time_count[combo->op]++] = outcome.seconds * 1e6;
            if (c.flops > 0) {
              result->perf[combo->op].flops += c.flops;
              result->perf[combo->op].seconds += outcome.seconds;
            }
          }
          cts_logf(options, 2, "    pass %s [%s]", c.case_id, c.shapes);
          break;
        case CTS_OUTCOME_SKIP:
          r->skipped++;
          if (r->skip_reason[0] == '\0') {
            snprintf(r->skip_reason, sizeof(r->skip_reason), "%.255s", outcome.message);
          }
          cts_logf(options, 2, "    skip %s: %s", c.case_id, outcome.message);
          break;
        default:
          r->failed++;
          if (r->failures_kept < CTS_FAILURES_KEPT) {
            cts_failure_t* f = &r->failures[r->failures_kept++];
            snprintf(f->case_id, sizeof(f->case_id), "%s", c.case_id);
            snprintf(f->shapes, sizeof(f->shapes), "%s", c.shapes);
            snprintf(f->message, sizeof(f->message), "%s", outcome.message);
          }
          cts_logf(options, 1, "    FAIL %s: %s [%s]", c.case_id, outcome.message, c.shapes);
          break;
      }
      cts_case_free(&c);
    }
  }
  for (uint32_t op = 0; op < WEFT_OP_COUNT_; ++op) {
    cts_op_perf_t* perf = &result->perf[op];
    perf->samples = (uint32_t)time_count[op];
    if (time_count[op] > 0) {
      qsort(times[op], time_count[op], sizeof(double), cts_double_less);
      const size_t n = time_count[op];
      perf->median_us = n % 2 ? times[op][n / 2] : 0.5 * (times[op][n / 2 - 1] + times[op][n / 2]);
    }
    free(times[op]);
  }
  return true;
}
