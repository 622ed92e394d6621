// Multithreaded stress of CoalesceHeap (not a benchmark): threads allocate and
// free at random through a shared slot array, so most frees are cross-thread;
// every block's contents are verified before it is freed. 10 million
// operations per test in full mode (testing::stress_ops()), 200 thousand with
// ALLOCBENCH_QUICK=1.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "allocators/common/testing/stress_harness.h"
#include "allocators/common/testing/tagged_block.h"
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
  constexpr int kThreads = 4;
  constexpr size_t kSlots = 8192;
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
    heap.deallocate(b->p);
    delete b;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + static_cast<uint64_t>(t) * 7919);
      const uint64_t ops = total_ops / kThreads;
      uint64_t seq = 0;
      for (uint64_t i = 0; i < ops; ++i) {
        size_t idx = rng() % kSlots;
        TaggedBlock* taken = slots[idx].exchange(nullptr, std::memory_order_acq_rel);
        if (taken != nullptr) {
          verify_and_free(taken);
          continue;
        }
        size_t size = pick_size(rng);
        size_t align = rng() % 16 == 0 ? size_t{32} << (rng() % 8) : 16;
        auto* q = static_cast<unsigned char*>(heap.allocate(size, align));
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
  heap.thread_exit();
  EXPECT_EQ(corrupt.load(), 0u);
  EXPECT_EQ(failed.load(), 0u);
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
