// expect-signal: ABRT
// expect-stderr: alloc: invalid free (not a pointer returned by malloc) at pointer 0x
// free of a pointer 64 KiB into a 3 MiB huge block.
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(size_t{3} << 20)));
  memset(p, 0, 1 << 20);
  free(p + 65536);
  return allocbench::misuse::not_detected("invalid_free_interior_huge");
}
