// Multithreaded stress (not a benchmark) of mempool_baseline, mempool_sharded
// and a shared MemoryPool of each strategy: 4 threads allocate and free at
// random through a shared slot array, so most frees are cross-thread; every
// block's contents are verified before it is freed. 10 million operations in
// total in full mode, far fewer with ALLOCBENCH_QUICK=1.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "allocators/common/testing/stress_harness.h"
#include "allocators/common/testing/tagged_block.h"
#include "allocators/mempool/mempool.h"

namespace allocbench {
namespace {

using testing::quick_mode;
using testing::TaggedBlock;
using testing::verify_block;
using testing::write_block;

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
  constexpr int kThreads = 4;
  constexpr size_t kSlots = 4096;
  // A slot holds its block's TaggedBlock, so whoever takes the block checks it
  // against the tag its allocator wrote, not against what the block now says.
  std::vector<std::atomic<TaggedBlock*>> slots(kSlots);
  for (auto& s : slots) s.store(nullptr);
  std::atomic<uint64_t> corrupt{0};
  std::atomic<uint64_t> failed{0};
  auto verify_and_free = [&](TaggedBlock* b) {
    // The first bad block is reported at once: a block handed out twice is
    // often freed twice too, which may crash the allocator before the end.
    if (!verify_block(*b) && corrupt.fetch_add(1) == 0) {
      ADD_FAILURE() << "block " << static_cast<void*>(b->p) << " of " << b->size << " bytes (tag "
                    << b->tag << ") changed while its owner held it";
    }
    alloc.deallocate(b->p);
    delete b;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(t));
      uint64_t seq = 0;
      for (uint64_t i = 0; i < total_ops / kThreads; ++i) {
        size_t idx = rng() % kSlots;
        TaggedBlock* taken = slots[idx].exchange(nullptr, std::memory_order_acq_rel);
        if (taken != nullptr) {
          verify_and_free(taken);
          continue;
        }
        size_t size = pick_size(rng);
        size_t align = rng() % 16 == 0 ? size_t{32} << (rng() % 8) : 16;
        auto* q = static_cast<unsigned char*>(alloc.allocate(size, align));
        if (q == nullptr || reinterpret_cast<uintptr_t>(q) % align != 0) {
          failed.fetch_add(1);
          continue;
        }
        auto* mine = new TaggedBlock{q, size, (static_cast<uint64_t>(t) << 40) | ++seq};
        write_block(*mine);
        TaggedBlock* old = slots[idx].exchange(mine, std::memory_order_acq_rel);
        if (old != nullptr) verify_and_free(old);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (auto& s : slots) {
    TaggedBlock* b = s.exchange(nullptr);
    if (b != nullptr) verify_and_free(b);
  }
  EXPECT_EQ(corrupt.load(), 0u);
  EXPECT_EQ(failed.load(), 0u);
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
