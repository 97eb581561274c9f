/* libweft-zoo-variant-{low,high,top}.so: three variants of the family
 * "zoo-variant", built from this file with ZOO_VARIANT_NAME,
 * ZOO_VARIANT_SCORE and ZOO_VARIANT_AVAILABLE. The highest-scored available
 * one must win; a better one that cannot run here must not. */
#include "zoo_common.h"

#if !defined(ZOO_VARIANT_NAME) || !defined(ZOO_VARIANT_SCORE) || \
    !defined(ZOO_VARIANT_AVAILABLE)
#error "define ZOO_VARIANT_NAME, ZOO_VARIANT_SCORE and ZOO_VARIANT_AVAILABLE"
#endif

const zoo_spec_t zoo_spec = {
    .info =
        {
            .struct_size = sizeof(weft_plugin_info_t),
            .abi_version = WEFT_ABI_VERSION,
            .name = ZOO_VARIANT_NAME,
            .family = "zoo-variant",
            .version = "1.0.0",
            .description = "zoo: one variant of the zoo-variant family",
            .built_for = "any",
            .min_driver = "",
            .variant_score = ZOO_VARIANT_SCORE,
        },
    .abi_minor = 1,
#if ZOO_VARIANT_AVAILABLE
    .probe_mode = ZOO_PROBE_AVAILABLE,
#else
    .probe_mode = ZOO_PROBE_UNAVAILABLE,
#endif
    .probe_text = ZOO_VARIANT_NAME ": needs the zoo's top-tier feeding "
                  "instructions (not present)",
    .device_count = 1,
    .device_type = WEFT_DEVICE_TYPE_CPU,
    .device_score = 40,
    .device_name = ZOO_VARIANT_NAME " host-memory device",
    .memory_total = 64u << 20,
    .memory_free = 60u << 20,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* n) {
  return weft_plugin_negotiate_default(n, zoo_interface());
}
