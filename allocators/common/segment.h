// Segments: the memory the multi-size pools carve blocks from.
//
// Every segment (and every fallback mapping for a request too large for a
// size class) starts at a multiple of kSegmentAlign with a SegmentHeader, and
// every block lies within kSegmentAlign bytes of its header. So the header of
// any block the pools hand out is found by masking the block's address
// (segment_of), without a lookup table, from any thread.
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_SEGMENT_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_SEGMENT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "allocators/common/pool_stats.h"
#include "allocators/common/size_classes.h"

namespace allocbench {
namespace detail {

enum class SegmentKind : uint32_t {
  kClass = 0x5E6C1A55,  // Blocks of one size class.
  kLarge = 0x5E61A76E,  // One fallback block (request above kMaxClassSize).
};

// Written once when the segment is made (before any of its blocks is handed
// out) except where a field says otherwise; read by any thread.
struct SegmentHeader {
  SegmentKind kind;     // Class segment or large fallback mapping.
  uint32_t cls;         // Size class (kClass only).
  size_t block_size;    // class_size(cls), or the usable bytes of a large block.
  size_t mapped_bytes;  // Length of the mapping, for unmap.
  void* owner;          // Pool-defined owner (pool_lockfree: the owning heap).
  SegmentHeader* next;  // SegmentSource's list; guarded by its mutex.
  SegmentHeader* prev;  // As next (large mappings only, for O(1) unlink).
  char* carve_next;     // Next never-used block; written by whoever the pool lets carve.
  char* carve_end;      // One past the last block.
};
static_assert(sizeof(SegmentHeader) <= kSegmentHeaderBytes, "header fits its reserved room");

// The header of the segment holding `p` (a block from a SegmentSource).
inline SegmentHeader* segment_of(const void* p) {
  return reinterpret_cast<SegmentHeader*>(reinterpret_cast<uintptr_t>(p) & ~(kSegmentAlign - 1));
}

// Carves up to `n` never-used blocks from `seg` into a singly linked chain
// (each block's first word points to the next). Returns the chain head (or
// nullptr) and sets *count. The caller must be the segment's only carver.
void* carve_chain(SegmentHeader* seg, unsigned n, unsigned* count);

// Most bytes retained by default in a SegmentSource's cache of freed large
// blocks, and how long a cached block may stay unused (see SegmentSource).
constexpr size_t kDefaultLargeCacheBytes = size_t{256} << 20;
constexpr uint64_t kLargeCacheDecayNs = uint64_t{1000} * 1000 * 1000;

// Maps and unmaps segments for one pool and counts what it holds.
//
// Large blocks (the fallback path, requests above kMaxClassSize) are mapped
// one per request, with the mapping rounded up to one of four sizes per
// doubling. A freed large block is not unmapped but kept in a small cache (a
// fixed array, most recent last) and handed out again to a later request that
// fits it (best fit, at most twice the rounded size needed), header rewritten:
// its pages are already resident, so reuse costs no system call and no page
// fault. Policy for giving memory back:
//  - decay: a cached block unused for kLargeCacheDecayNs (1 s) is unmapped,
//    checked whenever a large block is freed (so a burst reuses memory, and
//    a program whose large working set shrinks gives the difference back);
//  - bounds: the cache holds at most `large_cache_bytes` bytes and
//    kLargeCacheSlots blocks; a free that would pass either bound unmaps the
//    oldest cached blocks first, and a block larger than the whole bound is
//    unmapped at once;
//  - release_cached() (the pools' *_trim) unmaps every cached block; a
//    mapping that would pass max_bytes first drops the cache; destroy unmaps
//    everything.
// Cached blocks keep their pages resident (no decommit): that is the point.
//
// Thread-safe (one mutex, taken only when a segment is made or a large block
// is allocated, freed or resized: never on a pool's small-block fast path).
// The pools' create_ex defaults: 0 (or no options) means unlimited
// mapping and the default fallback cache.
template <typename Options>
size_t option_max_bytes(const Options* o) {
  return o != nullptr && o->max_bytes != 0 ? o->max_bytes : SIZE_MAX;
}
template <typename Options>
size_t option_cache_bytes(const Options* o) {
  return o != nullptr && o->large_cache_bytes != 0 ? o->large_cache_bytes : kDefaultLargeCacheBytes;
}

class SegmentSource {
 public:
  static constexpr unsigned kLargeCacheSlots = 128;

  // `max_bytes`: the most this source may have mapped at once (exhaustion
  // limit, cached large blocks included); SIZE_MAX for no limit.
  // `large_cache_bytes`: the most freed large blocks kept mapped for reuse.
  explicit SegmentSource(size_t max_bytes = SIZE_MAX,
                         size_t large_cache_bytes = kDefaultLargeCacheBytes)
      : max_bytes_(max_bytes), cache_limit_(large_cache_bytes) {}
  SegmentSource(const SegmentSource&) = delete;
  SegmentSource& operator=(const SegmentSource&) = delete;
  ~SegmentSource();  // Unmaps every segment and large block still mapped or cached.

  // A new segment of class `cls`, header filled, nothing carved yet. nullptr
  // when the OS refuses or the limit would be exceeded.
  SegmentHeader* new_class_segment(unsigned cls, void* owner);

  // The fallback path: a block of at least `size` bytes aligned to
  // `alignment` (at most kSegmentAlign / 2), from the cache or a new mapping.
  // nullptr on failure. Counted in fallback_allocations().
  void* alloc_large(size_t size, size_t alignment);
  // Frees a block from alloc_large into the cache (or unmaps it, see above).
  void free_large(void* p);
  // Makes the large block `p` hold at least `new_size` bytes without a copy.
  // Within its mapping: returns p. Past it, if no cached block fits (else
  // copying into that block's resident pages is cheaper: returns nullptr),
  // moves the mapping's pages (not their contents) to a larger aligned
  // mapping and returns the new address. nullptr means: allocate, copy and
  // free; p is then untouched.
  void* resize_large(void* p, size_t new_size);
  // Unmaps every cached large block. Returns the bytes unmapped.
  size_t release_cached();

  size_t mapped_bytes() const { return mapped_bytes_.load(std::memory_order_relaxed); }
  uint64_t fallback_allocations() const { return fallback_allocs_.load(std::memory_order_relaxed); }
  size_t large_live_bytes() const { return large_live_bytes_.load(std::memory_order_relaxed); }
  size_t large_live_blocks() const { return large_live_blocks_.load(std::memory_order_relaxed); }
  size_t large_cached_bytes() const { return cached_bytes_.load(std::memory_order_relaxed); }
  size_t large_cache_limit() const { return cache_limit_; }
  // Adds the fallback blocks to `st` (live blocks and bytes) and sets its
  // mapped and fallback fields: the part of every pool's statistics that
  // this source owns.
  void add_stats(pool_family_stats_t* st) const {
    st->fallback_live_blocks = large_live_blocks();
    st->allocated_blocks += st->fallback_live_blocks;
    st->allocated_bytes += large_live_bytes();
    st->mapped_bytes = mapped_bytes();
    st->fallback_allocations = fallback_allocations();
    st->fallback_cached_bytes = large_cached_bytes();
  }

 private:
  struct CachedBlock {
    SegmentHeader* seg;  // Start of the mapping (its header is stale while cached).
    size_t bytes;        // Length of the mapping.
    uint64_t freed_ns;   // platform::now_ns() when it was cached.
  };

  bool reserve(size_t bytes);  // Adds to mapped_bytes_ if under the limit.
  // reserve(), dropping the cache first if that is what stands in the way.
  bool reserve_or_drop_cache(size_t bytes);
  // Takes the best-fitting cached block for a mapping of `need` bytes, or
  // nullptr. Caller holds mu_.
  SegmentHeader* take_cached(size_t need);
  // Fills a large header for a block at `offset` in a mapping of `bytes`.
  void init_large(SegmentHeader* seg, size_t bytes, size_t offset);
  void link_live(SegmentHeader* seg);    // Caller holds mu_.
  void unlink_live(SegmentHeader* seg);  // Caller holds mu_.

  const size_t max_bytes_;                    // Exhaustion limit.
  const size_t cache_limit_;                  // Most bytes kept in cache_.
  std::mutex mu_;                             // Guards the lists and the cache.
  SegmentHeader* class_segments_ = nullptr;   // Every class segment (never unmapped before ~).
  SegmentHeader* large_blocks_ = nullptr;     // Live large mappings (doubly linked).
  CachedBlock cache_[kLargeCacheSlots];       // Freed large mappings, oldest first. Guarded by mu_.
  unsigned cache_count_ = 0;                  // Entries used in cache_. Guarded by mu_.
  std::atomic<size_t> cached_bytes_{0};       // Sum of cache_[i].bytes; written under mu_.
  std::atomic<size_t> mapped_bytes_{0};       // Bytes mapped now (segments + large + cached).
  std::atomic<uint64_t> fallback_allocs_{0};  // Large blocks ever handed out.
  std::atomic<size_t> large_live_bytes_{0};   // Usable bytes of live large blocks.
  std::atomic<size_t> large_live_blocks_{0};  // Live large blocks.
};

// Bytes of the mapping for a large block needing `need` bytes (header and
// alignment offset included): rounded up to one of four sizes per doubling
// and to the page size, so freed blocks of similar size are interchangeable.
size_t large_mapping_bytes(size_t need);

}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_SEGMENT_H_
