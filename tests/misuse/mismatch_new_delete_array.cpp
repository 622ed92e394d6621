// expect-signal: ABRT
// expect-stderr: alloc: mismatched deallocation (block from new, freed by delete[]) at pointer 0x
// A block from new released by delete[].
#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(new char('x'));
  delete[] p;
  return allocbench::misuse::not_detected("mismatch_new_delete_array");
}
