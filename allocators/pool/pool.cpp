#include "allocators/pool/pool.h"

#include <algorithm>
#include <new>

namespace allocbench {

Pool* Pool::create(const Options& o) {
  if (o.blocks_per_thread > (size_t{1} << 20)) return nullptr;
  Slab::Options so;
  so.block_size = o.block_size;
  so.num_blocks = o.total_blocks;
  so.grow = o.grow;
  so.cache_align = o.cache_align;
  Slab* slab = Slab::create(so);
  if (slab == nullptr) return nullptr;
  Pool* p = new (std::nothrow) Pool();
  if (p == nullptr) {
    Slab::destroy(slab);
    return nullptr;
  }
  p->slab_ = slab;
  p->cache_capacity_ = static_cast<uint32_t>(o.blocks_per_thread);
  p->id_ = detail::thread_registry_add(p);
  return p;
}

void Pool::destroy(Pool* p) { delete p; }

Pool::~Pool() {
  // After this no exit hook touches the caches; they can be freed.
  detail::thread_registry_remove(id_);
  for (ThreadCache* c : caches_) {
    delete[] c->slots;
    delete c;
  }
  Slab::destroy(slab_);
}

Pool::ThreadCache* Pool::attach_cache() {
  if (cache_capacity_ == 0) return nullptr;
  ThreadCache* tc;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spare_.empty()) {
      tc = spare_.back();
      spare_.pop_back();
    } else {
      tc = new ThreadCache;
      tc->capacity = cache_capacity_;
      tc->slots = new void*[cache_capacity_];
      caches_.push_back(tc);
    }
  }
  detail::thread_state_attach(id_, tc);
  return tc;
}

void* Pool::alloc_slow(ThreadCache* tc) {
  if (tc == nullptr) {
    tc = attach_cache();
    if (tc == nullptr) return slab_->alloc();
  }
  // Refill half the cache with one CAS on the slab.
  unsigned want = std::max(1u, tc->capacity / 2);
  unsigned got = slab_->alloc_batch(tc->slots, want);
  if (got == 0) return nullptr;
  tc->count.store(got - 1, std::memory_order_relaxed);
  return tc->slots[got - 1];
}

void Pool::free_slow(ThreadCache* tc, void* p) {
  if (tc == nullptr) {
    tc = attach_cache();
    if (tc == nullptr) {
      slab_->free_batch(&p, 1);
      return;
    }
    tc->slots[0] = p;
    tc->count.store(1, std::memory_order_relaxed);
    return;
  }
  // Full: spill the upper half with one CAS, then keep p.
  uint32_t n = tc->count.load(std::memory_order_relaxed);
  uint32_t half = std::max(1u, n / 2);
  slab_->free_batch(tc->slots + (n - half), half);
  n -= half;
  tc->slots[n] = p;
  tc->count.store(n + 1, std::memory_order_relaxed);
}

void Pool::release_thread_state(void* state) {
  auto* tc = static_cast<ThreadCache*>(state);
  uint32_t n = tc->count.load(std::memory_order_relaxed);
  slab_->free_batch(tc->slots, n);
  tc->count.store(0, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  spare_.push_back(tc);
}

Pool::Stats Pool::stats() {
  Stats s{};
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (ThreadCache* c : caches_) s.cached += c->count.load(std::memory_order_relaxed);
  }
  size_t slab_used = slab_->used_blocks();
  s.capacity = slab_->capacity_blocks();
  s.allocated = slab_used > s.cached ? slab_used - s.cached : 0;
  s.in_slab = s.capacity - slab_used;
  return s;
}

}  // namespace allocbench

using allocbench::Pool;

extern "C" {

mempool_t* pool_create(size_t block_size, size_t blocks_per_thread, size_t total_blocks) {
  pool_options_t o{block_size, blocks_per_thread, total_blocks, 0};
  return pool_create_ex(&o);
}

mempool_t* pool_create_ex(const pool_options_t* options) {
  if (options == nullptr) return nullptr;
  Pool::Options o;
  o.block_size = options->block_size;
  o.blocks_per_thread = options->blocks_per_thread;
  o.total_blocks = options->total_blocks;
  o.grow = (options->flags & POOL_FLAG_GROW) != 0;
  o.cache_align = (options->flags & POOL_FLAG_CACHE_ALIGN) != 0;
  return reinterpret_cast<mempool_t*>(Pool::create(o));
}

void* pool_alloc(mempool_t* pool) {
  return pool == nullptr ? nullptr : reinterpret_cast<Pool*>(pool)->alloc();
}

int pool_free(mempool_t* pool, void* ptr) {
  if (pool == nullptr) return POOL_ERR_INVALID_ARG;
  return reinterpret_cast<Pool*>(pool)->free(ptr);
}

void pool_thread_flush(mempool_t* pool) {
  if (pool != nullptr) reinterpret_cast<Pool*>(pool)->thread_flush();
}

void pool_destroy(mempool_t* pool) { Pool::destroy(reinterpret_cast<Pool*>(pool)); }

int pool_stats(mempool_t* pool, size_t* allocated, size_t* free_count) {
  if (pool == nullptr || allocated == nullptr || free_count == nullptr) {
    return POOL_ERR_INVALID_ARG;
  }
  Pool::Stats s = reinterpret_cast<Pool*>(pool)->stats();
  *allocated = s.allocated;
  *free_count = s.capacity - s.allocated;
  return POOL_OK;
}

}  // extern "C"
