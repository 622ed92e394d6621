// The seed's arena tests (alignment, exhaustion, reset, statistics) plus
// growth, aligned allocation, single-owner mode and containers on top.
#include "allocators/arena/arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "allocators/common/pmr_support.h"

namespace allocbench {
namespace {

bool aligned(const void* p, size_t a) { return reinterpret_cast<uintptr_t>(p) % a == 0; }

TEST(Arena, CreateAllocDestroy) {
  arena_allocator_t* a = arena_create(64 * 1024);
  ASSERT_NE(a, nullptr);
  void* p1 = arena_alloc(a, 256);
  void* p2 = arena_alloc(a, 512);
  ASSERT_NE(p1, nullptr);
  ASSERT_NE(p2, nullptr);
  EXPECT_GE(static_cast<char*>(p2) - static_cast<char*>(p1), 256);
  std::memset(p1, 1, 256);
  std::memset(p2, 2, 512);
  EXPECT_EQ(static_cast<unsigned char*>(p1)[255], 1);
  arena_destroy(a);
  EXPECT_EQ(arena_create(0), nullptr);
  arena_destroy(nullptr);
}

TEST(Arena, DefaultAlignmentIsMaxAlign) {
  arena_allocator_t* a = arena_create(64 * 1024);
  for (size_t s : {1u, 3u, 7u, 13u, 17u, 100u, 1u}) {
    void* p = arena_alloc(a, s);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(aligned(p, alignof(std::max_align_t))) << s;
  }
  void* z1 = arena_alloc(a, 0);
  void* z2 = arena_alloc(a, 0);
  EXPECT_NE(z1, nullptr);
  EXPECT_NE(z1, z2) << "size 0 still gives unique pointers";
  arena_destroy(a);
}

TEST(Arena, AlignedAllocationHonoursEveryPowerOfTwo) {
  arena_allocator_t* a = arena_create_growing(256 * 1024);
  for (size_t al = 1; al <= (size_t{1} << 16); al <<= 1) {
    arena_alloc(a, 3);  // Misalign the cursor first.
    void* p = arena_alloc_aligned(a, 100, al);
    ASSERT_NE(p, nullptr) << al;
    EXPECT_TRUE(aligned(p, al)) << al;
  }
  EXPECT_EQ(arena_alloc_aligned(a, 8, 3), nullptr) << "not a power of two";
  EXPECT_EQ(arena_alloc_aligned(a, 8, 0), nullptr);
  arena_destroy(a);
}

TEST(Arena, ExhaustionOfAFixedArena) {
  arena_allocator_t* a = arena_create(1024);
  EXPECT_NE(arena_alloc(a, 1000), nullptr);
  EXPECT_EQ(arena_alloc(a, 100), nullptr) << "does not fit";
  EXPECT_NE(arena_alloc(a, 16), nullptr) << "a failed request does not consume space";
  EXPECT_EQ(arena_alloc(a, 16), nullptr);
  EXPECT_EQ(arena_alloc(a, 4096), nullptr);
  arena_destroy(a);
}

TEST(Arena, ResetFreesEverythingAtOnce) {
  arena_allocator_t* a = arena_create(4096);
  void* first = arena_alloc(a, 64);
  while (arena_alloc(a, 64) != nullptr) {
  }
  arena_reset(a);
  size_t used = 1, cap = 0;
  arena_stats(a, &used, &cap);
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(arena_alloc(a, 64), first) << "allocation starts over at the beginning";
  arena_destroy(a);
}

TEST(Arena, Statistics) {
  arena_allocator_t* a = arena_create(10000);
  size_t used = 99, cap = 0;
  ASSERT_EQ(arena_stats(a, &used, &cap), 0);
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(cap, 10000u);
  arena_alloc(a, 100);  // Rounded to 112.
  arena_alloc(a, 16);
  arena_stats(a, &used, &cap);
  EXPECT_EQ(used, 128u);
  EXPECT_EQ(arena_stats(a, nullptr, &cap), -1);
  EXPECT_EQ(arena_stats(nullptr, &used, &cap), -1);
  arena_destroy(a);
}

TEST(Arena, GrowingArenaChainsChunksAndReusesThemAfterReset) {
  Arena::Options o;
  o.chunk_size = 4096;
  o.grow = true;
  Arena* a = Arena::create(o);
  std::vector<char*> ps;
  for (int i = 0; i < 100; ++i) {
    char* p = static_cast<char*>(a->alloc(1000));
    ASSERT_NE(p, nullptr);
    std::memset(p, i, 1000);
    ps.push_back(p);
  }
  for (int i = 0; i < 100; ++i) EXPECT_EQ(static_cast<unsigned char>(ps[i][999]), i);
  size_t chunks = a->chunk_count();
  EXPECT_GT(chunks, 20u);
  EXPECT_GE(a->used_bytes(), 100u * 1008);
  void* big = a->alloc(100000);
  ASSERT_NE(big, nullptr) << "larger than a chunk: gets a chunk of its own";
  std::memset(big, 7, 100000);
  size_t chunks_after_big = a->chunk_count();
  a->reset();
  EXPECT_EQ(a->used_bytes(), 0u);
  for (int i = 0; i < 100; ++i) ASSERT_NE(a->alloc(1000), nullptr);
  EXPECT_EQ(a->chunk_count(), chunks_after_big) << "retained chunks are reused after reset";
  Arena::destroy(a);
}

TEST(Arena, SingleOwnerMode) {
  arena_options_t o{8192, ARENA_FLAG_GROW | ARENA_FLAG_SINGLE_OWNER};
  arena_allocator_t* a = arena_create_ex(&o);
  char* prev = nullptr;
  for (int i = 0; i < 1000; ++i) {
    char* p = static_cast<char*>(arena_alloc(a, 48));
    ASSERT_NE(p, nullptr);
    EXPECT_NE(p, prev);
    prev = p;
  }
  size_t used = 0, cap = 0;
  arena_stats(a, &used, &cap);
  EXPECT_EQ(used, 48000u);
  arena_destroy(a);
}

TEST(Arena, PmrAndStlContainers) {
  Arena::Options o;
  o.chunk_size = 64 * 1024;
  o.grow = true;
  Arena* a = Arena::create(o);
  {
    BackendResource<Arena> res(a);
    std::pmr::vector<int> v(&res);
    for (int i = 0; i < 10000; ++i) v.push_back(i);
    EXPECT_EQ(v[9999], 9999);
    std::pmr::unordered_map<int, std::pmr::string> m(&res);
    for (int i = 0; i < 1000; ++i) m[i] = std::pmr::string(40, static_cast<char>('a' + i % 26));
    EXPECT_EQ(m.at(27)[39], 'b');
    using CharAlloc = BackendAllocator<char, Arena>;
    std::basic_string<char, std::char_traits<char>, CharAlloc> s{CharAlloc(a)};
    s.assign(500, 'q');
    EXPECT_EQ(s.back(), 'q');
    std::unordered_map<int, int, std::hash<int>, std::equal_to<int>,
                       BackendAllocator<std::pair<const int, int>, Arena>>
        um{10, std::hash<int>(), std::equal_to<int>(),
           BackendAllocator<std::pair<const int, int>, Arena>(a)};
    for (int i = 0; i < 1000; ++i) um[i] = -i;
    EXPECT_EQ(um.at(999), -999);
    EXPECT_GT(a->used_bytes(), 40000u);
  }
  Arena::destroy(a);
}

}  // namespace
}  // namespace allocbench
