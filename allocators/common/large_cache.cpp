#include "allocators/common/large_cache.h"

#include "allocators/common/platform.h"

namespace allocbench {
namespace detail {

size_t LargeMappingCache::rounded_bytes(size_t bytes) {
  size_t ps = platform::page_size();
  if (bytes > SIZE_MAX / 2) return 0;
  size_t r = bytes < ps ? ps : bytes;
  // Four steps per doubling: round up to a multiple of a quarter of the
  // largest power of two not above r.
  size_t top = size_t{1} << (63 - __builtin_clzll(static_cast<unsigned long long>(r)));
  size_t step = top >= 4 * ps ? top / 4 : ps;
  r = (r + step - 1) & ~(step - 1);
  return (r + ps - 1) & ~(ps - 1);
}

void* LargeMappingCache::map(size_t bytes, size_t* mapped, bool* fresh) {
  size_t need = rounded_bytes(bytes);
  if (need == 0) return nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    unsigned best = kSlots;
    for (unsigned i = count_; i-- > 0;) {
      size_t b = entries_[i].bytes;
      if (b < need || b / 2 > need) continue;
      if (best == kSlots || b < entries_[best].bytes) best = i;
    }
    if (best != kSlots) {
      void* p = entries_[best].p;
      *mapped = entries_[best].bytes;
      remove_at(best);
      hits_.fetch_add(1, std::memory_order_relaxed);
      *fresh = false;
      return p;
    }
  }
  void* p = platform::map_pages(need);
  if (p == nullptr) return nullptr;
  *mapped = need;
  *fresh = true;
  return p;
}

void LargeMappingCache::remove_at(unsigned i) {
  cached_bytes_.store(cached_bytes_.load(std::memory_order_relaxed) - entries_[i].bytes,
                      std::memory_order_relaxed);
  for (unsigned j = i + 1; j < count_; ++j) entries_[j - 1] = entries_[j];
  count_--;
  cached_count_.store(count_, std::memory_order_relaxed);
}

size_t LargeMappingCache::give(void* p, size_t bytes) {
  if (bytes > limit_bytes_) {
    platform::unmap_pages(p, bytes);
    return bytes;
  }
  Entry victims[kSlots + 1];
  unsigned nv = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t now = platform::now_ns();
    // Oldest first: decayed entries are a prefix, evictions take the front.
    while (count_ > 0 && (now - entries_[0].freed_ns >= decay_ns_ || count_ == kSlots ||
                          cached_bytes_.load(std::memory_order_relaxed) + bytes > limit_bytes_)) {
      victims[nv++] = entries_[0];
      remove_at(0);
    }
    entries_[count_++] = Entry{p, bytes, now};
    cached_count_.store(count_, std::memory_order_relaxed);
    cached_bytes_.store(cached_bytes_.load(std::memory_order_relaxed) + bytes,
                        std::memory_order_relaxed);
  }
  size_t unmapped = 0;
  for (unsigned i = 0; i < nv; ++i) {
    platform::unmap_pages(victims[i].p, victims[i].bytes);
    unmapped += victims[i].bytes;
  }
  return unmapped;
}

size_t LargeMappingCache::trim(uint64_t min_idle_ns) {
  Entry victims[kSlots];
  unsigned nv = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t now = min_idle_ns == 0 ? 0 : platform::now_ns();
    while (count_ > 0 && (min_idle_ns == 0 || now - entries_[0].freed_ns >= min_idle_ns)) {
      victims[nv++] = entries_[0];
      remove_at(0);
    }
  }
  size_t unmapped = 0;
  for (unsigned i = 0; i < nv; ++i) {
    platform::unmap_pages(victims[i].p, victims[i].bytes);
    unmapped += victims[i].bytes;
  }
  return unmapped;
}

}  // namespace detail
}  // namespace allocbench
