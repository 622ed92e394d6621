// Thread churn with cross-thread frees for liballoc (alloc_api): 2 x cores and
// 4 x cores threads in rolling waves. Every step joins half of the threads and
// starts new ones in their slots, so heaps are abandoned, adopted and recycled
// all the time while their blocks live on in other threads' mailboxes and are
// freed there, often while the owner is exiting. Blocks cover every size
// class, large spans (64 KiB - 2 MiB) and a few huge blocks (> 2 MiB).
//
// Fixed seeds; the driver (not the allocator) yields at random points between
// operations to widen the race windows. Every block carries a tag in its
// first, middle and last byte, checked before it is freed; at the end the
// census must show that the allocator holds nothing more than before.
// ALLOCBENCH_QUICK=1 shrinks the run about 20x (sanitizer builds in CI).
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "allocators/inhouse/alloc.h"
#include "allocators/inhouse/alloc_census_check.h"

namespace {

using allocbench::testing::census_baseline;
using allocbench::testing::census_no_leak_since;

bool quick() {
  const char* q = getenv("ALLOCBENCH_QUICK");
  return q != nullptr && q[0] == '1';
}

// liballoc's classes (class_size_of in alloc.cpp): 16, 32, ..., 128, then four
// per power of two up to 64 KiB.
constexpr int kNumClasses = 44;
constexpr size_t class_size(int cls) {  // cls in 1..kNumClasses
  if (cls <= 8) return static_cast<size_t>(cls) * 16;
  int j = cls - 9;
  int b = 7 + j / 4;
  return static_cast<size_t>(5 + j % 4) << (b - 2);
}
static_assert(class_size(kNumClasses) == 65536, "class table");
static_assert(class_size(20) == 1024, "class table");

constexpr size_t kLargeMax = size_t{2} << 20;
constexpr size_t kHugeMax = size_t{6} << 20;

// Buckets 0 .. kNumClasses - 1: class kind + 1; then large and huge.
constexpr int kLargeBucket = kNumClasses;
constexpr int kHugeBucket = kNumClasses + 1;
constexpr int kBuckets = kNumClasses + 2;

// A request size anywhere in the bucket's range.
size_t size_in_bucket(int bucket, uint64_t r) {
  size_t lo, hi;  // (lo, hi]
  if (bucket < kNumClasses) {
    lo = bucket == 0 ? 0 : class_size(bucket);
    hi = class_size(bucket + 1);
  } else if (bucket == kLargeBucket) {
    lo = class_size(kNumClasses);
    hi = kLargeMax;
  } else {
    lo = kLargeMax;
    hi = kHugeMax;
  }
  return lo + 1 + r % (hi - lo);
}

// Mostly class sizes (uniform over the classes), 1 in 32 large, 1 in 2048 huge.
int random_bucket(uint64_t r) {
  uint64_t u = r % 4096;
  if (u < 2) return kHugeBucket;
  if (u < 2 + 128) return kLargeBucket;
  return static_cast<int>((r >> 12) % kNumClasses);
}

std::string bucket_name(int bucket) {
  if (bucket < kNumClasses) return "class " + std::to_string(bucket + 1);
  return bucket == kLargeBucket ? "large blocks" : "huge blocks";
}

struct Block {
  uint8_t* p;
  size_t n;      // requested size
  uint32_t tag;  // stamped into the first, middle and last byte
  int bucket;
};

void stamp(const Block& b) {
  b.p[0] = static_cast<uint8_t>(b.tag);
  if (b.n > 2) b.p[b.n / 2] = static_cast<uint8_t>(b.tag >> 8);
  if (b.n > 1) b.p[b.n - 1] = static_cast<uint8_t>(b.tag >> 16);
}

bool intact(const Block& b) {
  return b.p[0] == static_cast<uint8_t>(b.tag) &&
         (b.n <= 2 || b.p[b.n / 2] == static_cast<uint8_t>(b.tag >> 8)) &&
         (b.n <= 1 || b.p[b.n - 1] == static_cast<uint8_t>(b.tag >> 16));
}

// Blocks handed to the thread in one slot; whoever runs there frees them.
// Thread-safe under `mu`.
struct Mailbox {
  std::mutex mu;
  std::vector<Block> blocks;
};

// What the workers share. Thread-safe: mailboxes under their locks, counters atomic.
struct Shared {
  explicit Shared(int slots) : boxes(slots) {}
  std::vector<Mailbox> boxes;
  std::atomic<uint64_t> allocated{0};
  std::atomic<uint64_t> freed{0};
  std::atomic<uint64_t> failed{0};     // null or too small
  std::atomic<uint64_t> corrupted{0};  // tag not intact at free
  // Per bucket: blocks freed by a thread other than the one that allocated them.
  std::atomic<uint64_t> remote_frees[kBuckets] = {};
};

constexpr size_t kMaxLive = 48;      // blocks a thread keeps
constexpr size_t kMaxMailbox = 256;  // beyond this a thread frees its block itself

// One thread's run in one slot. Owner thread only.
class Worker {
 public:
  Worker(Shared* sh, int slot, uint64_t seed) : sh_(sh), slot_(slot), rng_(seed) {}

  void run(int ops) {
    // The first allocations sweep every bucket, so each kind of block is
    // freed across threads even in quick mode.
    for (int b = 0; b < kBuckets; ++b) allocate((b + slot_) % kBuckets);
    for (int i = 0; i < ops; ++i) {
      uint64_t r = rng_();
      maybe_yield();
      switch (r % 16) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
        case 5:
          if (mine_.size() < kMaxLive) {
            allocate(random_bucket(r >> 8));
            break;
          }
          [[fallthrough]];
        case 6:
        case 7:
        case 8:
          if (!mine_.empty()) give(pop_random(r >> 8), r >> 32);
          break;
        case 9:
        case 10:
          if (!mine_.empty()) release(pop_random(r >> 8));
          break;
        case 11:
          drain();
          break;
        default:
          if (r % 4096 == 15) alloc_trim();  // collects abandoned heaps while others free into them
          break;
      }
    }
    drain();
    // Everything still live outlives this thread.
    while (!mine_.empty()) {
      maybe_yield();
      uint64_t r = rng_();
      give(pop_random(r), r >> 32);
    }
  }

  // Frees what other threads left in this slot's mailbox.
  void drain() {
    std::vector<Block> got;
    {
      std::lock_guard<std::mutex> lock(sh_->boxes[slot_].mu);
      got.swap(sh_->boxes[slot_].blocks);
    }
    for (const Block& b : got) {
      maybe_yield();
      sh_->remote_frees[b.bucket].fetch_add(1, std::memory_order_relaxed);
      release(b);
    }
  }

 private:
  void maybe_yield() {
    if (rng_() % 8 == 0) sched_yield();
  }

  void allocate(int bucket) {
    uint64_t r = rng_();
    Block b{nullptr, size_in_bucket(bucket, r), static_cast<uint32_t>(r >> 32), bucket};
    b.p = static_cast<uint8_t*>(alloc_malloc(b.n));
    if (b.p == nullptr || alloc_usable_size(b.p) < b.n) {
      sh_->failed.fetch_add(1, std::memory_order_relaxed);
      if (b.p != nullptr) alloc_free(b.p);
      return;
    }
    sh_->allocated.fetch_add(1, std::memory_order_relaxed);
    stamp(b);
    mine_.push_back(b);
  }

  Block pop_random(uint64_t r) {  // mine_ not empty
    size_t k = r % mine_.size();
    Block b = mine_[k];
    mine_[k] = mine_.back();
    mine_.pop_back();
    return b;
  }

  // Hands b to another slot's thread (or frees it here if that box is full).
  void give(const Block& b, uint64_t r) {
    int slots = static_cast<int>(sh_->boxes.size());
    Mailbox& box = sh_->boxes[(slot_ + 1 + static_cast<int>(r % (slots - 1))) % slots];
    {
      std::lock_guard<std::mutex> lock(box.mu);
      if (box.blocks.size() < kMaxMailbox) {
        box.blocks.push_back(b);
        return;
      }
    }
    release(b);
  }

  void release(const Block& b) {
    if (!intact(b)) sh_->corrupted.fetch_add(1, std::memory_order_relaxed);
    alloc_free(b.p);
    sh_->freed.fetch_add(1, std::memory_order_relaxed);
  }

  Shared* sh_;
  int slot_;
  std::mt19937_64 rng_;
  std::vector<Block> mine_;
};

int cores() { return std::max(2, static_cast<int>(std::thread::hardware_concurrency())); }

class InhouseChurn : public ::testing::TestWithParam<int> {};

TEST_P(InhouseChurn, ThreadsComeAndGoWhileOthersFreeTheirBlocks) {
  const int kSlots = GetParam() * cores();
  // Each step replaces half of the threads. Full mode: 15-25 s for both
  // cases on 2 cores; quick mode runs a twentieth of the steps.
  const int kSteps = quick() ? 100 : 2000;
  const int kOps = 2400;  // per thread, +-50 %
  const alloc_census_t census = census_baseline();
  alloc_stats_t before;
  alloc_get_stats(&before);

  Shared sh(kSlots);
  std::vector<std::thread> threads(kSlots);
  std::seed_seq base{20240611, kSlots};
  std::mt19937_64 seeds(base);
  auto start = [&](int slot) {
    uint64_t seed = seeds();
    int ops = kOps / 2 + static_cast<int>(seed % static_cast<uint64_t>(kOps));  // staggered exits
    threads[slot] = std::thread([&sh, slot, seed, ops] { Worker(&sh, slot, seed).run(ops); });
  };
  for (int slot = 0; slot < kSlots; ++slot) start(slot);
  for (int step = 0; step < kSteps; ++step) {
    for (int slot = step % 2; slot < kSlots; slot += 2) {
      threads[slot].join();
      start(slot);
    }
  }
  for (std::thread& t : threads) t.join();
  // The last blocks are freed by fresh threads too, one per mailbox.
  for (int slot = 0; slot < kSlots; ++slot) {
    threads[slot] = std::thread([&sh, slot] { Worker(&sh, slot, 0).drain(); });
  }
  for (std::thread& t : threads) t.join();

  for (Mailbox& box : sh.boxes) EXPECT_TRUE(box.blocks.empty());
  EXPECT_EQ(sh.failed.load(), 0u);
  EXPECT_EQ(sh.corrupted.load(), 0u);
  EXPECT_EQ(sh.allocated.load(), sh.freed.load());
  EXPECT_GT(sh.allocated.load(), 0u);
  for (int b = 0; b < kBuckets; ++b) {
    EXPECT_GT(sh.remote_frees[b].load(), 0u) << "no cross-thread free of " << bucket_name(b);
  }
  alloc_stats_t after;
  alloc_get_stats(&after);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(after.allocations - before.allocations, after.frees - before.frees);
  EXPECT_TRUE(census_no_leak_since(census));
}

INSTANTIATE_TEST_SUITE_P(ThreadsPerCore, InhouseChurn, ::testing::Values(2, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "x" + std::to_string(info.param);
                         });

}  // namespace
