// The ABI headers from C++: a plugin written in C++ (CUDA, SYCL) includes
// them as they are. Compiled with -std=c++11 -Wpedantic -Werror.
#include "weft/abi.h"

extern "C" WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(
    weft_negotiation_t* negotiation) {
  static weft_plugin_info_t info;
  static weft_plugin_interface_t table;
  info.struct_size = sizeof(weft_plugin_info_t);
  info.abi_version = WEFT_ABI_VERSION;
  info.name = "standalone-cxx";
  table.struct_size = sizeof(weft_plugin_interface_t);
  table.info = &info;
  static_assert(sizeof(weft_plugin_interface_t) == 200,
                "C and C++ agree on the table layout");
  static_assert(sizeof(weft_device_caps_t) == 664,
                "C and C++ agree on the caps layout");
  return weft_plugin_negotiate_default(negotiation, &table);
}
