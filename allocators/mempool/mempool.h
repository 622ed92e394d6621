// Strategy-based MemoryPool (seed 004) and its two multi-threaded front ends.
//
// - MemoryPool: one of four strategies (BEST_FIT, FIXED_SIZE, POOL_BASED,
//   SEGREGATED) over 1 MB chunks, with scopes, reset() and statistics; every
//   call takes the pool's mutex.
// - FixedSizeAllocator<BlockSize>: blocks of one size carved from 64 KB chunks.
// - CustomAllocator<T>: an STL allocator over thread-local MemoryPools whose
//   strategy is picked from T's properties (see select_strategy()).
// - MempoolBaseline / MempoolSharded: segregated size-class lists under one
//   lock, and the same lists split into shards with a lock each.
//
// Every block carries a 16-byte MemoryBlock header just before its payload;
// payloads are 16-byte aligned, larger power-of-two alignments up to 64 KiB
// are honoured by over-allocating and leaving a redirect header before the
// aligned payload. See docs/coalesce_and_mempool.md.
#ifndef ALLOCBENCH_ALLOCATORS_MEMPOOL_MEMPOOL_H_
#define ALLOCBENCH_ALLOCATORS_MEMPOOL_MEMPOOL_H_

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "allocators/common/large_cache.h"
#include "allocators/common/platform.h"

namespace allocbench {

// The seed's strategy names (kept as written in the seed).
enum class AllocationStrategy {
  BEST_FIT,    // Variable-sized blocks, smallest fitting free block, coalescing.
  FIXED_SIZE,  // 32 B and 128 B FixedSizeAllocators; larger requests fall back to SEGREGATED.
  POOL_BASED,  // Power-of-two classes, each refilled with a batch of blocks at once.
  SEGREGATED,  // Fine size classes (16 B steps to 256 B, then 4 per doubling).
};

const char* strategy_name(AllocationStrategy s);

// Allocation counters. One per thread (this_thread()) and one per pool.
// Not thread-safe itself: each instance is written by one owner (its thread,
// or the pool under its mutex); merge() copies are the way to combine them.
struct AllocationStats {
  uint64_t allocations = 0;        // Successful allocate() calls.
  uint64_t deallocations = 0;      // deallocate() calls and blocks freed by end_scope().
  uint64_t bytes_allocated = 0;    // Sum of the capacities handed out.
  uint64_t bytes_deallocated = 0;  // Sum of the capacities given back.
  uint64_t peak_bytes = 0;         // Highest bytes_allocated - bytes_deallocated seen.
  uint64_t resets = 0;             // reset() calls.

  void record_allocation(size_t bytes);
  void record_deallocation(size_t bytes);
  uint64_t current_bytes() const { return bytes_allocated - bytes_deallocated; }
  // Adds `other`'s counters; the peak becomes the sum of both peaks (an upper
  // bound of the combined peak, exact when the peaks coincided).
  void merge(const AllocationStats& other);
  void print(std::ostream& out) const;

  // The calling thread's counters over all pools (thread-local).
  static AllocationStats& this_thread();
};

namespace detail {

// Which sub-allocator owns a block.
enum BlockKind : uint8_t {
  kKindFixed = 1,       // FixedSizeAllocator (standalone or inside a MemoryPool).
  kKindSegregated = 2,  // SizeClassLists in segregated mode.
  kKindPool = 3,        // SizeClassLists in power-of-two (pool) mode.
  kKindBestFit = 4,     // BestFitHeap.
  kKindLarge = 5,       // Dedicated mapping.
  kKindSentinel = 6,    // BestFitHeap chunk end marker (never handed out).
};

// MemoryBlock::flags bits.
constexpr uint8_t kBlockFree = 1;      // On a free list (best fit) .
constexpr uint8_t kBlockInScope = 2;   // Logged in the pool's scope log at scope_slot.
constexpr uint8_t kBlockRedirect = 4;  // Not a block: aligned payload, aux = offset back.

// The header before every payload (the seed's MemoryBlock). Written by the
// block's allocator under its lock, or by the block's holder.
struct MemoryBlock {
  uint32_t size;        // Payload capacity; best fit: block bytes incl. header.
  uint8_t kind;         // BlockKind.
  uint8_t flags;        // kBlockFree | kBlockInScope | kBlockRedirect.
  uint16_t shard;       // Owning shard (MempoolSharded), else 0.
  uint32_t scope_slot;  // Index in the pool's scope log while kBlockInScope.
  uint32_t aux;         // Size class; best fit: previous block's bytes; redirect: offset.

  void* data() { return this + 1; }
  static MemoryBlock* of(const void* payload) {
    return const_cast<MemoryBlock*>(static_cast<const MemoryBlock*>(payload) - 1);
  }
};
static_assert(sizeof(MemoryBlock) == 16, "MemoryBlock must keep payloads 16-aligned");

// Follows a redirect header to the block that holds an aligned payload.
inline void* resolve_payload(void* p) {
  MemoryBlock* h = MemoryBlock::of(p);
  return (h->flags & kBlockRedirect) ? static_cast<char*>(p) - h->aux : p;
}

// Places an aligned payload inside `p` (from an over-allocation of
// alignment - 16 extra bytes) and writes the redirect header.
void* align_payload(void* p, size_t alignment);

// Chunk header at the start of every 1 MB and 64 KB chunk.
struct ChunkHeader {
  void* owner;        // MemoryPool* owning the chunk (nullptr for front ends).
  ChunkHeader* next;  // Next chunk of the same sub-allocator.
  uint64_t pad[6];    // Keeps the first block 64-byte aligned.
};
static_assert(sizeof(ChunkHeader) == 64, "chunk header");

// Segregated size-class free lists over 1 MB chunks. Not thread-safe: the
// caller serialises all calls (MemoryPool, MempoolBaseline, a shard).
class SizeClassLists {
 public:
  enum class Mode {
    kSegregated,  // 56 classes: 16 B steps to 256 B, then 4 per doubling; one block per carve.
    kPow2,        // 15 power-of-two classes; a miss carves a batch of about 16 KB.
  };
  static constexpr size_t kMaxSize = size_t{256} << 10;  // Largest request served.
  static constexpr int kMaxClasses = 56;

  SizeClassLists(Mode mode, void* owner, uint16_t shard);
  ~SizeClassLists();
  SizeClassLists(const SizeClassLists&) = delete;
  SizeClassLists& operator=(const SizeClassLists&) = delete;

  // Returns a block of capacity >= size (size <= kMaxSize) or nullptr.
  // Cost on a hit: class computation (a clz) and a list pop.
  MemoryBlock* allocate(size_t size);
  void deallocate(MemoryBlock* h);
  // Unmaps every chunk; all blocks become invalid.
  void release_all();
  size_t bytes_mapped() const { return chunks_ * kChunkBytes; }

  int class_of(size_t size) const;
  size_t class_size(int c) const;

  static constexpr size_t kChunkBytes = size_t{1} << 20;

 private:
  bool add_chunk();
  void carve_leftover();

  const Mode mode_;                    // Immutable.
  const uint8_t kind_;                 // kKindSegregated or kKindPool; immutable.
  void* const owner_;                  // Stored in chunk headers; immutable.
  const uint16_t shard_;               // Stored in block headers; immutable.
  ChunkHeader* chunk_list_ = nullptr;  // All chunks.
  size_t chunks_ = 0;                  // Number of chunks.
  char* bump_ = nullptr;               // Next uncarved byte of the newest chunk.
  char* end_ = nullptr;                // End of the newest chunk.
  void* free_[kMaxClasses] = {};       // Free payloads per class, linked through their first word.
};

// The 1 MB-chunk best-fit heap of BEST_FIT: free blocks in size bins, the
// smallest fitting block is taken and split, frees coalesce with both
// physical neighbours. Not thread-safe (MemoryPool locks).
class BestFitHeap {
 public:
  static constexpr size_t kChunkBytes = size_t{1} << 20;
  static constexpr int kBins = 160;
  explicit BestFitHeap(void* owner);
  ~BestFitHeap();
  BestFitHeap(const BestFitHeap&) = delete;
  BestFitHeap& operator=(const BestFitHeap&) = delete;

  // Capacity >= size, size <= SizeClassLists::kMaxSize. nullptr when out of memory.
  MemoryBlock* allocate(size_t size);
  void deallocate(MemoryBlock* h);
  void release_all();
  size_t bytes_mapped() const { return chunks_ * kChunkBytes; }
  // Walks every chunk; "" when tags, links and coalescing are consistent.
  std::string check() const;

 private:
  bool add_chunk();
  void insert_free(MemoryBlock* h);
  void remove_free(MemoryBlock* h);

  void* const owner_;                        // Stored in chunk headers; immutable.
  ChunkHeader* chunk_list_ = nullptr;        // All chunks.
  size_t chunks_ = 0;                        // Number of chunks.
  uint64_t bitmap_[(kBins + 63) / 64] = {};  // Bit set iff the bin is non-empty.
  MemoryBlock* bins_[kBins] = {};            // Free blocks by size bin.
};

// Large requests: one mapping each, [LargeHeader][MemoryBlock][payload].
struct LargeHeader {
  void* owner;        // MemoryPool* (or nullptr for front ends).
  LargeHeader* prev;  // The owner's list of large blocks (for reset/scopes).
  LargeHeader* next;
  size_t map_bytes;  // Length of the mapping.
  uint64_t pad[2];   // Header + MemoryBlock = 64 bytes.
};
static_assert(sizeof(LargeHeader) == 48, "large header");
// Maps (or takes from `cache`) the mapping of a large block; free_large
// gives it back to `cache`, which keeps it for reuse or unmaps it.
MemoryBlock* allocate_large(size_t size, void* owner, uint16_t shard, LargeMappingCache* cache);
void free_large(MemoryBlock* h, LargeMappingCache* cache);
inline LargeHeader* large_header(MemoryBlock* h) { return reinterpret_cast<LargeHeader*>(h) - 1; }

}  // namespace detail

// Blocks of exactly BlockSize bytes from 64 KB chunks (64 KB aligned, so a
// block's chunk header, and through it its context, is found by masking).
// Thread-safe through allocate()/deallocate(); the *_unlocked variants leave
// locking to the caller (MemoryPool holds its own mutex).
template <size_t BlockSize>
class FixedSizeAllocator {
  static_assert(BlockSize >= 16 && BlockSize % 16 == 0, "BlockSize: a multiple of 16");

 public:
  static constexpr size_t kChunkBytes = size_t{64} << 10;
  static constexpr size_t kSlotBytes = BlockSize + sizeof(detail::MemoryBlock);

  explicit FixedSizeAllocator(void* context = nullptr) : context_(context) {}
  ~FixedSizeAllocator() { reset_unlocked(); }
  FixedSizeAllocator(const FixedSizeAllocator&) = delete;
  FixedSizeAllocator& operator=(const FixedSizeAllocator&) = delete;

  void* allocate() {
    std::lock_guard<std::mutex> lock(mu_);
    return allocate_unlocked();
  }
  void deallocate(void* p) {
    std::lock_guard<std::mutex> lock(mu_);
    deallocate_unlocked(p);
  }
  void reset() {
    std::lock_guard<std::mutex> lock(mu_);
    reset_unlocked();
  }

  // Cost: a list pop, or a bump of the chunk pointer; a new chunk every
  // kChunkBytes / kSlotBytes blocks.
  void* allocate_unlocked() {
    if (free_ != nullptr) {
      void* p = free_;
      free_ = *static_cast<void**>(p);
      detail::MemoryBlock::of(p)->flags = 0;
      return p;
    }
    if (bump_ == nullptr || static_cast<size_t>(end_ - bump_) < kSlotBytes) {
      if (!add_chunk()) return nullptr;
    }
    auto* h = reinterpret_cast<detail::MemoryBlock*>(bump_);
    bump_ += kSlotBytes;
    *h = detail::MemoryBlock{static_cast<uint32_t>(BlockSize), detail::kKindFixed, 0, 0, 0,
                             static_cast<uint32_t>(BlockSize)};
    return h->data();
  }
  void deallocate_unlocked(void* p) {
    *static_cast<void**>(p) = free_;
    free_ = p;
  }
  void reset_unlocked() {
    while (chunks_ != nullptr) {
      detail::ChunkHeader* c = chunks_;
      chunks_ = c->next;
      platform::unmap_pages(c, kChunkBytes);
    }
    chunk_count_ = 0;
    free_ = nullptr;
    bump_ = end_ = nullptr;
  }
  size_t chunk_count() const { return chunk_count_; }
  size_t bytes_mapped() const { return chunk_count_ * kChunkBytes; }

  // The context given to the allocator that made `p`'s chunk.
  static void* context_of(const void* p) {
    uintptr_t base = reinterpret_cast<uintptr_t>(detail::MemoryBlock::of(p)) & ~(kChunkBytes - 1);
    return reinterpret_cast<detail::ChunkHeader*>(base)->owner;
  }

 private:
  bool add_chunk() {
    void* mem = platform::map_aligned(kChunkBytes, kChunkBytes);
    if (mem == nullptr) return false;
    auto* c = static_cast<detail::ChunkHeader*>(mem);
    c->owner = context_;
    c->next = chunks_;
    chunks_ = c;
    chunk_count_++;
    bump_ = static_cast<char*>(mem) + sizeof(detail::ChunkHeader);
    end_ = static_cast<char*>(mem) + kChunkBytes;
    return true;
  }

  std::mutex mu_;                          // Guards the fields below in allocate()/deallocate().
  void* const context_;                    // Written into every chunk header; immutable.
  void* free_ = nullptr;                   // Free payloads, linked through their first word.
  detail::ChunkHeader* chunks_ = nullptr;  // All chunks.
  size_t chunk_count_ = 0;                 // Number of chunks.
  char* bump_ = nullptr;                   // Next uncarved slot of the newest chunk.
  char* end_ = nullptr;                    // End of the newest chunk.
};

// The seed's MemoryPool. Thread-safe: every public member takes the pool's
// mutex (the seed's "mutex protection"); blocks may be freed from any thread.
class MemoryPool {
 public:
  static constexpr size_t kChunkBytes = size_t{1} << 20;  // The seed's 1 MB chunks.
  static constexpr size_t kMinAlignment = 16;             // The seed's AVX2 alignment.
  static constexpr size_t kMaxAlignment = size_t{64} << 10;
  static constexpr size_t kLargeThreshold =
      detail::SizeClassLists::kMaxSize;  // Larger: own mapping.

  explicit MemoryPool(AllocationStrategy strategy = AllocationStrategy::SEGREGATED);
  ~MemoryPool();  // Releases every chunk; blocks still live become invalid.
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  // Returns at least `size` bytes (0 is treated as 1) aligned to
  // max(alignment, 16), or nullptr for an invalid alignment (not a power of
  // two or above kMaxAlignment) or when out of memory.
  void* allocate(size_t size, size_t alignment = kMinAlignment);
  // Frees a block of this pool; nullptr is ignored.
  void deallocate(void* p);
  // Frees a block of any MemoryPool (found from the block's chunk header).
  static void deallocate_any(void* p);
  // The pool that owns `p`.
  static MemoryPool* owner_of(const void* p);
  // Capacity of the block at `p`, measured from `p`.
  static size_t usable_size(const void* p);

  // Scopes: end_scope() frees every block allocated since the matching
  // begin_scope() that is still live. Scopes nest. end_scope() without an
  // open scope does nothing. Returns the number of blocks freed.
  void begin_scope();
  size_t end_scope();
  size_t scope_depth() const;

  // Frees every block of the pool and unmaps its memory; scopes are closed.
  void reset();

  AllocationStrategy strategy() const { return strategy_; }
  AllocationStats stats() const;  // This pool's counters.
  size_t bytes_mapped() const;    // Chunks and large mappings held (cached ones included).
  size_t large_cached_bytes() const { return large_cache_.cached_bytes(); }  // Freed, kept.
  size_t live_blocks() const;
  uint64_t fallback_allocations() const;  // FIXED_SIZE requests above 128 B.
  // BEST_FIT only: heap walk of the best-fit chunks ("" when consistent).
  std::string check() const;

  // Used by CustomAllocator's thread-local pools: when the owning thread
  // exits, the pool is deleted at once if it holds no live block, else when
  // its last block is freed.
  void release_from_thread();

 private:
  detail::MemoryBlock* allocate_locked(size_t size);
  void free_locked(detail::MemoryBlock* h);
  size_t capacity(const detail::MemoryBlock* h) const;

  const AllocationStrategy strategy_;      // Immutable.
  mutable std::mutex mu_;                  // Guards everything below.
  FixedSizeAllocator<32> fixed32_;         // FIXED_SIZE small blocks.
  FixedSizeAllocator<128> fixed128_;       // FIXED_SIZE medium blocks.
  detail::SizeClassLists segregated_;      // SEGREGATED, and FIXED_SIZE fallback.
  detail::SizeClassLists pooled_;          // POOL_BASED.
  detail::BestFitHeap best_fit_;           // BEST_FIT.
  detail::LargeHeader* large_ = nullptr;   // Live large blocks.
  size_t large_bytes_ = 0;                 // Bytes of live large mappings.
  detail::LargeMappingCache large_cache_;  // Freed large mappings (own lock; under mu_ here).
  std::vector<void*> scope_log_;           // Payloads allocated inside open scopes.
  std::vector<size_t> scope_marks_;        // scope_log_ size at each begin_scope().
  size_t live_blocks_ = 0;                 // Blocks handed out and not freed.
  uint64_t fallbacks_ = 0;                 // FIXED_SIZE requests served by segregated_.
  bool orphaned_ = false;                  // Owner thread gone (release_from_thread).
  AllocationStats stats_;                  // Pool-wide counters.
};

// The thread-local pool of a strategy used by CustomAllocator (created on
// first use; see MemoryPool::release_from_thread for its end).
MemoryPool& thread_local_pool(AllocationStrategy strategy);

// CustomAllocator's rule: element buffers of small trivially copyable types
// (vector<int>, string characters, bucket arrays) have many different sizes:
// SEGREGATED. Other objects up to 128 B are typically single nodes of a
// list/map/unordered_map, all of one size: FIXED_SIZE. Objects up to 4 KiB:
// POOL_BASED. Anything larger: BEST_FIT.
template <typename T>
constexpr AllocationStrategy select_strategy() {
  if (std::is_trivially_copyable<T>::value && sizeof(T) <= 16)
    return AllocationStrategy::SEGREGATED;
  if (sizeof(T) <= 128) return AllocationStrategy::FIXED_SIZE;
  if (sizeof(T) <= 4096) return AllocationStrategy::POOL_BASED;
  return AllocationStrategy::BEST_FIT;
}

// STL-compatible allocator over the calling thread's MemoryPool for
// select_strategy<T>(). Stateless: all instances compare equal, because any
// block can be freed through any instance from any thread (deallocate finds
// the owning pool from the block). Thread-safe.
template <typename T>
class CustomAllocator {
 public:
  using value_type = T;
  using propagate_on_container_move_assignment = std::true_type;
  using is_always_equal = std::true_type;
  static constexpr AllocationStrategy kStrategy = select_strategy<T>();

  CustomAllocator() noexcept = default;
  template <typename U>
  CustomAllocator(const CustomAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    if (n > std::numeric_limits<size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    size_t align = alignof(T) < MemoryPool::kMinAlignment ? MemoryPool::kMinAlignment : alignof(T);
    void* p = thread_local_pool(kStrategy).allocate(n * sizeof(T), align);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { MemoryPool::deallocate_any(p); }

  template <typename U>
  struct rebind {
    using other = CustomAllocator<U>;
  };
};

template <typename T, typename U>
bool operator==(const CustomAllocator<T>&, const CustomAllocator<U>&) noexcept {
  return true;
}
template <typename T, typename U>
bool operator!=(const CustomAllocator<T>&, const CustomAllocator<U>&) noexcept {
  return false;
}

// The seed benchmark's `mempool_baseline`: segregated size-class lists under
// one mutex. Thread-safe; any thread may free any block.
class MempoolBaseline {
 public:
  MempoolBaseline();
  ~MempoolBaseline();
  // As MemoryPool::allocate. Cost: one lock, a class lookup and a list pop.
  void* allocate(size_t size, size_t alignment = 16);
  void deallocate(void* p);
  size_t bytes_mapped() const;  // Chunks plus cached large mappings (live large ones not counted).
  // Unmaps every cached large mapping; returns the bytes unmapped.
  size_t trim();
  size_t large_cached_bytes() const { return large_cache_.cached_bytes(); }  // Freed, kept.

 private:
  mutable std::mutex mu_;                  // Guards lists_.
  detail::SizeClassLists lists_;           // All blocks up to 256 KiB.
  detail::LargeMappingCache large_cache_;  // Freed large mappings (own lock).
};

// The seed benchmark's `mempool_sharded`: the same lists split into shards,
// each with its own mutex on its own cache lines. A thread allocates from its
// home shard (assigned round-robin on first use); a block records its shard
// in its header, so a free from any thread goes straight to that shard's
// lock. No global lock or shared counter on either path. Thread-safe.
class MempoolSharded {
 public:
  // shards == 0: 2 * cpu_count rounded up to a power of two, 4..64.
  explicit MempoolSharded(size_t shards = 0);
  ~MempoolSharded();
  // Cost: a thread-local load, one (usually uncontended) lock, a class lookup
  // and a list pop.
  void* allocate(size_t size, size_t alignment = 16);
  void deallocate(void* p);
  size_t shard_count() const { return count_; }
  size_t bytes_mapped() const;  // Chunks plus cached large mappings (live large ones not counted).
  // Unmaps every cached large mapping; returns the bytes unmapped.
  size_t trim();
  size_t large_cached_bytes() const { return large_cache_.cached_bytes(); }  // Freed, kept.
  // The shard that owns `p` (for tests).
  static size_t shard_of(const void* p);

 private:
  struct alignas(64) Shard {
    explicit Shard(uint16_t index)
        : lists(detail::SizeClassLists::Mode::kSegregated, nullptr, index) {}
    std::mutex mu;                 // Guards lists.
    detail::SizeClassLists lists;  // This shard's blocks.
  };
  size_t home_shard() const;

  size_t count_;                                // Number of shards; immutable.
  std::vector<std::unique_ptr<Shard>> shards_;  // Each on its own cache lines; immutable vector.
  detail::LargeMappingCache large_cache_;       // Freed large mappings of all shards (own lock).
};

}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_MEMPOOL_MEMPOOL_H_
