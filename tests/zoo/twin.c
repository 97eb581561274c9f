/* libweft-zoo-twin-{a,b}.so: one physical GPU reached through two plugins
 * (as a card is through Vulkan and OpenCL). Both report the same UUID with
 * WEFT_DEVICE_FLAG_HAS_UUID and different scores; built from this file with
 * ZOO_TWIN_NAME and ZOO_TWIN_SCORE. */
#include "zoo_common.h"

#if !defined(ZOO_TWIN_NAME) || !defined(ZOO_TWIN_SCORE)
#error "define ZOO_TWIN_NAME and ZOO_TWIN_SCORE"
#endif

const zoo_spec_t zoo_spec = {
    .info =
        {
            .struct_size = sizeof(weft_plugin_info_t),
            .abi_version = WEFT_ABI_VERSION,
            .name = ZOO_TWIN_NAME,
            .family = ZOO_TWIN_NAME,
            .version = "1.0.0",
            .description = "zoo: one of two paths to the same device",
            .built_for = "any",
            .min_driver = "",
        },
    .abi_minor = 1,
    .probe_mode = ZOO_PROBE_AVAILABLE,
    .device_count = 1,
    .device_type = WEFT_DEVICE_TYPE_GPU,
    .device_score = ZOO_TWIN_SCORE,
    .device_flags = WEFT_DEVICE_FLAG_HAS_UUID,
    .device_uuid = {0x7a, 0x6f, 0x6f, 0x2d, 0x74, 0x77, 0x69, 0x6e,
                    0x2d, 0x67, 0x70, 0x75, 0x00, 0x00, 0x00, 0x01},
    .device_name = "zoo twin GPU (" ZOO_TWIN_NAME ")",
    .memory_total = 64u << 20,
    .memory_free = 64u << 20,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* n) {
  return weft_plugin_negotiate_default(n, zoo_interface());
}
