// c-limits: a memory bomb, an infinite loop and a stdout flood, written plainly in C.
#include <stdio.h>

#include "../c-common/cabi.h"

CABI_EXPORT("spin")
void export_spin(void) {
  // volatile keeps the optimiser from deleting the loop (an infinite loop without side
  // effects is undefined behaviour in C).
  volatile uint32_t n = 0;
  for (;;) n++;
}

// kept holds every allocation, so the compiler cannot prove the memory unused and
// elide malloc and memset altogether (which it may, and clang -O2 does).
static uint8_t *volatile kept[4096];

CABI_EXPORT("alloc-mb")
uint32_t export_alloc_mb(uint32_t mb) {
  const size_t chunk = 1u << 20;
  uint32_t got = 0;
  for (; got < mb && got < 4096; got++) {
    uint8_t *p = malloc(chunk);
    if (p == NULL) break;  // wasi-libc's malloc returns NULL once memory.grow fails
    memset(p, 0xA5, chunk);  // touch every page, so the memory is really committed
    kept[got] = p;
  }
  return got;
}

CABI_EXPORT("print-lines")
uint64_t export_print_lines(uint8_t *line, size_t len, uint32_t times) {
  uint64_t written = 0;
  for (uint32_t i = 0; i < times; i++) {
    if (fwrite(line, 1, len, stdout) != len || fputc('\n', stdout) == EOF) break;
    written += len + 1;
  }
  fflush(stdout);
  free(line);
  return written;
}

CABI_EXPORT("double")
uint32_t export_double(uint32_t x) { return x * 2; }
