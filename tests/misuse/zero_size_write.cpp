// expect-signal: SEGV
// A store through a 0-byte block traps.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(0)));
  char* q = keep(static_cast<char*>(malloc(0)));
  if (p == nullptr || p == q) return 6;
  free(q);
  p[0] = 'z';
  return allocbench::misuse::not_detected("zero_size_write");
}
