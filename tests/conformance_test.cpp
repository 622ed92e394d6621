// The conformance suite, run against every adapter that lives in this cell
// (this executable is linked like allocbench_cell_<ALLOCBENCH_CELL_NAME>, so
// the malloc replacements are tested in the process they are measured in).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "adapters/adapter.h"
#include "allocators/common/platform.h"

#ifndef ALLOCBENCH_CELL_NAME
#define ALLOCBENCH_CELL_NAME ""
#endif

namespace allocbench {
namespace {

std::vector<const AdapterInfo*> cell_adapters() {
  std::vector<const AdapterInfo*> out;
  for (const AdapterInfo& a : adapter_registry()) {
    if (std::strcmp(a.cell, ALLOCBENCH_CELL_NAME) == 0 && !a.test_only) out.push_back(&a);
  }
  return out;
}

// Sizes to try for an adapter: its fixed size, or a spread up to max_size.
std::vector<size_t> sizes_for(const Capabilities& c) {
  if (c.fixed_size != 0) return {c.fixed_size};
  std::vector<size_t> out;
  for (size_t s : {size_t{1}, size_t{7}, size_t{16}, size_t{24}, size_t{64}, size_t{100},
                   size_t{513}, size_t{4096}, size_t{4097}, size_t{65536}, size_t{300000}}) {
    if (s <= c.max_size) out.push_back(s);
  }
  return out;
}

void fill(void* p, size_t n, uint8_t seed) {
  auto* b = static_cast<uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 31);
}

bool check(const void* p, size_t n, uint8_t seed) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != static_cast<uint8_t>(seed + i * 31)) return false;
  }
  return true;
}

class Conformance : public ::testing::TestWithParam<const AdapterInfo*> {
 protected:
  void SetUp() override {
    info_ = GetParam();
    adapter_ = info_->create();
    adapter_->thread_init();
  }
  void TearDown() override {
    adapter_->thread_exit();
    adapter_.reset();
  }
  const AdapterInfo* info_;
  std::unique_ptr<Adapter> adapter_;
};

TEST_P(Conformance, RunsTheAllocatorItNames) {
  EXPECT_EQ(adapter_->verify(), "");
  EXPECT_FALSE(adapter_->version().empty());
}

TEST_P(Conformance, Alignment) {
  const Capabilities& c = info_->caps;
  size_t max_align = std::min<size_t>(c.max_alignment, size_t{1} << 16);
  for (size_t align = 1; align <= max_align; align *= 2) {
    for (size_t size : sizes_for(c)) {
      void* p = adapter_->allocate(size, align);
      ASSERT_NE(p, nullptr) << "size " << size << " align " << align;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u)
          << "size " << size << " align " << align;
      std::memset(p, 0xab, size);
      adapter_->deallocate(p, size, align);
    }
  }
  if (!c.individual_free) adapter_->reset();
}

TEST_P(Conformance, LiveBlocksDoNotOverlapAndKeepContents) {
  const Capabilities& c = info_->caps;
  if (!c.distinct_blocks) GTEST_SKIP() << "calibration adapter: blocks overlap by design";
  std::mt19937_64 rng(12345);
  std::vector<size_t> sizes = sizes_for(c);
  struct Block {
    void* p;
    size_t size;
    uint8_t seed;
  };
  std::vector<Block> live;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1500; ++i) {
      size_t size = sizes[rng() % sizes.size()];
      if (size > 65536 && rng() % 8 != 0) size = 1 + rng() % 512;
      if (c.fixed_size) size = c.fixed_size;
      void* p = adapter_->allocate(size, 16);
      ASSERT_NE(p, nullptr);
      uint8_t seed = static_cast<uint8_t>(rng());
      fill(p, size, seed);
      live.push_back({p, size, seed});
    }
    std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
    for (const Block& b : live) {
      ASSERT_TRUE(check(b.p, b.size, b.seed)) << "contents of a live block changed";
      uintptr_t s = reinterpret_cast<uintptr_t>(b.p);
      ranges.push_back({s, s + b.size});
    }
    std::sort(ranges.begin(), ranges.end());
    for (size_t i = 1; i < ranges.size(); ++i) {
      ASSERT_LE(ranges[i - 1].second, ranges[i].first) << "two live blocks overlap";
    }
    // Free a random half (in individual-free adapters) and go again.
    if (c.individual_free) {
      std::shuffle(live.begin(), live.end(), rng);
      size_t keep = live.size() / 2;
      for (size_t i = keep; i < live.size(); ++i) {
        adapter_->deallocate(live[i].p, live[i].size, 16);
      }
      live.resize(keep);
    }
  }
  for (const Block& b : live) adapter_->deallocate(b.p, b.size, 16);
  if (!c.individual_free) adapter_->reset();
}

TEST_P(Conformance, ReallocateKeepsContents) {
  const Capabilities& c = info_->caps;
  if (!c.distinct_blocks || c.fixed_size != 0) GTEST_SKIP() << "no resizable blocks";
  size_t size = 10;
  void* p = adapter_->allocate(size, 16);
  ASSERT_NE(p, nullptr);
  fill(p, size, 3);
  for (size_t next : {size_t{100}, size_t{5000}, size_t{70000}, size_t{300}, size_t{5}}) {
    if (next > c.max_size) continue;
    void* q = adapter_->reallocate(p, size, next, 16);
    ASSERT_NE(q, nullptr);
    ASSERT_TRUE(check(q, std::min(size, next), 3)) << size << " -> " << next;
    fill(q, next, 3);
    p = q;
    size = next;
  }
  adapter_->deallocate(p, size, 16);
  if (!c.individual_free) adapter_->reset();
}

TEST_P(Conformance, SizeZero) {
  const Capabilities& c = info_->caps;
  if (c.fixed_size != 0) GTEST_SKIP() << "fixed-size adapter";
  void* a = adapter_->allocate(0, 16);
  void* b = adapter_->allocate(0, 16);
  if (c.distinct_blocks && a != nullptr && b != nullptr) {
    EXPECT_NE(a, b);
  }
  if (a) adapter_->deallocate(a, 0, 16);
  if (b) adapter_->deallocate(b, 0, 16);
  if (!c.individual_free) adapter_->reset();
}

TEST_P(Conformance, ResetReleasesMemoryForReuse) {
  const Capabilities& c = info_->caps;
  if (c.individual_free) GTEST_SKIP() << "frees individually";
#if defined(__SANITIZE_ADDRESS__)
  // The upstream chunks go back to ASan's malloc, whose quarantine keeps them.
  GTEST_SKIP() << "ASan's quarantine keeps freed memory resident";
#endif
  // 40 phases of 8 MiB each: without reuse this would need 320 MiB.
  size_t before = platform::resident_bytes();
  for (int phase = 0; phase < 40; ++phase) {
    for (int i = 0; i < 128; ++i) {
      void* p = adapter_->allocate(65536, 16);
      ASSERT_NE(p, nullptr);
      std::memset(p, phase, 65536);
    }
    ASSERT_TRUE(adapter_->reset());
  }
  size_t after = platform::resident_bytes();
  EXPECT_LT(after, before + (size_t{64} << 20)) << "reset did not make memory reusable";
}

TEST_P(Conformance, ConcurrentUseAndCrossThreadFrees) {
  const Capabilities& c = info_->caps;
  if (!c.individual_free || !c.distinct_blocks) GTEST_SKIP();
  const bool cross = c.threading == Threading::kShared;
  const size_t size = c.fixed_size ? c.fixed_size : 48;
  constexpr int kPerThread = 20000;
  std::vector<void*> produced[2];
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      adapter_->thread_init();
      for (int i = 0; i < kPerThread; ++i) {
        void* p = adapter_->allocate(size, 16);
        if (p == nullptr) break;
        fill(p, size, static_cast<uint8_t>(t));
        produced[t].push_back(p);
      }
      if (!cross) {
        for (void* p : produced[t]) adapter_->deallocate(p, size, 16);
        produced[t].clear();
      }
      adapter_->thread_exit();
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(produced[0].size() + produced[1].size(), cross ? 2u * kPerThread : 0u);
  // Cross-thread: the test thread frees both threads' blocks.
  for (int t = 0; t < 2; ++t) {
    for (void* p : produced[t]) {
      ASSERT_TRUE(check(p, size, static_cast<uint8_t>(t)));
      adapter_->deallocate(p, size, 16);
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<const AdapterInfo*>& info) {
  return info.param->name;
}

INSTANTIATE_TEST_SUITE_P(Adapters, Conformance, ::testing::ValuesIn(cell_adapters()), param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);

}  // namespace
}  // namespace allocbench
