// arena: bump allocation, O(1) thread-safe alloc, O(1) reset, no individual
// free.
//
// A chunk is one mapping; allocation advances the chunk's offset with a CAS
// loop (one CAS when uncontended; a CAS rather than fetch_add so that a failed
// request leaves the offset untouched and alignment padding is exact). A fixed
// arena has one chunk and fails when it is full; a growing arena chains a new
// chunk (under a mutex, off the fast path) when the current one is full.
// Reset rewinds to the first chunk in O(1) and keeps the chain, so later
// passes reuse the chunks instead of mapping again (memory stays at the high
// water mark until destroy).
#ifndef ALLOCBENCH_ALLOCATORS_ARENA_ARENA_H_
#define ALLOCBENCH_ALLOCATORS_ARENA_ARENA_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct arena_allocator arena_allocator_t;

#define ARENA_FLAG_GROW 1u /* Chain new chunks instead of failing. */
#define ARENA_FLAG_SINGLE_OWNER                        \
  2u /* Not thread-safe: one thread uses the arena, so \
        allocation is a plain load and store (no CAS). */

typedef struct arena_options {
  size_t chunk_size; /* Bytes of the first chunk (and of each further one when growing). */
  unsigned flags;    /* ARENA_FLAG_* */
} arena_options_t;

/* A fixed arena of `capacity` bytes (> 0). NULL on failure. */
arena_allocator_t* arena_create(size_t capacity);
/* A growing arena whose chunks hold `chunk_size` bytes (larger requests get a
   chunk of their own). */
arena_allocator_t* arena_create_growing(size_t chunk_size);
arena_allocator_t* arena_create_ex(const arena_options_t* options);

/* `size` bytes aligned to alignof(max_align_t) (16), or NULL when a fixed
   arena is full. Size 0 returns a unique pointer. Thread-safe; cost: a load of
   the current chunk and one CAS (SINGLE_OWNER: a load and a store). */
void* arena_alloc(arena_allocator_t* arena, size_t size);
/* As arena_alloc with any power-of-two alignment (NULL if not a power of two). */
void* arena_alloc_aligned(arena_allocator_t* arena, size_t size, size_t alignment);

/* Frees every allocation at once, O(1). Must not run concurrently with
   allocation from other threads. */
void arena_reset(arena_allocator_t* arena);
void arena_destroy(arena_allocator_t* arena);

/* Bytes handed out since the last reset, including alignment padding (used),
   and bytes of all chunks mapped (capacity). Returns 0, or -1 on NULL args. */
int arena_stats(arena_allocator_t* arena, size_t* used, size_t* capacity);

#ifdef __cplusplus
}  // extern "C"

#include <atomic>
#include <cstdint>
#include <mutex>

namespace allocbench {

// Thread-safe (except reset, and except in single-owner mode, where one thread
// owns it).
class Arena {
 public:
  struct Options {
    size_t chunk_size = size_t{1} << 20;
    bool grow = false;
    bool single_owner = false;
  };

  static Arena* create(const Options& options);  // nullptr on failure
  static void destroy(Arena* arena);

  // Fast path: one chunk pointer load, align-up arithmetic, one CAS (or store).
  void* alloc(size_t size, size_t alignment = 16) {
    Chunk* c = current_.load(std::memory_order_acquire);
    if (size == 0) size = 1;
    uintptr_t data = reinterpret_cast<uintptr_t>(c->data());
    size_t off = c->offset.load(std::memory_order_relaxed);
    for (;;) {
      size_t start = ((data + off + alignment - 1) & ~(uintptr_t{alignment} - 1)) - data;
      size_t end = start + ((size + 15) & ~size_t{15});
      if (end > c->capacity || end < start) break;
      if (single_owner_) {
        c->offset.store(end, std::memory_order_relaxed);
        return reinterpret_cast<void*>(data + start);
      }
      if (c->offset.compare_exchange_weak(off, end, std::memory_order_relaxed)) {
        return reinterpret_cast<void*>(data + start);
      }
    }
    return alloc_slow(c, size, alignment);
  }

  void reset();
  size_t used_bytes() const;
  size_t capacity_bytes() const { return capacity_.load(std::memory_order_relaxed); }
  size_t chunk_count() const { return chunks_.load(std::memory_order_relaxed); }

  // Backend interface for pmr_support.h; deallocate is a no-op.
  void* allocate(size_t bytes, size_t alignment) {
    return alignment == 0 || (alignment & (alignment - 1)) != 0 ? nullptr : alloc(bytes, alignment);
  }
  void deallocate(void*, size_t, size_t) {}

 private:
  struct Chunk {
    std::atomic<size_t> offset;  // Bytes of data used; CAS by allocating threads.
    size_t capacity;             // Bytes of data.
    size_t mapped;               // Bytes of the mapping (header + data).
    Chunk* next;                 // Next chunk in the chain; written under grow_mu_.
    char* data() { return reinterpret_cast<char*>(this) + 64; }
  };
  static_assert(sizeof(Chunk) <= 64, "chunk header fits before the data");

  Arena() = default;
  ~Arena();
  Chunk* map_chunk(size_t capacity);
  __attribute__((noinline)) void* alloc_slow(Chunk* seen, size_t size, size_t alignment);

  std::atomic<Chunk*> current_{nullptr};  // Chunk being bumped; advanced under grow_mu_.
  Chunk* first_ = nullptr;                // Head of the chain. Immutable after create.
  std::atomic<size_t> used_before_{0};    // Bytes used in chunks before current_.
  std::atomic<size_t> capacity_{0};       // Data bytes of all chunks.
  std::atomic<size_t> chunks_{0};         // Chunks mapped.
  size_t chunk_size_ = 0;                 // Immutable.
  bool grow_ = false;                     // Immutable.
  bool single_owner_ = false;             // Immutable.
  std::mutex grow_mu_;                    // Serialises chunk changes.
};

}  // namespace allocbench

#endif  // __cplusplus

#endif  // ALLOCBENCH_ALLOCATORS_ARENA_ARENA_H_
