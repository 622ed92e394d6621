// pool_sharded: size classes whose shared free lists are split over N
// lock-protected shards (the seed's mempool_sharded).
//
// For each class there are N shards (N a power of two, default
// max(4, 2 * CPUs) capped at 16), each one cache line with a spin lock, an
// intrusive free list and the segment it carves. A thread is given a shard
// index once (round robin over threads) and uses that shard of every class for
// both allocate and free, so threads on different shards never share a line.
// When its shard is empty a thread steals another shard's whole list (one
// try_lock each, no waiting, no lock held while trying) before carving new
// memory, so producer/consumer patterns do not grow without bound. Blocks come
// from segments (common/segment.h) found by masking the address; requests above
// 256 KiB take the fallback path (one mapping each, counted, kept in a bounded
// cache for reuse when freed: see SegmentSource). No per-thread state, so
// thread exit needs no hook.
#ifndef ALLOCBENCH_ALLOCATORS_POOL_SHARDED_POOL_SHARDED_H_
#define ALLOCBENCH_ALLOCATORS_POOL_SHARDED_POOL_SHARDED_H_

#include <stddef.h>

#include "allocators/common/pool_stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pool_sharded_options {
  size_t max_bytes;         /* Most bytes mapped at once (0: unlimited). */
  unsigned shards;          /* Shards per class, rounded to a power of two, 1..16 (0: default). */
  size_t large_cache_bytes; /* Most bytes of freed fallback blocks kept for reuse (0: 256 MiB;
                               a value below 256 KiB keeps none). */
} pool_sharded_options_t;

/* pool_sharded_create, _create_ex, _alloc, _alloc_aligned, _free,
   _usable_size, _trim, _destroy, _stats: see POOL_FAMILY_C_API. */
POOL_FAMILY_C_API(pool_sharded)

#ifdef __cplusplus
}  // extern "C"

#include <atomic>
#include <cstdint>

#include "allocators/common/segment.h"
#include "allocators/common/size_classes.h"
#include "allocators/common/spin_lock.h"

namespace allocbench {

namespace detail {
// The calling thread's shard number (~0u until first use). Owner thread only.
inline thread_local unsigned t_shard = ~0u;
unsigned assign_shard();
}  // namespace detail

// Thread-safe: every list operation holds its shard's spin lock.
class PoolSharded {
 public:
  static constexpr unsigned kMaxShards = 16;

  explicit PoolSharded(size_t max_bytes = SIZE_MAX, unsigned shards = 0,
                       size_t large_cache_bytes = detail::kDefaultLargeCacheBytes);
  PoolSharded(const PoolSharded&) = delete;
  PoolSharded& operator=(const PoolSharded&) = delete;

  // Fast path: class computation, shard lookup, uncontended lock (one
  // exchange), list pop, unlock (one store).
  void* allocate(size_t size, size_t alignment = 16) {
    unsigned c = detail::class_of_aligned(size, alignment);
    if (c >= detail::kNumClasses) return source_.alloc_large(size == 0 ? 1 : size, alignment);
    Shard& s = shard(c, my_shard());
    s.lock.lock();
    void* p = s.head;
    if (p != nullptr) {
      s.head = *static_cast<void**>(p);
      s.count.store(s.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
      s.lock.unlock();
      return p;
    }
    s.lock.unlock();
    return allocate_slow(c);
  }

  // Fast path: header load by masking, lock, push, unlock.
  void deallocate(void* p, size_t = 0, size_t = 0) {
    detail::SegmentHeader* seg = detail::segment_of(p);
    if (seg->kind != detail::SegmentKind::kClass) {
      source_.free_large(p);
      return;
    }
    Shard& s = shard(seg->cls, my_shard());
    s.lock.lock();
    *static_cast<void**>(p) = s.head;
    s.head = p;
    s.count.store(s.count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    s.lock.unlock();
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
  void thread_flush() {}  // No per-thread state.
  pool_family_stats_t stats();
  unsigned shard_count() const { return mask_ + 1; }

 private:
  struct alignas(64) Shard {
    detail::SpinLock lock;
    void* head = nullptr;          // Free list (word 0 links). Guarded by lock.
    std::atomic<size_t> count{0};  // Blocks in the list; written under lock, peeked by thieves.
    detail::SegmentHeader* seg = nullptr;  // Segment this shard carves. Guarded by lock.
    size_t carved = 0;                     // Blocks ever carved here. Guarded by lock.
  };

  unsigned my_shard() const {
    unsigned s = detail::t_shard;
    if (s == ~0u) s = detail::assign_shard();
    return s & mask_;
  }
  Shard& shard(unsigned c, unsigned s) { return shards_[c * kMaxShards + s]; }
  __attribute__((noinline)) void* allocate_slow(unsigned c);

  unsigned mask_;                 // Shards - 1. Immutable.
  detail::SegmentSource source_;  // Segments and fallback blocks.
  Shard shards_[detail::kNumClasses * kMaxShards];
};

}  // namespace allocbench

#endif  // __cplusplus

#endif  // ALLOCBENCH_ALLOCATORS_POOL_SHARDED_POOL_SHARDED_H_
