// expect-signal: ABRT
// expect-stderr: alloc: write after free detected (freed block modified) at pointer 0x
// A store into a freed 200-byte block, found when malloc_trim empties the
// quarantine.
#include <malloc.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(200)));
  free(p);
  p[100] = 'u';
  malloc_trim(0);
  return allocbench::misuse::not_detected("write_after_free_trim");
}
