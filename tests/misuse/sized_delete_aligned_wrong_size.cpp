// expect-signal: ABRT
// expect-stderr: alloc: sized delete with a size other than the one allocated at pointer 0x
// Sized aligned delete of a 256-byte block from aligned new with size 128.

#include <new>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  ::operator delete(keep(::operator new(256, std::align_val_t(128))), 128, std::align_val_t(128));
  return allocbench::misuse::not_detected("sized_delete_aligned_wrong_size");
}
