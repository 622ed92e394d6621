// pool_tls: the shared multi-size pool tests plus its C API and the
// thread-cache specifics.
#include "allocators/pool_tls/pool_tls.h"

#include <gtest/gtest.h>

#include "allocators/common/testing/multi_size_pool_tests.h"

namespace allocbench {
namespace testing {
INSTANTIATE_MULTI_SIZE_POOL_TESTS(PoolTls, PoolTls);
}  // namespace testing

namespace {

TEST(PoolTlsApi, CApiRoundTrip) {
  pool_tls_t* p = pool_tls_create();
  ASSERT_NE(p, nullptr);
  void* a = pool_tls_alloc(p, 100);
  void* b = pool_tls_alloc_aligned(p, 100, 4096);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 4096, 0u);
  EXPECT_EQ(pool_tls_alloc_aligned(p, 8, 3), nullptr);
  EXPECT_EQ(pool_tls_usable_size(p, a), 112u);
  pool_family_stats_t st;
  ASSERT_EQ(pool_tls_stats(p, &st), 0);
  EXPECT_EQ(st.allocated_blocks, 2u);
  pool_tls_free(p, a);
  pool_tls_free(p, b);
  pool_tls_free(p, nullptr);
  pool_tls_thread_flush(p);
  pool_tls_stats(p, &st);
  EXPECT_EQ(st.allocated_blocks, 0u);
  EXPECT_EQ(st.cached_blocks, 0u);
  EXPECT_EQ(pool_tls_stats(p, nullptr), -1);
  pool_tls_destroy(p);
}

TEST(PoolTlsApi, ThreadCacheIsBoundedAndSpillsBatches) {
  PoolTls pool;
  std::vector<void*> v;
  for (int i = 0; i < 10000; ++i) v.push_back(pool.allocate(64, 16));
  for (void* p : v) pool.deallocate(p, 64, 16);
  pool_family_stats_t st = pool.stats();
  unsigned c = detail::class_of(64);
  EXPECT_LE(st.cached_blocks, 2u * detail::class_batch(c)) << "the cache spills past 2 batches";
  EXPECT_GE(st.shared_free_blocks, 10000u - 2u * detail::class_batch(c));
}

}  // namespace
}  // namespace allocbench
