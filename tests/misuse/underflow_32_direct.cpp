// expect-signal: ABRT
// expect-stderr: alloc: heap buffer underflow detected (the header before the block was overwritten) at pointer 0x
// Stores to the 32 bytes before a 100-byte block, one at a time.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(100)));
  for (int i = 1; i <= 32; ++i) p[-i] = 'y';
  free(p);
  return allocbench::misuse::not_detected("underflow_32_direct");
}
