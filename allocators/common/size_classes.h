// The size-class table shared by the multi-size pools (pool_tls, pool_sharded,
// pool_lockfree), and the segment geometry derived from it.
//
// Classes: 16..128 in steps of 16 (8 classes), then four classes per doubling
// (2^k + j * 2^(k-2), j = 1..4) up to kMaxClassSize = 256 KiB: 52 classes.
// Worst-case internal fragmentation is 25% above 128 bytes. Every power of two
// from 16 to kMaxClassSize is a class, and a power-of-two class's blocks are
// aligned to their size (see class_data_offset). Alignments above 16 are
// served by a class whose blocks all have it (class_of_aligned_slow).
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_SIZE_CLASSES_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_SIZE_CLASSES_H_

#include <cstddef>
#include <cstdint>

namespace allocbench {
namespace detail {

constexpr size_t kMinAlign = 16;                     // alignof(std::max_align_t) on x86-64.
constexpr size_t kMaxClassSize = size_t{256} << 10;  // Larger requests take the fallback path.
constexpr unsigned kNumClasses = 52;
constexpr size_t kSegmentAlign = size_t{4} << 20;  // Every segment starts at a multiple of this.
constexpr size_t kSegmentHeaderBytes = 128;        // Room reserved for SegmentHeader.

constexpr unsigned floor_log2(size_t v) { return 63u - static_cast<unsigned>(__builtin_clzll(v)); }

constexpr size_t pow2_ceil(size_t v) { return v <= 1 ? 1 : size_t{1} << (floor_log2(v - 1) + 1); }

// Bytes of the blocks of class `c` (c < kNumClasses).
constexpr size_t class_size(unsigned c) {
  if (c < 8) return (c + 1) * 16;
  unsigned k = 7 + (c - 8) / 4;
  size_t j = (c - 8) % 4 + 1;
  return (size_t{1} << k) + j * (size_t{1} << (k - 2));
}

// Class of a request of `size` bytes (1 <= size <= kMaxClassSize). Cost: one
// compare for sizes up to 128, else a count-leading-zeros and a few shifts.
inline unsigned class_of(size_t size) {
  if (size <= 128) return size == 0 ? 0 : static_cast<unsigned>((size - 1) >> 4);
  size_t s = size - 1;
  unsigned k = floor_log2(s);
  return 8 + (k - 7) * 4 + static_cast<unsigned>((s >> (k - 2)) & 3);
}

constexpr bool is_pow2(size_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Out of line: the class for `size` bytes aligned to `alignment` (a power of
// two above kMinAlign), or kNumClasses. Blocks of a class start at
// class_data_offset (a multiple of 128, or the class size for a power-of-two
// class above 128) and step by the class size. So up to 128-byte alignment
// the smallest class at or above the size whose size is a multiple of the
// alignment serves it (every class from 256 B is a multiple of 64): a 64-byte
// aligned 5000-byte request gets the 5120-byte class, not 8 KiB. Above 128,
// the request is rounded up to a power-of-two class.
__attribute__((noinline)) inline unsigned class_of_aligned_slow(size_t size, size_t alignment) {
  if (alignment <= kSegmentHeaderBytes) {
    size_t need = size > alignment ? size : alignment;
    if (need > kMaxClassSize) return kNumClasses;
    unsigned c = class_of(need);
    while ((class_size(c) & (alignment - 1)) != 0) ++c;  // At most a few steps.
    return c;
  }
  size_t need = pow2_ceil(size > alignment ? size : alignment);
  return need <= kMaxClassSize ? class_of(need) : kNumClasses;
}

// Class for `size` bytes aligned to `alignment` (power of two), or
// kNumClasses when the request must take the fallback path (too large).
// Cost for alignment <= 16: one compare plus class_of.
inline unsigned class_of_aligned(size_t size, size_t alignment) {
  if (alignment <= kMinAlign) {
    return size <= kMaxClassSize ? class_of(size) : kNumClasses;
  }
  return class_of_aligned_slow(size, alignment);
}

// Bytes of one segment of class `c`: room for about 32 blocks, at least
// 64 KiB, at most kSegmentAlign. Blocks are carved lazily, so only touched
// pages become resident.
constexpr size_t class_segment_bytes(unsigned c) {
  size_t want = pow2_ceil(class_size(c) * 32);
  if (want < (size_t{64} << 10)) want = size_t{64} << 10;
  if (want > kSegmentAlign) want = kSegmentAlign;
  return want;
}

// Offset of the first block in a segment of class `c`. A power-of-two class
// starts at a multiple of its size so every block is aligned to its size.
constexpr size_t class_data_offset(unsigned c) {
  size_t s = class_size(c);
  if (is_pow2(s) && s > kSegmentHeaderBytes) return s;
  return kSegmentHeaderBytes;
}

// Blocks per segment of class `c`.
constexpr size_t class_blocks_per_segment(unsigned c) {
  return (class_segment_bytes(c) - class_data_offset(c)) / class_size(c);
}

// Blocks moved at once between a thread cache and a shared list: about
// 32 KiB worth, between 4 and 64 blocks.
constexpr unsigned class_batch(unsigned c) {
  size_t b = (size_t{32} << 10) / class_size(c);
  if (b < 4) b = 4;
  if (b > 64) b = 64;
  return static_cast<unsigned>(b);
}

static_assert(class_size(kNumClasses - 1) == kMaxClassSize, "class table ends at kMaxClassSize");
static_assert(class_blocks_per_segment(kNumClasses - 1) >= 8, "largest class gets 8+ blocks");

}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_SIZE_CLASSES_H_
