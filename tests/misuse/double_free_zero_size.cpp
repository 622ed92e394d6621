// expect-signal: ABRT
// expect-stderr: alloc: double free detected (0-byte block) at pointer 0x
// A 0-byte block freed twice.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(malloc(0));
  free(p);
  free(p);
  return allocbench::misuse::not_detected("double_free_zero_size");
}
