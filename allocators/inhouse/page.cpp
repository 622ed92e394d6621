// Pages and their queues (owner heap only): building free lists, the owner's
// side of the cross-thread state machine (types.h), and the class slow path.
// Compiled only through static.cpp.
#include "allocators/inhouse/internal.h"

namespace allocbench {
namespace detail {
namespace inhouse {

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
      memset(c + 16, g_poison_byte, bs - 16);
    }
  }
}

// Whether a remote-free list starts with two neighbouring blocks (a hint
// that it was freed in the order it was handed out).
static bool remote_list_in_order(const Block* head, uint32_t block_size) {
  const Block* second = head->next;
  if (second == nullptr) return false;
  uintptr_t a = reinterpret_cast<uintptr_t>(head), b = reinterpret_cast<uintptr_t>(second);
  return (a > b ? a - b : b - a) == block_size;
}

// Takes the whole remote-free list in one atomic step, leaving the state
// bits as they are. Returns blocks taken. The word counts them (types.h),
// so a page without local free blocks can take the list as its free list
// unread: walking it to count missed the cache on every block, which the
// freeing core wrote last (15% of samples on larson/default at 2 threads).
// A list that starts with two neighbours is walked all the same: with no
// walk at all, xmalloc at 2 threads ran 1.5-2x slower, and this keeps most
// of larson's gain at a smaller cost there. Why the walk helps xmalloc is not
// known (its lists are mostly not in order either; design note section 15).
// A list spliced onto a non-empty free list is walked to find its tail.
uint32_t collect_remote(Page* pg) {
  if ((page_xthread(pg).load(std::memory_order_relaxed) & kRemoteListMask) == 0) return 0;
  uintptr_t r = page_xthread(pg).fetch_and(kStateMask, std::memory_order_acquire);
  Block* head = remote_list_head(r);
  if (head == nullptr) return 0;
  uint32_t n = remote_list_count(r);
  if (pg->free != nullptr || remote_list_in_order(head, pg->block_size)) {
    Block* tail = head;
    while (tail->next != nullptr) tail = tail->next;
    tail->next = pg->free;
  }
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
  page_xthread(pg).store(kNoDelayed, std::memory_order_relaxed);
  remote_word(pg).block_size = pg->block_size;
  pg->next = pg->prev = nullptr;
  (void)h;
}

// Frees the span of a page with no live block.
void page_retire(Heap* h, Page* pg) {
  int cls = pg->cls;
  bool in_class_queue = !(pg->flags & (kPageLarge | kPageFull));
  remote_word(pg).block_size = 0;  // the slot may next be inside another span
  queue_remove(queue_of(h, pg), pg);
  if (in_class_queue) update_direct(h, cls);
  span_free(h, pg);
}

// A page's last block came back. Keeps the page if it is the only one of
// its class with free blocks (so alloc/free of one object doesn't map and
// unmap spans), else gives the span back to the segment.
ALLOC_NOINLINE void page_empty(Heap* h, Page* pg) {
  if (!(pg->flags & (kPageLarge | kPageFull))) {
    PageQueue* q = &h->queues[pg->cls];
    if (q->first == pg && q->last == pg) return;
  }
  page_retire(h, pg);
}

// Arms a page without free blocks (kNoDelayed -> kUseDelayed) and moves it
// to the full list. Returns false (after collecting them) if remote frees
// were pending.
bool page_mark_full(Heap* h, Page* pg) {
  uintptr_t expected = kNoDelayed;  // and an empty list
  if (!page_xthread(pg).compare_exchange_strong(expected, kUseDelayed, std::memory_order_relaxed,
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

// A block came back to a full page (or a large span) on the owner's side:
// disarm (kUseDelayed -> kNoDelayed; a no-op if a remote freer claimed it
// already, whose block then reaches `delayed` and is freed here when drained).
void page_unfull(Heap* h, Page* pg) {
  page_xthread(pg).fetch_and(~kUseDelayed, std::memory_order_relaxed);
  if (pg->flags & kPageLarge) {
    pg->flags &= static_cast<uint8_t>(~kPageFull);
    return;
  }
  queue_remove(&h->full, pg);
  pg->flags &= static_cast<uint8_t>(~kPageFull);
  queue_push_back(&h->queues[pg->cls], pg);
  update_direct(h, pg->cls);
}

// Owner-side free of block `b` of page `pg` of heap `h`: the free list push,
// then the page leaves the full list, or is retired when it is empty.
void page_free_local(Heap* h, Page* pg, Block* b) {
  b->next = pg->free;
  pg->free = b;
  pg->used--;
  if (pg->flags & kPageFull) page_unfull(h, pg);
  if (pg->used == 0) page_empty(h, pg);
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

// Allocation paths

ALLOC_NOINLINE void* alloc_class_slow(Heap* h, int cls) {
  Page* pg;
  if (cls < kRemoteCacheClasses && h->rcache[cls].reserved - h->rcache[cls].used >= kRemoteCacheBatch &&
      !g_debug) {
    // The class's pages are dry: the remote-free cache first, if it holds a
    // batch. Fewer blocks stay: the one block another thread handed over
    // shares a line with that thread's live neighbours (passive false
    // sharing, Hoard's cache-scratch), and a thread that reused it would
    // write that line on every allocation.
    pg = &h->rcache[cls];
    h->direct[cls] = pg;
  } else {
    if (cls < kRemoteCacheClasses && h->direct[cls] == &h->rcache[cls]) {
      update_direct(h, cls);  // the cache ran dry: its page again
    }
    pg = h->direct[cls];
    if (pg->free == nullptr) pg = page_find(h, cls);
  }
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

// Single-block span of kMaxClassSize to kLargeMax bytes in whole 4 KiB
// granules, aligned to `alignment` (a power of two up to kSlotSize).
void* alloc_large(Heap* h, size_t n, size_t alignment, bool* clean) {
  size_t granules = (n + kGranule - 1) >> kGranuleShift;
  if (granules < kLargeMinGranules) granules = kLargeMinGranules;
  Page* pg =
      large_span_alloc(h, granules, alignment > kGranule ? alignment >> kGranuleShift : 1, clean);
  if (pg == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  pg->free = nullptr;
  pg->used = 1;
  pg->flags = static_cast<uint8_t>(kPageLarge | kPageFull | (g_debug ? kPageDebug : 0));
  pg->cls = 0;
  pg->capacity = 1;
  pg->reserved = 1;
  page_xthread(pg).store(kUseDelayed, std::memory_order_relaxed);  // one block: born full
  queue_push_back(&h->large, pg);
  count_alloc(h, pg->block_size);
  return pg->start;
}

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench
