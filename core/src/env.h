/* Internal: configuration from the environment. Reads through
 * secure_getenv, so set-uid processes see none of it, and sees nothing when
 * the runtime was created with WEFT_RUNTIME_FLAG_IGNORE_ENV. */
#ifndef WEFT_CORE_ENV_H_
#define WEFT_CORE_ENV_H_

#include <stdbool.h>
#include <stddef.h>

#include "weft/runtime.h"

const char* weft__env_get(const weft_runtime_t* runtime, const char* name);

/* Matches `text` against a list of glob patterns separated by ':' or ','.
 * On a match, copies the pattern into matched (cap bytes) and returns true. */
bool weft__glob_list_match(const char* list, const char* text, char* matched,
                           size_t cap);

#endif /* WEFT_CORE_ENV_H_ */
