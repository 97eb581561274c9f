/* libweft-zoo-aarch64.so: a healthy plugin, compiled for aarch64. On any
 * other machine the loader must fail to open it and say why. */
#include "zoo_common.h"

const zoo_spec_t zoo_spec = {
    .info =
        {
            .struct_size = sizeof(weft_plugin_info_t),
            .abi_version = WEFT_ABI_VERSION,
            .name = "zoo-aarch64",
            .family = "zoo-aarch64",
            .version = "1.0.0",
            .description = "zoo: a plugin for another machine",
            .built_for = "aarch64",
            .min_driver = "",
        },
    .abi_minor = 1,
    .probe_mode = ZOO_PROBE_AVAILABLE,
    .device_count = 1,
    .device_type = WEFT_DEVICE_TYPE_CPU,
    .device_score = 40,
    .device_name = "zoo aarch64 host-memory device",
    .memory_total = 64u << 20,
    .memory_free = 64u << 20,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* n) {
  return weft_plugin_negotiate_default(n, zoo_interface());
}
