/* The version of the libweft that is actually loaded (which may differ from
 * the headers an application was compiled with). */
#ifndef WEFT_VERSION_H_
#define WEFT_VERSION_H_

#include <stdint.h>

#include "weft/export.h"

WEFT_EXTERN_C_BEGIN

/* "0.1.0"; static storage. Thread-safe. */
WEFT_API const char* weft_version_get(void);

/* The plugin ABI version this libweft speaks, packed as in
 * abi/weft/abi/version.h: (major << 16) | minor. */
WEFT_API uint32_t weft_version_abi_get(void);

WEFT_EXTERN_C_END

#endif /* WEFT_VERSION_H_ */
