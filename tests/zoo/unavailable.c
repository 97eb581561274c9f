/* libweft-zoo-unavailable.so: loads and negotiates, but its probe says it
 * cannot run here. Setting WEFT_ZOO_FLUX_CAPACITOR=1 (read through the ABI
 * 1.1 env_get service) makes it available, which lets the tests see that the
 * service reaches plugins and obeys WEFT_RUNTIME_FLAG_IGNORE_ENV. */
#include "zoo_common.h"

const zoo_spec_t zoo_spec = {
    .info =
        {
            .struct_size = sizeof(weft_plugin_info_t),
            .abi_version = WEFT_ABI_VERSION,
            .name = "zoo-unavailable",
            .family = "zoo-unavailable",
            .version = "1.0.0",
            .description = "zoo: needs hardware that is not there",
            .built_for = "any",
            .min_driver = "flux capacitor 1.21",
        },
    .abi_minor = 1,
    .probe_mode = ZOO_PROBE_UNAVAILABLE,
    .probe_text = "zoo device needs a flux capacitor (none found)",
    .probe_enable_env = "WEFT_ZOO_FLUX_CAPACITOR",
    .device_count = 1,
    .device_type = WEFT_DEVICE_TYPE_ACCELERATOR,
    .device_score = 45,
    .device_name = "zoo flux capacitor",
    .memory_total = 64u << 20,
    .memory_free = 64u << 20,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* n) {
  return weft_plugin_negotiate_default(n, zoo_interface());
}
