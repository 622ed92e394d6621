// liballoc's data structures: geometry, size classes, pages, segments and
// heaps. Every field says which thread writes it. See docs/inhouse_malloc.md.
//
// Layout of the sources (mimalloc's is the model):
//   types.h     this file: constants and every struct
//   internal.h  globals, internal functions, and the inline fast paths
//   os.cpp      what liballoc needs from the OS (through the platform layer)
//   segment.cpp segments, spans, decay, huge blocks
//   page.cpp    pages, their queues, the cross-thread state machine's owner side
//   heap.cpp    thread heaps, adoption, the delayed list, core alloc and free
//   debug.cpp   the debug mode's checks
//   stats.cpp   counters, statistics and the census
//   alloc.cpp   the public operations (alloc_*, the malloc family's core)
//   init.cpp    start-up, interposition, fork, thread exit
//   static.cpp  the one translation unit that includes all of the above
#ifndef ALLOCBENCH_ALLOCATORS_INHOUSE_TYPES_H_
#define ALLOCBENCH_ALLOCATORS_INHOUSE_TYPES_H_

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#define ALLOC_LIKELY(x) __builtin_expect(!!(x), 1)
#define ALLOC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ALLOC_NOINLINE __attribute__((noinline))
#define ALLOC_INLINE inline __attribute__((always_inline))
#define ALLOC_TLS __attribute__((tls_model("initial-exec")))
// A global that malloc reads before liballoc's own constructors run (a
// library's constructor may allocate first, as glib's does under
// LD_PRELOAD): the build fails unless the compiler initializes it at compile
// time. Dynamic initialization left g_empty_heap's `direct` null until then,
// and `perf --version` crashed in its first malloc.
#if defined(__clang__)
#define ALLOC_CONSTINIT [[clang::require_constant_initialization]]
#else
#define ALLOC_CONSTINIT __constinit
#endif

namespace allocbench {
namespace detail {
namespace inhouse {

// Geometry and size classes

constexpr size_t kSlotShift = 16;
constexpr size_t kSlotSize = size_t{1} << kSlotShift;  // 64 KiB
constexpr size_t kSegmentShift = 22;
constexpr size_t kSegmentSize = size_t{1} << kSegmentShift;  // 4 MiB
constexpr uintptr_t kSegmentMask = kSegmentSize - 1;
constexpr int kSlotsPerSegment = 64;
constexpr size_t kMaxClassSize = 65536;                 // largest size-class block
constexpr int kNumClasses = 45;                         // class 0 unused
constexpr size_t kLargeMaxSlots = 32;                   // spans up to 2 MiB
constexpr size_t kLargeMax = kLargeMaxSlots * kSlotSize;
// Large spans (above kMaxClassSize, up to kLargeMax) are carved in 4 KiB
// granules, not whole slots, so a buffer of n bytes takes n rounded up to
// 4 KiB (issue 14: 64 B-aligned 64 KiB-1 MiB buffers used to round up to
// whole 64 KiB slots). Class pages still take whole slots.
constexpr size_t kGranuleShift = 12;
constexpr size_t kGranule = size_t{1} << kGranuleShift;          // 4 KiB
constexpr size_t kGranulesPerSlot = kSlotSize / kGranule;        // 16
constexpr size_t kGranulesPerSegment = kSegmentSize / kGranule;  // 1024
constexpr size_t kGranuleWords = kGranulesPerSegment / 64;       // 16 words per bitmap
// large_span_alloc compares at most this many segments with room.
constexpr int kLargeSearchFits = 4;
// A large span is longer than a slot, so at most one span starts in any
// slot: the slot's descriptor is that span's head.
constexpr size_t kLargeMinGranules = kGranulesPerSlot + 1;
constexpr size_t kHugeHeader = 4096;                    // huge block offset in its mapping
constexpr size_t kMaxSpanAlignment = kSegmentSize / 2;  // larger alignments: own mapping, block
                                                         // 4 MiB past its header (alloc_huge_aligned)
constexpr size_t kExtendBytes = 4096;                   // free-list build batch
constexpr size_t kPurgeCapMin = size_t{64} << 20;      // dirty free bytes a heap may keep...
constexpr size_t kResidentCapFactor = 2;                // ...or what keeps active + free resident <= this x peak
constexpr uint64_t kDecayMsDefault = 100;               // free memory unused this long is purged
constexpr size_t kDecayKeepDivisor = 2;                 // ...beyond 1/this of the recent peak of active bytes
constexpr uint64_t kDecayFullPeriods = 10;              // ...and every this many periods, all of it
constexpr uint32_t kMaxSpareSegments = 64;              // empty segments a heap keeps (their resident
                                                        // memory is bounded by the hard cap and the
                                                        // decay; purged ones are released at decay ticks)
constexpr int kSegmentCacheMax = 16;                    // empty segments kept globally
constexpr int kHugeCacheMax = 256;                      // freed huge mappings kept for reuse...
constexpr uintptr_t kAddressLimit = uintptr_t{1} << 48;  // user address space (x86-64, arm64: 48 bits)
constexpr size_t kSegmentMapWords = (kAddressLimit >> kSegmentShift) / 64;  // a bit per 4 MiB: 8 MiB of .bss
constexpr size_t kHugeCacheMaxBytes = size_t{64} << 20;  // ...up to this many bytes in total,
                                                         // or the active bytes if more

// Remote-free cache (issue 14, larson at 2 threads): a thread that frees a
// block of another heap's class page of at most kRemoteCacheMaxBlock bytes
// keeps it on a per-class list of its own heap and hands it out again on
// its next allocation of that class, as tcmalloc's thread caches do,
// instead of pushing it to the owner at once with a CAS (once it holds
// kRemoteCacheBatch blocks: a thread never reuses a lone block another thread
// handed it, which shares a line with that thread's objects). A class list holds
// at most max(kRemoteCacheMinBlocks, kRemoteCacheBytes / size) blocks (at
// most 4 x 16 KiB per thread); one over that, the whole list goes back to
// the owners, a CAS per run of blocks of one page. heap_collect_all (thread
// exit, alloc_trim, reclamation) gives it all back.
// Blocks of at most 64 B (larson/small, xmalloc): with classes up to 1 KiB
// the cache made larson/default at 2 threads slower, 1.32-1.48x the time
// without it (net of the harness, 9-11 shuffled repetitions, host C), for
// a reason not found; at 64 B that cell shows no significant difference.
constexpr size_t kRemoteCacheMaxBlock = 64;
constexpr int kRemoteCacheClasses = 5;  // classes 1-4 (16-64 B); index 0 unused
constexpr size_t kRemoteCacheBytes = 16384;
constexpr uint32_t kRemoteCacheMinBlocks = 16;
constexpr uint32_t kRemoteCacheBatch = 8;  // allocations take the cache once it holds this many

constexpr size_t class_size_of(int cls) {
  if (cls <= 8) return static_cast<size_t>(cls) * 16;
  int j = cls - 9;
  int b = 7 + j / 4;
  return static_cast<size_t>(5 + j % 4) << (b - 2);
}

ALLOC_INLINE constexpr int class_of_large(size_t n) {  // 128 < n <= kMaxClassSize
  size_t w = n - 1;
  int b = 63 - __builtin_clzll(w);
  int q = static_cast<int>((w >> (b - 2)) & 3);
  return 9 + (b - 7) * 4 + q;
}

// Span length of a class page. Classes up to 8 KiB: one slot (8+ blocks).
// Larger ("medium") classes: the fewest slots that hold kMediumPageBlocks
// blocks (one slot up to 32 KiB, two above). 2 rather than 4 blocks: peak
// RSS on rl_churn/default at 1 thread 1.09x jemalloc's (net of the
// harness) against 1.15x, the same at 2 threads. They used to get 8 slots (512 KiB) each; with few live blocks per
// class (64 B-aligned 8-64 KiB buffers in rl_churn) every class then kept a
// 512 KiB page whose blocks all became resident in turn, about 7 MB for a
// live set of 1-5 MB (issue 14).
constexpr size_t kMediumPageBlocks = 2;
constexpr size_t medium_class_slots(size_t s) {
  return s <= 8192 ? 1 : (kMediumPageBlocks * s + kSlotSize - 1) / kSlotSize;
}

struct ClassTables {
  uint8_t small[65];                // class of sizes 0..1024 indexed by (n + 15) / 16
  uint32_t size[kNumClasses];       // block size of each class
  uint32_t align[kNumClasses];      // largest power of two dividing size (alignment of blocks)
  uint8_t slots[kNumClasses];       // span length in slots
  constexpr ClassTables() : small(), size(), align(), slots() {
    for (int i = 0; i <= 64; ++i) {
      size_t n = static_cast<size_t>(i) * 16;
      small[i] = static_cast<uint8_t>(n <= 16 ? 1 : (n <= 128 ? i : class_of_large(n)));
    }
    for (int c = 1; c < kNumClasses; ++c) {
      size_t s = class_size_of(c);
      size[c] = static_cast<uint32_t>(s);
      align[c] = static_cast<uint32_t>(s & (~s + 1));
      slots[c] = static_cast<uint8_t>(medium_class_slots(s));
    }
  }
};
constexpr ClassTables kClasses{};
static_assert(class_size_of(kNumClasses - 1) == kMaxClassSize, "class table");
static_assert(class_size_of(20) == 1024, "class table");
static_assert(class_size_of(kRemoteCacheClasses - 1) == kRemoteCacheMaxBlock, "remote-free cache classes");

// Data structures

struct Block {
  Block* next;  // next free block (owner list or remote list)
};

struct Heap;

enum PageFlag : uint8_t {
  kPageFull = 1,   // in heap->full, or a large span: xthread was armed (kUseDelayed)
  kPageLarge = 4,  // one-block span in heap->large
  kPageDebug = 8,  // allocated in debug mode: frees go to the checking path
  kPageSentinel = 16,  // Segment::sentinel and pages[0] (the header slot): never a real page
};

// Cross-thread free state machine of a page: its xthread word
// (Segment::remote, page_xthread) holds the page's remote-free list (blocks
// are 16-aligned) and, in its low bit, the state.
//
//                 page_mark_full (owner): CAS 0|kNoDelayed -> 0|kUseDelayed,
//                 only with an empty list (else it collects the list instead)
//              +--------------------------------------------------------+
//              |                                                        v
//      +---------------+                                        +----------------+
//      |  kNoDelayed   |  <-- claim (a remote freer): CAS ------ |  kUseDelayed   |
//      | remote frees  |      0|kUseDelayed -> 0|kNoDelayed,      | the next remote|
//      | push onto the |      then it pushes its block onto      | freer tells the|
//      | page's list   |      owner->delayed and never touches   | owner (list is |
//      +---------------+      the page again                     | always empty)  |
//              ^                                                 +----------------+
//              |  disarm (owner, page_unfull/heap_collect_all):            |
//              +---------- fetch_and(~kUseDelayed) ------------------------+
//
//   in either state: push (remote) CAS head -> b, state bits kept;
//                    collect (owner) fetch_and(kStateMask) takes the whole list.
//
// Invariants. (1) Heap::delayed carries blocks, never pages, and each free
// call publishes its block exactly once, onto exactly one list: the page's
// word or its owner's delayed list, chosen by the one CAS that succeeds. A
// block is freed once, so no list can hold anything twice. (2) A page on a
// class queue is kNoDelayed (only full pages and large spans are armed), so
// arming needs no wait. (3) A claimed block is counted in Page::used until
// the owner takes it from `delayed`, so a page cannot be retired, nor its
// segment change heap, while a claimed block is in flight; the freer needs
// no "freeing" state and the owner no "page is on a list" flag. Heaps are
// never unmapped, so a late push onto an abandoned heap is still seen by
// whoever adopts or reclaims it.
//
// The word's top 16 bits count the blocks on the list (liballoc's segments
// lie below kAddressLimit, 2^48), so that the owner can take a list as its
// free list without walking it to count (the walk missed the cache on every
// block, which the remote thread had written last: 15% of liballoc's samples
// on larson at 2 threads, issue 14). A class page holds at most 4096 blocks.
constexpr uintptr_t kNoDelayed = 0;
constexpr uintptr_t kUseDelayed = 1;
constexpr uintptr_t kStateMask = 1;
constexpr int kRemoteCountShift = 48;
constexpr uintptr_t kRemoteListMask = ((uintptr_t{1} << kRemoteCountShift) - 1) & ~kStateMask;
ALLOC_INLINE Block* remote_list_head(uintptr_t w) { return reinterpret_cast<Block*>(w & kRemoteListMask); }
ALLOC_INLINE uint32_t remote_list_count(uintptr_t w) { return static_cast<uint32_t>(w >> kRemoteCountShift); }
constexpr bool class_pages_countable() {
  for (int c = 1; c < kNumClasses; ++c) {
    if (kClasses.slots[c] * kSlotSize / kClasses.size[c] >= (size_t{1} << (64 - kRemoteCountShift))) return false;
  }
  return true;
}
static_assert(class_pages_countable(), "a page's block count fits the remote-free word");
static_assert(kAddressLimit <= (uintptr_t{1} << kRemoteCountShift), "segments (os.cpp) lie below the count bits");

// Descriptor of a span (the head slot) or of an interior slot (delta != 0).
// Owner heap's thread only; its remote-free word is Segment::remote.
// Default member initializers: without them GCC 12 does not initialize
// g_empty_heap at compile time (its remote-free cache pages, value-
// initialized and then assigned in Heap's constructor, count as
// uninitialized in constant evaluation). Pages in segments are mapped
// memory and never constructed, so this costs nothing there.
struct Page {
  Block* free = nullptr;            // owner: local free list
  uint32_t used = 0;                // owner: blocks handed out, including ones now on `remote`
  uint8_t flags = 0;                // owner: PageFlag bits; 0 on the fast free path
  uint8_t cls = 0;                  // owner: size class, 0 for a large span
  uint8_t slots = 0;                // owner: span length in slots (large: slots it touches)
  uint8_t pad0 = 0;                 // unused
  uint32_t block_size = 0;          // owner: bytes per block (large: the span, whole granules)
  uint32_t delta = 0;               // owner: bytes back to the head descriptor (interior slots)
  char* start = nullptr;            // owner: first block
  uint32_t capacity = 0;            // owner: blocks in the span
  uint32_t reserved = 0;            // owner: blocks carved so far (lazy free-list build)
  uint64_t pad1 = 0;                // unused (the remote-free word is Segment::remote)
  Page* next = nullptr;             // owner: queue link
  Page* prev = nullptr;             // owner: queue link
};

// The remote-free word of the span whose head is this slot, on a cache line
// of its own. It used to sit in Page next to `free` and `used`, which the
// owner writes on every allocation: each remote free's CAS then took that
// line from the owner and the owner's next allocation took it back, two
// cache-line transfers per remote free (xmalloc 2 threads, issue 14). Here
// the owner touches the line only when it collects, arms or disarms.
// `block_size` lets a remote free of a block in a class page's head slot
// (every page of classes up to 8 KiB) read nothing from the descriptor,
// whose line the owner writes on every allocation.
struct alignas(64) RemoteWord {
  std::atomic<uintptr_t> xthread;  // any thread: remote-free list | delayed-free state
  uint32_t block_size;             // owner (page_init, page_retire): block size of the live
                                   // class page headed by this slot, else 0; read by remote
                                   // freers, which hold one of its blocks
};
static_assert(sizeof(RemoteWord) == 64, "one remote-free word per cache line");

enum SegmentKind : uint32_t { kSegmentSmall = 0x5e6a11, kSegmentHuge = 0x5e6b16 };

// Header at the start of every 4 MiB-aligned mapping. Owner heap's thread
// only (its `heap` is read by any thread that frees into it, and is stable
// while the segment holds a live block).
struct Segment {
  uint32_t kind;              // SegmentKind
  uint32_t pad0;              // unused
  Heap* heap;                 // owner heap; nullptr for huge blocks
  uint64_t used_mask;         // owner: slots holding (part of) a span (bit 0: the header)
  uint64_t dirty_mask;        // owner: slots that may be (partly) resident and non-zero
  uint64_t stale_mask;        // owner: free dirty slots already free at the last decay tick
  Segment* next;              // owner: heap's segment list / global cache
  Segment* prev;              // owner: heap's segment list
  size_t map_size;            // bytes mapped (huge: whole mapping)
  size_t huge_offset;         // huge: offset of the user block
  uint64_t freed_ns;          // g_lock: when it entered the segment or huge cache
  uint64_t split;             // huge: nonzero once huge_fill_tail made the mapping several VMAs
                              // (an mremap of all of it then fails: never grown by mremap)
  uintptr_t vma_base;         // huge: start of the VMA holding the mapping while split == 0
                              // (cached neighbours of one VMA merge into one VMA, huge_cache_coalesce)
  Page pages[kSlotsPerSegment];  // owner: descriptor per slot (pages[0] unused)
  Page sentinel;                 // set once: flags kPageSentinel, delta 0; what page_of finds
                                 // for an address exactly 4 MiB past the header (a foreign
                                 // pointer that segment_of maps here), so free's fast path
                                 // fails its flags test instead of writing
  uint64_t granule_used[kGranuleWords];   // owner: 4 KiB granules holding spans; used_mask has
                                          // a slot's bit iff one of its granules is used
  uint64_t granule_dirty[kGranuleWords];  // owner: granules that may be resident; dirty_mask has
                                          // a slot's bit iff one of its granules is dirty
  uint32_t max_free_run;                  // owner: at least the longest run of free granules
                                          // (exact after a full scan; a free raises it to the
                                          // run it joins), so large_span_alloc skips segments
                                          // without room
  RemoteWord remote[kSlotsPerSegment];    // any thread: remote-free word of the span headed
                                          // by each slot (page_xthread)
};
static_assert(sizeof(Segment) <= kSlotSize, "segment header must fit slot 0");
static_assert(offsetof(Segment, remote) % 64 == 0 && offsetof(Segment, remote) >= sizeof(Page) +
                                                         offsetof(Segment, sentinel),
              "remote-free words share no cache line with the page descriptors");
static_assert(offsetof(Segment, sentinel) == offsetof(Segment, pages) + kSlotsPerSegment * sizeof(Page),
              "page_of(seg, seg + 4 MiB) must land on the sentinel");
static_assert(offsetof(Segment, pages) <= kHugeHeader, "huge header");

struct PageQueue {
  Page* first = nullptr;  // owner
  Page* last = nullptr;   // owner
};

// A counter written by one thread (plain load + store, no lock prefix) and
// read by any thread for statistics.
struct StatCounter {
  std::atomic<uint64_t> v{0};
  ALLOC_INLINE void add(uint64_t d) { v.store(v.load(std::memory_order_relaxed) + d, std::memory_order_relaxed); }
  uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

enum HeapState : uint32_t { kHeapActive = 1, kHeapAbandoned = 2, kHeapFree = 3, kHeapReclaiming = 4 };

// A thread heap. Owner thread only (or, while abandoned, whichever thread has
// popped it from the abandoned list), except `delayed` (remote threads push)
// and the statistics counters (read by anyone).
struct alignas(64) Heap {
  Page* direct[kNumClasses];          // owner: first page of each class queue or the empty page
  PageQueue queues[kNumClasses];      // owner: class pages that may have free blocks
  PageQueue full;                     // owner: class pages without free blocks (armed)
  PageQueue large;                    // owner: one-block spans
  Segment* segments = nullptr;        // owner: segments of this heap
  size_t dirty_free_bytes = 0;        // owner: free slots that may be resident
  size_t active_bytes = 0;            // owner: bytes of spans in use
  size_t active_peak = 0;             // owner: most active_bytes since the last decay tick
  size_t active_peak_prev = 0;        // owner: most active_bytes in the epoch before that
  uint64_t decay_tick_ns = 0;         // owner: time of the last decay tick (heap_decay)
  uint64_t decay_full_ns = 0;         // owner: time of the last decay tick that kept no slack (or purge)
  uint32_t empty_segments = 0;        // owner: segments with no span
  uint32_t state = 0;                 // g_lock: HeapState
  Heap* next_all = nullptr;           // g_lock: registry of every heap (append only)
  Heap* next_list = nullptr;          // g_lock: abandoned or free-pool link
  StatCounter allocs;                 // owner: allocations
  StatCounter alloc_bytes;            // owner: usable bytes allocated
  StatCounter frees;                  // owner: frees (local and remote, by this thread)
  StatCounter free_bytes;             // owner: usable bytes freed
  // owner: the remote-free cache of each class up to kRemoteCacheMaxBlock
  // (kRemoteCacheMaxBlock above). Not a page of any segment: only its
  // fields below are used, so that the fast paths pop it like a page when
  // `direct` points at it. free: the blocks (other heaps' blocks, counted as
  // used on their own pages); block_size: the class size; reserved: blocks
  // pushed, used: blocks popped (reserved - used are held, modulo 2^32);
  // capacity: the most it holds.
  Page rcache[kRemoteCacheClasses];
  alignas(64) std::atomic<Block*> delayed{nullptr};  // remote threads: blocks freed into armed pages

  constexpr explicit Heap(Page* empty) : direct(), queues(), full(), large(), rcache() {
    for (auto& d : direct) d = empty;
    for (int c = 1; c < kRemoteCacheClasses; ++c) {
      uint32_t s = static_cast<uint32_t>(class_size_of(c));
      rcache[c].block_size = s;
      rcache[c].cls = static_cast<uint8_t>(c);
      uint32_t limit = static_cast<uint32_t>(kRemoteCacheBytes / s);
      rcache[c].capacity = limit > kRemoteCacheMinBlocks ? limit : kRemoteCacheMinBlocks;
    }
  }
};

// Globals

// Thread-safe. A test-and-test-and-set lock for the rare global operations.
class GlobalLock {
 public:
  void lock() {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) sched_yield();
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }
  void reset() { locked_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> locked_{false};  // any thread
};

// Pages (owner heap only)

constexpr uint8_t kPoisonByte = 0xdf;
constexpr uint8_t kCanaryByte = 0xcb;

// Debug mode: header before the block, canary after it, poison when free.
// Layout of a block: [0,8) free-list link, [8,16) offset of the last freed
// header, ..., header at user-16, user bytes, 8 canary bytes.

constexpr uint32_t kMagicLive = 0xa110ca7e;          // from the malloc family
constexpr uint32_t kMagicLiveNew = 0xa110ca7f;       // from operator new
constexpr uint32_t kMagicLiveNewArray = 0xa110ca80;  // from operator new[]
constexpr uint32_t kMagicLiveNewAligned = 0xa110ca81;       // from operator new(size, align_val_t)
constexpr uint32_t kMagicLiveNewArrayAligned = 0xa110ca82;  // from operator new[](size, align_val_t)
constexpr uint32_t kMagicFreed = 0xf4eedb10;
constexpr size_t kCanarySize = 8;
constexpr size_t kUnsized = ~size_t{0};  // debug_release: no size to check

struct DebugHeader {
  uint32_t magic;   // a kMagicLive* (which family allocated it) or kMagicFreed
  uint32_t offset;  // user pointer - block start
  uint64_t size;    // requested size
};

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_INHOUSE_TYPES_H_
