/* weft plugin ABI: version numbers.
 *
 * An ABI version is a (major, minor) pair packed into one uint32_t as
 * (major << 16) | minor. A major bump is a breaking change; a minor bump only
 * appends (new struct members at the end, new function-table entries at the
 * end, new enum values at the end). A host accepts every plugin built against
 * the same major and any minor up to its own. See docs/abi.md.
 *
 * Includes nothing beyond <stdint.h>: this header is part of the stand-alone
 * plugin SDK. */
#ifndef WEFT_ABI_VERSION_H_
#define WEFT_ABI_VERSION_H_

#include <stdint.h>

#define WEFT_ABI_MAKE_VERSION(major, minor) \
  ((uint32_t)(((uint32_t)(major) << 16) | ((uint32_t)(minor) & 0xFFFFu)))
#define WEFT_ABI_VERSION_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define WEFT_ABI_VERSION_MINOR_OF(v) ((uint32_t)(v) & 0xFFFFu)

/* The version these headers describe.
 *   1.0  first stable ABI.
 *   1.1  appended weft_plugin_interface_t.device_memory_query and
 *        weft_host_services_t.env_get.
 *   1.2  appended weft_plugin_interface_t.buffer_import_host.
 *   1.3  appended weft_plugin_interface_t.segment_prepare,
 *        segment_submit_prepared and segment_release. */
#define WEFT_ABI_VERSION_MAJOR 1
#define WEFT_ABI_VERSION_MINOR 3
#define WEFT_ABI_VERSION \
  WEFT_ABI_MAKE_VERSION(WEFT_ABI_VERSION_MAJOR, WEFT_ABI_VERSION_MINOR)

#endif /* WEFT_ABI_VERSION_H_ */
