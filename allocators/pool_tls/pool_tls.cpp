#include "allocators/pool_tls/pool_tls.h"

#include <new>

namespace allocbench {

using detail::class_batch;
using detail::kNumClasses;
using detail::SegmentHeader;
using detail::SegmentKind;

namespace {
void*& link(void* p) { return *static_cast<void**>(p); }
void*& batch_link(void* p) { return static_cast<void**>(p)[1]; }
}  // namespace

PoolTls::PoolTls(size_t max_bytes, size_t large_cache_bytes)
    : source_(max_bytes, large_cache_bytes) {
  for (unsigned c = 0; c < kNumClasses; ++c) {
    start_[c] = 2 * class_batch(c);
    size_t by_bytes = kMaxListBytes / detail::class_size(c);
    max_[c] = static_cast<uint32_t>(by_bytes > start_[c] ? by_bytes : start_[c]);
  }
  id_ = detail::thread_registry_add(this);
}

PoolTls::~PoolTls() {
  detail::thread_registry_remove(id_);
  for (ThreadCache* tc : caches_) delete tc;
}

PoolTls::ThreadCache* PoolTls::attach() {
  ThreadCache* tc;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spare_.empty()) {
      tc = spare_.back();
      spare_.pop_back();
    } else {
      tc = new ThreadCache;
      caches_.push_back(tc);
    }
  }
  reset_limits(tc);
  detail::thread_state_attach(id_, tc);
  return tc;
}

void* PoolTls::take_batch(unsigned c, uint32_t* count) {
  Central& ct = central_[c];
  std::lock_guard<detail::SpinLock> lock(ct.lock);
  if (ct.batches != nullptr) {
    void* b = ct.batches;
    ct.batches = batch_link(b);
    --ct.full_batches;
    *count = class_batch(c);
    return b;
  }
  if (ct.loose != nullptr) {
    uint32_t n = 1;
    void* first = ct.loose;
    void* last = first;
    while (n < class_batch(c) && link(last) != nullptr) {
      last = link(last);
      ++n;
    }
    ct.loose = link(last);
    link(last) = nullptr;
    ct.loose_count -= n;
    *count = n;
    return first;
  }
  for (;;) {
    if (ct.seg != nullptr) {
      unsigned got = 0;
      void* chain = detail::carve_chain(ct.seg, class_batch(c), &got);
      if (got != 0) {
        ct.carved += got;
        *count = got;
        return chain;
      }
    }
    SegmentHeader* seg = source_.new_class_segment(c, this);
    if (seg == nullptr) {
      *count = 0;
      return nullptr;
    }
    ct.seg = seg;
  }
}

void PoolTls::give(unsigned c, void* first, void* last, uint32_t n) {
  Central& ct = central_[c];
  std::lock_guard<detail::SpinLock> lock(ct.lock);
  if (n == class_batch(c)) {
    batch_link(first) = ct.batches;
    ct.batches = first;
    ++ct.full_batches;
  } else {
    link(last) = ct.loose;
    ct.loose = first;
    ct.loose_count += n;
  }
}

void PoolTls::reset_limits(ThreadCache* tc) {
  for (unsigned c = 0; c < kNumClasses; ++c) {
    tc->lists[c].limit = start_[c];
    tc->spilled[c] = 0;
    tc->refills[c] = 0;
  }
  tc->growth_bytes = 0;
}

void PoolTls::note_refill(ThreadCache* tc, unsigned c) {
  tc->spilled[c] = 0;
  if (tc->refills[c] != UINT32_MAX) ++tc->refills[c];
}

bool PoolTls::grow_limit(ThreadCache* tc, unsigned c) {
  FreeList& l = tc->lists[c];
  uint32_t b = class_batch(c);
  size_t bytes = size_t{b} * detail::class_size(c);
  if (tc->refills[c] == 0 || l.limit + b > max_[c] ||
      tc->growth_bytes + bytes > kGrowthBudgetBytes) {
    return false;
  }
  --tc->refills[c];
  l.limit += b;
  tc->growth_bytes += bytes;
  return true;
}

void PoolTls::note_spill(ThreadCache* tc, unsigned c) {
  FreeList& l = tc->lists[c];
  uint32_t b = class_batch(c);
  tc->refills[c] = 0;
  tc->spilled[c] += b;
  if (tc->spilled[c] < l.limit || l.limit < start_[c] + b) return;
  tc->spilled[c] = 0;
  l.limit -= b;
  tc->growth_bytes -= size_t{b} * detail::class_size(c);
}

void* PoolTls::allocate_slow(size_t size, size_t alignment) {
  unsigned c = detail::class_of_aligned(size, alignment);
  if (c >= kNumClasses) return source_.alloc_large(size == 0 ? 1 : size, alignment);
  auto* tc = static_cast<ThreadCache*>(detail::thread_state_get(id_));
  if (tc == nullptr) tc = attach();
  FreeList& l = tc->lists[c];
  if (l.head != nullptr) {
    // The fast path missed only for the thread-local lookup or the alignment.
    void* p = l.head;
    l.head = link(p);
    l.count.store(l.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    return p;
  }
  uint32_t n = 0;
  void* chain = take_batch(c, &n);
  if (chain == nullptr) return nullptr;
  note_refill(tc, c);
  l.head = link(chain);
  l.count.store(n - 1, std::memory_order_relaxed);
  return chain;
}

void PoolTls::deallocate_slow(void* p) {
  SegmentHeader* seg = detail::segment_of(p);
  if (seg->kind == SegmentKind::kLarge) {
    source_.free_large(p);
    return;
  }
  auto* tc = static_cast<ThreadCache*>(detail::thread_state_get(id_));
  if (tc == nullptr) tc = attach();
  unsigned c = seg->cls;
  FreeList& l = tc->lists[c];
  uint32_t n = l.count.load(std::memory_order_relaxed);
  if (n >= l.limit && !grow_limit(tc, c)) {
    // Cut batches off the top of the list and give them back until the push
    // below fits (one, or two when note_spill lowered the limit).
    uint32_t b = class_batch(c);
    while (n >= l.limit) {
      void* first = l.head;
      void* last = first;
      for (uint32_t i = 1; i < b; ++i) last = link(last);
      l.head = link(last);
      link(last) = nullptr;
      n -= b;
      give(c, first, last, b);
      note_spill(tc, c);
    }
  }
  link(p) = l.head;
  l.head = p;
  l.count.store(n + 1, std::memory_order_relaxed);
}

void PoolTls::release_thread_state(void* state) {
  auto* tc = static_cast<ThreadCache*>(state);
  for (unsigned c = 0; c < kNumClasses; ++c) {
    FreeList& l = tc->lists[c];
    uint32_t b = class_batch(c);
    while (l.head != nullptr) {
      void* first = l.head;
      void* last = first;
      uint32_t n = 1;
      while (n < b && link(last) != nullptr) {
        last = link(last);
        ++n;
      }
      l.head = link(last);
      link(last) = nullptr;
      give(c, first, last, n);
    }
    l.count.store(0, std::memory_order_relaxed);
  }
  std::lock_guard<std::mutex> lock(mu_);
  spare_.push_back(tc);
}

pool_family_stats_t PoolTls::stats() {
  pool_family_stats_t s{};
  size_t cached[kNumClasses] = {};
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (ThreadCache* tc : caches_) {
      for (unsigned c = 0; c < kNumClasses; ++c) {
        cached[c] += tc->lists[c].count.load(std::memory_order_relaxed);
      }
    }
  }
  for (unsigned c = 0; c < kNumClasses; ++c) {
    Central& ct = central_[c];
    size_t carved, shared;
    {
      std::lock_guard<detail::SpinLock> lock(ct.lock);
      carved = ct.carved;
      shared = ct.full_batches * class_batch(c) + ct.loose_count;
    }
    size_t free_blocks = shared + cached[c];
    size_t used = carved > free_blocks ? carved - free_blocks : 0;
    s.allocated_blocks += used;
    s.allocated_bytes += used * detail::class_size(c);
    s.cached_blocks += cached[c];
    s.shared_free_blocks += shared;
  }
  source_.add_stats(&s);
  return s;
}

}  // namespace allocbench

using allocbench::PoolTls;

extern "C" {

pool_tls_t* pool_tls_create(void) { return pool_tls_create_ex(nullptr); }

pool_tls_t* pool_tls_create_ex(const pool_tls_options_t* options) {
  size_t max = allocbench::detail::option_max_bytes(options);
  size_t cache = allocbench::detail::option_cache_bytes(options);
  return reinterpret_cast<pool_tls_t*>(new (std::nothrow) PoolTls(max, cache));
}

void* pool_tls_alloc(pool_tls_t* pool, size_t size) {
  return reinterpret_cast<PoolTls*>(pool)->allocate(size, 16);
}

void* pool_tls_alloc_aligned(pool_tls_t* pool, size_t size, size_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) return nullptr;
  return reinterpret_cast<PoolTls*>(pool)->allocate(size, alignment);
}

void pool_tls_free(pool_tls_t* pool, void* ptr) {
  if (ptr != nullptr) reinterpret_cast<PoolTls*>(pool)->deallocate(ptr);
}

size_t pool_tls_usable_size(pool_tls_t*, const void* ptr) {
  return ptr == nullptr ? 0 : PoolTls::usable_size(ptr);
}

void pool_tls_thread_flush(pool_tls_t* pool) { reinterpret_cast<PoolTls*>(pool)->thread_flush(); }

size_t pool_tls_trim(pool_tls_t* pool) {
  return pool == nullptr ? 0 : reinterpret_cast<PoolTls*>(pool)->trim();
}

void pool_tls_destroy(pool_tls_t* pool) { delete reinterpret_cast<PoolTls*>(pool); }

int pool_tls_stats(pool_tls_t* pool, pool_family_stats_t* out) {
  if (pool == nullptr || out == nullptr) return -1;
  *out = reinterpret_cast<PoolTls*>(pool)->stats();
  return 0;
}

}  // extern "C"
