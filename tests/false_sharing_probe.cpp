// Does the allocator put two threads' objects on one cache line? The
// address-level check behind cache_scratch and cache_thrash
// (workloads/false_sharing.cpp), for a host where the time of a write to a
// shared line is no signal (docs/false_sharing.md). Runs under any malloc:
// `allocbench exec --allocators all -- false_sharing_probe` preloads each.
//
// Two threads, two patterns, each a loop of N rounds of malloc(8), a write,
// free:
//   passive  thread 0 allocates two neighbouring objects and hands the second
//            to thread 1, which frees it; then both loop (Hoard's
//            cache-scratch).
//   active   both loop from the start (Hoard's cache-thrash).
// Each thread records the 64-byte line of every object of its loop (in
// static arrays: the probe allocates nothing else while it runs). A round
// is shared when its line is one the other thread's loop used too.
//
// One pattern per process (`passive` or `active`), so neither inherits the
// other's heap state. stdout: "ok" (the same for every allocator, as exec's
// output check needs); stderr: one line
//   @fs pattern=P shared=S rounds=N
// with S summed over both threads (so at most 2N). `--self-check` runs the
// same count on lines chosen to be shared (S = 2N) and on lines chosen to be
// apart (0) without calling malloc, and exits 1 unless the count finds
// exactly that. `--line-cost` calls no malloc either: it times two threads
// writing 2e8 times each to two words 16 bytes apart (one line), then 128
// apart (two lines), and prints ns per write of each (the median of 5 runs
// of each, alternated): whether a shared line costs time on this host at
// all, and so whether cache_scratch's times can show false sharing. A bad
// argument: usage, exit 2.
#include <algorithm>
#include <chrono>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

constexpr int kRounds = 100000;
constexpr uintptr_t kLine = 64;

uintptr_t lines[2][kRounds];  // Thread t's loop lines; written by thread t.
uintptr_t sorted[kRounds];    // Scratch for the count (main thread).

// Spin barrier for the two threads: no allocation, no syscall.
std::atomic<int> arrived{0};
void meet() {
  arrived.fetch_add(1, std::memory_order_acq_rel);
  while (arrived.load(std::memory_order_acquire) < 2) {
  }
}

void loop(int t) {
  for (int i = 0; i < kRounds; ++i) {
    void* p = std::malloc(8);
    if (p == nullptr) std::abort();
    *static_cast<volatile uint64_t*>(p) = static_cast<uint64_t>(i);
    lines[t][i] = reinterpret_cast<uintptr_t>(p) / kLine;
    std::free(p);
  }
}

// Rounds of thread `t` whose line thread 1 - t also used.
long shared_rounds(int t) {
  std::memcpy(sorted, lines[1 - t], sizeof sorted);
  std::sort(sorted, sorted + kRounds);
  long n = 0;
  for (int i = 0; i < kRounds; ++i) n += std::binary_search(sorted, sorted + kRounds, lines[t][i]);
  return n;
}

long count() { return shared_rounds(0) + shared_rounds(1); }

long passive() {
  void* objects[2] = {std::malloc(8), std::malloc(8)};
  if (objects[0] == nullptr || objects[1] == nullptr) std::abort();
  std::thread other([&] {
    std::free(objects[1]);  // the object thread 0 handed over
    meet();
    loop(1);
  });
  std::free(objects[0]);
  meet();
  loop(0);
  other.join();
  return count();
}

long active() {
  std::thread other([&] {
    meet();
    loop(1);
  });
  meet();
  loop(0);
  other.join();
  return count();
}

int self_check() {
  for (int i = 0; i < kRounds; ++i) lines[0][i] = lines[1][i] = 1000 + i % 7;
  const long all = count();
  for (int i = 0; i < kRounds; ++i) lines[1][i] = 5000 + i % 7;
  const long none = count();
  std::fprintf(stderr, "@fs self_check shared=%ld of %d, apart=%ld\n", all, 2 * kRounds, none);
  return all == 2 * kRounds && none == 0 ? 0 : 1;
}

alignas(64) uint64_t words[32];

void write_word(int index) {
  volatile uint64_t* w = &words[index];
  for (uint64_t k = 0; k < 200000000; ++k) {
    (void)*w;
    *w = k;
  }
}

// Wall ns per write with two threads writing words[0] and words[other].
double write_ns(int other) {
  const auto t0 = std::chrono::steady_clock::now();
  std::thread a(write_word, 0);
  std::thread b(write_word, other);
  a.join();
  b.join();
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / 2e8;
}

int line_cost() {
  double one[5], two[5];
  for (int r = 0; r < 5; ++r) {
    one[r] = write_ns(2);   // 16 bytes apart
    two[r] = write_ns(16);  // 128 bytes apart
  }
  std::sort(one, one + 5);
  std::sort(two, two + 5);
  std::printf("one line %.2f ns/write [%.2f, %.2f]; two lines %.2f ns/write [%.2f, %.2f]; ratio %.2f\n",
              one[2], one[0], one[4], two[2], two[0], two[4], one[2] / two[2]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* arg = argc == 2 ? argv[1] : "";
  long shared;
  if (std::strcmp(arg, "--self-check") == 0) {
    return self_check();
  } else if (std::strcmp(arg, "--line-cost") == 0) {
    return line_cost();
  } else if (std::strcmp(arg, "passive") == 0) {
    shared = passive();
  } else if (std::strcmp(arg, "active") == 0) {
    shared = active();
  } else {
    std::fprintf(stderr, "usage: false_sharing_probe passive|active|--self-check|--line-cost\n");
    return 2;
  }
  std::printf("ok\n");
  std::fprintf(stderr, "@fs pattern=%s shared=%ld rounds=%d\n", arg, shared, kRounds);
  return 0;
}
