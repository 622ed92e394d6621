// expect-signal: ABRT
// expect-stderr: alloc: invalid free
// free of an address inside the header slot of a live segment (never a
// block): must be reported, never written through.
#include <stdint.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(64)));
  uintptr_t segment = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{(4 << 20) - 1};
  free(keep(reinterpret_cast<char*>(segment + 64)));
  return allocbench::misuse::not_detected("invalid_free_segment_header");
}
