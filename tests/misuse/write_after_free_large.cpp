// expect-signal: SEGV
// A store into a freed 300 KB block: its pages are made inaccessible at free.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(300000)));
  free(p);
  p[1000] = 'u';
  return allocbench::misuse::not_detected("write_after_free_large");
}
