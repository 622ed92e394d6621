// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// A page-aligned block from aligned_alloc freed twice.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(aligned_alloc(4096, 4096));
  free(p);
  free(p);
  return allocbench::misuse::not_detected("double_free_aligned_alloc");
}
