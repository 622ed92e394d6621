// Multithreaded stress driver shared by the pool family's stress tests.
//
// T threads each run a fixed-seed random mix of allocations and frees. Every
// live block carries (thread id, sequence number) written over its whole
// length; it is verified before it is freed, so a block handed out twice (two
// owners writing the same bytes) or clobbered contents are detected. Half of
// the frees are cross-thread: the block is passed through a mutex-protected
// queue to another thread, which verifies and frees it.
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_TESTING_STRESS_HARNESS_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_TESTING_STRESS_HARNESS_H_

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace allocbench {
namespace testing {

inline bool quick_mode() {
  const char* v = std::getenv("ALLOCBENCH_QUICK");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

// 10 million operations in full mode, 200 thousand in quick mode.
inline uint64_t stress_ops() { return quick_mode() ? 200000 : 10000000; }

struct StressConfig {
  int threads = 4;
  uint64_t total_ops = 10000000;  // Allocations + frees over all threads.
  uint64_t seed = 0x5EED5EEDull;
  size_t max_live_per_thread = 512;  // Also the bound of each thread's queue.
  // Picks a request size from a random number (fixed-size allocators return
  // their block size).
  std::function<size_t(uint64_t)> pick_size = [](uint64_t) { return size_t{64}; };
  std::function<size_t(uint64_t)> pick_alignment = [](uint64_t) { return size_t{16}; };
  std::function<void*(size_t size, size_t alignment)> alloc;
  std::function<void(void* p, size_t size, size_t alignment)> free;
};

struct StressResult {
  uint64_t allocations = 0;
  uint64_t frees = 0;
  uint64_t cross_thread_frees = 0;
  uint64_t failed_allocations = 0;
  uint64_t corruptions = 0;  // Blocks whose pattern did not survive.
  uint64_t misaligned = 0;
  std::string first_error;
};

namespace detail {

struct Block {
  void* p;
  size_t size;
  size_t alignment;
  uint64_t tag;  // (thread id << 40) | sequence
};

inline uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline void fill(const Block& b) {
  unsigned char* p = static_cast<unsigned char*>(b.p);
  size_t words = b.size / 8;
  for (size_t i = 0; i < words; ++i) {
    uint64_t w = b.tag ^ (i * 0x9E3779B97F4A7C15ull);
    std::memcpy(p + i * 8, &w, 8);
  }
  for (size_t i = words * 8; i < b.size; ++i) p[i] = static_cast<unsigned char>(b.tag + i);
}

inline bool check(const Block& b) {
  const unsigned char* p = static_cast<const unsigned char*>(b.p);
  size_t words = b.size / 8;
  for (size_t i = 0; i < words; ++i) {
    uint64_t w;
    std::memcpy(&w, p + i * 8, 8);
    if (w != (b.tag ^ (i * 0x9E3779B97F4A7C15ull))) return false;
  }
  for (size_t i = words * 8; i < b.size; ++i) {
    if (p[i] != static_cast<unsigned char>(b.tag + i)) return false;
  }
  return true;
}

struct Inbox {
  std::mutex mu;
  std::vector<Block> blocks;
};

}  // namespace detail

inline StressResult run_stress(const StressConfig& cfg) {
  using detail::Block;
  const int n = cfg.threads;
  std::vector<detail::Inbox> inboxes(n);
  std::atomic<int> finished{0};
  std::atomic<uint64_t> allocations{0}, frees{0}, cross{0}, failed{0}, corrupt{0}, misaligned{0};
  std::mutex err_mu;
  std::string first_error;
  auto report = [&](const std::string& msg) {
    std::lock_guard<std::mutex> lock(err_mu);
    if (first_error.empty()) first_error = msg;
  };
  auto verify_and_free = [&](const Block& b) {
    if (!detail::check(b)) {
      corrupt.fetch_add(1);
      report("pattern of block " + std::to_string(b.tag) + " did not survive");
    }
    cfg.free(b.p, b.size, b.alignment);
    frees.fetch_add(1, std::memory_order_relaxed);
  };

  auto worker = [&](int tid) {
    uint64_t rng = cfg.seed ^ (0x1000193ull * static_cast<uint64_t>(tid + 1));
    uint64_t my_ops = cfg.total_ops / static_cast<uint64_t>(n);
    uint64_t seq = 0;
    std::vector<Block> live;
    std::vector<Block> received;
    uint64_t ops = 0;
    while (ops < my_ops) {
      if ((ops & 63) == 0) {
        {
          std::lock_guard<std::mutex> lock(inboxes[tid].mu);
          received.swap(inboxes[tid].blocks);
        }
        for (const Block& b : received) {
          verify_and_free(b);
          cross.fetch_add(1, std::memory_order_relaxed);
          ++ops;
        }
        received.clear();
      }
      uint64_t r = detail::splitmix(rng);
      bool do_alloc = live.empty() || (live.size() < cfg.max_live_per_thread && (r & 1));
      if (do_alloc) {
        Block b;
        b.size = cfg.pick_size(detail::splitmix(rng));
        b.alignment = cfg.pick_alignment(detail::splitmix(rng));
        b.tag = (static_cast<uint64_t>(tid) << 40) | ++seq;
        b.p = cfg.alloc(b.size, b.alignment);
        ++ops;
        if (b.p == nullptr) {
          failed.fetch_add(1);
          report("allocation of " + std::to_string(b.size) + " bytes failed");
          continue;
        }
        allocations.fetch_add(1, std::memory_order_relaxed);
        if ((reinterpret_cast<uintptr_t>(b.p) & (b.alignment - 1)) != 0) misaligned.fetch_add(1);
        detail::fill(b);
        live.push_back(b);
      } else {
        size_t i = static_cast<size_t>((r >> 1) % live.size());
        Block b = live[i];
        live[i] = live.back();
        live.pop_back();
        int target = static_cast<int>((r >> 33) % static_cast<uint64_t>(n));
        bool passed = false;
        if (n > 1 && ((r >> 20) & 1) && target != tid) {
          if (!detail::check(b)) {
            corrupt.fetch_add(1);
            report("pattern of block " + std::to_string(b.tag) + " changed before hand-off");
          }
          // Bounded queues: a descheduled receiver must not pile up blocks.
          std::lock_guard<std::mutex> lock(inboxes[target].mu);
          if (inboxes[target].blocks.size() < cfg.max_live_per_thread) {
            inboxes[target].blocks.push_back(b);
            passed = true;
          }
        }
        if (!passed) {
          verify_and_free(b);
          ++ops;
        }
      }
    }
    for (const Block& b : live) verify_and_free(b);
    // Keep draining this thread's queue until every thread is done, so blocks
    // sent to a finished thread do not pile up.
    finished.fetch_add(1);
    while (finished.load() < n) {
      {
        std::lock_guard<std::mutex> lock(inboxes[tid].mu);
        received.swap(inboxes[tid].blocks);
      }
      for (const Block& b : received) {
        verify_and_free(b);
        cross.fetch_add(1, std::memory_order_relaxed);
      }
      if (received.empty()) std::this_thread::yield();
      received.clear();
    }
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  // Blocks still queued are freed here, by yet another thread.
  for (auto& box : inboxes) {
    for (const Block& b : box.blocks) {
      verify_and_free(b);
      cross.fetch_add(1, std::memory_order_relaxed);
    }
    box.blocks.clear();
  }
  StressResult res;
  res.allocations = allocations.load();
  res.frees = frees.load();
  res.cross_thread_frees = cross.load();
  res.failed_allocations = failed.load();
  res.corruptions = corrupt.load();
  res.misaligned = misaligned.load();
  res.first_error = first_error;
  return res;
}

}  // namespace testing
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_TESTING_STRESS_HARNESS_H_
