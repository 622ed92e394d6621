// expect-signal: ABRT
// expect-stderr: alloc: write after free detected (freed block modified) at pointer 0x
// env: ALLOC_DEBUG_QUARANTINE=0
// With the quarantine off, a store into a freed 48-byte block is found when the
// next malloc of that size reuses it.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(48)));
  free(p);
  p[20] = 'u';
  for (int i = 0; i < 100; ++i) keep(malloc(48));
  return allocbench::misuse::not_detected("write_after_free_no_quarantine");
}
