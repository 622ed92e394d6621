// expect-signal: SEGV
// A load from a freed 3 MiB block, after other blocks of its size were
// allocated: the freed mapping stays reserved and inaccessible.
#include <stdio.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  volatile char* p = keep(static_cast<char*>(malloc(size_t{3} << 20)));
  p[5] = 1;
  free(const_cast<char*>(p));
  for (int i = 0; i < 4; ++i) keep(malloc(size_t{3} << 20));
  printf("%d\n", p[5]);
  return allocbench::misuse::not_detected("read_after_free_huge");
}
