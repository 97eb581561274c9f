/* libweft-zoo-missingdep.so: needs libweft-zoo-dep.so, which is built into a
 * directory that is on no loader path and not in this file's rpath, so
 * dlopen fails naming the missing library. */
#include "zoo_common.h"
#include "zoo_dep.h"

const zoo_spec_t zoo_spec = {
    .info =
        {
            .struct_size = sizeof(weft_plugin_info_t),
            .abi_version = WEFT_ABI_VERSION,
            .name = "zoo-missingdep",
            .family = "zoo-missingdep",
            .version = "1.0.0",
            .description = "zoo: depends on a library nobody can find",
            .built_for = "any",
            .min_driver = "",
        },
    .abi_minor = 1,
    .probe_mode = ZOO_PROBE_AVAILABLE,
    .device_count = 1,
    .device_type = WEFT_DEVICE_TYPE_CPU,
    .device_score = 40,
    .device_name = "zoo missingdep device",
    .memory_total = 64u << 20,
    .memory_free = 64u << 20,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* n) {
  if (zoo_dep_answer() != 42) {
    zoo_copy_text(n->refusal, sizeof(n->refusal),
                  "zoo-missingdep: libweft-zoo-dep.so gave a wrong answer");
    return 1;
  }
  return weft_plugin_negotiate_default(n, zoo_interface());
}
