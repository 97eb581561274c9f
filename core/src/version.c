#include "weft/version.h"

#include "weft/abi/version.h"

const char* weft_version_get(void) { return WEFT_VERSION_STRING; }

uint32_t weft_version_abi_get(void) { return WEFT_ABI_VERSION; }
