#include "allocators/arena/arena.h"

#include <new>

#include "allocators/common/platform.h"

namespace allocbench {

Arena* Arena::create(const Options& o) {
  if (o.chunk_size == 0) return nullptr;
  void* mem = platform::map_pages(sizeof(Arena));
  if (mem == nullptr) return nullptr;
  Arena* a = new (mem) Arena();
  a->chunk_size_ = o.chunk_size;
  a->grow_ = o.grow;
  a->single_owner_ = o.single_owner;
  a->first_ = a->map_chunk(o.chunk_size);
  if (a->first_ == nullptr) {
    destroy(a);
    return nullptr;
  }
  a->current_.store(a->first_, std::memory_order_release);
  return a;
}

void Arena::destroy(Arena* a) {
  if (a == nullptr) return;
  a->~Arena();
  platform::unmap_pages(a, sizeof(Arena));
}

Arena::~Arena() {
  for (Chunk* c = first_; c != nullptr;) {
    Chunk* next = c->next;
    platform::unmap_pages(c, c->mapped);
    c = next;
  }
}

Arena::Chunk* Arena::map_chunk(size_t capacity) {
  size_t mapped = capacity + 64;
  if (mapped < capacity) return nullptr;
  void* mem = platform::map_pages(mapped);
  if (mem == nullptr) return nullptr;
  Chunk* c = new (mem) Chunk;
  c->offset.store(0, std::memory_order_relaxed);
  c->capacity = capacity;
  c->mapped = mapped;
  c->next = nullptr;
  capacity_.fetch_add(capacity, std::memory_order_relaxed);
  chunks_.fetch_add(1, std::memory_order_relaxed);
  return c;
}

void* Arena::alloc_slow(Chunk* seen, size_t size, size_t alignment) {
  if (!grow_) return nullptr;
  {
    std::lock_guard<std::mutex> lock(grow_mu_);
    Chunk* c = current_.load(std::memory_order_relaxed);
    if (c == seen) {
      size_t need = ((size + 15) & ~size_t{15}) + (alignment > 64 ? alignment : 0);
      if (need < size) return nullptr;
      Chunk* next = c->next;
      if (next == nullptr || next->capacity < need) {
        // No retained chunk fits: map one and put it right after c.
        Chunk* fresh = map_chunk(need > chunk_size_ ? need : chunk_size_);
        if (fresh == nullptr) return nullptr;
        fresh->next = next;
        c->next = fresh;
        next = fresh;
      }
      next->offset.store(0, std::memory_order_relaxed);
      size_t used = c->offset.load(std::memory_order_relaxed);
      used_before_.fetch_add(used < c->capacity ? used : c->capacity, std::memory_order_relaxed);
      current_.store(next, std::memory_order_release);
    }
  }
  return alloc(size, alignment);
}

void Arena::reset() {
  std::lock_guard<std::mutex> lock(grow_mu_);
  first_->offset.store(0, std::memory_order_relaxed);
  used_before_.store(0, std::memory_order_relaxed);
  current_.store(first_, std::memory_order_release);
}

size_t Arena::used_bytes() const {
  Chunk* c = current_.load(std::memory_order_acquire);
  return used_before_.load(std::memory_order_relaxed) + c->offset.load(std::memory_order_relaxed);
}

}  // namespace allocbench

using allocbench::Arena;

extern "C" {

arena_allocator_t* arena_create(size_t capacity) {
  arena_options_t o{capacity, 0};
  return arena_create_ex(&o);
}

arena_allocator_t* arena_create_growing(size_t chunk_size) {
  arena_options_t o{chunk_size, ARENA_FLAG_GROW};
  return arena_create_ex(&o);
}

arena_allocator_t* arena_create_ex(const arena_options_t* options) {
  if (options == nullptr) return nullptr;
  Arena::Options o;
  o.chunk_size = options->chunk_size;
  o.grow = (options->flags & ARENA_FLAG_GROW) != 0;
  o.single_owner = (options->flags & ARENA_FLAG_SINGLE_OWNER) != 0;
  return reinterpret_cast<arena_allocator_t*>(Arena::create(o));
}

void* arena_alloc(arena_allocator_t* arena, size_t size) {
  return arena == nullptr ? nullptr : reinterpret_cast<Arena*>(arena)->alloc(size, 16);
}

void* arena_alloc_aligned(arena_allocator_t* arena, size_t size, size_t alignment) {
  if (arena == nullptr || alignment == 0 || (alignment & (alignment - 1)) != 0) return nullptr;
  return reinterpret_cast<Arena*>(arena)->alloc(size, alignment < 16 ? 16 : alignment);
}

void arena_reset(arena_allocator_t* arena) {
  if (arena != nullptr) reinterpret_cast<Arena*>(arena)->reset();
}

void arena_destroy(arena_allocator_t* arena) { Arena::destroy(reinterpret_cast<Arena*>(arena)); }

int arena_stats(arena_allocator_t* arena, size_t* used, size_t* capacity) {
  if (arena == nullptr || used == nullptr || capacity == nullptr) return -1;
  const Arena* a = reinterpret_cast<Arena*>(arena);
  *used = a->used_bytes();
  *capacity = a->capacity_bytes();
  return 0;
}

}  // extern "C"
