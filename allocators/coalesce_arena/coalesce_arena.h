// Per-thread coalescing arenas with optional background reclamation (seed 002).
//
// A CoalesceHeap hands each thread its own arena: a 4 MiB region, aligned to
// its size, managed with boundary tags (a 16-byte header before every block, an
// 8-byte footer at its end), size-segregated free lists and immediate forward
// and backward coalescing on free. Requests of up to 256 bytes are served from a
// thread-local small-block cache (bins 32, 64, 128, 256 B) without locks.
// Requests above kDirectThreshold get their own mapping, kept in a bounded
// cache (detail::LargeMappingCache) when freed for reuse. Any thread may free any
// block; a block freed by a thread that does not own its arena goes back to
// that arena under the arena's lock. See docs/coalesce_and_mempool.md.
//
// Usage:
//   allocbench::CoalesceHeap heap({/*reclaim=*/true, /*reclaim_period_ms=*/10});
//   void* p = heap.allocate(100);          // 16-byte aligned
//   void* q = heap.allocate(100, 4096);    // any power of two up to 64 KiB
//   heap.deallocate(p); heap.deallocate(q);
//   heap.thread_exit();                    // optional: a worker is done with the heap
#ifndef ALLOCBENCH_ALLOCATORS_COALESCE_ARENA_COALESCE_ARENA_H_
#define ALLOCBENCH_ALLOCATORS_COALESCE_ARENA_COALESCE_ARENA_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "allocators/common/large_cache.h"

namespace allocbench {

namespace detail {
struct CoalesceArena;
struct CoalesceThread;
struct CoalesceTls;
}  // namespace detail

// Configuration of a CoalesceHeap.
struct CoalesceOptions {
  bool reclaim = false;             // Run the background reclamation thread.
  uint32_t reclaim_period_ms = 10;  // Period of the reclamation pass (at least 1).
};

// A snapshot of a heap's counters (see CoalesceHeap::stats()).
struct CoalesceStats {
  uint64_t alloc_calls = 0;          // allocate() calls, including direct ones.
  uint64_t free_calls = 0;           // deallocate() calls.
  uint64_t direct_allocs = 0;        // Requests served by the direct-mapped path.
  uint64_t arenas_live = 0;          // Arenas currently mapped.
  uint64_t arenas_reclaimed = 0;     // Arenas unmapped by reclamation.
  uint64_t arenas_decommitted = 0;   // Empty arenas whose pages were given back but kept mapped.
  uint64_t arenas_purged = 0;        // Purges of idle arenas' free pages (live blocks kept).
  uint64_t bytes_purged = 0;         // Bytes those purges decommitted (summed over purges).
  uint64_t purges_refaulted = 0;     // Purges followed soon by an allocation: the wait doubled.
  uint64_t purges_stuck = 0;         // Purges the arena stayed unallocated after: the wait halved.
  uint64_t max_purge_wait = 0;       // Longest idle wait (periods) an arena now needs to be
                                     // purged; 1 without back-off, 0 without arenas.
  uint64_t direct_cached_bytes = 0;  // Freed direct mappings kept for reuse (in bytes_mapped).
  uint64_t direct_cache_hits = 0;    // Direct requests served from that cache.
  uint64_t bytes_mapped = 0;         // Arena, direct and cached direct mappings now held.
  uint64_t peak_bytes_mapped = 0;    // Highest bytes_mapped seen.
  uint64_t bytes_in_use = 0;         // Arena blocks handed out (incl. cached) plus direct mappings.
};

// Thread-safe: every member function may be called from any thread. The heap
// must outlive every thread's use of it; blocks still live when it is
// destroyed are released with it.
class CoalesceHeap {
 public:
  static constexpr size_t kArenaBytes = size_t{4} << 20;         // Size and alignment of an arena.
  static constexpr size_t kDirectThreshold = size_t{512} << 10;  // Larger requests map directly.
  static constexpr size_t kMaxAlignment = size_t{64} << 10;      // Largest alignment honoured.
  static constexpr size_t kSmallMax = 256;                       // Largest small-cache request.
  // Back-off of the idle purge (docs/coalesce_and_mempool.md, reclamation
  // case 5): the most idle periods an arena can be made to wait, and the
  // number of periods it is in use, without a refault, after which its wait
  // halves.
  static constexpr uint32_t kMaxPurgeWait = 16;
  static constexpr uint32_t kPurgeForgetPeriods = 8;

  explicit CoalesceHeap(const CoalesceOptions& options = CoalesceOptions());
  ~CoalesceHeap();
  CoalesceHeap(const CoalesceHeap&) = delete;
  CoalesceHeap& operator=(const CoalesceHeap&) = delete;

  // Returns a block of at least `size` bytes (0 is treated as 1) aligned to
  // `alignment` (a power of two up to kMaxAlignment; values below 16 give 16),
  // or nullptr when the alignment is invalid or memory is exhausted.
  // Cost: a small request with a warm cache is a thread-local compare, a
  // relaxed load of the flush flag and a list pop (no lock, no atomic RMW);
  // other arena requests take the arena's uncontended lock once.
  void* allocate(size_t size, size_t alignment = 16);

  // Frees a block from allocate()/reallocate() of this heap; nullptr is
  // ignored. Any thread may call it.
  void deallocate(void* p);

  // Resizes `p` keeping min(usable, new_size) bytes; returns `p` when it is
  // already large enough. Returns nullptr on failure (the old block stays).
  void* reallocate(void* p, size_t new_size, size_t alignment = 16);

  // Bytes usable at `p` (at least what was requested).
  size_t usable_size(const void* p) const;

  // Detaches the calling thread: flushes its small-block cache to the arenas
  // and orphans its arenas (they can be adopted by a new thread or reclaimed).
  // Called automatically when a thread exits; calling it earlier is allowed.
  void thread_exit();

  // Returns every block in the calling thread's small-block cache to its arena.
  void flush_thread_cache();

  // Runs one reclamation pass now (what the background thread does each
  // period); works whether or not reclamation is enabled. It also unmaps
  // every cached direct mapping and decommits the free pages of every arena
  // (the background pass does both only for what was idle for at least one
  // period). Returns the number of arenas unmapped.
  size_t reclaim_now();

  // Runs one pass as the background thread does at the end of each period,
  // with its idle conditions and the purge back-off; works whether or not
  // reclamation is enabled (with it off, the caller decides when periods
  // end, which is how the tests drive the back-off). Returns the number of
  // arenas unmapped.
  size_t reclaim_tick();

  // Heap-walk checker: walks every arena and verifies the boundary tags
  // (header and footer agree, sizes stay inside the arena), that no two free
  // blocks are adjacent (coalescing complete), that the free lists hold
  // exactly the free blocks, each once and in the right bin, that the bin
  // bitmap matches the lists, and that the arena's counters match the walk.
  // Returns "" when the heap is consistent, else a description of the first
  // violation found.
  std::string check_heap() const;

  CoalesceStats stats() const;

  // For tests: the arena-list mapping of `p` (nullptr for direct blocks).
  const void* arena_of(const void* p) const;

 private:
  detail::CoalesceThread* thread_state();
  detail::CoalesceThread* thread_state_slow();
  void* allocate_plain(detail::CoalesceThread* t, size_t size);
  void* refill_small(detail::CoalesceThread* t, int bin, size_t size);
  void* allocate_medium_slow(detail::CoalesceThread* t, size_t block_bytes);
  void* allocate_direct(size_t size);
  void flush_cache(detail::CoalesceThread* t);
  void detach(detail::CoalesceThread* t);
  detail::CoalesceArena* new_arena();
  void account_mapped(int64_t delta);
  uint64_t period_ns() const;
  void reclaim_loop();
  // One reclamation pass; cached direct mappings idle for at least
  // `cache_min_idle_ns` are unmapped (0: all of them).
  size_t reclaim_pass(uint64_t cache_min_idle_ns);
  bool reclaim_arena(detail::CoalesceArena* a, bool now);

  friend struct detail::CoalesceTls;

  const uint64_t id_;                        // Unique for the process lifetime; keys thread-locals.
  const CoalesceOptions options_;            // Immutable after construction.
  mutable std::mutex list_mu_;               // Guards the arena list, thread list, chains, current.
  detail::CoalesceArena* arenas_ = nullptr;  // All mapped arenas; list_mu_.
  detail::CoalesceThread* threads_ = nullptr;  // Attached thread states; list_mu_.
  uint64_t retired_allocs_ = 0;                // Counters of detached threads; list_mu_.
  uint64_t retired_frees_ = 0;                 // list_mu_.
  uint64_t arenas_live_ = 0;                   // list_mu_.
  uint64_t arenas_reclaimed_ = 0;              // list_mu_.
  uint64_t arenas_decommitted_ = 0;            // list_mu_.
  uint64_t arenas_purged_ = 0;                 // list_mu_.
  uint64_t bytes_purged_ = 0;                  // list_mu_.
  uint64_t purges_refaulted_ = 0;              // list_mu_.
  uint64_t purges_stuck_ = 0;                  // list_mu_.
  std::atomic<uint64_t> direct_allocs_{0};     // Any thread (relaxed).
  std::atomic<uint64_t> direct_bytes_{0};      // Bytes of live direct mappings (relaxed).
  detail::LargeMappingCache large_cache_;      // Freed direct mappings (own lock).
  std::atomic<int64_t> bytes_mapped_{0};       // Any thread (relaxed).
  std::atomic<int64_t> peak_bytes_mapped_{0};  // Any thread (relaxed CAS max).
  std::mutex reclaim_mu_;                      // Guards stop_ for the reclamation thread.
  std::condition_variable reclaim_cv_;         // Wakes the reclamation thread to stop.
  bool stop_ = false;                          // reclaim_mu_.
  std::thread reclaimer_;                      // Background reclamation (options_.reclaim).
};

}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COALESCE_ARENA_COALESCE_ARENA_H_
