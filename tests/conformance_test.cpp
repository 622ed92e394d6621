// The conformance suite, run against every adapter that lives in this cell
// (this executable is linked like allocbench_cell_<ALLOCBENCH_CELL_NAME>, so
// the malloc replacements are tested in the process they are measured in).
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/adapter.h"
#include "allocators/common/platform.h"
#include "allocators/common/testing/stress_harness.h"
#include "allocators/common/testing/tagged_block.h"

#ifndef ALLOCBENCH_CELL_NAME
#define ALLOCBENCH_CELL_NAME ""
#endif
#ifndef ALLOCBENCH_CELL_DIR
#define ALLOCBENCH_CELL_DIR "."
#endif
#ifndef ALLOCBENCH_CONFORMANCE_DIR
#define ALLOCBENCH_CONFORMANCE_DIR "."
#endif

namespace allocbench {
namespace {

// Whether this process's malloc comes from `path`.
bool malloc_from(const std::string& path) {
  Dl_info info;
  void* sym = dlsym(RTLD_DEFAULT, "malloc");
  return sym != nullptr && dladdr(sym, &info) != 0 && info.dli_fname != nullptr &&
         platform::same_file(info.dli_fname, path.c_str());
}

// The adapters this executable tests: those of its cell, and a library
// adapter (tbbmalloc, scudo) when the default cell's suite runs under
// LD_PRELOAD of its library (the conformance_<library> tests).
bool tested_here(const AdapterInfo& a) {
  if (a.test_only) return false;
  if (!a.preload.empty()) return std::strcmp(ALLOCBENCH_CELL_NAME, "") == 0 && malloc_from(a.preload);
  if (std::strcmp(a.cell, ALLOCBENCH_CELL_NAME) != 0) return false;
  // Under a preloaded library the glibc-cell adapters are not what they say.
  for (const AdapterInfo& b : adapter_registry()) {
    if (!b.preload.empty() && malloc_from(b.preload)) return false;
  }
  return true;
}

std::vector<const AdapterInfo*> cell_adapters() {
  std::vector<const AdapterInfo*> out;
  for (const AdapterInfo& a : adapter_registry()) {
    if (tested_here(a)) out.push_back(&a);
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
    adapter_ = make_adapter(*info_);
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

// Alignment must hold for every block, not only for the first one of a
// size: many live blocks of each size at once (a pool that carves blocks of
// an unaligned size from a chunk meets the alignment only every other time).
TEST_P(Conformance, AlignmentHoldsForManyLiveBlocks) {
  const Capabilities& c = info_->caps;
  size_t max_align = std::min<size_t>(c.max_alignment, 64);
  for (size_t align = 8; align <= max_align; align *= 2) {
    for (size_t size : sizes_for(c)) {
      std::vector<void*> live;
      for (int i = 0; i < 64; ++i) {
        void* p = adapter_->allocate(size, align);
        ASSERT_NE(p, nullptr) << "size " << size << " align " << align;
        ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u)
            << "block " << i << " of size " << size << " align " << align;
        live.push_back(p);
      }
      if (c.individual_free) {
        for (void* p : live) adapter_->deallocate(p, size, align);
      }
    }
    if (!c.individual_free) adapter_->reset();
  }
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

// Four threads use the adapter at once (a start barrier lets none begin
// before all are running): each allocates and frees at random, writes a tag
// of its own over every block it gets and checks the tag before the block is
// freed. On a shared adapter half the frees are cross-thread: the block goes
// to another thread's inbox, which checks and frees it while the allocating
// thread goes on. Per-thread adapters free their own blocks only; reset-only
// ones check and reset each thread's blocks every few hundred operations.
TEST_P(Conformance, ConcurrentUseAndCrossThreadFrees) {
  const Capabilities& c = info_->caps;
  if (!c.distinct_blocks) GTEST_SKIP() << "calibration adapter: blocks overlap by design";
  const bool cross = c.threading == Threading::kShared && c.individual_free;
  constexpr int kThreads = 4;
  constexpr size_t kMaxLive = 256;       // Per thread; also each inbox's bound.
  constexpr uint64_t kResetEvery = 512;  // Reset-only adapters: ops between resets.
  const uint64_t ops_per_thread = testing::quick_mode() ? 4000 : 30000;
  std::vector<size_t> sizes;
  for (size_t s : sizes_for(c)) {
    if (s <= 4097) sizes.push_back(s);
  }
  ASSERT_FALSE(sizes.empty());
  const size_t align = std::min<size_t>(16, c.max_alignment);
  using testing::TaggedBlock;
  struct Inbox {
    std::mutex mu;
    std::vector<TaggedBlock> blocks;  // Guarded by mu.
  };
  std::vector<Inbox> inboxes(kThreads);
  std::atomic<int> arrived{0};  // Threads at the start barrier.
  std::atomic<int> in_loop{0};  // Threads still running their random mix.
  std::atomic<int> finished{0};
  std::vector<std::atomic<bool>> running(kThreads);  // Thread t still runs its mix.
  for (auto& r : running) r.store(false);
  std::atomic<uint64_t> allocs{0}, frees{0}, dropped{0}, concurrent_frees{0};
  std::atomic<uint64_t> cross_frees{0}, concurrent_cross_frees{0};
  std::atomic<uint64_t> corrupt{0}, failed{0};
  auto check_block = [&](const TaggedBlock& b) {
    if (!testing::verify_block(b)) corrupt.fetch_add(1);
  };
  auto free_block = [&](const TaggedBlock& b) {
    check_block(b);
    adapter_->deallocate(b.p, b.size, align);
    frees.fetch_add(1, std::memory_order_relaxed);
    if (in_loop.load(std::memory_order_relaxed) >= 2) {
      concurrent_frees.fetch_add(1, std::memory_order_relaxed);
    }
  };
  auto drain = [&](int t) {
    std::vector<TaggedBlock> got;
    {
      std::lock_guard<std::mutex> lock(inboxes[t].mu);
      got.swap(inboxes[t].blocks);
    }
    for (const TaggedBlock& b : got) {
      // Is the block's allocating thread (the tag's high bits) still at work?
      if (running[b.tag >> 40].load(std::memory_order_relaxed)) {
        concurrent_cross_frees.fetch_add(1, std::memory_order_relaxed);
      }
      free_block(b);
      cross_frees.fetch_add(1, std::memory_order_relaxed);
    }
    return !got.empty();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      adapter_->thread_init();
      in_loop.fetch_add(1);
      running[t].store(true);
      arrived.fetch_add(1);
      while (arrived.load() < kThreads) std::this_thread::yield();
      std::mt19937_64 rng(777 + static_cast<uint64_t>(t));
      std::vector<TaggedBlock> live;
      uint64_t seq = 0;
      auto reset_all = [&] {
        for (const TaggedBlock& b : live) check_block(b);
        dropped.fetch_add(live.size(), std::memory_order_relaxed);
        live.clear();
        if (!adapter_->reset()) failed.fetch_add(1);
      };
      for (uint64_t i = 0; i < ops_per_thread; ++i) {
        if (cross && (i & 63) == 0) drain(t);
        // Four threads on fewer cores: let the others run in between.
        if ((i & 127) == 127) std::this_thread::yield();
        if (!c.individual_free && i % kResetEvery == kResetEvery - 1) reset_all();
        uint64_t r = rng();
        if (live.empty() || (live.size() < kMaxLive && (r & 1))) {
          size_t size = sizes[(r >> 1) % sizes.size()];
          auto* p = static_cast<unsigned char*>(adapter_->allocate(size, align));
          if (p == nullptr) {
            failed.fetch_add(1);
            continue;
          }
          allocs.fetch_add(1, std::memory_order_relaxed);
          live.push_back({p, size, (static_cast<uint64_t>(t) << 40) | ++seq});
          testing::write_block(live.back());
          continue;
        }
        size_t k = (r >> 1) % live.size();
        TaggedBlock b = live[k];
        live[k] = live.back();
        live.pop_back();
        if (!c.individual_free) {
          check_block(b);  // Its memory comes back at the next reset.
          dropped.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        int target = static_cast<int>((r >> 20) % kThreads);
        if (cross && target != t && ((r >> 40) & 1)) {
          std::lock_guard<std::mutex> lock(inboxes[target].mu);
          if (inboxes[target].blocks.size() < kMaxLive) {
            inboxes[target].blocks.push_back(b);
            continue;
          }
        }
        free_block(b);
      }
      in_loop.fetch_sub(1);
      running[t].store(false);
      if (c.individual_free) {
        for (const TaggedBlock& b : live) free_block(b);
        live.clear();
      } else {
        reset_all();
      }
      // Keep taking this thread's blocks until no thread can send any more.
      finished.fetch_add(1);
      while (finished.load() < kThreads) {
        if (!drain(t)) std::this_thread::yield();
      }
      drain(t);
      adapter_->thread_exit();
    });
  }
  for (auto& th : threads) th.join();
  for (Inbox& box : inboxes) EXPECT_TRUE(box.blocks.empty()) << "a handed-off block was lost";
  EXPECT_EQ(corrupt.load(), 0u) << "a block's contents changed while its owner held it";
  EXPECT_EQ(failed.load(), 0u) << "allocations (or resets) failed";
  EXPECT_GT(allocs.load(), uint64_t{kThreads} * ops_per_thread / 3);
  EXPECT_EQ(allocs.load(), frees.load() + dropped.load()) << "every block was freed or reset";
  if (c.individual_free) {
    EXPECT_GT(concurrent_frees.load(), 0u) << "no free overlapped another thread's use";
  }
  if (cross) {
    EXPECT_GT(cross_frees.load(), 0u) << "no block was freed by another thread";
    EXPECT_GT(concurrent_cross_frees.load(), 0u)
        << "no block was freed by another thread while its allocating thread was at work";
  }
}

// An empty suite passes nothing: this executable must run the suite for
// every adapter of its cell, and its cell must have adapters.
TEST(ConformanceSuite, CoversEveryAdapterOfThisCell) {
  std::vector<std::string> expected;
  for (const AdapterInfo& a : adapter_registry()) {
    if (tested_here(a)) expected.push_back(a.name);
  }
  ASSERT_GT(expected.size(), 0u) << "no adapter lives in cell '" << ALLOCBENCH_CELL_NAME << "'";
  // Instantiated tests by adapter, from gtest's own registry ("Name/adapter").
  std::map<std::string, std::set<std::string>> tests;
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    if (std::string(suite.name()) != "Adapters/Conformance") continue;
    for (int j = 0; j < suite.total_test_count(); ++j) {
      std::string name = suite.GetTestInfo(j)->name();
      size_t slash = name.find('/');
      ASSERT_NE(slash, std::string::npos) << name;
      tests[name.substr(slash + 1)].insert(name.substr(0, slash));
    }
  }
  EXPECT_EQ(tests.size(), expected.size());
  for (const std::string& a : expected) {
    SCOPED_TRACE(a);
    ASSERT_EQ(tests.count(a), 1u) << "adapter not covered by the suite";
    EXPECT_EQ(tests[a], tests[expected[0]]) << "every adapter runs the same tests";
    EXPECT_EQ(tests[a].count("ConcurrentUseAndCrossThreadFrees"), 1u);
  }
}

// `exe` (a shell command listing a conformance executable's tests) runs
// the suite for `adapter`.
void expect_listed(const std::string& exe, const char* adapter) {
  FILE* f = popen(exe.c_str(), "r");
  ASSERT_NE(f, nullptr) << exe;
  std::string listing;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) listing.append(buf, n);
  EXPECT_EQ(pclose(f), 0) << exe;
  EXPECT_NE(listing.find("\n  ConcurrentUseAndCrossThreadFrees/" + std::string(adapter) + " "),
            std::string::npos)
      << exe << " does not test this adapter:\n"
      << listing;
}

// Across cells, checked once by the default cell's executable: every adapter
// the runner can run (its cell binary is built) is in the test list of its
// cell's conformance executable.
TEST(ConformanceSuite, EveryRunnableAdapterIsCovered) {
  if (std::strcmp(ALLOCBENCH_CELL_NAME, "") != 0) GTEST_SKIP() << "checked by the default cell";
  size_t runnable = 0;
  for (const AdapterInfo& a : adapter_registry()) {
    if (a.test_only) continue;
    SCOPED_TRACE(a.name);
    if (!a.preload.empty()) {
      // Run by the default cell's executable under LD_PRELOAD of the library.
      if (access(a.preload.c_str(), R_OK) != 0) continue;  // Not installed: its cells say so.
#ifdef ALLOCBENCH_SANITIZER_BUILD
      continue;  // A sanitizer's runtime must come first: no preloaded library runs.
#endif
      ++runnable;
      expect_listed("LD_PRELOAD=" + a.preload + " " + ALLOCBENCH_CONFORMANCE_DIR +
                        "/conformance_glibc_cell --gtest_list_tests",
                    a.name);
      continue;
    }
    const std::string cell = a.cell;
    const std::string cell_bin =
        std::string(ALLOCBENCH_CELL_DIR) + "/allocbench_cell" + (cell.empty() ? "" : "_" + cell);
    if (access(cell_bin.c_str(), X_OK) != 0) {
      // The runner records such cells as not built; the default cell always is.
      EXPECT_FALSE(cell.empty()) << cell_bin << " is missing";
      continue;
    }
    ++runnable;
    const std::string exe = "env -u LD_PRELOAD " + std::string(ALLOCBENCH_CONFORMANCE_DIR) +
                            "/conformance_" +
                            (cell.empty() ? "glibc_cell" : cell) + " --gtest_list_tests";
    expect_listed(exe, a.name);
  }
  EXPECT_GT(runnable, 0u);
}

std::string param_name(const ::testing::TestParamInfo<const AdapterInfo*>& info) {
  return info.param->name;
}

INSTANTIATE_TEST_SUITE_P(Adapters, Conformance, ::testing::ValuesIn(cell_adapters()), param_name);

}  // namespace
}  // namespace allocbench
