// 4+ threads, cross-thread frees through queues, 10M operations (200k in
// quick mode), fixed seed: no block handed out twice, contents survive. The
// same through SlabMagazines (magazines, per-thread depots, overflow to the slab), and 2
// threads that hand batches to each other with a per-block ownership flag:
// no block lost or handed out twice.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "allocators/common/testing/stress_harness.h"
#include "allocators/slab/slab.h"
#include "allocators/slab/slab_magazine.h"

namespace allocbench {
namespace {

Slab* make_exact_slab(size_t blocks) {
  Slab::Options o;
  o.block_size = 64;
  o.num_blocks = blocks;
  return Slab::create(o);
}

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

void run_magazines(Slab* s, int threads, uint32_t depot_halves) {
  {
    SlabMagazines::Options mo;
    mo.capacity = 16;
    mo.depot_halves = depot_halves;
    SlabMagazines m(s, mo);
    testing::StressConfig cfg;
    cfg.threads = threads;
    cfg.total_ops = testing::stress_ops();
    cfg.pick_size = [](uint64_t) { return size_t{64}; };
    cfg.alloc = [&m](size_t, size_t) { return m.alloc(); };
    cfg.free = [&m](void* p, size_t, size_t) { m.free(p); };
    testing::StressResult r = testing::run_stress(cfg);
    EXPECT_EQ(r.corruptions, 0u) << r.first_error;
    EXPECT_EQ(r.failed_allocations, 0u) << r.first_error;
    EXPECT_EQ(r.allocations, r.frees);
    EXPECT_GT(r.cross_thread_frees, 0u);
    m.thread_flush();  // The blocks this thread freed after the workers.
    // The workers have exited: their halves are in their magazines' depots
    // (each bounded; one magazine per worker and one for this thread) or the
    // slab.
    EXPECT_LE(m.depot_halves(), (threads + 1) * size_t{depot_halves});
    EXPECT_EQ(s->used_blocks(), m.cached_blocks());
  }
  EXPECT_EQ(s->used_blocks(), 0u) << "blocks lost";
}

TEST(SlabMagazinesStress, FourThreadsSmallDepot) {
  Slab::Options o;
  o.block_size = 64;
  o.num_blocks = 1 << 16;
  Slab* s = Slab::create(o);
  run_magazines(s, 4, 4);  // Many halves overflow the depot into the slab.
  Slab::destroy(s);
}

TEST(SlabMagazinesStress, TwoThreadsDefaultDepot) {
  Slab::Options o;
  o.block_size = 64;
  o.num_blocks = 1 << 16;
  Slab* s = Slab::create(o);
  run_magazines(s, 2, SlabMagazines::kDefaultDepotHalves);
  Slab::destroy(s);
}

// Two threads allocate batches larger than a magazine, claim each block in a
// flag array (a block handed out twice finds its flag set), and give half of
// each batch to the other thread to free. Afterwards every block of the
// fixed-capacity slab can be allocated again: none was lost.
TEST(SlabMagazinesStress, TwoThreadsNoBlockLostOrDuplicated) {
  constexpr size_t kBlocks = 4096;
  Slab* s = make_exact_slab(kBlocks);
  {
    SlabMagazines::Options mo;
    mo.capacity = 16;
    mo.depot_halves = 8;
    SlabMagazines m(s, mo);
    std::unique_ptr<std::atomic<uint8_t>[]> owned(new std::atomic<uint8_t>[kBlocks]);
    for (size_t i = 0; i < kBlocks; ++i) owned[i].store(0);
    std::atomic<uint64_t> duplicates{0}, failures{0};
    std::mutex mu;
    std::vector<void*> handoff[2];  // handoff[t]: blocks thread t must free.
    const int rounds = testing::quick_mode() ? 300 : 3000;
    auto worker = [&](int self) {
      uint64_t rng = 0x5EEDull + self;
      std::vector<void*> batch, mine;
      for (int r = 0; r < rounds; ++r) {
        size_t n = 1 + testing::detail::splitmix(rng) % 300;
        for (size_t i = 0; i < n; ++i) {
          void* p = m.alloc();
          if (p == nullptr) {
            failures.fetch_add(1);
            continue;
          }
          if (owned[s->index_of(p)].exchange(1) != 0) duplicates.fetch_add(1);
          batch.push_back(p);
        }
        {
          // The other thread's share waits for its next round; while it is
          // behind (600 waiting) this thread frees everything itself.
          std::lock_guard<std::mutex> lock(mu);
          mine.swap(handoff[self]);
          std::vector<void*>& theirs = handoff[1 - self];
          for (size_t i = 0; i < batch.size(); ++i) {
            (i % 2 == 0 && theirs.size() < 600 ? theirs : mine).push_back(batch[i]);
          }
        }
        for (size_t i = mine.size(); i > 1; --i) {
          std::swap(mine[i - 1], mine[testing::detail::splitmix(rng) % i]);
        }
        for (void* p : mine) {
          owned[s->index_of(p)].store(0);
          m.free(p);
        }
        batch.clear();
        mine.clear();
      }
    };
    std::thread a(worker, 0), b(worker, 1);
    a.join();
    b.join();
    for (auto& h : handoff) {
      for (void* p : h) {
        owned[s->index_of(p)].store(0);
        m.free(p);
      }
    }
    EXPECT_EQ(duplicates.load(), 0u);
    EXPECT_EQ(failures.load(), 0u);
    m.thread_flush();
    m.flush_depot();
    EXPECT_EQ(s->used_blocks(), 0u) << "blocks lost";
    for (size_t i = 0; i < kBlocks; ++i) {
      void* p = m.alloc();
      ASSERT_NE(p, nullptr) << "only " << i << " of " << kBlocks << " blocks came back";
      EXPECT_EQ(owned[s->index_of(p)].exchange(1), 0u) << "handed out twice";
    }
    EXPECT_EQ(m.alloc(), nullptr);
  }
  Slab::destroy(s);
}

}  // namespace
}  // namespace allocbench
