// expect-signal: SEGV
// A load through a 0-byte block traps.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

namespace {

char volatile g_byte;  // keeps the load

}  // namespace

int main() {
  volatile char* p = keep(static_cast<char*>(malloc(0)));
  if (p == nullptr) return 6;
  g_byte = p[0];
  return allocbench::misuse::not_detected("zero_size_read");
}
