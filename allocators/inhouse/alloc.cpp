// liballoc: a two-tier general-purpose allocator (see docs/inhouse_malloc.md).
//
// Back end: 4 MiB segments aligned to 4 MiB, each split into 64 slots of
// 64 KiB. Slot 0 holds the segment header; a 64-bit mask per segment tracks
// which slots are in use and another which may be resident ("dirty"). A span
// is a run of slots; it is a page of one size class or one large block.
// Front end: one heap per thread owning its segments; per size class a queue
// of pages, the first of which is the "direct" page the fast path pops from.
// Blocks above 2 MiB ("huge") are mapped directly; freed ones wait in a
// small global cache for reuse. Free memory is returned to the OS by a
// time-based decay (see heap_decay) with a hard cap on retained bytes.
//
// Compiled twice: into alloc_api (alloc_* only) and, with ALLOC_INTERPOSE
// defined, into alloc_static / alloc_shared, which also define the malloc
// family in this translation unit so malloc() inlines the fast path.
#include "allocators/inhouse/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <new>

#include "allocators/common/platform.h"
#include "allocators/inhouse/alloc_internal.h"

#ifndef ALLOC_DEBUG_DEFAULT
#define ALLOC_DEBUG_DEFAULT 0
#endif

#define ALLOC_LIKELY(x) __builtin_expect(!!(x), 1)
#define ALLOC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ALLOC_NOINLINE __attribute__((noinline))
#define ALLOC_INLINE inline __attribute__((always_inline))
#define ALLOC_TLS __attribute__((tls_model("initial-exec")))

namespace allocbench {
namespace detail {
namespace inhouse {

// ---------------------------------------------------------------------------
// Geometry and size classes
// ---------------------------------------------------------------------------

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
constexpr size_t kHugeHeader = 4096;                    // huge block offset in its mapping
constexpr size_t kMaxAlignment = kSegmentSize / 2;      // larger alignments: ENOMEM
constexpr size_t kExtendBytes = 4096;                   // free-list build batch
constexpr size_t kPurgeCapMin = size_t{64} << 20;      // dirty free bytes a heap may keep...
constexpr size_t kPurgeCapFraction = 1;                 // ...or its peak active span bytes / this
constexpr uint64_t kDecayMsDefault = 100;               // free memory unused this long is purged
constexpr uint32_t kMaxSpareSegments = 2;               // empty segments a heap keeps
constexpr int kSegmentCacheMax = 16;                    // empty segments kept globally
constexpr int kHugeCacheMax = 64;                       // freed huge mappings kept for reuse...
constexpr size_t kHugeCacheMaxBytes = size_t{64} << 20;  // ...up to this many bytes in total,
                                                         // or the active bytes if more

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
      slots[c] = s <= 8192 ? 1 : 8;
    }
  }
};
constexpr ClassTables kClasses{};
static_assert(class_size_of(kNumClasses - 1) == kMaxClassSize, "class table");
static_assert(class_size_of(20) == 1024, "class table");

// Class of a size 0..kMaxClassSize. Cost: a compare and a table load, or a clz.
ALLOC_INLINE int size_to_class(size_t n) {
  if (ALLOC_LIKELY(n <= 1024)) return kClasses.small[(n + 15) >> 4];
  return class_of_large(n);
}

// ---------------------------------------------------------------------------
// Data structures
// ---------------------------------------------------------------------------

struct Block {
  Block* next;  // next free block (owner list or remote list)
};

struct Heap;

enum PageFlag : uint8_t {
  kPageFull = 1,     // in heap->full (or a large span): owner set kNotify in remote
  kPageOnStack = 2,  // a remote thread claimed kNotify: page is on heap->delayed; don't retire
  kPageLarge = 4,    // one-block span in heap->large
  kPageDebug = 8,    // allocated in debug mode: frees go to the checking path
};

constexpr uintptr_t kNotify = 1;  // low bit of Page::remote: owner wants a delayed-list push

// Descriptor of a span (the head slot) or of an interior slot (delta != 0).
// Owner heap's thread only, except `remote` (any thread pushes) and
// `delayed_next` (written by the one remote thread that claimed kNotify).
struct Page {
  Block* free;                      // owner: local free list
  uint32_t used;                    // owner: blocks handed out, including ones now on `remote`
  uint8_t flags;                    // owner: PageFlag bits; 0 on the fast free path
  uint8_t cls;                      // owner: size class, 0 for a large span
  uint8_t slots;                    // owner: span length in slots
  uint8_t pad0;                     // unused
  uint32_t block_size;              // owner: bytes per block (whole span for large)
  uint32_t delta;                   // owner: bytes back to the head descriptor (interior slots)
  char* start;                      // owner: first block
  uint32_t capacity;                // owner: blocks in the span
  uint32_t reserved;                // owner: blocks carved so far (lazy free-list build)
  std::atomic<uintptr_t> remote;    // any thread: remote-free list | kNotify
  Page* next;                       // owner: queue link
  Page* prev;                       // owner: queue link
  Page* delayed_next;               // claimer: link in heap->delayed
};

enum SegmentKind : uint32_t { kSegmentSmall = 0x5e6a11, kSegmentHuge = 0x5e6b16 };

// Header at the start of every 4 MiB-aligned mapping. Owner heap's thread
// only (its `heap` is read by any thread that frees into it, and is stable
// while the segment holds a live block).
struct Segment {
  uint32_t kind;              // SegmentKind
  uint32_t pad0;              // unused
  Heap* heap;                 // owner heap; nullptr for huge blocks
  uint64_t used_mask;         // owner: slots holding spans (bit 0: the header)
  uint64_t dirty_mask;        // owner: slots that may be resident and non-zero
  uint64_t stale_mask;        // owner: free dirty slots already free at the last decay tick
  Segment* next;              // owner: heap's segment list / global cache
  Segment* prev;              // owner: heap's segment list
  size_t map_size;            // bytes mapped (huge: whole mapping)
  size_t huge_offset;         // huge: offset of the user block
  uint64_t freed_ns;          // g_lock: when it entered the segment or huge cache
  Page pages[kSlotsPerSegment];  // owner: descriptor per slot (pages[0] unused)
};
static_assert(sizeof(Segment) <= kSlotSize, "segment header must fit slot 0");
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

enum HeapState : uint32_t { kHeapActive = 1, kHeapAbandoned = 2, kHeapFree = 3 };

// A thread heap. Owner thread only (or, while abandoned, whichever thread has
// popped it from the abandoned list), except `delayed` (remote threads push)
// and the statistics counters (read by anyone).
struct alignas(64) Heap {
  Page* direct[kNumClasses];          // owner: first page of each class queue or the empty page
  PageQueue queues[kNumClasses];      // owner: class pages that may have free blocks
  PageQueue full;                     // owner: class pages without free blocks (kNotify armed)
  PageQueue large;                    // owner: one-block spans
  Segment* segments = nullptr;        // owner: segments of this heap
  size_t dirty_free_bytes = 0;        // owner: free slots that may be resident
  size_t active_bytes = 0;            // owner: bytes of spans in use
  size_t active_peak = 0;             // owner: most active_bytes since the last decay tick
  size_t active_peak_prev = 0;        // owner: most active_bytes in the epoch before that
  uint64_t decay_tick_ns = 0;         // owner: time of the last decay tick (heap_decay)
  uint32_t empty_segments = 0;        // owner: segments with no span
  uint32_t state = 0;                 // g_lock: HeapState
  Heap* next_all = nullptr;           // g_lock: registry of every heap (append only)
  Heap* next_list = nullptr;          // g_lock: abandoned or free-pool link
  StatCounter allocs;                 // owner: allocations
  StatCounter alloc_bytes;            // owner: usable bytes allocated
  StatCounter frees;                  // owner: frees (local and remote, by this thread)
  StatCounter free_bytes;             // owner: usable bytes freed
  alignas(64) std::atomic<Page*> delayed{nullptr};  // remote threads: full pages with remote frees

  constexpr explicit Heap(Page* empty) : direct(), queues(), full(), large() {
    for (auto& d : direct) d = empty;
  }
};

// ---------------------------------------------------------------------------
// Globals
// ---------------------------------------------------------------------------

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

Page g_empty_page{};                       // never has blocks: forces the slow path
Heap g_empty_heap(&g_empty_page);          // every thread's heap until its first allocation
static thread_local Heap* tl_heap ALLOC_TLS = &g_empty_heap;

GlobalLock g_lock;                         // heap registry, abandoned list, segment cache
Heap* g_all_heaps = nullptr;               // g_lock
Heap* g_abandoned = nullptr;               // g_lock
Heap* g_free_heaps = nullptr;              // g_lock
char* g_heap_chunk = nullptr;              // g_lock: bump area for new heaps
size_t g_heap_chunk_left = 0;              // g_lock
Segment* g_segment_cache = nullptr;        // g_lock: empty segments, newest first
std::atomic<int> g_segment_cache_count{0};  // written under g_lock, peeked by anyone
Segment* g_huge_cache = nullptr;           // g_lock: freed huge mappings, newest first
size_t g_huge_cache_bytes = 0;             // g_lock: bytes mapped by g_huge_cache
std::atomic<int> g_huge_cache_count{0};    // written under g_lock, peeked by anyone
std::atomic<uint64_t> g_decay_tick_ns{0};  // any thread (CAS): last decay tick of the caches
uint64_t g_decay_ns = kDecayMsDefault * 1000000;  // set once in init (ALLOC_DECAY_MS)
std::atomic<uint32_t> g_abandoned_count{0};  // any thread

std::atomic<int> g_init_state{0};          // 0 none, 1 running, 2 done
std::atomic<bool> g_atfork_done{false};    // pthread_atfork registered
bool g_debug = ALLOC_DEBUG_DEFAULT != 0;   // set once in init, before any allocation
bool g_print_stats = false;                // set once in init
int g_stats_fd = 2;                        // set once in init: where ALLOC_STATS=1 reports
pthread_key_t g_thread_key;                // destructor abandons the thread's heap
std::atomic<uint64_t>* g_segment_map = nullptr;  // bit per 4 MiB of address space (debug checks)
constexpr uintptr_t kAddressLimit = uintptr_t{1} << 47;

// Process-wide counters (any thread, relaxed).
std::atomic<uint64_t> g_mapped{0};
std::atomic<uint64_t> g_active{0};
std::atomic<uint64_t> g_purged{0};
std::atomic<uint64_t> g_segments{0};
std::atomic<uint64_t> g_huge_live{0};
std::atomic<uint64_t> g_heap_count{0};
std::atomic<uint64_t> g_other_allocs{0};       // huge and heap-less allocations
std::atomic<uint64_t> g_other_alloc_bytes{0};
std::atomic<uint64_t> g_other_frees{0};
std::atomic<uint64_t> g_other_free_bytes{0};

ALLOC_INLINE Segment* segment_of(const void* p) {
  return reinterpret_cast<Segment*>(reinterpret_cast<uintptr_t>(p) & ~kSegmentMask);
}
ALLOC_INLINE Page* page_of(Segment* seg, const void* p) {
  size_t idx = (reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(seg)) >> kSlotShift;
  Page* slot = &seg->pages[idx];
  return reinterpret_cast<Page*>(reinterpret_cast<char*>(slot) - slot->delta);
}
ALLOC_INLINE char* slot_address(Segment* seg, size_t idx) {
  return reinterpret_cast<char*>(seg) + (idx << kSlotShift);
}
ALLOC_INLINE size_t slot_index(Segment* seg, Page* pg) { return static_cast<size_t>(pg - seg->pages); }

void count_alloc(Heap* h, size_t bytes) {
  if (h != &g_empty_heap) {
    h->allocs.add(1);
    h->alloc_bytes.add(bytes);
  } else {
    g_other_allocs.fetch_add(1, std::memory_order_relaxed);
    g_other_alloc_bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
}
void count_free(Heap* h, size_t bytes) {
  if (h != &g_empty_heap) {
    h->frees.add(1);
    h->free_bytes.add(bytes);
  } else {
    g_other_frees.fetch_add(1, std::memory_order_relaxed);
    g_other_free_bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
}

// ---------------------------------------------------------------------------
// Error reporting (debug mode): write(2) only, never stdio or malloc.
// ---------------------------------------------------------------------------

size_t format_hex(char* out, uintptr_t v) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  out[0] = '0';
  out[1] = 'x';
  for (size_t i = 0; i < n; ++i) out[2 + i] = tmp[n - 1 - i];
  return n + 2;
}

size_t format_dec(char* out, uint64_t v) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

void write_all(int fd, const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

[[noreturn]] ALLOC_NOINLINE void report_and_abort(const char* what, const void* p) {
  char buf[256];
  size_t n = 0;
  const char* prefix = "alloc: ";
  for (const char* s = prefix; *s; ++s) buf[n++] = *s;
  for (const char* s = what; *s && n < 200; ++s) buf[n++] = *s;
  const char* at = " at pointer ";
  for (const char* s = at; *s; ++s) buf[n++] = *s;
  n += format_hex(buf + n, reinterpret_cast<uintptr_t>(p));
  buf[n++] = '\n';
  write_all(2, buf, n);
  abort();
}

// ---------------------------------------------------------------------------
// Segment registry (a bitmap of live segment addresses, for debug checks).
// ---------------------------------------------------------------------------

void segment_register(void* seg, bool live) {
  uintptr_t a = reinterpret_cast<uintptr_t>(seg);
  if (g_segment_map == nullptr || a >= kAddressLimit) return;
  size_t idx = a >> kSegmentShift;
  uint64_t bit = uint64_t{1} << (idx & 63);
  if (live) {
    g_segment_map[idx >> 6].fetch_or(bit, std::memory_order_relaxed);
  } else {
    g_segment_map[idx >> 6].fetch_and(~bit, std::memory_order_relaxed);
  }
}

bool segment_registered(const void* seg) {
  uintptr_t a = reinterpret_cast<uintptr_t>(seg);
  if (g_segment_map == nullptr || a >= kAddressLimit) return false;
  size_t idx = a >> kSegmentShift;
  return (g_segment_map[idx >> 6].load(std::memory_order_relaxed) >> (idx & 63)) & 1;
}

// ---------------------------------------------------------------------------
// Initialisation, thread heaps, fork
// ---------------------------------------------------------------------------

void thread_done(void* arg);

void atfork_prepare() { g_lock.lock(); }
void atfork_parent() { g_lock.unlock(); }
void atfork_child() { g_lock.reset(); }

bool env_is_one(const char* name) {
  const char* v = getenv(name);
  return v != nullptr && v[0] == '1' && v[1] == '\0';
}

// Runs once, before the first allocation. Must not allocate: getenv,
// sysconf, mmap and pthread_key_create do not.
ALLOC_NOINLINE void ensure_init() {
  if (g_init_state.load(std::memory_order_acquire) == 2) return;
  int expected = 0;
  if (g_init_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    platform::page_size();
    if (env_is_one("ALLOC_DEBUG")) g_debug = true;
    g_print_stats = env_is_one("ALLOC_STATS");
    if (const char* d = getenv("ALLOC_DECAY_MS")) {
      uint64_t ms = 0;
      for (; *d >= '0' && *d <= '9' && ms < 1000000000; ++d) ms = ms * 10 + static_cast<uint64_t>(*d - '0');
      g_decay_ns = ms * 1000000;
    }
    // Programs such as coreutils close stderr in an atexit handler; keep a
    // private close-on-exec copy so the report still gets out.
    if (g_print_stats) g_stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
    pthread_key_create(&g_thread_key, &thread_done);
    size_t map_words = (kAddressLimit >> kSegmentShift) / 64;
    g_segment_map = static_cast<std::atomic<uint64_t>*>(
        platform::map_pages(map_words * sizeof(uint64_t)));
    g_init_state.store(2, std::memory_order_release);
  } else {
    while (g_init_state.load(std::memory_order_acquire) != 2) sched_yield();
  }
  // May allocate (glibc grows its handler list with malloc): done after the
  // state is 2 so a re-entrant malloc proceeds.
  if (!g_atfork_done.exchange(true, std::memory_order_acq_rel)) {
    pthread_atfork(&atfork_prepare, &atfork_parent, &atfork_child);
  }
}

// New heap memory: heaps are type-stable (never unmapped) because remote
// threads may still push onto `delayed` of a heap they saw in a segment.
Heap* heap_create_locked() {
  size_t need = (sizeof(Heap) + 63) & ~size_t{63};
  if (g_heap_chunk_left < need) {
    size_t chunk = 16 * need;
    char* mem = static_cast<char*>(platform::map_pages(chunk));
    if (mem == nullptr) return nullptr;
    g_mapped.fetch_add(chunk, std::memory_order_relaxed);
    g_heap_chunk = mem;
    g_heap_chunk_left = chunk;
  }
  Heap* h = new (g_heap_chunk) Heap(&g_empty_page);
  g_heap_chunk += need;
  g_heap_chunk_left -= need;
  h->next_all = g_all_heaps;
  g_all_heaps = h;
  g_heap_count.fetch_add(1, std::memory_order_relaxed);
  return h;
}

// Gives the calling thread a heap: an abandoned one (adoption), a recycled
// one, or a new one. Returns &g_empty_heap when out of memory.
ALLOC_NOINLINE Heap* thread_heap_init() {
  ensure_init();
  g_lock.lock();
  Heap* h = g_abandoned;
  if (h != nullptr) {
    g_abandoned = h->next_list;
    g_abandoned_count.fetch_sub(1, std::memory_order_relaxed);
  } else if ((h = g_free_heaps) != nullptr) {
    g_free_heaps = h->next_list;
  } else {
    h = heap_create_locked();
  }
  if (h != nullptr) {
    h->next_list = nullptr;
    h->state = kHeapActive;
  }
  g_lock.unlock();
  if (h == nullptr) return &g_empty_heap;
  tl_heap = h;
  pthread_setspecific(g_thread_key, h);
  return h;
}

// ---------------------------------------------------------------------------
// Segments and spans (owner heap only)
// ---------------------------------------------------------------------------

void purge_range(Segment* seg, uint64_t mask) {
  while (mask != 0) {
    int lo = __builtin_ctzll(mask);
    uint64_t run = mask >> lo;
    int len = (~run == 0) ? 64 - lo : __builtin_ctzll(~run);
    platform::decommit_pages(slot_address(seg, static_cast<size_t>(lo)),
                             static_cast<size_t>(len) << kSlotShift);
    g_purged.fetch_add(static_cast<uint64_t>(len) << kSlotShift, std::memory_order_relaxed);
    mask &= ~(((len == 64) ? ~uint64_t{0} : ((uint64_t{1} << len) - 1)) << lo);
  }
}

ALLOC_INLINE uint64_t slot_bits(size_t idx, size_t count) {
  return ((count >= 64) ? ~uint64_t{0} : ((uint64_t{1} << count) - 1)) << idx;
}

// Free slots of a segment that may be resident.
ALLOC_INLINE uint64_t free_dirty(const Segment* seg) {
  return seg->dirty_mask & ~seg->used_mask & ~uint64_t{1};
}

// Decommits every free dirty slot of the heap (the hard cap, alloc_trim,
// thread exit).
void heap_purge(Heap* h) {
  for (Segment* seg = h->segments; seg != nullptr; seg = seg->next) {
    uint64_t m = free_dirty(seg);
    seg->stale_mask = 0;
    if (m == 0) continue;
    purge_range(seg, m);
    seg->dirty_mask &= ~m;
  }
  h->dirty_free_bytes = 0;
}

void segment_unmap(Segment* seg, size_t bytes) {
  segment_register(seg, false);
  platform::unmap_pages(seg, bytes);
  g_mapped.fetch_sub(bytes, std::memory_order_relaxed);
}

// Decay of the global caches: cached empty segments idle for a decay period
// are decommitted (they stay mapped for reuse); cached huge mappings idle for
// a decay period are unmapped. At most one thread per period does this.
void caches_decay(uint64_t now) {
  uint64_t last = g_decay_tick_ns.load(std::memory_order_relaxed);
  if (now - last < g_decay_ns ||
      !g_decay_tick_ns.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    return;
  }
  if (g_segment_cache_count.load(std::memory_order_relaxed) == 0 &&
      g_huge_cache_count.load(std::memory_order_relaxed) == 0) {
    return;
  }
  Segment* expired = nullptr;
  g_lock.lock();
  for (Segment* seg = g_segment_cache; seg != nullptr; seg = seg->next) {
    uint64_t m = seg->dirty_mask & ~uint64_t{1};
    if (m != 0 && now - seg->freed_ns >= g_decay_ns) {
      purge_range(seg, m);  // madvise under the lock: rare, and bounded by kSegmentCacheMax
      seg->dirty_mask = 0;
    }
  }
  Segment** link = &g_huge_cache;
  while (*link != nullptr) {
    Segment* seg = *link;
    if (now - seg->freed_ns >= g_decay_ns) {
      *link = seg->next;
      g_huge_cache_bytes -= seg->map_size;
      g_huge_cache_count.fetch_sub(1, std::memory_order_relaxed);
      seg->next = expired;
      expired = seg;
    } else {
      link = &seg->next;
    }
  }
  g_lock.unlock();
  while (expired != nullptr) {
    Segment* next = expired->next;
    segment_unmap(expired, expired->map_size);
    expired = next;
  }
}

// Decay policy (two epochs, no per-slot clock): at each tick, free dirty
// slots that were already free at the previous tick (stale_mask) and have
// not been reused since are decommitted; the rest become stale. So memory is
// returned between one and two decay periods (ALLOC_DECAY_MS, default 100 ms)
// after it was last used, and memory freed and reused within a period never
// costs a page fault. Ticks happen on the owner's span operations; an idle
// heap keeps its free memory until its next span operation, alloc_trim or
// thread exit. Cost when no tick is due: one clock read (vDSO).
ALLOC_NOINLINE void heap_decay(Heap* h, uint64_t now) {
  h->decay_tick_ns = now;
  h->active_peak_prev = h->active_peak;
  h->active_peak = h->active_bytes;
  for (Segment* seg = h->segments; seg != nullptr; seg = seg->next) {
    uint64_t fd = free_dirty(seg);
    uint64_t m = seg->stale_mask & fd;
    if (m != 0) {
      purge_range(seg, m);
      seg->dirty_mask &= ~m;
      h->dirty_free_bytes -= static_cast<size_t>(__builtin_popcountll(m)) << kSlotShift;
    }
    seg->stale_mask = fd & ~m;
  }
  caches_decay(now);
}

ALLOC_INLINE void heap_maybe_decay(Heap* h) {
  uint64_t now = platform::now_ns();
  if (now - h->decay_tick_ns >= g_decay_ns) heap_decay(h, now);
}

void segment_unlink(Heap* h, Segment* seg) {
  if (seg->prev) seg->prev->next = seg->next; else h->segments = seg->next;
  if (seg->next) seg->next->prev = seg->prev;
  seg->next = seg->prev = nullptr;
}

// Returns an empty segment to the global cache as it is (its resident pages
// are reused without page faults by the next heap that needs a segment, or
// decommitted by the decay); when the cache is full the segment is unmapped.
void segment_release(Heap* h, Segment* seg) {
  segment_unlink(h, seg);
  h->empty_segments--;
  h->dirty_free_bytes -= static_cast<size_t>(__builtin_popcountll(free_dirty(seg))) << kSlotShift;
  seg->heap = nullptr;
  seg->stale_mask = 0;
  seg->freed_ns = platform::now_ns();
  g_lock.lock();
  if (g_segment_cache_count.load(std::memory_order_relaxed) < kSegmentCacheMax) {
    seg->next = g_segment_cache;
    g_segment_cache = seg;
    g_segment_cache_count++;
    g_lock.unlock();
    return;
  }
  g_lock.unlock();
  segment_unmap(seg, kSegmentSize);
  g_segments.fetch_sub(1, std::memory_order_relaxed);
}

// Unmaps every cached segment and cached huge mapping (alloc_trim).
void caches_flush() {
  g_lock.lock();
  Segment* list = g_segment_cache;
  g_segment_cache = nullptr;
  g_segment_cache_count.store(0, std::memory_order_relaxed);
  Segment* huge = g_huge_cache;
  g_huge_cache = nullptr;
  g_huge_cache_bytes = 0;
  g_huge_cache_count.store(0, std::memory_order_relaxed);
  g_lock.unlock();
  while (list != nullptr) {
    Segment* next = list->next;
    segment_unmap(list, kSegmentSize);
    g_segments.fetch_sub(1, std::memory_order_relaxed);
    list = next;
  }
  while (huge != nullptr) {
    Segment* next = huge->next;
    segment_unmap(huge, huge->map_size);
    huge = next;
  }
}

void reclaim_abandoned_one();

Segment* segment_acquire(Heap* h) {
  Segment* seg = nullptr;
  if (g_segment_cache_count.load(std::memory_order_relaxed) != 0) {  // checked again under the lock
    g_lock.lock();
    seg = g_segment_cache;
    if (seg != nullptr) {
      g_segment_cache = seg->next;
      g_segment_cache_count--;
    }
    g_lock.unlock();
  }
  if (seg == nullptr) {
    // Before growing, help return the memory of exited threads.
    if (g_abandoned_count.load(std::memory_order_relaxed) != 0) reclaim_abandoned_one();
    seg = static_cast<Segment*>(platform::map_aligned(kSegmentSize, kSegmentSize));
    if (seg == nullptr) return nullptr;
    g_mapped.fetch_add(kSegmentSize, std::memory_order_relaxed);
    g_segments.fetch_add(1, std::memory_order_relaxed);
    seg->dirty_mask = 0;
    segment_register(seg, true);
  }
  h->dirty_free_bytes += static_cast<size_t>(__builtin_popcountll(seg->dirty_mask & ~uint64_t{1})) << kSlotShift;
  seg->kind = kSegmentSmall;
  seg->heap = h;
  seg->used_mask = 1;
  seg->stale_mask = 0;
  seg->map_size = kSegmentSize;
  seg->huge_offset = 0;
  seg->pages[0].delta = 0;
  seg->pages[0].block_size = 0;
  seg->pages[0].flags = 0;
  seg->prev = nullptr;
  seg->next = h->segments;
  if (h->segments) h->segments->prev = seg;
  h->segments = seg;
  h->empty_segments++;
  return seg;
}

// Start positions of runs of `n` (>= 1) set bits in `free_mask`. Cost: about
// log2(n) shift-and steps (bit i of m_k says slots i..i+k-1 are all free).
ALLOC_INLINE uint64_t run_starts(uint64_t free_mask, size_t n) {
  uint64_t m = free_mask;
  size_t have = 1;
  while (have * 2 <= n && m != 0) {
    m &= m >> have;
    have *= 2;
  }
  if (have < n) m &= m >> (n - have);
  return m;
}

// Allocates a span of `slots` slots. Placement, best first: a run whose
// slots are all dirty (already resident: no page faults and no RSS growth),
// then a run starting on a dirty slot, then the first fit. Sets *clean if
// every slot is known to read zero. Cost: a few bit operations per segment.
Page* span_alloc(Heap* h, size_t slots, bool* clean) {
  heap_maybe_decay(h);
  Segment* seg = nullptr;
  uint64_t starts = 0;
  int rank = -1;
  for (Segment* s = h->segments; s != nullptr; s = s->next) {
    uint64_t free_mask = ~s->used_mask;
    uint64_t any = run_starts(free_mask, slots);
    if (any == 0) continue;
    uint64_t hot = run_starts(free_mask & s->dirty_mask, slots);
    if (hot != 0) {
      seg = s;
      starts = hot;
      break;
    }
    int r = (any & s->dirty_mask) != 0 ? 1 : 0;
    if (r > rank) {
      rank = r;
      seg = s;
      starts = r == 1 ? (any & s->dirty_mask) : any;
    }
  }
  if (seg == nullptr) {
    seg = segment_acquire(h);
    if (seg == nullptr) return nullptr;
    starts = run_starts(~seg->used_mask, slots);
    uint64_t hot = run_starts(~seg->used_mask & seg->dirty_mask, slots);
    if (hot != 0) starts = hot;
  }
  int idx = __builtin_ctzll(starts);
  uint64_t bits = slot_bits(static_cast<size_t>(idx), slots);
  if (seg->used_mask == 1) h->empty_segments--;
  uint64_t was_dirty = bits & seg->dirty_mask;
  h->dirty_free_bytes -= static_cast<size_t>(__builtin_popcountll(was_dirty)) << kSlotShift;
  *clean = was_dirty == 0;
  seg->used_mask |= bits;
  seg->dirty_mask |= bits;
  seg->stale_mask &= ~bits;
  Page* pg = &seg->pages[idx];
  for (size_t k = 1; k < slots; ++k) seg->pages[idx + k].delta = static_cast<uint32_t>(k * sizeof(Page));
  pg->delta = 0;
  pg->slots = static_cast<uint8_t>(slots);
  pg->start = slot_address(seg, static_cast<size_t>(idx));
  g_active.fetch_add(slots << kSlotShift, std::memory_order_relaxed);
  h->active_bytes += slots << kSlotShift;
  if (h->active_bytes > h->active_peak) h->active_peak = h->active_bytes;
  return pg;
}

// Hard cap on a heap's free resident memory, whatever the decay: it bounds
// RSS when a heap frees much more than it reuses within a decay period. The
// bound is the heap's peak of active bytes over the current and the previous
// decay epoch, so a heap that frees its whole live set and builds it again
// within a period (a phase change, a request cycle) keeps its pages resident
// and takes no page faults; the decay still returns them after 1-2 periods.
ALLOC_INLINE void heap_check_cap(Heap* h) {
  size_t peak = h->active_peak > h->active_peak_prev ? h->active_peak : h->active_peak_prev;
  if (h->active_bytes > peak) peak = h->active_bytes;
  size_t limit = peak / kPurgeCapFraction;
  if (h->dirty_free_bytes > (limit > kPurgeCapMin ? limit : kPurgeCapMin)) heap_purge(h);
}

void span_free(Heap* h, Page* pg) {
  Segment* seg = segment_of(pg);
  size_t idx = slot_index(seg, pg);
  size_t slots = pg->slots;
  seg->used_mask &= ~slot_bits(idx, slots);
  pg->cls = 0;
  pg->flags = 0;
  h->dirty_free_bytes += slots << kSlotShift;
  g_active.fetch_sub(slots << kSlotShift, std::memory_order_relaxed);
  h->active_bytes -= slots << kSlotShift;
  if (seg->used_mask == 1) {
    h->empty_segments++;
    if (h->empty_segments > kMaxSpareSegments) segment_release(h, seg);
  }
  heap_maybe_decay(h);
  heap_check_cap(h);
}

// Resizes a large span in place to `slots` slots: shrinking gives the tail
// slots back to the segment; growing takes the slots right after the span if
// they are free. Returns false (span untouched) if growing is impossible.
bool span_resize(Heap* h, Page* pg, size_t slots) {
  Segment* seg = segment_of(pg);
  size_t idx = slot_index(seg, pg);
  size_t cur = pg->slots;
  if (slots < cur) {
    seg->used_mask &= ~slot_bits(idx + slots, cur - slots);
    h->dirty_free_bytes += (cur - slots) << kSlotShift;
  } else if (slots > cur) {
    if (idx + slots > static_cast<size_t>(kSlotsPerSegment)) return false;
    uint64_t bits = slot_bits(idx + cur, slots - cur);
    if ((seg->used_mask & bits) != 0) return false;
    h->dirty_free_bytes -= static_cast<size_t>(__builtin_popcountll(bits & seg->dirty_mask)) << kSlotShift;
    seg->used_mask |= bits;
    seg->dirty_mask |= bits;
    seg->stale_mask &= ~bits;
    for (size_t k = cur; k < slots; ++k) seg->pages[idx + k].delta = static_cast<uint32_t>(k * sizeof(Page));
  } else {
    return true;
  }
  g_active.fetch_add((slots << kSlotShift) - (cur << kSlotShift), std::memory_order_relaxed);
  h->active_bytes += (slots << kSlotShift) - (cur << kSlotShift);  // wraps correctly when shrinking
  if (h->active_bytes > h->active_peak) h->active_peak = h->active_bytes;
  pg->slots = static_cast<uint8_t>(slots);
  pg->block_size = static_cast<uint32_t>(slots << kSlotShift);
  if (slots < cur) heap_check_cap(h);
  return true;
}

// ---------------------------------------------------------------------------
// Page queues (owner heap only)
// ---------------------------------------------------------------------------

ALLOC_INLINE void update_direct(Heap* h, int cls) {
  if (!g_debug) h->direct[cls] = h->queues[cls].first ? h->queues[cls].first : &g_empty_page;
}

void queue_remove(PageQueue* q, Page* pg) {
  if (pg->prev) pg->prev->next = pg->next; else q->first = pg->next;
  if (pg->next) pg->next->prev = pg->prev; else q->last = pg->prev;
  pg->next = pg->prev = nullptr;
}
void queue_push_front(PageQueue* q, Page* pg) {
  pg->prev = nullptr;
  pg->next = q->first;
  if (q->first) q->first->prev = pg; else q->last = pg;
  q->first = pg;
}
void queue_push_back(PageQueue* q, Page* pg) {
  pg->next = nullptr;
  pg->prev = q->last;
  if (q->last) q->last->next = pg; else q->first = pg;
  q->last = pg;
}

// The list a page currently sits on.
PageQueue* queue_of(Heap* h, Page* pg) {
  if (pg->flags & kPageLarge) return &h->large;
  if (pg->flags & kPageFull) return &h->full;
  return &h->queues[pg->cls];
}

// ---------------------------------------------------------------------------
// Pages (owner heap only)
// ---------------------------------------------------------------------------

constexpr uint8_t kPoisonByte = 0xdf;
constexpr uint8_t kCanaryByte = 0xcb;

// Carves the next batch of never-used blocks into the free list.
void page_extend(Page* pg) {
  uint32_t left = pg->capacity - pg->reserved;
  if (left == 0) return;
  uint32_t batch = static_cast<uint32_t>(kExtendBytes / pg->block_size);
  if (batch == 0) batch = 1;
  if (batch > left) batch = left;
  size_t bs = pg->block_size;
  char* first = pg->start + static_cast<size_t>(pg->reserved) * bs;
  char* b = first;
  for (uint32_t i = 0; i + 1 < batch; ++i, b += bs) {
    reinterpret_cast<Block*>(b)->next = reinterpret_cast<Block*>(b + bs);
  }
  reinterpret_cast<Block*>(b)->next = pg->free;
  pg->free = reinterpret_cast<Block*>(first);
  pg->reserved += batch;
  if (pg->flags & kPageDebug) {
    for (char* c = first; c <= b; c += bs) {
      memset(c + 8, 0, 8);
      memset(c + 16, kPoisonByte, bs - 16);
    }
  }
}

// Takes the whole remote-free list (kNotify must be clear). Returns blocks taken.
uint32_t collect_remote(Page* pg) {
  if (pg->remote.load(std::memory_order_relaxed) == 0) return 0;
  uintptr_t r = pg->remote.exchange(0, std::memory_order_acquire);
  Block* head = reinterpret_cast<Block*>(r & ~kNotify);
  if (head == nullptr) return 0;
  uint32_t n = 1;
  Block* tail = head;
  while (tail->next != nullptr) {
    tail = tail->next;
    ++n;
  }
  tail->next = pg->free;
  pg->free = head;
  pg->used -= n;
  return n;
}

void page_init(Heap* h, Page* pg, int cls) {
  pg->free = nullptr;
  pg->used = 0;
  pg->flags = g_debug ? kPageDebug : 0;
  pg->cls = static_cast<uint8_t>(cls);
  pg->block_size = kClasses.size[cls];
  pg->capacity = static_cast<uint32_t>((static_cast<size_t>(pg->slots) << kSlotShift) / pg->block_size);
  pg->reserved = 0;
  pg->remote.store(0, std::memory_order_relaxed);
  pg->next = pg->prev = pg->delayed_next = nullptr;
  (void)h;
}

// Frees the span of a page with no live block (not on the delayed stack).
void page_retire(Heap* h, Page* pg) {
  int cls = pg->cls;
  bool in_class_queue = !(pg->flags & (kPageLarge | kPageFull));
  queue_remove(queue_of(h, pg), pg);
  if (in_class_queue) update_direct(h, cls);
  span_free(h, pg);
}

// A page's last block came back. Keeps the page if it is the only one of
// its class with free blocks (so alloc/free of one object doesn't map and
// unmap spans), else gives the span back to the segment.
ALLOC_NOINLINE void page_empty(Heap* h, Page* pg) {
  if (pg->flags & kPageOnStack) return;  // retired when the delayed list is drained
  if (!(pg->flags & (kPageLarge | kPageFull))) {
    PageQueue* q = &h->queues[pg->cls];
    if (q->first == pg && q->last == pg) return;
  }
  page_retire(h, pg);
}

// Arms kNotify on a page without free blocks and moves it to the full list.
// Returns false (after collecting them) if remote frees were pending.
bool page_mark_full(Heap* h, Page* pg) {
  uintptr_t expected = 0;
  if (!pg->remote.compare_exchange_strong(expected, kNotify, std::memory_order_acq_rel,
                                          std::memory_order_relaxed)) {
    collect_remote(pg);
    return false;
  }
  int cls = pg->cls;
  queue_remove(&h->queues[cls], pg);
  update_direct(h, cls);
  pg->flags |= kPageFull;
  queue_push_back(&h->full, pg);
  return true;
}

// The owner freed into a full page (or a large span): disarm kNotify. If a
// remote thread claimed it first, the page is on `delayed` and stays until drained.
void page_unfull(Heap* h, Page* pg) {
  uintptr_t old = pg->remote.fetch_and(~kNotify, std::memory_order_acq_rel);
  if (!(old & kNotify)) pg->flags |= kPageOnStack;
  if (pg->flags & kPageLarge) {
    pg->flags &= static_cast<uint8_t>(~kPageFull);
    return;
  }
  queue_remove(&h->full, pg);
  pg->flags &= static_cast<uint8_t>(~kPageFull);
  queue_push_back(&h->queues[pg->cls], pg);
  update_direct(h, pg->cls);
}

// Takes the pages remote threads pushed (full pages that received remote
// frees): back to their class queue, remote blocks collected, empty ones retired.
void heap_drain_delayed(Heap* h) {
  if (h->delayed.load(std::memory_order_relaxed) == nullptr) return;
  Page* pg = h->delayed.exchange(nullptr, std::memory_order_acquire);
  while (pg != nullptr) {
    Page* next = pg->delayed_next;
    pg->flags &= static_cast<uint8_t>(~kPageOnStack);
    if (pg->flags & kPageFull) {
      pg->flags &= static_cast<uint8_t>(~kPageFull);
      if (!(pg->flags & kPageLarge)) {
        queue_remove(&h->full, pg);
        queue_push_back(&h->queues[pg->cls], pg);
        update_direct(h, pg->cls);
      }
    }
    collect_remote(pg);
    if (pg->used == 0) page_empty(h, pg);
    pg = next;
  }
}

// Finds (or makes) a page of class `cls` with a free block, at the front of
// its queue. Returns nullptr when out of memory.
Page* page_find(Heap* h, int cls) {
  heap_drain_delayed(h);
  PageQueue* q = &h->queues[cls];
  Page* pg = q->first;
  while (pg != nullptr) {
    Page* next = pg->next;
    if (pg->free == nullptr) collect_remote(pg);
    if (pg->free == nullptr) page_extend(pg);
    if (pg->free != nullptr || !page_mark_full(h, pg)) {
      if (pg->free != nullptr) {
        if (q->first != pg) {
          queue_remove(q, pg);
          queue_push_front(q, pg);
        }
        update_direct(h, cls);
        return pg;
      }
    }
    pg = next;
  }
  bool clean;
  pg = span_alloc(h, kClasses.slots[cls], &clean);
  if (pg == nullptr) return nullptr;
  page_init(h, pg, cls);
  page_extend(pg);
  queue_push_front(q, pg);
  update_direct(h, cls);
  return pg;
}

// ---------------------------------------------------------------------------
// Allocation paths
// ---------------------------------------------------------------------------

ALLOC_NOINLINE void* alloc_class_slow(Heap* h, int cls) {
  Page* pg = page_find(h, cls);
  if (pg == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  Block* b = pg->free;
  pg->free = b->next;
  pg->used++;
  count_alloc(h, pg->block_size);
  return b;
}

// Single-block span of up to kLargeMax bytes, 64 KiB aligned.
void* alloc_large(Heap* h, size_t n, bool* clean) {
  size_t slots = (n + kSlotSize - 1) >> kSlotShift;
  Page* pg = span_alloc(h, slots, clean);
  if (pg == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  pg->free = nullptr;
  pg->used = 1;
  pg->flags = static_cast<uint8_t>(kPageLarge | kPageFull | (g_debug ? kPageDebug : 0));
  pg->cls = 0;
  pg->block_size = static_cast<uint32_t>(slots << kSlotShift);
  pg->capacity = 1;
  pg->reserved = 1;
  pg->remote.store(kNotify, std::memory_order_relaxed);
  pg->delayed_next = nullptr;
  queue_push_back(&h->large, pg);
  count_alloc(h, pg->block_size);
  return pg->start;
}

// Takes the best-fitting cached huge mapping for a block needing `total`
// bytes (header included): the smallest one at least that large (its tail is
// unmapped if more than a quarter would be waste), else the largest smaller
// one, grown by moving its pages (mremap, no copy, only the new tail faults).
// Returns nullptr if the cache has nothing usable.
Segment* huge_cache_take(size_t total) {
  if (g_huge_cache_count.load(std::memory_order_relaxed) == 0) return nullptr;  // checked again under the lock
  g_lock.lock();
  Segment** best = nullptr;
  Segment** below = nullptr;
  for (Segment** link = &g_huge_cache; *link != nullptr; link = &(*link)->next) {
    size_t sz = (*link)->map_size;
    if (sz >= total) {
      if (best == nullptr || sz < (*best)->map_size) best = link;
    } else if (below == nullptr || sz > (*below)->map_size) {
      below = link;
    }
  }
  Segment** pick = best != nullptr ? best : below;
  Segment* seg = nullptr;
  if (pick != nullptr) {
    seg = *pick;
    *pick = seg->next;
    g_huge_cache_bytes -= seg->map_size;
    g_huge_cache_count.fetch_sub(1, std::memory_order_relaxed);
  }
  g_lock.unlock();
  if (seg == nullptr) return nullptr;
  size_t old_total = seg->map_size;
  if (old_total >= total) {
    if (old_total - total > total / 4) {
      platform::unmap_pages(reinterpret_cast<char*>(seg) + total, old_total - total);
      g_mapped.fetch_sub(old_total - total, std::memory_order_relaxed);
      seg->map_size = total;
    }
    return seg;
  }
  void* dest = platform::map_aligned(total, kSegmentSize);
  if (dest != nullptr && platform::remap_pages_to(seg, old_total, total, dest) == 0) {
    segment_register(seg, false);
    seg = static_cast<Segment*>(dest);
    seg->map_size = total;
    segment_register(seg, true);
    g_mapped.fetch_add(total - old_total, std::memory_order_relaxed);
    return seg;
  }
  if (dest != nullptr) platform::unmap_pages(dest, total);
  segment_unmap(seg, old_total);
  return nullptr;
}

// Directly mapped block (or a cached one); `alignment` <= kMaxAlignment.
// Sets *zeroed when the memory reads zero (fresh mapping).
void* alloc_huge(Heap* h, size_t n, size_t alignment, bool* zeroed) {
  size_t off = alignment > kHugeHeader ? alignment : kHugeHeader;
  size_t ps = platform::page_size();
  if (n > PTRDIFF_MAX - off - ps) {
    errno = ENOMEM;
    return nullptr;
  }
  size_t total = (off + n + ps - 1) & ~(ps - 1);
  Segment* seg = huge_cache_take(total);
  *zeroed = seg == nullptr;
  if (seg == nullptr) {
    seg = static_cast<Segment*>(platform::map_aligned(total, kSegmentSize));
    if (seg == nullptr) {
      errno = ENOMEM;
      return nullptr;
    }
    seg->map_size = total;
    segment_register(seg, true);
    g_mapped.fetch_add(total, std::memory_order_relaxed);
  }
  seg->kind = kSegmentHuge;
  seg->heap = nullptr;
  seg->huge_offset = off;
  g_active.fetch_add(seg->map_size, std::memory_order_relaxed);
  g_huge_live.fetch_add(1, std::memory_order_relaxed);
  count_alloc(h, seg->map_size - off);
  return reinterpret_cast<char*>(seg) + off;
}

// Resizes a huge block in place (shrink: unmap the tail) or by moving its
// pages to a new 4 MiB-aligned range with mremap (no copy). Returns nullptr
// if that is impossible; the block is then untouched.
void* realloc_huge(Heap* h, Segment* seg, size_t n) {
  size_t ps = platform::page_size();
  size_t off = seg->huge_offset;
  size_t old_total = seg->map_size;
  if (n > PTRDIFF_MAX - off - ps) return nullptr;
  size_t new_total = (off + n + ps - 1) & ~(ps - 1);
  if (new_total <= old_total) {
    if (new_total < old_total) {
      platform::unmap_pages(reinterpret_cast<char*>(seg) + new_total, old_total - new_total);
      seg->map_size = new_total;
      g_mapped.fetch_sub(old_total - new_total, std::memory_order_relaxed);
      g_active.fetch_sub(old_total - new_total, std::memory_order_relaxed);
      count_free(h, old_total - off);
      count_alloc(h, new_total - off);
    }
    return reinterpret_cast<char*>(seg) + off;
  }
  void* dest = platform::map_aligned(new_total, kSegmentSize);
  if (dest == nullptr) return nullptr;
  if (platform::remap_pages_to(seg, old_total, new_total, dest) != 0) {
    platform::unmap_pages(dest, new_total);
    return nullptr;
  }
  segment_register(seg, false);
  seg = static_cast<Segment*>(dest);
  seg->map_size = new_total;
  segment_register(seg, true);
  g_mapped.fetch_add(new_total - old_total, std::memory_order_relaxed);
  g_active.fetch_add(new_total - old_total, std::memory_order_relaxed);
  count_free(h, old_total - off);
  count_alloc(h, new_total - off);
  return reinterpret_cast<char*>(seg) + off;
}

// Puts a freed huge mapping into the global cache (kept resident, so its
// next user takes no page faults); the oldest entries beyond kHugeCacheMax
// entries or max(kHugeCacheMaxBytes, active bytes) are unmapped, and the decay unmaps entries
// left unused for a decay period. Larger mappings are unmapped at once.
void free_huge(Heap* h, Segment* seg) {
  size_t total = seg->map_size;
  count_free(h, total - seg->huge_offset);
  g_active.fetch_sub(total, std::memory_order_relaxed);
  g_huge_live.fetch_sub(1, std::memory_order_relaxed);
  uint64_t now = platform::now_ns();
  if (total > kHugeCacheMaxBytes / 2 || g_decay_ns == 0) {
    segment_unmap(seg, total);
    caches_decay(now);
    return;
  }
  seg->freed_ns = now;
  Segment* evicted = nullptr;
  g_lock.lock();
  seg->next = g_huge_cache;
  g_huge_cache = seg;
  g_huge_cache_bytes += total;
  g_huge_cache_count.fetch_add(1, std::memory_order_relaxed);
  // Retained huge memory stays bounded by live memory (as the span hard cap).
  size_t active = static_cast<size_t>(g_active.load(std::memory_order_relaxed));
  size_t cap_bytes = active > kHugeCacheMaxBytes ? active : kHugeCacheMaxBytes;
  while (g_huge_cache_count.load(std::memory_order_relaxed) > kHugeCacheMax ||
         g_huge_cache_bytes > cap_bytes) {
    Segment** link = &g_huge_cache;
    while ((*link)->next != nullptr) link = &(*link)->next;  // the oldest is last
    Segment* old = *link;
    *link = nullptr;
    g_huge_cache_bytes -= old->map_size;
    g_huge_cache_count.fetch_sub(1, std::memory_order_relaxed);
    old->next = evicted;
    evicted = old;
  }
  g_lock.unlock();
  while (evicted != nullptr) {
    Segment* next = evicted->next;
    segment_unmap(evicted, evicted->map_size);
    evicted = next;
  }
  caches_decay(now);
}

Heap* current_heap_for_alloc() {
  Heap* h = tl_heap;
  if (ALLOC_UNLIKELY(h == &g_empty_heap)) h = thread_heap_init();
  return h;
}

// Allocation without debug checks. `alignment` is a power of two <= kMaxAlignment.
// Sets *zeroed when the memory is known to read zero.
void* core_alloc(size_t n, size_t alignment, bool* zeroed) {
  *zeroed = false;
  if (ALLOC_UNLIKELY(n > static_cast<size_t>(PTRDIFF_MAX))) {
    errno = ENOMEM;
    return nullptr;
  }
  Heap* h = current_heap_for_alloc();
  if (h == &g_empty_heap) {
    errno = ENOMEM;
    return nullptr;
  }
  if (n <= kMaxClassSize && alignment <= kSlotSize) {
    int cls = size_to_class(n);
    while (kClasses.align[cls] < alignment) ++cls;
    Page* pg = h->direct[cls];
    Block* b = pg->free;
    if (b != nullptr) {
      pg->free = b->next;
      pg->used++;
      count_alloc(h, pg->block_size);
      return b;
    }
    return alloc_class_slow(h, cls);
  }
  if (n <= kLargeMax && alignment <= kSlotSize) return alloc_large(h, n, zeroed);
  return alloc_huge(h, n, alignment, zeroed);
}

// ---------------------------------------------------------------------------
// Free paths
// ---------------------------------------------------------------------------

// Pushes a block onto another heap's page. Lock-free; only push and
// take-all exist, so the list has no ABA problem. If the owner armed
// kNotify, the first pusher claims it and pushes the page onto the owner's
// delayed list *before* publishing its block, so the page cannot be
// retired while it is on that list.
void free_remote(Segment* seg, Page* pg, Block* b) {
  uintptr_t old = pg->remote.load(std::memory_order_relaxed);
  for (;;) {
    if (old & kNotify) {
      if (!pg->remote.compare_exchange_weak(old, old & ~kNotify, std::memory_order_acq_rel,
                                            std::memory_order_relaxed)) {
        continue;
      }
      Heap* owner = seg->heap;
      Page* head = owner->delayed.load(std::memory_order_relaxed);
      do {
        pg->delayed_next = head;
      } while (!owner->delayed.compare_exchange_weak(head, pg, std::memory_order_release,
                                                     std::memory_order_relaxed));
      old &= ~kNotify;
    }
    b->next = reinterpret_cast<Block*>(old);
    if (pg->remote.compare_exchange_weak(old, reinterpret_cast<uintptr_t>(b),
                                         std::memory_order_release, std::memory_order_relaxed)) {
      return;
    }
  }
}

// Free without debug checks, any path except the inlined fast path.
void core_free(void* p) {
  Segment* seg = segment_of(p);
  Heap* h = tl_heap;
  if (seg->kind == kSegmentHuge) {
    free_huge(h, seg);
    return;
  }
  Page* pg = page_of(seg, p);
  Block* b = static_cast<Block*>(p);
  count_free(h, pg->block_size);
  if (seg->heap == h) {
    b->next = pg->free;
    pg->free = b;
    pg->used--;
    if (pg->flags & kPageFull) page_unfull(h, pg);
    if (pg->used == 0) page_empty(h, pg);
  } else {
    free_remote(seg, pg, b);
  }
}

size_t core_usable_size(const void* p) {
  Segment* seg = segment_of(p);
  if (seg->kind == kSegmentHuge) return seg->map_size - seg->huge_offset;
  return page_of(seg, p)->block_size;
}

// ---------------------------------------------------------------------------
// Debug mode: header before the block, canary after it, poison when free.
// Layout of a block: [0,8) free-list link, [8,16) offset of the last freed
// header, ..., header at user-16, user bytes, 8 canary bytes.
// ---------------------------------------------------------------------------

constexpr uint32_t kMagicLive = 0xa110ca7e;
constexpr uint32_t kMagicFreed = 0xf4eedb10;
constexpr size_t kCanarySize = 8;

struct DebugHeader {
  uint32_t magic;   // kMagicLive or kMagicFreed
  uint32_t offset;  // user pointer - block start
  uint64_t size;    // requested size
};

bool is_class_block(Segment* seg, Page* pg) { return seg->kind == kSegmentSmall && !(pg->flags & kPageLarge); }

void* debug_alloc(size_t n, size_t alignment) {
  if (alignment < 16) alignment = 16;
  size_t off = alignment > 32 ? alignment : 32;
  if (n > static_cast<size_t>(PTRDIFF_MAX) - off - kCanarySize) {
    errno = ENOMEM;
    return nullptr;
  }
  bool zeroed;
  char* raw = static_cast<char*>(core_alloc(off + n + kCanarySize, alignment, &zeroed));
  if (raw == nullptr) return nullptr;
  Segment* seg = segment_of(raw);
  if (seg->kind == kSegmentSmall) {
    Page* pg = page_of(seg, raw);
    if (is_class_block(seg, pg)) {
      uint64_t woff;
      memcpy(&woff, raw + 8, 8);
      size_t bs = pg->block_size;
      bool window = woff >= 32 && woff < bs && (woff & 15) == 0;
      for (size_t i = 16; i < bs; ++i) {
        if (window && i >= woff - 16 && i < woff) continue;
        if (static_cast<uint8_t>(raw[i]) != kPoisonByte) {
          report_and_abort("write after free detected (freed block modified)", raw + (window ? woff : 32));
        }
      }
    }
  }
  char* user = raw + off;
  DebugHeader hdr{kMagicLive, static_cast<uint32_t>(off), n};
  memcpy(user - 16, &hdr, sizeof hdr);
  memset(user + n, kCanaryByte, kCanarySize);
  return user;
}

// Validates a pointer passed to free/realloc/usable_size in debug mode and
// returns its header. Aborts with a message on misuse.
DebugHeader debug_check(const void* p, const char* op_invalid, char** raw_out) {
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  Segment* seg = segment_of(p);
  if ((a & 15) != 0 || !segment_registered(seg)) report_and_abort(op_invalid, p);
  size_t off_in_seg = a - reinterpret_cast<uintptr_t>(seg);
  if (seg->kind == kSegmentSmall) {
    size_t idx = off_in_seg >> kSlotShift;
    if (idx == 0 || !((seg->used_mask >> idx) & 1)) {
      report_and_abort("invalid free or double free (pointer is not in an allocated span)", p);
    }
  } else if (seg->kind != kSegmentHuge || off_in_seg < kHugeHeader) {
    report_and_abort(op_invalid, p);
  }
  DebugHeader hdr;
  memcpy(&hdr, static_cast<const char*>(p) - 16, sizeof hdr);
  if (hdr.magic == kMagicFreed) report_and_abort("double free detected", p);
  if (hdr.magic != kMagicLive || hdr.offset < 32 || (hdr.offset & 15) != 0 || hdr.offset > off_in_seg) {
    report_and_abort(op_invalid, p);
  }
  char* raw = const_cast<char*>(static_cast<const char*>(p)) - hdr.offset;
  size_t usable;
  if (seg->kind == kSegmentHuge) {
    if (raw != reinterpret_cast<char*>(seg) + seg->huge_offset) report_and_abort(op_invalid, p);
    usable = seg->map_size - seg->huge_offset;
  } else {
    size_t raw_idx = (reinterpret_cast<uintptr_t>(raw) - reinterpret_cast<uintptr_t>(seg)) >> kSlotShift;
    if (raw_idx == 0 || !((seg->used_mask >> raw_idx) & 1)) report_and_abort(op_invalid, p);
    Page* pg = page_of(seg, raw);
    if (raw < pg->start || pg->block_size == 0) report_and_abort(op_invalid, p);
    size_t rel = static_cast<size_t>(raw - pg->start);
    if (rel % pg->block_size != 0 || rel / pg->block_size >= pg->reserved) report_and_abort(op_invalid, p);
    usable = pg->block_size;
  }
  if (hdr.size > usable || hdr.offset + hdr.size + kCanarySize > usable) report_and_abort(op_invalid, p);
  *raw_out = raw;
  return hdr;
}

void debug_free(void* p) {
  char* raw;
  DebugHeader hdr = debug_check(p, "invalid free (not a pointer returned by malloc)", &raw);
  const char* user = static_cast<const char*>(p);
  for (size_t i = 0; i < kCanarySize; ++i) {
    if (static_cast<uint8_t>(user[hdr.size + i]) != kCanaryByte) {
      report_and_abort("heap buffer overflow detected (canary after the block overwritten)", p);
    }
  }
  Segment* seg = segment_of(raw);
  if (seg->kind == kSegmentSmall) {
    Page* pg = page_of(seg, raw);
    if (is_class_block(seg, pg)) {
      memset(raw + 16, kPoisonByte, pg->block_size - 16);
      uint64_t woff = hdr.offset;
      memcpy(raw + 8, &woff, 8);
    }
  }
  hdr.magic = kMagicFreed;
  memcpy(static_cast<char*>(p) - 16, &hdr, sizeof hdr);
  core_free(raw);
}

// ---------------------------------------------------------------------------
// Public operations
// ---------------------------------------------------------------------------

ALLOC_NOINLINE void* malloc_slow(size_t n) {
  ensure_init();
  if (g_debug) return debug_alloc(n, 16);
  bool zeroed;
  return core_alloc(n, 16, &zeroed);
}

// Fast path: in release builds about 15 instructions with one branch to the
// slow path (class lookup, TLS load, direct page, free-list pop, counters).
ALLOC_INLINE void* do_malloc(size_t n) {
  if (ALLOC_LIKELY(n <= kMaxClassSize)) {
    Heap* h = tl_heap;
    Page* pg = h->direct[size_to_class(n)];
    Block* b = pg->free;
    if (ALLOC_LIKELY(b != nullptr)) {
      pg->free = b->next;
      pg->used++;
      h->allocs.add(1);
      h->alloc_bytes.add(pg->block_size);
      return b;
    }
  }
  return malloc_slow(n);
}

ALLOC_NOINLINE void free_slow(void* p) {
  int saved = errno;
  ensure_init();  // a free before any allocation must still see the debug switch
  if (g_debug) {
    debug_free(p);
  } else {
    core_free(p);
  }
  errno = saved;
}

// Fast path: a mask, two loads to find the page, one compare for the owner
// and flags, a push; no atomics.
ALLOC_INLINE void do_free(void* p) {
  if (ALLOC_UNLIKELY(p == nullptr)) return;
  Segment* seg = segment_of(p);
  Heap* h = tl_heap;
  if (ALLOC_LIKELY(seg->heap == h)) {
    Page* pg = page_of(seg, p);
    if (ALLOC_LIKELY(pg->flags == 0)) {
      Block* b = static_cast<Block*>(p);
      b->next = pg->free;
      pg->free = b;
      h->frees.add(1);
      h->free_bytes.add(pg->block_size);
      if (ALLOC_UNLIKELY(--pg->used == 0)) page_empty(h, pg);
      return;
    }
  }
  free_slow(p);
}

void* do_aligned(size_t alignment, size_t n) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    errno = EINVAL;
    return nullptr;
  }
  if (alignment <= 16) return do_malloc(n);
  if (alignment > kMaxAlignment || n > static_cast<size_t>(PTRDIFF_MAX)) {
    errno = ENOMEM;
    return nullptr;
  }
  ensure_init();
  if (g_debug) return debug_alloc(n, alignment);
  bool zeroed;
  return core_alloc(n, alignment, &zeroed);
}

size_t do_usable_size(const void* p) {
  if (p == nullptr) return 0;
  if (g_debug) {
    char* raw;
    return debug_check(p, "invalid pointer passed to malloc_usable_size", &raw).size;
  }
  return core_usable_size(p);
}

void* do_calloc(size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n) || n > static_cast<size_t>(PTRDIFF_MAX)) {
    errno = ENOMEM;
    return nullptr;
  }
  ensure_init();
  if (g_debug) {
    void* p = debug_alloc(n, 16);
    if (p != nullptr) memset(p, 0, n);
    return p;
  }
  bool zeroed;
  void* p = core_alloc(n, 16, &zeroed);
  if (p != nullptr && !zeroed) memset(p, 0, n);
  return p;
}

void* do_realloc(void* p, size_t n) {
  if (p == nullptr) return do_malloc(n);
  if (n == 0) {
    do_free(p);
    return nullptr;
  }
  if (n > static_cast<size_t>(PTRDIFF_MAX)) {
    errno = ENOMEM;
    return nullptr;
  }
  size_t old;
  if (g_debug) {
    char* raw;
    old = debug_check(p, "invalid pointer passed to realloc", &raw).size;
  } else {
    Segment* seg = segment_of(p);
    if (seg->kind == kSegmentHuge && n > kLargeMax) {
      void* q = realloc_huge(tl_heap, seg, n);
      if (q != nullptr) return q;
    } else if (seg->kind == kSegmentSmall && seg->heap == tl_heap && n > kMaxClassSize / 2 && n <= kLargeMax) {
      // A large span of this thread's heap grows into the free slots after it
      // or gives back its tail, without copying.
      Page* pg = page_of(seg, p);
      if (pg->flags & kPageLarge) {
        Heap* h = tl_heap;
        uint32_t old_bytes = pg->block_size;
        if (span_resize(h, pg, (n + kSlotSize - 1) >> kSlotShift)) {
          h->free_bytes.add(old_bytes);
          h->alloc_bytes.add(pg->block_size);
          return p;
        }
      }
    }
    old = core_usable_size(p);
    // Keep the block when it fits and is not more than twice too large.
    if (n <= old && (n >= old / 2 || old <= 32)) return p;
  }
  void* q = do_malloc(n);
  if (q == nullptr) return nullptr;
  memcpy(q, p, old < n ? old : n);
  do_free(p);
  return q;
}

// Collects, retires and purges everything the heap can give back. Caller is
// the heap's owner (or holds it exclusively while abandoned).
void heap_collect_all(Heap* h) {
  heap_drain_delayed(h);
  for (int cls = 1; cls < kNumClasses; ++cls) {
    Page* pg = h->queues[cls].first;
    while (pg != nullptr) {
      Page* next = pg->next;
      collect_remote(pg);
      if (pg->used == 0 && !(pg->flags & kPageOnStack)) page_retire(h, pg);
      pg = next;
    }
  }
  // Full pages and large spans: disarm kNotify ourselves; if a remote thread
  // won that race the page is on `delayed` and is handled when drained.
  for (PageQueue* q : {&h->full, &h->large}) {
    Page* pg = q->first;
    while (pg != nullptr) {
      Page* next = pg->next;
      if (!(pg->flags & kPageOnStack)) {
        uintptr_t old = pg->remote.fetch_and(~kNotify, std::memory_order_acq_rel);
        if (!(old & kNotify)) {
          pg->flags |= kPageOnStack;
        } else {
          collect_remote(pg);
          if (pg->used == 0) {
            page_retire(h, pg);
          } else if (pg->flags & kPageLarge) {
            uintptr_t expected = 0;
            if (!pg->remote.compare_exchange_strong(expected, kNotify, std::memory_order_acq_rel,
                                                    std::memory_order_relaxed)) {
              collect_remote(pg);
              if (pg->used == 0) page_retire(h, pg);
            }
          } else {
            queue_remove(&h->full, pg);
            pg->flags &= static_cast<uint8_t>(~kPageFull);
            queue_push_back(&h->queues[pg->cls], pg);
            update_direct(h, pg->cls);
          }
        }
      }
      pg = next;
    }
  }
  heap_drain_delayed(h);
  Segment* seg = h->segments;
  while (seg != nullptr) {
    Segment* next = seg->next;
    if (seg->used_mask == 1) segment_release(h, seg);
    seg = next;
  }
  heap_purge(h);
}

void heap_park_locked(Heap* h) {
  if (h->segments == nullptr) {
    h->state = kHeapFree;
    h->next_list = g_free_heaps;
    g_free_heaps = h;
  } else {
    h->state = kHeapAbandoned;
    h->next_list = nullptr;
    Heap** tail = &g_abandoned;
    while (*tail != nullptr) tail = &(*tail)->next_list;
    *tail = h;
    g_abandoned_count.fetch_add(1, std::memory_order_relaxed);
  }
}

// pthread key destructor: the thread is exiting. Its heap gives back what it
// can and is parked: recycled if empty, else abandoned for adoption.
void thread_done(void* arg) {
  Heap* h = static_cast<Heap*>(arg);
  if (h == nullptr || h == &g_empty_heap) return;
  int saved = errno;
  tl_heap = &g_empty_heap;
  heap_collect_all(h);
  g_lock.lock();
  heap_park_locked(h);
  g_lock.unlock();
  errno = saved;
}

// Processes one abandoned heap on behalf of its exited owner (collect remote
// frees, return empty spans and segments), then parks it again.
void reclaim_abandoned_one() {
  g_lock.lock();
  Heap* h = g_abandoned;
  if (h != nullptr) {
    g_abandoned = h->next_list;
    g_abandoned_count.fetch_sub(1, std::memory_order_relaxed);
  }
  g_lock.unlock();
  if (h == nullptr) return;
  heap_collect_all(h);
  g_lock.lock();
  heap_park_locked(h);
  g_lock.unlock();
}

int do_trim() {
  Heap* h = tl_heap;
  uint64_t before = g_purged.load(std::memory_order_relaxed);
  if (h != &g_empty_heap) {
    heap_collect_all(h);
  }
  if (g_abandoned_count.load(std::memory_order_relaxed) != 0) reclaim_abandoned_one();
  uint64_t segs = g_segments.load(std::memory_order_relaxed);
  caches_flush();
  if (g_segments.load(std::memory_order_relaxed) != segs) return 1;
  return g_purged.load(std::memory_order_relaxed) != before ? 1 : 0;
}

void get_stats(alloc_stats_t* s) {
  memset(s, 0, sizeof *s);
  uint64_t allocs = g_other_allocs.load(std::memory_order_relaxed);
  uint64_t abytes = g_other_alloc_bytes.load(std::memory_order_relaxed);
  uint64_t frees = g_other_frees.load(std::memory_order_relaxed);
  uint64_t fbytes = g_other_free_bytes.load(std::memory_order_relaxed);
  g_lock.lock();
  for (Heap* h = g_all_heaps; h != nullptr; h = h->next_all) {
    allocs += h->allocs.get();
    abytes += h->alloc_bytes.get();
    frees += h->frees.get();
    fbytes += h->free_bytes.get();
  }
  uint64_t abandoned = 0;
  for (Heap* h = g_abandoned; h != nullptr; h = h->next_list) ++abandoned;
  g_lock.unlock();
  s->allocations = allocs;
  s->frees = frees;
  s->bytes_in_use = abytes >= fbytes ? abytes - fbytes : 0;
  s->bytes_mapped = g_mapped.load(std::memory_order_relaxed);
  s->bytes_active = g_active.load(std::memory_order_relaxed);
  s->bytes_purged = g_purged.load(std::memory_order_relaxed);
  s->segments = g_segments.load(std::memory_order_relaxed);
  s->huge_blocks = g_huge_live.load(std::memory_order_relaxed);
  s->heaps = g_heap_count.load(std::memory_order_relaxed);
  s->heaps_abandoned = abandoned;
  s->fragmentation = s->bytes_active == 0 || s->bytes_in_use >= s->bytes_active
                         ? 0.0
                         : 1.0 - static_cast<double>(s->bytes_in_use) / static_cast<double>(s->bytes_active);
}

void print_stats(int fd) {
  alloc_stats_t s;
  get_stats(&s);
  char buf[1024];
  size_t n = 0;
  auto put = [&](const char* str) {
    while (*str && n < sizeof buf - 1) buf[n++] = *str++;
  };
  auto num = [&](const char* key, uint64_t v) {
    put(key);
    n += format_dec(buf + n, v);
    put("\n");
  };
  put("alloc stats (liballoc)\n");
  num("  allocations:      ", s.allocations);
  num("  frees:            ", s.frees);
  num("  bytes in use:     ", s.bytes_in_use);
  num("  bytes mapped:     ", s.bytes_mapped);
  num("  bytes active:     ", s.bytes_active);
  num("  bytes purged:     ", s.bytes_purged);
  num("  segments:         ", s.segments);
  num("  huge blocks:      ", s.huge_blocks);
  num("  heaps:            ", s.heaps);
  num("  heaps abandoned:  ", s.heaps_abandoned);
  put("  fragmentation:    ");
  uint64_t permille = static_cast<uint64_t>(s.fragmentation * 1000.0 + 0.5);
  n += format_dec(buf + n, permille / 10);
  put(".");
  n += format_dec(buf + n, permille % 10);
  put(" %\n");
  write_all(fd, buf, n);
}

__attribute__((destructor)) void print_stats_at_exit() {
  if (g_print_stats) print_stats(g_stats_fd >= 0 ? g_stats_fd : 2);
}

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench

extern "C" {
// std::get_new_handler(), weak so liballoc.so needs no libstdc++.
__attribute__((weak)) void (*alloc_weak_get_new_handler_nt() noexcept)() __asm__("_ZSt15get_new_handlerv");
}

namespace allocbench {
namespace detail {
namespace inhouse {

void* new_nothrow_impl(size_t size, size_t alignment) noexcept {
  for (;;) {
    void* p = alignment != 0 ? do_aligned(alignment, size) : do_malloc(size);
    if (p != nullptr) return p;
    void (*handler)() = &alloc_weak_get_new_handler_nt != nullptr ? alloc_weak_get_new_handler_nt() : nullptr;
    if (handler == nullptr) return nullptr;
    handler();
  }
}

void* malloc_impl(size_t size) noexcept { return do_malloc(size); }
void free_impl(void* p) noexcept { do_free(p); }
void* aligned_impl(size_t alignment, size_t size) noexcept { return do_aligned(alignment, size); }

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench

namespace ih = allocbench::detail::inhouse;

extern "C" {

void* alloc_malloc(size_t size) { return ih::do_malloc(size); }
void alloc_free(void* p) { ih::do_free(p); }
void* alloc_calloc(size_t count, size_t size) { return ih::do_calloc(count, size); }
void* alloc_realloc(void* p, size_t size) { return ih::do_realloc(p, size); }
void* alloc_aligned(size_t alignment, size_t size) { return ih::do_aligned(alignment, size); }
size_t alloc_usable_size(const void* p) { return ih::do_usable_size(p); }
int alloc_trim(void) { return ih::do_trim(); }
void alloc_get_stats(alloc_stats_t* out) { ih::get_stats(out); }
void alloc_print_stats(int fd) { ih::print_stats(fd); }
int alloc_debug_enabled(void) {
  ih::ensure_init();
  return ih::g_debug ? 1 : 0;
}

}  // extern "C"

#ifdef ALLOC_INTERPOSE
#include "allocators/inhouse/alloc_interpose.inc"
#endif
