// expect-signal: ABRT
// expect-stderr: alloc: invalid free (not a pointer returned by malloc) at pointer 0x
// free of memory the program mapped itself, which must not be written.
#include <stdlib.h>
#include <sys/mman.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::guard_unwritten;
using allocbench::misuse::keep;

int main() {
  void* m = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 6;
  unsigned char* buf = static_cast<unsigned char*>(m);
  guard_unwritten(buf, 8192);
  free(keep(buf + 64));
  return allocbench::misuse::not_detected("invalid_free_mmap");
}
