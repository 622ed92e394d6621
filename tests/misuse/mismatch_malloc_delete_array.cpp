// expect-signal: ABRT
// expect-stderr: alloc: mismatched deallocation (block from malloc, freed by delete[]) at pointer 0x
// A block from malloc released by delete[].
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  delete[] keep(static_cast<int*>(malloc(4 * sizeof(int))));
  return allocbench::misuse::not_detected("mismatch_malloc_delete_array");
}
