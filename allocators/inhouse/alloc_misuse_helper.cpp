// Child program of inhouse_misuse_test: performs one misuse of the alloc_*
// API named by argv[1]. In debug mode each must end in abort() with a message;
// "ok" must exit 0. Exit 3 means the misuse went undetected.
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
  if (strcmp(what, "double_free") == 0) {
    void* p = alloc_malloc(40);
    alloc_free(p);
    alloc_free(p);
  } else if (strcmp(what, "use_after_free_quarantined") == 0) {
    // The freed block is not handed out again at once (quarantine), and a
    // write into it while it waits is caught when it leaves.
    char* p = static_cast<char*>(alloc_malloc(48));
    alloc_free(p);
    char* q = static_cast<char*>(alloc_malloc(48));
    if (q == p) {
      fprintf(stderr, "freed block reused at once\n");
      return 3;
    }
    p[20] = 'u';
    for (int i = 0; i < 20000; ++i) alloc_free(alloc_malloc(48));  // pushes p out of the quarantine
  } else if (strcmp(what, "zero_size_write") == 0) {
    // A 0-byte block traps on access (SIGSEGV, not an abort).
    char* p = static_cast<char*>(alloc_malloc(0));
    char* q = static_cast<char*>(alloc_malloc(0));
    if (p == nullptr || p == q || alloc_usable_size(p) != 0) return 6;
    alloc_free(q);
    p[0] = 'z';
  } else if (strcmp(what, "underflow_by_one") == 0) {
    char* p = static_cast<char*>(alloc_malloc(40));
    p[-1] = 'x';
    alloc_free(p);
  } else if (strcmp(what, "underflow_32_memcpy") == 0) {
    char* p = static_cast<char*>(alloc_malloc(100));
    char junk[32];
    memset(junk, 'y', sizeof junk);
    memcpy(p - 32, junk, sizeof junk);
    alloc_free(p);
  } else if (strcmp(what, "underflow_large") == 0) {
    char* p = static_cast<char*>(alloc_malloc(200000));
    memset(p - 8, 0x7f, 8);  // the size field
    alloc_free(p);
  } else if (strcmp(what, "double_free_large") == 0) {
    void* p = alloc_malloc(300000);  // a large span: retired at the first free
    alloc_free(p);
    alloc_free(p);
  } else if (strcmp(what, "double_free_huge") == 0) {
    void* p = alloc_malloc(size_t{3} << 20);
    alloc_free(p);
    alloc_free(p);
  } else if (strcmp(what, "double_free_retired_page") == 0) {
    // Two pages of 4 KiB blocks; emptying the first retires it (the second
    // still has free blocks), then one of its blocks is freed again.
    void* blocks[32];
    for (void*& b : blocks) b = alloc_malloc(4000);
    for (int i = 0; i < 16; ++i) alloc_free(blocks[i]);
    alloc_free(blocks[3]);
  } else if (strcmp(what, "invalid_free_unused_slot") == 0) {
    char* p = static_cast<char*>(alloc_malloc(64));
    // A slot of the same segment that no span has used yet.
    char* q = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) & ~uintptr_t{(4 << 20) - 1}) + (60 << 16));
    alloc_free(q);
  } else if (strcmp(what, "invalid_free_interior") == 0) {
    char* p = static_cast<char*>(alloc_malloc(64));
    memset(p, 0, 64);
    alloc_free(p + 16);
  } else if (strcmp(what, "invalid_free_stack") == 0) {
    alignas(16) char local[64];
    alloc_free(local);
  } else if (strncmp(what, "foreign_", 8) == 0) {
    // A pointer liballoc never handed out (release build too): it must
    // abort without writing to the memory. The bytes are checked from a
    // SIGABRT handler, after liballoc has reported.
    static unsigned char* mem;
    static const unsigned char kFill = 0x5a;
    alignas(64) static unsigned char global_buf[256];
    unsigned char stack_buf[256] __attribute__((aligned(64)));
    if (strcmp(what, "foreign_free_stack") == 0 || strcmp(what, "foreign_realloc_stack") == 0) {
      mem = stack_buf;
    } else if (strcmp(what, "foreign_free_boundary") == 0) {
      // Memory right after one of liballoc's segments, starting on the 4 MiB
      // boundary that segment_of maps back to that segment's header.
      uintptr_t seg = reinterpret_cast<uintptr_t>(alloc_malloc(64)) & ~uintptr_t{(4 << 20) - 1};
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
    for (int i = 0; i < 20000; ++i) alloc_free(alloc_malloc(48));  // leaving the quarantine (or reuse) detects it
  } else {
    return 2;
  }
  fprintf(stderr, "misuse not detected: %s\n", what);
  return 3;
}
