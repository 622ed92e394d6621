// expect-exit: 0
// Control, must not be reported: malloc, calloc, realloc, free and
// malloc_usable_size at sizes from 0 to 5 MiB, aligned allocations at every
// power of two from 16 B to 16 MiB, with the whole of each block written.
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <initializer_list>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

namespace {

// Writes all `n` bytes of `p` and checks what malloc_usable_size says of it.
bool fill(void* p, size_t n) {
  if (p == nullptr && n != 0) return false;
  if (n != 0) memset(p, 0x33, n);
  return malloc_usable_size(p) >= n;
}

}  // namespace

int main() {
  free(nullptr);
  for (size_t n = 0; n <= (size_t{5} << 20); n = n * 2 + 1) {
    for (size_t m : {n, n + 7}) {
      char* p = keep(static_cast<char*>(malloc(m)));
      char* c = keep(static_cast<char*>(calloc(1, m)));
      if (!fill(p, m)) return 10;
      for (size_t i = 0; i < m; i += 4093) {
        if (c[i] != 0) return 11;
      }
      if (!fill(c, m)) return 12;
      p = keep(static_cast<char*>(realloc(p, m + 100)));
      if (!fill(p, m + 100)) return 13;
      free(c);
      free(p);
    }
  }
  for (size_t align = 16; align <= (size_t{16} << 20); align *= 2) {
    for (size_t n : {size_t{1}, size_t{100}, align, size_t{3} << 20}) {
      void* a = keep(aligned_alloc(align, n));
      void* b = nullptr;
      if (posix_memalign(&b, align, n) != 0) return 14;
      void* c = keep(memalign(align, n));
      for (void* p : {a, b, c}) {
        if (p == nullptr || reinterpret_cast<uintptr_t>(p) % align != 0) {
          fprintf(stderr, "alignment %zu size %zu: %p\n", align, n, p);
          return 15;
        }
        if (!fill(p, n)) return 16;
      }
      a = keep(realloc(a, n + 1000));
      if (!fill(a, n + 1000)) return 17;
      free(a);
      free(b);
      free(c);
    }
  }
  return 0;
}
