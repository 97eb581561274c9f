/* libweft-zoo-nosymbol.so: a valid shared object whose entry point has the
 * wrong name, so the lookup of weft_plugin_negotiate fails. */
#include "weft/abi.h"

WEFT_PLUGIN_EXPORT int32_t weft_plugin_entry(weft_negotiation_t* n);

WEFT_PLUGIN_EXPORT int32_t weft_plugin_entry(weft_negotiation_t* n) {
  (void)n;
  return 1;
}
