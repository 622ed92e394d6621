// Unit tests of the MemoryPool strategies, scopes, reset, statistics,
// FixedSizeAllocator, CustomAllocator with STL containers, and the baseline
// and sharded front ends.
#include "allocators/mempool/mempool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <list>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace allocbench {
namespace {

struct Live {
  unsigned char* p;
  size_t size;
  unsigned char tag;
};

bool intact(const Live& b) {
  for (size_t i = 0; i < b.size; ++i) {
    if (b.p[i] != b.tag) return false;
  }
  return true;
}

class StrategyTest : public ::testing::TestWithParam<AllocationStrategy> {};

TEST_P(StrategyTest, RandomMixedSizesKeepContents) {
  MemoryPool pool(GetParam());
  EXPECT_EQ(pool.strategy(), GetParam());
  std::mt19937_64 rng(42);
  std::vector<Live> live;
  for (int i = 0; i < 20000; ++i) {
    if (live.empty() || rng() % 100 < 55) {
      uint32_t k = rng() % 100;
      size_t size = k < 40   ? rng() % 129
                    : k < 90 ? 129 + rng() % 4000
                    : k < 99 ? rng() % 200000
                             : 300000 + rng() % 100000;
      size_t align = rng() % 8 == 0 ? size_t{32} << (rng() % 7) : 16;
      auto* p = static_cast<unsigned char*>(pool.allocate(size, align));
      ASSERT_NE(p, nullptr);
      ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u);
      ASSERT_GE(MemoryPool::usable_size(p), size);
      ASSERT_EQ(MemoryPool::owner_of(p), &pool);
      Live b{p, size, static_cast<unsigned char>(rng())};
      std::memset(p, b.tag, size);
      live.push_back(b);
    } else {
      size_t idx = rng() % live.size();
      ASSERT_TRUE(intact(live[idx])) << "op " << i;
      pool.deallocate(live[idx].p);
      live[idx] = live.back();
      live.pop_back();
    }
    if (GetParam() == AllocationStrategy::BEST_FIT && i % 50 == 0) {
      ASSERT_EQ(pool.check(), "") << "op " << i;
    }
  }
  EXPECT_EQ(pool.live_blocks(), live.size());
  for (const Live& b : live) {
    ASSERT_TRUE(intact(b));
    pool.deallocate(b.p);
  }
  EXPECT_EQ(pool.live_blocks(), 0u);
  EXPECT_EQ(pool.stats().current_bytes(), 0u);
  EXPECT_EQ(pool.check(), "");
}

TEST_P(StrategyTest, AlignmentSweepAndZeroSize) {
  MemoryPool pool(GetParam());
  for (size_t align = 1; align <= MemoryPool::kMaxAlignment; align <<= 1) {
    for (size_t size :
         {size_t{0}, size_t{1}, size_t{32}, size_t{100}, size_t{5000}, size_t{300000}}) {
      auto* p = static_cast<unsigned char*>(pool.allocate(size, align));
      ASSERT_NE(p, nullptr);
      ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % (align < 16 ? 16 : align), 0u)
          << "size " << size << " align " << align;
      std::memset(p, 0x77, size);
      pool.deallocate(p);
    }
  }
  void* a = pool.allocate(0);
  void* b = pool.allocate(0);
  EXPECT_NE(a, b);
  pool.deallocate(a);
  pool.deallocate(b);
  EXPECT_EQ(pool.allocate(8, 3), nullptr);
  EXPECT_EQ(pool.allocate(8, MemoryPool::kMaxAlignment * 2), nullptr);
  EXPECT_EQ(pool.live_blocks(), 0u);
}

TEST_P(StrategyTest, FreedBlocksAreReused) {
  MemoryPool pool(GetParam());
  void* p = pool.allocate(100);
  pool.deallocate(p);
  EXPECT_EQ(pool.allocate(100), p);
  pool.deallocate(p);
}

INSTANTIATE_TEST_SUITE_P(AllStrategies, StrategyTest,
                         ::testing::Values(AllocationStrategy::BEST_FIT,
                                           AllocationStrategy::FIXED_SIZE,
                                           AllocationStrategy::POOL_BASED,
                                           AllocationStrategy::SEGREGATED),
                         [](const ::testing::TestParamInfo<AllocationStrategy>& info) {
                           return std::string(strategy_name(info.param));
                         });

TEST(MemoryPoolBestFit, PicksSmallestFittingHoleAndCoalesces) {
  MemoryPool pool(AllocationStrategy::BEST_FIT);
  // [a 1000][g1][b 500][g2][c 2000][g3]
  void* a = pool.allocate(1000);
  void* g1 = pool.allocate(16);
  void* b = pool.allocate(500);
  void* g2 = pool.allocate(16);
  void* c = pool.allocate(2000);
  void* g3 = pool.allocate(16);
  pool.deallocate(a);
  pool.deallocate(b);
  pool.deallocate(c);
  ASSERT_EQ(pool.check(), "");
  EXPECT_EQ(pool.allocate(400), b) << "best fit should take the 500-byte hole";
  EXPECT_EQ(pool.allocate(900), a);
  EXPECT_EQ(pool.allocate(1500), c);
  ASSERT_EQ(pool.check(), "");
  pool.deallocate(a);
  pool.deallocate(g1);
  pool.deallocate(b);  // merges with g1+a before it
  ASSERT_EQ(pool.check(), "");
  // a, g1 and b form one block now.
  EXPECT_EQ(pool.allocate(1000 + 16 + 500), a);
  pool.deallocate(a);
  pool.deallocate(c);
  pool.deallocate(g2);  // merges both neighbours
  pool.deallocate(g3);
  ASSERT_EQ(pool.check(), "");
  EXPECT_EQ(pool.live_blocks(), 0u);
  // Everything coalesced back: the first block spans the chunk again.
  EXPECT_EQ(pool.allocate(200000), a);
}

TEST(MemoryPoolFixedSize, SmallSizesUseFixedAllocatorsLargerFallBack) {
  MemoryPool pool(AllocationStrategy::FIXED_SIZE);
  void* s = pool.allocate(20);
  void* m = pool.allocate(100);
  EXPECT_EQ(MemoryPool::usable_size(s), 32u);
  EXPECT_EQ(MemoryPool::usable_size(m), 128u);
  EXPECT_EQ(pool.fallback_allocations(), 0u);
  void* big = pool.allocate(1000);
  EXPECT_EQ(pool.fallback_allocations(), 1u);
  EXPECT_GE(MemoryPool::usable_size(big), 1000u);
  pool.deallocate(s);
  pool.deallocate(m);
  pool.deallocate(big);
  EXPECT_EQ(pool.allocate(32), s);
  EXPECT_EQ(pool.allocate(128), m);
}

TEST(FixedSizeAllocator, ChunksOf64KAndReuse) {
  FixedSizeAllocator<32> small;
  FixedSizeAllocator<128> medium;
  const size_t per_chunk =
      (FixedSizeAllocator<32>::kChunkBytes - 64) / FixedSizeAllocator<32>::kSlotBytes;
  std::vector<void*> blocks;
  for (size_t i = 0; i < per_chunk; ++i) blocks.push_back(small.allocate());
  EXPECT_EQ(small.chunk_count(), 1u);
  blocks.push_back(small.allocate());
  EXPECT_EQ(small.chunk_count(), 2u);
  for (void* p : blocks) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
    std::memset(p, 1, 32);
  }
  void* last = blocks.back();
  small.deallocate(last);
  EXPECT_EQ(small.allocate(), last);
  void* q = medium.allocate();
  std::memset(q, 2, 128);
  medium.deallocate(q);
  medium.reset();
  EXPECT_EQ(medium.chunk_count(), 0u);

  // Thread-safe through allocate()/deallocate().
  FixedSizeAllocator<128> shared;
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<unsigned char*> mine;
      for (int r = 0; r < 50; ++r) {
        for (int i = 0; i < 100; ++i) {
          auto* p = static_cast<unsigned char*>(shared.allocate());
          std::memset(p, t + 1, 128);
          mine.push_back(p);
        }
        for (unsigned char* p : mine) {
          for (int i = 0; i < 128; ++i) bad += p[i] != t + 1;
          shared.deallocate(p);
        }
        mine.clear();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(MemoryPoolScope, NestedScopesFreeOnlyTheirBlocks) {
  for (AllocationStrategy s : {AllocationStrategy::BEST_FIT, AllocationStrategy::FIXED_SIZE,
                               AllocationStrategy::POOL_BASED, AllocationStrategy::SEGREGATED}) {
    MemoryPool pool(s);
    EXPECT_EQ(pool.end_scope(), 0u) << "no scope open";
    auto* before = static_cast<char*>(pool.allocate(64));
    std::strcpy(before, "kept");
    pool.begin_scope();
    auto* a = static_cast<char*>(pool.allocate(100));
    std::strcpy(a, "outer");
    pool.begin_scope();
    EXPECT_EQ(pool.scope_depth(), 2u);
    void* b = pool.allocate(200);
    void* c = pool.allocate(300000, 4096);  // large and aligned
    void* d = pool.allocate(24);
    pool.deallocate(b);  // freed by hand inside the scope: not freed twice
    (void)c;
    (void)d;
    EXPECT_EQ(pool.end_scope(), 2u);  // c and d
    EXPECT_EQ(pool.live_blocks(), 2u);
    EXPECT_STREQ(a, "outer");
    void* e = pool.allocate(5000);
    (void)e;
    EXPECT_EQ(pool.end_scope(), 2u);  // a and e
    EXPECT_EQ(pool.scope_depth(), 0u);
    EXPECT_EQ(pool.live_blocks(), 1u);
    EXPECT_STREQ(before, "kept");
    pool.deallocate(before);
    EXPECT_EQ(pool.live_blocks(), 0u);
    EXPECT_EQ(pool.stats().current_bytes(), 0u);
    EXPECT_EQ(pool.check(), "");
  }
}

TEST(MemoryPoolReset, ReleasesEverything) {
  for (AllocationStrategy s : {AllocationStrategy::BEST_FIT, AllocationStrategy::FIXED_SIZE,
                               AllocationStrategy::POOL_BASED, AllocationStrategy::SEGREGATED}) {
    MemoryPool pool(s);
    pool.begin_scope();
    for (int i = 0; i < 1000; ++i) std::memset(pool.allocate(1 + i * 37 % 3000), 1, 1);
    void* big = pool.allocate(1 << 20);
    std::memset(big, 2, 1 << 20);
    EXPECT_GT(pool.bytes_mapped(), 0u);
    pool.reset();
    EXPECT_EQ(pool.live_blocks(), 0u);
    EXPECT_EQ(pool.bytes_mapped(), 0u);
    EXPECT_EQ(pool.scope_depth(), 0u);
    EXPECT_EQ(pool.stats().resets, 1u);
    EXPECT_EQ(pool.stats().current_bytes(), 0u);
    void* p = pool.allocate(100);
    ASSERT_NE(p, nullptr);
    std::memset(p, 3, 100);
    pool.deallocate(p);
  }
}

TEST(AllocationStats, PerThreadStatsMergeAndPrint) {
  MemoryPool pool(AllocationStrategy::SEGREGATED);
  AllocationStats per_thread[2];
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      std::vector<void*> v;
      for (int i = 0; i < 10 * (t + 1); ++i) v.push_back(pool.allocate(100));
      for (int i = 0; i < 5; ++i) {
        pool.deallocate(v.back());
        v.pop_back();
      }
      per_thread[t] = AllocationStats::this_thread();
      for (void* p : v) pool.deallocate(p);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(per_thread[0].allocations, 10u);
  EXPECT_EQ(per_thread[1].allocations, 20u);
  EXPECT_EQ(per_thread[0].deallocations, 5u);
  EXPECT_EQ(per_thread[0].bytes_allocated, 10u * 112);  // capacity of the 112-byte class
  AllocationStats merged = per_thread[0];
  merged.merge(per_thread[1]);
  EXPECT_EQ(merged.allocations, 30u);
  EXPECT_EQ(merged.deallocations, 10u);
  EXPECT_EQ(merged.current_bytes(), 20u * 112);
  EXPECT_EQ(merged.peak_bytes, per_thread[0].peak_bytes + per_thread[1].peak_bytes);
  std::ostringstream out;
  merged.print(out);
  EXPECT_NE(out.str().find("allocations=30"), std::string::npos) << out.str();
  EXPECT_EQ(pool.stats().allocations, 30u);
  EXPECT_EQ(pool.stats().deallocations, 30u);
}

// --- CustomAllocator and STL containers (run under ASan) ---

template <typename T>
using CA = CustomAllocator<T>;
using CString = std::basic_string<char, std::char_traits<char>, CA<char>>;

struct Node24 {
  void* a;
  void* b;
  long c;
};
struct Big200 {
  char bytes[200];
};
struct Huge8K {
  char bytes[8192];
};

static_assert(CA<int>::kStrategy == AllocationStrategy::SEGREGATED, "scalars: segregated");
static_assert(CA<char>::kStrategy == AllocationStrategy::SEGREGATED, "chars: segregated");
static_assert(CA<Node24>::kStrategy == AllocationStrategy::FIXED_SIZE, "24-byte POD: fixed");
static_assert(CA<std::string>::kStrategy == AllocationStrategy::FIXED_SIZE, "nodes: fixed");
static_assert(CA<Big200>::kStrategy == AllocationStrategy::POOL_BASED, "mid: pool");
static_assert(CA<Huge8K>::kStrategy == AllocationStrategy::BEST_FIT, "large: best fit");

TEST(CustomAllocator, VectorMapUnorderedMapString) {
  std::vector<int, CA<int>> v;
  for (int i = 0; i < 100000; ++i) v.push_back(i * 3);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(v[i], i * 3);
  v.resize(10);
  v.shrink_to_fit();
  EXPECT_EQ(v.back(), 27);

  std::map<int, CString, std::less<int>, CA<std::pair<const int, CString>>> m;
  for (int i = 0; i < 5000; ++i) m.emplace(i, CString(static_cast<size_t>(i % 300), 'a' + i % 26));
  for (int i = 0; i < 5000; i += 2) m.erase(i);
  for (const auto& kv : m) {
    ASSERT_EQ(kv.second.size(), static_cast<size_t>(kv.first % 300));
    if (!kv.second.empty()) {
      ASSERT_EQ(kv.second[0], 'a' + kv.first % 26);
    }
  }

  std::unordered_map<int, long, std::hash<int>, std::equal_to<int>, CA<std::pair<const int, long>>>
      um;
  for (int i = 0; i < 50000; ++i) um[i] = i * 7L;
  for (int i = 0; i < 50000; i += 3) um.erase(i);
  for (int i = 0; i < 50000; ++i) {
    if (i % 3 == 0) {
      ASSERT_EQ(um.count(i), 0u);
    } else {
      ASSERT_EQ(um.at(i), i * 7L);
    }
  }

  CString s;
  for (int i = 0; i < 10000; ++i) s += static_cast<char>('0' + i % 10);
  EXPECT_EQ(s.size(), 10000u);
  EXPECT_EQ(s[9999], '9');
  CString copy = s.substr(100, 5000);
  EXPECT_EQ(copy[0], '0');

  std::list<Big200, CA<Big200>> l(100);
  std::vector<Huge8K, CA<Huge8K>> hv(5);
  hv[4].bytes[8191] = 9;
  EXPECT_EQ(hv[4].bytes[8191], 9);
}

// A container built on one thread and destroyed on another, after the first
// thread exited: its blocks go back to the (orphaned) pool of the first.
TEST(CustomAllocator, CrossThreadDestruction) {
  auto* v = new std::vector<long, CA<long>>();
  auto* m = new std::map<int, int, std::less<int>, CA<std::pair<const int, int>>>();
  std::thread([&] {
    for (int i = 0; i < 10000; ++i) v->push_back(i);
    for (int i = 0; i < 1000; ++i) (*m)[i] = -i;
  }).join();
  long sum = 0;
  for (long x : *v) sum += x;
  EXPECT_EQ(sum, 10000L * 9999 / 2);
  EXPECT_EQ(m->at(999), -999);
  delete v;
  delete m;
}

TEST(Frontends, BaselineAndShardedBasics) {
  MempoolBaseline base;
  MempoolSharded sharded(8);
  EXPECT_EQ(sharded.shard_count(), 8u);
  for (size_t align = 16; align <= (size_t{64} << 10); align <<= 2) {
    for (size_t size : {size_t{0}, size_t{8}, size_t{300}, size_t{70000}, size_t{400000}}) {
      auto* p = static_cast<unsigned char*>(base.allocate(size, align));
      auto* q = static_cast<unsigned char*>(sharded.allocate(size, align));
      ASSERT_NE(p, nullptr);
      ASSERT_NE(q, nullptr);
      ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u);
      ASSERT_EQ(reinterpret_cast<uintptr_t>(q) % align, 0u);
      std::memset(p, 1, size);
      std::memset(q, 2, size);
      base.deallocate(p);
      sharded.deallocate(q);
    }
  }
  // Blocks remember their shard; a free from another thread returns there.
  void* p = sharded.allocate(100);
  size_t home = MempoolSharded::shard_of(p);
  size_t other_home = 0;
  std::thread([&] {
    void* q = sharded.allocate(100);
    other_home = MempoolSharded::shard_of(q);
    sharded.deallocate(p);
    sharded.deallocate(q);
  }).join();
  EXPECT_NE(home, other_home) << "two threads should get different home shards";
  EXPECT_EQ(sharded.allocate(100), p) << "freed block should be back in its own shard";
  sharded.deallocate(p);
  EXPECT_GT(base.bytes_mapped(), 0u);
  EXPECT_GT(sharded.bytes_mapped(), 0u);
}

// Large blocks: a freed mapping is reused for a similar request, reuse keeps
// what is written (including across reallocate-style copies), the cache stays
// bounded, and trim()/reset() give it back.
template <typename Pool>
void check_large_cache(Pool& pool, size_t (*cached)(Pool&), void (*trim)(Pool&)) {
  const size_t big = 700000;
  auto* a = static_cast<unsigned char*>(pool.allocate(big));
  ASSERT_NE(a, nullptr);
  std::memset(a, 0x5A, big);
  pool.deallocate(a);
  EXPECT_GT(cached(pool), 0u);
  auto* b = static_cast<unsigned char*>(pool.allocate(big - 5000, 4096));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 4096, 0u);
  EXPECT_EQ(cached(pool), 0u) << "the cached mapping was taken";
  for (size_t i = 0; i < big - 5000; i += 61) b[i] = static_cast<unsigned char>(i);
  for (int round = 0; round < 10; ++round) {
    void* c = pool.allocate(big + static_cast<size_t>(round) * 30000);
    ASSERT_NE(c, nullptr);
    std::memset(c, 0xC3, big);
    pool.deallocate(c);
  }
  for (size_t i = 0; i < big - 5000; i += 61) ASSERT_EQ(b[i], static_cast<unsigned char>(i));
  pool.deallocate(b);
  std::vector<void*> blocks;
  for (int i = 0; i < 120; ++i) {
    void* p = pool.allocate(size_t{1} << 20);
    ASSERT_NE(p, nullptr);
    static_cast<unsigned char*>(p)[0] = 1;
    blocks.push_back(p);
  }
  for (void* p : blocks) pool.deallocate(p);
  EXPECT_GT(cached(pool), 0u);
  EXPECT_LE(cached(pool), detail::kLargeMappingCacheBytes);
  trim(pool);
  EXPECT_EQ(cached(pool), 0u);
}

TEST(LargeCache, MemoryPoolBaselineAndSharded) {
  MemoryPool pool(AllocationStrategy::SEGREGATED);
  check_large_cache<MemoryPool>(
      pool, [](MemoryPool& p) { return p.large_cached_bytes(); }, [](MemoryPool& p) { p.reset(); });
  EXPECT_EQ(pool.bytes_mapped(), 0u) << "reset gives the cache back";
  MempoolBaseline base;
  check_large_cache<MempoolBaseline>(
      base, [](MempoolBaseline& p) { return p.large_cached_bytes(); },
      [](MempoolBaseline& p) { p.trim(); });
  MempoolSharded sharded(4);
  check_large_cache<MempoolSharded>(
      sharded, [](MempoolSharded& p) { return p.large_cached_bytes(); },
      [](MempoolSharded& p) { p.trim(); });
}

}  // namespace
}  // namespace allocbench
