// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// A 64-byte aligned block from posix_memalign freed twice.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = nullptr;
  if (posix_memalign(&p, 64, 100) != 0) return 6;
  keep(p);
  free(p);
  free(p);
  return allocbench::misuse::not_detected("double_free_posix_memalign");
}
