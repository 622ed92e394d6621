// Multithreaded stress of liballoc (alloc_api) with fixed seeds: cross-thread
// frees, threads created and destroyed while their blocks live on, fork while
// other threads allocate, mixed sizes with realloc. Not a benchmark: it
// checks block contents, final statistics and, from alloc_census, that the
// allocator holds nothing more afterwards. ALLOCBENCH_QUICK=1 shrinks it.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <random>
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

int scaled(int full) { return quick() ? full / 20 : full; }

struct Item {
  uint8_t* p;
  size_t n;
  uint8_t tag;
};

void stamp(Item& it) {
  if (it.n == 0) return;
  it.p[0] = it.tag;
  it.p[it.n - 1] = static_cast<uint8_t>(it.tag ^ 0x5a);
  if (it.n > 2) it.p[it.n / 2] = static_cast<uint8_t>(it.tag + 1);
}

bool verify(const Item& it) {
  if (it.n == 0) return true;
  return it.p[0] == it.tag && it.p[it.n - 1] == static_cast<uint8_t>(it.tag ^ 0x5a) &&
         (it.n <= 2 || it.p[it.n / 2] == static_cast<uint8_t>(it.tag + 1));
}

size_t random_size(std::mt19937_64& rng) {
  uint64_t r = rng();
  switch (r % 16) {
    case 0:
      return 70000 + (r >> 8) % 900000;  // large spans
    case 1:
      return 4096 + (r >> 8) % 60000;
    default:
      return (r >> 8) % 600;
  }
}

// Mailboxes between threads: each thread frees what others allocated.
struct Exchange {
  std::mutex mu;
  std::vector<Item> items;
};

TEST(InhouseStress, CrossThreadFreesKeepContents) {
  const int kThreads = 4;
  const int kOps = scaled(200000);
  const alloc_census_t census = census_baseline();
  alloc_stats_t before;
  alloc_get_stats(&before);
  Exchange boxes[kThreads];
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(1337 + t);
      std::vector<Item> mine;
      for (int i = 0; i < kOps; ++i) {
        uint64_t r = rng();
        if (r % 3 != 0 || mine.empty()) {
          Item it{static_cast<uint8_t*>(alloc_malloc(random_size(rng))), 0, static_cast<uint8_t>(r >> 40)};
          it.n = alloc_usable_size(it.p);
          stamp(it);
          mine.push_back(it);
        } else {
          size_t k = (r >> 16) % mine.size();
          Item it = mine[k];
          mine[k] = mine.back();
          mine.pop_back();
          if ((r >> 8) % 2 == 0) {  // hand it to another thread
            Exchange& box = boxes[(t + 1 + (r >> 24) % (kThreads - 1)) % kThreads];
            std::lock_guard<std::mutex> lock(box.mu);
            box.items.push_back(it);
          } else {
            if (!verify(it)) bad++;
            alloc_free(it.p);
          }
        }
        if (i % 64 == 0) {
          std::vector<Item> got;
          {
            std::lock_guard<std::mutex> lock(boxes[t].mu);
            got.swap(boxes[t].items);
          }
          for (Item& it : got) {
            if (!verify(it)) bad++;
            alloc_free(it.p);
          }
        }
      }
      for (Item& it : mine) {
        if (!verify(it)) bad++;
        alloc_free(it.p);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (Exchange& box : boxes) {
    for (Item& it : box.items) {
      if (!verify(it)) bad++;
      alloc_free(it.p);
    }
  }
  EXPECT_EQ(bad.load(), 0);
  alloc_stats_t after;
  alloc_get_stats(&after);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(after.allocations - before.allocations, after.frees - before.frees);
  EXPECT_TRUE(census_no_leak_since(census));
}

// Large spans only (64 KiB-2 MiB, carved in 4 KiB granules, every
// alignment up to 64 KiB), resized in place by their owner and freed by
// their owner or by another thread: a tag in every granule catches two live
// spans sharing memory; nothing may leak. The last byte has a tag of its
// own, so the granule tags skip it (it may start a granule).
// 64 KiB + 1 to 2 MiB, smaller sizes more often (a range up to 128 KiB-2 MiB).
size_t large_size(uint64_t r) {
  size_t span = (size_t{1} << (17 + (r >> 59) % 5)) - 65537;
  return 65537 + (r >> 8) % span;
}

void stamp_granules(const Item& it) {
  for (size_t off = 0; off + 1 < it.n; off += 4096)
    it.p[off] = static_cast<uint8_t>(it.tag + off / 4096);
  it.p[it.n - 1] = static_cast<uint8_t>(it.tag ^ 0x5a);
}
bool verify_granules(const Item& it) {
  for (size_t off = 0; off + 1 < it.n; off += 4096) {
    if (it.p[off] != static_cast<uint8_t>(it.tag + off / 4096)) return false;
  }
  return it.p[it.n - 1] == static_cast<uint8_t>(it.tag ^ 0x5a);
}

TEST(InhouseStress, LargeSpansFreedAcrossThreadsKeepContents) {
  const int kThreads = 4;
  const int kOps = scaled(20000);
  const alloc_census_t census = census_baseline();
  Exchange boxes[kThreads];
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(4242 + t);
      std::vector<Item> mine;
      auto take_mail = [&] {
        std::vector<Item> got;
        {
          std::lock_guard<std::mutex> lock(boxes[t].mu);
          got.swap(boxes[t].items);
        }
        for (Item& it : got) {
          if (!verify_granules(it)) bad++;
          alloc_free(it.p);
        }
      };
      for (int i = 0; i < kOps; ++i) {
        uint64_t r = rng();
        if (mine.size() < 4 || (r % 3 != 0 && mine.size() < 16)) {
          size_t n = large_size(r);
          size_t align = size_t{16} << ((r >> 40) % 13);  // 16 B-64 KiB
          Item it{static_cast<uint8_t*>(alloc_aligned(align, n)), n, static_cast<uint8_t>(r >> 48)};
          if (it.p == nullptr || reinterpret_cast<uintptr_t>(it.p) % align != 0) {
            bad++;
            continue;
          }
          stamp_granules(it);
          mine.push_back(it);
          continue;
        }
        size_t k = (r >> 16) % mine.size();
        Item it = mine[k];
        mine[k] = mine.back();
        mine.pop_back();
        if (!verify_granules(it)) bad++;
        switch ((r >> 8) % 3) {
          case 0: {  // resize (in place when the neighbouring granules allow), keep it
            size_t m = large_size(rng());
            auto* q = static_cast<uint8_t*>(alloc_realloc(it.p, m));
            if (q == nullptr) {
              bad++;
              break;
            }
            Item moved{q, m < it.n ? m : it.n, it.tag};
            for (size_t off = 0; off + 1 < moved.n; off += 4096) {
              if (q[off] != static_cast<uint8_t>(it.tag + off / 4096)) bad++;
            }
            Item grown{q, m, static_cast<uint8_t>(it.tag + 1)};
            stamp_granules(grown);
            mine.push_back(grown);
            break;
          }
          case 1: {  // hand it to another thread
            Exchange& box = boxes[(t + 1 + (r >> 24) % (kThreads - 1)) % kThreads];
            std::lock_guard<std::mutex> lock(box.mu);
            box.items.push_back(it);
            break;
          }
          default:
            alloc_free(it.p);
        }
        if (i % 16 == 0) take_mail();
      }
      for (Item& it : mine) {
        if (!verify_granules(it)) bad++;
        alloc_free(it.p);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (Exchange& box : boxes) {
    for (Item& it : box.items) {
      if (!verify_granules(it)) bad++;
      alloc_free(it.p);
    }
  }
  EXPECT_EQ(bad.load(), 0);
  EXPECT_TRUE(census_no_leak_since(census));
}

// Short-lived threads allocate blocks that outlive them; the main thread and
// later threads free them. Nothing may leak: at the end every heap is empty
// again and abandoned heaps have been adopted or recycled.
TEST(InhouseStress, ThreadsComeAndGoWhileTheirBlocksLiveOn) {
  const int kRounds = scaled(400);
  const alloc_census_t census = census_baseline();
  alloc_stats_t before;
  alloc_get_stats(&before);
  std::vector<Item> carry;
  std::mt19937_64 rng(7);
  int bad = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Item> made;
    std::vector<Item> to_free;
    size_t take = carry.size() / 2;
    to_free.assign(carry.begin(), carry.begin() + static_cast<long>(take));
    carry.erase(carry.begin(), carry.begin() + static_cast<long>(take));
    uint64_t seed = rng();
    std::thread t([&] {
      std::mt19937_64 r(seed);
      for (Item& it : to_free) {  // frees blocks of earlier (exited) threads
        if (!verify(it)) bad++;
        alloc_free(it.p);
      }
      for (int i = 0; i < 300; ++i) {
        Item it{static_cast<uint8_t*>(alloc_malloc(random_size(r))), 0, static_cast<uint8_t>(i)};
        it.n = alloc_usable_size(it.p);
        stamp(it);
        made.push_back(it);
      }
    });
    t.join();
    carry.insert(carry.end(), made.begin(), made.end());
  }
  for (Item& it : carry) {
    if (!verify(it)) bad++;
    alloc_free(it.p);
  }
  EXPECT_EQ(bad, 0);
  std::thread last([] { alloc_free(alloc_malloc(1)); });  // adopts and tidies up
  last.join();
  for (int i = 0; i < 8; ++i) alloc_trim();  // reclaims the rest of the abandoned heaps
  alloc_stats_t after;
  alloc_get_stats(&after);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_LE(after.heaps_abandoned, before.heaps_abandoned);
  EXPECT_LE(after.heaps, before.heaps + 4);  // heaps are recycled, not created per thread
  EXPECT_TRUE(census_no_leak_since(census));
}

TEST(InhouseStress, ForkWhileOtherThreadsAllocate) {
  const alloc_census_t census = census_baseline();
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(99 + t);
      std::vector<void*> v;
      while (!stop.load(std::memory_order_relaxed)) {
        v.push_back(alloc_malloc(random_size(rng)));
        if (v.size() > 200) {
          for (void* p : v) alloc_free(p);
          v.clear();
        }
      }
      for (void* p : v) alloc_free(p);
    });
  }
  int failures = 0;
  for (int i = 0; i < scaled(60); ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Only liballoc in the child: the system malloc (and a sanitizer's)
      // may be locked by a thread that does not exist here.
      std::mt19937_64 rng(i);
      static void* v[2000];
      for (void*& p : v) p = alloc_malloc(random_size(rng));
      for (void* p : v) alloc_free(p);
      _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failures++;
  }
  stop = true;
  for (auto& th : workers) th.join();
  EXPECT_EQ(failures, 0);
  EXPECT_TRUE(census_no_leak_since(census));
}

// Mixed sizes 8 B - 4 MiB with realloc, single thread, contents checked.
TEST(InhouseStress, MixedSizesWithRealloc) {
  const alloc_census_t census = census_baseline();
  std::mt19937_64 rng(2024);
  std::vector<Item> live(512, Item{nullptr, 0, 0});
  int bad = 0;
  for (int i = 0; i < scaled(100000); ++i) {
    Item& slot = live[rng() % live.size()];
    uint64_t r = rng();
    size_t n = static_cast<size_t>(8) << (r % 20);  // 8 B .. 4 MiB
    n += (r >> 8) % n;
    if (n > (size_t{4} << 20)) n = size_t{4} << 20;
    if (slot.p == nullptr) {
      slot = Item{static_cast<uint8_t*>(alloc_malloc(n)), n, static_cast<uint8_t>(r >> 32)};
      stamp(slot);
    } else if ((r >> 40) % 2 == 0) {
      uint8_t first = slot.p[0];
      slot.p = static_cast<uint8_t*>(alloc_realloc(slot.p, n));
      if (slot.p[0] != first) bad++;
      slot.n = n;
      stamp(slot);
    } else {
      if (!verify(slot)) bad++;
      alloc_free(slot.p);
      slot.p = nullptr;
    }
  }
  for (Item& it : live) {
    if (it.p != nullptr) {
      if (!verify(it)) bad++;
      alloc_free(it.p);
    }
  }
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(census_no_leak_since(census));
}

}  // namespace
