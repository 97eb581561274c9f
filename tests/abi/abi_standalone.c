/* Compiled on its own, freestanding, with -std=c11 -Wpedantic -Werror and no
 * C library headers on the include path: proves that the ABI headers stand
 * alone (STYLE.md rule 7) and that a plugin needs nothing else to build. */
#include "weft/abi.h"

int32_t weft_abi_standalone_probe(weft_negotiation_t* negotiation);

int32_t weft_abi_standalone_probe(weft_negotiation_t* negotiation) {
  static const weft_plugin_info_t info = {
      .struct_size = sizeof(weft_plugin_info_t),
      .abi_version = WEFT_ABI_VERSION,
      .name = "standalone",
  };
  static const weft_plugin_interface_t table = {
      .struct_size = sizeof(weft_plugin_interface_t),
      .info = &info,
  };
  return weft_plugin_negotiate_default(negotiation, &table);
}
