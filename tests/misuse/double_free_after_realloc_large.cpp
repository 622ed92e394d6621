// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// realloc moves a 100 KB large span to a 1 MB one; the old pointer is freed again.
#include <stdio.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(100000)));
  p[0] = 'a';
  char* q = keep(static_cast<char*>(realloc(p, 1000000)));
  if (q == nullptr || q == p) {
    fprintf(stderr, "realloc did not move the block\n");
    return 6;
  }
  free(p);
  return allocbench::misuse::not_detected("double_free_after_realloc_large");
}
