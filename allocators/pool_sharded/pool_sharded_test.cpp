// pool_sharded: the shared multi-size pool tests plus its C API and shards.
#include "allocators/pool_sharded/pool_sharded.h"

#include <gtest/gtest.h>

#include <thread>

#include "allocators/common/testing/multi_size_pool_tests.h"

namespace allocbench {
namespace testing {
INSTANTIATE_MULTI_SIZE_POOL_TESTS(PoolSharded, PoolSharded);
}  // namespace testing

namespace {

TEST(PoolShardedApi, CApiRoundTrip) {
  pool_sharded_options_t o{0, 4, 0};
  pool_sharded_t* p = pool_sharded_create_ex(&o);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<PoolSharded*>(p)->shard_count(), 4u);
  void* a = pool_sharded_alloc(p, 100);
  void* b = pool_sharded_alloc_aligned(p, 10, 1024);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 1024, 0u);
  EXPECT_EQ(pool_sharded_usable_size(p, a), 112u);
  pool_family_stats_t st;
  ASSERT_EQ(pool_sharded_stats(p, &st), 0);
  EXPECT_EQ(st.allocated_blocks, 2u);
  pool_sharded_free(p, a);
  pool_sharded_free(p, b);
  pool_sharded_stats(p, &st);
  EXPECT_EQ(st.allocated_blocks, 0u);
  EXPECT_EQ(st.cached_blocks, 0u);
  pool_sharded_destroy(p);
}

TEST(PoolShardedApi, EmptyShardStealsInsteadOfGrowing) {
  PoolSharded pool(SIZE_MAX, 4);
  // A producer thread allocates, a consumer on another shard frees: the
  // blocks land in the consumer's shard; the producer must steal them back.
  std::vector<void*> v(20000);
  std::thread producer([&] {
    for (auto& p : v) p = pool.allocate(64, 16);
  });
  producer.join();
  size_t mapped = pool.stats().mapped_bytes;
  for (int round = 0; round < 5; ++round) {
    std::thread consumer([&] {
      for (void* p : v) pool.deallocate(p, 64, 16);
    });
    consumer.join();
    std::thread producer2([&] {
      for (auto& p : v) p = pool.allocate(64, 16);
    });
    producer2.join();
  }
  EXPECT_EQ(pool.stats().mapped_bytes, mapped) << "freed blocks were reused, not new memory";
  for (void* p : v) pool.deallocate(p, 64, 16);
}

}  // namespace
}  // namespace allocbench
