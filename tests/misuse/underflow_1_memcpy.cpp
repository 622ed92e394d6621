// expect-signal: ABRT
// expect-stderr: alloc: heap buffer underflow detected (the header before the block was overwritten) at pointer 0x
// memcpy of one byte to just before a 40-byte block.
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(40)));
  memcpy(p - 1, keep(const_cast<char*>("x")), 1);
  free(p);
  return allocbench::misuse::not_detected("underflow_1_memcpy");
}
