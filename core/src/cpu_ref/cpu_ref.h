/* The reference CPU backend: portable C11, no SIMD, built into libweft and
 * loaded through the same ABI as every plugin. It is always present, so a host
 * app works with no plugins at all, and it is the oracle every other backend
 * is tested against (docs/ops.md). */
#ifndef WEFT_CORE_CPU_REF_H_
#define WEFT_CORE_CPU_REF_H_

#include "weft/abi/plugin.h"

/* The built-in entry point, the counterpart of a plugin's exported
 * weft_plugin_negotiate. */
int32_t weft__cpu_ref_negotiate(weft_negotiation_t* negotiation);

#endif /* WEFT_CORE_CPU_REF_H_ */
