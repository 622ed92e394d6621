// expect-signal: SEGV
// A 100000-byte block (a mapping of its own in debug mode) written 40 bytes
// past its end, beyond the canary: the guard page after the block traps.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(100000)));
  p[100000 + 40] = 1;
  free(p);
  return allocbench::misuse::not_detected("overflow_past_canary_large");
}
