// pool: fixed-size blocks through a per-thread cache over a global lock-free
// slab (allocators/slab).
//
// Each thread has a cache (an array stack of block pointers, capacity
// blocks_per_thread) for each pool it uses. pool_alloc pops it and pool_free
// pushes it with no atomic read-modify-write and no fence: the owner thread's
// fast path is a thread-local id compare, a bounds check and an array access.
// An empty cache refills half its capacity from the slab with one CAS
// (Slab::alloc_batch); a full one spills half with one CAS. A block freed by
// another thread simply enters that thread's cache (every block belongs to the
// one slab, so nothing is lost). Thread exit (a thread_local destructor, see
// common/thread_registry.h) or pool_thread_flush gives the cache's blocks back
// to the slab; a pool destroyed while threads hold caches is handled by the
// registry.
#ifndef ALLOCBENCH_ALLOCATORS_POOL_POOL_H_
#define ALLOCBENCH_ALLOCATORS_POOL_POOL_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mempool mempool_t;

/* Return codes of pool_free and pool_stats. */
#define POOL_OK 0
#define POOL_ERR_NOT_A_BLOCK 2 /* Not the start of a block of this pool (includes NULL). */
#define POOL_ERR_INVALID_ARG 3 /* NULL pool or NULL output pointer. */

#define POOL_FLAG_GROW 1u        /* The global slab grows instead of failing. */
#define POOL_FLAG_CACHE_ALIGN 2u /* 64-byte blocks boundaries (see slab). */

typedef struct pool_options {
  size_t block_size;        /* Bytes per block (rounded up to 16, or 64). */
  size_t blocks_per_thread; /* Capacity of each thread's cache (0: no cache). */
  size_t total_blocks;      /* Blocks in the global slab's first region. */
  unsigned flags;           /* POOL_FLAG_* */
} pool_options_t;

mempool_t* pool_create(size_t block_size, size_t blocks_per_thread, size_t total_blocks);
mempool_t* pool_create_ex(const pool_options_t* options);

/* A block, or NULL when the slab is exhausted (blocks cached by other threads
   are not taken back). Fast path: no atomic RMW, no lock. */
void* pool_alloc(mempool_t* pool);

/* Frees a block (any thread may free any block). Returns POOL_OK or
   POOL_ERR_NOT_A_BLOCK for a pointer that is not a block start of this pool.
   Double frees are not detected here (only the slab's own API detects them). */
int pool_free(mempool_t* pool, void* ptr);

/* Gives the calling thread's cached blocks back to the slab now (as thread
   exit does). */
void pool_thread_flush(mempool_t* pool);

/* Frees everything. Threads' caches for this pool are dropped. */
void pool_destroy(mempool_t* pool);

/* allocated: blocks handed out and not freed. free_count: every other block of
   the mapped capacity (in the slab, in thread caches, or not yet carved). A
   snapshot; O(blocks carved) because it asks the slab. */
int pool_stats(mempool_t* pool, size_t* allocated, size_t* free_count);

#ifdef __cplusplus
}  // extern "C"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "allocators/common/thread_registry.h"
#include "allocators/slab/slab.h"

namespace allocbench {

// Thread-safe. Each thread's cache is touched only by that thread (and by the
// registry's exit hook on its behalf); the slab is lock-free.
class Pool final : public detail::ThreadStateOwner {
 public:
  struct Options {
    size_t block_size = 64;
    size_t blocks_per_thread = 256;
    size_t total_blocks = size_t{1} << 16;
    bool grow = false;
    bool cache_align = false;
  };
  struct Stats {
    size_t allocated;  // Handed out, not freed.
    size_t cached;     // Held in live thread caches.
    size_t in_slab;    // Free in the slab (stack or never carved).
    size_t capacity;   // Blocks of all mapped slab regions.
  };

  static Pool* create(const Options& options);  // nullptr on failure
  static void destroy(Pool* pool);

  // Fast path: thread-local id compare, count load, slot load, count store.
  void* alloc() {
    auto* tc = static_cast<ThreadCache*>(detail::thread_state_get(id_));
    if (tc != nullptr) {
      uint32_t n = tc->count.load(std::memory_order_relaxed);
      if (n != 0) {
        tc->count.store(n - 1, std::memory_order_relaxed);
        return tc->slots[n - 1];
      }
    }
    return alloc_slow(tc);
  }

  // Fast path: range/stride check, id compare, slot store, count store.
  int free(void* p) {
    if (slab_->index_of(p) == Slab::kNil) return POOL_ERR_NOT_A_BLOCK;
    auto* tc = static_cast<ThreadCache*>(detail::thread_state_get(id_));
    if (tc != nullptr) {
      uint32_t n = tc->count.load(std::memory_order_relaxed);
      if (n < tc->capacity) {
        tc->slots[n] = p;
        tc->count.store(n + 1, std::memory_order_relaxed);
        return POOL_OK;
      }
    }
    free_slow(tc, p);
    return POOL_OK;
  }

  void thread_flush() { detail::thread_state_release_current(id_); }
  Stats stats();
  size_t block_size() const { return slab_->block_size(); }
  size_t block_alignment() const { return slab_->block_alignment(); }
  size_t mapped_bytes() const { return slab_->mapped_bytes(); }

  // Backend interface for pmr_support.h: serves requests that fit one block.
  void* allocate(size_t bytes, size_t alignment) {
    return bytes <= slab_->block_size() && alignment <= slab_->block_alignment() ? alloc()
                                                                                 : nullptr;
  }
  void deallocate(void* p, size_t, size_t) { free(p); }

  void release_thread_state(void* state) override;

 private:
  struct ThreadCache {
    std::atomic<uint32_t> count{0};  // Blocks in slots; written by the owner thread only.
    uint32_t capacity = 0;           // Immutable.
    void** slots = nullptr;          // Owner thread only.
  };

  Pool() = default;
  ~Pool();
  ThreadCache* attach_cache();
  __attribute__((noinline)) void* alloc_slow(ThreadCache* tc);
  __attribute__((noinline)) void free_slow(ThreadCache* tc, void* p);

  Slab* slab_ = nullptr;              // Global store of blocks. Immutable pointer.
  uint64_t id_ = 0;                   // Registry id. Immutable.
  uint32_t cache_capacity_ = 0;       // blocks_per_thread. Immutable.
  std::mutex mu_;                     // Guards caches_ and spare_.
  std::vector<ThreadCache*> caches_;  // Every cache ever made (owned).
  std::vector<ThreadCache*> spare_;   // Caches released by exited threads, empty.
};

}  // namespace allocbench

#endif  // __cplusplus

#endif  // ALLOCBENCH_ALLOCATORS_POOL_POOL_H_
