#include "model_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int weft_test_model_path(const char* key, char* out, size_t cap, char* why, size_t why_cap) {
  const char* env_name = strcmp(key, "gemma3") == 0 ? "WEFT_MODEL_GEMMA3" : "WEFT_MODEL_SMOLLM2";
  const char* file = strcmp(key, "gemma3") == 0 ? "gemma-3-270m-q4_k_m.gguf"
                                                : "SmolLM2-135M-Instruct.Q4_1.gguf";
  const char* env = getenv(env_name);
  if (env && *env) {
    snprintf(out, cap, "%s", env);
    if (access(out, R_OK) == 0) return 1;
    snprintf(why, why_cap, "%s=%s is not readable", env_name, env);
    return 0;
  }
  char cache[1024];
  const char* xdg = getenv("XDG_CACHE_HOME");
  const char* home = getenv("HOME");
  if (xdg && *xdg) {
    snprintf(cache, sizeof(cache), "%s/weft/models/%s", xdg, file);
  } else {
    snprintf(cache, sizeof(cache), "%s/.cache/weft/models/%s", home ? home : "", file);
  }
  if (access(cache, R_OK) == 0) {
    snprintf(out, cap, "%s", cache);
    return 1;
  }
  snprintf(out, cap, "/tmp/models/%s", file);
  if (access(out, R_OK) == 0) return 1;
  snprintf(why, why_cap,
           "model %s not found: set %s, or run `python3 tools/models/fetch.py %s` (looked at "
           "%s and %s)",
           key, env_name, key, cache, out);
  return 0;
}
