/* weft plugin ABI: everything a backend author needs, in one include.
 * Stand-alone: includes only <stdint.h>, <stddef.h> and <stdbool.h>. */
#ifndef WEFT_ABI_H_
#define WEFT_ABI_H_

#include "weft/abi/device.h"
#include "weft/abi/dtype.h"
#include "weft/abi/ext.h"
#include "weft/abi/graph.h"
#include "weft/abi/host.h"
#include "weft/abi/op.h"
#include "weft/abi/plugin.h"
#include "weft/abi/status.h"
#include "weft/abi/version.h"

#endif /* WEFT_ABI_H_ */
