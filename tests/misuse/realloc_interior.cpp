// expect-signal: ABRT
// expect-stderr: alloc: invalid pointer passed to realloc at pointer 0x
// realloc of a pointer 32 bytes into a 200-byte block.
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(200)));
  memset(p, 0, 200);
  keep(realloc(p + 32, 400));
  return allocbench::misuse::not_detected("realloc_interior");
}
