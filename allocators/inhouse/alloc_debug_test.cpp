// The debug build's report-only mode, alloc_check_heap and zero-on-free, in
// process: ALLOC_DEBUG_ABORT=0 and ALLOC_DEBUG_ZERO_ON_FREE=1 are set before
// liballoc initialises (its first alloc_* call), so misuse is reported on
// stderr and the call returns instead of aborting. (The misuse suite in
// tests/misuse/ checks the aborting mode, one program per misuse.)
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "allocators/inhouse/alloc.h"

namespace {

// Before main, so before liballoc's first call reads the environment.
const bool kEnvironmentSet = [] {
  setenv("ALLOC_DEBUG_ABORT", "0", 1);
  setenv("ALLOC_DEBUG_ZERO_ON_FREE", "1", 1);
  return true;
}();

size_t count_lines(const std::string& s, const char* what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(InhouseDebug, ReportOnlyModeReportsEachMisuseOnceAndReturns) {
  ASSERT_TRUE(kEnvironmentSet);
  ASSERT_EQ(alloc_debug_enabled(), 1);
  testing::internal::CaptureStderr();
  void* a = alloc_malloc(40);
  alloc_free(a);
  alloc_free(a);  // double free
  char* b = static_cast<char*>(alloc_malloc(13));
  b[13] = 1;  // overflow into the canary: reported at free, the block leaked
  alloc_free(b);
  alignas(16) char local[64];
  alloc_free(local);  // foreign
  errno = 0;
  EXPECT_EQ(alloc_realloc(a, 100), nullptr);  // realloc of a freed block
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(alloc_usable_size(local), 0u);
  void* z = alloc_malloc(0);
  alloc_free(z);
  alloc_free(z);  // double free of a 0-byte block
  std::string err = testing::internal::GetCapturedStderr();
  b[13] = static_cast<char>(0xcb);  // the canary byte again: b can be freed now
  alloc_free(b);
  EXPECT_EQ(alloc_check_heap(), 0);
  EXPECT_EQ(count_lines(err, "alloc: "), 6u) << err;
  EXPECT_EQ(count_lines(err, "alloc: double free detected at"), 1u) << err;
  EXPECT_EQ(count_lines(err, "alloc: use after free detected (a freed block passed to realloc"), 1u) << err;
  EXPECT_EQ(count_lines(err, "alloc: heap buffer overflow detected"), 1u) << err;
  EXPECT_EQ(count_lines(err, "alloc: invalid free (not a pointer returned by malloc)"), 1u) << err;
  EXPECT_EQ(count_lines(err, "alloc: invalid pointer passed to malloc_usable_size"), 1u) << err;
  EXPECT_EQ(count_lines(err, "alloc: double free detected (0-byte block)"), 1u) << err;
  // The allocator still works.
  void* c = alloc_malloc(40);
  ASSERT_NE(c, nullptr);
  alloc_free(c);
}

TEST(InhouseDebug, CheckHeapFindsOverflowUnderflowAndWriteAfterFree) {
  EXPECT_EQ(alloc_check_heap(), 0);
  char* p = static_cast<char*>(alloc_malloc(40));
  char* q = static_cast<char*>(alloc_malloc(100));
  char* big = static_cast<char*>(alloc_malloc(200000));  // own mapping
  char* aligned = static_cast<char*>(alloc_aligned(256, 24));
  EXPECT_EQ(alloc_check_heap(), 0);

  testing::internal::CaptureStderr();
  char saved = p[40];
  p[40] = 0;  // the canary
  EXPECT_EQ(alloc_check_heap(), 1);
  p[40] = saved;
  saved = big[200000];
  big[200000] = 0;
  EXPECT_EQ(alloc_check_heap(), 1);
  big[200000] = saved;
  saved = aligned[-3];
  aligned[-3] = 0x55;  // inside the header's size field
  EXPECT_EQ(alloc_check_heap(), 1);
  aligned[-3] = saved;
  alloc_free(q);  // quarantined, and zeroed (ALLOC_DEBUG_ZERO_ON_FREE=1)
  for (int i = 0; i < 100; ++i) ASSERT_EQ(q[i], 0) << i;
  q[50] = 'u';  // write after free
  EXPECT_EQ(alloc_check_heap(), 1);
  q[50] = 0;
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_lines(err, "alloc: heap buffer overflow detected"), 2u) << err;
  EXPECT_EQ(count_lines(err, "alloc: heap buffer underflow detected"), 1u) << err;
  EXPECT_EQ(count_lines(err, "alloc: write after free detected"), 1u) << err;

  EXPECT_EQ(alloc_check_heap(), 0);
  alloc_free(p);
  alloc_free(big);
  alloc_free(aligned);
  EXPECT_EQ(alloc_check_heap(), 0);
  alloc_trim();
  EXPECT_EQ(alloc_check_heap(), 0);
}

// Other threads allocate, free and reallocate while the check runs again
// and again: it must neither report a block caught mid-operation nor hang.
TEST(InhouseDebug, CheckHeapIsExactWhileOtherThreadsAllocate) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ops{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
      std::vector<char*> live(256, nullptr);
      while (!stop.load(std::memory_order_relaxed)) {
        size_t i = rng() % live.size();
        size_t n = rng() % 8 == 0 ? rng() % 300000 : rng() % 2000;
        if (live[i] == nullptr) {
          live[i] = static_cast<char*>(alloc_malloc(n));
          memset(live[i], 'a', n);
        } else if (rng() % 4 == 0) {
          char* r = static_cast<char*>(alloc_realloc(live[i], n + 1));
          if (r != nullptr) live[i] = r;
        } else {
          alloc_free(live[i]);
          live[i] = nullptr;
        }
        ops.fetch_add(1, std::memory_order_relaxed);
      }
      for (char* p : live) alloc_free(p);
    });
  }
  // Until 10 checks have run and the workers have done 5000 operations
  // (counts, not a time: sanitizer builds are many times slower).
  int checks = 0;
  int problems = 0;
  auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while ((checks < 10 || ops.load() < 5000) && std::chrono::steady_clock::now() < limit) {
    problems += alloc_check_heap();
    ++checks;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (auto& w : workers) w.join();
  EXPECT_EQ(problems, 0);
  EXPECT_GE(checks, 10);
  EXPECT_GE(ops.load(), 5000u) << "the workers were starved";
  EXPECT_EQ(alloc_check_heap(), 0);
}

}  // namespace
