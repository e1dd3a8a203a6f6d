// cabi.h: the few canonical-ABI pieces our hand-written C components share.
// No wit-bindgen: each component spells out its own flat signatures, so the tests
// exercise exactly the lowering we wrote down.
#ifndef TAPEDECK_CABI_H
#define TAPEDECK_CABI_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CABI_EXPORT(name) __attribute__((export_name(name)))

// A string or list<u8> as the canonical ABI lays it out in linear memory.
typedef struct {
  uint8_t *ptr;
  size_t len;
} cabi_bytes;

// cabi_realloc is what the host calls to get memory for arguments it lowers into us.
// malloc's 16-byte alignment covers every canonical-ABI alignment (at most 8).
CABI_EXPORT("cabi_realloc")
void *cabi_realloc(void *old_ptr, size_t old_size, size_t align, size_t new_size) {
  (void)old_size;
  (void)align;
  if (new_size == 0) {
    return (void *)align;  // any non-null, suitably aligned address will do
  }
  void *p = realloc(old_ptr, new_size);
  if (p == NULL) {
    abort();  // the ABI has no way to report failure: trap
  }
  return p;
}

// cabi_copy returns a heap copy of len bytes, for results the caller frees in post-return.
static inline uint8_t *cabi_copy(const void *src, size_t len) {
  uint8_t *dst = malloc(len ? len : 1);
  if (dst == NULL) {
    abort();
  }
  memcpy(dst, src, len);
  return dst;
}

#endif
