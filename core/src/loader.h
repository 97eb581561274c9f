/* Internal: the search path, plugin discovery, loading, negotiation, probing,
 * variant selection and activation. Every failure of a plugin becomes a
 * record; only out-of-memory of the host itself fails these functions. */
#ifndef WEFT_CORE_LOADER_H_
#define WEFT_CORE_LOADER_H_

#include "runtime_impl.h"

/* Builds the search path from options, the environment and the defaults. */
weft_status_t weft__search_path_build(weft_runtime_t* runtime,
                                      const weft_runtime_options_t* options);
/* Appends one entry; its kind is read from the file system. */
weft_status_t weft__search_path_append(weft_runtime_t* runtime, const char* path,
                                       weft_path_origin_t origin);

/* Loads a plugin linked into libweft itself through the same stages as a
 * file (without dlopen), e.g. the reference CPU backend. */
weft_status_t weft__loader_load_builtin(weft_runtime_t* runtime,
                                        weft_plugin_negotiate_fn negotiate);

/* Discovers and loads everything reachable from search path entries
 * [first_entry, count), then selects variants and activates the winners. */
weft_status_t weft__loader_load_entries(weft_runtime_t* runtime,
                                        size_t first_entry);

/* Closes a plugin's devices, destroys its instance and unloads it. */
void weft__plugin_unload(weft_runtime_t* runtime, weft_plugin_t* plugin);

/* Frees every record string. */
void weft__records_free(weft_runtime_t* runtime);

#endif /* WEFT_CORE_LOADER_H_ */
