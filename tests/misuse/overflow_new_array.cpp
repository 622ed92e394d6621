// expect-signal: ABRT
// expect-stderr: alloc: heap buffer overflow detected (canary after the block overwritten) at pointer 0x
// A store one past the end of new char[10], then delete[].
#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(new char[10]);
  p[10] = 'x';
  delete[] p;
  return allocbench::misuse::not_detected("overflow_new_array");
}
