// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// An 8000-byte block (a large size class) freed twice.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(malloc(8000));
  free(p);
  free(p);
  return allocbench::misuse::not_detected("double_free_8000");
}
