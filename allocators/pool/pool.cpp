#include "allocators/pool/pool.h"

#include <new>

namespace allocbench {

Pool::Pool(Slab* slab, uint32_t blocks_per_thread)
    : slab_(slab),
      magazines_(slab, blocks_per_thread),
      block_size_(slab->block_size()),
      block_alignment_(slab->block_alignment()) {}

Pool* Pool::create(const Options& o) {
  if (o.blocks_per_thread > (size_t{1} << 20)) return nullptr;
  Slab::Options so;
  so.block_size = o.block_size;
  so.num_blocks = o.total_blocks;
  so.grow = o.grow;
  so.cache_align = o.cache_align;
  Slab* slab = Slab::create(so);
  if (slab == nullptr) return nullptr;
  Pool* p = new (std::nothrow) Pool(slab, static_cast<uint32_t>(o.blocks_per_thread));
  if (p == nullptr) Slab::destroy(slab);
  return p;
}

void Pool::destroy(Pool* p) { delete p; }

Pool::Stats Pool::stats() {
  Stats s{};
  s.cached = magazines_.cached_blocks();
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
