// expect-signal: ABRT
// expect-stderr: alloc: heap buffer overflow detected (canary after the block overwritten) at pointer 0x
// A 32-byte block overflowed by one, then grown by realloc (which frees it).
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(32)));
  p[32] = 'x';
  keep(realloc(p, 64));
  return allocbench::misuse::not_detected("overflow_then_realloc");
}
