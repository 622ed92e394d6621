// expect-signal: ABRT
// expect-stderr: alloc: heap buffer overflow detected (canary after the block overwritten) at pointer 0x
// memset of 14 bytes into a 13-byte block.
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(13)));
  memset(p, 'x', 14);
  free(p);
  return allocbench::misuse::not_detected("overflow_by_one_13_memset");
}
