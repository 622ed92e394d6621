// expect-signal: ABRT
// expect-stderr: alloc: use after free detected (freed 0-byte block) at pointer 0x
// realloc of a 0-byte block that was already freed.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(malloc(0));
  free(p);
  keep(realloc(p, 10));
  return allocbench::misuse::not_detected("realloc_freed_zero_size");
}
