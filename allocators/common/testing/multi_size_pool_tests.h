// Tests every multi-size pool must pass (pool_tls, pool_sharded,
// pool_lockfree). A test file defines the pool type P, which must have
//   explicit P(size_t max_bytes); void* allocate(size_t, size_t);
//   void deallocate(void*, size_t, size_t); static size_t usable_size(const void*);
//   pool_family_stats_t stats(); void thread_flush();
//   void* resize(void*, size_t); size_t trim();
// a constructor taking (max_bytes, large_cache_bytes) or
// (max_bytes, shards, large_cache_bytes), and then instantiates:
// INSTANTIATE_MULTI_SIZE_POOL_TESTS(Name, P).
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_TESTING_MULTI_SIZE_POOL_TESTS_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_TESTING_MULTI_SIZE_POOL_TESTS_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "allocators/common/pmr_support.h"
#include "allocators/common/pool_stats.h"
#include "allocators/common/segment.h"
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

// A pool with the given byte limit and large-block cache bound.
template <typename P>
std::unique_ptr<P> make_pool_with_cache(size_t max_bytes, size_t large_cache_bytes) {
  if constexpr (std::is_constructible_v<P, size_t, unsigned, size_t>) {
    return std::make_unique<P>(max_bytes, 0u, large_cache_bytes);
  } else {
    return std::make_unique<P>(max_bytes, large_cache_bytes);
  }
}

// Writes a word derived from `tag` at the start of every 4 KiB page of the
// block, and its low byte at the last byte, so a check notices any other
// block's pages aliasing these.
inline void stamp_pages(void* p, size_t size, uint64_t tag) {
  auto* b = static_cast<unsigned char*>(p);
  for (size_t o = 0; o + 8 <= size; o += 4096) {
    uint64_t v = tag * 0x9E3779B97F4A7C15ull ^ o;
    std::memcpy(b + o, &v, 8);
  }
  if (size > 0) b[size - 1] = static_cast<unsigned char>(tag);
}

// True if the first `size` bytes still carry stamp_pages(p, stamped_size, tag).
inline bool pages_intact(const void* p, size_t size, size_t stamped_size, uint64_t tag) {
  auto* b = static_cast<const unsigned char*>(p);
  for (size_t o = 0; o + 8 <= size && o + 8 <= stamped_size; o += 4096) {
    uint64_t v;
    std::memcpy(&v, b + o, 8);
    if (v != (tag * 0x9E3779B97F4A7C15ull ^ o)) return false;
  }
  if (size >= stamped_size && stamped_size > 0) {
    return b[stamped_size - 1] == static_cast<unsigned char>(tag);
  }
  return true;
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

TYPED_TEST_P(MultiSizePoolTest, FreedLargeBlockIsReusedWithoutNewMapping) {
  TypeParam pool(SIZE_MAX);
  char* a = static_cast<char*>(pool.allocate(700000, 64));
  ASSERT_NE(a, nullptr);
  std::memset(a, 'A', 700000);
  size_t mapped = pool.stats().mapped_bytes;
  pool.deallocate(a, 700000, 64);
  pool_family_stats_t st = pool.stats();
  EXPECT_EQ(st.fallback_live_blocks, 0u);
  EXPECT_EQ(st.allocated_bytes, 0u);
  EXPECT_GE(st.fallback_cached_bytes, 700000u) << "the freed block is kept for reuse";
  EXPECT_EQ(st.mapped_bytes, mapped);
  // A similar size with another alignment reuses the same mapping.
  char* b = static_cast<char*>(pool.allocate(690000, 4096));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 4096, 0u);
  EXPECT_EQ(allocbench::detail::segment_of(b), allocbench::detail::segment_of(a));
  EXPECT_GE(TypeParam::usable_size(b), 690000u);
  std::memset(b, 'B', 690000);
  st = pool.stats();
  EXPECT_EQ(st.mapped_bytes, mapped) << "no new mapping";
  EXPECT_EQ(st.fallback_cached_bytes, 0u);
  EXPECT_EQ(st.fallback_allocations, 2u);
  EXPECT_EQ(st.fallback_live_blocks, 1u);
  // A much smaller request does not take a cached block over twice its size.
  pool.deallocate(b, 690000, 4096);
  char* c = static_cast<char*>(pool.allocate(270000, 16));
  ASSERT_NE(c, nullptr);
  EXPECT_NE(allocbench::detail::segment_of(c), allocbench::detail::segment_of(a));
  pool.deallocate(c, 270000, 16);
  EXPECT_EQ(pool.stats().allocated_blocks, 0u);
}

TYPED_TEST_P(MultiSizePoolTest, LargeBlockReuseKeepsContentsAndNeverOverlaps) {
  TypeParam pool(SIZE_MAX);
  struct Block {
    char* p;
    size_t size;
    size_t alignment;
    uint64_t tag;
  };
  std::vector<Block> live;
  std::mt19937_64 rng(42);
  const size_t aligns[] = {16, 64, 4096, 65536};
  uint64_t next_tag = 1;
  size_t resized = 0, copied = 0;
  for (int step = 0; step < 600; ++step) {
    if (live.size() < 12 && (live.empty() || rng() % 2 == 0)) {
      double f = std::uniform_real_distribution<double>(0, 1)(rng);
      size_t size = static_cast<size_t>(262145.0 * std::pow(12.0, f));  // 256 KiB .. 3 MiB
      size_t al = aligns[rng() % 4];
      char* p = static_cast<char*>(pool.allocate(size, al));
      ASSERT_NE(p, nullptr);
      ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % al, 0u);
      for (const Block& b : live) {
        ASSERT_TRUE(p + size <= b.p || b.p + b.size <= p) << "overlaps a live block";
      }
      stamp_pages(p, size, next_tag);
      live.push_back({p, size, al, next_tag++});
      continue;
    }
    size_t i = rng() % live.size();
    Block& b = live[i];
    ASSERT_TRUE(pages_intact(b.p, b.size, b.size, b.tag)) << "contents of a live block changed";
    if (rng() % 3 == 0) {
      size_t n = rng() % 2 == 0 ? b.size + b.size / 2 : b.size / 2;
      char* q = static_cast<char*>(pool.resize(b.p, n));
      if (q == nullptr) {  // A cached block fits: the caller copies into it.
        q = static_cast<char*>(pool.allocate(n, b.alignment));
        ASSERT_NE(q, nullptr);
        std::memcpy(q, b.p, std::min(n, b.size));
        pool.deallocate(b.p, b.size, b.alignment);
        ++copied;
      }
      ASSERT_EQ(reinterpret_cast<uintptr_t>(q) % b.alignment, 0u);
      ASSERT_GE(TypeParam::usable_size(q), n);
      ASSERT_TRUE(pages_intact(q, std::min(n, b.size), b.size, b.tag)) << "resize lost contents";
      b.p = q;
      b.size = n;
      b.tag = next_tag++;
      stamp_pages(q, n, b.tag);
      ++resized;
      continue;
    }
    pool.deallocate(b.p, b.size, b.alignment);
    live[i] = live.back();
    live.pop_back();
  }
  EXPECT_GT(resized, 50u);
  EXPECT_GT(copied, 0u) << "some growths went into a cached block";
  EXPECT_LT(copied, resized) << "some growths moved pages or fit in place";
  for (const Block& b : live) {
    EXPECT_TRUE(pages_intact(b.p, b.size, b.size, b.tag));
    pool.deallocate(b.p, b.size, b.alignment);
  }
  pool_family_stats_t st = pool.stats();
  EXPECT_EQ(st.fallback_live_blocks, 0u);
  EXPECT_EQ(st.allocated_bytes, 0u);
  EXPECT_LE(st.fallback_cached_bytes, allocbench::detail::kDefaultLargeCacheBytes);
  EXPECT_EQ(st.mapped_bytes, st.fallback_cached_bytes) << "only cached large blocks stay mapped";
  EXPECT_LT(st.fallback_allocations, 600u);
}

TYPED_TEST_P(MultiSizePoolTest, LargeCacheIsBoundedAndTrimGivesItBack) {
  const size_t limit = size_t{4} << 20;
  auto pool = make_pool_with_cache<TypeParam>(SIZE_MAX, limit);
  std::vector<void*> v;
  for (int i = 0; i < 10; ++i) {
    v.push_back(pool->allocate(1 << 20, 16));
    ASSERT_NE(v.back(), nullptr);
    static_cast<char*>(v.back())[0] = 1;
  }
  EXPECT_GE(pool->stats().mapped_bytes, size_t{10} << 20);
  for (void* p : v) pool->deallocate(p, 1 << 20, 16);
  v.clear();
  pool_family_stats_t st = pool->stats();
  EXPECT_GT(st.fallback_cached_bytes, 0u);
  EXPECT_LE(st.fallback_cached_bytes, limit) << "the cache keeps at most its bound";
  EXPECT_EQ(st.mapped_bytes, st.fallback_cached_bytes) << "the rest was unmapped";
  // A block larger than the whole bound is unmapped at once.
  void* huge = pool->allocate(size_t{6} << 20, 16);
  ASSERT_NE(huge, nullptr);
  pool->deallocate(huge, size_t{6} << 20, 16);
  EXPECT_EQ(pool->stats().fallback_cached_bytes, st.fallback_cached_bytes);
  EXPECT_EQ(pool->stats().mapped_bytes, st.mapped_bytes);
  // trim() gives every cached block back.
  EXPECT_EQ(pool->trim(), st.fallback_cached_bytes);
  st = pool->stats();
  EXPECT_EQ(st.fallback_cached_bytes, 0u);
  EXPECT_EQ(st.mapped_bytes, 0u);

  // The number of cached blocks is bounded too.
  auto wide = make_pool_with_cache<TypeParam>(SIZE_MAX, size_t{1} << 30);
  for (unsigned i = 0; i < allocbench::detail::SegmentSource::kLargeCacheSlots + 20; ++i) {
    v.push_back(wide->allocate(300000, 16));
    ASSERT_NE(v.back(), nullptr);
  }
  for (void* p : v) wide->deallocate(p, 300000, 16);
  v.clear();
  EXPECT_EQ(wide->stats().fallback_cached_bytes,
            allocbench::detail::SegmentSource::kLargeCacheSlots *
                allocbench::detail::large_mapping_bytes(300000 +
                                                        allocbench::detail::kSegmentHeaderBytes));

  // A bound below the smallest large block keeps nothing.
  auto none = make_pool_with_cache<TypeParam>(SIZE_MAX, 1);
  void* p = none->allocate(1 << 20, 16);
  ASSERT_NE(p, nullptr);
  none->deallocate(p, 1 << 20, 16);
  EXPECT_EQ(none->stats().fallback_cached_bytes, 0u);
  EXPECT_EQ(none->stats().mapped_bytes, 0u);
}

TYPED_TEST_P(MultiSizePoolTest, UnusedCachedLargeBlocksDecay) {
  TypeParam pool(SIZE_MAX);
  void* old_block = pool.allocate(size_t{2} << 20, 16);
  ASSERT_NE(old_block, nullptr);
  pool.deallocate(old_block, size_t{2} << 20, 16);
  size_t old_bytes = pool.stats().fallback_cached_bytes;
  EXPECT_GT(old_bytes, size_t{2} << 20);
  std::this_thread::sleep_for(std::chrono::nanoseconds(allocbench::detail::kLargeCacheDecayNs) +
                              std::chrono::milliseconds(100));
  void* fresh = pool.allocate(300000, 16);  // Too small to take the cached 2 MiB block.
  ASSERT_NE(fresh, nullptr);
  pool.deallocate(fresh, 300000, 16);  // This free unmaps the block unused for too long.
  pool_family_stats_t st = pool.stats();
  EXPECT_GT(st.fallback_cached_bytes, 0u);
  EXPECT_LT(st.fallback_cached_bytes, old_bytes) << "the stale block was given back";
  EXPECT_EQ(st.mapped_bytes, st.fallback_cached_bytes);
}

TYPED_TEST_P(MultiSizePoolTest, ByteLimitDropsTheLargeCacheBeforeFailing) {
  TypeParam pool(size_t{8} << 20);
  std::vector<void*> v;
  for (int i = 0; i < 3; ++i) {
    v.push_back(pool.allocate(size_t{3} << 19, 16));  // 1.5 MiB
    ASSERT_NE(v.back(), nullptr);
  }
  for (void* p : v) pool.deallocate(p, size_t{3} << 19, 16);
  EXPECT_GT(pool.stats().fallback_cached_bytes, size_t{4} << 20);
  void* big = pool.allocate(size_t{3} << 20, 16);  // Fits only once the cache is dropped.
  ASSERT_NE(big, nullptr);
  pool_family_stats_t st = pool.stats();
  EXPECT_EQ(st.fallback_cached_bytes, 0u);
  EXPECT_LE(st.mapped_bytes, size_t{8} << 20);
  pool.deallocate(big, size_t{3} << 20, 16);
}

TYPED_TEST_P(MultiSizePoolTest, ResizeMovesLargeBlocksAndKeepsClassBlocks) {
  TypeParam pool(SIZE_MAX);
  unsigned char* p = static_cast<unsigned char*>(pool.allocate(300000, 4096));
  ASSERT_NE(p, nullptr);
  for (size_t i = 0; i < 300000; ++i) p[i] = static_cast<unsigned char>(i % 251);
  unsigned char* q = static_cast<unsigned char*>(pool.resize(p, size_t{5} << 20));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(q) % 4096, 0u);
  EXPECT_GE(TypeParam::usable_size(q), size_t{5} << 20);
  size_t bad = 0;
  for (size_t i = 0; i < 300000; ++i) bad += q[i] != static_cast<unsigned char>(i % 251);
  EXPECT_EQ(bad, 0u) << "contents moved with the pages";
  q[(size_t{5} << 20) - 1] = 7;
  EXPECT_EQ(pool.resize(q, 1000), q) << "shrinking keeps the block";
  pool_family_stats_t st = pool.stats();
  EXPECT_EQ(st.fallback_live_blocks, 1u);
  EXPECT_GE(st.allocated_bytes, size_t{5} << 20);
  void* r = pool.allocate(1000, 16);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(pool.resize(r, 10), r);
  EXPECT_EQ(pool.resize(r, TypeParam::usable_size(r)), r);
  EXPECT_EQ(pool.resize(r, 100000), nullptr) << "a class block never changes class in place";
  pool.deallocate(q, size_t{5} << 20, 4096);
  pool.deallocate(r, 1000, 16);
  st = pool.stats();
  EXPECT_EQ(st.allocated_blocks, 0u);
  EXPECT_EQ(st.allocated_bytes, 0u);
}

TYPED_TEST_P(MultiSizePoolTest, LargeBlocksAcrossThreadsNeverOverlap) {
  TypeParam pool(SIZE_MAX);
  std::mutex mu;
  std::map<uintptr_t, size_t> live;  // Start -> size of every live block. Guarded by mu.
  struct Handoff {
    char* p;
    size_t size;
    uint64_t tag;
  };
  std::vector<Handoff> queue;  // Blocks waiting for another thread to free. Guarded by mu.
  size_t overlaps = 0, corruptions = 0, failures = 0;
  auto worker = [&](unsigned id) {
    std::mt19937_64 rng(1000 + id);
    for (int i = 0; i < 150; ++i) {
      size_t size = 262145 + rng() % (size_t{3} << 20);
      char* p = static_cast<char*>(pool.allocate(size, rng() % 2 ? 64 : 16));
      if (p == nullptr) {
        std::lock_guard<std::mutex> lock(mu);
        ++failures;
        continue;
      }
      uint64_t tag = (uint64_t{id} << 32) | static_cast<uint64_t>(i);
      stamp_pages(p, size, tag);
      Handoff other{nullptr, 0, 0};
      {
        std::lock_guard<std::mutex> lock(mu);
        auto it = live.lower_bound(reinterpret_cast<uintptr_t>(p));
        if (it != live.end() && it->first < reinterpret_cast<uintptr_t>(p) + size) ++overlaps;
        if (it != live.begin() &&
            std::prev(it)->first + std::prev(it)->second > reinterpret_cast<uintptr_t>(p)) {
          ++overlaps;
        }
        live.emplace(reinterpret_cast<uintptr_t>(p), size);
        queue.push_back({p, size, tag});
        if (queue.size() > 6) {
          size_t k = rng() % queue.size();
          other = queue[k];
          queue[k] = queue.back();
          queue.pop_back();
          live.erase(reinterpret_cast<uintptr_t>(other.p));
        }
      }
      if (other.p != nullptr) {
        if (!pages_intact(other.p, other.size, other.size, other.tag)) {
          std::lock_guard<std::mutex> lock(mu);
          ++corruptions;
        }
        pool.deallocate(other.p, other.size, 16);
      }
    }
    pool.thread_flush();
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 4; ++t) threads.emplace_back(worker, t);
  for (auto& t : threads) t.join();
  EXPECT_EQ(overlaps, 0u);
  EXPECT_EQ(corruptions, 0u);
  EXPECT_EQ(failures, 0u);
  for (const Handoff& h : queue) {
    EXPECT_TRUE(pages_intact(h.p, h.size, h.size, h.tag));
    pool.deallocate(h.p, h.size, 16);
  }
  pool_family_stats_t st = pool.stats();
  EXPECT_EQ(st.fallback_live_blocks, 0u);
  EXPECT_EQ(st.fallback_allocations, 600u - failures);
  EXPECT_LE(st.fallback_cached_bytes, allocbench::detail::kDefaultLargeCacheBytes);
  EXPECT_LE(st.mapped_bytes, st.fallback_cached_bytes);
}

REGISTER_TYPED_TEST_SUITE_P(
    MultiSizePoolTest, EverySizeAndAlignment, ClassBoundariesAndContents, ExhaustionAtTheByteLimit,
    GrowsBySegments, StatsCountBlocksBytesAndFallback, ThreadExitGivesCachedBlocksBack,
    CrossThreadFreesAreNotLost, SeveralPoolsAndDestroyWhileAThreadHoldsState, PmrAndStlContainers,
    FreedLargeBlockIsReusedWithoutNewMapping, LargeBlockReuseKeepsContentsAndNeverOverlaps,
    LargeCacheIsBoundedAndTrimGivesItBack, UnusedCachedLargeBlocksDecay,
    ByteLimitDropsTheLargeCacheBeforeFailing, ResizeMovesLargeBlocksAndKeepsClassBlocks,
    LargeBlocksAcrossThreadsNeverOverlap);

}  // namespace testing
}  // namespace allocbench

#define INSTANTIATE_MULTI_SIZE_POOL_TESTS(Name, P) \
  INSTANTIATE_TYPED_TEST_SUITE_P(Name, MultiSizePoolTest, ::testing::Types<P>)

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_TESTING_MULTI_SIZE_POOL_TESTS_H_
