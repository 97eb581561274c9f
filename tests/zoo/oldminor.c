/* libweft-zoo-oldminor.so: a healthy plugin built against ABI 1.0. Its table
 * ends before device_memory_query and it answers 1.0; a 1.1 host must load
 * it, use its device, and answer memory queries from its capability record. */
#include "zoo_common.h"

const zoo_spec_t zoo_spec = {
    .info =
        {
            .struct_size = sizeof(weft_plugin_info_t),
            .abi_version = WEFT_ABI_MAKE_VERSION(1, 0),
            .name = "zoo-oldminor",
            .family = "zoo-oldminor",
            .version = "1.0.0",
            .description = "zoo: a plugin built against ABI 1.0",
            .built_for = "any",
            .min_driver = "",
            .variant_score = 0,
        },
    .abi_minor = 0,
    .probe_mode = ZOO_PROBE_AVAILABLE,
    .device_count = 1,
    .device_type = WEFT_DEVICE_TYPE_CPU,
    .device_score = 40,
    .device_name = "zoo old-minor host-memory device",
    .memory_total = 64u << 20,
    .memory_free = 48u << 20,
};

/* What weft_plugin_negotiate_default did in the 1.0 headers: any host of
 * major 1 that still accepts 1.0 gets 1.0. */
WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* n) {
  const uint32_t ours = WEFT_ABI_MAKE_VERSION(1, 0);
  if (WEFT_ABI_VERSION_MAJOR_OF(n->host_version) != 1 ||
      n->host_min_version > ours) {
    zoo_copy_text(n->refusal, sizeof(n->refusal),
                  "zoo-oldminor: speaks ABI 1.0 only");
    return 1;
  }
  n->plugin_version = ours;
  n->plugin = zoo_interface();
  return 0;
}
