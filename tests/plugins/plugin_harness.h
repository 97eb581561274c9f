/* Shared by the vendor plugin tests (vulkan_test.c, opencl_test.c,
 * cuda_test.c): a runtime that loads exactly one plugin file, a buffer round
 * trip checked against a host model, and a re-run of the test binary in a
 * child process with a changed environment.
 *
 * The child is a fresh process on purpose: vendor loaders (ocl-icd, the
 * Vulkan loader) read their environment and pick their drivers once per
 * process, so "no driver" cannot be staged in a process that already loaded
 * one.
 *
 * Every function reports failures through cmocka assertions, so call them
 * from a test body only (not from the child entry). */
#ifndef WEFT_TESTS_PLUGINS_PLUGIN_HARNESS_H_
#define WEFT_TESTS_PLUGINS_PLUGIN_HARNESS_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "testing/test_allocator.h"
#include "weft/buffer.h"
#include "weft/runtime.h"

/* Absolute path of build/lib/plugins/libweft-<name>.so (static storage). */
const char* plugin_harness_plugin_path(const char* name);

/* A runtime with only `plugin_path` on its search path (IGNORE_ENV,
 * NO_DEFAULT_PATHS, so neither WEFT_* variables nor installed plugins
 * interfere), allocating from `allocator` when it is not NULL. Plugin log
 * messages of level warn and worse go to stderr. Asserts success. */
weft_runtime_t* plugin_harness_runtime_create(const char* plugin_path,
                                              weft_test_allocator_t* allocator);

/* Same, with flags chosen by the caller (used to honour the environment). */
weft_runtime_t* plugin_harness_runtime_create_flags(const char* plugin_path, uint32_t flags,
                                                    weft_test_allocator_t* allocator);

/* The record of the plugin file whose path is `plugin_path`; asserts there
 * is exactly one. */
const weft_plugin_record_t* plugin_harness_record_get(const weft_runtime_t* runtime,
                                                      const char* plugin_path);

/* Writes random bytes, fills (1-, 2- and 4-byte patterns at unaligned and
 * aligned places), copies between two buffers and within one, reads back and
 * compares with the same operations applied to host memory. `size` >= 4096.
 * Maps the buffer when the memory type is HOST_VISIBLE. */
void plugin_harness_round_trip(weft_device_t* device, weft_memory_type_t memory_type,
                               uint64_t size, uint32_t seed);

/* Reaches the plugin's table behind `device` (core internals, as tests may)
 * and checks the answers of a plugin that has no kernels yet: op_query says
 * unsupported for every op with "<op>: kernels are not implemented in this
 * plugin yet", segment_submit returns UNIMPLEMENTED with a message, and
 * synchronize succeeds. Opens the device if needed. */
void plugin_harness_expect_no_kernels(weft_device_t* device);

/* The allocation-failure sweep (the SQLite discipline) over one plugin: for
 * N = 0, 1, 2, ... fails allocation N of a run that creates a runtime with
 * only `plugin_path`, writes and reads a buffer on the plugin's first device
 * and destroys everything, until a run never reaches allocation N. Every
 * run must either work or fail with OUT_OF_MEMORY (UNAVAILABLE when the
 * device could not open), and leave nothing allocated. Returns the number
 * of runs; 0 when the plugin has no device here. */
uint64_t plugin_harness_allocation_sweep(const char* plugin_path, const char* plugin_name);

/* Runs this test binary again as `<self> --child <mode> <arg>` with the
 * environment extended by `env` (NULL-terminated "K=V" strings), waits,
 * stores up to cap-1 bytes of the child's stdout in `output` and returns its
 * exit status (or 128 + signal). Asserts that spawning worked. */
int plugin_harness_child_run(const char* mode, const char* arg, const char* const* env,
                             char* output, size_t cap);

/* The child side for the usual "no driver" check: creates a runtime with
 * only `plugin_path`, prints "outcome=<name> stage=<name> reason=<reason>"
 * and returns 0 when the plugin's record is UNAVAILABLE and its reason
 * contains `needle`, 1 otherwise. No cmocka: call it from main(). */
int plugin_harness_child_expect_unavailable(const char* plugin_path, const char* needle);

/* Whether `haystack` contains `needle`, ignoring ASCII case. */
bool plugin_harness_contains(const char* haystack, const char* needle);

#endif /* WEFT_TESTS_PLUGINS_PLUGIN_HARNESS_H_ */
