/* The smallest application of the installed SDK: create a runtime, check the
 * built-in reference CPU device is there, destroy it. Exit status 0 on
 * success; otherwise it says what went wrong. */
#include <stdio.h>

#include "weft/weft.h"

int main(void) {
  weft_runtime_options_t options;
  weft_runtime_options_init(&options);
  options.flags |= WEFT_RUNTIME_FLAG_IGNORE_ENV | WEFT_RUNTIME_FLAG_NO_DEFAULT_PATHS;
  weft_runtime_t* runtime = NULL;
  weft_status_t status =
      weft_runtime_create(&options, weft_allocator_system(), &runtime);
  if (status != WEFT_OK) {
    fprintf(stderr, "weft_runtime_create: %s\n", weft_status_message(status));
    weft_status_free(status);
    return 1;
  }
  weft_device_t* device = NULL;
  status = weft_runtime_device_find(runtime, "cpu-ref:0", &device);
  int result = 0;
  if (status != WEFT_OK) {
    fprintf(stderr, "weft_runtime_device_find: %s\n", weft_status_message(status));
    weft_status_free(status);
    result = 1;
  } else {
    printf("%zu device(s), cpu-ref:0 present\n", weft_runtime_device_count(runtime));
  }
  weft_runtime_destroy(runtime);
  return result;
}
