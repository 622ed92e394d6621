// expect-signal: ABRT
// expect-stderr: alloc: mismatched deallocation (block from new, freed by free) at pointer 0x
// A block from new released by free.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  free(keep(new int(1)));
  return allocbench::misuse::not_detected("mismatch_new_free");
}
