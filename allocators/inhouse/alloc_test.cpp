// Unit tests of liballoc through the alloc_* API (alloc_api: no malloc
// replacement, so GoogleTest itself runs on the system malloc).
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "allocators/inhouse/alloc.h"

namespace {

constexpr size_t kMaxAlign = alignof(max_align_t);

alloc_stats_t stats() {
  alloc_stats_t s;
  alloc_get_stats(&s);
  return s;
}

void fill(void* p, size_t n, uint8_t seed) {
  auto* b = static_cast<uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
}

bool check(const void* p, size_t n, uint8_t seed) {
  auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != static_cast<uint8_t>(seed + i * 7)) return false;
  }
  return true;
}

// Sizes: every power of two up to 4 MiB and its neighbours.
std::vector<size_t> sweep_sizes() {
  std::vector<size_t> v{0};
  for (size_t p = 1; p <= (size_t{4} << 20); p <<= 1) {
    v.push_back(p - 1);
    v.push_back(p);
    v.push_back(p + 1);
  }
  return v;
}

TEST(InhouseAlloc, MallocZeroReturnsUniqueFreeablePointers) {
  void* a = alloc_malloc(0);
  void* b = alloc_malloc(0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  alloc_free(a);
  alloc_free(b);
}

TEST(InhouseAlloc, FreeNullDoesNothingAndFreePreservesErrno) {
  errno = 4242;
  alloc_free(nullptr);
  EXPECT_EQ(errno, 4242);
  for (size_t n : {size_t{24}, size_t{100000}, size_t{8} << 20}) {  // class, large, huge (munmap)
    void* p = alloc_malloc(n);
    ASSERT_NE(p, nullptr);
    errno = 4242;
    alloc_free(p);
    EXPECT_EQ(errno, 4242) << n;
  }
}

TEST(InhouseAlloc, ReallocNullIsMalloc) {
  void* p = alloc_realloc(nullptr, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_GE(alloc_usable_size(p), 100u);
  alloc_free(p);
}

TEST(InhouseAlloc, ReallocZeroFreesAndReturnsNull) {
  void* p = alloc_malloc(64);
  ASSERT_NE(p, nullptr);
  uint64_t frees = stats().frees;
  EXPECT_EQ(alloc_realloc(p, 0), nullptr);
  EXPECT_EQ(stats().frees, frees + 1);
}

TEST(InhouseAlloc, FailedReallocLeavesBlockIntact) {
  for (size_t n : {size_t{48}, size_t{300000}, size_t{5} << 20}) {
    void* p = alloc_malloc(n);
    ASSERT_NE(p, nullptr);
    fill(p, n, 3);
    for (size_t big : {size_t{PTRDIFF_MAX}, size_t{PTRDIFF_MAX} + 1, size_t{1} << 50}) {
      errno = 0;
      EXPECT_EQ(alloc_realloc(p, big), nullptr) << big;
      EXPECT_EQ(errno, ENOMEM);
      EXPECT_TRUE(check(p, n, 3));
    }
    alloc_free(p);
  }
}

TEST(InhouseAlloc, CallocOverflowAndHugeSizesFailWithEnomem) {
  errno = 0;
  EXPECT_EQ(alloc_calloc(SIZE_MAX / 2, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(alloc_calloc(size_t{1} << 32, size_t{1} << 32), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(alloc_malloc(size_t{PTRDIFF_MAX} + 1), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(alloc_malloc(SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(alloc_aligned(64, size_t{PTRDIFF_MAX} + 1), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(InhouseAlloc, CallocZeroesReusedMemory) {
  for (size_t n : {size_t{16}, size_t{200}, size_t{5000}, size_t{70000}, size_t{1} << 20, size_t{3} << 20}) {
    for (int round = 0; round < 3; ++round) {
      void* d = alloc_malloc(n);
      ASSERT_NE(d, nullptr);
      memset(d, 0xab, n);
      alloc_free(d);
      auto* z = static_cast<unsigned char*>(alloc_calloc(1, n));
      ASSERT_NE(z, nullptr);
      size_t nonzero = 0;
      for (size_t i = 0; i < n; ++i) nonzero += z[i] != 0;
      EXPECT_EQ(nonzero, 0u) << n;
      alloc_free(z);
    }
  }
}

TEST(InhouseAlloc, AlignedWithNonPowerOfTwoFails) {
  errno = 0;
  EXPECT_EQ(alloc_aligned(48, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(alloc_aligned(size_t{3} << 20, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(alloc_aligned(size_t{8} << 20, 10), nullptr);  // above the supported 2 MiB
  EXPECT_EQ(errno, ENOMEM);
}

// Every size of the sweep: aligned to max_align_t, usable size at least the
// request and stable, the whole usable range writable, no overlap.
TEST(InhouseAlloc, SizeSweepAlignmentUsableSizeNoOverlap) {
  struct Live {
    void* p;
    size_t usable;
    uint8_t seed;
  };
  std::vector<Live> live;
  uint8_t seed = 1;
  for (size_t n : sweep_sizes()) {
    void* p = alloc_malloc(n);
    ASSERT_NE(p, nullptr) << n;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kMaxAlign, 0u) << n;
    size_t u = alloc_usable_size(p);
    EXPECT_GE(u, n);
    EXPECT_EQ(alloc_usable_size(p), u);
    fill(p, u, seed);
    live.push_back({p, u, seed++});
  }
  std::set<std::pair<uintptr_t, uintptr_t>> ranges;
  for (const Live& l : live) {
    EXPECT_TRUE(check(l.p, l.usable, l.seed)) << l.usable;
    uintptr_t a = reinterpret_cast<uintptr_t>(l.p);
    auto it = ranges.lower_bound({a, 0});
    if (it != ranges.end()) {
      EXPECT_LE(a + l.usable, it->first);
    }
    if (it != ranges.begin()) {
      EXPECT_LE(std::prev(it)->second, a);
    }
    ranges.insert({a, a + (l.usable == 0 ? 1 : l.usable)});
  }
  for (const Live& l : live) alloc_free(l.p);
}

TEST(InhouseAlloc, AlignmentSweep16BTo64KiBAndBeyond) {
  std::vector<void*> live;
  for (size_t a = 16; a <= (size_t{2} << 20); a <<= 1) {
    for (size_t n : {size_t{0}, size_t{1}, a - 1, a, a + 1, 3 * a, size_t{100000}, size_t{3} << 20}) {
      void* p = alloc_aligned(a, n);
      ASSERT_NE(p, nullptr) << a << " " << n;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % a, 0u) << a << " " << n;
      EXPECT_GE(alloc_usable_size(p), n);
      if (n > 0) {
        static_cast<char*>(p)[0] = 1;
        static_cast<char*>(p)[n - 1] = 2;
      }
      live.push_back(p);
    }
  }
  for (void* p : live) alloc_free(p);
}

TEST(InhouseAlloc, ReallocGrowthAndShrinkKeepContents) {
  size_t n = 1;
  void* p = alloc_malloc(n);
  fill(p, n, 9);
  while (n < (size_t{6} << 20)) {
    size_t m = n + n / 2 + 1;
    p = alloc_realloc(p, m);
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(check(p, n, 9)) << n << " -> " << m;
    fill(p, m, 9);
    n = m;
  }
  while (n > 1) {
    size_t m = n / 3;
    if (m == 0) m = 1;
    p = alloc_realloc(p, m);
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(check(p, m, 9)) << n << " -> " << m;
    n = m;
  }
  alloc_free(p);
}

TEST(InhouseAlloc, StatisticsTrackAllocationsAndBytes) {
  alloc_stats_t before = stats();
  std::vector<void*> v;
  for (int i = 0; i < 1000; ++i) v.push_back(alloc_malloc(100));
  alloc_stats_t mid = stats();
  EXPECT_EQ(mid.allocations, before.allocations + 1000);
  EXPECT_GE(mid.bytes_in_use, before.bytes_in_use + 100000);
  EXPECT_GE(mid.bytes_active, mid.bytes_in_use);
  EXPECT_GT(mid.bytes_mapped, 0u);
  EXPECT_GE(mid.fragmentation, 0.0);
  EXPECT_LE(mid.fragmentation, 1.0);
  for (void* p : v) alloc_free(p);
  alloc_stats_t after = stats();
  EXPECT_EQ(after.frees, before.frees + 1000);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  alloc_print_stats(fds[1]);
  close(fds[1]);
  char buf[2048] = {};
  ssize_t got = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  ASSERT_GT(got, 0);
  EXPECT_NE(strstr(buf, "allocations:"), nullptr);
  EXPECT_NE(strstr(buf, "fragmentation:"), nullptr);
}

TEST(InhouseAlloc, HugeBlocksAreUnmappedOnFree) {
  alloc_stats_t before = stats();
  void* p = alloc_malloc(size_t{16} << 20);
  ASSERT_NE(p, nullptr);
  memset(p, 1, size_t{16} << 20);
  EXPECT_GE(stats().bytes_mapped, before.bytes_mapped + (size_t{16} << 20));
  EXPECT_EQ(stats().huge_blocks, before.huge_blocks + 1);
  alloc_free(p);
  EXPECT_EQ(stats().bytes_mapped, before.bytes_mapped);
  EXPECT_EQ(stats().huge_blocks, before.huge_blocks);
}

// Page return policy: free spans beyond max(16 MiB, active/4) per heap are
// decommitted; alloc_trim returns empty segments to the OS.
TEST(InhouseAlloc, FreedSpansAreReturnedToTheOs) {
  alloc_stats_t before = stats();
  std::vector<void*> v;
  for (int i = 0; i < 96; ++i) {
    void* p = alloc_malloc(size_t{1} << 20);
    ASSERT_NE(p, nullptr);
    memset(p, 7, size_t{1} << 20);
    v.push_back(p);
  }
  for (size_t i = 0; i < v.size(); i += 2) alloc_free(v[i]);  // segments stay partly used
  alloc_stats_t freed = stats();
  EXPECT_GE(freed.bytes_purged, before.bytes_purged + (size_t{16} << 20));
  for (size_t i = 1; i < v.size(); i += 2) alloc_free(v[i]);
  alloc_trim();
  alloc_stats_t trimmed = stats();
  EXPECT_LE(trimmed.bytes_active, before.bytes_active + (size_t{1} << 20));
  EXPECT_LE(trimmed.bytes_mapped, before.bytes_mapped);
}

TEST(InhouseAlloc, CrossThreadFreeAndThreadExit) {
  alloc_stats_t before = stats();
  std::vector<void*> blocks;
  // A thread allocates blocks that outlive it.
  std::thread t([&] {
    for (int i = 0; i < 5000; ++i) {
      void* p = alloc_malloc(static_cast<size_t>(16 + (i % 50) * 24));
      fill(p, 16, static_cast<uint8_t>(i));
      blocks.push_back(p);
    }
  });
  t.join();
  EXPECT_GE(stats().heaps_abandoned, before.heaps_abandoned + 1);
  // This thread frees them (remote frees into the abandoned heap).
  for (size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_TRUE(check(blocks[i], 16, static_cast<uint8_t>(i)));
    alloc_free(blocks[i]);
  }
  // A new thread adopts the abandoned heap, finds everything free and, on
  // exit, returns all of it.
  std::thread u([] { alloc_free(alloc_malloc(10)); });
  u.join();
  alloc_stats_t after = stats();
  EXPECT_EQ(after.heaps_abandoned, before.heaps_abandoned);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
}

TEST(InhouseAlloc, ChildOfForkCanAllocate) {
  void* keep = alloc_malloc(1000);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    static void* v[10000];  // no system malloc in the child
    for (int i = 0; i < 10000; ++i) v[i] = alloc_malloc(static_cast<size_t>(i % 3000));
    for (void* p : v) alloc_free(p);
    alloc_free(keep);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  alloc_free(keep);
}

}  // namespace
