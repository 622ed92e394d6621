// expect-signal: ABRT
// expect-stderr: alloc: mismatched deallocation (block from aligned new, freed by delete) at pointer 0x
// A block from aligned operator new released by the unaligned operator delete.
#include <new>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  ::operator delete(keep(::operator new(256, std::align_val_t(64))));
  return allocbench::misuse::not_detected("mismatch_aligned_new_plain_delete");
}
