// The stress run shared by the multi-size pools' stress tests (see
// stress_harness.h): mostly small sizes, some medium, rare fallback-sized
// blocks, some over-aligned requests; afterwards every block is accounted for.
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_TESTING_MULTI_SIZE_POOL_STRESS_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_TESTING_MULTI_SIZE_POOL_STRESS_H_

#include <gtest/gtest.h>

#include <cstdint>

#include "allocators/common/pool_stats.h"
#include "allocators/common/testing/stress_harness.h"

namespace allocbench {
namespace testing {

// The stress run for a multi-size pool: mostly small sizes, some medium, rare
// fallback-sized blocks, some over-aligned requests.
template <typename P>
void run_multi_size_stress(int threads) {
  P pool(SIZE_MAX);
  StressConfig cfg;
  cfg.threads = threads;
  cfg.total_ops = stress_ops();
  cfg.max_live_per_thread = 256;
  cfg.pick_size = [](uint64_t r) -> size_t {
    unsigned bucket = static_cast<unsigned>(r % 1000);
    if (bucket < 850) return 1 + (r >> 10) % 256;
    if (bucket < 998) return 257 + (r >> 10) % 8000;
    if (bucket < 999 || (r >> 40) % 10 != 0) return 8192 + (r >> 10) % 60000;
    return 300000 + (r >> 10) % 100000;  // fallback path, 1 in 10000
  };
  cfg.pick_alignment = [](uint64_t r) -> size_t {
    return (r % 16) == 0 ? size_t{1} << (4 + (r >> 8) % 9) : size_t{16};  // up to 4 KiB
  };
  cfg.alloc = [&pool](size_t s, size_t a) { return pool.allocate(s, a); };
  cfg.free = [&pool](void* p, size_t s, size_t a) { pool.deallocate(p, s, a); };
  StressResult r = run_stress(cfg);
  EXPECT_EQ(r.corruptions, 0u) << r.first_error;
  EXPECT_EQ(r.failed_allocations, 0u) << r.first_error;
  EXPECT_EQ(r.misaligned, 0u);
  EXPECT_EQ(r.allocations, r.frees);
  EXPECT_GT(r.cross_thread_frees, 0u);
  pool.thread_flush();  // This thread freed the blocks left in the queues.
  pool_family_stats_t st = pool.stats();
  EXPECT_EQ(st.allocated_blocks, 0u);
  EXPECT_EQ(st.allocated_bytes, 0u);
  EXPECT_EQ(st.fallback_live_blocks, 0u);
  EXPECT_EQ(st.cached_blocks, 0u) << "every worker thread exited and gave its blocks back";
}

}  // namespace testing
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_TESTING_MULTI_SIZE_POOL_STRESS_H_
