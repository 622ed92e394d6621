// Arena stress: 4 threads allocate concurrently (no individual free), every
// block carries (thread, sequence) over its whole length; after the threads
// join every block must be intact and no two blocks may overlap. Then reset
// and repeat. Ops: 10M in full mode (in rounds), far fewer in quick mode.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "allocators/arena/arena.h"
#include "allocators/common/testing/stress_harness.h"

namespace allocbench {
namespace {

struct Rec {
  uintptr_t addr;
  size_t size;
  uint64_t tag;
};

void fill(const Rec& r) {
  testing::detail::Block b{reinterpret_cast<void*>(r.addr), r.size, 16, r.tag};
  testing::detail::fill(b);
}
bool check(const Rec& r) {
  testing::detail::Block b{reinterpret_cast<void*>(r.addr), r.size, 16, r.tag};
  return testing::detail::check(b);
}

void run(bool grow) {
  const int kThreads = 4;
  const uint64_t total = testing::stress_ops();
  const uint64_t per_round = 400000;
  Arena::Options o;
  o.chunk_size = grow ? 256 * 1024 : 64u << 20;
  o.grow = grow;
  Arena* a = Arena::create(o);
  ASSERT_NE(a, nullptr);
  uint64_t done = 0;
  int round = 0;
  while (done < total) {
    uint64_t ops = std::min(per_round, total - done);
    std::vector<std::vector<Rec>> recs(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        uint64_t rng = 0xA4E7A + 977 * t + 31 * round;
        for (uint64_t i = 0; i < ops / kThreads; ++i) {
          uint64_t r = testing::detail::splitmix(rng);
          size_t size = 1 + r % 96;
          size_t al = size_t{1} << ((r >> 8) % 8);  // 1..128
          void* p = a->alloc(size, al < 16 ? 16 : al);
          ASSERT_NE(p, nullptr);
          ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % al, 0u);
          Rec rec{reinterpret_cast<uintptr_t>(p), size, (uint64_t(t) << 40) | i};
          fill(rec);
          recs[t].push_back(rec);
        }
      });
    }
    for (auto& th : threads) th.join();
    std::vector<Rec> all;
    for (auto& v : recs) all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end(), [](const Rec& x, const Rec& y) { return x.addr < y.addr; });
    size_t bad = 0, overlaps = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      if (!check(all[i])) ++bad;
      if (i > 0 && all[i - 1].addr + all[i - 1].size > all[i].addr) ++overlaps;
    }
    EXPECT_EQ(bad, 0u) << "round " << round;
    EXPECT_EQ(overlaps, 0u) << "round " << round;
    a->reset();
    EXPECT_EQ(a->used_bytes(), 0u);
    done += ops;
    ++round;
  }
  Arena::destroy(a);
}

TEST(ArenaStress, FourThreadsFixedArena) { run(false); }
TEST(ArenaStress, FourThreadsGrowingArena) { run(true); }

}  // namespace
}  // namespace allocbench
