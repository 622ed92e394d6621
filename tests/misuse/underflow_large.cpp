// expect-signal: ABRT
// expect-stderr: alloc: heap buffer underflow detected (the header before the block was overwritten) at pointer 0x
// The 8 bytes before a 200 KB large span overwritten.
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(200000)));
  memset(p - 8, 0x7f, 8);
  free(p);
  return allocbench::misuse::not_detected("underflow_large");
}
