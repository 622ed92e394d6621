// expect-signal: ABRT
// expect-stderr: alloc: heap buffer underflow detected (the header before the block was overwritten) at pointer 0x
// A store one byte before a 40-byte block.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(40)));
  p[-1] = 'x';
  free(p);
  return allocbench::misuse::not_detected("underflow_1_direct");
}
