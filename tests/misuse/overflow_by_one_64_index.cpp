// expect-signal: ABRT
// expect-stderr: alloc: heap buffer overflow detected (canary after the block overwritten) at pointer 0x
// A store one past the end of a 64-byte block.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(64)));
  p[64] = 'x';
  free(p);
  return allocbench::misuse::not_detected("overflow_by_one_64_index");
}
