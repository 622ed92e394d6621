// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// A block aligned to 4 MiB (its own mapping, header in the gap before it) freed
// twice.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(aligned_alloc(size_t{4} << 20, 100));
  free(p);
  free(p);
  return allocbench::misuse::not_detected("double_free_aligned_4m");
}
