// expect-signal: ABRT
// expect-stderr: alloc: write after free detected (freed block modified) at pointer 0x
// A store into a freed (quarantined) block, found by alloc_check_heap()
// before the block leaves the quarantine.
#include <dlfcn.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  auto check = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "alloc_check_heap"));
  if (check == nullptr) return 6;
  char* p = keep(static_cast<char*>(malloc(200)));
  free(p);
  if (check() != 0) return 7;
  p[100] = 'u';
  check();
  return allocbench::misuse::not_detected("check_heap_write_after_free");
}
