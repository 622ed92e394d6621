// expect-signal: ABRT
// expect-stderr: alloc: invalid free (not a pointer returned by malloc) at pointer 0x
// free of a pointer one byte past the start of a block.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(64)));
  free(p + 1);
  return allocbench::misuse::not_detected("invalid_free_misaligned");
}
