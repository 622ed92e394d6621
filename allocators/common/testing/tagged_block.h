// Tagged blocks for the shared-slot stress tests (coalesce_arena, mempool):
// each block starts with its size and a tag, and the bytes after that prefix
// repeat the tag's low byte (all of them up to 1 KiB; the first and last 256
// bytes of larger blocks), so a block handed out twice or overwritten fails
// verify_block().
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_TESTING_TAGGED_BLOCK_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_TESTING_TAGGED_BLOCK_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace allocbench {
namespace testing {

struct TaggedPrefix {
  uint64_t size;  // Block size in bytes (at least sizeof(TaggedPrefix)).
  uint64_t tag;   // Writer's tag.
};

inline void write_block(unsigned char* p, size_t size, uint64_t tag) {
  TaggedPrefix pre{size, tag};
  std::memcpy(p, &pre, sizeof pre);
  unsigned char b = static_cast<unsigned char>(tag);
  if (size <= 1024) {
    std::memset(p + sizeof pre, b, size - sizeof pre);
  } else {
    std::memset(p + sizeof pre, b, 256);
    std::memset(p + size - 256, b, 256);
  }
}

inline bool verify_block(const unsigned char* p) {
  TaggedPrefix pre;
  std::memcpy(&pre, p, sizeof pre);
  unsigned char b = static_cast<unsigned char>(pre.tag);
  auto all_b = [b](const unsigned char* q, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (q[i] != b) return false;
    }
    return true;
  };
  if (pre.size <= 1024) return all_b(p + sizeof pre, pre.size - sizeof pre);
  return all_b(p + sizeof pre, 256) && all_b(p + pre.size - 256, 256);
}

}  // namespace testing
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_TESTING_TAGGED_BLOCK_H_
