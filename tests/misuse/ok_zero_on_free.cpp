// expect-exit: 0
// env: ALLOC_DEBUG_ZERO_ON_FREE=1
// ALLOC_DEBUG_ZERO_ON_FREE=1: a freed block reads zero while it waits in the
// quarantine (exit 1 if not), and valid use raises no false report.
#include <stdlib.h>
#include <string.h>

#include <initializer_list>

#include "tests/misuse/misuse_util.h"

using allocbench::misuse::keep;

int main() {
  for (size_t n : {size_t{16}, size_t{100}, size_t{4000}, size_t{30000}}) {
    volatile char* p = keep(static_cast<char*>(malloc(n)));
    memset(const_cast<char*>(p), 0x3c, n);
    free(const_cast<char*>(p));
    for (size_t i = 0; i < n; ++i) {
      if (p[i] != 0) return 1;
    }
  }
  for (int i = 0; i < 20000; ++i) free(keep(malloc(static_cast<size_t>(i % 500))));
  return 0;
}
