// expect-signal: ABRT
// expect-stderr: alloc: heap buffer overflow detected (canary after the block overwritten) at pointer 0x
// memcpy of 8001 bytes into an 8000-byte block.
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  static char src[8001];
  char* p = keep(static_cast<char*>(malloc(8000)));
  memcpy(p, keep(src), sizeof src);
  free(p);
  return allocbench::misuse::not_detected("overflow_by_one_8000_memcpy");
}
