// expect-signal: ABRT
// expect-stderr: alloc: heap buffer overflow detected (canary after the block overwritten) at pointer 0x
// A strcpy-like loop copies a 1024-character string and its terminator into a
// 1024-byte block.
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  static char src[1025];
  for (int i = 0; i < 1024; ++i) src[i] = 'a';
  char* p = keep(static_cast<char*>(malloc(1024)));
  const char* s = keep(src);
  char* d = p;
  while ((*d++ = *s++) != '\0') {
  }
  free(p);
  return allocbench::misuse::not_detected("overflow_by_one_1k_strcpy");
}
