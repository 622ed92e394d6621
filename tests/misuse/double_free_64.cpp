// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// A 64-byte block from malloc freed twice.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(malloc(64));
  free(p);
  free(p);
  return allocbench::misuse::not_detected("double_free_64");
}
