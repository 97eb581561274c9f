/* libweft-zoo-refuse.so: refuses negotiation with a reason. */
#include "weft/abi.h"

#include "zoo_common.h"

const zoo_spec_t zoo_spec = {
    .info =
        {
            .struct_size = sizeof(weft_plugin_info_t),
            .abi_version = WEFT_ABI_VERSION,
            .name = "zoo-refuse",
            .family = "zoo-refuse",
            .version = "1.0.0",
            .description = "zoo: refuses every host",
            .built_for = "any",
            .min_driver = "",
        },
    .abi_minor = 1,
};

WEFT_PLUGIN_EXPORT int32_t weft_plugin_negotiate(weft_negotiation_t* n) {
  zoo_copy_text(n->refusal, sizeof(n->refusal),
                "zoo-refuse: this plugin needs the zoo keeper's licence "
                "(not granted)");
  return 1;
}
