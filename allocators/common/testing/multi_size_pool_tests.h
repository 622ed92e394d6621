// Tests every multi-size pool must pass (pool_tls, pool_sharded,
// pool_lockfree). A test file defines the pool type P, which must have
//   explicit P(size_t max_bytes); void* allocate(size_t, size_t);
//   void deallocate(void*, size_t, size_t); static size_t usable_size(const void*);
//   pool_family_stats_t stats(); void thread_flush();
// and then instantiates: INSTANTIATE_MULTI_SIZE_POOL_TESTS(Name, P).
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_TESTING_MULTI_SIZE_POOL_TESTS_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_TESTING_MULTI_SIZE_POOL_TESTS_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "allocators/common/pmr_support.h"
#include "allocators/common/pool_stats.h"
#include "allocators/common/size_classes.h"
#include "allocators/common/testing/stress_harness.h"

namespace allocbench {
namespace testing {

template <typename P>
class MultiSizePoolTest : public ::testing::Test {};
TYPED_TEST_SUITE_P(MultiSizePoolTest);

struct Live {
  uintptr_t addr;
  size_t size;
  size_t alignment;
};

// No two live blocks overlap.
inline size_t count_overlaps(std::vector<Live> v) {
  std::sort(v.begin(), v.end(), [](const Live& a, const Live& b) { return a.addr < b.addr; });
  size_t n = 0;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i - 1].addr + std::max<size_t>(v[i - 1].size, 1) > v[i].addr) ++n;
  }
  return n;
}

TYPED_TEST_P(MultiSizePoolTest, EverySizeAndAlignment) {
  TypeParam pool(SIZE_MAX);
  std::vector<Live> live;
  std::vector<size_t> sizes = {0,      1,      7,      8,       15,      16,     17,
                               100,    128,    129,    1000,    4096,    5000,   65536,
                               100000, 262144, 262145, 1 << 20, 3 << 20, 5 << 20};
  for (size_t al = 1; al <= (size_t{1} << 16); al <<= 1) {
    for (size_t s : sizes) {
      void* p = pool.allocate(s, al);
      ASSERT_NE(p, nullptr) << s << " @" << al;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % al, 0u) << s << " @" << al;
      EXPECT_GE(TypeParam::usable_size(p), s);
      if (s > 0) {
        static_cast<char*>(p)[0] = 'a';
        static_cast<char*>(p)[s - 1] = 'z';
      }
      live.push_back({reinterpret_cast<uintptr_t>(p), s, al});
    }
  }
  EXPECT_EQ(count_overlaps(live), 0u);
  pool_family_stats_t st = pool.stats();
  EXPECT_EQ(st.allocated_blocks, live.size());
  EXPECT_GT(st.fallback_allocations, 0u) << "sizes above 256 KiB take the fallback path";
  for (const Live& l : live) pool.deallocate(reinterpret_cast<void*>(l.addr), l.size, l.alignment);
  st = pool.stats();
  EXPECT_EQ(st.allocated_blocks, 0u);
  EXPECT_EQ(st.allocated_bytes, 0u);
  EXPECT_EQ(st.fallback_live_blocks, 0u);
}

TYPED_TEST_P(MultiSizePoolTest, ClassBoundariesAndContents) {
  TypeParam pool(SIZE_MAX);
  std::vector<std::pair<char*, size_t>> blocks;
  for (unsigned c = 0; c < allocbench::detail::kNumClasses; ++c) {
    for (size_t s : {allocbench::detail::class_size(c) - 1, allocbench::detail::class_size(c),
                     allocbench::detail::class_size(c) + 1}) {
      char* p = static_cast<char*>(pool.allocate(s, 16));
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
      std::memset(p, static_cast<int>(s & 0xFF), s);
      blocks.emplace_back(p, s);
    }
  }
  for (auto& b : blocks) {
    EXPECT_EQ(static_cast<unsigned char>(b.first[0]), static_cast<unsigned char>(b.second));
    EXPECT_EQ(static_cast<unsigned char>(b.first[b.second - 1]),
              static_cast<unsigned char>(b.second));
  }
  for (auto& b : blocks) pool.deallocate(b.first, b.second, 16);
  EXPECT_EQ(pool.stats().allocated_blocks, 0u);
}

TYPED_TEST_P(MultiSizePoolTest, ExhaustionAtTheByteLimit) {
  TypeParam pool(size_t{1} << 20);
  std::vector<void*> v;
  for (int i = 0; i < 100000; ++i) {
    void* p = pool.allocate(1000, 16);
    if (p == nullptr) break;
    v.push_back(p);
  }
  EXPECT_GT(v.size(), 100u);
  EXPECT_LT(v.size(), 1100u) << "a 1 MiB limit holds at most ~1000 blocks of 1 KiB";
  EXPECT_EQ(pool.allocate(2 << 20, 16), nullptr) << "the fallback path respects the limit too";
  EXPECT_LE(pool.stats().mapped_bytes, size_t{1} << 20);
  pool.deallocate(v.back(), 1000, 16);
  v.pop_back();
  void* again = pool.allocate(1000, 16);
  EXPECT_NE(again, nullptr) << "a freed block is reused";
  v.push_back(again);
  for (void* p : v) pool.deallocate(p, 1000, 16);
}

TYPED_TEST_P(MultiSizePoolTest, GrowsBySegments) {
  TypeParam pool(SIZE_MAX);
  size_t before = pool.stats().mapped_bytes;
  std::vector<void*> v;
  std::set<void*> seen;
  for (int i = 0; i < 50000; ++i) {
    void* p = pool.allocate(64, 16);
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(seen.insert(p).second) << "handed out twice";
    v.push_back(p);
  }
  EXPECT_GE(pool.stats().mapped_bytes, before + 50000 * 64);
  EXPECT_EQ(pool.stats().allocated_bytes, 50000u * 64);
  for (void* p : v) pool.deallocate(p, 64, 16);
  EXPECT_EQ(pool.stats().allocated_blocks, 0u);
}

TYPED_TEST_P(MultiSizePoolTest, StatsCountBlocksBytesAndFallback) {
  TypeParam pool(SIZE_MAX);
  void* a = pool.allocate(10, 16);       // class 16
  void* b = pool.allocate(100, 16);      // class 112
  void* c = pool.allocate(1 << 20, 16);  // fallback
  pool_family_stats_t st = pool.stats();
  EXPECT_EQ(st.allocated_blocks, 3u);
  EXPECT_GE(st.allocated_bytes, 16u + 112u + (1u << 20));
  EXPECT_EQ(st.fallback_live_blocks, 1u);
  EXPECT_EQ(st.fallback_allocations, 1u);
  EXPECT_GE(st.mapped_bytes, size_t{1} << 20);
  pool.deallocate(c, 1 << 20, 16);
  st = pool.stats();
  EXPECT_EQ(st.fallback_live_blocks, 0u);
  EXPECT_EQ(st.fallback_allocations, 1u);
  EXPECT_EQ(st.allocated_bytes, 16u + 112u);
  pool.deallocate(a, 10, 16);
  pool.deallocate(b, 100, 16);
  st = pool.stats();
  EXPECT_EQ(st.allocated_blocks, 0u);
  EXPECT_GE(st.cached_blocks + st.shared_free_blocks, 2u);
}

TYPED_TEST_P(MultiSizePoolTest, ThreadExitGivesCachedBlocksBack) {
  TypeParam pool(SIZE_MAX);
  std::set<void*> first_round;
  std::thread t([&] {
    std::vector<void*> v;
    for (int i = 0; i < 300; ++i) v.push_back(pool.allocate(48, 16));
    for (void* p : v) {
      first_round.insert(p);
      pool.deallocate(p, 48, 16);
    }
  });
  t.join();
  pool_family_stats_t st = pool.stats();
  EXPECT_EQ(st.allocated_blocks, 0u);
  EXPECT_EQ(st.cached_blocks, 0u) << "no thread-private blocks once the thread has exited";
  EXPECT_GE(st.shared_free_blocks, 300u) << "the blocks are back where any thread can take them";
  size_t mapped = st.mapped_bytes;
  std::thread t2([&] {
    std::vector<void*> v;
    size_t reused = 0;
    for (int i = 0; i < 300; ++i) {
      v.push_back(pool.allocate(48, 16));
      reused += first_round.count(v.back());
    }
    EXPECT_GT(reused, 0u) << "a new thread gets the returned blocks";
    for (void* p : v) pool.deallocate(p, 48, 16);
    pool.thread_flush();
    EXPECT_EQ(pool.stats().cached_blocks, 0u) << "explicit flush";
  });
  t2.join();
  EXPECT_EQ(pool.stats().mapped_bytes, mapped);
}

TYPED_TEST_P(MultiSizePoolTest, CrossThreadFreesAreNotLost) {
  TypeParam pool(SIZE_MAX);
  for (int round = 0; round < 5; ++round) {
    std::vector<void*> v;
    std::thread producer([&] {
      for (int i = 0; i < 5000; ++i) {
        void* p = pool.allocate(32 + (i % 7) * 100, 16);
        std::memset(p, 1, 32);
        v.push_back(p);
      }
    });
    producer.join();
    std::thread consumer([&] {
      for (size_t i = 0; i < v.size(); ++i) pool.deallocate(v[i], 32 + (i % 7) * 100, 16);
    });
    consumer.join();
    EXPECT_EQ(pool.stats().allocated_blocks, 0u);
  }
  // Five rounds reuse the same memory rather than mapping more each time.
  EXPECT_LT(pool.stats().mapped_bytes, size_t{40} << 20);
}

TYPED_TEST_P(MultiSizePoolTest, SeveralPoolsAndDestroyWhileAThreadHoldsState) {
  auto a = std::make_unique<TypeParam>(SIZE_MAX);
  auto b = std::make_unique<TypeParam>(SIZE_MAX);
  std::mutex mu;
  std::condition_variable cv;
  int stage = 0;
  std::thread t([&] {
    void* pa = a->allocate(64, 16);
    void* pb = b->allocate(64, 16);
    a->deallocate(pa, 64, 16);
    b->deallocate(pb, 64, 16);
    std::unique_lock<std::mutex> lock(mu);
    stage = 1;
    cv.notify_all();
    cv.wait(lock, [&] { return stage == 2; });
    void* again = b->allocate(64, 16);  // b is still alive.
    EXPECT_EQ(again, pb);
    b->deallocate(again, 64, 16);
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return stage == 1; });
  }
  a.reset();                                       // Destroyed while t holds state for it.
  auto c = std::make_unique<TypeParam>(SIZE_MAX);  // May reuse a's address.
  void* pc = c->allocate(64, 16);
  EXPECT_EQ(c->stats().allocated_blocks, 1u);
  {
    std::lock_guard<std::mutex> lock(mu);
    stage = 2;
  }
  cv.notify_all();
  t.join();
  c->deallocate(pc, 64, 16);
  EXPECT_EQ(b->stats().allocated_blocks, 0u);
}

TYPED_TEST_P(MultiSizePoolTest, PmrAndStlContainers) {
  TypeParam pool(SIZE_MAX);
  {
    BackendResource<TypeParam> res(&pool);
    std::pmr::vector<std::pmr::string> v(&res);
    for (int i = 0; i < 2000; ++i) v.emplace_back(std::string(i % 300, 'x'));
    EXPECT_EQ(v[1999].size(), 1999u % 300);
    std::pmr::unordered_map<int, std::pmr::vector<int>> m(&res);
    for (int i = 0; i < 3000; ++i) m[i].assign(i % 50, i);
    EXPECT_EQ(m.at(2999).size(), 2999u % 50);
    using IntAlloc = BackendAllocator<int, TypeParam>;
    std::vector<int, IntAlloc> big{IntAlloc(&pool)};
    big.resize(1 << 20, 3);  // 4 MiB: the fallback path, through vector growth.
    EXPECT_EQ(big.back(), 3);
    using CharAlloc = BackendAllocator<char, TypeParam>;
    std::basic_string<char, std::char_traits<char>, CharAlloc> s{CharAlloc(&pool)};
    for (int i = 0; i < 1000; ++i) s += "abc";
    EXPECT_EQ(s.size(), 3000u);
    using PairAlloc = BackendAllocator<std::pair<const int, int>, TypeParam>;
    std::unordered_map<int, int, std::hash<int>, std::equal_to<int>, PairAlloc> um{
        16, std::hash<int>(), std::equal_to<int>(), PairAlloc(&pool)};
    for (int i = 0; i < 5000; ++i) um[i] = 2 * i;
    EXPECT_EQ(um.at(4999), 9998);
    EXPECT_GT(pool.stats().allocated_blocks, 5000u);
  }
  EXPECT_EQ(pool.stats().allocated_blocks, 0u) << "containers gave everything back";
}

REGISTER_TYPED_TEST_SUITE_P(MultiSizePoolTest, EverySizeAndAlignment, ClassBoundariesAndContents,
                            ExhaustionAtTheByteLimit, GrowsBySegments,
                            StatsCountBlocksBytesAndFallback, ThreadExitGivesCachedBlocksBack,
                            CrossThreadFreesAreNotLost,
                            SeveralPoolsAndDestroyWhileAThreadHoldsState, PmrAndStlContainers);

}  // namespace testing
}  // namespace allocbench

#define INSTANTIATE_MULTI_SIZE_POOL_TESTS(Name, P) \
  INSTANTIATE_TYPED_TEST_SUITE_P(Name, MultiSizePoolTest, ::testing::Types<P>)

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_TESTING_MULTI_SIZE_POOL_TESTS_H_
