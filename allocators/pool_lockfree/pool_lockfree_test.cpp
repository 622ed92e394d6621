// pool_lockfree: the shared multi-size pool tests plus its C API, remote
// frees and heap adoption.
#include "allocators/pool_lockfree/pool_lockfree.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "allocators/common/testing/multi_size_pool_tests.h"

namespace allocbench {
namespace testing {
INSTANTIATE_MULTI_SIZE_POOL_TESTS(PoolLockFree, PoolLockFree);
}  // namespace testing

namespace {

TEST(PoolLockFreeApi, CApiRoundTrip) {
  pool_lockfree_t* p = pool_lockfree_create();
  ASSERT_NE(p, nullptr);
  void* a = pool_lockfree_alloc(p, 100);
  void* b = pool_lockfree_alloc_aligned(p, 10, 65536);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 65536, 0u);
  EXPECT_EQ(pool_lockfree_usable_size(p, a), 112u);
  pool_family_stats_t st;
  ASSERT_EQ(pool_lockfree_stats(p, &st), 0);
  EXPECT_EQ(st.allocated_blocks, 2u);
  pool_lockfree_free(p, a);
  pool_lockfree_free(p, b);
  pool_lockfree_thread_flush(p);
  pool_lockfree_stats(p, &st);
  EXPECT_EQ(st.allocated_blocks, 0u);
  EXPECT_EQ(st.cached_blocks, 0u);
  pool_lockfree_destroy(p);
}

TEST(PoolLockFreeApi, RemoteFreesReturnToTheOwner) {
  PoolLockFree pool;
  std::vector<void*> v;
  for (int i = 0; i < 1000; ++i) v.push_back(pool.allocate(64, 16));
  std::set<void*> mine(v.begin(), v.end());
  std::thread other([&] {
    for (void* p : v) pool.deallocate(p, 64, 16);
  });
  other.join();
  pool_family_stats_t st = pool.stats();
  EXPECT_EQ(st.allocated_blocks, 0u);
  EXPECT_GE(st.shared_free_blocks, 1000u) << "waiting on this heap's remote list";
  size_t mapped = st.mapped_bytes;
  size_t reused = 0;
  for (int i = 0; i < 1000; ++i) reused += mine.count(pool.allocate(64, 16));
  EXPECT_GT(reused, 900u) << "the owner took the remote list back";
  EXPECT_EQ(pool.stats().mapped_bytes, mapped);
}

}  // namespace
}  // namespace allocbench
