// pool: fixed-size blocks through a per-thread magazine over a global
// lock-free slab (allocators/slab).
//
// Each thread has a magazine (a stack of block pointers, capacity
// blocks_per_thread) for each pool it uses: SlabMagazines
// (slab/slab_magazine.h), the same layer the `slab` adapter uses. Pool::alloc
// pops it and Pool::free_trusted pushes it with no atomic read-modify-write,
// no lock and no call: 9 instructions each with a single test, plus one
// load of the pool pointer in the adapter (docs/pool_family.md, "Fast
// paths"). The magazine is two halves; a full half goes to the thread's own
// depot and an empty one takes a full half from it, in O(1) (swapping
// arrays), or else steals one from another thread's depot; only when every
// depot is empty does a refill go to the slab (one CAS, Slab::alloc_batch),
// and only a depot at its bound sends a spill there. A block freed by another
// thread simply enters that thread's magazine (every block belongs to the one
// slab, so nothing is lost). Thread exit (a thread_local destructor, see
// common/thread_registry.h) gives the magazine's full halves to its depot and
// the rest to the slab; pool_thread_flush does the same and then gives every
// depot back to the slab. A pool destroyed while threads hold magazines is
// handled by the registry.
//
// Misuse: pool_free (the seed's API) and Pool::free check on every call that
// the pointer is a block start of this pool (POOL_ERR_NOT_A_BLOCK).
// Pool::free_trusted (the adapter's path) checks nothing per call in the
// release build; double and invalid frees are caught per call in the debug
// build and, in the release build, when a half enters the depot or a block
// the slab (see slab_magazine.h).
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

/* A block, or NULL when the slab and the depots are exhausted (blocks in
   other threads' magazines are not taken back; their depots are). Fast
   path: no atomic RMW, no lock. */
void* pool_alloc(mempool_t* pool);

/* Frees a block (any thread may free any block). Returns POOL_OK or
   POOL_ERR_NOT_A_BLOCK for a pointer that is not a block start of this pool.
   Double frees abort the process: at once in the debug build, when the
   block's half enters the pool's depot or the block reaches the slab in the
   release build (see slab_magazine.h). */
int pool_free(mempool_t* pool, void* ptr);

/* Gives the calling thread's cached blocks back now (as thread exit does:
   full halves to its depot, the rest to the slab), then every depot's
   halves to the slab. */
void pool_thread_flush(mempool_t* pool);

/* Frees everything. Threads' caches for this pool are dropped. */
void pool_destroy(mempool_t* pool);

/* allocated: blocks handed out and not freed. free_count: every other block of
   the mapped capacity (in the slab, in thread caches, or not yet carved). A
   snapshot; O(blocks carved) because it asks the slab. */
int pool_stats(mempool_t* pool, size_t* allocated, size_t* free_count);

#ifdef __cplusplus
}  // extern "C"

#include <cstdint>
#include <memory>

#include "allocators/slab/slab.h"
#include "allocators/slab/slab_magazine.h"

namespace allocbench {

// Thread-safe. Each thread's magazine is touched only by that thread (and by
// the registry's exit hook on its behalf); the slab is lock-free.
class Pool final {
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
    size_t cached;     // Held in live thread magazines and the depots.
    size_t in_slab;    // Free in the slab (stack or never carved).
    size_t capacity;   // Blocks of all mapped slab regions.
  };

  static Pool* create(const Options& options);  // nullptr on failure
  static void destroy(Pool* pool);

  // Fast path: SlabMagazines::alloc (a magazine pop, single test).
  void* alloc() { return magazines_.alloc(); }

  // The seed's free: a range/stride check (POOL_ERR_NOT_A_BLOCK), then
  // free_trusted.
  int free(void* p) {
    if (slab_->index_of(p) == Slab::kNil) return POOL_ERR_NOT_A_BLOCK;
    magazines_.free(p);
    return POOL_OK;
  }
  // Fast path: SlabMagazines::free (a magazine push, single test). `p` must
  // be a block of this pool that is handed out.
  void free_trusted(void* p) { magazines_.free(p); }

  void thread_flush() {
    magazines_.thread_flush();
    magazines_.flush_depot();
  }
  Stats stats();
  size_t block_size() const { return block_size_; }
  size_t block_alignment() const { return block_alignment_; }
  size_t mapped_bytes() const { return slab_->mapped_bytes(); }

  // Backend interface for pmr_support.h: serves requests that fit one block.
  void* allocate(size_t bytes, size_t alignment) {
    return bytes <= block_size_ && alignment <= block_alignment_ ? alloc() : nullptr;
  }
  void deallocate(void* p, size_t, size_t) { free_trusted(p); }

 private:
  struct SlabDeleter {
    void operator()(Slab* s) const { Slab::destroy(s); }
  };
  Pool(Slab* slab, uint32_t blocks_per_thread);

  // Declared before magazines_, so destroyed after them: the magazines leave
  // the registry (no exit hook can spill into the slab) before the slab goes.
  std::unique_ptr<Slab, SlabDeleter> slab_;  // Global store of blocks. Owned; immutable.
  SlabMagazines magazines_;                  // Per-thread magazines over slab_.
  size_t block_size_;                        // slab_->block_size(). Immutable.
  size_t block_alignment_;                   // slab_->block_alignment(). Immutable.
};

}  // namespace allocbench

#endif  // __cplusplus

#endif  // ALLOCBENCH_ALLOCATORS_POOL_POOL_H_
