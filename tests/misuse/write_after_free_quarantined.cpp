// expect-signal: ABRT
// expect-stderr: alloc: write after free detected (freed block modified) at pointer 0x
// A freed 48-byte block is not handed out again at once (quarantine); a store
// into it while it waits is found when later blocks of its size push it out.
#include <stdio.h>
#include <stdlib.h>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  char* p = keep(static_cast<char*>(malloc(48)));
  free(p);
  char* q = keep(static_cast<char*>(malloc(48)));
  if (q == p) {
    fprintf(stderr, "freed block reused at once\n");
    return 3;
  }
  p[20] = 'u';
  for (int i = 0; i < 20000; ++i) free(keep(malloc(48)));
  return allocbench::misuse::not_detected("write_after_free_quarantined");
}
