// expect-signal: ABRT
// expect-stderr: alloc: invalid free or double free (pointer is not in an allocated span) at pointer 0x
// free of an address in a slot of a live segment that no span has used yet.
#include <stdint.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(64)));
  uintptr_t segment = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{(4 << 20) - 1};
  free(keep(reinterpret_cast<char*>(segment + (60 << 16))));
  return allocbench::misuse::not_detected("invalid_free_unused_slot");
}
