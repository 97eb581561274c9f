/* libweft-zoo-probefail.so: negotiates, then its probe fails with an error
 * status (as opposed to "unavailable"). */
#include "zoo_common.h"

const zoo_spec_t zoo_spec = {
    .info =
        {
            .struct_size = sizeof(weft_plugin_info_t),
            .abi_version = WEFT_ABI_VERSION,
            .name = "zoo-probefail",
            .family = "zoo-probefail",
            .version = "1.0.0",
            .description = "zoo: probe fails",
            .built_for = "any",
            .min_driver = "",
        },
    .abi_minor = 1,
    .probe_mode = ZOO_PROBE_ERROR,
    .probe_code = WEFT_STATUS_IO_ERROR,
    .probe_text = "zoo-probefail: reading /sys/zoo/probe failed: "
                  "input/output error",
    .device_count = 1,
    .device_type = WEFT_DEVICE_TYPE_CPU,
    .device_score = 40,
    .device_name = "zoo probefail device",
    .memory_total = 64u << 20,
    .memory_free = 64u << 20,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* n) {
  return weft_plugin_negotiate_default(n, zoo_interface());
}
