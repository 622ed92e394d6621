// Deterministic tests of liballoc's cross-thread free interleavings (the
// delayed-free state machine in alloc.cpp), of fork with other threads' heaps
// live, and of alignments above 2 MiB. Links alloc_api_hooks: the test-only
// hook `remote_claimed` stalls a freeing thread right after it claimed the
// owner's notification, which forces the interleavings that used to hang
// (a page pushed twice onto the delayed list) or strand memory (a large
// block that alloc_trim could never give back).
//
// Each scenario runs in a forked child with a deadline, so a hang is a test
// failure with a message instead of a stuck test run.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "allocators/inhouse/alloc.h"
#include "allocators/inhouse/alloc_test_hooks.h"

namespace {

constexpr size_t kSlot = 65536;  // liballoc's slot: a 64 B class page spans one
constexpr size_t kBlock = 64;
constexpr size_t kPerPage = kSlot / kBlock;

// The block the hook stalls on, and the handshake with the stalled thread.
std::atomic<void*> g_stall_block{nullptr};
std::atomic<int> g_claimed{0};
std::atomic<int> g_release{0};

void stall_hook(void* block) {
  if (block != g_stall_block.load()) return;
  g_claimed.store(1);
  while (g_release.load() == 0) sched_yield();
}

void wait_for_claim() {
  for (int i = 0; i < 20000 && g_claimed.load() == 0; ++i) usleep(100);
}

// What the allocator holds, for comparing before and after a scenario.
struct Holdings {
  uint64_t bytes_active;
  uint64_t blocks_live;
  uint64_t spans;
  uint64_t large_spans;
  uint64_t pages_full;
  uint64_t blocks_delayed;
  uint64_t blocks_remote;
};

Holdings holdings() {
  alloc_census_t c;
  alloc_census(&c);
  return Holdings{c.bytes_active, c.blocks_live, c.spans, c.large_spans, c.pages_full, c.blocks_delayed,
                  c.blocks_remote};
}

// Child-side check: prints what differs and returns the exit status.
int compare_holdings(const Holdings& before, const Holdings& after) {
  int bad = 0;
  auto cmp = [&](const char* what, uint64_t b, uint64_t a) {
    if (a != b) {
      std::fprintf(stderr, "%s: %llu before, %llu after\n", what, static_cast<unsigned long long>(b),
                   static_cast<unsigned long long>(a));
      bad = 1;
    }
  };
  cmp("bytes_active", before.bytes_active, after.bytes_active);
  cmp("blocks_live", before.blocks_live, after.blocks_live);
  cmp("spans", before.spans, after.spans);
  cmp("large_spans", before.large_spans, after.large_spans);
  cmp("pages_full", before.pages_full, after.pages_full);
  cmp("blocks_delayed", before.blocks_delayed, after.blocks_delayed);
  cmp("blocks_remote", before.blocks_remote, after.blocks_remote);
  return bad;
}

// Runs `scenario` in a forked child and waits at most `seconds`. Returns
// the child's exit status, or -1 (after killing it) if it did not finish.
int run_with_deadline(int (*scenario)(), int seconds) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) _exit(scenario());
  for (int waited_ms = 0; waited_ms < seconds * 1000; waited_ms += 10) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

// Allocates 64 B blocks until one starts a fresh page, then fills that page.
// Returns its kPerPage blocks in address order; `extra` gets every other
// block allocated on the way.
std::vector<char*> fill_fresh_page(std::vector<char*>* extra) {
  std::vector<char*> page;
  for (;;) {
    char* p = static_cast<char*>(alloc_malloc(kBlock));
    if ((reinterpret_cast<uintptr_t>(p) & (kSlot - 1)) == 0) {
      page.push_back(p);
      break;
    }
    extra->push_back(p);
  }
  while (page.size() < kPerPage) page.push_back(static_cast<char*>(alloc_malloc(kBlock)));
  return page;
}

// Interleaving 1 (used to hang in heap_drain_delayed):
//  1. the owner fills page P, which is marked full (armed);
//  2. thread R frees P[1] and stalls right after claiming the notification;
//  3. the owner frees P[2], allocates until P is dry again, and once more, so
//     P is scanned and re-armed;
//  4. R resumes;
//  5. the owner's next slow-path allocation, of another class, drains the
//     delayed list. With the old flag handshake R pushed P twice there, the
//     list became a cycle and this step never returned.
int scenario_rearm_during_claim() {
  alloc_trim();
  Holdings before = holdings();
  std::vector<char*> extra;
  std::vector<char*> page = fill_fresh_page(&extra);
  extra.push_back(static_cast<char*>(alloc_malloc(kBlock)));  // P is full: this marks it full
  g_stall_block.store(page[1]);
  alloc_test_hooks.remote_claimed = &stall_hook;
  std::thread remote([&] { alloc_free(page[1]); });
  wait_for_claim();
  if (g_claimed.load() == 0) {
    std::fprintf(stderr, "the remote free never claimed the notification (page was not armed)\n");
    return 3;
  }
  alloc_free(page[2]);
  bool got_back = false;
  for (size_t i = 0; i < 4 * kPerPage && !got_back; ++i) {
    char* p = static_cast<char*>(alloc_malloc(kBlock));
    got_back = p == page[2];
    extra.push_back(p);
  }
  if (!got_back) {
    std::fprintf(stderr, "the freed block never came back\n");
    return 4;
  }
  extra.push_back(static_cast<char*>(alloc_malloc(kBlock)));  // P scanned dry: re-armed
  g_release.store(1);
  remote.join();
  void* other = alloc_malloc(200);  // slow path of another class: drains `delayed`
  alloc_free(other);
  for (size_t i = 0; i < page.size(); ++i) {
    if (i != 1 && i != 2) alloc_free(page[i]);
  }
  for (char* p : extra) alloc_free(p);
  alloc_trim();
  alloc_trim();
  return compare_holdings(before, holdings());
}

// Interleaving 2 (used to strand the block): the owner drains its delayed
// list, and runs alloc_trim, while a remote free of its large block is
// between claiming the notification and publishing the block. The old code
// then marked the span "on the delayed stack" for good and alloc_trim never
// gave back its 128 KiB (nor the segment).
int scenario_trim_during_claim() {
  alloc_trim();
  Holdings before = holdings();
  alloc_stats_t stats_before;
  alloc_get_stats(&stats_before);
  char* large = static_cast<char*>(alloc_malloc(128 << 10));
  large[0] = 1;
  g_stall_block.store(large);
  alloc_test_hooks.remote_claimed = &stall_hook;
  std::thread remote([&] { alloc_free(large); });
  wait_for_claim();
  if (g_claimed.load() == 0) {
    std::fprintf(stderr, "the remote free never claimed the notification\n");
    return 3;
  }
  alloc_trim();                      // drains and collects while the block is in flight
  void* p = alloc_malloc(3000);      // a slow path that drains as well
  alloc_free(p);
  g_release.store(1);
  remote.join();
  for (int i = 0; i < 3; ++i) alloc_trim();
  alloc_stats_t stats_after;
  alloc_get_stats(&stats_after);
  if (stats_after.bytes_active != stats_before.bytes_active) {
    std::fprintf(stderr, "bytes_active %llu before, %llu after three alloc_trim\n",
                 static_cast<unsigned long long>(stats_before.bytes_active),
                 static_cast<unsigned long long>(stats_after.bytes_active));
  }
  return compare_holdings(before, holdings());
}

TEST(InhouseRace, RearmWhileARemoteFreeIsClaimedNeitherHangsNorLeaks) {
  int rc = run_with_deadline(&scenario_rearm_during_claim, 20);
  EXPECT_NE(rc, -1) << "hang: the owner never returned (delayed list cycle)";
  EXPECT_EQ(rc, 0) << "child exit status (see its stderr above)";
}

TEST(InhouseRace, TrimWhileARemoteLargeFreeIsClaimedReturnsTheSpan) {
  int rc = run_with_deadline(&scenario_trim_during_claim, 20);
  EXPECT_NE(rc, -1) << "hang";
  EXPECT_EQ(rc, 0) << "the large span stayed pinned after alloc_trim (see the child's stderr above)";
}

// A remote free of a block in a class page's head slot reads the block
// size from the slot's RemoteWord, which must be 0 for every other slot. The
// 64 KiB class takes two-slot pages whose second block lies in the interior
// slot; placed over slots that headed 64 B pages before (span_alloc prefers
// dirty slots), a stale size there would send those blocks to the wrong
// remote list, where no one collects them: blocks_live and bytes_active stay
// up after the trims.
int scenario_remote_free_over_retired_pages() {
  alloc_trim();
  Holdings before = holdings();
  void* pin = alloc_malloc(kBlock);  // keeps the segment (alloc_trim would unmap it, and its header)
  for (int round = 0; round < 4; ++round) {
    std::vector<void*> small;
    for (size_t i = 0; i < 16 * kPerPage; ++i) small.push_back(alloc_malloc(kBlock));
    for (void* p : small) alloc_free(p);  // retires the emptied 64 B pages; their slots stay dirty
    std::vector<void*> big;
    for (int i = 0; i < 24; ++i) {
      char* p = static_cast<char*>(alloc_malloc(kSlot));
      p[0] = 1;
      p[kSlot - 1] = 2;
      big.push_back(p);
    }
    std::thread remote([&] {
      for (void* p : big) alloc_free(p);
    });
    remote.join();
    void* p = alloc_malloc(300);  // a slow path: collects what it can
    alloc_free(p);
  }
  alloc_free(pin);
  for (int i = 0; i < 3; ++i) alloc_trim();
  return compare_holdings(before, holdings());
}

TEST(InhouseRace, RemoteFreesIntoSpansOverRetiredPagesReachTheirPage) {
  int rc = run_with_deadline(&scenario_remote_free_over_retired_pages, 20);
  ASSERT_NE(rc, -1) << "timed out";
  EXPECT_EQ(rc, 0) << "blocks stranded (see the child's stderr above)";
}

// fork while another thread's heap holds blocks: in the child that thread
// does not exist, so its heap must be abandoned and reclaimed, and the
// child's frees of its blocks must give the memory back.
// A thread that only frees other threads' blocks (xmalloc's consumer) counts
// its frees on a heap of its own. It used to have none, and each of its frees
// took two locked adds on the process-wide g_other_* counters, shared cache
// lines (a third of a remote free's cost at 2 threads, issue 14).
std::atomic<int> g_shared_counts{0};
void count_shared(void*) { g_shared_counts.fetch_add(1); }

int scenario_consumer_counts_on_its_heap() {
  constexpr int kBlocks = 1000;
  std::vector<void*> blocks;
  for (int i = 0; i < kBlocks; ++i) blocks.push_back(alloc_malloc(16 + (i % 32) * 16));
  alloc_stats_t before;
  alloc_get_stats(&before);
  alloc_test_hooks.shared_count = &count_shared;
  std::thread consumer([&] {
    for (void* p : blocks) alloc_free(p);
  });
  consumer.join();
  alloc_test_hooks.shared_count = nullptr;
  alloc_stats_t after;
  alloc_get_stats(&after);
  int bad = 0;
  if (g_shared_counts.load() != 0) {
    std::fprintf(stderr, "%d of %d remote frees counted on the shared atomics\n", g_shared_counts.load(), kBlocks);
    bad = 1;
  }
  if (after.frees != before.frees + kBlocks) {
    std::fprintf(stderr, "frees %llu before, %llu after %d remote frees\n",
                 static_cast<unsigned long long>(before.frees), static_cast<unsigned long long>(after.frees), kBlocks);
    bad = 1;
  }
  if (after.heaps_abandoned != before.heaps_abandoned) {
    std::fprintf(stderr, "the consumer's heap was abandoned, not recycled\n");
    bad = 1;
  }
  return bad;
}

TEST(InhouseRace, AThreadThatOnlyFreesCountsOnItsOwnHeap) {
  int rc = run_with_deadline(&scenario_consumer_counts_on_its_heap, 20);
  ASSERT_NE(rc, -1) << "timed out";
  EXPECT_EQ(rc, 0);
}

TEST(InhouseRace, ForkAbandonsTheHeapsOfThreadsThatDoNotExistInTheChild) {
  alloc_trim();
  alloc_stats_t base;
  alloc_get_stats(&base);
  std::vector<void*> blocks;
  std::atomic<int> stage{0};
  std::thread owner([&] {
    for (size_t n = 16; n <= (size_t{1} << 20); n = n * 3 / 2 + 16) {
      for (int k = 0; k < 8; ++k) blocks.push_back(alloc_malloc(n));
    }
    stage.store(1);
    while (stage.load() != 2) usleep(1000);
    for (void* p : blocks) alloc_free(p);
  });
  while (stage.load() != 1) usleep(1000);
  alloc_census_t parent;
  alloc_census(&parent);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    alloc_census_t c;
    alloc_census(&c);
    if (c.heaps_abandoned < parent.heaps_abandoned + 1) {
      std::fprintf(stderr, "child: %llu abandoned heaps, parent had %llu: the owner's heap stayed active\n",
                   static_cast<unsigned long long>(c.heaps_abandoned),
                   static_cast<unsigned long long>(parent.heaps_abandoned));
      _exit(1);
    }
    for (void* p : blocks) alloc_free(p);  // remote frees into the abandoned heap
    alloc_trim();
    alloc_stats_t s;
    alloc_get_stats(&s);
    if (s.bytes_active > base.bytes_active) {
      std::fprintf(stderr, "child: bytes_active %llu after freeing everything, %llu before\n",
                   static_cast<unsigned long long>(s.bytes_active),
                   static_cast<unsigned long long>(base.bytes_active));
      _exit(2);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  stage.store(2);
  owner.join();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the child's message above";
}

TEST(InhouseRace, AlignmentsOf4MiBAndMoreAreServed) {
  for (size_t align : {size_t{4} << 20, size_t{8} << 20, size_t{64} << 20}) {
    for (size_t n : {size_t{1}, size_t{10000}, size_t{5} << 20}) {
      errno = 0;
      char* p = static_cast<char*>(alloc_aligned(align, n));
      ASSERT_NE(p, nullptr) << align << " " << n;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << align;
      EXPECT_GE(alloc_usable_size(p), n);
      memset(p, 0xab, n);
      p = static_cast<char*>(alloc_realloc(p, n + 100000));
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(static_cast<unsigned char>(p[n - 1]), 0xab);
      alloc_free(p);
    }
  }
  errno = 0;
  EXPECT_EQ(alloc_aligned(size_t{1} << 62, 10), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

}  // namespace
