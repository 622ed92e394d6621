// pool: exhaustion, growth, stats, thread exit returning cached blocks,
// cross-thread frees, alignment, several pools at once, destroy while another
// thread holds a cache, pmr and STL containers.
#include "allocators/pool/pool.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "allocators/common/pmr_support.h"

namespace allocbench {
namespace {

TEST(Pool, CreateAllocFreeDestroy) {
  mempool_t* p = pool_create(256, 100, 10000);
  ASSERT_NE(p, nullptr);
  void* b = pool_alloc(p);
  ASSERT_NE(b, nullptr);
  std::memset(b, 0x5A, 256);
  EXPECT_EQ(pool_free(p, b), POOL_OK);
  pool_destroy(p);
  EXPECT_EQ(pool_create(0, 10, 10), nullptr);
  EXPECT_EQ(pool_free(nullptr, b), POOL_ERR_INVALID_ARG);
}

TEST(Pool, ExhaustionWithoutGrowth) {
  mempool_t* p = pool_create(64, 16, 100);
  std::set<void*> seen;
  for (int i = 0; i < 100; ++i) {
    void* b = pool_alloc(p);
    ASSERT_NE(b, nullptr) << i;
    EXPECT_TRUE(seen.insert(b).second);
  }
  EXPECT_EQ(pool_alloc(p), nullptr);
  for (void* b : seen) EXPECT_EQ(pool_free(p, b), POOL_OK);
  for (int i = 0; i < 100; ++i) ASSERT_NE(pool_alloc(p), nullptr) << "freed blocks come back";
  pool_destroy(p);
}

TEST(Pool, GrowthWhenEnabled) {
  pool_options_t o{64, 16, 50, POOL_FLAG_GROW};
  mempool_t* p = pool_create_ex(&o);
  std::vector<void*> v;
  for (int i = 0; i < 2000; ++i) {
    void* b = pool_alloc(p);
    ASSERT_NE(b, nullptr) << i;
    v.push_back(b);
  }
  size_t allocated = 0, free_count = 0;
  pool_stats(p, &allocated, &free_count);
  EXPECT_EQ(allocated, 2000u);
  for (void* b : v) EXPECT_EQ(pool_free(p, b), POOL_OK);
  pool_stats(p, &allocated, &free_count);
  EXPECT_EQ(allocated, 0u);
  EXPECT_GE(free_count, 2000u);
  pool_destroy(p);
}

TEST(Pool, StatsCountCachedBlocksAsFree) {
  mempool_t* p = pool_create(128, 32, 1000);
  size_t allocated = 9, free_count = 0;
  ASSERT_EQ(pool_stats(p, &allocated, &free_count), POOL_OK);
  EXPECT_EQ(allocated, 0u);
  EXPECT_EQ(free_count, 1000u);
  std::vector<void*> v;
  for (int i = 0; i < 10; ++i) v.push_back(pool_alloc(p));
  pool_stats(p, &allocated, &free_count);
  EXPECT_EQ(allocated, 10u);
  EXPECT_EQ(free_count, 990u);
  for (int i = 0; i < 4; ++i) pool_free(p, v[i]);
  pool_stats(p, &allocated, &free_count);
  EXPECT_EQ(allocated, 6u);
  EXPECT_EQ(free_count, 994u);
  auto* pool = reinterpret_cast<Pool*>(p);
  EXPECT_GT(pool->stats().cached, 0u) << "the refill left blocks in this thread's cache";
  EXPECT_EQ(pool_stats(p, nullptr, &free_count), POOL_ERR_INVALID_ARG);
  pool_destroy(p);
}

TEST(Pool, ThreadExitGivesCachedBlocksBack) {
  mempool_t* p = pool_create(64, 64, 1000);
  auto* pool = reinterpret_cast<Pool*>(p);
  std::thread t([&] {
    std::vector<void*> v;
    for (int i = 0; i < 50; ++i) v.push_back(pool_alloc(p));
    for (void* b : v) pool_free(p, b);
    EXPECT_GT(pool->stats().cached, 0u);
  });
  t.join();
  Pool::Stats s = pool->stats();
  // The exit hook emptied the thread's magazine: its two full halves of 32
  // wait in the depot for any thread, the rest went back to the slab.
  EXPECT_EQ(s.cached, 64u);
  EXPECT_EQ(s.allocated, 0u);
  EXPECT_EQ(s.in_slab, 1000u - 64u);
  pool_thread_flush(p);  // Also gives the depot back to the slab.
  s = pool->stats();
  EXPECT_EQ(s.cached, 0u);
  EXPECT_EQ(s.in_slab, 1000u);
  // Explicit flush empties the magazine without ending the thread.
  void* b = pool_alloc(p);
  pool_free(p, b);
  EXPECT_GT(pool->stats().cached, 0u);
  pool_thread_flush(p);
  EXPECT_EQ(pool->stats().cached, 0u);
  pool_destroy(p);
}

TEST(Pool, CrossThreadFreesAreNotLost) {
  mempool_t* p = pool_create(64, 8, 200);
  std::vector<void*> v;
  for (int i = 0; i < 200; ++i) v.push_back(pool_alloc(p));
  EXPECT_EQ(pool_alloc(p), nullptr);
  std::thread t([&] {
    for (void* b : v) EXPECT_EQ(pool_free(p, b), POOL_OK);
  });
  t.join();
  // The other thread has exited; all 200 blocks are back in the slab.
  std::set<void*> again;
  for (int i = 0; i < 200; ++i) {
    void* b = pool_alloc(p);
    ASSERT_NE(b, nullptr) << i;
    again.insert(b);
  }
  EXPECT_EQ(again.size(), 200u);
  pool_destroy(p);
}

TEST(Pool, InvalidFreeIsRejected) {
  mempool_t* p = pool_create(64, 8, 16);
  void* b = pool_alloc(p);
  int x = 0;
  EXPECT_EQ(pool_free(p, &x), POOL_ERR_NOT_A_BLOCK);
  EXPECT_EQ(pool_free(p, static_cast<char*>(b) + 1), POOL_ERR_NOT_A_BLOCK);
  EXPECT_EQ(pool_free(p, nullptr), POOL_ERR_NOT_A_BLOCK);
  EXPECT_EQ(pool_free(p, b), POOL_OK);
  pool_destroy(p);
}

TEST(Pool, Alignment) {
  for (size_t bs : {8u, 24u, 64u, 100u, 4096u}) {
    mempool_t* p = pool_create(bs, 8, 64);
    for (int i = 0; i < 64; ++i) {
      void* b = pool_alloc(p);
      ASSERT_NE(b, nullptr);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 16, 0u) << bs;
    }
    pool_destroy(p);
  }
  pool_options_t o{40, 8, 64, POOL_FLAG_CACHE_ALIGN};
  mempool_t* p = pool_create_ex(&o);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(reinterpret_cast<uintptr_t>(pool_alloc(p)) % 64, 0u);
  pool_destroy(p);
}

TEST(Pool, SeveralPoolsOnOneThread) {
  mempool_t* a = pool_create(64, 16, 100);
  mempool_t* b = pool_create(128, 16, 100);
  for (int round = 0; round < 3; ++round) {
    std::vector<void*> va, vb;
    for (int i = 0; i < 100; ++i) {
      va.push_back(pool_alloc(a));
      vb.push_back(pool_alloc(b));
      ASSERT_NE(va.back(), nullptr);
      ASSERT_NE(vb.back(), nullptr);
    }
    for (int i = 0; i < 100; ++i) {
      EXPECT_EQ(pool_free(a, va[i]), POOL_OK);
      EXPECT_EQ(pool_free(b, vb[i]), POOL_OK);
      EXPECT_EQ(pool_free(b, va[i]), POOL_ERR_NOT_A_BLOCK) << "a's block is not b's";
    }
  }
  pool_destroy(a);
  mempool_t* c = pool_create(64, 16, 100);  // May reuse a's address: must not see a's cache.
  EXPECT_NE(pool_alloc(c), nullptr);
  size_t allocated = 0, free_count = 0;
  pool_stats(c, &allocated, &free_count);
  EXPECT_EQ(allocated, 1u);
  pool_destroy(b);
  pool_destroy(c);
}

// A thread caches blocks of p, then of `kept`; p is destroyed while it still
// does, and q is created in its place (it may reuse p's address). The
// thread's exit hook must skip p, go on to give back its cache of `kept` in
// full, and leave q alone.
TEST(Pool, DestroyWhileAnotherThreadHoldsACache) {
  mempool_t* kept = pool_create(64, 32, 100);
  mempool_t* p = pool_create(64, 32, 100);
  std::mutex mu;
  std::condition_variable cv;
  int stage = 0;
  std::thread t([&] {
    for (mempool_t* pool : {p, kept}) {
      void* b = pool_alloc(pool);
      EXPECT_NE(b, nullptr);
      if (b != nullptr) {
        EXPECT_EQ(pool_free(pool, b), POOL_OK);  // Now this thread caches blocks of pool.
      }
    }
    std::unique_lock<std::mutex> lock(mu);
    stage = 1;
    cv.notify_all();
    cv.wait(lock, [&] { return stage == 2; });
    // Exits after p is gone, holding caches of p and kept.
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return stage == 1; });
  }
  EXPECT_GT(reinterpret_cast<Pool*>(p)->stats().cached, 0u) << "the thread holds a cache of p";
  EXPECT_GT(reinterpret_cast<Pool*>(kept)->stats().cached, 0u);
  pool_destroy(p);
  mempool_t* q = pool_create(64, 32, 100);
  ASSERT_NE(q, nullptr);
  {
    std::lock_guard<std::mutex> lock(mu);
    stage = 2;
  }
  cv.notify_all();
  t.join();
  for (mempool_t* pool : {kept, q}) {
    SCOPED_TRACE(pool == kept ? "kept" : "q");
    Pool::Stats s = reinterpret_cast<Pool*>(pool)->stats();
    // No thread cache is left: kept's full half waits in its depot.
    EXPECT_EQ(s.cached, pool == kept ? 16u : 0u);
    EXPECT_EQ(s.allocated, 0u);
    EXPECT_EQ(s.in_slab + s.cached, 100u);
    EXPECT_EQ(s.capacity, 100u);
    // Every block comes back exactly once, and nothing more.
    std::set<void*> blocks;
    for (int i = 0; i < 100; ++i) {
      void* b = pool_alloc(pool);
      ASSERT_NE(b, nullptr) << i;
      EXPECT_TRUE(blocks.insert(b).second) << "block handed out twice";
    }
    EXPECT_EQ(pool_alloc(pool), nullptr);
    for (void* b : blocks) EXPECT_EQ(pool_free(pool, b), POOL_OK);
  }
  pool_destroy(q);
  pool_destroy(kept);
}

TEST(Pool, NoThreadCache) {
  mempool_t* p = pool_create(64, 0, 10);
  std::vector<void*> v;
  for (int i = 0; i < 10; ++i) v.push_back(pool_alloc(p));
  EXPECT_EQ(pool_alloc(p), nullptr);
  for (void* b : v) EXPECT_EQ(pool_free(p, b), POOL_OK);
  size_t allocated = 1, free_count = 0;
  pool_stats(p, &allocated, &free_count);
  EXPECT_EQ(allocated, 0u);
  pool_destroy(p);
}

TEST(Pool, PmrAndStlContainers) {
  Pool::Options o;
  o.block_size = 4096;
  o.total_blocks = 512;
  Pool* p = Pool::create(o);
  {
    BackendResource<Pool> res(p);
    std::pmr::vector<double> v(&res);
    for (int i = 0; i < 500; ++i) v.push_back(i * 0.5);
    EXPECT_EQ(v[499], 249.5);
    std::pmr::unordered_map<int, int> m(&res);
    for (int i = 0; i < 200; ++i) m[i] = i + 1;
    EXPECT_EQ(m.at(199), 200);
    using CharAlloc = BackendAllocator<char, Pool>;
    std::basic_string<char, std::char_traits<char>, CharAlloc> s{CharAlloc(p)};
    s.assign(2000, 'z');
    EXPECT_EQ(s[1999], 'z');
    EXPECT_GT(p->stats().allocated, 0u);
  }
  EXPECT_EQ(p->stats().allocated, 0u);
  Pool::destroy(p);
}

}  // namespace
}  // namespace allocbench
