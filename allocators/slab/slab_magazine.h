// SlabMagazines: the per-thread magazine layer over a Slab, the fast path of
// Pool and of the `slab` and `pool` adapters.
//
// Every thread that uses a SlabMagazines gets a magazine of `capacity` block
// pointers in two halves (arrays of capacity/2): the loaded half, which alloc
// pops and free pushes with no atomic read-modify-write and no call, and the
// other half, which is always either full or empty (Bonwick's loaded and
// previous magazines). Each magazine also has its own depot: a bounded stack
// of full halves, under a lock of its own that only its owner takes in steady
// state.
//  - loaded half empty (alloc): swap in the other half if it is full (no
//    shared access); else take a full half from the magazine's own depot in
//    O(1), leaving the empty array there (one uncontended lock on the
//    thread's own line, the arrays swap, no block is touched); else steal a
//    full half from another magazine's depot (the registry lock, then that
//    depot's lock); only when every depot is empty, fill the half from the
//    slab's lock-free stack in one CAS (Slab::alloc_batch, which walks the
//    stack).
//  - loaded half full (free): swap in the other half if it is empty; else
//    move the full half into the own depot in O(1) and go on with an empty
//    array; only when that depot holds its bound of halves, give the half's
//    blocks back to the slab in one CAS (Slab::free_batch).
// So a thread that frees and reallocates its own blocks in batches gets its
// own halves back (its blocks and arrays stay in its core's cache) and
// touches no line another thread writes; halves move between threads only by
// stealing, when a thread has none of its own. (A single shared depot, the
// earlier design, handed each thread the other's latest halves and bounced
// its lock's line between the cores once per half: slab scaled 1.12x at 2
// threads on fixed_size:64.) A block freed by another thread simply enters
// that thread's magazine (all blocks belong to the one slab).
//
// The fast path. The calling thread's current magazine is cached in one
// thread-local record, t_magazine, whose `key` packs the owner's id (high 32
// bits) and the loaded half's block count (low 32 bits). One unsigned compare
// then checks both "this owner's magazine" and "not empty" (alloc) or "not
// full" (free): in the release build (-O2, x86-64) alloc and free are 9
// instructions each with a single test, no atomic and no call
// (docs/pool_family.md, "Fast paths", gives the objdump listing and how to
// repeat the count). A thread that uses a second SlabMagazines writes the
// count back into its first magazine (under the registry lock, so an owner
// destroyed meanwhile is skipped) and loads the second's, on the slow path.
//
// Misuse detection (the slab's own slab_free always checks; this layer
// trades per-call checks for speed):
//  - debug build (ALLOCBENCH_SLAB_CHECKS, on in CMAKE_BUILD_TYPE=Debug, hence
//    in the sanitizer builds): every free checks that the pointer is a block
//    start of this slab and that the block is handed out (state tag), and
//    aborts with "slab: invalid free" or "slab: double free" otherwise.
//  - release build: nothing on the fast path and nothing on a swap of the two
//    halves. A spill into the depot no longer walks blocks, so the check sits
//    at the depot's door, in one of two modes:
//    - default: every pointer of a half entering the depot must be a block
//      start (Slab::check_block_starts: arithmetic on the pointer, no memory
//      read), else "slab: invalid free"; the state tags are checked only for
//      blocks going to the slab (Slab::free_batch: depot overflow, a partial
//      half at thread exit, flush_depot, destruction), so a double free aborts
//      ("slab: double free") when both copies reach the slab.
//    - check_depot: each block entering the depot is also tagged, a free or
//      already tagged one aborting as a double free (Slab::depot_check_in: a
//      sequential scan of the array, one metadata load and store per block,
//      independent loads rather than a walk), and the tags are checked again
//      when the half leaves the depot. So a double free also aborts when the
//      second copy's half enters the depot while the first copy is there.
//      It costs about 2.4 ns per operation averaged over fixed_size:64 at 1
//      thread, which is why it is not the default (docs/pool_family.md).
//    In either mode a double free whose copies are handed out again before
//    their half leaves the thread is not seen.
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

// Thread-safe. Each magazine's halves are touched only by its thread (and by
// the registry's exit hook on that thread); each magazine's depot is guarded
// by its own lock; the slab underneath is lock-free. Does not own the slab. 64-aligned, so the
// two fields every fast path reads share no cache line with anything another
// thread writes.
class alignas(64) SlabMagazines final : public detail::ThreadStateOwner {
 public:
  static constexpr uint32_t kDefaultDepotHalves = 256;

  struct Options {
    uint32_t capacity = 256;                      // Blocks per thread, two halves. At most 2^20.
    uint32_t depot_halves = kDefaultDepotHalves;  // Bound of each thread's depot; 0: none.
    bool check_depot = false;  // Tag and check each block entering the depot (see above).
  };

  // capacity 0: no magazines, every call goes to the slab. A capacity of 1
  // is rounded up to 2 (two halves of one block).
  SlabMagazines(Slab* slab, uint32_t capacity);
  SlabMagazines(Slab* slab, const Options& options);
  // Gives the depot's halves back to the slab (the slab must still exist).
  ~SlabMagazines();
  SlabMagazines(const SlabMagazines&) = delete;
  SlabMagazines& operator=(const SlabMagazines&) = delete;

  // Fast path: one TLS load, subtract, compare, TLS store, slot load.
  void* alloc() {
    detail::MagazineTls& t = detail::t_magazine;
    uint64_t n = t.key - key_base_ - 1;  // Blocks - 1, or huge if not ours or empty.
    if (__builtin_expect(n < half_, 1)) {
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
    if (__builtin_expect(n < half_, 1)) {
      t.slots[n] = p;
      t.key += 1;
      return;
    }
    free_slow(p);
  }

  // Gives the calling thread's magazine back now (as thread exit does): full
  // halves to its depot (within its bound), the rest to the slab. The
  // magazine and its depot wait for the next thread; others can steal.
  void thread_flush() { detail::thread_state_release_current(id_); }
  // Gives every half in every magazine's depot back to the slab.
  void flush_depot();
  // Blocks held by this layer (magazines and depots): exact for the calling
  // thread and the depots, as of their last refill, spill or switch for other
  // live threads.
  size_t cached_blocks();
  size_t depot_halves();  // Full halves in all depots now.
  uint32_t capacity() const { return static_cast<uint32_t>(2 * half_); }
  uint32_t half() const { return static_cast<uint32_t>(half_); }

  void release_thread_state(void* state) override;

 private:
  // One magazine's stack of full halves. Its own lines: the owner writes it
  // once per half at most, a stealer rarely.
  struct alignas(64) Depot {
    std::mutex mu;                    // Guards full and empty.
    std::atomic<uint32_t> halves{0};  // full.size(), written under mu, read as a hint.
    std::vector<void**> full;         // Full halves (half_ blocks each), last in first out.
    std::vector<void**> empty;        // Arrays of half_ entries to reuse.
  };
  struct alignas(64) Magazine {            // One line each: no two threads' magazines share one.
    std::atomic<uint32_t> count{0};        // Blocks in slots when not current; owner writes.
    std::atomic<uint32_t> other_count{0};  // Blocks in other: 0 or half_; owner writes.
    void** slots = nullptr;                // The loaded half (half_ entries). Owner thread only.
    void** other = nullptr;                // The other half, full or empty. Owner thread only.
    Depot depot;                           // Its full halves: owner puts and takes, others steal.
  };

  Magazine* attach();
  // Makes this owner's magazine the calling thread's current one; false if
  // there is none (capacity 0).
  bool make_current();
  void publish_count();  // Stores the current magazine's count into it.
  static void write_back(void* tls);
  __attribute__((noinline)) void* alloc_slow();
  __attribute__((noinline)) void free_slow(void* p);
  uint32_t reload(Magazine* m);  // Loaded half empty: returns the blocks it now holds.
  void unload(Magazine* m);      // Loaded half full: afterwards it is empty.
  // Gives a full half away (m's depot, or the slab at the bound); returns an
  // empty array.
  void** retire(Magazine* m, void** half);
  // A full half from d for `empty`, or nullptr.
  static void** depot_take(Depot& d, void** empty);
  bool depot_put(Depot& d, void** full, void*** empty_out);  // False at the bound.
  void** steal(Magazine* self, void** empty);  // depot_take from another magazine's depot.
  void check_alloc(void* p);
  void check_free(void* p);

  uint64_t key_base_ = 0;     // id_ << 32. Immutable; read by every fast path.
  uint64_t half_ = 0;         // Blocks per half. Immutable; read by every fast path.
  Slab* slab_ = nullptr;      // The shared store. Immutable pointer, not owned.
  uint64_t id_ = 0;           // Registry id (below 2^32). Immutable.
  uint32_t depot_max_ = 0;    // Bound on each depot's halves. Immutable.
  bool check_depot_ = false;  // Tag blocks entering/leaving a depot. Immutable.
  // A steal writes mu_: on a line of its own, not the fast path's.
  alignas(64) std::mutex mu_;         // Guards magazines_ and spare_; taken before a depot's mu.
  std::vector<Magazine*> magazines_;  // Every magazine ever made (owned).
  std::vector<Magazine*> spare_;      // Magazines released by exited threads, halves empty.
};

}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_SLAB_SLAB_MAGAZINE_H_
