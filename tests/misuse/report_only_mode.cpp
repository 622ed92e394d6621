// expect-exit: 0
// expect-stderr: alloc: double free detected at pointer 0x
// env: ALLOC_DEBUG_ABORT=0
// ALLOC_DEBUG_ABORT=0: the double free is reported and the program goes on;
// so are an overflow and a foreign free after it, and the allocator still works.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(malloc(40));
  free(p);
  free(p);
  char* q = keep(static_cast<char*>(malloc(13)));
  memset(q, 'x', 14);
  free(q);
  alignas(16) char local[32];
  free(keep(local));
  for (int i = 0; i < 1000; ++i) free(keep(malloc(static_cast<size_t>(i) * 7)));
  return 0;
}
