// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// A block from calloc freed twice.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(calloc(10, 24));
  free(p);
  free(p);
  return allocbench::misuse::not_detected("double_free_calloc");
}
