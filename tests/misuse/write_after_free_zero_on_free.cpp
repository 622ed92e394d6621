// expect-signal: ABRT
// expect-stderr: alloc: write after free detected (freed block modified) at pointer 0x
// env: ALLOC_DEBUG_ZERO_ON_FREE=1
// With zero-on-free the zeroes are the poison: a store into a freed block is
// still found when the block leaves the quarantine.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(48)));
  free(p);
  p[20] = 'u';
  for (int i = 0; i < 20000; ++i) free(keep(malloc(48)));
  return allocbench::misuse::not_detected("write_after_free_zero_on_free");
}
