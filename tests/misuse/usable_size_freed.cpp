// expect-signal: ABRT
// expect-stderr: alloc: use after free detected (a freed block passed to realloc or malloc_usable_size)
// malloc_usable_size of a block that was already freed.
#include <malloc.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

namespace {

size_t volatile g_size;  // keeps the call

}  // namespace

int main() {
  void* p = keep(malloc(100));
  free(p);
  g_size = malloc_usable_size(p);
  return allocbench::misuse::not_detected("usable_size_freed");
}
