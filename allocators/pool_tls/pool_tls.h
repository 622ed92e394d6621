// pool_tls: size classes over thread-cached pools (tcmalloc-style).
//
// Every thread has, per pool, one free list per size class (intrusive, through
// the free blocks' first word). allocate pops it and deallocate pushes onto the
// calling thread's list whatever thread allocated the block, with no atomic RMW
// and no lock. A list that runs empty takes one batch (class_batch blocks) from
// the class's central store; a full list gives batches back. The limit
// adapts, as tcmalloc's max_length does: it starts at two batches. A full
// list that has refilled since it last gave a batch back grows its limit by a
// batch instead, once per such refill (a thread that allocates many blocks
// then frees them keeps them all, instead of trading batches with other
// threads through the central lock; one that only allocates in a class grows
// nothing there). It shrinks by one batch for each limit's worth of blocks the
// list gives back with no refill between (a thread that only frees ends at
// the starting limit; one that frees more than its limit in a burst and then
// allocates again keeps it). Growth is bounded per class (kMaxListBytes) and
// per thread (kGrowthBudgetBytes above the starting limits), so a thread
// caches at most the sum of its starting limits plus 4 MiB. The central store is one spin lock per class (on its own
// cache line) guarding a stack of whole batches (so a transfer is O(1) under
// the lock), a list of loose blocks (from thread exits) and the segment being
// carved. Blocks are carved lazily from segments (common/segment.h), whose
// header gives the class of any block by masking its address, so frees from any
// thread need no size. Requests above 256 KiB (or alignments that do not fit a
// class) take the fallback path: one aligned mapping each, counted in
// fallback_allocations, kept in a bounded cache for reuse when freed (see
// SegmentSource in common/segment.h for the policy that gives it back). Thread
// exit (or pool_tls_thread_flush) returns the thread's lists to the central
// stores. Class segments are never returned to the OS before destroy.
#ifndef ALLOCBENCH_ALLOCATORS_POOL_TLS_POOL_TLS_H_
#define ALLOCBENCH_ALLOCATORS_POOL_TLS_POOL_TLS_H_

#include <stddef.h>

#include "allocators/common/pool_stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef pool_family_options_t pool_tls_options_t;

/* pool_tls_create, _create_ex, _alloc, _alloc_aligned, _free, _usable_size,
   _trim, _destroy, _stats: see POOL_FAMILY_C_API. */
POOL_FAMILY_C_API(pool_tls)
void pool_tls_thread_flush(pool_tls_t* pool);

#ifdef __cplusplus
}  // extern "C"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "allocators/common/segment.h"
#include "allocators/common/size_classes.h"
#include "allocators/common/spin_lock.h"
#include "allocators/common/thread_registry.h"

namespace allocbench {

// Thread-safe. Thread caches are owner-thread only; central stores lock.
class alignas(64) PoolTls final : public detail::ThreadStateOwner {
 public:
  explicit PoolTls(size_t max_bytes = SIZE_MAX,
                   size_t large_cache_bytes = detail::kDefaultLargeCacheBytes);
  ~PoolTls();
  PoolTls(const PoolTls&) = delete;
  PoolTls& operator=(const PoolTls&) = delete;

  // Fast path: alignment test, size-class computation, thread-local id
  // compare, list pop and count store: about 16 instructions, no atomic RMW,
  // no call and no register saves (every miss is a tail call into
  // allocate_slow, which recomputes what it needs).
  void* allocate(size_t size, size_t alignment = 16) {
    if (alignment <= detail::kMinAlign && size <= detail::kMaxClassSize) {
      const detail::ThreadStateCache& sc = detail::t_state_cache;
      if (sc.id == id_) {
        FreeList& l = static_cast<ThreadCache*>(sc.state)->lists[detail::class_of(size)];
        void* p = l.head;
        if (p != nullptr) {
          l.head = *static_cast<void**>(p);
          l.count.store(l.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
          return p;
        }
      }
    }
    return allocate_slow(size, alignment);
  }

  // Fast path: header load by masking, id compare, bound check, list push,
  // count store; a miss is a tail call into deallocate_slow.
  void deallocate(void* p, size_t = 0, size_t = 0) {
    detail::SegmentHeader* seg = detail::segment_of(p);
    const detail::ThreadStateCache& sc = detail::t_state_cache;
    if (seg->kind == detail::SegmentKind::kClass && sc.id == id_) {
      FreeList& l = static_cast<ThreadCache*>(sc.state)->lists[seg->cls];
      uint32_t n = l.count.load(std::memory_order_relaxed);
      if (n < l.limit) {
        *static_cast<void**>(p) = l.head;
        l.head = p;
        l.count.store(n + 1, std::memory_order_relaxed);
        return;
      }
    }
    deallocate_slow(p);
  }

  static size_t usable_size(const void* p) { return detail::segment_of(p)->block_size; }
  // Resizes `p` without copying where it can: returns p when the block
  // already holds new_size bytes, a large block's new address when its pages
  // could be moved to a larger mapping, or nullptr when the caller must
  // allocate, copy and free. Alignment is kept.
  void* resize(void* p, size_t new_size) {
    detail::SegmentHeader* seg = detail::segment_of(p);
    if (new_size <= seg->block_size) return p;
    return seg->kind == detail::SegmentKind::kLarge ? source_.resize_large(p, new_size) : nullptr;
  }
  // Unmaps the cached fallback blocks; returns the bytes given back.
  size_t trim() { return source_.release_cached(); }
  void thread_flush() { detail::thread_state_release_current(id_); }
  pool_family_stats_t stats();
  void release_thread_state(void* state) override;

 private:
  // Per-class bound on one list's adaptive limit, in bytes (never below the
  // starting two batches), and per-thread bound on the bytes all of a
  // thread's limits may grow above their starting values.
  static constexpr size_t kMaxListBytes = size_t{1} << 20;
  static constexpr size_t kGrowthBudgetBytes = size_t{4} << 20;

  struct FreeList {
    void* head = nullptr;            // Owner thread only.
    std::atomic<uint32_t> count{0};  // Blocks in the list; owner stores, stats read.
    uint32_t limit = 0;              // Adaptive bound on count. Owner thread only.
  };
  // Written on every operation by its thread only: whole cache lines of its
  // own, so two threads' caches never share one (whoever allocated them).
  struct alignas(64) ThreadCache {
    FreeList lists[detail::kNumClasses];
    size_t growth_bytes = 0;                 // Sum over lists of (limit - start) * class size.
    uint32_t spilled[detail::kNumClasses];  // Blocks given back since the list's last refill.
    uint32_t refills[detail::kNumClasses];  // Refills since the list last gave a batch back.
  };
  struct alignas(64) Central {
    detail::SpinLock lock;
    void* batches = nullptr;  // Stack of full batches (word 1 of a batch's head links them).
    size_t full_batches = 0;  // Guarded by lock.
    void* loose = nullptr;    // Loose free blocks (word 0 links). Guarded by lock.
    size_t loose_count = 0;   // Guarded by lock.
    detail::SegmentHeader* seg = nullptr;  // Segment being carved. Guarded by lock.
    size_t carved = 0;                     // Blocks ever carved. Guarded by lock.
  };

  ThreadCache* attach();
  __attribute__((noinline)) void* allocate_slow(size_t size, size_t alignment);
  __attribute__((noinline)) void deallocate_slow(void* p);
  // Takes up to one batch of class c from the central store; returns the chain.
  void* take_batch(unsigned c, uint32_t* count);
  // Gives a chain of n blocks (first..last) of class c to the central store.
  void give(unsigned c, void* first, void* last, uint32_t n);
  // The limit policy. note_refill: list c of tc ran empty and took a batch.
  // grow_limit: list c is full; raises its limit by a batch (and returns
  // true) if it refilled since it last gave a batch back, within the class
  // and thread bounds. So a limit grows only over blocks the list holds: a
  // thread that only allocates in a class spends no budget on it.
  // note_spill: list c gave a batch back.
  void note_refill(ThreadCache* tc, unsigned c);
  bool grow_limit(ThreadCache* tc, unsigned c);
  void note_spill(ThreadCache* tc, unsigned c);
  // Sets every list of tc to its starting limit.
  void reset_limits(ThreadCache* tc);

  // Written only by the constructor: id_ is read by every fast path, the
  // limits by the slow paths. On lines of their own (the class is 64-aligned;
  // source_ starts a new line).
  uint64_t id_;                               // Registry id. Immutable.
  uint32_t start_[detail::kNumClasses];       // Starting list limit per class. Immutable.
  uint32_t max_[detail::kNumClasses];         // Largest list limit per class. Immutable.
  alignas(64) detail::SegmentSource source_;  // Segments and fallback blocks.
  Central central_[detail::kNumClasses];      // One per class, each on its own line.
  std::mutex mu_;                             // Guards caches_ and spare_.
  std::vector<ThreadCache*> caches_;          // Every cache made (owned).
  std::vector<ThreadCache*> spare_;           // Released caches (empty lists).
};

}  // namespace allocbench

#endif  // __cplusplus

#endif  // ALLOCBENCH_ALLOCATORS_POOL_TLS_POOL_TLS_H_
