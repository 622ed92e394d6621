// Thread heaps: creation and adoption, the delayed list, the core alloc and
// free paths (the remote freer's side of the state machine), collection and
// reclamation of abandoned heaps, alloc_trim.
// Compiled only through static.cpp.
#include <new>
#include "allocators/inhouse/internal.h"

namespace allocbench {
namespace detail {
namespace inhouse {

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

// Takes, in one exchange, the blocks remote threads freed into armed pages
// and frees each one on the owner's side (which disarms its page, moves it
// back to its class queue and retires it if empty). The frees were counted
// by the threads that made them.
void heap_drain_delayed(Heap* h) {
  if (h->delayed.load(std::memory_order_relaxed) == nullptr) return;
  Block* b = h->delayed.exchange(nullptr, std::memory_order_acquire);
  while (b != nullptr) {
    Block* next = b->next;
    Segment* seg = segment_of(b);
    page_free_local(h, page_of(seg, b), b);
    b = next;
  }
}

Heap* current_heap_for_alloc() {
  Heap* h = tl_heap;
  if (ALLOC_UNLIKELY(h == &g_empty_heap)) h = thread_heap_init();
  return h;
}

// A thread that frees before it ever allocated (a consumer of another
// thread's blocks) gets its heap now, as its first allocation would, so its
// frees are counted with plain stores on that heap instead of two locked
// adds on the shared g_other_* counters each (a third of a remote free's
// cost in xmalloc at 2 threads, issue 14). It adopts an abandoned heap if
// there is one, like an allocating thread: with a new heap instead, threads
// that free first and allocate later left the abandoned heaps unadopted and
// made a heap each. Not once the thread is exiting: a heap set after
// thread_done could outlive the thread.
ALLOC_NOINLINE void freeing_heap_init() {
  if (!tl_exiting) thread_heap_init();
}

// Allocation without debug checks. `alignment` is a power of two.
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
  if (n <= kLargeMax && alignment <= kSlotSize) return alloc_large(h, n, alignment, zeroed);
  return alloc_huge(h, n, alignment, zeroed);
}

// Free paths

// Frees blocks of another heap's page (the state machine above): the chain
// `head` .. `tail` (linked through `next`, all of one page). Lock-free: both
// lists only have push and take-all, so neither has an ABA problem. On an
// armed page the one CAS that claims the notification decides that the
// chain goes to the owner's delayed list; after it this thread never touches
// the page again (the owner may retire it as soon as the blocks arrive).
// `owner` (read from the segment) is stable: the segment holds the blocks.
// `xthread` is the remote-free word of their page; `n` is the chain's length,
// added to the word's count.
void free_remote(Heap* owner, std::atomic<uintptr_t>* xthread, Block* head, Block* tail, uint32_t n) {
  uintptr_t old = xthread->load(std::memory_order_relaxed);
  for (;;) {
    if ((old & kStateMask) == kUseDelayed) {
      if (!xthread->compare_exchange_weak(old, (old & ~kStateMask) | kNoDelayed, std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
        continue;
      }
      ALLOC_TEST_HOOK(remote_claimed, head);
      Block* first = owner->delayed.load(std::memory_order_relaxed);
      do {
        tail->next = first;
      } while (!owner->delayed.compare_exchange_weak(first, head, std::memory_order_release,
                                                     std::memory_order_relaxed));
      return;
    }
    tail->next = remote_list_head(old);
    uintptr_t count = static_cast<uintptr_t>(remote_list_count(old) + n) << kRemoteCountShift;
    if (xthread->compare_exchange_weak(old, count | reinterpret_cast<uintptr_t>(head) | (old & kStateMask),
                                       std::memory_order_release, std::memory_order_relaxed)) {
      return;
    }
  }
}

// core_free finds a block's cache with size_to_class(block size): every
// class the cache takes must map back to itself.
constexpr bool remote_cache_classes_exact() {
  for (int c = 1; c < kRemoteCacheClasses; ++c) {
    if (kClasses.small[(kClasses.size[c] + 15) >> 4] != c) return false;
  }
  return kRemoteCacheMaxBlock <= 1024;
}
static_assert(remote_cache_classes_exact(), "remote-free cache: class of a class size");

// Gives the remote-free cache `rc` of heap `h` back to the blocks' owners:
// each run of consecutive blocks of one page with one push (a consumer that
// frees in allocation order makes long runs). A block of `h`'s own is freed
// locally (not expected: a block's segment keeps its heap while it is live).
// The frees were counted when the blocks entered the cache.
void remote_cache_flush(Heap* h, Page* rc) {
  Block* b = rc->free;
  rc->free = nullptr;
  rc->used = 0;
  rc->reserved = 0;
  if (h->direct[rc->cls] == rc) update_direct(h, rc->cls);
  while (b != nullptr) {
    Segment* seg = segment_of(b);
    RemoteWord* rw = remote_of(seg, b);
    Block* tail = b;
    uint32_t n = 1;
    while (tail->next != nullptr && remote_of(segment_of(tail->next), tail->next) == rw) {
      tail = tail->next;
      ++n;
    }
    Block* next = tail->next;
    Heap* owner = seg->heap;
    if (ALLOC_UNLIKELY(owner == h)) {
      for (Block* x = b; x != next;) {
        Block* after = x->next;
        page_free_local(h, page_of(seg, x), x);
        x = after;
      }
    } else {
      free_remote(owner, &rw->xthread, b, tail, n);
    }
    b = next;
  }
}

void remote_cache_flush_all(Heap* h) {
  for (int cls = 1; cls < kRemoteCacheClasses; ++cls) {
    if (h->rcache[cls].free != nullptr) remote_cache_flush(h, &h->rcache[cls]);
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
  Block* b = static_cast<Block*>(p);
  Heap* owner = seg->heap;
  if (owner != h) {
    // A block in a class page's head slot: its RemoteWord holds all this
    // thread needs, so it reads no line the owner writes per allocation.
    RemoteWord* rw = remote_of(seg, p);
    uint32_t bs = rw->block_size;
    if (ALLOC_LIKELY(bs != 0)) {
      if (bs <= kRemoteCacheMaxBlock && !g_debug && h != &g_empty_heap) {
        // Into this thread's remote-free cache (types.h), which its next
        // allocation of the class pops like a page.
        remote_cache_push(h, b, bs);
        return;
      }
      count_free(h, bs);
      free_remote(owner, &rw->xthread, b, b, 1);
      return;
    }
    Page* pg = page_of(seg, p);  // an interior slot of a span, or a large span
    count_free(h, pg->block_size);
    free_remote(owner, &page_xthread(pg), b, b, 1);
    return;
  }
  Page* pg = page_of(seg, p);
  count_free(h, pg->block_size);
  page_free_local(h, pg, b);
}

size_t core_usable_size(const void* p) {
  Segment* seg = segment_of(p);
  if (seg->kind == kSegmentHuge) return seg->map_size - seg->huge_offset;
  return page_of(seg, p)->block_size;
}

// Gives back the remote-free cache, then collects, retires and purges
// everything the heap can give back. Caller is
// the heap's owner (or holds it exclusively while abandoned). Large spans
// need no visit: a remote free of one always arrives through `delayed`.
void heap_collect_all(Heap* h) {
  remote_cache_flush_all(h);
  heap_drain_delayed(h);
  for (int cls = 1; cls < kNumClasses; ++cls) {
    Page* pg = h->queues[cls].first;
    while (pg != nullptr) {
      Page* next = pg->next;
      collect_remote(pg);
      if (pg->used == 0) page_retire(h, pg);
      pg = next;
    }
  }
  // Full pages whose notification a remote freer claimed get the later
  // remote frees on their own list: take them, and requeue the page.
  Page* pg = h->full.first;
  while (pg != nullptr) {
    Page* next = pg->next;
    if (collect_remote(pg) != 0) {
      if (pg->used == 0) {
        page_retire(h, pg);
      } else {
        page_unfull(h, pg);  // disarm and back to its class queue
      }
    }
    pg = next;
  }
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

// Processes one abandoned heap on behalf of its exited owner (collect remote
// frees, return empty spans and segments), then parks it again.
void reclaim_abandoned_one() {
  g_lock.lock();
  Heap* h = g_abandoned;
  if (h != nullptr) {
    g_abandoned = h->next_list;
    g_abandoned_count.fetch_sub(1, std::memory_order_relaxed);
    h->state = kHeapReclaiming;
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
  if (g_debug) {
    debug_flush();
    debug_enter();  // alloc_check_heap must not see heaps half collected
  }
  if (h != &g_empty_heap) {
    heap_collect_all(h);
  }
  // Every heap abandoned now, once each (a reclaimed heap that still holds
  // memory is parked at the tail again).
  for (uint32_t k = g_abandoned_count.load(std::memory_order_relaxed); k != 0; --k) reclaim_abandoned_one();
  uint64_t segs = g_segments.load(std::memory_order_relaxed);
  caches_flush();
  if (g_debug) debug_leave();
  if (g_segments.load(std::memory_order_relaxed) != segs) return 1;
  return g_purged.load(std::memory_order_relaxed) != before ? 1 : 0;
}

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench
