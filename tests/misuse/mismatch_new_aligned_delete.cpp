// expect-signal: ABRT
// expect-stderr: alloc: mismatched deallocation (block from new, freed by aligned delete) at pointer 0x
// A block from plain operator new released by the aligned operator delete.
#include <new>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  ::operator delete(keep(::operator new(256)), std::align_val_t(64));
  return allocbench::misuse::not_detected("mismatch_new_aligned_delete");
}
