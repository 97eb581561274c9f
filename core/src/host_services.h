/* The host-services table handed to each plugin (abi/weft/abi/host.h). */
#ifndef WEFT_CORE_HOST_SERVICES_H_
#define WEFT_CORE_HOST_SERVICES_H_

#include "runtime_impl.h"

/* Fills host->services for `plugin` of `runtime`. Cannot fail. */
void weft__host_services_init(weft_plugin_host_t* host, weft_runtime_t* runtime,
                              weft_plugin_t* plugin);

#endif /* WEFT_CORE_HOST_SERVICES_H_ */
