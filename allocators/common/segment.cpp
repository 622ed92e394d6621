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

size_t large_mapping_bytes(size_t need) {
  size_t r = need;
  if (need > (size_t{64} << 10)) {
    size_t step = size_t{1} << (floor_log2(need - 1) - 2);
    r = (need + step - 1) & ~(step - 1);
  }
  size_t ps = platform::page_size();
  r = (r + ps - 1) & ~(ps - 1);
  return r < need ? 0 : r;
}

SegmentSource::~SegmentSource() {
  for (SegmentHeader* s = large_blocks_; s != nullptr;) {
    SegmentHeader* next = s->next;
    platform::unmap_pages(s, s->mapped_bytes);
    s = next;
  }
  for (unsigned i = 0; i < cache_count_; ++i) platform::unmap_pages(cache_[i].seg, cache_[i].bytes);
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

bool SegmentSource::reserve_or_drop_cache(size_t bytes) {
  if (reserve(bytes)) return true;
  if (cached_bytes_.load(std::memory_order_relaxed) == 0) return false;
  release_cached();
  return reserve(bytes);
}

SegmentHeader* SegmentSource::new_class_segment(unsigned cls, void* owner) {
  size_t bytes = class_segment_bytes(cls);
  if (!reserve_or_drop_cache(bytes)) return nullptr;
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

void SegmentSource::init_large(SegmentHeader* seg, size_t bytes, size_t offset) {
  seg->kind = SegmentKind::kLarge;
  seg->cls = kNumClasses;
  seg->block_size = bytes - offset;
  seg->mapped_bytes = bytes;
  seg->owner = nullptr;
  seg->carve_next = seg->carve_end = nullptr;
}

void SegmentSource::link_live(SegmentHeader* seg) {
  seg->prev = nullptr;
  seg->next = large_blocks_;
  if (large_blocks_ != nullptr) large_blocks_->prev = seg;
  large_blocks_ = seg;
}

void SegmentSource::unlink_live(SegmentHeader* seg) {
  if (seg->prev != nullptr)
    seg->prev->next = seg->next;
  else
    large_blocks_ = seg->next;
  if (seg->next != nullptr) seg->next->prev = seg->prev;
}

SegmentHeader* SegmentSource::take_cached(size_t need) {
  // Best fit; among equal sizes the most recently freed (its pages are the
  // likeliest to be in the CPU caches). Rejects blocks over twice the need,
  // which would tie up resident memory a larger request could use.
  unsigned best = kLargeCacheSlots;
  for (unsigned i = 0; i < cache_count_; ++i) {
    size_t b = cache_[i].bytes;
    if (b < need || b / 2 > need) continue;
    if (best == kLargeCacheSlots || b <= cache_[best].bytes) best = i;
  }
  if (best == kLargeCacheSlots) return nullptr;
  SegmentHeader* seg = cache_[best].seg;
  cached_bytes_.store(cached_bytes_.load(std::memory_order_relaxed) - cache_[best].bytes,
                      std::memory_order_relaxed);
  for (unsigned i = best + 1; i < cache_count_; ++i) cache_[i - 1] = cache_[i];
  --cache_count_;
  return seg;
}

void* SegmentSource::alloc_large(size_t size, size_t alignment) {
  if (alignment < kMinAlign) alignment = kMinAlign;
  if (alignment > kSegmentAlign / 2) return nullptr;
  size_t offset = alignment > kSegmentHeaderBytes ? alignment : kSegmentHeaderBytes;
  size_t need = offset + size;
  if (need < size) return nullptr;
  size_t bytes = large_mapping_bytes(need);
  if (bytes == 0) return nullptr;
  SegmentHeader* seg;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seg = take_cached(bytes);
    if (seg != nullptr) {
      init_large(seg, seg->mapped_bytes, offset);
      link_live(seg);
    }
  }
  if (seg == nullptr) {
    if (!reserve_or_drop_cache(bytes)) return nullptr;
    void* mem = platform::map_aligned(bytes, kSegmentAlign);
    if (mem == nullptr) {
      mapped_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
      return nullptr;
    }
    seg = static_cast<SegmentHeader*>(mem);
    init_large(seg, bytes, offset);
    std::lock_guard<std::mutex> lock(mu_);
    link_live(seg);
  }
  fallback_allocs_.fetch_add(1, std::memory_order_relaxed);
  large_live_bytes_.fetch_add(seg->block_size, std::memory_order_relaxed);
  large_live_blocks_.fetch_add(1, std::memory_order_relaxed);
  return reinterpret_cast<char*>(seg) + offset;
}

void SegmentSource::free_large(void* p) {
  SegmentHeader* seg = segment_of(p);
  size_t bytes = seg->mapped_bytes;
  large_live_bytes_.fetch_sub(seg->block_size, std::memory_order_relaxed);
  large_live_blocks_.fetch_sub(1, std::memory_order_relaxed);
  CachedBlock evicted[kLargeCacheSlots];
  unsigned n_evicted = 0;
  bool keep = bytes <= cache_limit_;
  uint64_t now = platform::now_ns();
  {
    std::lock_guard<std::mutex> lock(mu_);
    unlink_live(seg);
    // The cache is in free order, so the blocks to drop are a prefix: those
    // unused for longer than the decay, then the oldest until `seg` fits
    // both bounds.
    size_t cached = cached_bytes_.load(std::memory_order_relaxed);
    size_t adding = keep ? bytes : 0;
    while (n_evicted < cache_count_ && (now - cache_[n_evicted].freed_ns > kLargeCacheDecayNs ||
                                        (keep && cache_count_ - n_evicted == kLargeCacheSlots) ||
                                        cached + adding > cache_limit_)) {
      cached -= cache_[n_evicted].bytes;
      evicted[n_evicted] = cache_[n_evicted];
      ++n_evicted;
    }
    for (unsigned i = n_evicted; i < cache_count_; ++i) cache_[i - n_evicted] = cache_[i];
    cache_count_ -= n_evicted;
    if (keep) cache_[cache_count_++] = {seg, bytes, now};
    cached_bytes_.store(cached + adding, std::memory_order_relaxed);
  }
  for (unsigned i = 0; i < n_evicted; ++i) {
    platform::unmap_pages(evicted[i].seg, evicted[i].bytes);
    mapped_bytes_.fetch_sub(evicted[i].bytes, std::memory_order_relaxed);
  }
  if (!keep) {
    platform::unmap_pages(seg, bytes);
    mapped_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  }
}

void* SegmentSource::resize_large(void* p, size_t new_size) {
  SegmentHeader* seg = segment_of(p);
  size_t offset = static_cast<size_t>(static_cast<char*>(p) - reinterpret_cast<char*>(seg));
  size_t need = offset + new_size;
  if (need < new_size) return nullptr;
  if (need <= seg->mapped_bytes) return p;  // block_size already covers the whole mapping.
  size_t old_bytes = seg->mapped_bytes;
  size_t old_usable = seg->block_size;
  size_t bytes = large_mapping_bytes(need);
  if (bytes == 0) return nullptr;
  {
    // A cached block that fits has resident pages: copying into it costs
    // less than faulting in the new part of a moved mapping, and makes no
    // system call. Let the caller allocate (it will get that block) and copy.
    std::lock_guard<std::mutex> lock(mu_);
    for (unsigned i = 0; i < cache_count_; ++i) {
      if (cache_[i].bytes >= bytes && cache_[i].bytes / 2 <= bytes) return nullptr;
    }
  }
  if (!reserve_or_drop_cache(bytes)) return nullptr;
  void* dest = platform::map_aligned(bytes, kSegmentAlign);
  if (dest == nullptr) {
    mapped_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    return nullptr;
  }
  // Other frees rewrite their neighbours' links, which live in this header:
  // take it off the list before its pages move.
  {
    std::lock_guard<std::mutex> lock(mu_);
    unlink_live(seg);
  }
  if (platform::remap_pages_to(seg, old_bytes, bytes, dest) != 0) {
    platform::unmap_pages(dest, bytes);
    mapped_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu_);
    link_live(seg);
    return nullptr;
  }
  mapped_bytes_.fetch_sub(old_bytes, std::memory_order_relaxed);
  auto* moved = static_cast<SegmentHeader*>(dest);
  init_large(moved, bytes, offset);
  large_live_bytes_.fetch_add(moved->block_size - old_usable, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    link_live(moved);
  }
  return static_cast<char*>(dest) + offset;
}

size_t SegmentSource::release_cached() {
  CachedBlock taken[kLargeCacheSlots];
  unsigned n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = cache_count_;
    for (unsigned i = 0; i < n; ++i) taken[i] = cache_[i];
    cache_count_ = 0;
    cached_bytes_.store(0, std::memory_order_relaxed);
  }
  size_t total = 0;
  for (unsigned i = 0; i < n; ++i) {
    platform::unmap_pages(taken[i].seg, taken[i].bytes);
    total += taken[i].bytes;
  }
  mapped_bytes_.fetch_sub(total, std::memory_order_relaxed);
  return total;
}

}  // namespace detail
}  // namespace allocbench
