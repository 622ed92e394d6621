// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// A 3 MiB huge block freed twice.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(malloc(size_t{3} << 20));
  free(p);
  free(p);
  return allocbench::misuse::not_detected("double_free_3m_huge");
}
