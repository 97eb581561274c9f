/* libweft-zoo-future.so: a plugin from a future ABI major. It answers 2.0
 * whatever the host offers; a 1.x host must refuse it without calling
 * anything in its table. */
#include "zoo_common.h"

const zoo_spec_t zoo_spec = {
    .info =
        {
            .struct_size = sizeof(weft_plugin_info_t),
            .abi_version = WEFT_ABI_MAKE_VERSION(2, 0),
            .name = "zoo-future",
            .family = "zoo-future",
            .version = "2.0.0",
            .description = "zoo: built against ABI 2.0",
            .built_for = "any",
            .min_driver = "",
        },
    .abi_minor = 1,
    .probe_mode = ZOO_PROBE_AVAILABLE,
    .device_count = 1,
    .device_type = WEFT_DEVICE_TYPE_CPU,
    .device_score = 40,
    .device_name = "zoo future device",
    .memory_total = 64u << 20,
    .memory_free = 64u << 20,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* n) {
  n->plugin_version = WEFT_ABI_MAKE_VERSION(2, 0);
  n->plugin = zoo_interface();
  return 0;
}
