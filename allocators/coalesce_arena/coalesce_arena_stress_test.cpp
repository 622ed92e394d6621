// Multithreaded stress of CoalesceHeap (not a benchmark): threads allocate and
// free at random through a shared slot array, so most frees are cross-thread;
// every block's contents are verified before it is freed. 10 million
// operations in full mode, far fewer with ALLOCBENCH_QUICK=1.
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

using testing::quick_mode;
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
  std::vector<std::atomic<unsigned char*>> slots(kSlots);
  for (auto& s : slots) s.store(nullptr);
  std::atomic<uint64_t> corrupt{0};
  std::atomic<uint64_t> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + static_cast<uint64_t>(t) * 7919);
      const uint64_t ops = total_ops / kThreads;
      for (uint64_t i = 0; i < ops; ++i) {
        size_t idx = rng() % kSlots;
        unsigned char* p = slots[idx].exchange(nullptr, std::memory_order_acq_rel);
        if (p != nullptr) {
          if (!verify_block(p)) corrupt.fetch_add(1);
          heap.deallocate(p);
          continue;
        }
        size_t size = pick_size(rng);
        size_t align = rng() % 16 == 0 ? size_t{32} << (rng() % 8) : 16;
        auto* q = static_cast<unsigned char*>(heap.allocate(size, align));
        if (q == nullptr || reinterpret_cast<uintptr_t>(q) % align != 0) {
          failed.fetch_add(1);
          continue;
        }
        write_block(q, size, rng());
        unsigned char* old = slots[idx].exchange(q, std::memory_order_acq_rel);
        if (old != nullptr) {
          if (!verify_block(old)) corrupt.fetch_add(1);
          heap.deallocate(old);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (auto& s : slots) {
    unsigned char* p = s.exchange(nullptr);
    if (p != nullptr) {
      if (!verify_block(p)) corrupt.fetch_add(1);
      heap.deallocate(p);
    }
  }
  heap.thread_exit();
  EXPECT_EQ(corrupt.load(), 0u);
  EXPECT_EQ(failed.load(), 0u);
  EXPECT_EQ(heap.check_heap(), "");
  CoalesceStats s = heap.stats();
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_EQ(s.alloc_calls, s.free_calls);
}

uint64_t total_ops() { return quick_mode() ? 200000 : 5000000; }

TEST(CoalesceArenaStress, SharedSlotsReclaimOff) {
  run_stress(CoalesceOptions{false, 10}, total_ops(), 1);
}

TEST(CoalesceArenaStress, SharedSlotsReclaimOn) {
  run_stress(CoalesceOptions{true, 1}, total_ops(), 2);
}

}  // namespace
}  // namespace allocbench
