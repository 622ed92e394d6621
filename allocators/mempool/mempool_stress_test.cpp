// Multithreaded stress (not a benchmark) of mempool_baseline, mempool_sharded
// and a shared MemoryPool of each strategy: 4 threads allocate and free at
// random through a shared slot array, so most frees are cross-thread; every
// block's contents are verified before it is freed. 10 million operations in
// total in full mode, far fewer with ALLOCBENCH_QUICK=1.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "allocators/common/testing/shared_slot_stress.h"
#include "allocators/common/testing/stress_harness.h"
#include "allocators/mempool/mempool.h"

namespace allocbench {
namespace {

using testing::quick_mode;

// Mixed sizes: mostly small, some medium, rare large (own mapping).
size_t pick_size(std::mt19937_64& rng) {
  uint32_t k = rng() % 1000;
  if (k < 600) return 16 + rng() % 113;
  if (k < 950) return 129 + rng() % 4000;
  if (k < 998) return 4096 + rng() % 60000;
  return 270000 + rng() % 100000;
}

template <typename Alloc>
void run_stress(Alloc& alloc, uint64_t total_ops, uint64_t seed) {
  testing::SharedSlotOutcome o = testing::run_shared_slot_stress(alloc, pick_size, total_ops, seed);
  EXPECT_EQ(o.corrupt, 0u);
  EXPECT_EQ(o.failed, 0u);
}

uint64_t ops(uint64_t full) { return quick_mode() ? full / 30 : full; }

TEST(MempoolStress, Baseline) {
  MempoolBaseline a;
  run_stress(a, ops(3000000), 1);
}

TEST(MempoolStress, Sharded) {
  MempoolSharded a;
  run_stress(a, ops(3000000), 2);
}

TEST(MempoolStress, ShardedTwoShardsForcesContention) {
  MempoolSharded a(2);
  run_stress(a, ops(600000), 3);
}

TEST(MempoolStress, SharedMemoryPoolEveryStrategy) {
  for (AllocationStrategy s : {AllocationStrategy::BEST_FIT, AllocationStrategy::FIXED_SIZE,
                               AllocationStrategy::POOL_BASED, AllocationStrategy::SEGREGATED}) {
    MemoryPool pool(s);
    run_stress(pool, ops(850000), 10 + static_cast<uint64_t>(s));
    EXPECT_EQ(pool.live_blocks(), 0u) << strategy_name(s);
    EXPECT_EQ(pool.check(), "") << strategy_name(s);
  }
}

}  // namespace
}  // namespace allocbench
