// liballoc's internal interface: the globals, every function shared between
// its source files, and the inline fast paths of malloc and free. All the
// sources are compiled as one translation unit (static.cpp), so these
// inline into their callers as if they were in one file.
#ifndef ALLOCBENCH_ALLOCATORS_INHOUSE_INTERNAL_H_
#define ALLOCBENCH_ALLOCATORS_INHOUSE_INTERNAL_H_

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <initializer_list>

#include "allocators/common/platform.h"
#include "allocators/inhouse/alloc.h"
#include "allocators/inhouse/alloc_internal.h"
#include "allocators/inhouse/types.h"

#ifndef ALLOC_DEBUG_DEFAULT
#define ALLOC_DEBUG_DEFAULT 0
#endif

// Test-only hooks (alloc_test_hooks.h), compiled only into the alloc_api_hooks
// test library, never into liballoc.so or liballoc.a.
#ifdef ALLOC_TEST_HOOKS
#include "allocators/inhouse/alloc_test_hooks.h"
#define ALLOC_TEST_HOOK(name, arg)                                    \
  do {                                                                \
    if (alloc_test_hooks.name != nullptr) alloc_test_hooks.name(arg); \
  } while (0)
#else
#define ALLOC_TEST_HOOK(name, arg) ((void)0)
#endif

namespace allocbench {
namespace detail {
namespace inhouse {

// Globals, defined in init.cpp.
extern Page g_empty_page;  // never has blocks: forces the slow path
extern Heap g_empty_heap;  // every thread's heap until its first allocation
extern __thread Heap* tl_heap ALLOC_TLS;  // the calling thread's heap (owner)
extern __thread bool tl_exiting ALLOC_TLS;  // thread_done ran: no new heap for this thread

extern GlobalLock g_lock;  // heap registry, abandoned list, segment cache
extern Heap* g_all_heaps;  // g_lock
extern Heap* g_abandoned;  // g_lock
extern Heap* g_free_heaps;  // g_lock
extern char* g_heap_chunk;  // g_lock: bump area for new heaps
extern size_t g_heap_chunk_left;  // g_lock
extern Segment* g_segment_cache;  // g_lock: empty segments, newest first
extern std::atomic<int> g_segment_cache_count;  // written under g_lock, peeked by anyone
extern Segment* g_huge_cache;  // g_lock: freed huge mappings, newest first
extern size_t g_huge_cache_bytes;  // g_lock: bytes mapped by g_huge_cache
extern std::atomic<int> g_huge_cache_count;  // written under g_lock, peeked by anyone
extern std::atomic<uint64_t> g_decay_tick_ns;  // any thread (CAS): last decay tick of the caches
extern uint64_t g_decay_ns;  // set once in init (ALLOC_DECAY_MS)
extern std::atomic<uint32_t> g_abandoned_count;  // any thread

extern std::atomic<int> g_init_state;  // 0 none, 1 running, 2 done
extern std::atomic<bool> g_atfork_done;  // pthread_atfork registered
extern bool g_debug;  // set once in init, before any allocation
extern size_t g_quarantine_max;  // set once in init (ALLOC_DEBUG_QUARANTINE)
extern bool g_misuse_abort;  // set once in init: false with ALLOC_DEBUG_ABORT=0 (report only)
extern uint8_t g_poison_byte;  // set once in init: kPoisonByte, 0 with ALLOC_DEBUG_ZERO_ON_FREE=1
extern std::atomic<uint64_t> g_misuse_reports;  // any thread: misuse reported so far
extern GlobalLock g_quarantine_lock;  // the debug quarantine (debug.cpp)
extern bool g_print_stats;  // set once in init
extern int g_stats_fd;  // set once in init: where ALLOC_STATS=1 reports
extern pthread_key_t g_thread_key;  // destructor abandons the thread's heap
extern std::atomic<uint64_t> g_segment_map[kSegmentMapWords];  // bit per live 4 MiB segment

// Process-wide counters (any thread, relaxed).
extern std::atomic<uint64_t> g_mapped;
extern std::atomic<uint64_t> g_active;
extern std::atomic<uint64_t> g_purged;
extern std::atomic<uint64_t> g_segments;
extern std::atomic<uint64_t> g_huge_live;
extern std::atomic<uint64_t> g_active_peak;  // most g_active seen by the huge path this decay epoch
extern std::atomic<uint64_t> g_active_peak_prev;  // ...and in the epoch before
extern std::atomic<uint64_t> g_heap_count;
extern std::atomic<uint64_t> g_other_allocs;  // huge and heap-less allocations
extern std::atomic<uint64_t> g_other_alloc_bytes;
extern std::atomic<uint64_t> g_other_frees;
extern std::atomic<uint64_t> g_other_free_bytes;

// Functions shared between the source files, by the file that defines them.
// os.cpp
size_t format_hex(char* out, uintptr_t v);
size_t format_dec(char* out, uint64_t v);
ALLOC_NOINLINE void report_misuse(const char* what, const void* p);
void segment_register(void* seg, bool live);

// stats.cpp
void count_alloc(Heap* h, size_t bytes);
void count_free(Heap* h, size_t bytes);
void get_stats(alloc_stats_t* s);
void census(alloc_census_t* c);
void print_stats(int fd);

// segment.cpp
void purge_range(Segment* seg, uint64_t mask);
void heap_purge(Heap* h);
void segment_unmap(Segment* seg, size_t bytes);
void caches_decay(uint64_t now);
ALLOC_NOINLINE void heap_decay(Heap* h, uint64_t now);
void segment_unlink(Heap* h, Segment* seg);
void segment_release(Heap* h, Segment* seg);
void caches_flush();
Segment* segment_acquire(Heap* h);
Page* span_alloc(Heap* h, size_t slots, bool* clean);
Page* large_span_alloc(Heap* h, size_t granules, size_t align_granules, bool* clean);
void span_free(Heap* h, Page* pg);
bool span_resize(Heap* h, Page* pg, size_t granules);
Segment* huge_cache_take(size_t total, bool grow);
char* huge_setup(Heap* h, Segment* seg, size_t off);
void* alloc_huge_aligned(Heap* h, size_t n, size_t alignment, bool* zeroed);
void* alloc_huge(Heap* h, size_t n, size_t alignment, bool* zeroed);
void* realloc_huge(Heap* h, Segment* seg, size_t n);
Segment* huge_cache_pop_for(size_t bytes);
void huge_fill_tail(Segment* seg, size_t old_total, size_t new_total);
bool remap_registered(Segment* seg, size_t old_total, size_t new_total, void* dest);
void free_huge(Heap* h, Segment* seg);

// page.cpp
void queue_remove(PageQueue* q, Page* pg);
void queue_push_front(PageQueue* q, Page* pg);
void queue_push_back(PageQueue* q, Page* pg);
PageQueue* queue_of(Heap* h, Page* pg);
void page_extend(Page* pg);
uint32_t collect_remote(Page* pg);
void page_init(Heap* h, Page* pg, int cls);
void page_retire(Heap* h, Page* pg);
ALLOC_NOINLINE void page_empty(Heap* h, Page* pg);
bool page_mark_full(Heap* h, Page* pg);
void page_unfull(Heap* h, Page* pg);
void page_free_local(Heap* h, Page* pg, Block* b);
Page* page_find(Heap* h, int cls);
ALLOC_NOINLINE void* alloc_class_slow(Heap* h, int cls);
void* alloc_large(Heap* h, size_t n, size_t alignment, bool* clean);

// heap.cpp
Heap* heap_create_locked();
ALLOC_NOINLINE Heap* thread_heap_init();
ALLOC_NOINLINE void freeing_heap_init();
void heap_drain_delayed(Heap* h);
Heap* current_heap_for_alloc();
void* core_alloc(size_t n, size_t alignment, bool* zeroed);
void free_remote(Heap* owner, std::atomic<uintptr_t>* xthread, Block* head, Block* tail, uint32_t n);
void remote_cache_flush(Heap* h, Page* rc);
void remote_cache_flush_all(Heap* h);
void core_free(void* p);
size_t core_usable_size(const void* p);
void heap_collect_all(Heap* h);
void heap_park_locked(Heap* h);
void reclaim_abandoned_one();
int do_trim();

// debug.cpp
void* debug_alloc(size_t n, size_t alignment);
bool debug_user_size(const void* p, const char* op_invalid, size_t* size);
void debug_free(void* p);
void debug_release(void* p, uint32_t expect, size_t size);
void debug_flush();
int debug_check_heap();
void debug_atfork_child();
void debug_init();
void debug_enter();
void debug_leave();

// alloc.cpp
ALLOC_NOINLINE void* malloc_slow(size_t n);
ALLOC_NOINLINE void free_slow(void* p);
void* do_aligned(size_t alignment, size_t n);
size_t do_usable_size(const void* p);
void* do_calloc(size_t count, size_t size);
void* do_realloc(void* p, size_t n);

// init.cpp
ALLOC_NOINLINE void ensure_init();
void thread_done(void* arg);

// Inline helpers.

// Class of a size 0..kMaxClassSize. Cost: a compare and a table load, or a clz.
ALLOC_INLINE int size_to_class(size_t n) {
  if (ALLOC_LIKELY(n <= 1024)) return kClasses.small[(n + 15) >> 4];
  return class_of_large(n);
}

// The segment of a block, or of any address inside a segment past its first
// byte. `p - 1` maps a block on a 4 MiB boundary (a huge block aligned to
// 4 MiB or more, whose header sits 4 MiB before it) to its header; every
// other block lies strictly inside its segment. Cost: a decrement and a mask.
ALLOC_INLINE Segment* segment_of(const void* p) {
  return reinterpret_cast<Segment*>((reinterpret_cast<uintptr_t>(p) - 1) & ~kSegmentMask);
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
// The RemoteWord of the slot holding address `p` of a small segment.
ALLOC_INLINE RemoteWord* remote_of(Segment* seg, const void* p) {
  return &seg->remote[(reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(seg)) >> kSlotShift];
}
// The RemoteWord of a span (types.h). `pg` is a span's head descriptor
// inside a segment header. Cost: a mask and an index.
ALLOC_INLINE RemoteWord& remote_word(Page* pg) {
  Segment* seg = segment_of(pg);
  return seg->remote[slot_index(seg, pg)];
}
// The remote-free word of a span.
ALLOC_INLINE std::atomic<uintptr_t>& page_xthread(Page* pg) { return remote_word(pg).xthread; }

ALLOC_INLINE uint64_t slot_bits(size_t idx, size_t count) {
  return ((count >= 64) ? ~uint64_t{0} : ((uint64_t{1} << count) - 1)) << idx;
}

// Free slots of a segment that may be resident.
ALLOC_INLINE uint64_t free_dirty(const Segment* seg) {
  return seg->dirty_mask & ~seg->used_mask & ~uint64_t{1};
}

// Granule bitmaps (Segment::granule_used, granule_dirty): 1024 bits, one
// per 4 KiB of the segment. Range operations cost one step per 64 granules.
template <typename F>
ALLOC_INLINE void granule_words(size_t from, size_t n, F f) {
  while (n != 0) {
    size_t b = from & 63;
    size_t k = 64 - b < n ? 64 - b : n;
    f(from >> 6, ((k == 64) ? ~uint64_t{0} : ((uint64_t{1} << k) - 1)) << b);
    from += k;
    n -= k;
  }
}
ALLOC_INLINE void granules_set(uint64_t* map, size_t from, size_t n) {
  granule_words(from, n, [map](size_t w, uint64_t m) { map[w] |= m; });
}
ALLOC_INLINE void granules_clear(uint64_t* map, size_t from, size_t n) {
  granule_words(from, n, [map](size_t w, uint64_t m) { map[w] &= ~m; });
}
ALLOC_INLINE size_t granules_count(const uint64_t* map, size_t from, size_t n) {
  size_t c = 0;
  granule_words(from, n, [map, &c](size_t w, uint64_t m) {
    c += static_cast<size_t>(__builtin_popcountll(map[w] & m));
  });
  return c;
}
// The first granule at or after `from` whose bit is `set`, or
// kGranulesPerSegment.
ALLOC_INLINE size_t granules_next(const uint64_t* map, size_t from, bool set) {
  while (from < kGranulesPerSegment) {
    size_t w = from >> 6;
    uint64_t word = (set ? map[w] : ~map[w]) & (~uint64_t{0} << (from & 63));
    if (word != 0) return (w << 6) + static_cast<size_t>(__builtin_ctzll(word));
    from = (w + 1) << 6;
  }
  return kGranulesPerSegment;
}
// One past the last granule before `from` whose bit is set (0 if none).
ALLOC_INLINE size_t granules_prev_set_end(const uint64_t* map, size_t from) {
  while (from > 0) {
    size_t w = (from - 1) >> 6;
    size_t top = ((from - 1) & 63) + 1;
    uint64_t word = map[w] & ((top == 64) ? ~uint64_t{0} : ((uint64_t{1} << top) - 1));
    if (word != 0) return (w << 6) + 64 - static_cast<size_t>(__builtin_clzll(word));
    from = w << 6;
  }
  return 0;
}
// Slot bits, among slots [s0, s1), of the slots with a granule set in `map`.
ALLOC_INLINE uint64_t slots_with_granules(const uint64_t* map, size_t s0, size_t s1) {
  uint64_t r = 0;
  for (size_t s = s0; s < s1; ++s) {
    if (((map[s >> 2] >> ((s & 3) * kGranulesPerSlot)) & 0xffff) != 0) r |= uint64_t{1} << s;
  }
  return r;
}
ALLOC_INLINE size_t granule_index(Segment* seg, const char* p) {
  return static_cast<size_t>(p - reinterpret_cast<char*>(seg)) >> kGranuleShift;
}
// Length of a span in granules: a large span's block, a class page's slots.
ALLOC_INLINE size_t span_granules(const Page* pg) {
  if (pg->flags & kPageLarge) return pg->block_size >> kGranuleShift;
  return static_cast<size_t>(pg->slots) * kGranulesPerSlot;
}

ALLOC_INLINE void update_direct(Heap* h, int cls) {
  if (!g_debug) h->direct[cls] = h->queues[cls].first ? h->queues[cls].first : &g_empty_page;
}

// Whether `seg` is the header of a live segment or huge mapping of
// liballoc: one bit of g_segment_map. The map is zero-initialised .bss, so
// it needs no set-up, and only the pages covering used address ranges are
// ever touched (one 4 KiB page per 128 GiB of address space); the rest is
// address space only. Cost on free's fast path: 8 instructions, one branch
// (never taken for liballoc's own blocks). A byte map would save 2
// instructions for 64 MiB of address space instead of 8. Addresses above kAddressLimit
// are not user addresses (non-canonical on x86-64); they alias into the
// map, and a caller that then reads the "segment" faults on the read: it
// still never writes through such a pointer.
ALLOC_INLINE bool segment_known(const Segment* seg) {
  uintptr_t idx = (reinterpret_cast<uintptr_t>(seg) >> kSegmentShift) & (kSegmentMapWords * 64 - 1);
  return (g_segment_map[idx >> 6].load(std::memory_order_relaxed) >> (idx & 63)) & 1;
}

// Whether `p` may be a block of liballoc's: its segment is live, and `p`
// lies inside it past the header slot (a small segment) or is the huge block
// itself (which may sit on the 4 MiB boundary that segment_of maps back to
// its header).
ALLOC_INLINE bool block_known(const void* p) {
  Segment* seg = segment_of(p);
  if (!segment_known(seg)) return false;
  uintptr_t off = reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(seg);
  if (seg->kind == kSegmentHuge) return off == seg->huge_offset;
  return off >= kSlotSize && off < kSegmentSize;
}

// The fast paths.

// Fast path: in release builds 27 instructions to the return for a size up
// to 1 KiB (`objdump -d --disassemble=malloc liballoc.so`), one branch to the
// slow path (a dry page, or above 64 KiB; 1-64 KiB take a longer class
// lookup): size tests 4, TLS load 2, class
// lookup 5, direct page and free-list pop 7, the two statistics counters 7,
// return 2. mimalloc's `mi_malloc` runs about 16 a call on the same trace
// (cachegrind, design note section 18).
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

// Pushes block `b` of `bs` bytes (a class size of at most
// kRemoteCacheMaxBlock), of another heap's class page, onto heap `h`'s
// remote-free cache (types.h) and counts the free. Caller: `h`'s owner, not
// the empty heap, not in debug mode. About 12 instructions; the rare branch
// gives an overfull list back.
ALLOC_INLINE void remote_cache_push(Heap* h, Block* b, uint32_t bs) {
  h->frees.add(1);
  h->free_bytes.add(bs);
  Page* rc = &h->rcache[size_to_class(bs)];
  b->next = rc->free;
  rc->free = b;
  rc->reserved++;
  uint32_t held = rc->reserved - rc->used;
  if (ALLOC_UNLIKELY(held > rc->capacity)) {
    remote_cache_flush(h, rc);
  } else if (held >= kRemoteCacheBatch) {
    // Allocations take the cache first, a batch at a time: switching at
    // every push cost a slow-path allocation per remote free.
    h->direct[rc->cls] = rc;
  }
}

// Fast path: a mask, the segment-bitmap test (so a pointer liballoc never
// handed out is never read or written through: free_slow reports it), two
// loads to find the page, one compare for the owner and flags, a push; no
// atomics. A block of another heap's class page of at most
// kRemoteCacheMaxBlock bytes: the load of its slot's RemoteWord (a line the
// owner writes only when it collects), three more tests, and the push onto
// this thread's remote-free cache, still no atomics and no call.
ALLOC_INLINE void do_free(void* p) {
  if (ALLOC_UNLIKELY(p == nullptr)) return;
  Segment* seg = segment_of(p);
  Heap* h = tl_heap;
  if (ALLOC_LIKELY(segment_known(seg))) {
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
    } else if (seg->kind != kSegmentHuge &&
               reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(seg) >= kSlotSize) {
      // The header slot holds no blocks (block_known). An interior slot of a
      // span has block_size 0, as does a large span: those go the slow way.
      uint32_t bs = remote_of(seg, p)->block_size;
      if (bs - 1 < kRemoteCacheMaxBlock && !g_debug && h != &g_empty_heap) {
        remote_cache_push(h, static_cast<Block*>(p), bs);
        return;
      }
    }
  }
  free_slow(p);
}

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_INHOUSE_INTERNAL_H_
