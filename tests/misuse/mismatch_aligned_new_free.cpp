// expect-signal: ABRT
// expect-stderr: alloc: mismatched deallocation (block from aligned new, freed by free) at pointer 0x
// A block from aligned new released by free.
#include <stdlib.h>

#include <new>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  free(keep(::operator new(256, std::align_val_t(128))));
  return allocbench::misuse::not_detected("mismatch_aligned_new_free");
}
