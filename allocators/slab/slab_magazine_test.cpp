// SlabMagazines: refill and spill in batches, exact counts across owners on
// one thread, thread exit, a destroyed owner skipped, misuse aborts (per call
// in the debug build, at spill time in the release build).
#include "allocators/slab/slab_magazine.h"

#include <gtest/gtest.h>

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

TEST(SlabMagazines, RefillsAndSpillsInHalves) {
  Slab* s = make_slab(1000);
  {
    SlabMagazines m(s, 16);
    std::set<void*> seen;
    std::vector<void*> v;
    for (int i = 0; i < 100; ++i) {
      void* p = m.alloc();
      ASSERT_NE(p, nullptr);
      EXPECT_TRUE(seen.insert(p).second) << "handed out twice";
      v.push_back(p);
    }
    // 100 allocations in refills of 8: 104 blocks left the slab, 4 cached.
    EXPECT_EQ(s->used_blocks(), 104u);
    EXPECT_EQ(m.cached_blocks(), 4u);
    for (void* p : v) m.free(p);
    EXPECT_LE(m.cached_blocks(), 16u);
    EXPECT_EQ(s->used_blocks(), m.cached_blocks()) << "every other block was spilled";
    m.thread_flush();
    EXPECT_EQ(m.cached_blocks(), 0u);
    EXPECT_EQ(s->used_blocks(), 0u);
  }
  Slab::destroy(s);
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

TEST(SlabMagazines, ThreadExitGivesBlocksBack) {
  Slab* s = make_slab(1000);
  {
    SlabMagazines m(s, 64);
    std::thread t([&] {
      std::vector<void*> v;
      for (int i = 0; i < 100; ++i) v.push_back(m.alloc());
      for (void* p : v) m.free(p);
    });
    t.join();
    EXPECT_EQ(m.cached_blocks(), 0u);
    EXPECT_EQ(s->used_blocks(), 0u);
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
// when the magazine spills (here: the flush).
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

TEST(SlabMagazines, ChecksAreWhereTheBuildSays) {
#if ALLOCBENCH_SLAB_CHECKS
  // Debug build: the second free aborts before reaching the magazine.
  Slab* s = make_slab(100);
  SlabMagazines m(s, 16);
  void* p = m.alloc();
  m.free(p);
  EXPECT_DEATH(m.free(p), "slab: double free");
  m.thread_flush();
  Slab::destroy(s);
#else
  // Release build: the fast path checks nothing; the double free is caught
  // only when both copies spill.
  Slab* s = make_slab(100);
  {
    SlabMagazines m(s, 16);
    void* p = m.alloc();
    m.free(p);
    m.free(p);  // Undetected here (no cost on the fast path)...
    EXPECT_EQ(m.cached_blocks(), 9u);
    EXPECT_DEATH(m.thread_flush(), "slab: double free");  // ...but at the spill.
  }
  Slab::destroy(s);
#endif
}

}  // namespace
}  // namespace allocbench
