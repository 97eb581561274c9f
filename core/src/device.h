/* Internal: opening a registry device on first use. */
#ifndef WEFT_CORE_DEVICE_H_
#define WEFT_CORE_DEVICE_H_

#include "runtime_impl.h"

/* Opens the plugin device if it is not open yet. Caller holds device->lock. */
weft_status_t weft__device_ensure_open_locked(weft_device_t* device);

#endif /* WEFT_CORE_DEVICE_H_ */
