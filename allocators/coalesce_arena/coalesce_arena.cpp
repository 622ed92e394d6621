#include "allocators/coalesce_arena/coalesce_arena.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "allocators/common/platform.h"

namespace allocbench {
namespace detail {
namespace {

constexpr size_t kGranule = 16;      // Block sizes and payloads are multiples of this.
constexpr size_t kHeaderBytes = 16;  // BlockHeader, just before every payload.
constexpr size_t kFooterBytes = 8;   // Copy of size_flags in a block's last 8 bytes.
constexpr size_t kMinBlock = 48;     // Header + two free-list links + footer, rounded.
constexpr size_t kTagOverhead = kHeaderBytes + kFooterBytes;

// Flags in the low bits of BlockHeader::size_flags (sizes are multiples of 16).
constexpr uint64_t kUsed = 1;      // Block is handed out (or sits in a small-block cache).
constexpr uint64_t kSmall = 2;     // Small-cache block: info holds bin and requested size.
constexpr uint64_t kDirect = 4;    // Direct mapping; size is the mapping length.
constexpr uint64_t kRedirect = 8;  // Not a block: an aligned payload; size is the offset back.
constexpr uint64_t kFlagMask = 15;
constexpr uint32_t kMagic = 0xC0A1E5CEu;

constexpr int kSmallBins = 4;
constexpr size_t kSmallSizes[kSmallBins] = {32, 64, 128, 256};
constexpr uint32_t kCacheCap = 64;     // Blocks per small bin before half is flushed.
constexpr uint32_t kRefillBatch = 16;  // Blocks carved per refill (one lock).
// An arena with at most this many live blocks may be held only by a cache.
constexpr size_t kMaxCachedBlocks = kSmallBins * kCacheCap;

constexpr int kNumBins = 128;  // Free-list bins (block sizes), see bin_index().
// Free blocks of at least 8 KiB (this bin and above) get their inner pages
// decommitted when their arena is idle (purge_free_pages).
constexpr int kPurgeFirstBin = 76;

constexpr size_t round_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

constexpr size_t small_block_bytes(int bin) {
  return round_up(kSmallSizes[bin] + kTagOverhead, kGranule);
}

// Bin of a request size <= 256 (0..3).
inline int small_bin(size_t size) { return size <= 32 ? 0 : size <= 64 ? 1 : size <= 128 ? 2 : 3; }

// Free-list bin of a block size: exact 16-byte classes up to 1 KiB (bins
// 2..63), then four bins per power of two (bins 64..115 for sizes below 8 MiB).
inline int bin_index(size_t bytes) {
  if (bytes <= 1024) return static_cast<int>(bytes / kGranule) - 1;
  int lg = 63 - __builtin_clzll(bytes);
  int sub = static_cast<int>((bytes >> (lg - 2)) & 3);
  return 64 + (lg - 10) * 4 + sub;
}

}  // namespace

// The tag before every payload. Written by whoever holds the block or, for
// free blocks, under the arena lock.
struct BlockHeader {
  uint64_t size_flags;  // Block bytes | flags (kUsed, kSmall, kDirect, kRedirect).
  uint32_t info;        // Small blocks: bin | requested size << 8. Else 0.
  uint32_t magic;       // kMagic; checked by the heap walk.
};
static_assert(sizeof(BlockHeader) == kHeaderBytes, "header size");

// Links of a free arena block, stored in its payload.
struct FreeLinks {
  BlockHeader* next;  // Next free block in the same bin.
  BlockHeader* prev;  // Previous one, nullptr at the head.
};

// An arena's control block, at the start of its 4 MiB mapping; blocks follow
// it. Thread-safe: everything below `owner` is guarded by `mu`; `owner` is
// written under list_mu_ and read without a lock.
struct alignas(64) CoalesceArena {
  std::mutex mu;                                // Guards the free lists and counters.
  std::atomic<CoalesceThread*> owner{nullptr};  // Owning thread; nullptr when orphaned.
  CoalesceArena* list_next = nullptr;           // Heap's arena list; list_mu_.
  CoalesceArena* chain_next = nullptr;          // Owner's chain; list_mu_.
  size_t live_blocks = 0;                       // Used blocks incl. cached ones; mu.
  size_t used_bytes = 0;                        // Bytes of used blocks; mu.
  size_t free_bytes = 0;                        // Bytes of free blocks; mu.
  bool dirty = true;                            // Allocated from since the last decommit; mu.
  bool touched = false;                         // Allocated from or freed into since the last
                                                // reclaim pass; mu.
  bool allocated = false;                       // Allocated from since the last reclaim pass; mu.
  bool purge_pending = false;                   // Freed into since the last purge; mu.
  uint8_t idle_passes = 0;                      // Passes in a row that found it untouched
                                                // (saturates); reclaimer, mu.
  uint8_t purge_wait = 1;                       // Idle passes case 5 waits for, 1..kMaxPurgeWait;
                                                // reclaimer, mu.
  uint8_t purge_watch = 0;                      // Passes left in which an allocation makes the
                                                // last purge a refault (0: none); reclaimer, mu.
  uint8_t busy_passes = 0;                      // Passes that found it touched since purge_wait
                                                // last changed; reclaimer, mu.
  uint64_t bitmap[kNumBins / 64] = {};          // Bit i set iff bins[i] is non-empty; mu.
  BlockHeader* bins[kNumBins] = {};             // Free-list heads by bin_index(); mu.
};

namespace {

// First block of an arena; the 8 bytes before it are the prologue footer.
constexpr size_t kFirstBlock = round_up(sizeof(CoalesceArena) + kFooterBytes, 64);
// The epilogue header (size 0, used) occupies the arena's last 16 bytes.
constexpr size_t kEpilogue = CoalesceHeap::kArenaBytes - kHeaderBytes;
constexpr size_t kArenaPayloadMax = kEpilogue - kFirstBlock;

inline char* as_bytes(void* p) { return static_cast<char*>(p); }
inline BlockHeader* header_of(const void* payload) {
  return reinterpret_cast<BlockHeader*>(const_cast<char*>(static_cast<const char*>(payload)) -
                                        kHeaderBytes);
}
inline void* payload_of(BlockHeader* h) { return as_bytes(h) + kHeaderBytes; }
inline size_t block_size(const BlockHeader* h) { return h->size_flags & ~kFlagMask; }
inline uint64_t* footer_of(BlockHeader* h, size_t size) {
  return reinterpret_cast<uint64_t*>(as_bytes(h) + size - kFooterBytes);
}
inline FreeLinks* links_of(BlockHeader* h) {
  return reinterpret_cast<FreeLinks*>(as_bytes(h) + kHeaderBytes);
}
inline CoalesceArena* arena_of_header(const BlockHeader* h) {
  return reinterpret_cast<CoalesceArena*>(reinterpret_cast<uintptr_t>(h) &
                                          ~(uintptr_t{CoalesceHeap::kArenaBytes} - 1));
}

// Resolves an aligned payload to the header of the block that holds it.
inline BlockHeader* resolve(const void* p, size_t* offset) {
  BlockHeader* h = header_of(p);
  *offset = 0;
  if (h->size_flags & kRedirect) {
    *offset = block_size(h);
    h = header_of(static_cast<const char*>(p) - *offset);
  }
  return h;
}

// --- arena free lists; all under arena->mu ---

void write_tags(BlockHeader* h, size_t size, uint64_t flags) {
  h->size_flags = size | flags;
  h->info = 0;
  h->magic = kMagic;
  *footer_of(h, size) = size | (flags & kUsed);
}

void insert_free(CoalesceArena* a, BlockHeader* h, size_t size) {
  write_tags(h, size, 0);
  int b = bin_index(size);
  FreeLinks* l = links_of(h);
  l->next = a->bins[b];
  l->prev = nullptr;
  if (l->next != nullptr) links_of(l->next)->prev = h;
  a->bins[b] = h;
  a->bitmap[b >> 6] |= uint64_t{1} << (b & 63);
  a->free_bytes += size;
}

void remove_free(CoalesceArena* a, BlockHeader* h) {
  size_t size = block_size(h);
  int b = bin_index(size);
  FreeLinks* l = links_of(h);
  if (l->prev != nullptr) {
    links_of(l->prev)->next = l->next;
  } else {
    a->bins[b] = l->next;
    if (l->next == nullptr) a->bitmap[b >> 6] &= ~(uint64_t{1} << (b & 63));
  }
  if (l->next != nullptr) links_of(l->next)->prev = l->prev;
  a->free_bytes -= size;
}

// Good fit: first fit inside the request's own bin (exact below 1 KiB), else
// the head of the next non-empty bin, whose blocks are all large enough.
BlockHeader* find_fit(CoalesceArena* a, size_t need) {
  int b = bin_index(need);
  int budget = 32;  // Bounded scan; larger bins always fit.
  for (BlockHeader* h = a->bins[b]; h != nullptr && budget > 0; h = links_of(h)->next, --budget) {
    if (block_size(h) >= need) return h;
  }
  for (int w = (b + 1) >> 6; w < kNumBins / 64; ++w) {
    uint64_t bits = a->bitmap[w];
    if (w == (b + 1) >> 6) bits &= ~uint64_t{0} << ((b + 1) & 63);
    if (bits != 0) return a->bins[w * 64 + __builtin_ctzll(bits)];
  }
  return nullptr;
}

// Carves a used block of exactly `need` bytes (or the whole free block when
// the rest would be below kMinBlock). Returns nullptr when nothing fits.
BlockHeader* arena_alloc(CoalesceArena* a, size_t need, uint64_t flags) {
  BlockHeader* h = find_fit(a, need);
  if (h == nullptr) return nullptr;
  remove_free(a, h);
  size_t size = block_size(h);
  if (size - need >= kMinBlock) {
    insert_free(a, reinterpret_cast<BlockHeader*>(as_bytes(h) + need), size - need);
    size = need;
  }
  write_tags(h, size, kUsed | flags);
  a->live_blocks++;
  a->used_bytes += size;
  a->dirty = true;
  a->touched = true;
  a->allocated = true;
  return h;
}

// Frees a used block and merges it with free neighbours on both sides, so
// that no two free blocks are ever adjacent.
void arena_free(CoalesceArena* a, BlockHeader* h) {
  size_t size = block_size(h);
  a->live_blocks--;
  a->used_bytes -= size;
  a->touched = true;
  a->purge_pending = true;
  BlockHeader* next = reinterpret_cast<BlockHeader*>(as_bytes(h) + size);
  if ((next->size_flags & kUsed) == 0) {
    remove_free(a, next);
    size += block_size(next);
  }
  uint64_t prev_footer = *reinterpret_cast<uint64_t*>(as_bytes(h) - kFooterBytes);
  if ((prev_footer & kUsed) == 0) {
    BlockHeader* prev = reinterpret_cast<BlockHeader*>(as_bytes(h) - (prev_footer & ~kFlagMask));
    remove_free(a, prev);
    size += block_size(prev);
    h = prev;
  }
  insert_free(a, h, size);
}

// Gives back the pages inside every free block of at least 8 KiB: all but the
// pages holding its header, links and footer, which the free lists and
// coalescing read. The pages fault in again (zeroed) when the block is
// allocated and written. Returns the bytes decommitted. Cost: one madvise per
// such block.
size_t purge_free_pages(CoalesceArena* a) {
  const size_t ps = platform::page_size();
  size_t purged = 0;
  for (int b = kPurgeFirstBin; b < kNumBins; ++b) {
    for (BlockHeader* h = a->bins[b]; h != nullptr; h = links_of(h)->next) {
      const uintptr_t start = reinterpret_cast<uintptr_t>(h);
      const uintptr_t from = round_up(start + kHeaderBytes + sizeof(FreeLinks), ps);
      const uintptr_t to = (start + block_size(h) - kFooterBytes) & ~(uintptr_t{ps} - 1);
      if (to <= from) continue;
      platform::decommit_pages(reinterpret_cast<void*>(from), to - from);
      purged += to - from;
    }
  }
  return purged;
}

// What one reclamation pass learnt about an arena's last purge.
enum class PurgeVerdict {
  kNone,     // No purge watched, or its window is still open.
  kRefault,  // Allocated from within the window: the purge cost faults.
  kStuck,    // The window closed with no allocation: the purge was worth it.
};

// Case 5's back-off, at one pass (a->mu held; `touched`/`allocated`: the
// arena's flags since the previous pass). A purge waits for purge_wait idle
// passes; its window is the next 2 * purge_wait passes. An allocation in the
// window doubles the wait (up to kMaxPurgeWait): the arena idles in short
// gaps (threads waiting for each other, a descheduled peer) and a purge
// there only costs a refault. A window without an allocation halves it. So
// do every kPurgeForgetPeriods passes that find the arena in use, so that old
// refaults do not delay the purge after a long busy period (a burst that
// ends): from the bound back to 1 in 4 * kPurgeForgetPeriods busy passes.
PurgeVerdict update_purge_backoff(CoalesceArena* a, bool touched, bool allocated) {
  a->idle_passes = touched ? 0 : static_cast<uint8_t>(std::min(a->idle_passes + 1, 255));
  if (a->purge_watch > 0) {
    if (allocated) {
      a->purge_watch = 0;
      a->purge_wait =
          static_cast<uint8_t>(std::min<uint32_t>(2u * a->purge_wait, CoalesceHeap::kMaxPurgeWait));
      a->busy_passes = 0;
      return PurgeVerdict::kRefault;
    }
    if (--a->purge_watch > 0) return PurgeVerdict::kNone;
    a->purge_wait = static_cast<uint8_t>(std::max(a->purge_wait / 2, 1));
    a->busy_passes = 0;
    return PurgeVerdict::kStuck;
  }
  if (touched && a->purge_wait > 1 && ++a->busy_passes >= CoalesceHeap::kPurgeForgetPeriods) {
    a->purge_wait = static_cast<uint8_t>(a->purge_wait / 2);
    a->busy_passes = 0;
  }
  return PurgeVerdict::kNone;
}

}  // namespace

// One thread's state in one heap. Owner thread only, except: `flush_requested`
// (set by the reclaimer), the counters (read by stats()), and `current`,
// `chain`, `list_next` (written under list_mu_; `current` is also read by the
// owner without the lock, which is safe because only the owner writes it).
struct alignas(64) CoalesceThread {
  struct Bin {
    void* head = nullptr;  // Cached payloads linked through their first word; owner.
    uint32_t count = 0;    // Length of the list; owner.
  };
  Bin bins[kSmallBins];                                  // Small-block cache; owner.
  std::atomic<CoalesceArena*> current{nullptr};          // Arena used for new blocks.
  std::atomic<uint64_t> alloc_calls{0};                  // Owner increments (load+store).
  std::atomic<uint64_t> free_calls{0};                   // Owner increments (load+store).
  CoalesceArena* chain = nullptr;                        // Arenas owned; list_mu_.
  CoalesceThread* list_next = nullptr;                   // Heap's thread list; list_mu_.
  alignas(64) std::atomic<bool> flush_requested{false};  // Reclaimer asks for a cache flush.
};

namespace {

inline void bump(std::atomic<uint64_t>& c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// Live heaps by id, so that a thread's exit hook never touches a destroyed
// heap. Leaked on purpose: thread-local destructors may run after statics'.
struct HeapRegistry {
  std::mutex mu;                                         // Guards everything below.
  std::vector<std::pair<uint64_t, CoalesceHeap*>> live;  // Heaps not yet destroyed.
  uint64_t next_id = 1;                                  // Never reused.
};
HeapRegistry& heap_registry() {
  static HeapRegistry* r = new HeapRegistry;
  return *r;
}

// This thread's states, one per heap it used. Plain data (no destructor), so
// a heap destroyed after this thread's TLS destructors ran (a static heap at
// exit) can still safely look at it. A thread that uses more than
// kMaxTlsHeaps heaps at once is not detached automatically for the extra ones;
// their states are freed with the heap.
constexpr int kMaxTlsHeaps = 16;
struct TlsEntry {
  uint64_t heap_id;       // 0: unused slot.
  CoalesceHeap* heap;     // Valid while heap_id is in the registry.
  CoalesceThread* state;  // This thread's state in that heap.
};
struct TlsSlots {
  uint64_t fast_id;                // Heap whose state is cached (0: none).
  CoalesceThread* fast_state;      // That state: the one-compare fast path.
  TlsEntry entries[kMaxTlsHeaps];  // All states of this thread.
};
thread_local TlsSlots tls = {};

}  // namespace

// Detaches this thread from every live heap it used when the thread exits.
struct CoalesceTls {
  bool armed = false;  // Set on first registration (forces construction).
  ~CoalesceTls() {
    tls.fast_id = 0;
    tls.fast_state = nullptr;
    HeapRegistry& r = heap_registry();
    std::lock_guard<std::mutex> lock(r.mu);
    for (TlsEntry& e : tls.entries) {
      if (e.heap_id == 0) continue;
      for (const auto& live : r.live) {
        if (live.first == e.heap_id) e.heap->detach(e.state);
      }
      e = TlsEntry{0, nullptr, nullptr};
    }
  }
};

namespace {
thread_local CoalesceTls tls_guard;

void forget_tls(uint64_t heap_id) {
  if (tls.fast_id == heap_id) {
    tls.fast_id = 0;
    tls.fast_state = nullptr;
  }
}
}  // namespace

}  // namespace detail

using detail::BlockHeader;
using detail::CoalesceArena;
using detail::CoalesceThread;

CoalesceHeap::CoalesceHeap(const CoalesceOptions& options)
    : id_([] {
        detail::HeapRegistry& r = detail::heap_registry();
        std::lock_guard<std::mutex> lock(r.mu);
        return r.next_id++;
      }()),
      options_(options) {
  {
    detail::HeapRegistry& r = detail::heap_registry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.live.emplace_back(id_, this);
  }
  if (options_.reclaim) reclaimer_ = std::thread([this] { reclaim_loop(); });
}

CoalesceHeap::~CoalesceHeap() {
  {
    detail::HeapRegistry& r = detail::heap_registry();
    std::lock_guard<std::mutex> lock(r.mu);
    for (size_t i = 0; i < r.live.size(); ++i) {
      if (r.live[i].first == id_) {
        r.live.erase(r.live.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
  }
  if (reclaimer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(reclaim_mu_);
      stop_ = true;
    }
    reclaim_cv_.notify_all();
    reclaimer_.join();
  }
  // Forget the calling thread's cached state; other threads' caches hold a
  // stale id that no live heap will ever match.
  detail::forget_tls(id_);
  for (detail::TlsEntry& e : detail::tls.entries) {
    if (e.heap_id == id_) e = detail::TlsEntry{0, nullptr, nullptr};
  }
  while (threads_ != nullptr) {
    CoalesceThread* t = threads_;
    threads_ = t->list_next;
    delete t;
  }
  while (arenas_ != nullptr) {
    CoalesceArena* a = arenas_;
    arenas_ = a->list_next;
    a->~CoalesceArena();
    platform::unmap_pages(a, kArenaBytes);
  }
}

CoalesceThread* CoalesceHeap::thread_state() {
  if (detail::tls.fast_id == id_) return detail::tls.fast_state;
  return thread_state_slow();
}

__attribute__((noinline)) CoalesceThread* CoalesceHeap::thread_state_slow() {
  detail::TlsEntry* slot = nullptr;
  for (detail::TlsEntry& e : detail::tls.entries) {
    if (e.heap_id == id_) {
      detail::tls.fast_id = id_;
      detail::tls.fast_state = e.state;
      return e.state;
    }
    if (e.heap_id == 0 && slot == nullptr) slot = &e;
  }
  CoalesceThread* t = new CoalesceThread;
  {
    std::lock_guard<std::mutex> lock(list_mu_);
    t->list_next = threads_;
    threads_ = t;
  }
  if (slot != nullptr) {
    *slot = detail::TlsEntry{id_, this, t};
    detail::tls_guard.armed = true;
  }
  detail::tls.fast_id = id_;
  detail::tls.fast_state = t;
  return t;
}

void* CoalesceHeap::allocate(size_t size, size_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > kMaxAlignment) {
    return nullptr;
  }
  if (size == 0) size = 1;
  CoalesceThread* t = thread_state();
  detail::bump(t->alloc_calls);
  if (alignment <= detail::kGranule) return allocate_plain(t, size);
  // Over-allocate and leave a redirect tag before the aligned payload.
  size_t need = size + alignment - detail::kGranule;
  if (need < size) return nullptr;
  char* p = static_cast<char*>(allocate_plain(t, need));
  if (p == nullptr) return nullptr;
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  uintptr_t q = (a + alignment - 1) & ~(uintptr_t{alignment} - 1);
  if (q != a) {
    BlockHeader* r = detail::header_of(reinterpret_cast<void*>(q));
    r->size_flags = (q - a) | detail::kRedirect;
    r->info = 0;
    r->magic = detail::kMagic;
  }
  return reinterpret_cast<void*>(q);
}

void* CoalesceHeap::allocate_plain(CoalesceThread* t, size_t size) {
  if (t->flush_requested.load(std::memory_order_relaxed)) flush_cache(t);
  if (size <= kSmallMax) {
    int bin = detail::small_bin(size);
    CoalesceThread::Bin& b = t->bins[bin];
    if (b.head != nullptr) {
      void* p = b.head;
      b.head = *static_cast<void**>(p);
      b.count--;
      detail::header_of(p)->info = static_cast<uint32_t>(bin) | static_cast<uint32_t>(size << 8);
      return p;
    }
    return refill_small(t, bin, size);
  }
  if (size > kDirectThreshold) return allocate_direct(size);
  size_t need = detail::round_up(size + detail::kTagOverhead, detail::kGranule);
  CoalesceArena* a = t->current.load(std::memory_order_relaxed);
  if (a != nullptr) {
    BlockHeader* h;
    {
      std::lock_guard<std::mutex> lock(a->mu);
      h = detail::arena_alloc(a, need, 0);
    }
    if (h != nullptr) return detail::payload_of(h);
  }
  return allocate_medium_slow(t, need);
}

// Carves a batch of small blocks from the current arena under one lock; the
// first is returned, the rest go to the cache.
__attribute__((noinline)) void* CoalesceHeap::refill_small(CoalesceThread* t, int bin,
                                                           size_t size) {
  const size_t bytes = detail::small_block_bytes(bin);
  const uint64_t tag = static_cast<uint32_t>(bin) | static_cast<uint32_t>(size << 8);
  BlockHeader* first = nullptr;
  CoalesceArena* a = t->current.load(std::memory_order_relaxed);
  if (a != nullptr) {
    std::lock_guard<std::mutex> lock(a->mu);
    first = detail::arena_alloc(a, bytes, detail::kSmall);
    if (first != nullptr) {
      CoalesceThread::Bin& b = t->bins[bin];
      for (uint32_t i = 1; i < detail::kRefillBatch; ++i) {
        BlockHeader* h = detail::arena_alloc(a, bytes, detail::kSmall);
        if (h == nullptr) break;
        h->info = static_cast<uint32_t>(bin);
        void* p = detail::payload_of(h);
        *static_cast<void**>(p) = b.head;
        b.head = p;
        b.count++;
      }
    }
  }
  if (first == nullptr) {
    void* p = allocate_medium_slow(t, bytes);
    if (p == nullptr) return nullptr;
    first = detail::header_of(p);
    // allocate_medium_slow made an ordinary block; tag it as a small one.
    std::lock_guard<std::mutex> lock(detail::arena_of_header(first)->mu);
    first->size_flags |= detail::kSmall;
  }
  first->info = static_cast<uint32_t>(tag);
  return detail::payload_of(first);
}

// The current arena is full: try the thread's other arenas, then adopt an
// orphaned arena, then map a new one. The winner becomes current.
__attribute__((noinline)) void* CoalesceHeap::allocate_medium_slow(CoalesceThread* t, size_t need) {
  std::lock_guard<std::mutex> list_lock(list_mu_);
  CoalesceArena* cur = t->current.load(std::memory_order_relaxed);
  for (CoalesceArena* a = t->chain; a != nullptr; a = a->chain_next) {
    if (a == cur) continue;
    BlockHeader* h;
    {
      std::lock_guard<std::mutex> lock(a->mu);
      h = a->free_bytes >= need ? detail::arena_alloc(a, need, 0) : nullptr;
    }
    if (h != nullptr) {
      t->current.store(a, std::memory_order_relaxed);
      return detail::payload_of(h);
    }
  }
  CoalesceArena* got = nullptr;
  BlockHeader* h = nullptr;
  for (CoalesceArena* a = arenas_; a != nullptr && got == nullptr; a = a->list_next) {
    if (a->owner.load(std::memory_order_relaxed) != nullptr) continue;
    std::lock_guard<std::mutex> lock(a->mu);
    h = a->free_bytes >= need ? detail::arena_alloc(a, need, 0) : nullptr;
    if (h != nullptr) got = a;
  }
  if (got == nullptr) {
    got = new_arena();
    if (got == nullptr) return nullptr;
    got->list_next = arenas_;
    arenas_ = got;
    arenas_live_++;
    std::lock_guard<std::mutex> lock(got->mu);
    h = detail::arena_alloc(got, need, 0);
  }
  got->owner.store(t, std::memory_order_relaxed);
  got->chain_next = t->chain;
  t->chain = got;
  t->current.store(got, std::memory_order_relaxed);
  return h == nullptr ? nullptr : detail::payload_of(h);
}

CoalesceArena* CoalesceHeap::new_arena() {
  void* mem = platform::map_aligned(kArenaBytes, kArenaBytes);
  if (mem == nullptr) return nullptr;
  account_mapped(static_cast<int64_t>(kArenaBytes));
  CoalesceArena* a = new (mem) CoalesceArena;
  char* base = static_cast<char*>(mem);
  *reinterpret_cast<uint64_t*>(base + detail::kFirstBlock - detail::kFooterBytes) = detail::kUsed;
  BlockHeader* epi = reinterpret_cast<BlockHeader*>(base + detail::kEpilogue);
  epi->size_flags = detail::kUsed;
  epi->info = 0;
  epi->magic = detail::kMagic;
  detail::insert_free(a, reinterpret_cast<BlockHeader*>(base + detail::kFirstBlock),
                      detail::kArenaPayloadMax);
  return a;
}

void* CoalesceHeap::allocate_direct(size_t size) {
  size_t want = size + detail::kHeaderBytes;
  if (want < size) return nullptr;
  size_t bytes;
  bool fresh;
  void* mem = large_cache_.map(want, &bytes, &fresh);
  if (mem == nullptr) return nullptr;
  if (fresh) account_mapped(static_cast<int64_t>(bytes));
  direct_allocs_.fetch_add(1, std::memory_order_relaxed);
  direct_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  BlockHeader* h = static_cast<BlockHeader*>(mem);
  h->size_flags = bytes | detail::kDirect | detail::kUsed;
  h->info = 0;
  h->magic = detail::kMagic;
  return detail::payload_of(h);
}

void CoalesceHeap::account_mapped(int64_t delta) {
  int64_t now = bytes_mapped_.fetch_add(delta, std::memory_order_relaxed) + delta;
  int64_t peak = peak_bytes_mapped_.load(std::memory_order_relaxed);
  while (now > peak &&
         !peak_bytes_mapped_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void CoalesceHeap::deallocate(void* p) {
  if (p == nullptr) return;
  size_t offset;
  BlockHeader* h = detail::resolve(p, &offset);
  CoalesceThread* t = thread_state();
  detail::bump(t->free_calls);
  uint64_t sf = h->size_flags;
  if (sf & detail::kDirect) {
    size_t bytes = sf & ~detail::kFlagMask;
    direct_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    account_mapped(-static_cast<int64_t>(large_cache_.give(h, bytes)));
    return;
  }
  CoalesceArena* a = detail::arena_of_header(h);
  if ((sf & detail::kSmall) && a->owner.load(std::memory_order_relaxed) == t) {
    // Owner's small block: into the cache, no lock.
    if (t->flush_requested.load(std::memory_order_relaxed)) flush_cache(t);
    int bin = static_cast<int>(h->info & 0xff);
    CoalesceThread::Bin& b = t->bins[bin];
    if (b.count >= detail::kCacheCap) {
      // Return the older half of the bin to the arenas.
      void* keep = b.head;
      void* cut = keep;
      for (uint32_t i = 1; i < detail::kCacheCap / 2; ++i) cut = *static_cast<void**>(cut);
      void* rest = *static_cast<void**>(cut);
      *static_cast<void**>(cut) = nullptr;
      b.count = detail::kCacheCap / 2;
      CoalesceArena* locked = nullptr;
      while (rest != nullptr) {
        void* next = *static_cast<void**>(rest);
        BlockHeader* rh = detail::header_of(rest);
        CoalesceArena* ra = detail::arena_of_header(rh);
        if (ra != locked) {
          if (locked != nullptr) locked->mu.unlock();
          ra->mu.lock();
          locked = ra;
        }
        detail::arena_free(ra, rh);
        rest = next;
      }
      if (locked != nullptr) locked->mu.unlock();
    }
    void* base = detail::payload_of(h);
    *static_cast<void**>(base) = b.head;
    b.head = base;
    b.count++;
    return;
  }
  std::lock_guard<std::mutex> lock(a->mu);
  detail::arena_free(a, h);
}

void* CoalesceHeap::reallocate(void* p, size_t new_size, size_t alignment) {
  if (p == nullptr) return allocate(new_size, alignment);
  size_t usable = usable_size(p);
  if (new_size <= usable && (reinterpret_cast<uintptr_t>(p) & (alignment - 1)) == 0) return p;
  void* q = allocate(new_size, alignment);
  if (q == nullptr) return nullptr;
  std::memcpy(q, p, usable < new_size ? usable : new_size);
  deallocate(p);
  return q;
}

size_t CoalesceHeap::usable_size(const void* p) const {
  size_t offset;
  BlockHeader* h = detail::resolve(p, &offset);
  size_t bytes = detail::block_size(h);
  if (h->size_flags & detail::kDirect) return bytes - detail::kHeaderBytes - offset;
  return bytes - detail::kTagOverhead - offset;
}

void CoalesceHeap::flush_thread_cache() { flush_cache(thread_state()); }

__attribute__((noinline)) void CoalesceHeap::flush_cache(CoalesceThread* t) {
  t->flush_requested.store(false, std::memory_order_relaxed);
  CoalesceArena* locked = nullptr;
  for (CoalesceThread::Bin& b : t->bins) {
    while (b.head != nullptr) {
      void* p = b.head;
      b.head = *static_cast<void**>(p);
      BlockHeader* h = detail::header_of(p);
      CoalesceArena* a = detail::arena_of_header(h);
      if (a != locked) {
        if (locked != nullptr) locked->mu.unlock();
        a->mu.lock();
        locked = a;
      }
      detail::arena_free(a, h);
    }
    b.count = 0;
  }
  if (locked != nullptr) locked->mu.unlock();
}

void CoalesceHeap::thread_exit() {
  CoalesceThread* t = detail::tls.fast_id == id_ ? detail::tls.fast_state : nullptr;
  detail::forget_tls(id_);
  for (detail::TlsEntry& e : detail::tls.entries) {
    if (e.heap_id == id_) {
      t = e.state;
      e = detail::TlsEntry{0, nullptr, nullptr};
    }
  }
  if (t != nullptr) detach(t);
}

// Flushes the cache, orphans the thread's arenas and forgets the state.
void CoalesceHeap::detach(CoalesceThread* t) {
  flush_cache(t);
  std::lock_guard<std::mutex> lock(list_mu_);
  for (CoalesceArena* a = t->chain; a != nullptr;) {
    CoalesceArena* next = a->chain_next;
    a->owner.store(nullptr, std::memory_order_relaxed);
    a->chain_next = nullptr;
    a = next;
  }
  for (CoalesceThread** pp = &threads_; *pp != nullptr; pp = &(*pp)->list_next) {
    if (*pp == t) {
      *pp = t->list_next;
      break;
    }
  }
  retired_allocs_ += t->alloc_calls.load(std::memory_order_relaxed);
  retired_frees_ += t->free_calls.load(std::memory_order_relaxed);
  delete t;
}

size_t CoalesceHeap::reclaim_now() { return reclaim_pass(0); }

size_t CoalesceHeap::reclaim_tick() { return reclaim_pass(period_ns()); }

size_t CoalesceHeap::reclaim_pass(uint64_t cache_min_idle_ns) {
  // Cached direct mappings are memory to give back like empty arenas.
  account_mapped(-static_cast<int64_t>(large_cache_.trim(cache_min_idle_ns)));
  const bool now = cache_min_idle_ns == 0;
  std::vector<CoalesceArena*> doomed;
  {
    std::lock_guard<std::mutex> list_lock(list_mu_);
    for (CoalesceArena** pp = &arenas_; *pp != nullptr;) {
      CoalesceArena* a = *pp;
      if (reclaim_arena(a, now)) {
        *pp = a->list_next;
        doomed.push_back(a);
        arenas_live_--;
        arenas_reclaimed_++;
      } else {
        pp = &a->list_next;
      }
    }
  }
  for (CoalesceArena* a : doomed) {
    a->~CoalesceArena();
    platform::unmap_pages(a, kArenaBytes);
    account_mapped(-static_cast<int64_t>(kArenaBytes));
  }
  return doomed.size();
}

// One arena of a reclamation pass, under list_mu_ (held by the caller).
// Returns true when the arena is to be unmapped (already unlinked from its
// owner's chain). `now`: purge whether or not the arena was idle.
bool CoalesceHeap::reclaim_arena(CoalesceArena* a, bool now) {
  std::lock_guard<std::mutex> lock(a->mu);
  CoalesceThread* owner = a->owner.load(std::memory_order_relaxed);
  const detail::PurgeVerdict verdict = detail::update_purge_backoff(a, a->touched, a->allocated);
  if (verdict == detail::PurgeVerdict::kRefault) purges_refaulted_++;
  if (verdict == detail::PurgeVerdict::kStuck) purges_stuck_++;
  a->touched = false;
  a->allocated = false;
  if (a->live_blocks == 0) {
    if (owner == nullptr) return true;
    if (owner->current.load(std::memory_order_relaxed) != a) {
      // The owner reaches non-current arenas only through its chain, under
      // list_mu_, which we hold.
      for (CoalesceArena** cp = &owner->chain; *cp != nullptr; cp = &(*cp)->chain_next) {
        if (*cp == a) {
          *cp = a->chain_next;
          break;
        }
      }
      return true;
    }
    if (a->dirty) {
      // The owner's current arena stays mapped; give its pages back. Empty
      // means one free block from kFirstBlock to the epilogue; keep the
      // pages holding its header, links and footer.
      size_t ps = platform::page_size();
      char* base = reinterpret_cast<char*>(a);
      char* from =
          base + detail::round_up(
                     detail::kFirstBlock + detail::kHeaderBytes + sizeof(detail::FreeLinks), ps);
      char* to = base + kArenaBytes - ps;
      if (to > from) platform::decommit_pages(from, static_cast<size_t>(to - from));
      a->dirty = false;
      a->purge_pending = false;
      arenas_decommitted_++;
    }
    return false;
  }
  if (owner != nullptr && a->live_blocks <= detail::kMaxCachedBlocks) {
    // Possibly only cached small blocks keep it alive: ask the owner to
    // flush its cache on its next call.
    owner->flush_requested.store(true, std::memory_order_relaxed);
  }
  if (a->purge_pending && (now || a->idle_passes >= a->purge_wait)) {
    // Live blocks keep the arena, but its free space has been idle for
    // purge_wait whole periods (an idle owner never flushes its cache, so
    // this is what gives its memory back). Watch whether it is reused soon
    // if it is the arena its owner allocates from: an idle current arena
    // is an idle thread, which may resume at once. Another arena is reused
    // only when the owner moves on to it (a burst filling its arenas one
    // after the other); backing that off would keep the burst's memory
    // for the wait once the burst ends.
    bytes_purged_ += detail::purge_free_pages(a);
    a->purge_pending = false;
    if (!now && owner != nullptr && owner->current.load(std::memory_order_relaxed) == a) {
      a->purge_watch = static_cast<uint8_t>(2 * a->purge_wait);
    }
    arenas_purged_++;
  }
  return false;
}

uint64_t CoalesceHeap::period_ns() const {
  const uint32_t period = options_.reclaim_period_ms == 0 ? 1 : options_.reclaim_period_ms;
  return uint64_t{period} * 1000 * 1000;
}

void CoalesceHeap::reclaim_loop() {
  const std::chrono::nanoseconds period(period_ns());
  std::unique_lock<std::mutex> lock(reclaim_mu_);
  while (!stop_) {
    if (reclaim_cv_.wait_for(lock, period, [this] { return stop_; })) break;
    lock.unlock();
    // A cached mapping reused within one period is the burst the cache is
    // for; one idle for a whole period is given back.
    reclaim_tick();
    lock.lock();
  }
}

const void* CoalesceHeap::arena_of(const void* p) const {
  size_t offset;
  BlockHeader* h = detail::resolve(p, &offset);
  if (h->size_flags & detail::kDirect) return nullptr;
  return detail::arena_of_header(h);
}

CoalesceStats CoalesceHeap::stats() const {
  CoalesceStats s;
  std::lock_guard<std::mutex> list_lock(list_mu_);
  s.alloc_calls = retired_allocs_;
  s.free_calls = retired_frees_;
  for (CoalesceThread* t = threads_; t != nullptr; t = t->list_next) {
    s.alloc_calls += t->alloc_calls.load(std::memory_order_relaxed);
    s.free_calls += t->free_calls.load(std::memory_order_relaxed);
  }
  for (CoalesceArena* a = arenas_; a != nullptr; a = a->list_next) {
    std::lock_guard<std::mutex> lock(a->mu);
    s.bytes_in_use += a->used_bytes;
    s.max_purge_wait = std::max<uint64_t>(s.max_purge_wait, a->purge_wait);
  }
  s.bytes_in_use += direct_bytes_.load(std::memory_order_relaxed);
  s.direct_allocs = direct_allocs_.load(std::memory_order_relaxed);
  s.direct_cached_bytes = large_cache_.cached_bytes();
  s.direct_cache_hits = large_cache_.hits();
  s.arenas_live = arenas_live_;
  s.arenas_reclaimed = arenas_reclaimed_;
  s.arenas_decommitted = arenas_decommitted_;
  s.arenas_purged = arenas_purged_;
  s.bytes_purged = bytes_purged_;
  s.purges_refaulted = purges_refaulted_;
  s.purges_stuck = purges_stuck_;
  s.bytes_mapped = static_cast<uint64_t>(bytes_mapped_.load(std::memory_order_relaxed));
  s.peak_bytes_mapped = static_cast<uint64_t>(peak_bytes_mapped_.load(std::memory_order_relaxed));
  return s;
}

namespace {

std::string describe(const CoalesceArena* a, const void* at, const char* what) {
  char buf[160];
  std::snprintf(
      buf, sizeof buf, "arena %p, offset %zu: %s", static_cast<const void*>(a),
      static_cast<size_t>(static_cast<const char*>(at) - reinterpret_cast<const char*>(a)), what);
  return buf;
}

std::string check_arena(CoalesceArena* a) {
  char* base = reinterpret_cast<char*>(a);
  char* end = base + detail::kEpilogue;
  if (*reinterpret_cast<uint64_t*>(base + detail::kFirstBlock - detail::kFooterBytes) !=
      detail::kUsed) {
    return describe(a, base, "prologue footer damaged");
  }
  std::vector<BlockHeader*> free_blocks;
  size_t live = 0, used = 0, free_bytes = 0;
  bool prev_free = false;
  char* p = base + detail::kFirstBlock;
  while (p != end) {
    BlockHeader* h = reinterpret_cast<BlockHeader*>(p);
    size_t size = detail::block_size(h);
    if (h->magic != detail::kMagic) return describe(a, p, "header magic damaged");
    if (h->size_flags & (detail::kDirect | detail::kRedirect)) {
      return describe(a, p, "arena block carries a direct/redirect flag");
    }
    if (size < detail::kMinBlock || size % detail::kGranule != 0 || size > size_t(end - p)) {
      return describe(a, p, "block size out of range");
    }
    uint64_t footer = *detail::footer_of(h, size);
    if (footer != (size | (h->size_flags & detail::kUsed))) {
      return describe(a, p, "header and footer disagree");
    }
    bool is_free = (h->size_flags & detail::kUsed) == 0;
    if (is_free && prev_free) return describe(a, p, "two adjacent free blocks (not coalesced)");
    if (is_free) {
      if (h->size_flags & detail::kSmall) return describe(a, p, "free block marked small");
      free_blocks.push_back(h);
      free_bytes += size;
    } else {
      if (h->size_flags & detail::kSmall) {
        uint32_t bin = h->info & 0xff;
        if (bin >= detail::kSmallBins || size < detail::small_block_bytes(static_cast<int>(bin)) ||
            size >= detail::small_block_bytes(static_cast<int>(bin)) + detail::kMinBlock ||
            (h->info >> 8) > detail::kSmallSizes[bin]) {
          return describe(a, p, "small block header inconsistent with its bin");
        }
      }
      live++;
      used += size;
    }
    prev_free = is_free;
    p += size;
  }
  const BlockHeader* epi = reinterpret_cast<const BlockHeader*>(end);
  if (epi->size_flags != detail::kUsed) return describe(a, end, "epilogue damaged");
  if (live != a->live_blocks || used != a->used_bytes || free_bytes != a->free_bytes) {
    return describe(a, base, "arena counters disagree with the heap walk");
  }
  // Free-list membership: every free block exactly once, in its own bin.
  std::vector<bool> seen(free_blocks.size(), false);
  size_t listed = 0;
  for (int b = 0; b < detail::kNumBins; ++b) {
    bool bit = (a->bitmap[b >> 6] >> (b & 63)) & 1;
    if (bit != (a->bins[b] != nullptr)) return describe(a, base, "bin bitmap disagrees with lists");
    BlockHeader* prev = nullptr;
    for (BlockHeader* h = a->bins[b]; h != nullptr; h = detail::links_of(h)->next) {
      auto it = std::lower_bound(free_blocks.begin(), free_blocks.end(), h);
      if (it == free_blocks.end() || *it != h) {
        return describe(a, h, "free-list entry is not a free block");
      }
      size_t idx = static_cast<size_t>(it - free_blocks.begin());
      if (seen[idx]) return describe(a, h, "free block listed twice (or list cycle)");
      seen[idx] = true;
      if (detail::bin_index(detail::block_size(h)) != b) {
        return describe(a, h, "free block in the wrong bin");
      }
      if (detail::links_of(h)->prev != prev) return describe(a, h, "free-list back link broken");
      prev = h;
      listed++;
    }
  }
  if (listed != free_blocks.size()) {
    for (size_t i = 0; i < seen.size(); ++i) {
      if (!seen[i]) return describe(a, free_blocks[i], "free block on no free list");
    }
  }
  return "";
}

}  // namespace

std::string CoalesceHeap::check_heap() const {
  std::lock_guard<std::mutex> list_lock(list_mu_);
  size_t count = 0;
  for (CoalesceArena* a = arenas_; a != nullptr; a = a->list_next) {
    std::lock_guard<std::mutex> lock(a->mu);
    std::string err = check_arena(a);
    if (!err.empty()) return err;
    count++;
  }
  if (count != arenas_live_) return "arena list length disagrees with the arena count";
  return "";
}

}  // namespace allocbench
