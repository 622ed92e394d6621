// expect-signal: ABRT
// expect-stderr: alloc: use after free detected (a freed block passed to realloc or malloc_usable_size)
// realloc of a block that was already freed.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(malloc(100));
  free(p);
  keep(realloc(p, 200));
  return allocbench::misuse::not_detected("realloc_freed");
}
