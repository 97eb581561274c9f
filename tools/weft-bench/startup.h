/* weft-bench startup: shared between startup.c (the benchmark and its weft
 * children) and startup_vendor.c (the vendor API children). */
#ifndef WEFT_TOOLS_BENCH_STARTUP_H_
#define WEFT_TOOLS_BENCH_STARTUP_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"

/* Lists the devices of one vendor API ("vulkan", "opencl", "cuda") the way
 * an application would, in this process. On success *out_ready_ns is the
 * time the list was known and `detail` says what was found; on failure
 * `detail` says why (library missing, no driver, not built). */
bool weft_bench_vendor_enumerate(const char* api, uint64_t* out_ready_ns, char* detail,
                                 size_t cap);

#endif /* WEFT_TOOLS_BENCH_STARTUP_H_ */
