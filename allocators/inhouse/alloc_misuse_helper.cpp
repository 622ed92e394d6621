// Child program of inhouse_misuse_test: performs one misuse of the alloc_*
// API named by argv[1]. In debug mode each must end in abort() with a message;
// "ok" must exit 0. Exit 3 means the misuse went undetected.
#include <stdio.h>
#include <string.h>

#include "allocators/inhouse/alloc.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* what = argv[1];
  if (strcmp(what, "debug_enabled") == 0) return alloc_debug_enabled() ? 0 : 1;
  if (strcmp(what, "ok") == 0) {
    for (size_t n = 0; n < 200000; n = n * 2 + 1) {
      char* p = static_cast<char*>(alloc_malloc(n));
      memset(p, 1, n);
      p = static_cast<char*>(alloc_realloc(p, n + 5));
      alloc_free(p);
    }
    void* a = alloc_aligned(4096, 100);
    alloc_free(a);
    return 0;
  }
  if (strcmp(what, "double_free") == 0) {
    void* p = alloc_malloc(40);
    alloc_free(p);
    alloc_free(p);
  } else if (strcmp(what, "invalid_free_interior") == 0) {
    char* p = static_cast<char*>(alloc_malloc(64));
    memset(p, 0, 64);
    alloc_free(p + 16);
  } else if (strcmp(what, "invalid_free_stack") == 0) {
    alignas(16) char local[64];
    alloc_free(local);
  } else if (strcmp(what, "overflow_by_one") == 0) {
    char* p = static_cast<char*>(alloc_malloc(13));
    memset(p, 'x', 14);  // one byte too many
    alloc_free(p);
  } else if (strcmp(what, "overflow_large") == 0) {
    char* p = static_cast<char*>(alloc_malloc(300000));
    p[300000] = 1;
    alloc_free(p);
  } else if (strcmp(what, "write_after_free") == 0) {
    char* p = static_cast<char*>(alloc_malloc(48));
    alloc_free(p);
    p[20] = 'u';  // use after free
    for (int i = 0; i < 1000; ++i) alloc_malloc(48);  // reuse detects it
  } else {
    return 2;
  }
  fprintf(stderr, "misuse not detected: %s\n", what);
  return 3;
}
