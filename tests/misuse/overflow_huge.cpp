// expect-signal: ABRT
// expect-stderr: alloc: heap buffer overflow detected (canary after the block overwritten) at pointer 0x
// A store one past the end of a 3 MiB huge block.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  size_t n = size_t{3} << 20;
  char* p = keep(static_cast<char*>(malloc(n)));
  p[n] = 'x';
  free(p);
  return allocbench::misuse::not_detected("overflow_huge");
}
