// expect-signal: ABRT
// expect-stderr: alloc: invalid free (not a pointer returned by malloc) at pointer 0x
// free of a pointer 16 bytes into a 64-byte block.
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(64)));
  memset(p, 0, 64);
  free(p + 16);
  return allocbench::misuse::not_detected("invalid_free_interior_small");
}
