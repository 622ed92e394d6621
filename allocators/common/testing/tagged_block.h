// Tagged blocks for the shared-slot stress tests (coalesce_arena, mempool).
//
// The owner of a block keeps its size and tag outside the block, in a
// TaggedBlock that travels through the shared slots with the pointer; the
// block's bytes hold a pattern derived from the tag (all of them up to 1 KiB,
// the first and last 256 bytes of larger blocks). A block handed out twice is
// rewritten by its second owner with another tag, so the first owner's
// verify_block() fails even when the second owner rewrote the block
// completely: the expected tag never comes from the block itself.
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_TESTING_TAGGED_BLOCK_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_TESTING_TAGGED_BLOCK_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace allocbench {
namespace testing {

// One live block and what its owner expects in it. Owner thread only (handed
// over whole through an atomic exchange).
struct TaggedBlock {
  unsigned char* p;  // The block.
  size_t size;       // Requested size in bytes.
  uint64_t tag;      // Unique per allocation, e.g. (thread << 40) | sequence.
};

namespace detail {

constexpr size_t kFullPatternMax = 1024;  // Blocks up to this size are patterned whole.
constexpr size_t kEdgeBytes = 256;        // Else this many bytes at each end.

inline uint64_t pattern_word(uint64_t seed, size_t i) {
  return seed ^ ((i + 1) * 0x9E3779B97F4A7C15ull);
}

inline void fill_range(unsigned char* q, size_t n, uint64_t seed) {
  size_t words = n / 8;
  for (size_t i = 0; i < words; ++i) {
    uint64_t w = pattern_word(seed, i);
    std::memcpy(q + i * 8, &w, 8);
  }
  uint64_t w = pattern_word(seed, words);
  std::memcpy(q + words * 8, &w, n - words * 8);
}

inline bool check_range(const unsigned char* q, size_t n, uint64_t seed) {
  size_t words = n / 8;
  for (size_t i = 0; i < words; ++i) {
    uint64_t w = pattern_word(seed, i);
    if (std::memcmp(q + i * 8, &w, 8) != 0) return false;
  }
  uint64_t w = pattern_word(seed, words);
  return std::memcmp(q + words * 8, &w, n - words * 8) == 0;
}

// The tail range gets another seed, so a block shifted by its own length
// does not match.
inline uint64_t tail_seed(uint64_t tag) { return ~tag * 0xBF58476D1CE4E5B9ull; }

}  // namespace detail

inline void write_block(const TaggedBlock& b) {
  if (b.size <= detail::kFullPatternMax) {
    detail::fill_range(b.p, b.size, b.tag);
  } else {
    detail::fill_range(b.p, detail::kEdgeBytes, b.tag);
    detail::fill_range(b.p + b.size - detail::kEdgeBytes, detail::kEdgeBytes,
                       detail::tail_seed(b.tag));
  }
}

// True if the block still holds the pattern its owner wrote (the expected size
// and tag come from `b`, never from the block).
inline bool verify_block(const TaggedBlock& b) {
  if (b.size <= detail::kFullPatternMax) return detail::check_range(b.p, b.size, b.tag);
  return detail::check_range(b.p, detail::kEdgeBytes, b.tag) &&
         detail::check_range(b.p + b.size - detail::kEdgeBytes, detail::kEdgeBytes,
                             detail::tail_seed(b.tag));
}

}  // namespace testing
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_TESTING_TAGGED_BLOCK_H_
