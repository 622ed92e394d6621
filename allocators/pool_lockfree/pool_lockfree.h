// pool_lockfree: size classes whose shared free lists are lock-free.
//
// Design (mimalloc's split): every thread owns a heap per pool; every segment
// belongs to one heap (SegmentHeader::owner). A heap has, per class, an
// owner-local free list (plain pointers, no atomics) and a remote-free list
// (one atomic head on its own cache line). Freeing a block of one's own heap
// pushes the local list; freeing another heap's block pushes that heap's
// remote list with a CAS loop. The owner, when its local list is empty, takes
// the whole remote list with one exchange. Why this rather than a tagged
// Treiber stack: the remote list is multi-producer / single-consumer and is
// only ever emptied whole, so no consumer pops a single node whose successor
// may have changed: there is no ABA problem and no tag is needed, and the
// owner's fast path has no atomic RMW at all (a Treiber stack would put a CAS
// on every allocation and need tags and type-stable nodes). Cost: memory a
// thread frees for another heap only returns to use when that heap allocates.
//
// Thread exit (or pool_lockfree_thread_flush): the heap is abandoned whole,
// with its lists and segments, to the pool; the next thread that needs a heap
// adopts it (under the pool mutex). Remote frees into an abandoned heap keep
// working. Requests above 256 KiB take the fallback path (one mapping each,
// counted, kept in a bounded cache for reuse when freed: see SegmentSource);
// class segments are never unmapped before destroy.
#ifndef ALLOCBENCH_ALLOCATORS_POOL_LOCKFREE_POOL_LOCKFREE_H_
#define ALLOCBENCH_ALLOCATORS_POOL_LOCKFREE_POOL_LOCKFREE_H_

#include <stddef.h>

#include "allocators/common/pool_stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef pool_family_options_t pool_lockfree_options_t;

/* pool_lockfree_create, _create_ex, _alloc, _alloc_aligned, _free,
   _usable_size, _trim, _destroy, _stats: see POOL_FAMILY_C_API. */
POOL_FAMILY_C_API(pool_lockfree)
void pool_lockfree_thread_flush(pool_lockfree_t* pool);

#ifdef __cplusplus
}  // extern "C"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "allocators/common/segment.h"
#include "allocators/common/size_classes.h"
#include "allocators/common/thread_registry.h"

namespace allocbench {

// Thread-safe. A heap's local lists: owner thread only; remote lists: any
// thread pushes (CAS), the owner takes them whole (exchange).
class PoolLockFree final : public detail::ThreadStateOwner {
 public:
  explicit PoolLockFree(size_t max_bytes = SIZE_MAX,
                        size_t large_cache_bytes = detail::kDefaultLargeCacheBytes);
  ~PoolLockFree();
  PoolLockFree(const PoolLockFree&) = delete;
  PoolLockFree& operator=(const PoolLockFree&) = delete;

  // Fast path: class computation, thread-local id compare, local list pop,
  // counter store: no atomic RMW.
  void* allocate(size_t size, size_t alignment = 16) {
    unsigned c = detail::class_of_aligned(size, alignment);
    auto* h = static_cast<Heap*>(detail::thread_state_get(id_));
    if (c < detail::kNumClasses && h != nullptr) {
      void* p = h->local[c];
      if (p != nullptr) {
        h->local[c] = *static_cast<void**>(p);
        h->bump(c, +1);
        return p;
      }
    }
    return allocate_slow(c, size, alignment, h);
  }

  // Fast path (own block): header load by masking, owner compare, local push.
  // Another heap's block: one CAS on that heap's remote list plus one
  // fetch_add on its counter.
  void deallocate(void* p, size_t = 0, size_t = 0) {
    detail::SegmentHeader* seg = detail::segment_of(p);
    auto* h = static_cast<Heap*>(detail::thread_state_get(id_));
    if (seg->owner == h && h != nullptr) {
      *static_cast<void**>(p) = h->local[seg->cls];
      h->local[seg->cls] = p;
      h->bump(seg->cls, -1);
      return;
    }
    deallocate_slow(p, seg);
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
  struct alignas(64) Remote {
    std::atomic<void*> head{nullptr};    // Blocks freed by other threads; CAS push, exchange take.
    std::atomic<uint64_t> frees{0};      // Blocks ever pushed here (fetch_add by pushers).
    std::atomic<uint64_t> collected{0};  // Blocks the owner took (owner stores).
  };
  struct Heap {
    Remote remote[detail::kNumClasses];                    // Any thread.
    void* local[detail::kNumClasses] = {};                 // Owner only: free lists (word 0 links).
    detail::SegmentHeader* seg[detail::kNumClasses] = {};  // Owner only: segment being carved.
    std::atomic<int64_t> net[detail::kNumClasses] = {};    // Owner stores: allocations minus
                                                           // frees by the owner itself.
    std::atomic<uint64_t> carved[detail::kNumClasses] = {};  // Owner stores: blocks carved.
    bool owned = false;  // Has a live thread. Guarded by the pool's mu_.
    void bump(unsigned c, int64_t d) {
      net[c].store(net[c].load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
    }
  };

  Heap* attach();
  __attribute__((noinline)) void* allocate_slow(unsigned c, size_t size, size_t alignment, Heap* h);
  __attribute__((noinline)) void deallocate_slow(void* p, detail::SegmentHeader* seg);

  uint64_t id_;                   // Registry id. Immutable.
  detail::SegmentSource source_;  // Segments and fallback blocks.
  std::mutex mu_;                 // Guards heaps_, abandoned_ and Heap::owned.
  std::vector<Heap*> heaps_;      // Every heap made (owned).
  std::vector<Heap*> abandoned_;  // Heaps whose thread exited, ready for adoption.
};

}  // namespace allocbench

#endif  // __cplusplus

#endif  // ALLOCBENCH_ALLOCATORS_POOL_LOCKFREE_POOL_LOCKFREE_H_
