/* Internal: the device registry's order and physical-device grouping. */
#ifndef WEFT_CORE_REGISTRY_H_
#define WEFT_CORE_REGISTRY_H_

#include "runtime_impl.h"

/* Recomputes the registry order (live devices by score, stable in creation
 * order) and which devices are one physical device. Only out-of-memory fails. */
weft_status_t weft__registry_rebuild(weft_runtime_t* runtime);

#endif /* WEFT_CORE_REGISTRY_H_ */
