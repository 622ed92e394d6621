// expect-signal: ABRT
// expect-stderr: alloc: invalid free (not a pointer returned by malloc) at pointer 0x
// free of a stack buffer, which must not be written.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::guard_unwritten;
using allocbench::misuse::keep;

int main() {
  unsigned char buf[256] __attribute__((aligned(64)));
  guard_unwritten(buf, sizeof buf);
  free(keep(buf + 64));
  return allocbench::misuse::not_detected("invalid_free_stack");
}
