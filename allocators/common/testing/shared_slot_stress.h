// The shared-slot stress driver of coalesce_arena and mempool (not a
// benchmark): kThreads threads allocate and free at random through a shared
// array of slots, so most frees are cross-thread. Each slot carries its
// block's TaggedBlock, so whoever takes a block checks it against the tag
// its allocator's caller wrote, not against what the block now says.
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_TESTING_SHARED_SLOT_STRESS_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_TESTING_SHARED_SLOT_STRESS_H_

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "allocators/common/testing/tagged_block.h"

namespace allocbench {
namespace testing {

struct SharedSlotOutcome {
  uint64_t corrupt = 0;  // Blocks that changed while their owner held them.
  uint64_t failed = 0;   // Allocations that returned null or a misaligned block.
};

// Runs `total_ops` steps over `threads` threads on `alloc` (allocate(size,
// align) / deallocate(p)). Sizes come from `pick_size(rng)`; 1 in 16 blocks
// asks for an alignment of 32 B to 4 KiB. Every block is verified before it
// is freed; the first bad one is reported at once (a block handed out twice
// is often freed twice too, which may crash the allocator before the end).
template <typename Alloc, typename PickSize>
SharedSlotOutcome run_shared_slot_stress(Alloc& alloc, PickSize pick_size, uint64_t total_ops,
                                         uint64_t seed, int threads = 4, size_t slot_count = 4096) {
  std::vector<std::atomic<TaggedBlock*>> slots(slot_count);
  for (auto& s : slots) s.store(nullptr);
  std::atomic<uint64_t> corrupt{0};
  std::atomic<uint64_t> failed{0};
  auto verify_and_free = [&](TaggedBlock* b) {
    if (!verify_block(*b) && corrupt.fetch_add(1) == 0) {
      ADD_FAILURE() << "block " << static_cast<void*>(b->p) << " of " << b->size << " bytes (tag "
                    << b->tag << ") changed while its owner held it";
    }
    alloc.deallocate(b->p);
    delete b;
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(t));
      uint64_t seq = 0;
      for (uint64_t i = 0; i < total_ops / static_cast<uint64_t>(threads); ++i) {
        size_t idx = rng() % slot_count;
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
  for (auto& w : workers) w.join();
  for (auto& s : slots) {
    TaggedBlock* b = s.exchange(nullptr);
    if (b != nullptr) verify_and_free(b);
  }
  return SharedSlotOutcome{corrupt.load(), failed.load()};
}

}  // namespace testing
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_TESTING_SHARED_SLOT_STRESS_H_
