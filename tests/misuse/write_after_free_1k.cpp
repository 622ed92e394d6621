// expect-signal: ABRT
// expect-stderr: alloc: write after free detected (freed block modified) at pointer 0x
// A store into the last byte of a freed 1000-byte block; later blocks of the
// same size push it out of the quarantine, which finds the write.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(1000)));
  free(p);
  p[999] = 'u';
  for (int i = 0; i < 20000; ++i) free(keep(malloc(1000)));
  return allocbench::misuse::not_detected("write_after_free_1k");
}
