// A bounded cache of freed large mappings, shared by allocators whose large
// requests get one mapping each (coalesce_arena's direct path, mempool's
// large blocks). Unmapping a freed large block and mapping a new one for the
// next request costs two system calls and a page fault per touched page;
// handing the still-resident mapping out again costs neither.
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_LARGE_CACHE_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_LARGE_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace allocbench {
namespace detail {

// Defaults: most bytes kept cached, and how long a cached mapping may stay
// unused before a later give() unmaps it.
constexpr size_t kLargeMappingCacheBytes = size_t{64} << 20;
constexpr uint64_t kLargeMappingDecayNs = uint64_t{1000} * 1000 * 1000;

// Maps page-granular regions for large blocks and keeps freed ones for reuse.
//
// map() rounds the request up to one of four sizes per doubling (and to the
// page size), so freed mappings of similar size are interchangeable, and
// takes the best-fitting cached mapping that is at most twice that size
// (most recently freed among equals), else maps a new one. give() puts a
// freed mapping into the cache. Policy for giving memory back:
//  - decay: give() first unmaps cached mappings unused for `decay_ns`;
//  - bounds: at most `limit_bytes` bytes and kSlots mappings are cached; a
//    give() that would pass either unmaps the oldest first, and a mapping
//    larger than the whole bound is unmapped at once;
//  - trim(min_idle_ns) unmaps cached mappings unused for at least
//    min_idle_ns (0: all of them); the owners call it from their reclaim,
//    trim or reset paths; the destructor unmaps everything cached.
// Cached mappings keep their pages resident (no decommit) and their old
// contents: the caller rewrites its header.
//
// Thread-safe (one mutex, taken on map(), give() and trim() only: the large
// path, never a small-block fast path).
class LargeMappingCache {
 public:
  static constexpr unsigned kSlots = 32;

  explicit LargeMappingCache(size_t limit_bytes = kLargeMappingCacheBytes,
                             uint64_t decay_ns = kLargeMappingDecayNs)
      : limit_bytes_(limit_bytes), decay_ns_(decay_ns) {}
  LargeMappingCache(const LargeMappingCache&) = delete;
  LargeMappingCache& operator=(const LargeMappingCache&) = delete;
  ~LargeMappingCache() { trim(0); }

  // A page-aligned mapping of at least `bytes` bytes; its length is stored
  // in *mapped. *fresh says whether it is a new mapping (true) or a cached
  // one (false, its bytes were already counted as mapped). nullptr when the
  // OS refuses (or `bytes` overflows when rounded).
  void* map(size_t bytes, size_t* mapped, bool* fresh);

  // Takes back a mapping from map() (`bytes`: its full length). Returns the
  // bytes unmapped by this call (the mapping itself when it is not cached,
  // plus whatever decay or the bounds evicted).
  size_t give(void* p, size_t bytes);

  // Unmaps every cached mapping unused for at least `min_idle_ns` (0: all).
  // Returns the bytes unmapped.
  size_t trim(uint64_t min_idle_ns);

  size_t cached_bytes() const { return cached_bytes_.load(std::memory_order_relaxed); }
  size_t cached_count() const { return cached_count_.load(std::memory_order_relaxed); }
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  size_t limit_bytes() const { return limit_bytes_; }

  // The mapping length map() uses for a request of `bytes` (0 on overflow).
  static size_t rounded_bytes(size_t bytes);

 private:
  struct Entry {
    void* p;            // Start of the mapping.
    size_t bytes;       // Its length.
    uint64_t freed_ns;  // platform::now_ns() when it was given back.
  };
  void remove_at(unsigned i);  // Drops entry i (keeps the order). Caller holds mu_.

  const size_t limit_bytes_;             // Most bytes cached.
  const uint64_t decay_ns_;              // Idle time after which give() unmaps.
  std::mutex mu_;                        // Guards entries_ and count_.
  Entry entries_[kSlots];                // Cached mappings, oldest first; mu_.
  unsigned count_ = 0;                   // Entries used; mu_.
  std::atomic<size_t> cached_bytes_{0};  // Sum of entries_[i].bytes; written under mu_.
  std::atomic<size_t> cached_count_{0};  // count_, readable without mu_.
  std::atomic<uint64_t> hits_{0};        // map() calls served from the cache.
};

}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_LARGE_CACHE_H_
