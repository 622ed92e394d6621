// expect-exit: 0
// Control, must not be reported: one block grown by realloc from 1 byte to
// 8 MiB and shrunk back, its contents checked at every step; many small
// blocks freed in a different order than allocated; 0-byte blocks freed and
// grown by realloc.
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

namespace {

unsigned char pattern(size_t i) { return static_cast<unsigned char>(i * 131 + 7); }

bool holds(const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; i += 997) {
    if (p[i] != pattern(i)) return false;
  }
  return n == 0 || p[n - 1] == pattern(n - 1);
}

}  // namespace

int main() {
  size_t n = 1;
  unsigned char* p = keep(static_cast<unsigned char*>(malloc(n)));
  p[0] = pattern(0);
  for (size_t next = 2; next <= (size_t{8} << 20); next = next * 3 / 2 + 1) {
    p = keep(static_cast<unsigned char*>(realloc(p, next)));
    if (p == nullptr || !holds(p, n)) return 10;
    for (size_t i = n; i < next; ++i) p[i] = pattern(i);
    n = next;
  }
  while (n > 1) {
    n = n / 3 + 1;
    p = keep(static_cast<unsigned char*>(realloc(p, n)));
    if (p == nullptr || !holds(p, n)) return 11;
  }
  free(p);

  void* blocks[512];
  for (int i = 0; i < 512; ++i) {
    blocks[i] = keep(malloc(static_cast<size_t>(i % 37) * 24 + 1));
    memset(blocks[i], i, static_cast<size_t>(i % 37) * 24 + 1);
  }
  for (int i = 0; i < 512; i += 2) free(blocks[i]);
  for (int i = 511; i > 0; i -= 2) free(blocks[i]);

  char* z = keep(static_cast<char*>(malloc(0)));
  free(z);
  z = keep(static_cast<char*>(malloc(0)));
  z = keep(static_cast<char*>(realloc(z, 100)));
  if (z == nullptr) return 12;
  memset(z, 1, 100);
  free(z);
  return 0;
}
