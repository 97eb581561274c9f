/* weft plugin ABI: extension chains.
 *
 * Optional features travel in a singly linked chain hung off the `next` member
 * of an ABI struct, in the manner of Vulkan's pNext. Every link starts with
 * this header. A reader skips links whose type it does not know. Extension
 * type ids are assigned in docs/abi.md and never reused. */
#ifndef WEFT_ABI_EXT_H_
#define WEFT_ABI_EXT_H_

#include <stddef.h>
#include <stdint.h>

/* The reader's side of the size rule: true when the struct at `ptr` (which
 * starts with its uint32_t struct_size, as every ABI struct does) is large
 * enough to hold `member` of `type`. Members beyond the writer's size are
 * absent: the reader takes their documented default. */
#define WEFT_ABI_HAS_MEMBER(ptr, type, member)   \
  ((size_t)(ptr)->struct_size >=                  \
   offsetof(type, member) + sizeof(((type*)0)->member))

typedef struct weft_ext_header_t {
  uint32_t struct_size;
  uint32_t type;                        /* extension type id */
  const struct weft_ext_header_t* next; /* NULL ends the chain */
} weft_ext_header_t;

#endif /* WEFT_ABI_EXT_H_ */
