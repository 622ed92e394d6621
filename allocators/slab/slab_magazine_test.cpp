// SlabMagazines: refill and spill by halves through the depot, the depot's
// bound, exact counts across owners on one thread, thread exit, cross-thread
// frees (stolen from the freeing thread's depot), halves returning to their
// owner, a destroyed owner skipped, misuse aborts (per call in the debug build,
// when a half enters the depot or the slab in the release build).
#include "allocators/slab/slab_magazine.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace allocbench {
namespace {

Slab* make_slab(size_t blocks) {
  Slab::Options o;
  o.block_size = 64;
  o.num_blocks = blocks;
  return Slab::create(o);
}

SlabMagazines::Options options(uint32_t capacity, uint32_t depot_halves, bool check = false) {
  SlabMagazines::Options o;
  o.capacity = capacity;
  o.depot_halves = depot_halves;
  o.check_depot = check;
  return o;
}

TEST(SlabMagazines, RefillsFromTheSlabOnlyWhenTheDepotIsEmpty) {
  Slab* s = make_slab(1000);
  {
    SlabMagazines m(s, 16);
    EXPECT_EQ(m.half(), 8u);
    std::set<void*> seen;
    std::vector<void*> v;
    for (int i = 0; i < 100; ++i) {
      void* p = m.alloc();
      ASSERT_NE(p, nullptr);
      EXPECT_TRUE(seen.insert(p).second) << "handed out twice";
      v.push_back(p);
    }
    // 100 allocations in refills of 8 from the slab: 104 blocks left it, 4 cached.
    EXPECT_EQ(s->used_blocks(), 104u);
    EXPECT_EQ(m.cached_blocks(), 4u);
    EXPECT_EQ(m.depot_halves(), 0u);
    for (void* p : v) m.free(p);
    // Both halves full, the 11 other full halves in the depot: nothing went
    // back to the slab.
    EXPECT_EQ(m.depot_halves(), 11u);
    EXPECT_EQ(m.cached_blocks(), 104u);
    EXPECT_EQ(s->used_blocks(), 104u);
    m.thread_flush();  // The two full halves join the depot.
    EXPECT_EQ(m.depot_halves(), 13u);
    EXPECT_EQ(m.cached_blocks(), 104u);
    m.flush_depot();
    EXPECT_EQ(m.cached_blocks(), 0u);
    EXPECT_EQ(s->used_blocks(), 0u);
  }
  Slab::destroy(s);
}

// A spill into the depot and a refill from it move whole halves: the blocks
// freed come back, none twice, and the slab is not touched.
TEST(SlabMagazines, DepotRoundTrip) {
  Slab* s = make_slab(1000);
  {
    SlabMagazines m(s, 16);
    std::vector<void*> v;
    for (int i = 0; i < 96; ++i) v.push_back(m.alloc());
    for (void* p : v) m.free(p);
    ASSERT_EQ(m.depot_halves(), 10u);
    const size_t used = s->used_blocks();
    std::set<void*> freed(v.begin(), v.end());
    std::set<void*> again;
    for (int i = 0; i < 96; ++i) {
      void* p = m.alloc();
      EXPECT_TRUE(again.insert(p).second) << "a block came back twice";
      EXPECT_EQ(freed.count(p), 1u) << "not one of the blocks freed";
    }
    EXPECT_EQ(m.depot_halves(), 0u) << "the 10 halves came back";
    EXPECT_EQ(s->used_blocks(), used) << "no refill went to the slab";
    for (void* p : again) m.free(p);
    m.thread_flush();
    EXPECT_EQ(m.depot_halves(), 12u);
  }
  EXPECT_EQ(s->used_blocks(), 0u) << "destruction gives the depot back to the slab";
  Slab::destroy(s);
}

TEST(SlabMagazines, DepotIsBounded) {
  Slab* s = make_slab(1000);
  {
    SlabMagazines m(s, options(16, 2));
    std::vector<void*> v;
    for (int i = 0; i < 100; ++i) v.push_back(m.alloc());
    for (void* p : v) m.free(p);
    EXPECT_EQ(m.depot_halves(), 2u);
    // Two halves in the magazine, two in the depot; the rest went to the slab.
    EXPECT_EQ(m.cached_blocks(), 32u);
    EXPECT_EQ(s->used_blocks(), 32u);
  }
  Slab* s0 = make_slab(1000);
  {
    SlabMagazines m(s0, options(16, 0));  // No depot: every overflow goes to the slab.
    std::vector<void*> v;
    for (int i = 0; i < 100; ++i) v.push_back(m.alloc());
    for (void* p : v) m.free(p);
    EXPECT_EQ(m.depot_halves(), 0u);
    EXPECT_EQ(m.cached_blocks(), 16u);
    EXPECT_EQ(s0->used_blocks(), 16u);
  }
  Slab::destroy(s);
  Slab::destroy(s0);
}

TEST(SlabMagazines, TwoOwnersOnOneThreadKeepExactCounts) {
  Slab* sa = make_slab(200);
  Slab* sb = make_slab(200);
  {
    SlabMagazines a(sa, 32);
    SlabMagazines b(sb, 32);
    std::vector<void*> va, vb;
    for (int i = 0; i < 50; ++i) {
      va.push_back(a.alloc());
      vb.push_back(b.alloc());
    }
    for (void* p : va) EXPECT_EQ(sa->index_of(p) == Slab::kNil, false);
    for (void* p : vb) EXPECT_EQ(sb->index_of(p) == Slab::kNil, false);
    for (int i = 0; i < 50; ++i) {
      a.free(va[i]);
      b.free(vb[i]);
    }
    // Each switch wrote the other's count back: the sums are exact.
    EXPECT_EQ(sa->used_blocks(), a.cached_blocks());
    EXPECT_EQ(sb->used_blocks(), b.cached_blocks());
    std::set<void*> again;
    for (int i = 0; i < 200; ++i) {
      void* p = a.alloc();
      ASSERT_NE(p, nullptr) << i;
      EXPECT_TRUE(again.insert(p).second) << "a block came back twice";
    }
    EXPECT_EQ(a.alloc(), nullptr) << "all 200 blocks are out, none lost";
    for (void* p : again) a.free(p);
  }
  Slab::destroy(sa);
  Slab::destroy(sb);
}

// Runs of fast-path operations between switches: the count a switch writes
// back is the only record of them. Without it, switching back would reload
// a stale count and hand out blocks that are already out.
TEST(SlabMagazines, SwitchWritesBackTheFastPathCount) {
  Slab* sa = make_slab(100);
  Slab* sb = make_slab(100);
  {
    SlabMagazines a(sa, 16);
    SlabMagazines b(sb, 16);
    std::set<void*> out;
    for (int round = 0; round < 4; ++round) {
      for (int i = 0; i < 5; ++i) {
        void* p = a.alloc();  // After the first refill: fast path only.
        ASSERT_NE(p, nullptr);
        EXPECT_TRUE(out.insert(p).second) << "a block of a handed out twice";
      }
      b.free(b.alloc());  // Switch to b and back.
    }
    EXPECT_EQ(out.size(), 20u);
    EXPECT_EQ(sa->used_blocks(), out.size() + a.cached_blocks());
    for (void* p : out) a.free(p);
  }
  Slab::destroy(sa);
  Slab::destroy(sb);
}

// At thread exit full halves go to the depot (another thread takes them
// without touching the slab), a partial one to the slab.
TEST(SlabMagazines, ThreadExitReturnsHalves) {
  Slab* s = make_slab(1000);
  {
    SlabMagazines m(s, 64);
    std::thread t([&] {
      std::vector<void*> v;
      for (int i = 0; i < 100; ++i) v.push_back(m.alloc());
      for (void* p : v) m.free(p);
      for (int i = 0; i < 5; ++i) m.alloc();  // Leaves 27 in the loaded half...
    });
    t.join();
    // ...refills of 32: 128 left the slab; 5 are out, 27 went back, 96 wait in
    // the depot as 3 halves.
    EXPECT_EQ(m.depot_halves(), 3u);
    EXPECT_EQ(m.cached_blocks(), 96u);
    EXPECT_EQ(s->used_blocks(), 101u);
    std::thread u([&] {
      std::vector<void*> v;
      for (int i = 0; i < 96; ++i) v.push_back(m.alloc());
      EXPECT_EQ(s->used_blocks(), 101u) << "served from the depot, not the slab";
      for (void* p : v) m.free(p);
    });
    u.join();
    EXPECT_EQ(m.depot_halves(), 3u);
    m.flush_depot();
    EXPECT_EQ(m.cached_blocks(), 0u);
    EXPECT_EQ(s->used_blocks(), 5u);
  }
  Slab::destroy(s);
}

// Blocks allocated on one thread and freed on another enter the freeing
// thread's magazine and the depot; the first thread gets them back from the
// depot. Nothing is lost or handed out twice.
TEST(SlabMagazines, CrossThreadFreesComeBackThroughTheDepot) {
  Slab* s = make_slab(4096);
  {
    SlabMagazines m(s, 16);
    std::vector<void*> v;
    for (int i = 0; i < 800; ++i) v.push_back(m.alloc());
    const size_t used = s->used_blocks();
    std::thread t([&] {
      for (void* p : v) m.free(p);
    });
    t.join();
    EXPECT_EQ(m.depot_halves(), 100u);
    std::set<void*> freed(v.begin(), v.end());
    std::set<void*> again;
    for (int i = 0; i < 800; ++i) {
      void* p = m.alloc();
      EXPECT_TRUE(again.insert(p).second) << "a block came back twice";
      EXPECT_EQ(freed.count(p), 1u);
    }
    EXPECT_EQ(s->used_blocks(), used) << "all 800 came from the depot";
    for (void* p : again) m.free(p);
    m.thread_flush();
    m.flush_depot();
    EXPECT_EQ(s->used_blocks(), 0u) << "no block lost";
  }
  Slab::destroy(s);
}

// Hands the turn from one thread to the next: step k runs only after steps
// 0..k-1 have finished.
class Turns {
 public:
  void wait(int step) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return step_ == step; });
  }
  void done() {
    std::lock_guard<std::mutex> lock(mu_);
    ++step_;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int step_ = 0;
};

// Two live threads that each allocate a batch of more than a half and free it
// again, in turn (A allocates, B allocates, A frees, B frees, ...), each get
// only their own blocks back, and no refill after the first round goes to the
// slab: a thread's halves return to it, from its own depot. With one shared
// depot (last in first out) A took B's halves, freed just before: the blocks
// and arrays migrated between the cores once per batch (issue 14).
TEST(SlabMagazines, HalvesReturnToTheirOwner) {
  Slab* s = make_slab(4096);
  {
    SlabMagazines m(s, 16);
    constexpr int kBatch = 100;  // 12.5 halves.
    constexpr int kRounds = 4;
    Turns turns;
    std::set<void*> first[2];  // Each thread's first batch.
    size_t used_after_first = 0;
    size_t foreign[2] = {0, 0};
    size_t refilled[2] = {0, 0};  // Blocks that left the slab after the first round.
    auto body = [&](int me) {
      std::vector<void*> v;
      for (int round = 0; round < kRounds; ++round) {
        turns.wait(4 * round + me);
        const size_t used = s->used_blocks();
        for (int i = 0; i < kBatch; ++i) v.push_back(m.alloc());
        if (round == 0) {
          first[me].insert(v.begin(), v.end());
        } else {
          refilled[me] += s->used_blocks() - used;
          for (void* p : v) foreign[me] += first[1 - me].count(p);
        }
        if (round == 0 && me == 1) used_after_first = s->used_blocks();
        turns.done();
        turns.wait(4 * round + 2 + me);
        for (void* p : v) m.free(p);
        v.clear();
        turns.done();
      }
    };
    std::thread a(body, 0);
    std::thread b(body, 1);
    a.join();
    b.join();
    EXPECT_EQ(first[0].size() + first[1].size(), 2u * kBatch);
    EXPECT_EQ(foreign[0], 0u) << "thread A got blocks of B's halves";
    EXPECT_EQ(foreign[1], 0u) << "thread B got blocks of A's halves";
    EXPECT_EQ(refilled[0] + refilled[1], 0u) << "a refill went to the slab";
    EXPECT_EQ(used_after_first, 2u * 104) << "round one: refills of 8 from the slab";
    m.flush_depot();
    EXPECT_EQ(s->used_blocks(), 0u) << "no block lost";
  }
  Slab::destroy(s);
}

// A thread whose current magazine belongs to an owner destroyed meanwhile
// must not write its count back into the freed magazine (ASan would see it).
TEST(SlabMagazines, DestroyedOwnerIsSkipped) {
  Slab* sa = make_slab(100);
  Slab* sb = make_slab(100);
  auto* a = new SlabMagazines(sa, 16);
  SlabMagazines b(sb, 16);
  void* p = a->alloc();
  a->free(p);  // This thread's current magazine is now a's.
  std::thread t([&] {
    delete a;  // Destroyed on another thread while this one holds it as current...
    a = nullptr;
  });
  t.join();
  void* r = b.alloc();  // ...then this thread switches to b: no write-back into a.
  ASSERT_NE(r, nullptr);
  b.free(r);
  EXPECT_EQ(b.cached_blocks(), 8u);
  b.thread_flush();
  b.flush_depot();
  EXPECT_EQ(sb->used_blocks(), 0u);
  Slab::destroy(sa);
  Slab::destroy(sb);
}

TEST(SlabMagazines, NoMagazinesGoesToTheSlab) {
  Slab* s = make_slab(10);
  {
    SlabMagazines m(s, 0);
    std::vector<void*> v;
    for (int i = 0; i < 10; ++i) v.push_back(m.alloc());
    EXPECT_EQ(m.alloc(), nullptr);
    EXPECT_EQ(s->used_blocks(), 10u);
    for (void* p : v) m.free(p);
    EXPECT_EQ(s->used_blocks(), 0u);
    EXPECT_EQ(m.cached_blocks(), 0u);
  }
  Slab::destroy(s);
}

// Misuse: the debug build aborts at the bad free itself, the release build
// when the block's half enters the depot or the slab (here: the flush).
void double_free_then_flush() {
  Slab* s = make_slab(100);
  SlabMagazines m(s, 16);
  void* p = m.alloc();
  m.free(p);
  m.free(p);
  m.thread_flush();
}

void invalid_free_then_flush() {
  Slab* s = make_slab(100);
  SlabMagazines m(s, 16);
  void* p = m.alloc();
  m.free(static_cast<char*>(p) + 8);
  m.thread_flush();
}

TEST(SlabMagazinesDeathTest, DoubleFreeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(double_free_then_flush(), "slab: double free of 0x");
}

TEST(SlabMagazinesDeathTest, InvalidFreeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(invalid_free_then_flush(), "slab: invalid free of 0x");
}

// The release build's block-start scan at the depot's door: the bad pointer
// aborts when its half enters the depot, not only when the depot is given
// back to the slab (the magazines are never destroyed here).
TEST(SlabMagazinesDeathTest, InvalidFreeIsCaughtAtTheDepotDoor) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Slab* s = make_slab(100);
        auto* m = new SlabMagazines(s, 16);
        void* p = m->alloc();
        m->free(static_cast<char*>(p) + 8);
        m->thread_flush();  // The full loaded half enters the depot.
      },
      "slab: invalid free of 0x");
}

// Frees 24 blocks and p[8] a second time, after the first copy's half has
// entered the depot and before the second copy's half does.
void double_free_into_depot(SlabMagazines& m) {
  std::vector<void*> p;
  for (int i = 0; i < 24; ++i) p.push_back(m.alloc());
  for (int i = 0; i < 17; ++i) m.free(p[i]);   // Halves [0..7], [8..15] (depot), [16].
  m.free(p[8]);                                // Debug build: aborts here.
  for (int i = 17; i < 23; ++i) m.free(p[i]);  // The loaded half is full: [16, 8, 17..22]...
  m.free(p[23]);                               // ...and enters the depot.
}

TEST(SlabMagazinesDeathTest, DoubleFreeIsCaughtEnteringTheDepot) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        // Never destroyed: only the depot's door can catch it here.
        Slab* s = make_slab(100);
        auto* m = new SlabMagazines(s, options(16, 8, /*check=*/true));
        double_free_into_depot(*m);
      },
      "slab: double free of 0x");
}

TEST(SlabMagazinesDeathTest, ByDefaultTheSlabCatchesIt) {
#if ALLOCBENCH_SLAB_CHECKS
  GTEST_SKIP() << "debug build: every free is checked";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Slab* s = make_slab(100);
        SlabMagazines m(s, options(16, 8));  // The default: block starts only.
        double_free_into_depot(m);
        if (m.depot_halves() == 2) std::fprintf(stderr, "not seen entering the depot\n");
        m.flush_depot();  // Both copies reach the slab.
      },
      "not seen entering the depot\nslab: double free of 0x");
#endif
}

TEST(SlabMagazines, ChecksAreWhereTheBuildSays) {
#if ALLOCBENCH_SLAB_CHECKS
  // Debug build: the second free aborts before reaching the magazine.
  Slab* s = make_slab(100);
  {
    // Destroyed before the slab: its destructor gives the depot back to it.
    SlabMagazines m(s, 16);
    void* p = m.alloc();
    m.free(p);
    EXPECT_DEATH(m.free(p), "slab: double free");
    m.thread_flush();
  }
  Slab::destroy(s);
#else
  // Release build: the fast path checks nothing; the double free is caught
  // only when both copies reach the slab.
  Slab* s = make_slab(100);
  {
    SlabMagazines m(s, 16);
    void* p = m.alloc();
    m.free(p);
    m.free(p);  // Undetected here (no cost on the fast path)...
    EXPECT_EQ(m.cached_blocks(), 9u);
    // ...but when both copies reach the slab: the partial half at the flush,
    // the full one (now in the depot) when the depot is given back.
    EXPECT_DEATH(
        {
          m.thread_flush();
          m.flush_depot();
        },
        "slab: double free");
  }
  Slab::destroy(s);
#endif
}

}  // namespace
}  // namespace allocbench
