#include "allocators/pool_lockfree/pool_lockfree.h"

#include <new>

namespace allocbench {

using detail::kNumClasses;
using detail::SegmentHeader;
using detail::SegmentKind;

namespace {
void*& link(void* p) { return *static_cast<void**>(p); }
}  // namespace

PoolLockFree::PoolLockFree(size_t max_bytes, size_t large_cache_bytes)
    : source_(max_bytes, large_cache_bytes) {
  id_ = detail::thread_registry_add(this);
}

PoolLockFree::~PoolLockFree() {
  detail::thread_registry_remove(id_);
  for (Heap* h : heaps_) delete h;
}

PoolLockFree::Heap* PoolLockFree::attach() {
  Heap* h;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!abandoned_.empty()) {
      h = abandoned_.back();
      abandoned_.pop_back();
    } else {
      h = new Heap;
      heaps_.push_back(h);
    }
    h->owned = true;
  }
  detail::thread_state_attach(id_, h);
  return h;
}

void* PoolLockFree::allocate_slow(unsigned c, size_t size, size_t alignment, Heap* h) {
  if (c >= kNumClasses) return source_.alloc_large(size == 0 ? 1 : size, alignment);
  if (h == nullptr) {
    h = attach();
    if (h->local[c] != nullptr) return allocate(size, alignment);
  }
  // 1. Take the whole remote list with one exchange.
  Remote& r = h->remote[c];
  if (r.head.load(std::memory_order_relaxed) != nullptr) {
    void* list = r.head.exchange(nullptr, std::memory_order_acquire);
    uint64_t n = 0;
    for (void* q = list; q != nullptr; q = link(q)) ++n;
    r.collected.store(r.collected.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    if (list != nullptr) {
      h->local[c] = link(list);
      h->bump(c, +1);
      return list;
    }
  }
  // 2. Carve a batch from this heap's segment (a new one if used up).
  for (;;) {
    SegmentHeader* seg = h->seg[c];
    if (seg != nullptr) {
      unsigned got = 0;
      void* chain = detail::carve_chain(seg, detail::class_batch(c), &got);
      if (got != 0) {
        h->carved[c].store(h->carved[c].load(std::memory_order_relaxed) + got,
                           std::memory_order_relaxed);
        h->local[c] = link(chain);
        h->bump(c, +1);
        return chain;
      }
    }
    seg = source_.new_class_segment(c, h);
    if (seg == nullptr) return nullptr;
    h->seg[c] = seg;
  }
}

void PoolLockFree::deallocate_slow(void* p, SegmentHeader* seg) {
  if (seg->kind == SegmentKind::kLarge) {
    source_.free_large(p);
    return;
  }
  Remote& r = static_cast<Heap*>(seg->owner)->remote[seg->cls];
  void* head = r.head.load(std::memory_order_relaxed);
  do {
    link(p) = head;
  } while (
      !r.head.compare_exchange_weak(head, p, std::memory_order_release, std::memory_order_relaxed));
  r.frees.fetch_add(1, std::memory_order_relaxed);
}

void PoolLockFree::release_thread_state(void* state) {
  auto* h = static_cast<Heap*>(state);
  std::lock_guard<std::mutex> lock(mu_);
  h->owned = false;
  abandoned_.push_back(h);
}

pool_family_stats_t PoolLockFree::stats() {
  pool_family_stats_t st{};
  std::lock_guard<std::mutex> lock(mu_);
  for (Heap* h : heaps_) {
    for (unsigned c = 0; c < kNumClasses; ++c) {
      // net = allocations - own frees; frees = remote frees ever; collected =
      // remote frees the owner took back into its local list.
      int64_t net = h->net[c].load(std::memory_order_relaxed);
      const Remote& r = h->remote[c];
      uint64_t frees = r.frees.load(std::memory_order_relaxed);
      uint64_t collected = r.collected.load(std::memory_order_relaxed);
      uint64_t pending = frees > collected ? frees - collected : 0;
      int64_t used = net - static_cast<int64_t>(frees);
      if (used < 0) used = 0;
      int64_t carved = static_cast<int64_t>(h->carved[c].load(std::memory_order_relaxed));
      int64_t local = carved - net + static_cast<int64_t>(collected);
      size_t local_free = local > 0 ? static_cast<size_t>(local) : 0;
      st.allocated_blocks += used;
      st.allocated_bytes += used * detail::class_size(c);
      st.shared_free_blocks += pending;
      if (h->owned) {
        st.cached_blocks += local_free;
      } else {
        st.shared_free_blocks += local_free;  // Whoever adopts the heap gets them.
      }
    }
  }
  source_.add_stats(&st);
  return st;
}

}  // namespace allocbench

using allocbench::PoolLockFree;

extern "C" {

pool_lockfree_t* pool_lockfree_create(void) { return pool_lockfree_create_ex(nullptr); }

pool_lockfree_t* pool_lockfree_create_ex(const pool_lockfree_options_t* options) {
  size_t max = allocbench::detail::option_max_bytes(options);
  size_t cache = allocbench::detail::option_cache_bytes(options);
  return reinterpret_cast<pool_lockfree_t*>(new (std::nothrow) PoolLockFree(max, cache));
}

void* pool_lockfree_alloc(pool_lockfree_t* pool, size_t size) {
  return reinterpret_cast<PoolLockFree*>(pool)->allocate(size, 16);
}

void* pool_lockfree_alloc_aligned(pool_lockfree_t* pool, size_t size, size_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) return nullptr;
  return reinterpret_cast<PoolLockFree*>(pool)->allocate(size, alignment);
}

void pool_lockfree_free(pool_lockfree_t* pool, void* ptr) {
  if (ptr != nullptr) reinterpret_cast<PoolLockFree*>(pool)->deallocate(ptr);
}

size_t pool_lockfree_usable_size(pool_lockfree_t*, const void* ptr) {
  return ptr == nullptr ? 0 : PoolLockFree::usable_size(ptr);
}

void pool_lockfree_thread_flush(pool_lockfree_t* pool) {
  reinterpret_cast<PoolLockFree*>(pool)->thread_flush();
}

size_t pool_lockfree_trim(pool_lockfree_t* pool) {
  return pool == nullptr ? 0 : reinterpret_cast<PoolLockFree*>(pool)->trim();
}

void pool_lockfree_destroy(pool_lockfree_t* pool) { delete reinterpret_cast<PoolLockFree*>(pool); }

int pool_lockfree_stats(pool_lockfree_t* pool, pool_family_stats_t* out) {
  if (pool == nullptr || out == nullptr) return -1;
  *out = reinterpret_cast<PoolLockFree*>(pool)->stats();
  return 0;
}

}  // extern "C"
