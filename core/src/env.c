#include "env.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_impl.h"
#include "util.h"

const char* weft__env_get(const weft_runtime_t* runtime, const char* name) {
  if (runtime && (runtime->flags & WEFT_RUNTIME_FLAG_IGNORE_ENV)) return NULL;
  return secure_getenv(name);
}

bool weft__glob_list_match(const char* list, const char* text, char* matched,
                           size_t cap) {
  if (!list || !text) return false;
  const char* cursor = list;
  while (*cursor) {
    size_t length = strcspn(cursor, ":,");
    if (length > 0) {
      char pattern[512];
      if (length < sizeof(pattern)) {
        memcpy(pattern, cursor, length);
        pattern[length] = '\0';
        if (fnmatch(pattern, text, 0) == 0) {
          if (matched && cap) weft__strlcpy(matched, pattern, cap);
          return true;
        }
      }
    }
    cursor += length;
    if (*cursor) ++cursor;
  }
  return false;
}
