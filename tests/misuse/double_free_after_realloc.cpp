// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// realloc moves a 16-byte block to a 4 KiB one; the old pointer is freed again.
#include <stdio.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(16)));
  p[0] = 'a';
  char* q = keep(static_cast<char*>(realloc(p, 4096)));
  if (q == nullptr || q == p) {
    fprintf(stderr, "realloc did not move the block\n");
    return 6;
  }
  free(p);
  return allocbench::misuse::not_detected("double_free_after_realloc");
}
