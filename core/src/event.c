#include "event.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "util.h"

struct weft_event_s {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  int signalled;
  uint32_t code;
};

weft_status_t weft__event_create(weft_allocator_t allocator,
                                 weft_event_t** out_event) {
  *out_event = NULL;
  weft_event_t* event = NULL;
  WEFT_RETURN_IF_ERROR(weft__alloc(allocator, sizeof(*event), "an event", (void**)&event));
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (pthread_mutex_init(&event->mutex, NULL) != 0 ||
      pthread_cond_init(&event->cond, &attr) != 0) {
    pthread_condattr_destroy(&attr);
    weft__free(allocator, event);
    return weft_status_make(WEFT_STATUS_RESOURCE_EXHAUSTED,
                            "cannot initialise an event's mutex/condition");
  }
  pthread_condattr_destroy(&attr);
  *out_event = event;
  return WEFT_OK;
}

void weft__event_destroy(weft_allocator_t allocator, weft_event_t* event) {
  if (!event) return;
  pthread_cond_destroy(&event->cond);
  pthread_mutex_destroy(&event->mutex);
  weft__free(allocator, event);
}

void weft__event_signal(weft_event_t* event, uint32_t code) {
  if (!event) return;
  pthread_mutex_lock(&event->mutex);
  if (!event->signalled) {
    event->signalled = 1;
    event->code = code;
  }
  pthread_cond_broadcast(&event->cond);
  pthread_mutex_unlock(&event->mutex);
}

uint32_t weft__event_wait(weft_event_t* event, uint64_t timeout_ns) {
  if (!event) return WEFT_STATUS_INVALID_ARGUMENT;
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
    } else if (pthread_cond_timedwait(&event->cond, &event->mutex, &deadline) ==
               ETIMEDOUT) {
      break;
    }
  }
  uint32_t code = event->signalled ? event->code : WEFT_STATUS_DEADLINE_EXCEEDED;
  pthread_mutex_unlock(&event->mutex);
  return code;
}

int weft__event_query(weft_event_t* event, uint32_t* out_code) {
  pthread_mutex_lock(&event->mutex);
  int signalled = event->signalled;
  if (out_code) *out_code = event->code;
  pthread_mutex_unlock(&event->mutex);
  return signalled;
}

void weft__event_reset(weft_event_t* event) {
  if (!event) return;
  pthread_mutex_lock(&event->mutex);
  event->signalled = 0;
  event->code = 0;
  pthread_mutex_unlock(&event->mutex);
}
