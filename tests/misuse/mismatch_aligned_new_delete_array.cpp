// expect-signal: ABRT
// expect-stderr: alloc: mismatched deallocation (block from aligned new, freed by aligned delete[]) at pointer 0x
// A block from aligned new released by aligned delete[].

#include <new>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  ::operator delete[](keep(::operator new(256, std::align_val_t(128))), std::align_val_t(128));
  return allocbench::misuse::not_detected("mismatch_aligned_new_delete_array");
}
