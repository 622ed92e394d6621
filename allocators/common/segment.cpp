#include "allocators/common/segment.h"

#include "allocators/common/platform.h"

namespace allocbench {
namespace detail {

void* carve_chain(SegmentHeader* seg, unsigned n, unsigned* count) {
  size_t bs = seg->block_size;
  char* p = seg->carve_next;
  size_t avail = static_cast<size_t>(seg->carve_end - p) / bs;
  unsigned k = static_cast<unsigned>(avail < n ? avail : n);
  *count = k;
  if (k == 0) return nullptr;
  for (unsigned i = 0; i + 1 < k; ++i) {
    *reinterpret_cast<void**>(p + i * bs) = p + (i + 1) * bs;
  }
  *reinterpret_cast<void**>(p + (k - 1) * bs) = nullptr;
  seg->carve_next = p + k * bs;
  return p;
}

SegmentSource::~SegmentSource() {
  for (SegmentHeader* s = large_blocks_; s != nullptr;) {
    SegmentHeader* next = s->next;
    platform::unmap_pages(s, s->mapped_bytes);
    s = next;
  }
  for (SegmentHeader* s = class_segments_; s != nullptr;) {
    SegmentHeader* next = s->next;
    platform::unmap_pages(s, s->mapped_bytes);
    s = next;
  }
}

bool SegmentSource::reserve(size_t bytes) {
  size_t cur = mapped_bytes_.load(std::memory_order_relaxed);
  do {
    if (cur + bytes > max_bytes_ || cur + bytes < cur) return false;
  } while (!mapped_bytes_.compare_exchange_weak(cur, cur + bytes, std::memory_order_relaxed));
  return true;
}

SegmentHeader* SegmentSource::new_class_segment(unsigned cls, void* owner) {
  size_t bytes = class_segment_bytes(cls);
  if (!reserve(bytes)) return nullptr;
  void* mem = platform::map_aligned(bytes, kSegmentAlign);
  if (mem == nullptr) {
    mapped_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    return nullptr;
  }
  auto* seg = static_cast<SegmentHeader*>(mem);
  seg->kind = SegmentKind::kClass;
  seg->cls = cls;
  seg->block_size = class_size(cls);
  seg->mapped_bytes = bytes;
  seg->owner = owner;
  seg->prev = nullptr;
  seg->carve_next = static_cast<char*>(mem) + class_data_offset(cls);
  seg->carve_end = seg->carve_next + class_blocks_per_segment(cls) * seg->block_size;
  std::lock_guard<std::mutex> lock(mu_);
  seg->next = class_segments_;
  class_segments_ = seg;
  return seg;
}

void* SegmentSource::alloc_large(size_t size, size_t alignment) {
  if (alignment < kMinAlign) alignment = kMinAlign;
  if (alignment > kSegmentAlign / 2) return nullptr;
  size_t offset = alignment > kSegmentHeaderBytes ? alignment : kSegmentHeaderBytes;
  size_t bytes = offset + size;
  if (bytes < size) return nullptr;
  size_t ps = platform::page_size();
  bytes = (bytes + ps - 1) & ~(ps - 1);
  if (!reserve(bytes)) return nullptr;
  void* mem = platform::map_aligned(bytes, kSegmentAlign);
  if (mem == nullptr) {
    mapped_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    return nullptr;
  }
  auto* seg = static_cast<SegmentHeader*>(mem);
  seg->kind = SegmentKind::kLarge;
  seg->cls = kNumClasses;
  seg->block_size = bytes - offset;
  seg->mapped_bytes = bytes;
  seg->owner = nullptr;
  seg->carve_next = seg->carve_end = nullptr;
  fallback_allocs_.fetch_add(1, std::memory_order_relaxed);
  large_live_bytes_.fetch_add(seg->block_size, std::memory_order_relaxed);
  large_live_blocks_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    seg->prev = nullptr;
    seg->next = large_blocks_;
    if (large_blocks_ != nullptr) large_blocks_->prev = seg;
    large_blocks_ = seg;
  }
  return static_cast<char*>(mem) + offset;
}

void SegmentSource::free_large(void* p) {
  SegmentHeader* seg = segment_of(p);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (seg->prev != nullptr)
      seg->prev->next = seg->next;
    else
      large_blocks_ = seg->next;
    if (seg->next != nullptr) seg->next->prev = seg->prev;
  }
  size_t bytes = seg->mapped_bytes;
  large_live_bytes_.fetch_sub(seg->block_size, std::memory_order_relaxed);
  large_live_blocks_.fetch_sub(1, std::memory_order_relaxed);
  platform::unmap_pages(seg, bytes);
  mapped_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
}

}  // namespace detail
}  // namespace allocbench
