// slab: fixed-size blocks from contiguous regions, lock-free O(1) alloc/free.
//
// Blocks are handed out from a Treiber stack of block indices. ABA scheme: the
// stack head is one 64-bit word, (32-bit tag << 32) | 32-bit block index, and
// every successful CAS increments the tag. A pop that read head (A, t) and
// then lost the race to pops/pushes that put A back on top sees (A, t+k) and
// fails its CAS. Indices rather than pointers keep the pair within a plain
// 64-bit CAS (no cmpxchg16b, which needs -mcx16 and is not lock-free through
// libatomic everywhere). The 32-bit tag wraps only after 2^32 operations while
// one thread is between its load and its CAS. The links (`next`) and the
// per-block state tags live in a separate metadata array that is never freed
// before the slab (type-stable), so reading a stale link is harmless and never
// races with the user's writes to a block.
//
// Never-used blocks are carved lazily by an atomic cursor, so only blocks the
// program has used are resident. Growth (off by default) maps further regions
// when the first is used up; each growth region doubles the index range.
#ifndef ALLOCBENCH_ALLOCATORS_SLAB_SLAB_H_
#define ALLOCBENCH_ALLOCATORS_SLAB_SLAB_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slab_allocator slab_allocator_t;

/* Return codes of slab_free and slab_stats. */
#define SLAB_OK 0
#define SLAB_ERR_DOUBLE_FREE 1 /* The block is already free. */
#define SLAB_ERR_NOT_A_BLOCK                                                                     \
  2                            /* Not the start of a block this slab handed out (includes NULL). \
                                */
#define SLAB_ERR_INVALID_ARG 3 /* NULL slab or NULL output pointer. */

/* Flags of slab_options_t. */
#define SLAB_FLAG_GROW 1u        /* Map further regions instead of failing when full. */
#define SLAB_FLAG_CACHE_ALIGN 2u /* Round every block up to a 64-byte cache line. */

typedef struct slab_options {
  size_t block_size; /* Bytes per block, > 0. Rounded up to 16 (or 64 with CACHE_ALIGN). */
  size_t num_blocks; /* Blocks in the first region, 1 .. 2^30. */
  unsigned flags;    /* SLAB_FLAG_* */
} slab_options_t;

/* A slab of num_blocks blocks of block_size bytes, no growth, 16-byte aligned
   blocks. NULL on bad arguments or when the OS refuses the memory. */
slab_allocator_t* slab_create(size_t block_size, size_t num_blocks);
slab_allocator_t* slab_create_ex(const slab_options_t* options);

/* A free block, or NULL when the slab is full (and cannot grow). Thread-safe,
   lock-free; cost: one atomic load, one metadata load, one CAS, one store. */
void* slab_alloc(slab_allocator_t* slab);

/* Frees a block. Returns SLAB_OK, SLAB_ERR_DOUBLE_FREE or SLAB_ERR_NOT_A_BLOCK;
   on an error nothing changes. Thread-safe, lock-free; cost: a range check,
   one CAS on the block's state tag and one CAS on the stack head. */
int slab_free(slab_allocator_t* slab, void* ptr);

/* Unmaps everything. Blocks still allocated become invalid. */
void slab_destroy(slab_allocator_t* slab);

/* Blocks handed out and not freed (used) and blocks available without growth
   (free = capacity - used). O(blocks carved so far): it counts state tags. A
   snapshot when other threads are allocating. Returns SLAB_OK or
   SLAB_ERR_INVALID_ARG. */
int slab_stats(slab_allocator_t* slab, size_t* used_blocks, size_t* free_blocks);

/* The usable bytes of every block (block_size rounded up). */
size_t slab_block_size(const slab_allocator_t* slab);

#ifdef __cplusplus
}  // extern "C"

#include <atomic>
#include <cstdint>
#include <mutex>

namespace allocbench {

// The slab as a C++ object (a slab_allocator_t* is a Slab*). Thread-safe and
// lock-free except growth, which maps a region under a mutex.
class Slab {
 public:
  static constexpr uint32_t kNil = 0xFFFFFFFFu;
  static constexpr unsigned kMaxRegions = 24;

  struct Options {
    size_t block_size = 64;
    size_t num_blocks = 1024;
    bool grow = false;
    bool cache_align = false;
  };

  // nullptr on bad options or OS failure.
  static Slab* create(const Options& options);
  static void destroy(Slab* slab);

  // Fast path (inline): pop the stack; carving and growth are out of line.
  void* alloc() {
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
    return alloc_slow();
  }

  // Returns SLAB_OK, SLAB_ERR_DOUBLE_FREE or SLAB_ERR_NOT_A_BLOCK.
  int free(void* p) {
    uint32_t i = index_of(p);
    if (i == kNil) return SLAB_ERR_NOT_A_BLOCK;
    uint32_t expected = kStateAllocated;
    if (!meta(i).state.compare_exchange_strong(expected, kStateFree, std::memory_order_relaxed)) {
      return expected == kStateFree ? SLAB_ERR_DOUBLE_FREE : SLAB_ERR_NOT_A_BLOCK;
    }
    push_chain(i, i);
    return SLAB_OK;
  }

  // Takes up to `n` blocks with one CAS on the stack (plus carving if the
  // stack runs dry); returns how many were written to `out`. `to_cache`:
  // the blocks go to a magazine (state "cached", see mark_handed_out) rather
  // than to the caller's user.
  unsigned alloc_batch(void** out, unsigned n, bool to_cache = false);
  // Returns `n` blocks with one CAS, e.g. blocks held in a magazine. Each is
  // checked (index_of and its state tag, one load each, while linking it):
  // a pointer that is not a block start, or a block already free, is misuse
  // and aborts the process ("slab: invalid free" / "slab: double free").
  void free_batch(void* const* blocks, unsigned n);

  // The magazine layer's depot (slab_magazine.h) in the release build's
  // checked mode. depot_check_in: `n` blocks of one half enter the depot; each
  // must be a block start that is neither free nor already in the depot (one
  // metadata load and store per block, a sequential scan of the array:
  // independent loads, no pointer chasing), else the process aborts ("slab:
  // invalid free" / "slab: double free"). depot_check_out: they leave it for a
  // magazine; a block no longer tagged "in the depot" was freed twice (abort).
  void depot_check_in(void* const* blocks, unsigned n);
  void depot_check_out(void* const* blocks, unsigned n);
  // The cheap check (the release default): every pointer is a block start
  // (index_of: arithmetic on the pointer, no memory read), else abort
  // ("slab: invalid free").
  void check_block_starts(void* const* blocks, unsigned n) const;

  // Debug checks of a magazine layer (slab_magazine.h). mark_cached: a block
  // handed out enters a magazine; mark_handed_out: a block leaves one. Each
  // returns SLAB_OK, or SLAB_ERR_NOT_A_BLOCK / SLAB_ERR_DOUBLE_FREE changing
  // nothing when `p` is not a block start or not in the expected state.
  int mark_cached(const void* p);
  int mark_handed_out(const void* p);
  // Reports misuse of block `p` on stderr and aborts.
  [[noreturn]] static void misuse(const char* what, const void* p);

  // The index of the block starting at `p`, or kNil if `p` is not the start of
  // a block of this slab. Never dereferences `p`.
  uint32_t index_of(const void* p) const {
    uintptr_t off = reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(region_[0].base);
    if (off < region_[0].bytes) {
      if (stride_shift_ >= 0) {
        if ((off & (stride_ - 1)) != 0) return kNil;
        return static_cast<uint32_t>(off >> stride_shift_);
      }
      if (off % stride_ != 0) return kNil;
      return static_cast<uint32_t>(off / stride_);
    }
    return index_of_slow(p);
  }
  // True if `p` lies in the first region (one subtraction and compare).
  bool in_first_region(const void* p) const {
    return reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(region_[0].base) <
           region_[0].bytes;
  }

  size_t block_size() const { return stride_; }
  size_t block_alignment() const { return align_; }
  size_t capacity_blocks() const;  // Blocks in all mapped regions.
  size_t used_blocks() const;      // Out of the stack (handed out, magazines, depot). O(carved).
  size_t mapped_bytes() const;     // Bytes of regions and metadata.
  uint64_t regions_grown() const { return region_count_.load(std::memory_order_relaxed) - 1; }

  // Backend interface for pmr_support.h: serves requests that fit one block.
  void* allocate(size_t bytes, size_t alignment) {
    return bytes <= stride_ && alignment <= align_ ? alloc() : nullptr;
  }
  void deallocate(void* p, size_t, size_t) { free(p); }

 private:
  struct Meta {
    std::atomic<uint32_t> next;   // Index below this one on the free stack; written by the pusher.
    std::atomic<uint32_t> state;  // kState*; CAS by free, store by alloc.
  };
  struct Region {
    char* base = nullptr;      // First block; written once before publication.
    Meta* meta = nullptr;      // One Meta per block.
    size_t bytes = 0;          // blocks * stride_ (0 for unpublished regions).
    uint32_t first_index = 0;  // Index of its first block.
    uint32_t blocks = 0;       // Blocks in the region.
  };
  static constexpr uint32_t kStateNever = 0;  // Zeroed metadata: never handed out.
  static constexpr uint32_t kStateFree = 0xF4EEB10Cu;
  static constexpr uint32_t kStateAllocated = 0xA110CA7Eu;
  static constexpr uint32_t kStateCached = 0xCAC4EB10u;  // In a magazine (or handed out from
                                                         // one in the release build).
  static constexpr uint32_t kStateDepot = 0xDE9070B1u;   // In a depot half (checked mode).

  Slab() = default;
  ~Slab();

  static uint32_t head_index(uint64_t h) { return static_cast<uint32_t>(h); }
  static uint32_t head_tag(uint64_t h) { return static_cast<uint32_t>(h >> 32); }
  static uint64_t pack(uint32_t index, uint32_t tag) {
    return (static_cast<uint64_t>(tag) << 32) | index;
  }
  // Region of index i: region 0 holds [0, 2^r0_bits_), region r >= 1 holds
  // [2^(r0_bits_+r-1), 2^(r0_bits_+r)).
  unsigned region_of(uint32_t i) const {
    if ((i >> r0_bits_) == 0) return 0;
    return 63u - static_cast<unsigned>(__builtin_clzll(i)) - r0_bits_ + 1;
  }
  Meta& meta(uint32_t i) const {
    const Region& r = region_[region_of(i)];
    return r.meta[i - r.first_index];
  }
  char* block(uint32_t i) const {
    const Region& r = region_[region_of(i)];
    return r.base + static_cast<size_t>(i - r.first_index) * stride_;
  }

  // Links first..last (already chained through meta.next by the caller) on top.
  void push_chain(uint32_t first, uint32_t last) {
    uint64_t h = head_.load(std::memory_order_relaxed);
    do {
      meta(last).next.store(head_index(h), std::memory_order_relaxed);
    } while (!head_.compare_exchange_weak(h, pack(first, head_tag(h) + 1),
                                          std::memory_order_release, std::memory_order_relaxed));
  }

  __attribute__((noinline)) void* alloc_slow();
  uint32_t carve();  // One never-used block index (growing if allowed), or kNil.
  bool grow(unsigned seen_regions);
  uint32_t index_of_slow(const void* p) const;
  bool map_region(unsigned r, uint32_t first_index, uint32_t blocks);

  alignas(64) std::atomic<uint64_t> head_{kNil};  // Free stack top: tag << 32 | index. Any thread.
  alignas(64) std::atomic<uint64_t> carve_{0};  // region << 32 | next uncarved offset. Any thread.
  alignas(64) std::atomic<uint32_t> region_count_{1};  // Published regions; grown under grow_mu_.
  size_t stride_ = 0;      // Bytes per block (block_size rounded up). Immutable.
  int stride_shift_ = -1;  // log2(stride_) if a power of two, else -1. Immutable.
  size_t align_ = 16;      // Alignment every block honours. Immutable.
  unsigned r0_bits_ = 0;   // Region 0 covers indices below 2^r0_bits_. Immutable.
  bool grow_enabled_ = false;
  size_t max_region_blocks_ = 0;  // Cap on a growth region's blocks. Immutable.
  Region region_[kMaxRegions];    // Entry r immutable once r < region_count_.
  std::mutex grow_mu_;            // Serialises growth.
};

}  // namespace allocbench

#endif  // __cplusplus

#endif  // ALLOCBENCH_ALLOCATORS_SLAB_SLAB_H_
