// SlabMagazines: the per-thread magazine layer over a Slab, the fast path of
// Pool and of the `slab` and `pool` adapters.
//
// Every thread that uses a SlabMagazines gets a magazine: a bounded stack of
// block pointers (capacity fixed at creation). alloc pops it and free pushes
// it with no atomic read-modify-write and no call. An empty magazine is
// refilled with half its capacity from the slab's lock-free stack in one CAS
// (Slab::alloc_batch); a full one spills half in one CAS (Slab::free_batch).
// So two threads touch the shared stack head once per capacity/2 operations,
// not on every one. A block freed by another thread simply enters that
// thread's magazine (all blocks belong to the one slab).
//
// The fast path. The calling thread's current magazine is cached in one
// thread-local record, t_magazine, whose `key` packs the owner's id (high 32
// bits) and the magazine's block count (low 32 bits). One unsigned compare
// then checks both "this owner's magazine" and "not empty" (alloc) or "not
// full" (free): in the release build (-O2, x86-64) alloc and free are 9
// instructions each with a single test, no atomic and no call
// (docs/pool_family.md, "Fast paths", gives the objdump listing and how to
// repeat the count). A thread that uses a
// second SlabMagazines writes the count back into its first magazine (under
// the registry lock, so an owner destroyed meanwhile is skipped) and loads
// the second's, on the slow path.
//
// Misuse detection (the slab's own slab_free always checks; this layer
// trades per-call checks for speed):
//  - debug build (ALLOCBENCH_SLAB_CHECKS, on in CMAKE_BUILD_TYPE=Debug, hence
//    in the sanitizer builds): every free checks that the pointer is a block
//    start of this slab and that the block is handed out (state tag), and
//    aborts with "slab: invalid free" or "slab: double free" otherwise.
//  - release build: nothing on the fast path. Every spill checks each block
//    it returns (Slab::free_batch): a pointer that is not a block start, or a
//    block freed twice into magazines and spilled, aborts with the same
//    messages. A double free whose copies are handed out again before a spill
//    is not seen.
#ifndef ALLOCBENCH_ALLOCATORS_SLAB_SLAB_MAGAZINE_H_
#define ALLOCBENCH_ALLOCATORS_SLAB_SLAB_MAGAZINE_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "allocators/common/thread_registry.h"
#include "allocators/slab/slab.h"

#ifndef ALLOCBENCH_SLAB_CHECKS
#define ALLOCBENCH_SLAB_CHECKS 0
#endif

namespace allocbench {
namespace detail {

// The calling thread's current magazine. Constant-initialised and trivially
// destructible: reading it is a plain %fs-relative load, no guard call.
struct MagazineTls {
  uint64_t key;    // Owner id << 32 | blocks in `slots`; 0: none. Owner thread only.
  void** slots;    // The current magazine's stack of blocks. Owner thread only.
  void* magazine;  // Its SlabMagazines::Magazine, for write-back. Owner thread only.
  uint64_t owner;  // Its owner's registry id (key >> 32). Owner thread only.
};
inline thread_local MagazineTls t_magazine{0, nullptr, nullptr, 0};

}  // namespace detail

// Thread-safe. Each magazine is touched only by its thread (and by the
// registry's exit hook on that thread); the slab underneath is lock-free.
// Does not own the slab. 64-aligned, so the two fields every fast path reads
// share no cache line with anything another thread writes.
class alignas(64) SlabMagazines final : public detail::ThreadStateOwner {
 public:
  // capacity 0: no magazines, every call goes to the slab. At most 2^20.
  SlabMagazines(Slab* slab, uint32_t capacity);
  ~SlabMagazines();
  SlabMagazines(const SlabMagazines&) = delete;
  SlabMagazines& operator=(const SlabMagazines&) = delete;

  // Fast path: one TLS load, subtract, compare, TLS store, slot load.
  void* alloc() {
    detail::MagazineTls& t = detail::t_magazine;
    uint64_t n = t.key - key_base_ - 1;  // Blocks - 1, or huge if not ours or empty.
    if (__builtin_expect(n < capacity_, 1)) {
      t.key -= 1;
      void* p = t.slots[n];
#if ALLOCBENCH_SLAB_CHECKS
      check_alloc(p);
#endif
      return p;
    }
    return alloc_slow();
  }

  // Fast path: one TLS load, subtract, compare, slot store, TLS store. `p`
  // must be a block of this slab that is handed out (see the header comment
  // for what is checked, and where).
  void free(void* p) {
#if ALLOCBENCH_SLAB_CHECKS
    check_free(p);
#endif
    detail::MagazineTls& t = detail::t_magazine;
    uint64_t n = t.key - key_base_;  // Blocks, or huge if not ours.
    if (__builtin_expect(n < capacity_, 1)) {
      t.slots[n] = p;
      t.key += 1;
      return;
    }
    free_slow(p);
  }

  // Gives the calling thread's magazine back to the slab now (as thread exit
  // does).
  void thread_flush() { detail::thread_state_release_current(id_); }
  // Blocks held in magazines: exact for the calling thread, as of their last
  // refill, spill or switch for other live threads.
  size_t cached_blocks();
  uint32_t capacity() const { return static_cast<uint32_t>(capacity_); }

  void release_thread_state(void* state) override;

 private:
  struct alignas(64) Magazine {      // One line each: no two threads' magazines share one.
    std::atomic<uint32_t> count{0};  // Blocks in slots when not current; owner writes, stats read.
    void** slots = nullptr;          // Capacity entries. Owner thread only.
  };

  Magazine* attach();
  // Makes this owner's magazine the calling thread's current one; false if
  // there is none (capacity 0).
  bool make_current();
  void publish_count();  // Stores the current magazine's count into it.
  static void write_back(void* tls);
  __attribute__((noinline)) void* alloc_slow();
  __attribute__((noinline)) void free_slow(void* p);
  void check_alloc(void* p);
  void check_free(void* p);

  uint64_t key_base_ = 0;             // id_ << 32. Immutable; read by every fast path.
  uint64_t capacity_ = 0;             // Magazine capacity. Immutable; read by every fast path.
  Slab* slab_ = nullptr;              // The shared store. Immutable pointer, not owned.
  uint64_t id_ = 0;                   // Registry id (below 2^32). Immutable.
  std::mutex mu_;                     // Guards magazines_ and spare_.
  std::vector<Magazine*> magazines_;  // Every magazine ever made (owned).
  std::vector<Magazine*> spare_;      // Magazines released by exited threads, empty.
};

}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_SLAB_SLAB_MAGAZINE_H_
