#include "allocators/pool_sharded/pool_sharded.h"

#include <mutex>
#include <new>

#include "allocators/common/platform.h"

namespace allocbench {

namespace detail {
unsigned assign_shard() {
  static std::atomic<unsigned> next{0};
  t_shard = next.fetch_add(1, std::memory_order_relaxed);
  return t_shard;
}
}  // namespace detail

namespace {
void*& link(void* p) { return *static_cast<void**>(p); }
}  // namespace

PoolSharded::PoolSharded(size_t max_bytes, unsigned shards, size_t large_cache_bytes)
    : source_(max_bytes, large_cache_bytes) {
  if (shards == 0) {
    shards = 2 * static_cast<unsigned>(platform::cpu_count());
    if (shards < 4) shards = 4;
  }
  unsigned n = 1;
  while (n < shards && n < kMaxShards) n <<= 1;
  mask_ = n - 1;
}

void* PoolSharded::allocate_slow(unsigned c) {
  unsigned mine = my_shard();
  // 1. Steal another shard's whole list (never waiting for its lock).
  for (unsigned i = 1; i <= mask_; ++i) {
    Shard& o = shard(c, (mine + i) & mask_);
    if (o.count.load(std::memory_order_relaxed) == 0 || !o.lock.try_lock()) continue;
    void* list = o.head;
    size_t n = o.count.load(std::memory_order_relaxed);
    o.head = nullptr;
    o.count.store(0, std::memory_order_relaxed);
    o.lock.unlock();
    if (list == nullptr) continue;
    void* rest = link(list);
    if (rest != nullptr) {
      Shard& s = shard(c, mine);
      std::lock_guard<detail::SpinLock> lock(s.lock);
      void* tail = rest;
      while (link(tail) != nullptr) tail = link(tail);
      link(tail) = s.head;
      s.head = rest;
      s.count.store(s.count.load(std::memory_order_relaxed) + n - 1, std::memory_order_relaxed);
    }
    return list;
  }
  // 2. Carve a batch from this shard's segment (a new one if it is used up).
  Shard& s = shard(c, mine);
  std::lock_guard<detail::SpinLock> lock(s.lock);
  if (s.head != nullptr) {  // Refilled meanwhile.
    void* p = s.head;
    s.head = link(p);
    s.count.store(s.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    return p;
  }
  for (;;) {
    if (s.seg != nullptr) {
      unsigned got = 0;
      void* chain = detail::carve_chain(s.seg, detail::class_batch(c), &got);
      if (got != 0) {
        s.carved += got;
        s.head = link(chain);
        s.count.store(got - 1, std::memory_order_relaxed);
        return chain;
      }
    }
    detail::SegmentHeader* seg = source_.new_class_segment(c, this);
    if (seg == nullptr) return nullptr;
    s.seg = seg;
  }
}

pool_family_stats_t PoolSharded::stats() {
  pool_family_stats_t st{};
  for (unsigned c = 0; c < detail::kNumClasses; ++c) {
    size_t carved = 0, free_blocks = 0;
    for (unsigned i = 0; i <= mask_; ++i) {
      Shard& s = shard(c, i);
      std::lock_guard<detail::SpinLock> lock(s.lock);
      carved += s.carved;
      free_blocks += s.count.load(std::memory_order_relaxed);
    }
    size_t used = carved > free_blocks ? carved - free_blocks : 0;
    st.allocated_blocks += used;
    st.allocated_bytes += used * detail::class_size(c);
    st.shared_free_blocks += free_blocks;
  }
  source_.add_stats(&st);
  return st;
}

}  // namespace allocbench

using allocbench::PoolSharded;

extern "C" {

pool_sharded_t* pool_sharded_create(void) { return pool_sharded_create_ex(nullptr); }

pool_sharded_t* pool_sharded_create_ex(const pool_sharded_options_t* options) {
  size_t max = allocbench::detail::option_max_bytes(options);
  unsigned shards = options != nullptr ? options->shards : 0;
  size_t cache = allocbench::detail::option_cache_bytes(options);
  return reinterpret_cast<pool_sharded_t*>(new (std::nothrow) PoolSharded(max, shards, cache));
}

void* pool_sharded_alloc(pool_sharded_t* pool, size_t size) {
  return reinterpret_cast<PoolSharded*>(pool)->allocate(size, 16);
}

void* pool_sharded_alloc_aligned(pool_sharded_t* pool, size_t size, size_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) return nullptr;
  return reinterpret_cast<PoolSharded*>(pool)->allocate(size, alignment);
}

void pool_sharded_free(pool_sharded_t* pool, void* ptr) {
  if (ptr != nullptr) reinterpret_cast<PoolSharded*>(pool)->deallocate(ptr);
}

size_t pool_sharded_usable_size(pool_sharded_t*, const void* ptr) {
  return ptr == nullptr ? 0 : PoolSharded::usable_size(ptr);
}

size_t pool_sharded_trim(pool_sharded_t* pool) {
  return pool == nullptr ? 0 : reinterpret_cast<PoolSharded*>(pool)->trim();
}

void pool_sharded_destroy(pool_sharded_t* pool) { delete reinterpret_cast<PoolSharded*>(pool); }

int pool_sharded_stats(pool_sharded_t* pool, pool_family_stats_t* out) {
  if (pool == nullptr || out == nullptr) return -1;
  *out = reinterpret_cast<PoolSharded*>(pool)->stats();
  return 0;
}

}  // extern "C"
