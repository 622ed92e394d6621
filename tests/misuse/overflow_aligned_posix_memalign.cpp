// expect-signal: ABRT
// expect-stderr: alloc: heap buffer overflow detected (canary after the block overwritten) at pointer 0x
// A store one past the end of a 100-byte block aligned to 64 by posix_memalign.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* v = nullptr;
  if (posix_memalign(&v, 64, 100) != 0) return 6;
  char* p = keep(static_cast<char*>(v));
  p[100] = 'x';
  free(p);
  return allocbench::misuse::not_detected("overflow_aligned_posix_memalign");
}
