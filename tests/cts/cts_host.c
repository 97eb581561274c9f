/* The conformance suite's host services (see cts_host.h). */
#define _GNU_SOURCE /* secure_getenv */
#include "cts_host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft/abi/version.h"

/* A live allocation. Kept in a list outside the block itself, so that a
 * foreign pointer handed to free is recognised without reading memory
 * around it. */
struct cts_host_block_t {
  cts_host_block_t* next;
  void* raw;  /* what the C library returned */
  void* user; /* what the plugin got */
  size_t size;
};

struct cts_host_status_t {
  cts_host_status_t* prev;
  cts_host_status_t* next;
  uint32_t code;
  const char* message; /* NUL-terminated; stored right after the struct */
};

/* Answers for status_make when the C library is out of memory: one per
 * code, never freed, not counted (a plugin may still free them). */
static cts_host_status_t cts_host_static_statuses[WEFT_STATUS_CODE_COUNT_];

static const char* cts_host_code_text(uint32_t code) {
  switch (code) {
#define CTS_HOST_CODE_TEXT_(name, value, text) \
  case value:                                  \
    return text;
    WEFT_STATUS_CODE_LIST(CTS_HOST_CODE_TEXT_)
#undef CTS_HOST_CODE_TEXT_
    default:
      return "unknown code";
  }
}

static bool cts_host_is_static_status(const void* status) {
  for (size_t i = 0; i < WEFT_STATUS_CODE_COUNT_; ++i) {
    if (status == (const void*)&cts_host_static_statuses[i]) return true;
  }
  return false;
}

uint64_t cts_now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* ---- allocation ---- */

static void* cts_host_alloc(void* host_ctx, size_t size, size_t alignment) {
  cts_host_t* host = (cts_host_t*)host_ctx;
  pthread_mutex_lock(&host->lock);
  host->counters.alloc_calls++;
  pthread_mutex_unlock(&host->lock);
  if (alignment == 0) alignment = 16;
  if ((alignment & (alignment - 1)) != 0 || alignment > ((size_t)1 << 20)) {
    pthread_mutex_lock(&host->lock);
    host->counters.bad_alignment++;
    host->counters.alloc_failed++;
    pthread_mutex_unlock(&host->lock);
    return NULL;
  }
  if ((uint64_t)size > CTS_HOST_ALLOC_LIMIT) {
    pthread_mutex_lock(&host->lock);
    host->counters.alloc_failed++;
    pthread_mutex_unlock(&host->lock);
    return NULL;
  }
  cts_host_block_t* block = (cts_host_block_t*)malloc(sizeof(*block));
  void* raw = NULL;
  /* size 0 still gets a distinct block, as malloc(0) may. */
  if (block == NULL ||
      posix_memalign(&raw, alignment < sizeof(void*) ? sizeof(void*) : alignment,
                     size == 0 ? 1 : size) != 0) {
    free(block);
    pthread_mutex_lock(&host->lock);
    host->counters.alloc_failed++;
    pthread_mutex_unlock(&host->lock);
    return NULL;
  }
  block->raw = raw;
  block->user = raw;
  block->size = size;
  pthread_mutex_lock(&host->lock);
  block->next = host->blocks;
  host->blocks = block;
  host->counters.live_blocks++;
  host->counters.live_bytes += size;
  pthread_mutex_unlock(&host->lock);
  return raw;
}

static void cts_host_free(void* host_ctx, void* ptr) {
  cts_host_t* host = (cts_host_t*)host_ctx;
  if (ptr == NULL) return;
  pthread_mutex_lock(&host->lock);
  cts_host_block_t** link = &host->blocks;
  while (*link != NULL && (*link)->user != ptr) link = &(*link)->next;
  cts_host_block_t* block = *link;
  if (block == NULL) {
    host->counters.foreign_frees++;
    pthread_mutex_unlock(&host->lock);
    return;
  }
  *link = block->next;
  host->counters.live_blocks--;
  host->counters.live_bytes -= block->size;
  pthread_mutex_unlock(&host->lock);
  free(block->raw);
  free(block);
}

/* ---- log ---- */

static void cts_host_log(void* host_ctx, uint32_t level, const char* format, ...) {
  cts_host_t* host = (cts_host_t*)host_ctx;
  if (level > WEFT_LOG_LEVEL_DEBUG) level = WEFT_LOG_LEVEL_DEBUG;
  pthread_mutex_lock(&host->lock);
  host->counters.log_lines[level]++;
  pthread_mutex_unlock(&host->lock);
  /* Format even when nothing is printed: a bad format string should fail
   * here, under the sanitizers, not in someone's application. */
  char line[1024];
  va_list args;
  va_start(args, format);
  if (format != NULL) {
    vsnprintf(line, sizeof(line), format, args);
  } else {
    snprintf(line, sizeof(line), "(NULL format)");
  }
  va_end(args);
  static const char* const kLevels[] = {"error", "warn", "info", "debug"};
  bool show = level == WEFT_LOG_LEVEL_ERROR ||
              (level == WEFT_LOG_LEVEL_WARN && host->verbose >= 1) || host->verbose >= 2;
  if (host->log != NULL && show) {
    fprintf(host->log, "[plugin %s] %s\n", kLevels[level], line);
  }
}

/* ---- statuses ---- */

static weft_status_t cts_host_status_make(void* host_ctx, uint32_t code, const char* format,
                                          ...) {
  cts_host_t* host = (cts_host_t*)host_ctx;
  if (code == WEFT_STATUS_OK) return WEFT_OK;
  if (code >= WEFT_STATUS_CODE_COUNT_) {
    pthread_mutex_lock(&host->lock);
    host->counters.status_bad_code++;
    pthread_mutex_unlock(&host->lock);
  }
  char text[1024];
  va_list args;
  va_start(args, format);
  int length = format != NULL ? vsnprintf(text, sizeof(text), format, args) : 0;
  va_end(args);
  if (length < 0) length = 0;
  if ((size_t)length >= sizeof(text)) length = (int)sizeof(text) - 1;
  if (format == NULL) text[0] = '\0';
  cts_host_status_t* status = (cts_host_status_t*)malloc(sizeof(*status) + (size_t)length + 1);
  if (status == NULL) {
    uint32_t slot = code < WEFT_STATUS_CODE_COUNT_ ? code : WEFT_STATUS_UNKNOWN;
    cts_host_static_statuses[slot].code = slot;
    cts_host_static_statuses[slot].message = cts_host_code_text(slot);
    return (weft_status_t)(void*)&cts_host_static_statuses[slot];
  }
  status->code = code;
  char* copy = (char*)(status + 1);
  memcpy(copy, text, (size_t)length);
  copy[length] = '\0';
  status->message = copy;
  pthread_mutex_lock(&host->lock);
  status->prev = NULL;
  status->next = host->statuses;
  if (host->statuses != NULL) host->statuses->prev = status;
  host->statuses = status;
  host->counters.statuses_made++;
  host->counters.statuses_live++;
  pthread_mutex_unlock(&host->lock);
  return (weft_status_t)(void*)status;
}

/* The live status behind a handle, or NULL; called with the lock held. */
static cts_host_status_t* cts_host_status_find_locked(cts_host_t* host, weft_status_t handle) {
  for (cts_host_status_t* s = host->statuses; s != NULL; s = s->next) {
    if ((void*)s == (void*)handle) return s;
  }
  if (cts_host_is_static_status(handle)) return (cts_host_status_t*)(void*)handle;
  return NULL;
}

static uint32_t cts_host_status_code(void* host_ctx, weft_status_t status) {
  cts_host_t* host = (cts_host_t*)host_ctx;
  if (status == WEFT_OK) return WEFT_STATUS_OK;
  pthread_mutex_lock(&host->lock);
  cts_host_status_t* found = cts_host_status_find_locked(host, status);
  if (found == NULL) host->counters.status_foreign++;
  uint32_t code = found != NULL ? found->code : WEFT_STATUS_UNKNOWN;
  pthread_mutex_unlock(&host->lock);
  return code;
}

static const char* cts_host_status_message(void* host_ctx, weft_status_t status) {
  cts_host_t* host = (cts_host_t*)host_ctx;
  if (status == WEFT_OK) return "ok";
  pthread_mutex_lock(&host->lock);
  cts_host_status_t* found = cts_host_status_find_locked(host, status);
  if (found == NULL) host->counters.status_foreign++;
  pthread_mutex_unlock(&host->lock);
  return found != NULL ? found->message : "(not a status of this host)";
}

static void cts_host_status_free(void* host_ctx, weft_status_t status) {
  cts_host_t* host = (cts_host_t*)host_ctx;
  if (status == WEFT_OK || cts_host_is_static_status(status)) return;
  pthread_mutex_lock(&host->lock);
  cts_host_status_t* found = cts_host_status_find_locked(host, status);
  if (found == NULL) {
    host->counters.status_foreign++;
    pthread_mutex_unlock(&host->lock);
    return;
  }
  if (found->prev != NULL) {
    found->prev->next = found->next;
  } else {
    host->statuses = found->next;
  }
  if (found->next != NULL) found->next->prev = found->prev;
  host->counters.statuses_live--;
  pthread_mutex_unlock(&host->lock);
  free(found);
}

uint32_t cts_host_status_take(cts_host_t* host, weft_status_t status, char* message,
                              size_t message_cap) {
  if (message != NULL && message_cap > 0) message[0] = '\0';
  if (status == WEFT_OK) return WEFT_STATUS_OK;
  pthread_mutex_lock(&host->lock);
  cts_host_status_t* found = cts_host_status_find_locked(host, status);
  pthread_mutex_unlock(&host->lock);
  if (found == NULL) {
    pthread_mutex_lock(&host->lock);
    host->counters.status_foreign++;
    pthread_mutex_unlock(&host->lock);
    if (message != NULL && message_cap > 0) {
      snprintf(message, message_cap, "(a status this host never made)");
    }
    return WEFT_STATUS_UNKNOWN;
  }
  uint32_t code = found->code;
  if (message != NULL && message_cap > 0) snprintf(message, message_cap, "%s", found->message);
  cts_host_status_free(host, status);
  return code;
}

/* ---- events ---- */

void cts_event_init(cts_event_t* event) {
  memset(event, 0, sizeof(*event));
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_mutex_init(&event->mutex, NULL);
  pthread_cond_init(&event->cond, &attr);
  pthread_condattr_destroy(&attr);
}

void cts_event_deinit(cts_event_t* event) {
  pthread_cond_destroy(&event->cond);
  pthread_mutex_destroy(&event->mutex);
}

void cts_event_signal(cts_host_t* host, cts_event_t* event, uint32_t code) {
  pthread_mutex_lock(&host->lock);
  uint64_t sequence = ++host->sequence;
  pthread_mutex_unlock(&host->lock);
  pthread_mutex_lock(&event->mutex);
  event->signal_count++;
  if (!event->signalled) {
    event->signalled = true;
    event->code = code;
    event->sequence = sequence;
  }
  pthread_cond_broadcast(&event->cond);
  pthread_mutex_unlock(&event->mutex);
}

uint32_t cts_event_wait(cts_event_t* event, uint64_t timeout_ns) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  if (timeout_ns != UINT64_MAX) {
    uint64_t ns = (uint64_t)deadline.tv_nsec + timeout_ns % 1000000000ull;
    deadline.tv_sec += (time_t)(timeout_ns / 1000000000ull + ns / 1000000000ull);
    deadline.tv_nsec = (long)(ns % 1000000000ull);
  }
  pthread_mutex_lock(&event->mutex);
  while (!event->signalled) {
    if (timeout_ns == UINT64_MAX) {
      pthread_cond_wait(&event->cond, &event->mutex);
    } else if (pthread_cond_timedwait(&event->cond, &event->mutex, &deadline) == ETIMEDOUT) {
      break;
    }
  }
  uint32_t code = event->signalled ? event->code : WEFT_STATUS_DEADLINE_EXCEEDED;
  pthread_mutex_unlock(&event->mutex);
  return code;
}

void cts_event_state(cts_event_t* event, bool* out_signalled, uint32_t* out_code,
                     uint32_t* out_count, uint64_t* out_sequence) {
  pthread_mutex_lock(&event->mutex);
  if (out_signalled) *out_signalled = event->signalled;
  if (out_code) *out_code = event->code;
  if (out_count) *out_count = event->signal_count;
  if (out_sequence) *out_sequence = event->sequence;
  pthread_mutex_unlock(&event->mutex);
}

static void cts_host_event_signal(void* host_ctx, weft_event_t* event, uint32_t code) {
  cts_host_t* host = (cts_host_t*)host_ctx;
  if (event == NULL) {
    pthread_mutex_lock(&host->lock);
    host->counters.events_null++;
    pthread_mutex_unlock(&host->lock);
    return;
  }
  cts_event_signal(host, (cts_event_t*)(void*)event, code);
}

static uint32_t cts_host_event_wait(void* host_ctx, weft_event_t* event, uint64_t timeout_ns) {
  cts_host_t* host = (cts_host_t*)host_ctx;
  if (event == NULL) {
    pthread_mutex_lock(&host->lock);
    host->counters.events_null++;
    pthread_mutex_unlock(&host->lock);
    return WEFT_STATUS_INVALID_ARGUMENT;
  }
  return cts_event_wait((cts_event_t*)(void*)event, timeout_ns);
}

static void* cts_signaller_main(void* arg) {
  cts_signaller_t* s = (cts_signaller_t*)arg;
  struct timespec delay = {(time_t)(s->delay_ns / 1000000000ull),
                           (long)(s->delay_ns % 1000000000ull)};
  while (nanosleep(&delay, &delay) != 0 && errno == EINTR) {
  }
  cts_event_signal(s->host, s->event, s->code);
  return NULL;
}

bool cts_signaller_start(cts_signaller_t* signaller, cts_host_t* host, cts_event_t* event,
                         uint32_t code, uint64_t delay_ns) {
  signaller->host = host;
  signaller->event = event;
  signaller->code = code;
  signaller->delay_ns = delay_ns;
  signaller->started =
      pthread_create(&signaller->thread, NULL, cts_signaller_main, signaller) == 0;
  return signaller->started;
}

void cts_signaller_join(cts_signaller_t* signaller) {
  if (signaller->started) pthread_join(signaller->thread, NULL);
  signaller->started = false;
}

/* ---- configuration ---- */

static const char* cts_host_env_get(void* host_ctx, const char* name) {
  (void)host_ctx;
  return name != NULL ? secure_getenv(name) : NULL;
}

/* Stored past a 1.0 table's struct_size: a plugin that calls it read a
 * member the host does not have. */
static const char* cts_host_env_get_trap(void* host_ctx, const char* name) {
  cts_host_t* host = (cts_host_t*)host_ctx;
  (void)name;
  pthread_mutex_lock(&host->lock);
  host->counters.trap_calls++;
  snprintf(host->trap_member, sizeof(host->trap_member), "env_get");
  pthread_mutex_unlock(&host->lock);
  return NULL;
}

void cts_host_init(cts_host_t* host, uint32_t abi_version, FILE* log, int verbose) {
  memset(host, 0, sizeof(*host));
  pthread_mutex_init(&host->lock, NULL);
  host->log = log;
  host->verbose = verbose;
  weft_host_services_t* s = &host->services;
  const bool old = abi_version < WEFT_ABI_MAKE_VERSION(1, 1);
  s->struct_size = old ? (uint32_t)offsetof(weft_host_services_t, env_get)
                       : (uint32_t)sizeof(weft_host_services_t);
  s->abi_version = abi_version;
  s->host_ctx = host;
  s->alloc = cts_host_alloc;
  s->free = cts_host_free;
  s->log = cts_host_log;
  s->status_make = cts_host_status_make;
  s->status_code = cts_host_status_code;
  s->status_message = cts_host_status_message;
  s->status_free = cts_host_status_free;
  s->event_signal = cts_host_event_signal;
  s->event_wait = cts_host_event_wait;
  s->env_get = old ? cts_host_env_get_trap : cts_host_env_get;
}

void cts_host_deinit(cts_host_t* host) {
  while (host->statuses != NULL) {
    cts_host_status_t* next = host->statuses->next;
    free(host->statuses);
    host->statuses = next;
  }
  while (host->blocks != NULL) {
    cts_host_block_t* next = host->blocks->next;
    free(host->blocks->raw);
    free(host->blocks);
    host->blocks = next;
  }
  pthread_mutex_destroy(&host->lock);
}

cts_host_counters_t cts_host_counters(cts_host_t* host) {
  pthread_mutex_lock(&host->lock);
  cts_host_counters_t counters = host->counters;
  pthread_mutex_unlock(&host->lock);
  return counters;
}
