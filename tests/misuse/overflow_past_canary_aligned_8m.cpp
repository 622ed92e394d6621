// expect-signal: SEGV
// A block aligned to 8 MiB written a page past its end: the guard page traps.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* v = nullptr;
  if (posix_memalign(&v, size_t{8} << 20, 100000) != 0) return 6;
  char* p = keep(static_cast<char*>(v));
  memset(p, 1, 100000);
  p[100000 + sysconf(_SC_PAGESIZE)] = 1;
  free(p);
  return allocbench::misuse::not_detected("overflow_past_canary_aligned_8m");
}
