// expect-signal: ABRT
// expect-stderr: alloc: heap buffer underflow detected (the header before the block was overwritten) at pointer 0x
// A store one byte before a 100-byte block aligned to 64 by posix_memalign.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* v = nullptr;
  if (posix_memalign(&v, 64, 100) != 0) return 6;
  char* p = keep(static_cast<char*>(v));
  p[-1] = 'x';
  free(p);
  return allocbench::misuse::not_detected("underflow_aligned");
}
