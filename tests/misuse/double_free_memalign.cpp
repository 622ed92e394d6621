// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// A 256-byte aligned block from memalign freed twice.
#include <malloc.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(memalign(256, 200));
  free(p);
  free(p);
  return allocbench::misuse::not_detected("double_free_memalign");
}
