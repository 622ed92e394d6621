// expect-signal: ABRT
// expect-stderr: alloc: double free detected at pointer 0x
// A 300 KB large span freed twice: too big for the quarantine, so the first free
// releases the span.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  void* p = keep(malloc(300000));
  free(p);
  free(p);
  return allocbench::misuse::not_detected("double_free_300k");
}
