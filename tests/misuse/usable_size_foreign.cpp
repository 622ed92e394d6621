// expect-signal: ABRT
// expect-stderr: alloc: invalid pointer passed to malloc_usable_size at pointer 0x
// malloc_usable_size of a global buffer, which must not be written (after a
// first allocation, which switches the debug mode on).
#include <malloc.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::guard_unwritten;
using allocbench::misuse::keep;

namespace {

size_t volatile g_size;  // keeps the call

}  // namespace

int main() {
  free(keep(malloc(1)));
  alignas(64) static unsigned char buf[256];
  guard_unwritten(buf, sizeof buf);
  g_size = malloc_usable_size(keep(buf + 64));
  return allocbench::misuse::not_detected("usable_size_foreign");
}
