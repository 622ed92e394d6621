#include "allocators/slab/slab.h"

#include <cstdio>
#include <cstdlib>
#include <new>

#include "allocators/common/platform.h"

namespace allocbench {
namespace {

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

unsigned ceil_log2(size_t v) {
  unsigned b = 0;
  while ((size_t{1} << b) < v) ++b;
  return b;
}

}  // namespace

Slab* Slab::create(const Options& o) {
  if (o.block_size == 0 || o.num_blocks == 0 || o.num_blocks > (size_t{1} << 30)) return nullptr;
  if (o.block_size > (size_t{1} << 30)) return nullptr;
  void* mem = platform::map_pages(sizeof(Slab));
  if (mem == nullptr) return nullptr;
  Slab* s = new (mem) Slab();
  size_t unit = o.cache_align ? 64 : 16;
  s->stride_ = round_up(o.block_size, unit);
  s->stride_shift_ =
      (s->stride_ & (s->stride_ - 1)) == 0 ? static_cast<int>(ceil_log2(s->stride_)) : -1;
  size_t lowbit = s->stride_ & (~s->stride_ + 1);
  size_t ps = platform::page_size();
  s->align_ = lowbit < ps ? lowbit : ps;
  s->r0_bits_ = ceil_log2(o.num_blocks);
  s->grow_enabled_ = o.grow;
  size_t cap = (size_t{1} << 30) / s->stride_;
  s->max_region_blocks_ = cap > o.num_blocks ? cap : o.num_blocks;
  if (!s->map_region(0, 0, static_cast<uint32_t>(o.num_blocks))) {
    destroy(s);
    return nullptr;
  }
  return s;
}

void Slab::destroy(Slab* s) {
  if (s == nullptr) return;
  s->~Slab();
  platform::unmap_pages(s, sizeof(Slab));
}

Slab::~Slab() {
  unsigned n = region_count_.load(std::memory_order_acquire);
  for (unsigned r = 0; r < n; ++r) {
    if (region_[r].base == nullptr) continue;
    platform::unmap_pages(region_[r].base, region_[r].bytes);
    platform::unmap_pages(region_[r].meta, size_t{region_[r].blocks} * sizeof(Meta));
  }
}

bool Slab::map_region(unsigned r, uint32_t first_index, uint32_t blocks) {
  size_t bytes = size_t{blocks} * stride_;
  char* base = static_cast<char*>(platform::map_pages(bytes));
  if (base == nullptr) return false;
  // Zeroed pages: next == 0 and state == kStateNever until first use.
  Meta* meta = static_cast<Meta*>(platform::map_pages(size_t{blocks} * sizeof(Meta)));
  if (meta == nullptr) {
    platform::unmap_pages(base, bytes);
    return false;
  }
  region_[r].base = base;
  region_[r].meta = meta;
  region_[r].bytes = bytes;
  region_[r].first_index = first_index;
  region_[r].blocks = blocks;
  return true;
}

uint32_t Slab::carve() {
  uint64_t c = carve_.load(std::memory_order_acquire);
  for (;;) {
    unsigned r = static_cast<unsigned>(c >> 32);
    uint32_t off = static_cast<uint32_t>(c);
    unsigned published = region_count_.load(std::memory_order_acquire);
    if (r < published && off < region_[r].blocks) {
      if (carve_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        return region_[r].first_index + off;
      }
      continue;
    }
    // Region r is used up: move the cursor to the next region, growing first.
    if (r + 1 >= published) {
      if (!grow_enabled_ || !grow(published)) {
        // Another thread may have grown meanwhile.
        if (region_count_.load(std::memory_order_acquire) <= r + 1) return kNil;
      }
    }
    uint64_t moved = static_cast<uint64_t>(r + 1) << 32;
    if (carve_.compare_exchange_weak(c, moved, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      c = moved;
    }
  }
}

bool Slab::grow(unsigned seen_regions) {
  std::lock_guard<std::mutex> lock(grow_mu_);
  unsigned n = region_count_.load(std::memory_order_relaxed);
  if (n != seen_regions) return true;  // Someone else grew.
  if (n >= kMaxRegions || r0_bits_ + n > 31) return false;
  uint32_t first = uint32_t{1} << (r0_bits_ + n - 1);
  size_t blocks = size_t{1} << (r0_bits_ + n - 1);
  if (blocks > max_region_blocks_) blocks = max_region_blocks_;
  if (!map_region(n, first, static_cast<uint32_t>(blocks))) return false;
  region_count_.store(n + 1, std::memory_order_release);
  return true;
}

void* Slab::alloc_slow() {
  // The stack may have been refilled since the fast path looked.
  uint64_t h = head_.load(std::memory_order_acquire);
  while (head_index(h) != kNil) {
    uint32_t i = head_index(h);
    uint32_t next = meta(i).next.load(std::memory_order_relaxed);
    if (head_.compare_exchange_weak(h, pack(next, head_tag(h) + 1), std::memory_order_acquire,
                                    std::memory_order_acquire)) {
      meta(i).state.store(kStateAllocated, std::memory_order_relaxed);
      return block(i);
    }
  }
  uint32_t i = carve();
  if (i == kNil) return nullptr;
  meta(i).state.store(kStateAllocated, std::memory_order_relaxed);
  return block(i);
}

unsigned Slab::alloc_batch(void** out, unsigned n, bool to_cache) {
  const uint32_t state = to_cache ? kStateCached : kStateAllocated;
  unsigned k = 0;
  uint64_t h = head_.load(std::memory_order_acquire);
  while (head_index(h) != kNil && n > 0) {
    // Walk up to n links. The walk may read a stack that is changing under
    // it; links always hold valid indices or kNil, and the tagged CAS below
    // succeeds only if the stack did not change since `h` was read.
    uint32_t cur = head_index(h);
    k = 0;
    while (k < n && cur != kNil) {
      out[k++] = block(cur);
      cur = meta(cur).next.load(std::memory_order_relaxed);
    }
    if (head_.compare_exchange_weak(h, pack(cur, head_tag(h) + 1), std::memory_order_acquire,
                                    std::memory_order_acquire)) {
      break;
    }
    k = 0;
  }
  for (unsigned j = 0; j < k; ++j) {
    meta(index_of(out[j])).state.store(state, std::memory_order_relaxed);
  }
  while (k < n) {
    uint32_t i = carve();
    if (i == kNil) break;
    meta(i).state.store(state, std::memory_order_relaxed);
    out[k++] = block(i);
  }
  return k;
}

void Slab::free_batch(void* const* blocks, unsigned n) {
  if (n == 0) return;
  uint32_t first = kNil;
  uint32_t prev = kNil;
  for (unsigned j = 0; j < n; ++j) {
    uint32_t i = index_of(blocks[j]);
    if (i == kNil) misuse("invalid free", blocks[j]);
    uint32_t st = meta(i).state.load(std::memory_order_relaxed);
    if (st == kStateFree) misuse("double free", blocks[j]);
    if (st == kStateNever) misuse("invalid free", blocks[j]);
    meta(i).state.store(kStateFree, std::memory_order_relaxed);
    if (prev == kNil) {
      first = i;
    } else {
      meta(prev).next.store(i, std::memory_order_relaxed);
    }
    prev = i;
  }
  push_chain(first, prev);
}

void Slab::depot_check_in(void* const* blocks, unsigned n) {
  for (unsigned j = 0; j < n; ++j) {
    uint32_t i = index_of(blocks[j]);
    if (i == kNil) misuse("invalid free", blocks[j]);
    uint32_t st = meta(i).state.load(std::memory_order_relaxed);
    if (st == kStateFree || st == kStateDepot) misuse("double free", blocks[j]);
    if (st == kStateNever) misuse("invalid free", blocks[j]);
    meta(i).state.store(kStateDepot, std::memory_order_relaxed);
  }
}

void Slab::depot_check_out(void* const* blocks, unsigned n) {
  for (unsigned j = 0; j < n; ++j) {
    // Checked on the way in: a valid block start.
    Meta& m = meta(index_of(blocks[j]));
    if (m.state.load(std::memory_order_relaxed) != kStateDepot) misuse("double free", blocks[j]);
    m.state.store(kStateCached, std::memory_order_relaxed);
  }
}

void Slab::check_block_starts(void* const* blocks, unsigned n) const {
  for (unsigned j = 0; j < n; ++j) {
    if (index_of(blocks[j]) == kNil) misuse("invalid free", blocks[j]);
  }
}

int Slab::mark_cached(const void* p) {
  uint32_t i = index_of(p);
  if (i == kNil) return SLAB_ERR_NOT_A_BLOCK;
  uint32_t st = meta(i).state.load(std::memory_order_relaxed);
  if (st == kStateFree || st == kStateCached || st == kStateDepot) return SLAB_ERR_DOUBLE_FREE;
  if (st != kStateAllocated) return SLAB_ERR_NOT_A_BLOCK;
  meta(i).state.store(kStateCached, std::memory_order_relaxed);
  return SLAB_OK;
}

int Slab::mark_handed_out(const void* p) {
  uint32_t i = index_of(p);
  if (i == kNil) return SLAB_ERR_NOT_A_BLOCK;
  if (meta(i).state.load(std::memory_order_relaxed) != kStateCached) return SLAB_ERR_DOUBLE_FREE;
  meta(i).state.store(kStateAllocated, std::memory_order_relaxed);
  return SLAB_OK;
}

void Slab::misuse(const char* what, const void* p) {
  std::fprintf(stderr, "slab: %s of %p\n", what, p);
  std::abort();
}

uint32_t Slab::index_of_slow(const void* p) const {
  unsigned n = region_count_.load(std::memory_order_acquire);
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  for (unsigned r = 1; r < n; ++r) {
    uintptr_t off = a - reinterpret_cast<uintptr_t>(region_[r].base);
    if (off >= region_[r].bytes) continue;
    if (off % stride_ != 0) return kNil;
    return region_[r].first_index + static_cast<uint32_t>(off / stride_);
  }
  return kNil;
}

size_t Slab::capacity_blocks() const {
  unsigned n = region_count_.load(std::memory_order_acquire);
  size_t total = 0;
  for (unsigned r = 0; r < n; ++r) total += region_[r].blocks;
  return total;
}

size_t Slab::used_blocks() const {
  unsigned n = region_count_.load(std::memory_order_acquire);
  uint64_t c = carve_.load(std::memory_order_acquire);
  unsigned cr = static_cast<unsigned>(c >> 32);
  size_t used = 0;
  for (unsigned r = 0; r < n && r <= cr; ++r) {
    uint32_t carved = r < cr ? region_[r].blocks : static_cast<uint32_t>(c);
    if (carved > region_[r].blocks) carved = region_[r].blocks;
    for (uint32_t j = 0; j < carved; ++j) {
      uint32_t st = region_[r].meta[j].state.load(std::memory_order_relaxed);
      if (st == kStateAllocated || st == kStateCached || st == kStateDepot) ++used;
    }
  }
  return used;
}

size_t Slab::mapped_bytes() const {
  unsigned n = region_count_.load(std::memory_order_acquire);
  size_t total = sizeof(Slab);
  for (unsigned r = 0; r < n; ++r) total += region_[r].bytes + region_[r].blocks * sizeof(Meta);
  return total;
}

}  // namespace allocbench

using allocbench::Slab;

extern "C" {

slab_allocator_t* slab_create(size_t block_size, size_t num_blocks) {
  slab_options_t o{block_size, num_blocks, 0};
  return slab_create_ex(&o);
}

slab_allocator_t* slab_create_ex(const slab_options_t* options) {
  if (options == nullptr) return nullptr;
  Slab::Options o;
  o.block_size = options->block_size;
  o.num_blocks = options->num_blocks;
  o.grow = (options->flags & SLAB_FLAG_GROW) != 0;
  o.cache_align = (options->flags & SLAB_FLAG_CACHE_ALIGN) != 0;
  return reinterpret_cast<slab_allocator_t*>(Slab::create(o));
}

void* slab_alloc(slab_allocator_t* slab) {
  return slab == nullptr ? nullptr : reinterpret_cast<Slab*>(slab)->alloc();
}

int slab_free(slab_allocator_t* slab, void* ptr) {
  if (slab == nullptr) return SLAB_ERR_INVALID_ARG;
  return reinterpret_cast<Slab*>(slab)->free(ptr);
}

void slab_destroy(slab_allocator_t* slab) { Slab::destroy(reinterpret_cast<Slab*>(slab)); }

int slab_stats(slab_allocator_t* slab, size_t* used_blocks, size_t* free_blocks) {
  if (slab == nullptr || used_blocks == nullptr || free_blocks == nullptr) {
    return SLAB_ERR_INVALID_ARG;
  }
  const Slab* s = reinterpret_cast<Slab*>(slab);
  size_t used = s->used_blocks();
  size_t cap = s->capacity_blocks();
  *used_blocks = used;
  *free_blocks = cap > used ? cap - used : 0;
  return SLAB_OK;
}

size_t slab_block_size(const slab_allocator_t* slab) {
  return slab == nullptr ? 0 : reinterpret_cast<const Slab*>(slab)->block_size();
}

}  // extern "C"
