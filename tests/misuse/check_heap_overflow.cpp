// expect-signal: ABRT
// expect-stderr: alloc: heap buffer overflow detected (canary after the block overwritten) at pointer 0x
// An overflow into the canary of a block that is never freed, found by
// alloc_check_heap().
#include <dlfcn.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  auto check = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "alloc_check_heap"));
  if (check == nullptr) return 6;
  char* p = keep(static_cast<char*>(malloc(40)));
  if (check() != 0) return 7;
  p[40] = 'x';
  check();
  return allocbench::misuse::not_detected("check_heap_overflow");
}
