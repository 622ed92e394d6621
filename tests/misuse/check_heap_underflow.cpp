// expect-signal: ABRT
// expect-stderr: alloc: heap buffer underflow detected
// A store one byte before a live 64-byte-aligned block, found by
// alloc_check_heap().
#include <dlfcn.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  auto check = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "alloc_check_heap"));
  if (check == nullptr) return 6;
  void* v = nullptr;
  if (posix_memalign(&v, 64, 100) != 0) return 6;
  char* p = keep(static_cast<char*>(v));
  p[-1] = 0x7f;
  check();
  return allocbench::misuse::not_detected("check_heap_underflow");
}
