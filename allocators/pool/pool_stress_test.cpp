// 4+ threads, cross-thread frees through queues, 10M operations (200k in
// quick mode), fixed seed: no block handed out twice, contents survive, every
// block accounted for at the end.
#include <gtest/gtest.h>

#include "allocators/common/testing/stress_harness.h"
#include "allocators/pool/pool.h"

namespace allocbench {
namespace {

void run(const Pool::Options& o, int threads) {
  Pool* p = Pool::create(o);
  ASSERT_NE(p, nullptr);
  testing::StressConfig cfg;
  cfg.threads = threads;
  cfg.total_ops = testing::stress_ops();
  size_t bs = o.block_size;
  cfg.pick_size = [bs](uint64_t) { return bs; };
  cfg.alloc = [p](size_t, size_t) { return p->alloc(); };
  cfg.free = [p](void* b, size_t, size_t) { EXPECT_EQ(p->free(b), POOL_OK); };
  testing::StressResult r = testing::run_stress(cfg);
  EXPECT_EQ(r.corruptions, 0u) << r.first_error;
  EXPECT_EQ(r.failed_allocations, 0u) << r.first_error;
  EXPECT_EQ(r.allocations, r.frees);
  EXPECT_GT(r.cross_thread_frees, 0u);
  // Worker threads have exited, so their caches are back in the slab.
  p->thread_flush();
  Pool::Stats s = p->stats();
  EXPECT_EQ(s.allocated, 0u);
  EXPECT_EQ(s.cached, 0u);
  EXPECT_EQ(s.in_slab, s.capacity);
  Pool::destroy(p);
}

TEST(PoolStress, FourThreads64Bytes) {
  Pool::Options o;
  o.block_size = 64;
  o.blocks_per_thread = 64;
  o.total_blocks = 1 << 14;
  o.grow = true;
  run(o, 4);
}

TEST(PoolStress, SixThreadsSmallCachesOddSize) {
  Pool::Options o;
  o.block_size = 40;
  o.blocks_per_thread = 4;
  o.total_blocks = 1 << 15;
  run(o, 6);
}

}  // namespace
}  // namespace allocbench
