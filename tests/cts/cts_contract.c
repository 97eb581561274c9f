/* ABI contract checks (docs/abi.md): negotiation with hosts of other
 * versions, the function table, the size-prefix rule on every output record,
 * probe, a whole life under an ABI 1.0 host, devices, buffers, op_query
 * records, events, synchronisation, and what is left once the instance is
 * gone. Check names are listed in docs/writing-a-backend.md. */
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cts_internal.h"

#define CTS_CANARY 0xA5u
#define CTS_CANARY_SIZE 64
/* A host newer than the plugin sends records this much larger. */
#define CTS_GROWTH 64

static const uint64_t kSecond = 1000000000ull;

static const char* cts_version_text(uint32_t version, char* buffer, size_t cap) {
  snprintf(buffer, cap, "%u.%u", (unsigned)WEFT_ABI_VERSION_MAJOR_OF(version),
           (unsigned)WEFT_ABI_VERSION_MINOR_OF(version));
  return buffer;
}

static bool cts_bytes_are(const uint8_t* p, size_t n, uint8_t value, size_t* out_first) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != value) {
      if (out_first != NULL) *out_first = i;
      return false;
    }
  }
  return true;
}

/* True when a fixed text array holds a NUL. */
static bool cts_terminated(const char* text, size_t cap) { return memchr(text, '\0', cap) != NULL; }

/* ---- negotiation ---- */

typedef struct cts_negotiation_record_t {
  weft_negotiation_t n;
  uint8_t canary[CTS_CANARY_SIZE];
} cts_negotiation_record_t;

typedef struct cts_negotiation_answer_t {
  int32_t result;
  weft_negotiation_t n;
  bool canary_ok;
  bool host_fields_ok;
} cts_negotiation_answer_t;

static cts_negotiation_answer_t cts_negotiate(const cts_plugin_t* plugin, uint32_t host_version,
                                              uint32_t host_min) {
  cts_negotiation_record_t* record =
      (cts_negotiation_record_t*)calloc(1, sizeof(cts_negotiation_record_t));
  cts_negotiation_answer_t answer;
  memset(&answer, 0, sizeof(answer));
  if (record == NULL) {
    answer.result = -1;
    snprintf(answer.n.refusal, sizeof(answer.n.refusal), "(out of memory in the suite)");
    return answer;
  }
  record->n.struct_size = (uint32_t)sizeof(weft_negotiation_t);
  record->n.host_version = host_version;
  record->n.host_min_version = host_min;
  memset(record->canary, CTS_CANARY, sizeof(record->canary));
  answer.result = plugin->negotiate(&record->n);
  answer.n = record->n;
  answer.canary_ok = cts_bytes_are(record->canary, sizeof(record->canary), CTS_CANARY, NULL);
  answer.host_fields_ok = record->n.struct_size == sizeof(weft_negotiation_t) &&
                          record->n.host_version == host_version &&
                          record->n.host_min_version == host_min;
  free(record);
  return answer;
}

/* Judges one negotiation against the rules of docs/abi.md section 2. */
static void cts_negotiation_check(cts_report_t* report, const char* name,
                                  const cts_plugin_t* plugin, uint32_t host_version,
                                  uint32_t host_min, uint32_t plugin_abi) {
  /* Refusing is right when no version of the plugin's major up to its own
   * lies in the host's range, and for a host of another major (what
   * weft_plugin_negotiate_default does). Refusing a host of its own major
   * that it could serve is clean but not what docs/abi.md section 1
   * promises ("every 1.x plugin works with every 1.y host"): a warning. */
  const uint32_t own_major = WEFT_ABI_VERSION_MAJOR_OF(plugin_abi);
  const bool same_major = WEFT_ABI_VERSION_MAJOR_OF(host_version) == own_major;
  const bool servable = same_major && host_min <= plugin_abi &&
                        host_version >= WEFT_ABI_MAKE_VERSION(own_major, 0);
  char hv[16], hm[16], pv[16], own[16];
  cts_version_text(host_version, hv, sizeof(hv));
  cts_version_text(host_min, hm, sizeof(hm));
  cts_version_text(plugin_abi, own, sizeof(own));
  cts_negotiation_answer_t a = cts_negotiate(plugin, host_version, host_min);
  cts_version_text(a.n.plugin_version, pv, sizeof(pv));
  if (!a.canary_ok) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "host %s down to %s: the plugin wrote past the %zu-byte negotiation record", hv,
                  hm, sizeof(weft_negotiation_t));
    return;
  }
  if (!a.host_fields_ok) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "host %s down to %s: the plugin changed the host's members of the "
                  "negotiation record",
                  hv, hm);
    return;
  }
  if (a.result != 0) {
    if (!cts_terminated(a.n.refusal, sizeof(a.n.refusal))) {
      cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                    "host %s down to %s: refused with an unterminated refusal text", hv, hm);
    } else if (a.n.refusal[0] == '\0') {
      cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                    "host %s down to %s: refused without a reason", hv, hm);
    } else {
      char could[16];
      cts_version_text(host_version < plugin_abi ? host_version : plugin_abi, could,
                       sizeof(could));
      cts_check_add(&report->checks, name, servable ? CTS_OUTCOME_WARN : CTS_OUTCOME_PASS,
                    "host %s down to %s: refused: \"%s\"%s%s%s", hv, hm, a.n.refusal,
                    servable ? " (it could have answered " : "", servable ? could : "",
                    servable ? "; docs/abi.md section 1: a 1.x plugin works with every 1.y "
                               "host)"
                             : "");
    }
    return;
  }
  /* Accepted. */
  if (a.n.plugin == NULL) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "host %s down to %s: accepted (%s) without a function table", hv, hm, pv);
    return;
  }
  if (a.n.plugin->struct_size < CTS_TABLE_SIZE_1_0) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "host %s down to %s: the table's struct_size %u is smaller than ABI 1.0's %u",
                  hv, hm, a.n.plugin->struct_size, CTS_TABLE_SIZE_1_0);
    return;
  }
  if (a.n.plugin_version > host_version) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "host %s down to %s: answered %s, newer than the host offered", hv, hm, pv);
    return;
  }
  if (WEFT_ABI_VERSION_MAJOR_OF(a.n.plugin_version) != WEFT_ABI_VERSION_MAJOR_OF(plugin_abi) ||
      a.n.plugin_version > plugin_abi) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "host %s down to %s: answered %s, a version the plugin (built for %s) does "
                  "not implement",
                  hv, hm, pv, own);
    return;
  }
  if (a.n.plugin_version < host_min) {
    /* The host refuses such an answer; docs/abi.md asks the plugin itself to
     * refuse with a reason, as weft_plugin_negotiate_default does. */
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "host %s down to %s: answered %s, below the host's minimum, which a host "
                  "refuses; docs/abi.md section 2 asks the plugin to refuse with a reason",
                  hv, hm, pv);
    return;
  }
  cts_check_add(&report->checks, name, CTS_OUTCOME_PASS,
                "host %s down to %s: accepted %s, table of %u bytes", hv, hm, pv,
                a.n.plugin->struct_size);
}

/* ---- the table ---- */

static void cts_table_check(cts_report_t* report, const weft_plugin_interface_t* table) {
  char missing[256] = "";
  size_t used = 0;
#define CTS_REQUIRE_(member)                                                          \
  if (!CTS_HAS(table, member)) {                                                      \
    used += (size_t)snprintf(missing + used, sizeof(missing) - used, "%s%s",          \
                             used > 0 ? ", " : "", #member);                          \
    if (used >= sizeof(missing)) used = sizeof(missing) - 1;                          \
  }
  CTS_REQUIRE_(probe)
  CTS_REQUIRE_(instance_create)
  CTS_REQUIRE_(instance_destroy)
  CTS_REQUIRE_(device_count)
  CTS_REQUIRE_(device_query_caps)
  CTS_REQUIRE_(device_open)
  CTS_REQUIRE_(device_close)
  CTS_REQUIRE_(buffer_allocate)
  CTS_REQUIRE_(buffer_free)
  CTS_REQUIRE_(buffer_upload)
  CTS_REQUIRE_(buffer_download)
#undef CTS_REQUIRE_
  const weft_plugin_info_t* info = table->info;
  if (info == NULL || info->struct_size < sizeof(weft_plugin_info_t) || info->name == NULL ||
      info->name[0] == '\0') {
    cts_check_add(&report->checks, "table.layout", CTS_OUTCOME_FAIL,
                  "plugin info is missing, smaller than ABI 1.0's %zu bytes, or has no name",
                  sizeof(weft_plugin_info_t));
    return;
  }
  if (table->struct_size % sizeof(void*) != 0 || table->struct_size > 65536) {
    cts_check_add(&report->checks, "table.layout", CTS_OUTCOME_FAIL,
                  "table struct_size %u is not a whole number of pointers below 64 KiB",
                  table->struct_size);
    return;
  }
  if (missing[0] != '\0') {
    cts_check_add(&report->checks, "table.layout", CTS_OUTCOME_FAIL,
                  "table of %u bytes lacks required functions: %s", table->struct_size, missing);
    return;
  }
  cts_check_add(&report->checks, "table.layout", CTS_OUTCOME_PASS,
                "table of %u bytes, every required function present; plugin '%s' %s built for "
                "ABI %u.%u",
                table->struct_size, info->name, info->version != NULL ? info->version : "?",
                (unsigned)WEFT_ABI_VERSION_MAJOR_OF(info->abi_version),
                (unsigned)WEFT_ABI_VERSION_MINOR_OF(info->abi_version));
  /* Members the table does not hold are never read or called: the suite
   * reaches every member added after 1.0 through CTS_HAS only. */
  char past[320] = "";
  size_t past_used = 0;
#define CTS_PAST_(member, since)                                                         \
  if (!WEFT_ABI_HAS_MEMBER(table, weft_plugin_interface_t, member)) {                   \
    past_used += (size_t)snprintf(past + past_used, sizeof(past) - past_used, "%s%s (ABI %s)", \
                                  past_used > 0 ? ", " : "", #member, since);           \
    if (past_used >= sizeof(past)) past_used = sizeof(past) - 1;                        \
  }
  CTS_PAST_(device_memory_query, "1.1")
  CTS_PAST_(buffer_import_host, "1.2")
  CTS_PAST_(segment_prepare, "1.3")
#undef CTS_PAST_
  if (past[0] != '\0') {
    cts_check_add(&report->checks, "table.members_past_size", CTS_OUTCOME_PASS,
                  "%s lie%s past the table's %u bytes: treated as absent and never called", past,
                  strchr(past, ',') != NULL ? "" : "s", table->struct_size);
  } else {
    cts_check_add(&report->checks, "table.members_past_size", CTS_OUTCOME_PASS,
                  "the table's %u bytes hold every member of ABI %u.%u", table->struct_size,
                  (unsigned)WEFT_ABI_VERSION_MAJOR, (unsigned)WEFT_ABI_VERSION_MINOR);
  }
}

/* ---- probe ---- */

typedef struct cts_probe_storage_t {
  weft_probe_result_t result;
  uint8_t extra[CTS_GROWTH];
  uint8_t canary[CTS_CANARY_SIZE];
} cts_probe_storage_t;

/* Probes with a record of `size` bytes; checks the bytes past it. */
static bool cts_probe_once(cts_report_t* report, cts_host_t* host,
                           const weft_plugin_interface_t* table, uint32_t size, const char* name,
                           weft_probe_result_t* out_result) {
  cts_probe_storage_t* s = (cts_probe_storage_t*)calloc(1, sizeof(*s));
  if (s == NULL) return false;
  s->result.struct_size = size;
  uint8_t* bytes = (uint8_t*)s;
  memset(bytes + size, CTS_CANARY, sizeof(*s) - size);
  if (size > sizeof(weft_probe_result_t)) memset(bytes + sizeof(weft_probe_result_t), 0,
                                                 size - sizeof(weft_probe_result_t));
  char message[384];
  const uint32_t code =
      cts_host_status_take(host, table->probe(&host->services, &s->result), message,
                           sizeof(message));
  size_t first = 0;
  bool ok = false;
  if (code != WEFT_STATUS_OK) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL, "probe failed: %s: %s",
                  cts_code_name(code), message);
  } else if (!cts_bytes_are(bytes + size, sizeof(*s) - size, CTS_CANARY, &first)) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "probe wrote past struct_size %u (byte %zu of the record)", size,
                  (size_t)size + first);
  } else if (size > sizeof(weft_probe_result_t) &&
             !cts_bytes_are(bytes + sizeof(weft_probe_result_t),
                            size - sizeof(weft_probe_result_t), 0, &first)) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "probe wrote byte %zu of a %u-byte record, past every member this ABI has",
                  sizeof(weft_probe_result_t) + first, size);
  } else if (s->result.struct_size != size) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "probe changed the host's struct_size from %u to %u", size,
                  s->result.struct_size);
  } else if (s->result.available > 1) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL, "available is %u, not 0 or 1",
                  s->result.available);
  } else if (!cts_terminated(s->result.reason, sizeof(s->result.reason))) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL, "reason is not NUL-terminated");
  } else if (s->result.available == 0 && s->result.reason[0] == '\0') {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL, "unavailable without a reason");
  } else {
    ok = true;
    cts_check_add(&report->checks, name, CTS_OUTCOME_PASS,
                  "%u-byte record: available %u, %u devices%s%s", size, s->result.available,
                  s->result.device_count, s->result.available ? "" : ", reason: ",
                  s->result.available ? "" : s->result.reason);
  }
  if (ok) *out_result = s->result;
  free(s);
  return ok;
}

/* ---- the plugin: negotiation, table, probe ---- */

const weft_plugin_interface_t* cts_contract_plugin(const cts_plugin_t* plugin,
                                                   const cts_options_t* options,
                                                   cts_report_t* report, cts_host_t* host,
                                                   bool* out_available) {
  (void)options;
  *out_available = false;
  const uint32_t v1_0 = WEFT_ABI_MAKE_VERSION(1, 0);
  const uint32_t current = WEFT_ABI_VERSION;
  char pv[16], cv[16];
  cts_version_text(current, cv, sizeof(cv));
  /* What a host of these headers offers: everything from 1.0 up. */
  cts_negotiation_answer_t normal = cts_negotiate(plugin, current, v1_0);
  cts_version_text(normal.n.plugin_version, pv, sizeof(pv));
  if (normal.result != 0 || normal.n.plugin == NULL || !normal.canary_ok ||
      normal.n.plugin_version < v1_0 || normal.n.plugin_version > current ||
      normal.n.plugin->struct_size < CTS_TABLE_SIZE_1_0) {
    normal.n.refusal[sizeof(normal.n.refusal) - 1] = '\0';
    cts_check_add(&report->checks, "negotiate.host_current", CTS_OUTCOME_FAIL,
                  "a %s host (down to 1.0) gets no usable answer: %s", cv,
                  normal.result != 0        ? normal.n.refusal
                  : normal.n.plugin == NULL ? "accepted without a table"
                  : !normal.canary_ok       ? "wrote past the negotiation record"
                  : normal.n.plugin->struct_size < CTS_TABLE_SIZE_1_0
                      ? "table smaller than ABI 1.0's"
                      : "answered a version outside the offered range");
    return NULL;
  }
  const weft_plugin_interface_t* table = normal.n.plugin;
  report->negotiated = normal.n.plugin_version;
  report->table_size = table->struct_size;
  cts_table_check(report, table);
  const weft_plugin_info_t* info = table->info;
  if (info == NULL || info->name == NULL) return NULL;
  report->loaded = true;
  snprintf(report->plugin_name, sizeof(report->plugin_name), "%s", info->name);
  snprintf(report->plugin_version, sizeof(report->plugin_version), "%s",
           info->version != NULL ? info->version : "");
  report->plugin_abi = info->abi_version;
  const uint32_t own = info->abi_version;
  if (normal.n.plugin_version > own) {
    cts_check_add(&report->checks, "negotiate.host_current", CTS_OUTCOME_FAIL,
                  "answered %s to a %s host, newer than the ABI %u.%u it was built for", pv, cv,
                  (unsigned)WEFT_ABI_VERSION_MAJOR_OF(own), (unsigned)WEFT_ABI_VERSION_MINOR_OF(own));
  } else {
    cts_check_add(&report->checks, "negotiate.host_current", CTS_OUTCOME_PASS,
                  "host %s down to 1.0: accepted %s, table of %u bytes", cv, pv,
                  table->struct_size);
  }
  /* Hosts of every older minor, speaking that minor only. */
  for (uint32_t minor = 0; minor < WEFT_ABI_VERSION_MINOR; ++minor) {
    char name[CTS_CHECK_NAME_CAP];
    snprintf(name, sizeof(name), "negotiate.host_1_%u", (unsigned)minor);
    const uint32_t old = WEFT_ABI_MAKE_VERSION(1, minor);
    cts_negotiation_check(report, name, plugin, old, old, own);
  }
  cts_negotiation_check(report, "negotiate.newer_minor", plugin,
                        WEFT_ABI_MAKE_VERSION(1, WEFT_ABI_VERSION_MINOR + 7), v1_0,
                        own);
  cts_negotiation_check(report, "negotiate.newer_major", plugin, WEFT_ABI_MAKE_VERSION(2, 0),
                        WEFT_ABI_MAKE_VERSION(2, 0), own);
  cts_negotiation_check(report, "negotiate.newer_major_compat", plugin,
                        WEFT_ABI_MAKE_VERSION(2, 0), v1_0, own);
  cts_negotiation_check(report, "negotiate.min_above_plugin", plugin,
                        WEFT_ABI_MAKE_VERSION(WEFT_ABI_VERSION_MAJOR_OF(own), 9), own + 1,
                        own);

  /* Probe twice: an ABI 1.0 record with canary bytes after it, and the
   * record of a newer host, 64 bytes larger. Neither may leave anything
   * allocated behind (docs/abi.md section 10). */
  const cts_host_counters_t before = cts_host_counters(host);
  weft_probe_result_t first, second;
  memset(&first, 0, sizeof(first));
  memset(&second, 0, sizeof(second));
  const bool probed = cts_probe_once(report, host, table, CTS_PROBE_SIZE_1_0, "probe.struct_1_0",
                                     &first);
  const bool probed_larger =
      cts_probe_once(report, host, table, CTS_PROBE_SIZE_1_0 + CTS_GROWTH, "probe.struct_larger",
                     &second);
  const cts_host_counters_t after = cts_host_counters(host);
  if (after.live_blocks != before.live_blocks || after.statuses_live != before.statuses_live) {
    cts_check_add(&report->checks, "probe.no_lasting_allocations", CTS_OUTCOME_FAIL,
                  "probe left %lld allocations and %lld statuses behind",
                  (long long)(after.live_blocks - before.live_blocks),
                  (long long)(after.statuses_live - before.statuses_live));
  } else {
    cts_check_add(&report->checks, "probe.no_lasting_allocations", CTS_OUTCOME_PASS,
                  "%llu allocations during the probes, none left",
                  (unsigned long long)(after.alloc_calls - before.alloc_calls));
  }
  if (probed && probed_larger && first.available != second.available) {
    cts_check_add(&report->checks, "probe.struct_larger", CTS_OUTCOME_FAIL,
                  "a larger record changed the answer: available %u, then %u", first.available,
                  second.available);
  }
  if (!probed) return table;
  *out_available = first.available != 0;
  if (!*out_available) {
    snprintf(report->unavailable_reason, sizeof(report->unavailable_reason), "probe: %.240s",
             first.reason);
  }
  return table;
}

/* ---- a whole life under an ABI 1.0 host ---- */

void cts_contract_old_host(const cts_plugin_t* plugin, const cts_options_t* options,
                           cts_report_t* report) {
  const char* name = "old_host.lifecycle";
  const uint32_t v1_0 = WEFT_ABI_MAKE_VERSION(1, 0);
  cts_negotiation_answer_t a = cts_negotiate(plugin, v1_0, v1_0);
  if (a.result != 0 || a.n.plugin == NULL || a.n.plugin_version != v1_0 ||
      a.n.plugin->struct_size < CTS_TABLE_SIZE_1_0) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_SKIP,
                  "the plugin does not take a 1.0 host (see negotiate.host_1_0)");
    return;
  }
  const weft_plugin_interface_t* table = a.n.plugin;
  cts_host_t* host = (cts_host_t*)malloc(sizeof(cts_host_t));
  if (host == NULL) return;
  cts_host_init(host, v1_0, options->log, options->verbose);
  char message[384];
  char step[64] = "probe";
  uint32_t code = WEFT_STATUS_OK;
  cts_outcome_t outcome = CTS_OUTCOME_PASS;
  char detail[CTS_DETAIL_CAP] = "";
  weft_plugin_instance_t* instance = NULL;
  weft_plugin_device_t* device = NULL;
  weft_plugin_buffer_t* buffer = NULL;
  weft_probe_result_t probe;
  memset(&probe, 0, sizeof(probe));
  probe.struct_size = CTS_PROBE_SIZE_1_0;
  code = cts_host_status_take(host, table->probe(&host->services, &probe), message,
                              sizeof(message));
  if (code == WEFT_STATUS_OK && !probe.available) {
    outcome = CTS_OUTCOME_SKIP;
    probe.reason[sizeof(probe.reason) - 1] = '\0';
    snprintf(detail, sizeof(detail), "unavailable here: %s", probe.reason);
    goto done;
  }
  if (code != WEFT_STATUS_OK) goto failed;
  snprintf(step, sizeof(step), "instance_create");
  code = cts_host_status_take(host, table->instance_create(&host->services, &instance), message,
                              sizeof(message));
  if (code == WEFT_STATUS_UNAVAILABLE) {
    outcome = CTS_OUTCOME_SKIP;
    snprintf(detail, sizeof(detail), "unavailable here: %s", message);
    instance = NULL;
    goto done;
  }
  if (code != WEFT_STATUS_OK) {
    instance = NULL;
    goto failed;
  }
  if (table->device_count(instance) == 0) {
    outcome = CTS_OUTCOME_SKIP;
    snprintf(detail, sizeof(detail), "no devices here");
    goto done;
  }
  {
    weft_device_caps_t caps;
    memset(&caps, 0, sizeof(caps));
    caps.struct_size = CTS_CAPS_SIZE_1_0;
    snprintf(step, sizeof(step), "device_query_caps(0)");
    code = cts_host_status_take(host, table->device_query_caps(instance, 0, &caps), message,
                                sizeof(message));
    if (code != WEFT_STATUS_OK) goto failed;
  }
  snprintf(step, sizeof(step), "device_open(0)");
  code = cts_host_status_take(host, table->device_open(instance, 0, &device), message,
                              sizeof(message));
  if (code != WEFT_STATUS_OK) {
    device = NULL;
    goto failed;
  }
  {
    weft_buffer_params_t params;
    memset(&params, 0, sizeof(params));
    params.struct_size = (uint32_t)sizeof(params);
    params.memory_type = WEFT_MEMORY_TYPE_DEVICE_LOCAL;
    params.size = 4096;
    snprintf(step, sizeof(step), "buffer_allocate");
    code = cts_host_status_take(host, table->buffer_allocate(device, &params, &buffer), message,
                                sizeof(message));
    if (code != WEFT_STATUS_OK) {
      buffer = NULL;
      goto failed;
    }
    uint8_t data[4096], back[4096];
    for (size_t i = 0; i < sizeof(data); ++i) data[i] = (uint8_t)(i * 13 + 5);
    snprintf(step, sizeof(step), "buffer_upload");
    code = cts_host_status_take(host, table->buffer_upload(device, buffer, 0, data, sizeof(data)),
                                message, sizeof(message));
    if (code != WEFT_STATUS_OK) goto failed;
    snprintf(step, sizeof(step), "buffer_download");
    code = cts_host_status_take(
        host, table->buffer_download(device, buffer, 0, back, sizeof(back)), message,
        sizeof(message));
    if (code != WEFT_STATUS_OK) goto failed;
    if (memcmp(data, back, sizeof(data)) != 0) {
      outcome = CTS_OUTCOME_FAIL;
      snprintf(detail, sizeof(detail), "a buffer round trip under a 1.0 host changed the data");
      goto done;
    }
  }
  snprintf(detail, sizeof(detail),
           "probe, instance, caps, device 0, a buffer round trip and teardown under a host "
           "whose services table ends before env_get");
  goto done;
failed:
  outcome = CTS_OUTCOME_FAIL;
  snprintf(detail, sizeof(detail), "%s failed under a 1.0 host: %s: %s", step,
           cts_code_name(code), message);
done:
  if (buffer != NULL) table->buffer_free(device, buffer);
  if (device != NULL) table->device_close(device);
  if (instance != NULL) table->instance_destroy(instance);
  cts_check_add(&report->checks, name, outcome, "%s", detail);
  const cts_host_counters_t counters = cts_host_counters(host);
  if (counters.trap_calls > 0) {
    cts_check_add(&report->checks, "old_host.services_size", CTS_OUTCOME_FAIL,
                  "the plugin called %s %llu times, which lies past a 1.0 host's services "
                  "table (struct_size %u); check host->struct_size first (docs/abi.md section 7)",
                  host->trap_member, (unsigned long long)counters.trap_calls,
                  host->services.struct_size);
  } else {
    cts_check_add(&report->checks, "old_host.services_size", CTS_OUTCOME_PASS,
                  "no member past the 1.0 services table's %u bytes was called",
                  host->services.struct_size);
  }
  cts_contract_leaks(report, host, "old_host.");
  cts_host_deinit(host);
  free(host);
}

/* ---- devices: capability records ---- */

typedef struct cts_caps_storage_t {
  weft_device_caps_t caps;
  uint8_t extra[CTS_GROWTH];
  uint8_t canary[CTS_CANARY_SIZE];
} cts_caps_storage_t;

/* One capability query with a record of `size` bytes; false with `why` set
 * when the contract is broken. */
static bool cts_caps_query(cts_host_t* host, const weft_plugin_interface_t* table,
                           weft_plugin_instance_t* instance, uint32_t index, uint32_t size,
                           weft_device_caps_t* out_caps, char* why, size_t why_cap) {
  cts_caps_storage_t* s = (cts_caps_storage_t*)calloc(1, sizeof(*s));
  if (s == NULL) {
    snprintf(why, why_cap, "out of memory in the suite");
    return false;
  }
  uint8_t* bytes = (uint8_t*)s;
  s->caps.struct_size = size;
  s->caps.next = NULL;
  memset(bytes + size, CTS_CANARY, sizeof(*s) - size);
  if (size > sizeof(weft_device_caps_t)) {
    memset(bytes + sizeof(weft_device_caps_t), 0, size - sizeof(weft_device_caps_t));
  }
  char message[384];
  const uint32_t code = cts_host_status_take(
      host, table->device_query_caps(instance, index, &s->caps), message, sizeof(message));
  size_t first = 0;
  bool ok = false;
  const weft_device_caps_t* c = &s->caps;
  if (code != WEFT_STATUS_OK) {
    snprintf(why, why_cap, "device_query_caps(%u) failed: %s: %s", index, cts_code_name(code),
             message);
  } else if (!cts_bytes_are(bytes + size, sizeof(*s) - size, CTS_CANARY, &first)) {
    snprintf(why, why_cap, "wrote past struct_size %u (byte %zu of the record)", size,
             (size_t)size + first);
  } else if (size > sizeof(weft_device_caps_t) &&
             !cts_bytes_are(bytes + sizeof(weft_device_caps_t),
                            size - sizeof(weft_device_caps_t), 0, &first)) {
    snprintf(why, why_cap, "wrote byte %zu of a %u-byte record, past every member this ABI has",
             sizeof(weft_device_caps_t) + first, size);
  } else if (c->struct_size != size || c->next != NULL) {
    snprintf(why, why_cap, "changed the host's struct_size (%u -> %u) or extension chain", size,
             c->struct_size);
  } else if (!cts_terminated(c->name, sizeof(c->name)) ||
             !cts_terminated(c->vendor, sizeof(c->vendor)) ||
             !cts_terminated(c->driver, sizeof(c->driver)) ||
             !cts_terminated(c->stable_id, sizeof(c->stable_id)) ||
             !cts_terminated(c->features_text, sizeof(c->features_text))) {
    snprintf(why, why_cap, "a text member (name, vendor, driver, stable_id, features_text) is "
                           "not NUL-terminated");
  } else if (c->type > WEFT_DEVICE_TYPE_VIRTUAL) {
    snprintf(why, why_cap, "type %u is not a weft_device_type_t", c->type);
  } else if (c->name[0] == '\0') {
    snprintf(why, why_cap, "the device has no name");
  } else {
    ok = true;
    *out_caps = s->caps;
  }
  free(s);
  return ok;
}

static const char* cts_type_name(uint32_t type) {
  static const char* const kNames[] = {"cpu", "gpu", "integrated-gpu", "accelerator", "virtual"};
  return type < 5 ? kNames[type] : "unknown";
}

void cts_contract_devices(const cts_options_t* options, cts_report_t* report, cts_host_t* host,
                          const weft_plugin_interface_t* table,
                          weft_plugin_instance_t* instance) {
  (void)options;
  for (size_t k = 0; k < report->device_result_count; ++k) {
    cts_device_result_t* r = &report->devices[k];
    char why[CTS_DETAIL_CAP];
    weft_device_caps_t caps, larger;
    memset(&caps, 0, sizeof(caps));
    if (cts_caps_query(host, table, instance, r->index, CTS_CAPS_SIZE_1_0, &caps, why,
                       sizeof(why))) {
      r->caps = caps;
      r->caps_valid = true;
      cts_check_add(&r->checks, "caps.struct_1_0", CTS_OUTCOME_PASS,
                    "'%s' (%s, score %d), nothing written past %u bytes", caps.name,
                    cts_type_name(caps.type), (int)caps.score, CTS_CAPS_SIZE_1_0);
    } else {
      cts_check_add(&r->checks, "caps.struct_1_0", CTS_OUTCOME_FAIL, "%s", why);
    }
    if (cts_caps_query(host, table, instance, r->index, CTS_CAPS_SIZE_1_0 + CTS_GROWTH, &larger,
                       why, sizeof(why))) {
      if (r->caps_valid && (strcmp(larger.name, caps.name) != 0 || larger.type != caps.type ||
                            larger.score != caps.score || larger.dtypes != caps.dtypes ||
                            larger.flags != caps.flags)) {
        cts_check_add(&r->checks, "caps.struct_larger", CTS_OUTCOME_FAIL,
                      "a larger record got a different answer ('%s' vs '%s')", larger.name,
                      caps.name);
      } else {
        cts_check_add(&r->checks, "caps.struct_larger", CTS_OUTCOME_PASS,
                      "%u-byte record: the same answer, the 64 unknown bytes left zero",
                      CTS_CAPS_SIZE_1_0 + CTS_GROWTH);
      }
    } else {
      cts_check_add(&r->checks, "caps.struct_larger", CTS_OUTCOME_FAIL, "%s", why);
    }
  }
  /* Out of range: an error status, nothing written, no crash. */
  const uint32_t count = report->device_count;
  weft_device_caps_t caps;
  memset(&caps, 0, sizeof(caps));
  caps.struct_size = CTS_CAPS_SIZE_1_0;
  char message[384];
  uint32_t code = cts_host_status_take(host, table->device_query_caps(instance, count, &caps),
                                       message, sizeof(message));
  cts_check_add(&report->checks, "caps.index_out_of_range",
                code != WEFT_STATUS_OK ? CTS_OUTCOME_PASS : CTS_OUTCOME_FAIL,
                code != WEFT_STATUS_OK ? "device_query_caps(%u) of %u devices: %s: %s"
                                       : "device_query_caps(%u) of %u devices answered OK%s%s",
                count, count, code != WEFT_STATUS_OK ? cts_code_name(code) : "", message);
  weft_plugin_device_t* device = NULL;
  code = cts_host_status_take(host, table->device_open(instance, count, &device), message,
                              sizeof(message));
  if (code == WEFT_STATUS_OK) {
    if (device != NULL) table->device_close(device);
    cts_check_add(&report->checks, "device.open_out_of_range", CTS_OUTCOME_FAIL,
                  "device_open(%u) of %u devices answered OK", count, count);
  } else {
    cts_check_add(&report->checks, "device.open_out_of_range", CTS_OUTCOME_PASS,
                  "device_open(%u) of %u devices: %s: %s", count, count, cts_code_name(code),
                  message);
  }
}

/* ---- one open device ---- */

#define CTS_BUFFER_SIZE 8192u

static weft_plugin_buffer_t* cts_buffer_new(cts_device_ctx_t* ctx, uint32_t memory_type,
                                            uint64_t size, uint64_t alignment,
                                            uint32_t struct_size, uint32_t* out_code,
                                            char* message, size_t cap) {
  /* Room for a newer host's larger record: zeros past sizeof. */
  struct {
    weft_buffer_params_t params;
    uint8_t extra[CTS_GROWTH];
  } storage;
  memset(&storage, 0, sizeof(storage));
  storage.params.struct_size = struct_size;
  storage.params.memory_type = memory_type;
  storage.params.size = size;
  storage.params.alignment = alignment;
  weft_plugin_buffer_t* buffer = NULL;
  *out_code = cts_host_status_take(
      ctx->host, ctx->table->buffer_allocate(ctx->device, &storage.params, &buffer), message,
      cap);
  if (*out_code != WEFT_STATUS_OK) return NULL;
  if (buffer == NULL) {
    *out_code = WEFT_STATUS_INTERNAL;
    snprintf(message, cap, "buffer_allocate answered OK without a buffer");
  }
  return buffer;
}

static void cts_random_bytes(uint8_t* p, size_t n, cts_rng_t* rng) {
  for (size_t i = 0; i < n; ++i) p[i] = (uint8_t)(cts_rng_next(rng) >> 56);
}

/* Downloads the whole buffer and compares with the model; fills `why`. */
static bool cts_buffer_matches(cts_device_ctx_t* ctx, weft_plugin_buffer_t* buffer,
                               const uint8_t* model, size_t size, char* why, size_t cap) {
  uint8_t* back = (uint8_t*)malloc(size);
  if (back == NULL) {
    snprintf(why, cap, "out of memory in the suite");
    return false;
  }
  char message[384];
  const uint32_t code = cts_host_status_take(
      ctx->host, ctx->table->buffer_download(ctx->device, buffer, 0, back, size), message,
      sizeof(message));
  bool ok = code == WEFT_STATUS_OK;
  if (!ok) {
    snprintf(why, cap, "buffer_download failed: %s: %s", cts_code_name(code), message);
  } else {
    for (size_t i = 0; i < size; ++i) {
      if (back[i] != model[i]) {
        snprintf(why, cap, "byte %zu reads 0x%02x, expected 0x%02x", i, back[i], model[i]);
        ok = false;
        break;
      }
    }
  }
  free(back);
  return ok;
}

static void cts_contract_buffers(cts_device_ctx_t* ctx) {
  cts_check_list_t* checks = &ctx->result->checks;
  const weft_plugin_interface_t* table = ctx->table;
  char message[384], why[CTS_DETAIL_CAP];
  uint32_t code = WEFT_STATUS_OK;
  const size_t size = CTS_BUFFER_SIZE;
  cts_rng_t rng = cts_rng_make(ctx->options->seed, 0xB0FF, ctx->result->index, 0);

  weft_plugin_buffer_t* a = cts_buffer_new(ctx, WEFT_MEMORY_TYPE_DEVICE_LOCAL, size, 0,
                                           (uint32_t)sizeof(weft_buffer_params_t), &code,
                                           message, sizeof(message));
  weft_plugin_buffer_t* b =
      a != NULL ? cts_buffer_new(ctx, WEFT_MEMORY_TYPE_DEVICE_LOCAL, size, 256,
                                 (uint32_t)sizeof(weft_buffer_params_t) + CTS_GROWTH, &code,
                                 message, sizeof(message))
                : NULL;
  if (a == NULL || b == NULL) {
    cts_check_add(checks, "buffer.allocate", CTS_OUTCOME_FAIL,
                  "buffer_allocate(%zu bytes, device-local) failed: %s: %s", size,
                  cts_code_name(code), message);
    if (a != NULL) table->buffer_free(ctx->device, a);
    return;
  }
  cts_check_add(checks, "buffer.allocate", CTS_OUTCOME_PASS,
                "two %zu-byte device-local buffers, one with alignment 256 and a parameter "
                "record %d bytes larger than this ABI's",
                size, CTS_GROWTH);

  uint8_t* model_a = (uint8_t*)malloc(size);
  uint8_t* model_b = (uint8_t*)malloc(size);
  if (model_a == NULL || model_b == NULL) {
    free(model_a);
    free(model_b);
    table->buffer_free(ctx->device, a);
    table->buffer_free(ctx->device, b);
    return;
  }
  /* Round trips: whole buffers, a part at an odd offset, a partial read. */
  cts_random_bytes(model_a, size, &rng);
  cts_random_bytes(model_b, size, &rng);
  uint8_t patch[333];
  cts_random_bytes(patch, sizeof(patch), &rng);
  code = cts_host_status_take(ctx->host, table->buffer_upload(ctx->device, a, 0, model_a, size),
                              message, sizeof(message));
  if (code == WEFT_STATUS_OK) {
    code = cts_host_status_take(ctx->host,
                                table->buffer_upload(ctx->device, b, 0, model_b, size), message,
                                sizeof(message));
  }
  if (code == WEFT_STATUS_OK) {
    code = cts_host_status_take(
        ctx->host, table->buffer_upload(ctx->device, a, 1001, patch, sizeof(patch)), message,
        sizeof(message));
    memcpy(model_a + 1001, patch, sizeof(patch));
  }
  bool round_trip = code == WEFT_STATUS_OK;
  if (!round_trip) {
    cts_check_add(checks, "buffer.round_trip", CTS_OUTCOME_FAIL, "buffer_upload failed: %s: %s",
                  cts_code_name(code), message);
  } else if (!cts_buffer_matches(ctx, a, model_a, size, why, sizeof(why)) ||
             !cts_buffer_matches(ctx, b, model_b, size, why, sizeof(why))) {
    round_trip = false;
    cts_check_add(checks, "buffer.round_trip", CTS_OUTCOME_FAIL, "after uploads: %s", why);
  } else {
    uint8_t part[100];
    code = cts_host_status_take(ctx->host,
                                table->buffer_download(ctx->device, a, 7, part, sizeof(part)),
                                message, sizeof(message));
    if (code != WEFT_STATUS_OK || memcmp(part, model_a + 7, sizeof(part)) != 0) {
      round_trip = false;
      cts_check_add(checks, "buffer.round_trip", CTS_OUTCOME_FAIL,
                    "a 100-byte download at offset 7 %s", code != WEFT_STATUS_OK
                                                               ? "failed"
                                                               : "returned other bytes");
    } else {
      cts_check_add(checks, "buffer.round_trip", CTS_OUTCOME_PASS,
                    "whole-buffer and partial uploads and downloads at odd offsets");
    }
  }

  /* Fills: offsets and sizes multiples of the pattern size, not of 4. */
  if (!CTS_HAS(table, buffer_fill)) {
    cts_check_add(checks, "buffer.fill", CTS_OUTCOME_SKIP, "the plugin has no buffer_fill");
  } else if (round_trip) {
    static const struct {
      uint64_t offset, size;
      uint32_t pattern_size;
      uint8_t pattern[4];
    } kFills[] = {{1, 37, 1, {0xAB}},         {4093, 3, 1, {0x5A}},
                  {6, 1002, 2, {0x34, 0x12}}, {10, 6, 2, {0xCD, 0xEF}},
                  {100, 2048, 4, {1, 2, 3, 4}}, {2050, 12, 2, {0x77, 0x88}},
                  {0, CTS_BUFFER_SIZE, 4, {0xFF, 0xFF, 0xFF, 0x7F}}};
    bool ok = true;
    for (size_t i = 0; ok && i < sizeof(kFills) / sizeof(kFills[0]); ++i) {
      /* The last fill covers the whole buffer: model_a is rebuilt below. */
      code = cts_host_status_take(
          ctx->host,
          table->buffer_fill(ctx->device, a, kFills[i].offset, kFills[i].size, kFills[i].pattern,
                             kFills[i].pattern_size),
          message, sizeof(message));
      if (code != WEFT_STATUS_OK) {
        ok = false;
        cts_check_add(checks, "buffer.fill", CTS_OUTCOME_FAIL,
                      "buffer_fill(offset %llu, size %llu, %u-byte pattern) failed: %s: %s",
                      (unsigned long long)kFills[i].offset, (unsigned long long)kFills[i].size,
                      kFills[i].pattern_size, cts_code_name(code), message);
        break;
      }
      for (uint64_t k = 0; k < kFills[i].size; ++k) {
        model_a[kFills[i].offset + k] = kFills[i].pattern[k % kFills[i].pattern_size];
      }
      if (i + 2 == sizeof(kFills) / sizeof(kFills[0]) &&
          !cts_buffer_matches(ctx, a, model_a, size, why, sizeof(why))) {
        ok = false;
        cts_check_add(checks, "buffer.fill", CTS_OUTCOME_FAIL, "after ragged fills: %s", why);
      }
    }
    if (ok && !cts_buffer_matches(ctx, a, model_a, size, why, sizeof(why))) {
      ok = false;
      cts_check_add(checks, "buffer.fill", CTS_OUTCOME_FAIL, "after a whole-buffer fill: %s", why);
    }
    if (ok) {
      cts_check_add(checks, "buffer.fill", CTS_OUTCOME_PASS,
                    "1-, 2- and 4-byte patterns at ragged offsets and over the whole buffer");
    }
    /* Back to random contents for the copies. */
    cts_random_bytes(model_a, size, &rng);
    cts_host_status_take(ctx->host, table->buffer_upload(ctx->device, a, 0, model_a, size), NULL,
                         0);
  }

  /* Copies: across buffers at odd offsets, and within one buffer. */
  if (!CTS_HAS(table, buffer_copy)) {
    cts_check_add(checks, "buffer.copy", CTS_OUTCOME_SKIP, "the plugin has no buffer_copy");
  } else if (round_trip) {
    code = cts_host_status_take(ctx->host, table->buffer_copy(ctx->device, a, 1000, b, 5, 3001),
                                message, sizeof(message));
    if (code == WEFT_STATUS_OK) {
      memcpy(model_b + 5, model_a + 1000, 3001);
      code = cts_host_status_take(
          ctx->host, table->buffer_copy(ctx->device, b, 0, b, size - 512, 512), message,
          sizeof(message));
      memmove(model_b + size - 512, model_b, 512);
    }
    if (code != WEFT_STATUS_OK) {
      cts_check_add(checks, "buffer.copy", CTS_OUTCOME_FAIL, "buffer_copy failed: %s: %s",
                    cts_code_name(code), message);
    } else if (!cts_buffer_matches(ctx, b, model_b, size, why, sizeof(why)) ||
               !cts_buffer_matches(ctx, a, model_a, size, why, sizeof(why))) {
      cts_check_add(checks, "buffer.copy", CTS_OUTCOME_FAIL, "after copies: %s", why);
    } else {
      cts_check_add(checks, "buffer.copy", CTS_OUTCOME_PASS,
                    "between buffers at odd offsets and within one buffer");
    }
  }

  /* Out of range: OUT_OF_RANGE, the contents untouched, no crash. The
   * plugin checks itself: no host stands in between here. */
  if (round_trip) {
    uint8_t scratch[64];
    memset(scratch, 0x3C, sizeof(scratch));
    const uint8_t pattern[4] = {9, 9, 9, 9};
    struct {
      const char* what;
      weft_status_t status;
    } cases[8];
    int n = 0;
    cases[n].what = "upload of 2 bytes at size - 1";
    cases[n++].status = table->buffer_upload(ctx->device, a, size - 1, scratch, 2);
    cases[n].what = "upload at UINT64_MAX - 1 (offset + size overflows)";
    cases[n++].status = table->buffer_upload(ctx->device, a, UINT64_MAX - 1, scratch, 4);
    cases[n].what = "download of 1 byte at size";
    cases[n++].status = table->buffer_download(ctx->device, a, size, scratch, 1);
    cases[n].what = "download of 64 bytes at offset size - 32";
    cases[n++].status = table->buffer_download(ctx->device, a, size - 32, scratch, 64);
    if (CTS_HAS(table, buffer_copy)) {
      cases[n].what = "copy of 20 bytes from size - 10";
      cases[n++].status = table->buffer_copy(ctx->device, a, size - 10, b, 0, 20);
      cases[n].what = "copy of 20 bytes to size - 10";
      cases[n++].status = table->buffer_copy(ctx->device, a, 0, b, size - 10, 20);
    }
    if (CTS_HAS(table, buffer_fill)) {
      cases[n].what = "fill of 8 bytes at size - 4";
      cases[n++].status = table->buffer_fill(ctx->device, a, size - 4, 8, pattern, 4);
    }
    char bad[CTS_DETAIL_CAP] = "";
    for (int i = 0; i < n; ++i) {
      code = cts_host_status_take(ctx->host, cases[i].status, message, sizeof(message));
      if (code != WEFT_STATUS_OUT_OF_RANGE && bad[0] == '\0') {
        snprintf(bad, sizeof(bad), "%s answered %s%s%s, not OUT_OF_RANGE", cases[i].what,
                 cts_code_name(code), message[0] ? ": " : "", message);
      }
    }
    if (bad[0] == '\0' && (!cts_buffer_matches(ctx, a, model_a, size, why, sizeof(why)) ||
                           !cts_buffer_matches(ctx, b, model_b, size, why, sizeof(why)))) {
      snprintf(bad, sizeof(bad), "a refused transfer changed the buffer: %.400s", why);
    }
    cts_check_add(checks, "buffer.out_of_range", bad[0] ? CTS_OUTCOME_FAIL : CTS_OUTCOME_PASS,
                  "%s", bad[0] ? bad
                               : "uploads, downloads, copies and fills past the end (and an "
                                 "overflowing offset) refused with OUT_OF_RANGE, contents kept");
  }

  /* Mapping: host-visible memory maps, or the plugin says UNSUPPORTED. */
  for (int pass = 0; pass < 2; ++pass) {
    const bool visible = pass == 0;
    const char* name = visible ? "buffer.map_host_visible" : "buffer.map_device_local";
    if (!CTS_HAS(table, buffer_map)) {
      cts_check_add(checks, name, CTS_OUTCOME_SKIP, "the plugin has no buffer_map");
      continue;
    }
    weft_plugin_buffer_t* m = visible ? cts_buffer_new(ctx, WEFT_MEMORY_TYPE_HOST_VISIBLE, size,
                                                       0, (uint32_t)sizeof(weft_buffer_params_t),
                                                       &code, message, sizeof(message))
                                      : a;
    if (m == NULL) {
      cts_check_add(checks, name,
                    code == WEFT_STATUS_UNSUPPORTED ? CTS_OUTCOME_SKIP : CTS_OUTCOME_FAIL,
                    "buffer_allocate(%zu bytes, host-visible) failed: %s: %s", size,
                    cts_code_name(code), message);
      continue;
    }
    uint8_t* model = visible ? model_b : model_a;
    if (visible) {
      code = cts_host_status_take(ctx->host, table->buffer_upload(ctx->device, m, 0, model, size),
                                  message, sizeof(message));
    }
    void* mapped = NULL;
    if (code == WEFT_STATUS_OK) {
      code = cts_host_status_take(ctx->host, table->buffer_map(ctx->device, m, &mapped), message,
                                  sizeof(message));
    }
    if (code == WEFT_STATUS_UNSUPPORTED) {
      cts_check_add(checks, name, CTS_OUTCOME_PASS, "not mappable: UNSUPPORTED: %s", message);
    } else if (code != WEFT_STATUS_OK || mapped == NULL) {
      cts_check_add(checks, name, CTS_OUTCOME_FAIL,
                    "buffer_map answered %s%s%s (OK with a pointer, or UNSUPPORTED)",
                    cts_code_name(code), message[0] ? ": " : "", message);
    } else {
      bool same = memcmp(mapped, model, size) == 0;
      memset((uint8_t*)mapped + 64, 0xEE, 64);
      if (CTS_HAS(table, buffer_unmap)) table->buffer_unmap(ctx->device, m);
      memset(model + 64, 0xEE, 64);
      if (!same) {
        cts_check_add(checks, name, CTS_OUTCOME_FAIL,
                      "the mapping does not show the uploaded bytes");
      } else if (!cts_buffer_matches(ctx, m, model, size, why, sizeof(why))) {
        cts_check_add(checks, name, CTS_OUTCOME_FAIL,
                      "a write through the mapping is not seen after unmap: %s", why);
      } else {
        cts_check_add(checks, name, CTS_OUTCOME_PASS,
                      "mapped: shows the uploaded bytes, writes through it are downloaded");
      }
    }
    if (visible) table->buffer_free(ctx->device, m);
  }

  /* Refusals that must not crash: no bytes, absurdly many bytes. */
  weft_plugin_buffer_t* zero = cts_buffer_new(ctx, WEFT_MEMORY_TYPE_DEVICE_LOCAL, 0, 0,
                                              (uint32_t)sizeof(weft_buffer_params_t), &code,
                                              message, sizeof(message));
  if (zero != NULL) {
    table->buffer_free(ctx->device, zero);
    cts_check_add(checks, "buffer.zero_size", CTS_OUTCOME_FAIL,
                  "a buffer of 0 bytes was allocated (docs/abi.md: size > 0)");
  } else {
    cts_check_add(checks, "buffer.zero_size", CTS_OUTCOME_PASS, "refused: %s: %s",
                  cts_code_name(code), message);
  }
  weft_plugin_buffer_t* huge = cts_buffer_new(ctx, WEFT_MEMORY_TYPE_DEVICE_LOCAL,
                                              (uint64_t)1 << 62, 0,
                                              (uint32_t)sizeof(weft_buffer_params_t), &code,
                                              message, sizeof(message));
  if (huge != NULL) {
    table->buffer_free(ctx->device, huge);
    cts_check_add(checks, "buffer.huge", CTS_OUTCOME_FAIL, "a buffer of 2^62 bytes was allocated");
  } else {
    cts_check_add(checks, "buffer.huge", CTS_OUTCOME_PASS, "2^62 bytes refused: %s: %s",
                  cts_code_name(code), message);
  }

  /* buffer_free(NULL) is a no-op (docs/abi.md section 6). */
  table->buffer_free(ctx->device, NULL);
  table->buffer_free(ctx->device, a);
  table->buffer_free(ctx->device, b);
  free(model_a);
  free(model_b);
}

/* buffer_import_host (ABI 1.2): host memory wrapped without a copy, read
 * back through the device, and left as it was. */
static void cts_contract_import(cts_device_ctx_t* ctx) {
  cts_check_list_t* checks = &ctx->result->checks;
  const weft_plugin_interface_t* table = ctx->table;
  if (!CTS_HAS(table, buffer_import_host)) {
    cts_check_add(checks, "buffer.import_host", CTS_OUTCOME_SKIP, "%s",
                  WEFT_ABI_HAS_MEMBER(table, weft_plugin_interface_t, buffer_import_host)
                      ? "buffer_import_host is NULL (optional)"
                      : "buffer_import_host lies past the table: not called");
    return;
  }
  const size_t size = 4096;
  uint8_t* memory = NULL;
  uint8_t* model = (uint8_t*)malloc(size);
  if (posix_memalign((void**)&memory, 64, size) != 0 || model == NULL) {
    free(model);
    return;
  }
  cts_rng_t rng = cts_rng_make(ctx->options->seed, 0x1A9, ctx->result->index, 0);
  cts_random_bytes(memory, size, &rng);
  memcpy(model, memory, size);
  weft_plugin_buffer_t* buffer = NULL;
  char message[384], why[CTS_DETAIL_CAP];
  const uint32_t code = cts_host_status_take(
      ctx->host, table->buffer_import_host(ctx->device, memory, size, &buffer), message,
      sizeof(message));
  if (code == WEFT_STATUS_UNSUPPORTED) {
    cts_check_add(checks, "buffer.import_host", CTS_OUTCOME_PASS, "not supported: %s", message);
  } else if (code != WEFT_STATUS_OK || buffer == NULL) {
    cts_check_add(checks, "buffer.import_host", CTS_OUTCOME_FAIL,
                  "buffer_import_host of %zu bytes failed: %s: %s (OK or UNSUPPORTED)", size,
                  cts_code_name(code), message);
  } else {
    const bool same = cts_buffer_matches(ctx, buffer, model, size, why, sizeof(why));
    table->buffer_free(ctx->device, buffer);
    if (!same) {
      cts_check_add(checks, "buffer.import_host", CTS_OUTCOME_FAIL,
                    "downloading the imported buffer: %s", why);
    } else if (memcmp(memory, model, size) != 0) {
      cts_check_add(checks, "buffer.import_host", CTS_OUTCOME_FAIL,
                    "the device wrote into imported host memory");
    } else {
      cts_check_add(checks, "buffer.import_host", CTS_OUTCOME_PASS,
                    "%zu bytes of host memory imported, read back, left unchanged", size);
    }
  }
  free(memory);
  free(model);
}

/* op_query's answer record: ABI 1.0's size with canary bytes after it, and a
 * newer host's larger record; an op that does not exist. */
static void cts_contract_op_query(cts_device_ctx_t* ctx) {
  cts_check_list_t* checks = &ctx->result->checks;
  const weft_plugin_interface_t* table = ctx->table;
  if (!CTS_HAS(table, op_query)) {
    cts_check_add(checks, "op_query.struct_1_0", CTS_OUTCOME_SKIP,
                  "the plugin has no op_query (it runs no ops)");
    return;
  }
  weft_tensor_desc_t t;
  memset(&t, 0, sizeof(t));
  t.struct_size = (uint32_t)sizeof(t);
  t.dtype = WEFT_DTYPE_F32;
  t.ne[0] = 64;
  t.ne[1] = t.ne[2] = t.ne[3] = 1;
  t.nb[0] = 4;
  t.nb[1] = t.nb[2] = t.nb[3] = 256;
  const weft_tensor_desc_t* tensors[3] = {&t, &t, &t};
  weft_node_t node;
  memset(&node, 0, sizeof(node));
  node.struct_size = (uint32_t)sizeof(node);
  node.op = WEFT_OP_ADD;
  for (int i = 0; i < WEFT_MAX_SRC; ++i) node.src[i] = WEFT_NODE_NO_TENSOR;
  node.src[0] = 0;
  node.src[1] = 1;
  node.dst = 2;
  uint32_t supported[2] = {0, 0};
  for (int pass = 0; pass < 2; ++pass) {
    const char* name = pass == 0 ? "op_query.struct_1_0" : "op_query.struct_larger";
    const uint32_t size = CTS_SUPPORT_SIZE_1_0 + (pass == 0 ? 0 : CTS_GROWTH);
    struct {
      weft_op_support_t support;
      uint8_t extra[CTS_GROWTH];
      uint8_t canary[CTS_CANARY_SIZE];
    } s;
    memset(&s, 0, sizeof(s));
    uint8_t* bytes = (uint8_t*)&s;
    memset(bytes + size, CTS_CANARY, sizeof(s) - size);
    s.support.struct_size = size;
    char message[384];
    const uint32_t code = cts_host_status_take(
        ctx->host, table->op_query(ctx->device, &node, tensors, 3, &s.support), message,
        sizeof(message));
    size_t first = 0;
    if (code != WEFT_STATUS_OK) {
      cts_check_add(checks, name, CTS_OUTCOME_FAIL, "op_query (add, f32) failed: %s: %s",
                    cts_code_name(code), message);
    } else if (!cts_bytes_are(bytes + size, sizeof(s) - size, CTS_CANARY, &first)) {
      cts_check_add(checks, name, CTS_OUTCOME_FAIL, "op_query wrote past struct_size %u (byte %zu)",
                    size, (size_t)size + first);
    } else if (size > sizeof(weft_op_support_t) &&
               !cts_bytes_are(bytes + sizeof(weft_op_support_t),
                              size - sizeof(weft_op_support_t), 0, &first)) {
      cts_check_add(checks, name, CTS_OUTCOME_FAIL,
                    "op_query wrote byte %zu of a %u-byte record, past every member this ABI has",
                    sizeof(weft_op_support_t) + first, size);
    } else if (s.support.supported > 1 ||
               !cts_terminated(s.support.reason, sizeof(s.support.reason)) ||
               (s.support.supported == 0 && s.support.reason[0] == '\0')) {
      cts_check_add(checks, name, CTS_OUTCOME_FAIL,
                    "supported %u with %s reason (1 or 0, and a terminated reason when 0)",
                    s.support.supported,
                    cts_terminated(s.support.reason, sizeof(s.support.reason)) ? "an empty"
                                                                              : "an unterminated");
    } else {
      supported[pass] = s.support.supported;
      cts_check_add(checks, name, CTS_OUTCOME_PASS, "%u-byte record: add f32 %s%s%s", size,
                    s.support.supported ? "supported" : "unsupported",
                    s.support.supported ? "" : ": ", s.support.supported ? "" : s.support.reason);
    }
  }
  if (supported[0] != supported[1]) {
    cts_check_add(checks, "op_query.struct_larger", CTS_OUTCOME_FAIL,
                  "a larger record changed the answer (%u, then %u)", supported[0], supported[1]);
  }
  /* Ops that do not exist: NONE, and an id past op set 1. */
  const uint32_t bogus[2] = {WEFT_OP_NONE, 0xFFFFu};
  char bad[CTS_DETAIL_CAP] = "";
  for (int i = 0; i < 2; ++i) {
    node.op = bogus[i];
    weft_op_support_t support;
    memset(&support, 0, sizeof(support));
    support.struct_size = (uint32_t)sizeof(support);
    char message[384];
    const uint32_t code = cts_host_status_take(
        ctx->host, table->op_query(ctx->device, &node, tensors, 3, &support), message,
        sizeof(message));
    if (code == WEFT_STATUS_OK && support.supported != 0 && bad[0] == '\0') {
      snprintf(bad, sizeof(bad), "op %u claims support", bogus[i]);
    }
  }
  cts_check_add(checks, "op_query.unknown_op", bad[0] ? CTS_OUTCOME_FAIL : CTS_OUTCOME_PASS, "%s",
                bad[0] ? bad : "ops 0 (none) and 65535 answered unsupported (or an error)");
}

/* Empty segments order work: they wait and signal like any other. */
static void cts_contract_events(cts_device_ctx_t* ctx) {
  cts_check_list_t* checks = &ctx->result->checks;
  const weft_plugin_interface_t* table = ctx->table;
  cts_host_t* host = ctx->host;
  if (!CTS_HAS(table, segment_submit)) {
    cts_check_add(checks, "event.empty_segment", CTS_OUTCOME_SKIP,
                  "the plugin has no segment_submit");
  } else {
    weft_segment_t segment;
    memset(&segment, 0, sizeof(segment));
    segment.struct_size = (uint32_t)sizeof(segment);
    char message[384];
    struct {
      const char* name;
      int waits;      /* 0: none, 1: signalled already, 2: signalled later, 3: failed */
      bool signal;    /* pass a signal event */
    } kCases[] = {
        {"event.empty_segment", 0, true},   {"event.null_signal", 0, false},
        {"event.wait_signalled", 1, true},  {"event.wait_later", 2, true},
        {"event.wait_failed", 3, true},
    };
    for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); ++i) {
      cts_event_t signal, wait;
      cts_event_init(&signal);
      cts_event_init(&wait);
      cts_signaller_t signaller;
      memset(&signaller, 0, sizeof(signaller));
      if (kCases[i].waits == 1) cts_event_signal(host, &wait, WEFT_STATUS_OK);
      if (kCases[i].waits == 3) cts_event_signal(host, &wait, WEFT_STATUS_ABORTED);
      if (kCases[i].waits == 2 &&
          !cts_signaller_start(&signaller, host, &wait, WEFT_STATUS_OK, 20000000ull)) {
        cts_event_signal(host, &wait, WEFT_STATUS_OK);
      }
      weft_event_t* waits[1] = {cts_event_handle(&wait)};
      const uint32_t code = cts_host_status_take(
          host,
          table->segment_submit(ctx->device, &segment, kCases[i].waits ? waits : NULL,
                                kCases[i].waits ? 1u : 0u,
                                kCases[i].signal ? cts_event_handle(&signal) : NULL),
          message, sizeof(message));
      uint32_t signalled = WEFT_STATUS_OK;
      if (code == WEFT_STATUS_OK && kCases[i].signal) {
        signalled = cts_event_wait(&signal, 10 * kSecond);
      }
      if (CTS_HAS(table, synchronize)) {
        cts_host_status_take(host, table->synchronize(ctx->device), NULL, 0);
      }
      cts_signaller_join(&signaller);
      uint32_t count = 0;
      uint64_t signal_seq = 0, wait_seq = 0;
      cts_event_state(&signal, NULL, NULL, &count, &signal_seq);
      cts_event_state(&wait, NULL, NULL, NULL, &wait_seq);
      if (code == WEFT_STATUS_UNIMPLEMENTED || code == WEFT_STATUS_UNSUPPORTED) {
        cts_check_add(checks, kCases[i].name, CTS_OUTCOME_SKIP,
                      "the device does not run segments: %s: %s", cts_code_name(code), message);
      } else if (code != WEFT_STATUS_OK && kCases[i].waits == 3) {
        /* Returning the failure is passing it on too: the host then
         * signals the event with that code (docs/abi.md section 15). */
        cts_check_add(checks, kCases[i].name, CTS_OUTCOME_PASS,
                      "waiting on an event that failed with ABORTED: segment_submit returned "
                      "%s: %s",
                      cts_code_name(code), message);
      } else if (code != WEFT_STATUS_OK) {
        cts_check_add(checks, kCases[i].name, CTS_OUTCOME_FAIL,
                      "segment_submit of an empty segment failed: %s: %s", cts_code_name(code),
                      message);
      } else if (!kCases[i].signal) {
        cts_check_add(checks, kCases[i].name, CTS_OUTCOME_PASS,
                      "an empty segment without a signal event");
      } else if (signalled == WEFT_STATUS_DEADLINE_EXCEEDED) {
        cts_check_add(checks, kCases[i].name, CTS_OUTCOME_FAIL,
                      "the signal event was not signalled within 10 s");
      } else if (count != 1) {
        cts_check_add(checks, kCases[i].name, CTS_OUTCOME_FAIL,
                      "the signal event was signalled %u times, not once", count);
      } else if (kCases[i].waits == 3) {
        cts_check_add(checks, kCases[i].name,
                      signalled != WEFT_STATUS_OK ? CTS_OUTCOME_PASS : CTS_OUTCOME_FAIL,
                      signalled != WEFT_STATUS_OK
                          ? "waiting on an event that failed with ABORTED: signalled %s"
                          : "waiting on an event that failed with ABORTED: signalled %s; "
                            "docs/abi.md section 15: a failure propagates to every waiter",
                      cts_code_name(signalled));
      } else if (signalled != WEFT_STATUS_OK) {
        cts_check_add(checks, kCases[i].name, CTS_OUTCOME_FAIL,
                      "signalled %s, not OK", cts_code_name(signalled));
      } else if (kCases[i].waits != 0 && signal_seq < wait_seq) {
        cts_check_add(checks, kCases[i].name, CTS_OUTCOME_FAIL,
                      "signalled before the event it waits on");
      } else {
        cts_check_add(checks, kCases[i].name, CTS_OUTCOME_PASS, "%s",
                      kCases[i].waits == 0   ? "signalled once with OK"
                      : kCases[i].waits == 1 ? "waits on a signalled event, signals once with OK"
                                             : "waits on an event another thread signals 20 ms "
                                               "later, signals after it, once, with OK");
      }
      cts_event_deinit(&signal);
      cts_event_deinit(&wait);
    }
  }
  if (!CTS_HAS(table, synchronize)) {
    cts_check_add(checks, "synchronize", CTS_OUTCOME_SKIP, "the plugin has no synchronize");
  } else {
    char message[384];
    const uint32_t code =
        cts_host_status_take(host, table->synchronize(ctx->device), message, sizeof(message));
    cts_check_add(checks, "synchronize", code == WEFT_STATUS_OK ? CTS_OUTCOME_PASS : CTS_OUTCOME_FAIL,
                  code == WEFT_STATUS_OK ? "returns OK on an idle device%s%s"
                                         : "failed on an idle device: %s: %s",
                  code == WEFT_STATUS_OK ? "" : cts_code_name(code), message);
  }
}

static void cts_contract_memory_query(cts_device_ctx_t* ctx) {
  cts_check_list_t* checks = &ctx->result->checks;
  const weft_plugin_interface_t* table = ctx->table;
  if (!CTS_HAS(table, device_memory_query)) {
    cts_check_add(checks, "device.memory_query", CTS_OUTCOME_SKIP,
                  WEFT_ABI_HAS_MEMBER(table, weft_plugin_interface_t, device_memory_query)
                      ? "device_memory_query is NULL (optional)"
                      : "device_memory_query lies past the table (an ABI 1.0 plugin): not "
                        "called");
    return;
  }
  uint64_t free_bytes = 0, total = 0;
  char message[384];
  const uint32_t code = cts_host_status_take(
      ctx->host, table->device_memory_query(ctx->device, &free_bytes, &total), message,
      sizeof(message));
  if (code != WEFT_STATUS_OK) {
    cts_check_add(checks, "device.memory_query", CTS_OUTCOME_FAIL, "failed: %s: %s",
                  cts_code_name(code), message);
  } else if (free_bytes > total) {
    cts_check_add(checks, "device.memory_query", CTS_OUTCOME_FAIL,
                  "%llu bytes free of %llu total", (unsigned long long)free_bytes,
                  (unsigned long long)total);
  } else {
    cts_check_add(checks, "device.memory_query", CTS_OUTCOME_PASS, "%llu of %llu MiB free",
                  (unsigned long long)(free_bytes >> 20), (unsigned long long)(total >> 20));
  }
}

void cts_contract_device(cts_device_ctx_t* ctx) {
  cts_contract_buffers(ctx);
  cts_contract_import(ctx);
  cts_contract_op_query(ctx);
  cts_contract_events(ctx);
  cts_contract_memory_query(ctx);
}

/* ---- what is left ---- */

void cts_contract_leaks(cts_report_t* report, cts_host_t* host, const char* prefix) {
  const cts_host_counters_t c = cts_host_counters(host);
  char name[CTS_CHECK_NAME_CAP];
  snprintf(name, sizeof(name), "%sallocations", prefix);
  if (c.live_blocks != 0 || c.foreign_frees != 0 || c.bad_alignment != 0) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "after instance_destroy: %llu allocations (%llu bytes) never freed, %llu frees "
                  "of pointers the host never handed out, %llu bad alignments",
                  (unsigned long long)c.live_blocks, (unsigned long long)c.live_bytes,
                  (unsigned long long)c.foreign_frees, (unsigned long long)c.bad_alignment);
  } else {
    cts_check_add(&report->checks, name, CTS_OUTCOME_PASS,
                  "%llu allocations through the host, every one freed by instance_destroy",
                  (unsigned long long)c.alloc_calls);
  }
  snprintf(name, sizeof(name), "%sstatuses", prefix);
  if (c.statuses_live != 0 || c.status_foreign != 0 || c.status_bad_code != 0) {
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "%llu statuses made by the plugin and never returned or freed, %llu uses of "
                  "statuses the host never made, %llu codes outside the status list",
                  (unsigned long long)c.statuses_live, (unsigned long long)c.status_foreign,
                  (unsigned long long)c.status_bad_code);
  } else {
    cts_check_add(&report->checks, name, CTS_OUTCOME_PASS,
                  "%llu statuses made, every one returned to the host or freed",
                  (unsigned long long)c.statuses_made);
  }
  if (c.events_null != 0) {
    snprintf(name, sizeof(name), "%sevents", prefix);
    cts_check_add(&report->checks, name, CTS_OUTCOME_FAIL,
                  "event_signal or event_wait called %llu times with a NULL event",
                  (unsigned long long)c.events_null);
  }
}
