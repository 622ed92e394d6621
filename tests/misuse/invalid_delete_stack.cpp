// expect-signal: ABRT
// expect-stderr: alloc: invalid delete (not a pointer returned by new) at pointer 0x
// operator delete of a stack object, which must not be written.

#include <new>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::guard_unwritten;
using allocbench::misuse::keep;

int main() {
  unsigned char buf[256] __attribute__((aligned(64)));
  guard_unwritten(buf, sizeof buf);
  ::operator delete(keep(buf + 64));
  return allocbench::misuse::not_detected("invalid_delete_stack");
}
