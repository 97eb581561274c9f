/* Host events: one-shot completion flags that order work across devices.
 * Plugins see them only through the host-services table. */
#ifndef WEFT_CORE_EVENT_H_
#define WEFT_CORE_EVENT_H_

#include <stdint.h>

#include "weft/abi/host.h"
#include "weft/allocator.h"
#include "weft/status.h"

weft_status_t weft__event_create(weft_allocator_t allocator,
                                 weft_event_t** out_event);
void weft__event_destroy(weft_allocator_t allocator, weft_event_t* event);
void weft__event_signal(weft_event_t* event, uint32_t code);
/* Returns the signalled code, or DEADLINE_EXCEEDED. */
uint32_t weft__event_wait(weft_event_t* event, uint64_t timeout_ns);
/* Makes a signalled event unsignalled again, for the next execution of a
 * program. Only when nobody waits on it. */
void weft__event_reset(weft_event_t* event);
/* 1 when signalled. */
int weft__event_query(weft_event_t* event, uint32_t* out_code);

#endif /* WEFT_CORE_EVENT_H_ */
