// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// A 64 KiB block (a large span once the debug header is added) freed twice.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(malloc(65536));
  free(p);
  free(p);
  return allocbench::misuse::not_detected("double_free_64k");
}
