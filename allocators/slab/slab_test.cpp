// The seed's slab tests (create/destroy, single block, all blocks, free and
// reallocate, double free, alignment, statistics, invalid free) plus growth,
// batches, and containers on top.
#include "allocators/slab/slab.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "allocators/common/pmr_support.h"

namespace allocbench {
namespace {

TEST(Slab, CreateAndDestroy) {
  slab_allocator_t* s = slab_create(256, 1000);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(slab_block_size(s), 256u);
  slab_destroy(s);
  EXPECT_EQ(slab_create(0, 10), nullptr);
  EXPECT_EQ(slab_create(64, 0), nullptr);
  slab_destroy(nullptr);
}

TEST(Slab, SingleBlock) {
  slab_allocator_t* s = slab_create(100, 10);
  void* p = slab_alloc(s);
  ASSERT_NE(p, nullptr);
  std::memset(p, 0xAB, 100);
  EXPECT_EQ(slab_free(s, p), SLAB_OK);
  slab_destroy(s);
}

TEST(Slab, AllBlocksThenExhausted) {
  const size_t n = 1000;
  slab_allocator_t* s = slab_create(64, n);
  std::set<uintptr_t> seen;
  std::vector<void*> blocks;
  for (size_t i = 0; i < n; ++i) {
    void* p = slab_alloc(s);
    ASSERT_NE(p, nullptr) << i;
    EXPECT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(p)).second) << "handed out twice";
    std::memset(p, static_cast<int>(i), 64);
    blocks.push_back(p);
  }
  EXPECT_EQ(slab_alloc(s), nullptr) << "no growth by default";
  // No two blocks overlap: consecutive addresses are at least a block apart.
  uintptr_t prev = 0;
  for (uintptr_t a : seen) {
    if (prev != 0) {
      EXPECT_GE(a - prev, 64u);
    }
    prev = a;
  }
  for (size_t i = 0; i < n; ++i) {
    const unsigned char* p = static_cast<const unsigned char*>(blocks[i]);
    EXPECT_EQ(p[0], static_cast<unsigned char>(i));
    EXPECT_EQ(p[63], static_cast<unsigned char>(i));
    EXPECT_EQ(slab_free(s, blocks[i]), SLAB_OK);
  }
  slab_destroy(s);
}

TEST(Slab, FreeAndReallocateReusesBlocks) {
  slab_allocator_t* s = slab_create(32, 4);
  void* a[4];
  for (auto& p : a) p = slab_alloc(s);
  EXPECT_EQ(slab_alloc(s), nullptr);
  EXPECT_EQ(slab_free(s, a[2]), SLAB_OK);
  void* again = slab_alloc(s);
  EXPECT_EQ(again, a[2]) << "the freed block is the only one available";
  EXPECT_EQ(slab_alloc(s), nullptr);
  for (auto& p : a) EXPECT_EQ(slab_free(s, p), SLAB_OK);
  for (int i = 0; i < 4; ++i) EXPECT_NE(slab_alloc(s), nullptr);
  slab_destroy(s);
}

TEST(Slab, DoubleFreeIsDetected) {
  slab_allocator_t* s = slab_create(64, 8);
  void* p = slab_alloc(s);
  void* q = slab_alloc(s);
  EXPECT_EQ(slab_free(s, p), SLAB_OK);
  EXPECT_EQ(slab_free(s, p), SLAB_ERR_DOUBLE_FREE);
  size_t used = 0, free_blocks = 0;
  ASSERT_EQ(slab_stats(s, &used, &free_blocks), SLAB_OK);
  EXPECT_EQ(used, 1u) << "the rejected free changed nothing";
  // The free stack is intact: p comes back exactly once.
  void* r1 = slab_alloc(s);
  void* r2 = slab_alloc(s);
  EXPECT_EQ(r1, p);
  EXPECT_NE(r2, p);
  EXPECT_NE(r2, q);
  slab_destroy(s);
}

TEST(Slab, DefaultAlignmentIsMaxAlign) {
  for (size_t bs : {1u, 8u, 17u, 24u, 100u, 256u}) {
    slab_allocator_t* s = slab_create(bs, 64);
    for (int i = 0; i < 64; ++i) {
      void* p = slab_alloc(s);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignof(std::max_align_t), 0u) << bs;
    }
    slab_destroy(s);
  }
}

TEST(Slab, CacheLineAlignmentOption) {
  slab_options_t o{40, 100, SLAB_FLAG_CACHE_ALIGN};
  slab_allocator_t* s = slab_create_ex(&o);
  EXPECT_EQ(slab_block_size(s), 64u);
  for (int i = 0; i < 100; ++i) {
    void* p = slab_alloc(s);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  }
  slab_destroy(s);
}

TEST(Slab, Statistics) {
  slab_allocator_t* s = slab_create(128, 50);
  size_t used = 99, free_blocks = 99;
  ASSERT_EQ(slab_stats(s, &used, &free_blocks), SLAB_OK);
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(free_blocks, 50u);
  std::vector<void*> v;
  for (int i = 0; i < 20; ++i) v.push_back(slab_alloc(s));
  slab_stats(s, &used, &free_blocks);
  EXPECT_EQ(used, 20u);
  EXPECT_EQ(free_blocks, 30u);
  for (int i = 0; i < 5; ++i) slab_free(s, v[i]);
  slab_stats(s, &used, &free_blocks);
  EXPECT_EQ(used, 15u);
  EXPECT_EQ(free_blocks, 35u);
  EXPECT_EQ(slab_stats(s, nullptr, &free_blocks), SLAB_ERR_INVALID_ARG);
  EXPECT_EQ(slab_stats(nullptr, &used, &free_blocks), SLAB_ERR_INVALID_ARG);
  slab_destroy(s);
}

TEST(Slab, InvalidFreeIsDetected) {
  slab_allocator_t* s = slab_create(64, 16);
  slab_allocator_t* other = slab_create(64, 16);
  void* p = slab_alloc(s);
  int on_stack = 0;
  EXPECT_EQ(slab_free(s, &on_stack), SLAB_ERR_NOT_A_BLOCK);
  EXPECT_EQ(slab_free(s, static_cast<char*>(p) + 8), SLAB_ERR_NOT_A_BLOCK) << "interior pointer";
  EXPECT_EQ(slab_free(s, nullptr), SLAB_ERR_NOT_A_BLOCK);
  EXPECT_EQ(slab_free(s, static_cast<char*>(p) + 64), SLAB_ERR_NOT_A_BLOCK)
      << "a block never handed out";
  void* q = slab_alloc(other);
  EXPECT_EQ(slab_free(s, q), SLAB_ERR_NOT_A_BLOCK) << "a block of another slab";
  EXPECT_EQ(slab_free(nullptr, p), SLAB_ERR_INVALID_ARG);
  EXPECT_EQ(slab_free(s, p), SLAB_OK) << "the real free still works";
  EXPECT_EQ(slab_free(other, q), SLAB_OK);
  slab_destroy(s);
  slab_destroy(other);
}

TEST(Slab, GrowthMapsFurtherRegions) {
  slab_options_t o{48, 10, SLAB_FLAG_GROW};
  slab_allocator_t* s = slab_create_ex(&o);
  std::set<void*> seen;
  std::vector<void*> v;
  for (int i = 0; i < 500; ++i) {
    void* p = slab_alloc(s);
    ASSERT_NE(p, nullptr) << i;
    EXPECT_TRUE(seen.insert(p).second);
    std::memset(p, i & 0xFF, 48);
    v.push_back(p);
  }
  auto* slab = reinterpret_cast<Slab*>(s);
  EXPECT_GT(slab->regions_grown(), 0u);
  EXPECT_GE(slab->capacity_blocks(), 500u);
  size_t used = 0, free_blocks = 0;
  slab_stats(s, &used, &free_blocks);
  EXPECT_EQ(used, 500u);
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(static_cast<unsigned char*>(v[i])[47], static_cast<unsigned char>(i & 0xFF));
    EXPECT_EQ(slab_free(s, v[i]), SLAB_OK) << i;
    EXPECT_EQ(slab_free(s, v[i]), SLAB_ERR_DOUBLE_FREE) << i;
  }
  slab_stats(s, &used, &free_blocks);
  EXPECT_EQ(used, 0u);
  slab_destroy(s);
}

TEST(Slab, BatchesMoveManyBlocksAtOnce) {
  Slab::Options o;
  o.block_size = 64;
  o.num_blocks = 100;
  Slab* s = Slab::create(o);
  void* out[64];
  EXPECT_EQ(s->alloc_batch(out, 64), 64u);
  std::set<void*> seen(out, out + 64);
  EXPECT_EQ(seen.size(), 64u);
  EXPECT_EQ(s->used_blocks(), 64u);
  s->free_batch(out, 32);
  EXPECT_EQ(s->used_blocks(), 32u);
  void* again[64];
  EXPECT_EQ(s->alloc_batch(again, 64), 64u) << "32 from the stack, 32 carved";
  EXPECT_EQ(s->alloc_batch(again, 64), 4u) << "only 4 left";
  EXPECT_EQ(s->free(out[40]), SLAB_OK);
  EXPECT_EQ(s->free(out[40]), SLAB_ERR_DOUBLE_FREE);
  Slab::destroy(s);
}

TEST(Slab, PmrAndStlContainers) {
  Slab::Options o;
  o.block_size = 4096;
  o.num_blocks = 256;
  Slab* s = Slab::create(o);
  {
    BackendResource<Slab> res(s);
    std::pmr::vector<int> v(&res);
    v.reserve(1000);
    for (int i = 0; i < 1000; ++i) v.push_back(i);
    EXPECT_EQ(v[999], 999);
    std::pmr::unordered_map<int, int> m(&res);
    for (int i = 0; i < 200; ++i) m[i] = i * 2;
    EXPECT_EQ(m.at(150), 300);
    EXPECT_THROW((void)res.allocate(8192), std::bad_alloc) << "larger than a block";

    using Alloc = BackendAllocator<char, Slab>;
    std::basic_string<char, std::char_traits<char>, Alloc> str{Alloc(s)};
    str.assign(3000, 'x');
    EXPECT_EQ(str.size(), 3000u);
    std::vector<long, BackendAllocator<long, Slab>> lv{BackendAllocator<long, Slab>(s)};
    lv.assign(400, 7);
    EXPECT_EQ(lv[399], 7);
  }
  EXPECT_EQ(s->used_blocks(), 0u) << "containers gave every block back";
  Slab::destroy(s);
}

}  // namespace
}  // namespace allocbench
