/* The conformance suite's host side: the weft_host_services_t table it hands
 * a plugin, with an allocator that counts and tracks every block, status
 * objects it counts, host events, a log sink, and a trap for table members a
 * plugin must not call.
 *
 * Everything a plugin can do wrong through these services is recorded in
 * counters that the contract checks read (cts_contract.c); nothing here
 * aborts.
 *
 * Thread safety: every service is thread-safe (docs/abi.md, section 7);
 * cts_host_init/deinit and reading the counters are for the suite's thread
 * while the plugin is quiet. */
#ifndef WEFT_TESTS_CTS_CTS_HOST_H_
#define WEFT_TESTS_CTS_CTS_HOST_H_

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "weft/abi/host.h"

/* Requests above this many bytes get NULL without reaching the C library:
 * sanitizers abort the process on absurd sizes, and a plugin must survive
 * an allocation failure anyway. */
#define CTS_HOST_ALLOC_LIMIT ((uint64_t)1 << 32)

typedef struct cts_host_block_t cts_host_block_t;
typedef struct cts_host_status_t cts_host_status_t;

typedef struct cts_host_counters_t {
  uint64_t alloc_calls;
  uint64_t alloc_failed;      /* NULL answers (limit, bad alignment, C library) */
  uint64_t live_blocks;
  uint64_t live_bytes;
  uint64_t foreign_frees;     /* free() of a pointer alloc() never returned */
  uint64_t bad_alignment;     /* alignment not 0 and not a power of two */
  uint64_t misaligned;        /* never: our own blocks honour alignment */
  uint64_t statuses_made;
  uint64_t statuses_live;
  uint64_t status_foreign;    /* code/message/free of a status we never made */
  uint64_t status_bad_code;   /* status_make with a code outside the list */
  uint64_t events_null;       /* event_signal/event_wait on NULL */
  uint64_t trap_calls;        /* members past the table's struct_size called */
  uint64_t log_lines[4];      /* per weft_log_level_t */
} cts_host_counters_t;

typedef struct cts_host_t {
  /* Full-size storage; struct_size says how much of it the plugin may use. */
  weft_host_services_t services;
  pthread_mutex_t lock;
  cts_host_block_t* blocks;    /* live allocations */
  cts_host_status_t* statuses; /* live statuses */
  cts_host_counters_t counters;
  uint64_t sequence;           /* orders event signals */
  FILE* log;
  int verbose;
  char trap_member[48];
} cts_host_t;

/* Prepares a host that speaks `abi_version` (1.0, or any later minor): for 1.0 the
 * table's struct_size ends before env_get, and env_get (still stored past
 * it) is a trap that counts calls. Log lines go to `log` (may be NULL):
 * errors always, warnings with verbose >= 1, everything with verbose >= 2. */
void cts_host_init(cts_host_t* host, uint32_t abi_version, FILE* log, int verbose);
/* Frees statuses and blocks still live (after the checks counted them). */
void cts_host_deinit(cts_host_t* host);

cts_host_counters_t cts_host_counters(cts_host_t* host);

/* ---- statuses the suite receives from the plugin ---- */

/* The code of a status the plugin returned; copies its message into
 * `message` (may be NULL) and frees the status. A status this host never
 * made gives WEFT_STATUS_UNKNOWN and is counted as foreign, not freed. */
uint32_t cts_host_status_take(cts_host_t* host, weft_status_t status, char* message,
                              size_t message_cap);

/* ---- events ---- */

typedef struct cts_event_t {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  bool signalled;
  uint32_t code;           /* the first signal's code */
  uint32_t signal_count;   /* every call, also the ones after the first */
  uint64_t sequence;       /* host-wide order of the first signal */
} cts_event_t;

void cts_event_init(cts_event_t* event);
void cts_event_deinit(cts_event_t* event);
/* What the plugin's event_signal does; the suite signals through it too. */
void cts_event_signal(cts_host_t* host, cts_event_t* event, uint32_t code);
/* The signalled code, or WEFT_STATUS_DEADLINE_EXCEEDED after timeout_ns. */
uint32_t cts_event_wait(cts_event_t* event, uint64_t timeout_ns);
/* Snapshot under the lock. */
void cts_event_state(cts_event_t* event, bool* out_signalled, uint32_t* out_code,
                     uint32_t* out_count, uint64_t* out_sequence);

static inline weft_event_t* cts_event_handle(cts_event_t* event) {
  return (weft_event_t*)(void*)event;
}

/* Signals `event` from a new thread after `delay_ns`. */
typedef struct cts_signaller_t {
  pthread_t thread;
  bool started;
  cts_host_t* host;
  cts_event_t* event;
  uint32_t code;
  uint64_t delay_ns;
} cts_signaller_t;

bool cts_signaller_start(cts_signaller_t* signaller, cts_host_t* host, cts_event_t* event,
                         uint32_t code, uint64_t delay_ns);
void cts_signaller_join(cts_signaller_t* signaller);

/* Monotonic clock in nanoseconds. */
uint64_t cts_now_ns(void);

#endif /* WEFT_TESTS_CTS_CTS_HOST_H_ */
