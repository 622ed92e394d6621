// expect-signal: ABRT
// expect-stderr: alloc: heap buffer overflow detected (canary after the block overwritten) at pointer 0x
// memset one byte past the end of a page-aligned 4 KiB block.
#include <stdlib.h>
#include <string.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(aligned_alloc(4096, 4096)));
  memset(p, 0, 4097);
  free(p);
  return allocbench::misuse::not_detected("overflow_aligned_alloc_4k");
}
