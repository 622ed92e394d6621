// A program linked with liballoc.a (alloc_static): malloc, libc's internal
// allocations, operator new/delete and the glibc extensions all go through
// liballoc, with glibc's semantics. GoogleTest itself runs on liballoc here.
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <new>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "allocators/inhouse/alloc.h"

extern "C" void* __libc_malloc(size_t);
extern "C" void __libc_free(void*);

namespace {

uint64_t allocations() {
  alloc_stats_t s;
  alloc_get_stats(&s);
  return s.allocations;
}

// Keeps the compiler from eliding new/delete and malloc/free pairs.
void* volatile g_sink;

TEST(InhouseStaticLink, MallocAndLibcInternalAllocationsAreOurs) {
  uint64_t a = allocations();
  void* p = malloc(100);
  g_sink = p;
  EXPECT_EQ(allocations(), a + 1);
  EXPECT_EQ(malloc_usable_size(p), alloc_usable_size(p));
  EXPECT_EQ(malloc_usable_size(p), 112u);  // liballoc's size class, glibc would say 104
  free(p);
  a = allocations();
  char* d = strdup("allocated inside libc");  // libc calls malloc internally
  EXPECT_GE(allocations(), a + 1);
  EXPECT_GE(alloc_usable_size(d), 22u);
  free(d);
  a = allocations();
  void* q = __libc_malloc(10);
  EXPECT_EQ(allocations(), a + 1);
  __libc_free(q);
}

TEST(InhouseStaticLink, OperatorNewAndDeleteAreOurs) {
  uint64_t a = allocations();
  auto* v = new std::vector<int>(1000, 7);
  EXPECT_GE(allocations(), a + 2);
  delete v;
  struct alignas(256) Wide {
    char c[300];
  };
  auto* w = new Wide;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w) % 256, 0u);
  delete w;
  auto* arr = new Wide[3];
  EXPECT_EQ(reinterpret_cast<uintptr_t>(arr) % 256, 0u);
  delete[] arr;
  void* n = ::operator new(24, std::nothrow);
  EXPECT_NE(n, nullptr);
  ::operator delete(n, std::nothrow);
}

TEST(InhouseStaticLink, OperatorNewThrowsBadAllocAndCallsTheNewHandler) {
  size_t too_big = size_t{1} << 62;
  EXPECT_THROW(g_sink = ::operator new(too_big), std::bad_alloc);
  EXPECT_THROW(g_sink = ::operator new[](too_big), std::bad_alloc);
  EXPECT_THROW(g_sink = ::operator new(too_big, std::align_val_t{64}), std::bad_alloc);
  EXPECT_EQ(::operator new(too_big, std::nothrow), nullptr);
  EXPECT_EQ(::operator new(too_big, std::align_val_t{64}, std::nothrow), nullptr);
  static int calls;
  calls = 0;
  std::set_new_handler([] {
    if (++calls == 3) std::set_new_handler(nullptr);
  });
  EXPECT_THROW(g_sink = ::operator new(too_big), std::bad_alloc);
  EXPECT_EQ(calls, 3);
  calls = 0;
  std::set_new_handler([] {
    if (++calls == 2) std::set_new_handler(nullptr);
  });
  EXPECT_EQ(::operator new(too_big, std::nothrow), nullptr);
  EXPECT_EQ(calls, 2);
}

TEST(InhouseStaticLink, GlibcSemanticsOfTheMallocFamily) {
  void* z1 = malloc(0);
  void* z2 = malloc(0);
  EXPECT_NE(z1, nullptr);
  EXPECT_NE(z1, z2);
  free(z1);
  free(z2);
  free(nullptr);
  void* r = realloc(nullptr, 10);
  EXPECT_NE(r, nullptr);
  EXPECT_EQ(realloc(r, 0), nullptr);

  void* out = reinterpret_cast<void*>(0x1234);
  EXPECT_EQ(posix_memalign(&out, 24, 10), EINVAL);
  EXPECT_EQ(posix_memalign(&out, 4, 10), EINVAL);
  EXPECT_EQ(out, reinterpret_cast<void*>(0x1234));
  EXPECT_EQ(posix_memalign(&out, 4096, 10), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(out) % 4096, 0u);
  free(out);

  errno = 0;
  EXPECT_EQ(aligned_alloc(48, 96), nullptr);
  EXPECT_EQ(errno, EINVAL);
  void* al = aligned_alloc(64, 100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(al) % 64, 0u);
  free(al);
  void* m = memalign(48, 10);  // glibc rounds up to 64
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m) % 64, 0u);
  free(m);
  void* v = valloc(10);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v) % 4096, 0u);
  free(v);
  void* pv = pvalloc(1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(pv) % 4096, 0u);
  EXPECT_GE(malloc_usable_size(pv), 4096u);
  free(pv);

  errno = 0;
  EXPECT_EQ(calloc(SIZE_MAX / 4, 8), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(malloc(size_t{PTRDIFF_MAX} + 1), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void* ra = reallocarray(nullptr, 10, 10);
  EXPECT_NE(ra, nullptr);
  errno = 0;
  EXPECT_EQ(reallocarray(ra, SIZE_MAX / 2, 4), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  free(ra);

  EXPECT_EQ(mallopt(M_ARENA_MAX, 1), 1);
  struct mallinfo2 mi = mallinfo2();
  EXPECT_GT(mi.arena, 0u);
  malloc_trim(0);
}

TEST(InhouseStaticLink, ThreadsUseTheirOwnHeaps) {
  std::vector<std::thread> ts;
  std::vector<std::string*> out(4);
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      std::vector<std::string> v;
      for (int i = 0; i < 10000; ++i) v.push_back(std::to_string(i * t));
      out[t] = new std::string(v.back());
    });
  }
  for (auto& th : ts) th.join();
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(*out[t], std::to_string(9999 * t));
    delete out[t];
  }
}

}  // namespace
