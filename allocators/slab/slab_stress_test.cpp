// 4+ threads, cross-thread frees through queues, 10M operations (200k in
// quick mode), fixed seed: no block handed out twice, contents survive.
#include <gtest/gtest.h>

#include "allocators/common/testing/stress_harness.h"
#include "allocators/slab/slab.h"

namespace allocbench {
namespace {

void run(Slab* s, int threads) {
  testing::StressConfig cfg;
  cfg.threads = threads;
  cfg.total_ops = testing::stress_ops();
  cfg.pick_size = [](uint64_t) { return size_t{64}; };
  cfg.alloc = [s](size_t, size_t) { return s->alloc(); };
  cfg.free = [s](void* p, size_t, size_t) { EXPECT_EQ(s->free(p), SLAB_OK); };
  testing::StressResult r = testing::run_stress(cfg);
  EXPECT_EQ(r.corruptions, 0u) << r.first_error;
  EXPECT_EQ(r.failed_allocations, 0u) << r.first_error;
  EXPECT_EQ(r.misaligned, 0u);
  EXPECT_EQ(r.allocations, r.frees);
  EXPECT_GT(r.cross_thread_frees, 0u);
  EXPECT_EQ(s->used_blocks(), 0u);
}

TEST(SlabStress, FourThreadsFixedCapacity) {
  Slab::Options o;
  o.block_size = 64;
  o.num_blocks = 1 << 16;
  Slab* s = Slab::create(o);
  run(s, 4);
  Slab::destroy(s);
}

TEST(SlabStress, SixThreadsWithGrowth) {
  Slab::Options o;
  o.block_size = 64;
  o.num_blocks = 64;  // Grows many times under load.
  o.grow = true;
  Slab* s = Slab::create(o);
  run(s, 6);
  EXPECT_GT(s->regions_grown(), 0u);
  Slab::destroy(s);
}

}  // namespace
}  // namespace allocbench
