// Multithreaded stress of CoalesceHeap (not a benchmark): threads allocate and
// free at random through a shared slot array, so most frees are cross-thread;
// every block's contents are verified before it is freed. 10 million
// operations per test in full mode (testing::stress_ops()), 200 thousand with
// ALLOCBENCH_QUICK=1.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "allocators/common/testing/shared_slot_stress.h"
#include "allocators/common/testing/stress_harness.h"
#include "allocators/coalesce_arena/coalesce_arena.h"

namespace allocbench {
namespace {

using testing::TaggedBlock;
using testing::verify_block;
using testing::write_block;

size_t pick_size(std::mt19937_64& rng) {
  uint32_t k = rng() % 1000;
  if (k < 500) return 16 + rng() % 241;       // small-cache bins
  if (k < 900) return 257 + rng() % 4000;     // medium
  if (k < 995) return 4096 + rng() % 120000;  // large arena blocks
  return 520000 + rng() % 300000;             // direct-mapped
}

void run_stress(const CoalesceOptions& options, uint64_t total_ops, uint64_t seed) {
  CoalesceHeap heap(options);
  testing::SharedSlotOutcome o =
      testing::run_shared_slot_stress(heap, pick_size, total_ops, seed, 4, 8192);
  heap.thread_exit();
  EXPECT_EQ(o.corrupt, 0u);
  EXPECT_EQ(o.failed, 0u);
  EXPECT_EQ(heap.check_heap(), "");
  CoalesceStats s = heap.stats();
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_EQ(s.alloc_calls, s.free_calls);
  // Every step of every thread allocates or frees at least once.
  EXPECT_GE(s.alloc_calls + s.free_calls, total_ops) << "fewer operations than claimed";
}

// The checker itself: a second owner that rewrites a block completely (its
// own size and tag) must make the first owner's check fail.
TEST(TaggedBlock, ASecondOwnersCompleteRewriteIsDetected) {
  for (size_t size : {size_t{1}, size_t{16}, size_t{100}, size_t{1024}, size_t{5000}}) {
    SCOPED_TRACE(size);
    std::vector<unsigned char> mem(size);
    TaggedBlock first{mem.data(), size, 1};
    write_block(first);
    EXPECT_TRUE(verify_block(first));
    for (size_t second_size : {size, size / 2 + 1}) {
      TaggedBlock second{mem.data(), second_size, 2};
      write_block(second);
      EXPECT_TRUE(verify_block(second));
      EXPECT_FALSE(verify_block(first)) << "second owner of " << second_size << " bytes";
      write_block(first);
    }
  }
}

uint64_t total_ops() { return testing::stress_ops(); }

TEST(CoalesceArenaStress, SharedSlotsReclaimOff) {
  run_stress(CoalesceOptions{false, 10}, total_ops(), 1);
}

TEST(CoalesceArenaStress, SharedSlotsReclaimOn) {
  run_stress(CoalesceOptions{true, 1}, total_ops(), 2);
}

}  // namespace
}  // namespace allocbench
