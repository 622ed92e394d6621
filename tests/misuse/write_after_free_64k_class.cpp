// expect-signal: SEGV
// A store into a freed 64 KiB block (its header and canary do not fit a
// size class, so it has a mapping of its own, made inaccessible at free).
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(65536)));
  free(p);
  p[0] = 'u';
  return allocbench::misuse::not_detected("write_after_free_64k_class");
}
