// expect-signal: ABRT
// expect-stderr: alloc: invalid pointer passed to realloc at pointer 0x
// realloc of a stack buffer, which must not be written (after a first
// allocation, which switches the debug mode on).
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::guard_unwritten;
using allocbench::misuse::keep;

int main() {
  free(keep(malloc(1)));
  unsigned char buf[256] __attribute__((aligned(64)));
  guard_unwritten(buf, sizeof buf);
  keep(realloc(keep(buf + 64), 100));
  return allocbench::misuse::not_detected("realloc_foreign_stack");
}
