// c-tool: three exports with canonical-ABI glue written by hand, built as a WASI
// reactor (crt1-reactor.o's _initialize runs the C constructors once).
#include <stdio.h>

#include "../c-common/cabi.h"

// A string result does not fit in one flat value (MAX_FLAT_RESULTS is 1), so the
// function returns a pointer to a (ptr, len) pair in this static area; the host reads
// it, then calls cabi_post_reverse, which frees the string.
static cabi_bytes reverse_result;

CABI_EXPORT("add")
uint32_t export_add(uint32_t a, uint32_t b) { return a + b; }

// utf8_len returns the length of the UTF-8 sequence starting with lead byte b. The host
// validated the string when it lowered it, so every lead byte is well formed.
static size_t utf8_len(uint8_t b) {
  if (b < 0x80) return 1;
  if (b < 0xE0) return 2;
  if (b < 0xF0) return 3;
  return 4;
}

CABI_EXPORT("reverse")
cabi_bytes *export_reverse(uint8_t *s, size_t len) {
  uint8_t *out = malloc(len ? len : 1);
  if (out == NULL) abort();
  // Copy each scalar value's bytes, in order, to the mirrored position.
  size_t i = 0;
  while (i < len) {
    size_t n = utf8_len(s[i]);
    if (i + n > len) n = len - i;
    memcpy(out + (len - i - n), s + i, n);
    i += n;
  }
  free(s);  // the argument was allocated for us by cabi_realloc: ours to free
  reverse_result.ptr = out;
  reverse_result.len = len;
  return &reverse_result;
}

CABI_EXPORT("cabi_post_reverse")
void post_reverse(cabi_bytes *ret) {
  free(ret->ptr);
  ret->ptr = NULL;
  ret->len = 0;
}

CABI_EXPORT("count-words")
uint32_t export_count_words(uint8_t *s, size_t len) {
  uint32_t words = 0;
  int in_word = 0;
  for (size_t i = 0; i < len; i++) {
    int space = s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v';
    if (!space && !in_word) words++;
    in_word = !space;
  }
  free(s);
  return words;
}

static cabi_bytes greet_result;

CABI_EXPORT("greet")
cabi_bytes *export_greet(uint8_t *name, size_t len) {
  // printf reaches fd_write, which the preview1 adapter turns into wasi:cli/stdout.
  printf("greeting %.*s\n", (int)len, (const char *)name);
  fflush(stdout);
  static const char prefix[] = "Hello, ";
  size_t n = sizeof prefix - 1 + len + 1;
  uint8_t *out = malloc(n);
  if (out == NULL) abort();
  memcpy(out, prefix, sizeof prefix - 1);
  memcpy(out + sizeof prefix - 1, name, len);
  out[n - 1] = '!';
  free(name);
  greet_result.ptr = out;
  greet_result.len = n;
  return &greet_result;
}

CABI_EXPORT("cabi_post_greet")
void post_greet(cabi_bytes *ret) {
  free(ret->ptr);
  ret->ptr = NULL;
  ret->len = 0;
}
