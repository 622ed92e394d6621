// expect-signal: ABRT
// expect-stderr: alloc: invalid free (not a pointer returned by malloc) at pointer 0x
// free of a pointer 4 KiB into a 300 KB large span.
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(300000)));
  memset(p, 0, 300000);
  free(p + 4096);
  return allocbench::misuse::not_detected("invalid_free_interior_large");
}
