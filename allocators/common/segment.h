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

// Maps and unmaps segments for one pool and counts what it holds.
// Thread-safe (one mutex, taken only when a segment is made or a large block
// is mapped or unmapped: never on a pool's fast path).
class SegmentSource {
 public:
  // `max_bytes`: the most this source may have mapped at once (exhaustion
  // limit); SIZE_MAX for no limit.
  explicit SegmentSource(size_t max_bytes = SIZE_MAX) : max_bytes_(max_bytes) {}
  SegmentSource(const SegmentSource&) = delete;
  SegmentSource& operator=(const SegmentSource&) = delete;
  ~SegmentSource();  // Unmaps every segment and large block still mapped.

  // A new segment of class `cls`, header filled, nothing carved yet. nullptr
  // when the OS refuses or the limit would be exceeded.
  SegmentHeader* new_class_segment(unsigned cls, void* owner);

  // The fallback path: one mapping per request, aligned to `alignment` (at most
  // kSegmentAlign / 2). nullptr on failure. Counted in fallback_allocations().
  void* alloc_large(size_t size, size_t alignment);
  // Unmaps a block from alloc_large.
  void free_large(void* p);

  size_t mapped_bytes() const { return mapped_bytes_.load(std::memory_order_relaxed); }
  uint64_t fallback_allocations() const { return fallback_allocs_.load(std::memory_order_relaxed); }
  size_t large_live_bytes() const { return large_live_bytes_.load(std::memory_order_relaxed); }
  size_t large_live_blocks() const { return large_live_blocks_.load(std::memory_order_relaxed); }

 private:
  bool reserve(size_t bytes);  // Adds to mapped_bytes_ if under the limit.

  const size_t max_bytes_;                    // Exhaustion limit.
  std::mutex mu_;                             // Guards the two lists.
  SegmentHeader* class_segments_ = nullptr;   // Every class segment (never unmapped before ~).
  SegmentHeader* large_blocks_ = nullptr;     // Live large mappings (doubly linked).
  std::atomic<size_t> mapped_bytes_{0};       // Bytes mapped now (segments + large).
  std::atomic<uint64_t> fallback_allocs_{0};  // Large blocks ever mapped.
  std::atomic<size_t> large_live_bytes_{0};   // Usable bytes of live large blocks.
  std::atomic<size_t> large_live_blocks_{0};  // Live large blocks.
};

}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_SEGMENT_H_
