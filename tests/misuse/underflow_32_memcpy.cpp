// expect-signal: ABRT
// expect-stderr: alloc: heap buffer underflow detected (the header before the block was overwritten) at pointer 0x
// memcpy of 32 bytes to just before a 100-byte block.
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char junk[32];
  memset(junk, 'y', sizeof junk);
  char* p = keep(static_cast<char*>(malloc(100)));
  memcpy(p - 32, junk, sizeof junk);
  free(p);
  return allocbench::misuse::not_detected("underflow_32_memcpy");
}
