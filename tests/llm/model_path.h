/* Where the LLM tests find the real models. */
#ifndef WEFT_TESTS_LLM_MODEL_PATH_H_
#define WEFT_TESTS_LLM_MODEL_PATH_H_

#include <stddef.h>

/* Finds the GGUF of `key` ("smollm2", "gemma3"): $WEFT_MODEL_SMOLLM2 /
 * $WEFT_MODEL_GEMMA3, else ${XDG_CACHE_HOME:-$HOME/.cache}/weft/models/<file>,
 * else /tmp/models/<file>. Returns 1 and the path, or 0 and in `why` the
 * places looked at. */
int weft_test_model_path(const char* key, char* out, size_t cap, char* why, size_t why_cap);

#endif
