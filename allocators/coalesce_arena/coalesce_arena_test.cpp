// Unit tests of CoalesceHeap: the heap-walk checker after every operation of a
// seeded random sequence, arena edge cases, small-bin reuse, alignment,
// cross-thread frees and reclamation returning memory to the OS.
#include "allocators/coalesce_arena/coalesce_arena.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "allocators/common/platform.h"
#include "allocators/common/testing/stress_harness.h"

namespace allocbench {
namespace {

using allocbench::testing::quick_mode;

struct Live {
  unsigned char* p;
  size_t size;
  unsigned char tag;
};

void fill(const Live& b) { std::memset(b.p, b.tag, b.size); }
bool intact(const Live& b) {
  for (size_t i = 0; i < b.size; ++i) {
    if (b.p[i] != b.tag) return false;
  }
  return true;
}

// Block end (footer included) of a medium arena block, from its payload.
uintptr_t block_end(CoalesceHeap& heap, void* p) {
  return reinterpret_cast<uintptr_t>(p) + heap.usable_size(p) + 8;
}

TEST(CoalesceArena, RandomOpsKeepHeapConsistentAfterEveryOp) {
  CoalesceHeap heap;
  std::mt19937_64 rng(20240605);
  std::vector<Live> live;
  const int ops = quick_mode() ? 3000 : 20000;
  for (int i = 0; i < ops; ++i) {
    bool do_alloc = live.empty() || rng() % 100 < 55;
    if (do_alloc) {
      size_t size;
      uint32_t kind = rng() % 100;
      if (kind < 40) {
        size = 1 + rng() % 256;
      } else if (kind < 85) {
        size = 257 + rng() % 8000;
      } else if (kind < 98) {
        size = 8192 + rng() % 200000;
      } else {
        size = 600000 + rng() % 100000;  // direct-mapped
      }
      size_t align = rng() % 10 == 0 ? size_t{1} << (5 + rng() % 8) : 16;
      auto* p = static_cast<unsigned char*>(heap.allocate(size, align));
      ASSERT_NE(p, nullptr);
      ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u);
      Live b{p, size, static_cast<unsigned char>(rng())};
      fill(b);
      live.push_back(b);
    } else {
      size_t idx = rng() % live.size();
      ASSERT_TRUE(intact(live[idx])) << "block contents changed before free, op " << i;
      heap.deallocate(live[idx].p);
      live[idx] = live.back();
      live.pop_back();
    }
    if (i % 500 == 499) heap.flush_thread_cache();
    std::string err = heap.check_heap();
    ASSERT_EQ(err, "") << "after op " << i;
  }
  for (const Live& b : live) {
    ASSERT_TRUE(intact(b));
    heap.deallocate(b.p);
  }
  heap.flush_thread_cache();
  EXPECT_EQ(heap.check_heap(), "");
  EXPECT_EQ(heap.stats().bytes_in_use, 0u);
}

// Fills one arena exactly (the last block ends at the epilogue) and frees the
// first block, the last block, and a block between two free neighbours.
TEST(CoalesceArena, FirstLastAndBothNeighbourFrees) {
  CoalesceHeap heap;
  std::thread([&] {
    void* first = heap.allocate(1000);
    ASSERT_NE(first, nullptr);
    const auto* arena = static_cast<const char*>(heap.arena_of(first));
    ASSERT_NE(arena, nullptr);
    const uintptr_t epilogue = reinterpret_cast<uintptr_t>(arena) + CoalesceHeap::kArenaBytes - 16;
    std::vector<void*> blocks{first};
    uintptr_t end = block_end(heap, first);
    while (epilogue - end > 200000) {
      void* p = heap.allocate(100000);
      ASSERT_EQ(heap.arena_of(p), arena);
      ASSERT_EQ(reinterpret_cast<uintptr_t>(p) - 16, end) << "blocks not carved in order";
      blocks.push_back(p);
      end = block_end(heap, p);
    }
    // One block consuming exactly the rest: usable = rest - header - footer.
    size_t rest = epilogue - end;
    void* last = heap.allocate(rest - 24);
    ASSERT_EQ(heap.arena_of(last), arena);
    ASSERT_EQ(block_end(heap, last), epilogue);
    blocks.push_back(last);
    ASSERT_EQ(heap.check_heap(), "");

    heap.deallocate(last);  // next is the epilogue
    ASSERT_EQ(heap.check_heap(), "");
    heap.deallocate(first);  // previous is the prologue
    ASSERT_EQ(heap.check_heap(), "");
    ASSERT_GE(blocks.size(), 6u);
    heap.deallocate(blocks[2]);
    heap.deallocate(blocks[4]);
    ASSERT_EQ(heap.check_heap(), "");
    heap.deallocate(blocks[3]);  // merges with both neighbours
    ASSERT_EQ(heap.check_heap(), "");
    // The merged block (2..4) is reusable as one piece.
    void* big = heap.allocate(250000);
    EXPECT_EQ(big, blocks[2]);
    heap.deallocate(big);
    heap.deallocate(blocks[1]);  // merges with the first and with 2..4
    ASSERT_EQ(heap.check_heap(), "");
    for (size_t i = 5; i + 1 < blocks.size(); ++i) heap.deallocate(blocks[i]);
    ASSERT_EQ(heap.check_heap(), "");
    EXPECT_EQ(heap.stats().bytes_in_use, 0u);
    // Coalesced back into one block: the largest free block starts at the
    // arena's first block again.
    void* all = heap.allocate(500000);
    EXPECT_EQ(all, first);
    heap.deallocate(all);
    EXPECT_EQ(heap.check_heap(), "");
  }).join();
}

TEST(CoalesceArena, SmallBinsReuseFreedBlocks) {
  CoalesceHeap heap;
  const size_t sizes[] = {1, 32, 33, 64, 100, 128, 129, 256};
  for (size_t s : sizes) {
    void* p = heap.allocate(s);
    ASSERT_NE(p, nullptr);
    EXPECT_GE(heap.usable_size(p), s);
    std::memset(p, 0x5a, s);
    heap.deallocate(p);
    void* q = heap.allocate(s);
    EXPECT_EQ(q, p) << "size " << s << " not served from its bin";
    heap.deallocate(q);
  }
  // Different bins never share a block.
  void* a = heap.allocate(32);
  void* b = heap.allocate(33);
  EXPECT_NE(a, b);
  EXPECT_GE(heap.usable_size(b), 64u);
  heap.deallocate(a);
  heap.deallocate(b);
  // Overflowing a bin returns half of it to the arena; the heap stays sound.
  std::vector<void*> many;
  for (int i = 0; i < 1000; ++i) many.push_back(heap.allocate(48));
  for (void* p : many) heap.deallocate(p);
  EXPECT_EQ(heap.check_heap(), "");
  heap.flush_thread_cache();
  EXPECT_EQ(heap.check_heap(), "");
  EXPECT_EQ(heap.stats().bytes_in_use, 0u);
}

TEST(CoalesceArena, AlignmentSweep) {
  CoalesceHeap heap;
  const size_t sizes[] = {1, 24, 200, 300, 5000, 70000, 600000};
  for (size_t align = 1; align <= CoalesceHeap::kMaxAlignment; align <<= 1) {
    for (size_t s : sizes) {
      auto* p = static_cast<unsigned char*>(heap.allocate(s, align));
      ASSERT_NE(p, nullptr) << "size " << s << " align " << align;
      ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % (align < 16 ? 16 : align), 0u);
      ASSERT_GE(heap.usable_size(p), s);
      std::memset(p, 0xa5, s);
      heap.deallocate(p);
    }
    ASSERT_EQ(heap.check_heap(), "") << "align " << align;
  }
  EXPECT_EQ(heap.allocate(16, 3), nullptr);
  EXPECT_EQ(heap.allocate(16, CoalesceHeap::kMaxAlignment * 2), nullptr);
}

TEST(CoalesceArena, ZeroSizeReallocAndDirect) {
  CoalesceHeap heap;
  void* z1 = heap.allocate(0);
  void* z2 = heap.allocate(0);
  ASSERT_NE(z1, nullptr);
  ASSERT_NE(z2, nullptr);
  EXPECT_NE(z1, z2);
  heap.deallocate(z1);
  heap.deallocate(z2);
  heap.deallocate(nullptr);

  auto* p = static_cast<unsigned char*>(heap.allocate(100));
  for (int i = 0; i < 100; ++i) p[i] = static_cast<unsigned char>(i);
  auto* q = static_cast<unsigned char*>(heap.reallocate(p, 5000));
  ASSERT_NE(q, nullptr);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(q[i], i);
  auto* r = static_cast<unsigned char*>(heap.reallocate(q, 2000000));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(heap.arena_of(r), nullptr) << "2 MB should be direct-mapped";
  for (int i = 0; i < 100; ++i) ASSERT_EQ(r[i], i);
  uint64_t mapped = heap.stats().bytes_mapped;
  EXPECT_GE(heap.stats().direct_allocs, 1u);
  heap.deallocate(r);
  EXPECT_GT(heap.stats().direct_cached_bytes, 0u) << "a freed direct block is cached";
  heap.reclaim_now();
  EXPECT_EQ(heap.stats().direct_cached_bytes, 0u);
  EXPECT_LT(heap.stats().bytes_mapped, mapped);
  heap.flush_thread_cache();
  EXPECT_EQ(heap.check_heap(), "");
  EXPECT_EQ(heap.stats().bytes_in_use, 0u);
}

// Freed direct mappings are reused (same address, no new mapping), a reused
// block keeps what is written into it while other direct blocks come and go,
// the cache stays within its bound, and a reclamation pass empties it.
TEST(CoalesceArena, DirectCacheReusesBoundsAndIsTrimmedByReclaim) {
  CoalesceHeap heap;
  const size_t big = size_t{3} << 20;
  auto* a = static_cast<unsigned char*>(heap.allocate(big));
  ASSERT_NE(a, nullptr);
  std::memset(a, 0x11, big);
  uint64_t mapped = heap.stats().bytes_mapped;
  heap.deallocate(a);
  EXPECT_EQ(heap.stats().bytes_mapped, mapped) << "freed direct block stays mapped, cached";
  auto* b = static_cast<unsigned char*>(heap.allocate(big - 1000));
  EXPECT_EQ(b, a) << "a similar request reuses the cached mapping";
  EXPECT_EQ(heap.stats().direct_cache_hits, 1u);
  EXPECT_EQ(heap.stats().direct_cached_bytes, 0u);
  EXPECT_GE(heap.usable_size(b), big - 1000);
  for (size_t i = 0; i < big - 1000; i += 97) b[i] = static_cast<unsigned char>(i * 7);
  // Other direct blocks cycling through the cache must not touch b.
  for (int round = 0; round < 20; ++round) {
    void* c = heap.allocate(big + static_cast<size_t>(round) * 40000, 4096);
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(c) % 4096, 0u);
    std::memset(c, 0xEE, big);
    heap.deallocate(c);
  }
  for (size_t i = 0; i < big - 1000; i += 97) ASSERT_EQ(b[i], static_cast<unsigned char>(i * 7));
  // Growing a direct block by reallocate keeps its contents.
  auto* g = static_cast<unsigned char*>(heap.reallocate(b, big * 2));
  ASSERT_NE(g, nullptr);
  for (size_t i = 0; i < big - 1000; i += 97) ASSERT_EQ(g[i], static_cast<unsigned char>(i * 7));
  heap.deallocate(g);

  // Bounded: many more freed bytes than the cache may keep.
  std::vector<void*> blocks;
  for (int i = 0; i < 60; ++i) {
    void* p = heap.allocate(size_t{2} << 20);
    ASSERT_NE(p, nullptr);
    static_cast<unsigned char*>(p)[0] = 1;
    blocks.push_back(p);
  }
  for (void* p : blocks) heap.deallocate(p);
  CoalesceStats s = heap.stats();
  EXPECT_GT(s.direct_cached_bytes, 0u);
  EXPECT_LE(s.direct_cached_bytes, detail::kLargeMappingCacheBytes);
  EXPECT_LE(s.bytes_mapped, s.direct_cached_bytes + s.arenas_live * CoalesceHeap::kArenaBytes);

  heap.reclaim_now();
  s = heap.stats();
  EXPECT_EQ(s.direct_cached_bytes, 0u);
  EXPECT_LE(s.bytes_mapped, s.arenas_live * CoalesceHeap::kArenaBytes);
  heap.flush_thread_cache();
  EXPECT_EQ(heap.check_heap(), "");
}

// The background reclaimer gives back cached direct mappings once idle.
TEST(CoalesceArena, BackgroundReclaimTrimsDirectCache) {
  CoalesceHeap heap(CoalesceOptions{true, 5});
  void* p = heap.allocate(size_t{1} << 20);
  ASSERT_NE(p, nullptr);
  heap.deallocate(p);
  for (int i = 0; i < 400 && heap.stats().direct_cached_bytes != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(heap.stats().direct_cached_bytes, 0u);
}

// Each thread frees the blocks of its neighbour, round after round; must be
// clean under TSan.
TEST(CoalesceArena, CrossThreadFrees) {
  CoalesceHeap heap;
  constexpr int kThreads = 4;
  const int rounds = quick_mode() ? 20 : 100;
  constexpr int kPerRound = 200;
  std::vector<std::vector<Live>> handoff(kThreads);
  std::atomic<int> arrived{0};
  auto barrier = [&](int generation) {
    arrived.fetch_add(1);
    while (arrived.load() < kThreads * generation) std::this_thread::yield();
  };
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1000 + t);
      int gen = 0;
      for (int r = 0; r < rounds; ++r) {
        std::vector<Live>& mine = handoff[t];
        for (int i = 0; i < kPerRound; ++i) {
          size_t size = rng() % 3 == 0 ? 1 + rng() % 256 : 257 + rng() % 20000;
          Live b{static_cast<unsigned char*>(heap.allocate(size)), size,
                 static_cast<unsigned char>(rng())};
          if (b.p == nullptr) {
            bad.fetch_add(1);
            continue;
          }
          fill(b);
          mine.push_back(b);
        }
        barrier(++gen);
        for (const Live& b : handoff[(t + 1) % kThreads]) {
          if (!intact(b)) bad.fetch_add(1);
          heap.deallocate(b.p);
        }
        handoff[(t + 1) % kThreads].clear();
        barrier(++gen);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(heap.check_heap(), "");
  EXPECT_EQ(heap.stats().bytes_in_use, 0u);
  CoalesceStats s = heap.stats();
  EXPECT_EQ(s.alloc_calls, s.free_calls);
}

// Without reclamation, an exiting thread's arenas are adopted by the next one.
TEST(CoalesceArena, OrphanedArenasAreAdoptedWithoutReclaim) {
  CoalesceHeap heap;
  std::thread([&] {
    for (int i = 0; i < 10; ++i) heap.deallocate(heap.allocate(100000));
  }).join();
  uint64_t arenas = heap.stats().arenas_live;
  EXPECT_GE(arenas, 1u);
  std::thread([&] {
    for (int i = 0; i < 10; ++i) heap.deallocate(heap.allocate(100000));
  }).join();
  EXPECT_EQ(heap.stats().arenas_live, arenas);
  EXPECT_EQ(heap.check_heap(), "");
}

size_t touch_and_hold(CoalesceHeap& heap, std::vector<void*>* out, size_t total, uint32_t seed) {
  std::mt19937 rng(seed);
  size_t got = 0;
  while (got < total) {
    size_t size = rng() % 4 == 0 ? 1 + rng() % 256 : 1000 + rng() % 60000;
    void* p = heap.allocate(size);
    if (p == nullptr) break;
    std::memset(p, 0x3c, size);
    out->push_back(p);
    got += size;
  }
  return got;
}

// Waits (bounded) until RSS falls to `target` or below; returns the last RSS.
size_t wait_for_rss_at_most(size_t target) {
  size_t rss = platform::resident_bytes();
  for (int i = 0; i < 500 && rss > target; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    rss = platform::resident_bytes();
  }
  return rss;
}

// Threads fill 64 MiB in total, free everything (half of it cross-thread) and
// exit: the reclamation thread must unmap their arenas.
TEST(CoalesceArena, ReclamationReturnsMemoryAfterThreadsExit) {
  CoalesceHeap heap(CoalesceOptions{true, 5});
  constexpr int kThreads = 4;
  const size_t per_thread = size_t{16} << 20;
  size_t rss0 = platform::resident_bytes();
  ASSERT_GT(rss0, 0u);
  std::vector<std::vector<void*>> held(kThreads);
  std::atomic<int> filled{0};
  std::atomic<bool> go_free{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      touch_and_hold(heap, &held[t], per_thread, 77 + t);
      filled.fetch_add(1);
      while (!go_free.load()) std::this_thread::yield();
      // Free the even half of our own blocks and the odd half of a neighbour's.
      std::vector<void*>& own = held[t];
      for (size_t i = 0; i < own.size(); i += 2) heap.deallocate(own[i]);
      std::vector<void*>& other = held[(t + 1) % kThreads];
      for (size_t i = 1; i < other.size(); i += 2) heap.deallocate(other[i]);
    });
  }
  while (filled.load() < kThreads) std::this_thread::yield();
  size_t rss_full = platform::resident_bytes();
  ASSERT_GT(rss_full, rss0 + (size_t{40} << 20)) << "allocation phase did not commit memory";
  go_free.store(true);
  for (auto& th : threads) th.join();
  size_t grown = rss_full - rss0;
  size_t target = rss_full - grown * 3 / 4;
  size_t rss_after = wait_for_rss_at_most(target);
  EXPECT_LE(rss_after, target) << "rss0=" << rss0 << " full=" << rss_full << " after=" << rss_after;
  EXPECT_GT(heap.stats().arenas_reclaimed, 0u);
  EXPECT_EQ(heap.check_heap(), "");
}

// A thread that stays alive: its empty non-current arenas are unmapped and
// its current one decommitted.
TEST(CoalesceArena, ReclamationWhileOwnerLives) {
  CoalesceHeap heap(CoalesceOptions{true, 5});
  size_t rss0 = platform::resident_bytes();
  std::vector<void*> held;
  std::mt19937 rng(5);
  for (size_t got = 0; got < (size_t{32} << 20);) {
    size_t size = 4000 + rng() % 100000;
    void* p = heap.allocate(size);
    ASSERT_NE(p, nullptr);
    std::memset(p, 1, size);
    held.push_back(p);
    got += size;
  }
  size_t rss_full = platform::resident_bytes();
  ASSERT_GT(rss_full, rss0 + (size_t{24} << 20));
  for (void* p : held) heap.deallocate(p);
  size_t grown = rss_full - rss0;
  size_t target = rss_full - grown * 3 / 4;
  size_t rss_after = wait_for_rss_at_most(target);
  EXPECT_LE(rss_after, target) << "rss0=" << rss0 << " full=" << rss_full << " after=" << rss_after;
  EXPECT_EQ(heap.check_heap(), "");
  // The heap still works after its arenas were reclaimed or decommitted.
  void* p = heap.allocate(50000);
  ASSERT_NE(p, nullptr);
  std::memset(p, 2, 50000);
  heap.deallocate(p);
  EXPECT_EQ(heap.check_heap(), "");
}

// burst_idle's case (issue 14): a live owner allocates a burst of mixed
// sizes, small ones included, frees it in a random order and then makes no
// call. Its small-block cache keeps blocks in many arenas, so no arena is
// empty and the owner never flushes; the reclaimer must still give the idle
// free pages back.
TEST(CoalesceArena, ReclamationWhileOwnerIdlesWithCachedBlocks) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "TSan keeps a shadow of every page the test touched, which decommitting "
                  "the pages does not release: RSS cannot show reclamation in that build";
#endif
  CoalesceHeap heap(CoalesceOptions{true, 5});
  size_t rss0 = platform::resident_bytes();
  std::vector<void*> held;
  std::mt19937 rng(14);
  for (size_t got = 0; got < (size_t{32} << 20);) {
    size_t size = rng() % 2 == 0 ? 16 + rng() % 240 : 256 + rng() % 8000;
    void* p = heap.allocate(size);
    ASSERT_NE(p, nullptr);
    std::memset(p, 1, size);
    held.push_back(p);
    got += size;
  }
  size_t rss_full = platform::resident_bytes();
  ASSERT_GT(rss_full, rss0 + (size_t{24} << 20));
  std::shuffle(held.begin(), held.end(), rng);
  for (void* p : held) heap.deallocate(p);
  ASSERT_GT(heap.stats().bytes_in_use, 0u) << "freed small blocks should sit in the cache";
  size_t grown = rss_full - rss0;
  size_t target = rss_full - grown * 3 / 4;
  size_t rss_after = wait_for_rss_at_most(target);
  EXPECT_LE(rss_after, target) << "rss0=" << rss0 << " full=" << rss_full << " after=" << rss_after;
  EXPECT_GT(heap.stats().arenas_purged, 0u);
  EXPECT_EQ(heap.check_heap(), "");
  // Purged free blocks serve new requests (their pages fault in again).
  std::vector<void*> again;
  for (int i = 0; i < 2000; ++i) {
    size_t size = 16 + rng() % 8000;
    void* p = heap.allocate(size);
    ASSERT_NE(p, nullptr);
    std::memset(p, 3, size);
    again.push_back(p);
  }
  EXPECT_EQ(heap.check_heap(), "");
  for (void* p : again) heap.deallocate(p);
  EXPECT_EQ(heap.check_heap(), "");
}

// The background reclaimer leaves an arena in use alone: no purge while the
// arena is allocated from or freed into in every period.
TEST(CoalesceArena, NoPurgeWhileArenaIsBusy) {
  CoalesceHeap heap(CoalesceOptions{true, 50});
  std::vector<void*> keep;
  for (int i = 0; i < 64; ++i) keep.push_back(heap.allocate(20000));
  for (size_t i = 0; i < keep.size(); i += 2) heap.deallocate(keep[i]);  // Free holes.
  // Busy for 400 ms (8 periods): a medium allocate/free pair every 1 ms, so
  // only a stall of a whole period (50 ms) would let a pass see it idle.
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
  while (std::chrono::steady_clock::now() < end) {
    heap.deallocate(heap.allocate(3000));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(heap.stats().arenas_purged, 0u);
  for (size_t i = 1; i < keep.size(); i += 2) heap.deallocate(keep[i]);
  EXPECT_EQ(heap.check_heap(), "");
}

// reclaim_now() purges the free pages of an arena with live blocks at once.
TEST(CoalesceArena, ReclaimNowPurgesFreePages) {
  CoalesceHeap heap;  // No background thread.
  void* live = heap.allocate(1000);
  std::vector<void*> big;
  for (int i = 0; i < 40; ++i) {
    big.push_back(heap.allocate(60000));
    std::memset(big.back(), 7, 60000);
  }
  for (void* p : big) heap.deallocate(p);
  heap.reclaim_now();
  CoalesceStats s = heap.stats();
  EXPECT_EQ(s.arenas_purged, 1u);
  EXPECT_GE(s.bytes_purged, size_t{40} * 56000);
  heap.reclaim_now();  // Nothing freed since: no second purge.
  EXPECT_EQ(heap.stats().arenas_purged, 1u);
  heap.deallocate(live);
  EXPECT_EQ(heap.check_heap(), "");
}

// Cached small blocks keep an arena alive; the reclaimer asks the owner to
// flush, and the next call does so.
TEST(CoalesceArena, ReclaimerRequestsCacheFlush) {
  CoalesceHeap heap;  // reclaim_now() by hand
  std::vector<void*> small;
  for (int i = 0; i < 40; ++i) small.push_back(heap.allocate(100));
  for (void* p : small) heap.deallocate(p);
  EXPECT_GT(heap.stats().bytes_in_use, 0u) << "freed small blocks should sit in the cache";
  heap.reclaim_now();                    // sees few live blocks: requests a flush
  heap.deallocate(heap.allocate(1000));  // the owner's next call flushes
  EXPECT_EQ(heap.stats().bytes_in_use, 0u);
  uint64_t before = heap.stats().arenas_decommitted;
  heap.reclaim_now();  // the arena is empty now: decommitted
  EXPECT_EQ(heap.stats().arenas_decommitted, before + 1);
  EXPECT_EQ(heap.check_heap(), "");
}

// The purge back-off (issue 14), driven pass by pass with reclaim_tick() on
// a heap without the background thread. `live` keeps the arena non-empty, so
// only the idle purge (case 5) applies to it.
class PurgeBackoff : public ::testing::Test {
 protected:
  void SetUp() override {
    live_ = heap_.allocate(1000);
    ASSERT_NE(live_, nullptr);
  }
  void TearDown() override {
    heap_.deallocate(live_);
    EXPECT_EQ(heap_.check_heap(), "");
  }
  // The arena is allocated from and freed into (what a replay does).
  void use() {
    std::vector<void*> big;
    for (int i = 0; i < 20; ++i) {
      big.push_back(heap_.allocate(60000));
      std::memset(big.back(), 7, 60000);
    }
    for (void* p : big) heap_.deallocate(p);
  }
  // Ticks until a purge happens (at most `limit` ticks); returns the ticks
  // it took, or limit + 1 when none came.
  int ticks_to_purge(int limit) {
    const uint64_t before = heap_.stats().arenas_purged;
    for (int i = 1; i <= limit; ++i) {
      heap_.reclaim_tick();
      if (heap_.stats().arenas_purged != before) return i;
    }
    return limit + 1;
  }
  // One refault: the arena is used, idles until it is purged, and is used
  // again right after the purge.
  void refault() {
    use();
    const int limit = static_cast<int>(CoalesceHeap::kMaxPurgeWait) + 1;
    ASSERT_LE(ticks_to_purge(limit), limit) << "no purge within the longest wait";
    use();
    heap_.reclaim_tick();
  }

  CoalesceHeap heap_;  // No background thread: the test decides when periods end.
  void* live_ = nullptr;
};

// A fresh arena is purged after one idle period (the tick that sees its use
// does not count); reused right after, it must then idle for two.
TEST_F(PurgeBackoff, ReuseRightAfterAPurgeDoublesTheWait) {
  EXPECT_EQ(heap_.stats().max_purge_wait, 1u);
  use();
  EXPECT_EQ(ticks_to_purge(4), 2);
  use();  // Allocated from in the period right after the purge: a refault.
  heap_.reclaim_tick();
  CoalesceStats s = heap_.stats();
  EXPECT_EQ(s.purges_refaulted, 1u);
  EXPECT_EQ(s.max_purge_wait, 2u);
  EXPECT_EQ(ticks_to_purge(4), 2) << "one idle period must no longer be enough";
  use();
  heap_.reclaim_tick();
  EXPECT_EQ(heap_.stats().max_purge_wait, 4u);
  EXPECT_EQ(ticks_to_purge(8), 4);
}

// The wait is bounded.
TEST_F(PurgeBackoff, WaitStopsAtItsBound) {
  for (int i = 0; i < 8; ++i) refault();
  EXPECT_EQ(heap_.stats().max_purge_wait, CoalesceHeap::kMaxPurgeWait);
  EXPECT_GE(heap_.stats().purges_refaulted, 5u);
}

// A purge that sticks (no allocation for twice the wait that led to it)
// halves the wait again.
TEST_F(PurgeBackoff, PurgeThatSticksHalvesTheWait) {
  refault();
  refault();
  ASSERT_EQ(heap_.stats().max_purge_wait, 4u);
  use();
  ASSERT_EQ(ticks_to_purge(8), 5);
  for (int i = 0; i < 7; ++i) heap_.reclaim_tick();  // Idle; the window is 8 ticks.
  EXPECT_EQ(heap_.stats().purges_stuck, 0u);
  EXPECT_EQ(heap_.stats().max_purge_wait, 4u);
  heap_.reclaim_tick();
  EXPECT_EQ(heap_.stats().purges_stuck, 1u);
  EXPECT_EQ(heap_.stats().max_purge_wait, 2u);
  use();  // After the window: no refault.
  EXPECT_EQ(ticks_to_purge(4), 3);
  EXPECT_EQ(heap_.stats().purges_refaulted, 2u);
}

// Burst then idle: however far refaults pushed the wait, a long busy period
// brings it back, so the first purge after it comes within two idle periods
// (three reclaim periods after the work ends, counting the one that sees it).
TEST_F(PurgeBackoff, LongBusyPeriodThenIdlePurgesWithinTheBound) {
  for (int i = 0; i < 8; ++i) refault();
  ASSERT_EQ(heap_.stats().max_purge_wait, CoalesceHeap::kMaxPurgeWait);
  const int busy = 4 * static_cast<int>(CoalesceHeap::kPurgeForgetPeriods);  // 320 ms at 10 ms.
  for (int i = 0; i < busy; ++i) {
    use();
    heap_.reclaim_tick();
  }
  EXPECT_EQ(heap_.stats().max_purge_wait, 1u);
  use();
  EXPECT_LE(ticks_to_purge(20), 3);
}

// Only the owner's current arena is backed off. A full arena whose free
// space is purged and that the owner later moves back to (a burst passing
// through its arenas) keeps a wait of one period.
TEST(CoalesceArena, PurgeOfANonCurrentArenaIsNotBackedOff) {
  CoalesceHeap heap;                 // reclaim_tick() by hand
  constexpr size_t kBlock = 500000;  // Eight fill an arena.
  std::vector<void*> first, second;
  for (int i = 0; i < 8; ++i) first.push_back(heap.allocate(kBlock));
  for (int i = 0; i < 8; ++i) second.push_back(heap.allocate(kBlock));
  ASSERT_NE(heap.arena_of(first[0]), heap.arena_of(second[0]));
  ASSERT_EQ(heap.arena_of(second[0]), heap.arena_of(second[7]));
  for (int i = 1; i < 8; ++i) heap.deallocate(first[i]);  // first[0] keeps the arena.
  heap.reclaim_tick();
  heap.reclaim_tick();
  ASSERT_EQ(heap.stats().arenas_purged, 1u) << "the first arena's free space idled a period";
  void* p = heap.allocate(kBlock);  // The current arena is full: the owner moves back.
  ASSERT_EQ(heap.arena_of(p), heap.arena_of(first[0]));
  heap.reclaim_tick();
  EXPECT_EQ(heap.stats().purges_refaulted, 0u);
  EXPECT_EQ(heap.stats().max_purge_wait, 1u);
  heap.deallocate(p);
  heap.deallocate(first[0]);
  for (void* q : second) heap.deallocate(q);
  EXPECT_EQ(heap.check_heap(), "");
}

}  // namespace
}  // namespace allocbench
