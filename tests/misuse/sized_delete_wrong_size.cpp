// expect-signal: ABRT
// expect-stderr: alloc: sized delete with a size other than the one allocated at pointer 0x
// Sized delete of a 64-byte block from new with size 32.

#include <new>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  ::operator delete(keep(::operator new(64)), 32);
  return allocbench::misuse::not_detected("sized_delete_wrong_size");
}
