// expect-signal: ABRT
// expect-stderr: alloc: write after free detected (freed block modified) at pointer 0x
// A store into a freed 16-byte block; later blocks of the same size push it out
// of the quarantine, which finds the write.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(16)));
  free(p);
  p[0] = 'u';
  for (int i = 0; i < 20000; ++i) free(keep(malloc(16)));
  return allocbench::misuse::not_detected("write_after_free_16");
}
