// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// Two pages of 4000-byte blocks; emptying the first retires it (the second still
// has free blocks), then one of its blocks is freed again.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* blocks[32];
  for (void*& b : blocks) b = keep(malloc(4000));
  for (int i = 0; i < 16; ++i) free(blocks[i]);
  free(blocks[3]);
  return allocbench::misuse::not_detected("double_free_retired_page");
}
