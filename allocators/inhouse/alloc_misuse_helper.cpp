// Child program of inhouse_misuse_test, through the alloc_* API: whether the
// debug mode is on ("debug_enabled": exit 0 if so, 1 if not), valid usage
// ("ok": exit 0), and pointers liballoc never handed out ("foreign_*": abort
// with a message, memory not written). Exit 3 means a misuse went undetected.
// The debug-mode misuse cases are the programs of tests/misuse.
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <stdint.h>

#include <initializer_list>
#include <sys/mman.h>
#include <unistd.h>

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
    // Blocks aligned to 2 MiB and more: the user pointer sits on a 4 MiB
    // boundary, which a plain mask maps to the wrong header.
    for (size_t align : {size_t{2} << 20, size_t{4} << 20, size_t{16} << 20}) {
      for (size_t n : {size_t{100}, size_t{3} << 20}) {
        char* b = static_cast<char*>(alloc_aligned(align, n));
        if (b == nullptr || reinterpret_cast<uintptr_t>(b) % align != 0) return 6;
        memset(b, 1, n);
        b = static_cast<char*>(alloc_realloc(b, n + 1000));
        if (b == nullptr) return 7;
        alloc_free(b);
      }
    }
    return 0;
  }
  if (strncmp(what, "foreign_", 8) == 0) {
    // A pointer liballoc never handed out (release build too): it must
    // abort without writing to the memory. The bytes are checked from a
    // SIGABRT handler, after liballoc has reported.
    static unsigned char* mem;
    static const unsigned char kFill = 0x5a;
    alignas(64) static unsigned char global_buf[256];
    unsigned char stack_buf[256] __attribute__((aligned(64)));
    if (strcmp(what, "foreign_free_stack") == 0 || strcmp(what, "foreign_realloc_stack") == 0) {
      mem = stack_buf;
    } else if (strncmp(what, "foreign_free_boundary", 21) == 0) {
      // Memory right after one of liballoc's segments (or after a 3 MiB huge
      // block's mapping), starting on the 4 MiB boundary that segment_of maps
      // back to that segment's header.
      size_t n = strcmp(what, "foreign_free_boundary_huge") == 0 ? size_t{3} << 20 : 64;
      uintptr_t seg = reinterpret_cast<uintptr_t>(alloc_malloc(n)) & ~uintptr_t{(4 << 20) - 1};
      void* want = reinterpret_cast<void*>(seg + (4 << 20));
      void* got = mmap(want, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      if (got != want) return 5;  // that address is taken: nothing to test
      mem = static_cast<unsigned char*>(got) - 64;  // so that mem + 64 is the boundary
      memset(mem + 64, kFill, 192);
      signal(SIGABRT, [](int) {
        for (int i = 64; i < 256; ++i) {
          if (mem[i] != kFill) _exit(4);
        }
        signal(SIGABRT, SIG_DFL);
        raise(SIGABRT);
      });
      alloc_free(mem + 64);
      fprintf(stderr, "misuse not detected: %s\n", what);
      return 3;
    } else if (strcmp(what, "foreign_free_mmap") == 0) {
      mem = static_cast<unsigned char*>(mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    } else {
      mem = global_buf;
    }
    memset(mem, kFill, 256);
    signal(SIGABRT, [](int) {
      for (int i = 0; i < 256; ++i) {
        if (mem[i] != kFill) {
          static const char msg[] = "foreign memory was written\n";
          if (write(2, msg, sizeof msg - 1) < 0) _exit(5);
          _exit(4);
        }
      }
      signal(SIGABRT, SIG_DFL);
      raise(SIGABRT);
    });
    if (strncmp(what, "foreign_realloc", 15) == 0) {
      alloc_realloc(mem + 64, 100);
    } else if (strcmp(what, "foreign_usable_size") == 0) {
      (void)alloc_usable_size(mem + 64);
    } else {
      alloc_free(mem + 64);
    }
  } else {
    return 2;
  }
  fprintf(stderr, "misuse not detected: %s\n", what);
  return 3;
}
