// Segments and spans (owner heap only), the decay that gives free memory
// back to the OS, the global segment cache, and huge blocks.
// Compiled only through static.cpp.
#include "allocators/inhouse/internal.h"

namespace allocbench {
namespace detail {
namespace inhouse {

// Segments and spans (owner heap only)

void purge_range(Segment* seg, uint64_t mask) {
  while (mask != 0) {
    int lo = __builtin_ctzll(mask);
    uint64_t run = mask >> lo;
    int len = (~run == 0) ? 64 - lo : __builtin_ctzll(~run);
    platform::decommit_pages(slot_address(seg, static_cast<size_t>(lo)),
                             static_cast<size_t>(len) << kSlotShift);
    g_purged.fetch_add(static_cast<uint64_t>(len) << kSlotShift, std::memory_order_relaxed);
    granules_clear(seg->granule_dirty, static_cast<size_t>(lo) * kGranulesPerSlot,
                   static_cast<size_t>(len) * kGranulesPerSlot);
    mask &= ~(((len == 64) ? ~uint64_t{0} : ((uint64_t{1} << len) - 1)) << lo);
  }
}

// Decommits the free dirty granules of slots that a large span's head or
// tail shares with free space (the slot-level decay never sees them).
static void purge_partial_slots(Segment* seg) {
  uint64_t partial = seg->used_mask & seg->dirty_mask & ~uint64_t{1};
  while (partial != 0) {
    size_t slot = static_cast<size_t>(__builtin_ctzll(partial));
    partial &= partial - 1;
    size_t g = slot * kGranulesPerSlot;
    size_t end = g + kGranulesPerSlot;
    while ((g = granules_next(seg->granule_used, g, false)) < end) {
      size_t stop = granules_next(seg->granule_used, g, true);
      if (stop > end) stop = end;
      size_t dirty = granules_count(seg->granule_dirty, g, stop - g);
      if (dirty != 0) {
        platform::decommit_pages(reinterpret_cast<char*>(seg) + (g << kGranuleShift),
                                 (stop - g) << kGranuleShift);
        g_purged.fetch_add(dirty << kGranuleShift, std::memory_order_relaxed);
        granules_clear(seg->granule_dirty, g, stop - g);
      }
      g = stop;
    }
  }
}

// Decommits every free dirty slot of the heap, and the free granules of
// slots partly held by large spans (the hard cap, alloc_trim, thread exit).
void heap_purge(Heap* h) {
  for (Segment* seg = h->segments; seg != nullptr; seg = seg->next) {
    purge_partial_slots(seg);
    uint64_t m = free_dirty(seg);
    seg->stale_mask = 0;
    if (m == 0) continue;
    purge_range(seg, m);
    seg->dirty_mask &= ~m;
  }
  h->dirty_free_bytes = 0;
  h->decay_full_ns = platform::now_ns();
}

void segment_unmap(Segment* seg, size_t bytes) {
  segment_register(seg, false);
  platform::unmap_pages(seg, bytes);
  g_mapped.fetch_sub(bytes, std::memory_order_relaxed);
}

// Removes the cached huge mapping at *link from the cache (g_lock held) and
// returns it.
static Segment* huge_cache_unlink(Segment** link) {
  Segment* seg = *link;
  *link = seg->next;
  g_huge_cache_bytes -= seg->map_size;
  g_huge_cache_count.fetch_sub(1, std::memory_order_relaxed);
  return seg;
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
  g_active_peak_prev.store(g_active_peak.load(std::memory_order_relaxed), std::memory_order_relaxed);
  g_active_peak.store(g_active.load(std::memory_order_relaxed), std::memory_order_relaxed);
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
      huge_cache_unlink(link);
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
// costs a page fault. Stale slots are kept while the heap's free dirty bytes
// are at most 1/kDecayKeepDivisor of its peak active bytes over the last two
// epochs: a live set that hovers around a target (mixed_sizes) keeps its
// fragmentation slack resident instead of purging it and faulting it back a
// period later, which cost 10-22k faults per round at 2 threads (issue 14).
// Once the heap's activity drops, the peak follows within two ticks and the
// rest is purged. Every kDecayFullPeriods periods (1 s) a tick keeps
// nothing, so slack left unused for that long is returned as well. Ticks happen on the owner's span operations; an idle
// heap keeps its free memory until its next span operation, alloc_trim or
// thread exit. Cost when no tick is due: one clock read (vDSO).
ALLOC_NOINLINE void heap_decay(Heap* h, uint64_t now) {
  h->decay_tick_ns = now;
  size_t keep = (h->active_peak > h->active_peak_prev ? h->active_peak : h->active_peak_prev) / kDecayKeepDivisor;
  if (g_decay_ns == 0 || now - h->decay_full_ns >= kDecayFullPeriods * g_decay_ns) {
    keep = 0;  // ALLOC_DECAY_MS=0 purges at once; every kDecayFullPeriods the kept slack goes too
    h->decay_full_ns = now;
  }
  h->active_peak_prev = h->active_peak;
  h->active_peak = h->active_bytes;
  Segment* seg = h->segments;
  while (seg != nullptr) {
    Segment* next = seg->next;
    uint64_t fd = free_dirty(seg);
    uint64_t m = h->dirty_free_bytes > keep ? seg->stale_mask & fd : 0;  // kept slack stays stale
    if (m != 0) {
      purge_range(seg, m);
      seg->dirty_mask &= ~m;
      h->dirty_free_bytes -= static_cast<size_t>(__builtin_popcountll(m)) << kSlotShift;
    }
    seg->stale_mask = fd & ~m;
    // An empty segment whose memory the decay has returned is of no use to
    // this heap: give it back (global cache, or unmapped), beyond one spare.
    if (seg->used_mask == 1 && free_dirty(seg) == 0 && h->empty_segments > 1) segment_release(h, seg);
    seg = next;
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
  for (size_t w = 0; w < kGranuleWords; ++w) {   // slot-level dirt of a cached segment, per granule
    seg->granule_used[w] = w == 0 ? 0xffff : 0;  // the header slot
    seg->granule_dirty[w] = 0;
    for (size_t q = 0; q < 4; ++q) {
      if ((seg->dirty_mask >> (w * 4 + q)) & 1)
        seg->granule_dirty[w] |= uint64_t{0xffff} << (q * kGranulesPerSlot);
    }
  }
  seg->used_mask = 1;
  seg->max_free_run = kGranulesPerSegment - kGranulesPerSlot;
  seg->stale_mask = 0;
  seg->map_size = kSegmentSize;
  seg->huge_offset = 0;
  seg->pages[0].delta = 0;
  seg->pages[0].block_size = 0;
  seg->pages[0].flags = kPageSentinel;  // the header slot: a free into it fails the fast path
  seg->sentinel.delta = 0;
  seg->sentinel.flags = kPageSentinel;
  if (g_debug) {
    // Slots never (or no longer) holding a span: a free into one must take
    // the checking path (it is an invalid free), not the release fast path.
    for (int k = 1; k < kSlotsPerSegment; ++k) {
      seg->pages[k].delta = 0;
      seg->pages[k].flags = kPageDebug;
    }
  }
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
  granules_set(seg->granule_used, static_cast<size_t>(idx) * kGranulesPerSlot,
               slots * kGranulesPerSlot);
  granules_set(seg->granule_dirty, static_cast<size_t>(idx) * kGranulesPerSlot,
               slots * kGranulesPerSlot);
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

// Granules [at, at + n) just became free: the free run they joined may be
// the segment's longest.
static void note_free_run(Segment* seg, size_t at, size_t n) {
  size_t lo = granules_prev_set_end(seg->granule_used, at);
  size_t hi = granules_next(seg->granule_used, at + n, true);
  if (hi - lo > seg->max_free_run) seg->max_free_run = static_cast<uint32_t>(hi - lo);
}

// Takes granules [at, at + n) of `seg` for the span whose head descriptor
// is in slot `head_slot`: marks them used and dirty, updates the slot masks
// and the heap's free dirty bytes, and points the descriptors of the slots
// the span covers whole at the head (a slot the span covers only in part may
// hold the head of the next span). Returns whether every granule read zero.
static bool granules_take(Heap* h, Segment* seg, size_t at, size_t n, size_t head_slot) {
  size_t s0 = at / kGranulesPerSlot;
  size_t s1 = (at + n + kGranulesPerSlot - 1) / kGranulesPerSlot;
  int fd_before = __builtin_popcountll(free_dirty(seg));
  bool clean = granules_count(seg->granule_dirty, at, n) == 0;
  granules_set(seg->granule_used, at, n);
  granules_set(seg->granule_dirty, at, n);
  uint64_t touched = slot_bits(s0, s1 - s0);
  seg->used_mask |= touched;
  seg->dirty_mask |= touched;
  seg->stale_mask &= ~touched;
  h->dirty_free_bytes -= static_cast<size_t>(fd_before - __builtin_popcountll(free_dirty(seg)))
                         << kSlotShift;
  for (size_t k = (s0 > head_slot ? s0 : head_slot + 1); (k + 1) * kGranulesPerSlot <= at + n;
       ++k) {
    seg->pages[k].delta = static_cast<uint32_t>((k - head_slot) * sizeof(Page));
  }
  return clean;
}

// Gives granules [at, at + n) of `seg` back: the slot masks and the heap's
// free dirty bytes follow (a slot is free once none of its granules is used).
static void granules_release(Heap* h, Segment* seg, size_t at, size_t n) {
  size_t s0 = at / kGranulesPerSlot;
  size_t s1 = (at + n + kGranulesPerSlot - 1) / kGranulesPerSlot;
  int fd_before = __builtin_popcountll(free_dirty(seg));
  granules_clear(seg->granule_used, at, n);
  note_free_run(seg, at, n);
  seg->used_mask =
      (seg->used_mask & ~slot_bits(s0, s1 - s0)) | slots_with_granules(seg->granule_used, s0, s1);
  h->dirty_free_bytes += static_cast<size_t>(__builtin_popcountll(free_dirty(seg)) - fd_before)
                         << kSlotShift;
}

// A candidate place for a large span: granules not yet resident that it
// would fault in (fewer is better), then the length of the free run it is
// cut from (shorter is better: best fit keeps long runs for long spans).
struct GranuleFit {
  size_t at = 0;
  size_t fresh = ~size_t{0};
  size_t run = ~size_t{0};
  bool better_than(const GranuleFit& o) const {
    return fresh < o.fresh || (fresh == o.fresh && run < o.run);
  }
};

// The best place in `seg` for `n` granules aligned to `align` granules, at
// the (aligned) start of a free run; free runs are maximal, so adjacent
// free spans are one run (coalesced by construction). Returns false if
// none fits. Cost: a few word operations per free run of the segment.
static bool granules_find(Segment* seg, size_t n, size_t align, GranuleFit* out) {
  if (seg->max_free_run < n) return false;
  // A run of n granules holds at least (n - 30) / 16 whole free slots.
  if (n >= 2 * kGranulesPerSlot + kGranulesPerSlot &&
      run_starts(~seg->used_mask, (n - 2 * (kGranulesPerSlot - 1)) / kGranulesPerSlot) == 0) {
    return false;
  }
  bool found = false;
  size_t longest = 0;
  size_t g = kGranulesPerSlot;
  while ((g = granules_next(seg->granule_used, g, false)) < kGranulesPerSegment) {
    size_t end = granules_next(seg->granule_used, g, true);
    if (end - g > longest) longest = end - g;
    size_t at = (g + align - 1) & ~(align - 1);
    if (at + n <= end) {
      GranuleFit f;
      f.at = at;
      f.fresh = n - granules_count(seg->granule_dirty, at, n);
      f.run = end - g;
      if (!found || f.better_than(*out)) *out = f;
      found = true;
      if (f.fresh == 0 && f.run == n) return true;  // exact and resident: nothing beats it
    }
    g = end;
  }
  seg->max_free_run = static_cast<uint32_t>(longest);  // the scan saw every run
  return found;
}

// Allocates a large span of `granules` (>= kLargeMinGranules) granules whose
// start is aligned to `align` granules (a power of two up to a slot).
// Placement: the fewest granules not yet resident, then the shortest free
// run, over the first kLargeSearchFits segments with room (the first
// segment where it needs no new page ends the search). Sets *clean if
// every granule is known to read zero. Cost: a scan of the granule bitmaps
// of the heap's segments (16 words each, skipped when the slot mask shows no
// long enough run).
Page* large_span_alloc(Heap* h, size_t granules, size_t align, bool* clean) {
  heap_maybe_decay(h);
  Segment* seg = nullptr;
  GranuleFit best;
  int fits = 0;
  for (Segment* s = h->segments; s != nullptr; s = s->next) {
    GranuleFit f;
    if (!granules_find(s, granules, align, &f)) continue;
    if (seg == nullptr || f.better_than(best)) {
      seg = s;
      best = f;
    }
    if (best.fresh == 0 || ++fits == kLargeSearchFits) break;
  }
  if (seg == nullptr) {
    seg = segment_acquire(h);
    if (seg == nullptr) return nullptr;
    if (!granules_find(seg, granules, align, &best))
      return nullptr;  // cannot happen: kLargeMax fits
  }
  if (seg->used_mask == 1) h->empty_segments--;
  size_t head = best.at / kGranulesPerSlot;
  *clean = granules_take(h, seg, best.at, granules, head);
  Page* pg = &seg->pages[head];
  pg->delta = 0;
  pg->slots =
      static_cast<uint8_t>((best.at + granules + kGranulesPerSlot - 1) / kGranulesPerSlot - head);
  pg->start = reinterpret_cast<char*>(seg) + (best.at << kGranuleShift);
  pg->block_size = static_cast<uint32_t>(granules << kGranuleShift);
  g_active.fetch_add(granules << kGranuleShift, std::memory_order_relaxed);
  h->active_bytes += granules << kGranuleShift;
  if (h->active_bytes > h->active_peak) h->active_peak = h->active_bytes;
  return pg;
}

// Hard cap on a heap's free resident memory, whatever the decay: it bounds
// RSS when a heap frees much more than it reuses within a decay period. The
// heap's resident span memory (active plus free dirty) may reach
// kResidentCapFactor times its peak of active bytes over the current and the
// previous decay epoch (at least kPurgeCapMin of free memory). So a heap
// that frees its whole live set and builds it again within a period (a phase
// change, a request cycle) keeps its pages resident, including the slack
// that fragmentation leaves, and takes no page faults; the decay still
// returns them after 1-2 periods.
ALLOC_INLINE void heap_check_cap(Heap* h) {
  size_t peak = h->active_peak > h->active_peak_prev ? h->active_peak : h->active_peak_prev;
  if (h->active_bytes > peak) peak = h->active_bytes;
  size_t limit = peak * kResidentCapFactor - h->active_bytes;
  if (h->dirty_free_bytes > (limit > kPurgeCapMin ? limit : kPurgeCapMin)) heap_purge(h);
}

void span_free(Heap* h, Page* pg) {
  Segment* seg = segment_of(pg);
  size_t bytes;
  if (pg->flags & kPageLarge) {
    bytes = pg->block_size;
    granules_release(h, seg, granule_index(seg, pg->start), bytes >> kGranuleShift);
  } else {
    size_t idx = slot_index(seg, pg);
    size_t slots = pg->slots;
    bytes = slots << kSlotShift;
    seg->used_mask &= ~slot_bits(idx, slots);
    granules_clear(seg->granule_used, idx * kGranulesPerSlot, slots * kGranulesPerSlot);
    note_free_run(seg, idx * kGranulesPerSlot, slots * kGranulesPerSlot);
    h->dirty_free_bytes += bytes;
  }
  pg->cls = 0;
  // In debug mode a freed span keeps kPageDebug, so a double free into it
  // takes the checking path instead of the release fast path.
  pg->flags = g_debug ? kPageDebug : 0;
  g_active.fetch_sub(bytes, std::memory_order_relaxed);
  h->active_bytes -= bytes;
  if (seg->used_mask == 1) {
    h->empty_segments++;
    if (h->empty_segments > kMaxSpareSegments) segment_release(h, seg);
  }
  heap_maybe_decay(h);
  heap_check_cap(h);
}

// Resizes a large span in place to `granules` (>= kLargeMinGranules)
// granules: shrinking gives the tail granules back to the segment; growing
// takes the granules right after the span if they are free. Returns false
// (span untouched) if growing is impossible.
bool span_resize(Heap* h, Page* pg, size_t granules) {
  Segment* seg = segment_of(pg);
  size_t at = granule_index(seg, pg->start);
  size_t cur = pg->block_size >> kGranuleShift;
  if (granules < cur) {
    granules_release(h, seg, at + granules, cur - granules);
  } else if (granules > cur) {
    if (at + granules > kGranulesPerSegment) return false;
    if (granules_count(seg->granule_used, at + cur, granules - cur) != 0) return false;
    granules_take(h, seg, at + cur, granules - cur, slot_index(seg, pg));
  } else {
    return true;
  }
  g_active.fetch_add((granules << kGranuleShift) - (cur << kGranuleShift),
                     std::memory_order_relaxed);
  h->active_bytes +=
      (granules << kGranuleShift) - (cur << kGranuleShift);  // wraps correctly when shrinking
  if (h->active_bytes > h->active_peak) h->active_peak = h->active_bytes;
  pg->slots = static_cast<uint8_t>((at + granules + kGranulesPerSlot - 1) / kGranulesPerSlot -
                                   slot_index(seg, pg));
  pg->block_size = static_cast<uint32_t>(granules << kGranuleShift);
  if (granules < cur) heap_check_cap(h);
  return true;
}

// Moves a huge mapping's pages to `dest` (mremap) and its registration with
// them. The old address is unregistered *before* the move: once moved, the
// old range is free address space that another thread may map and register
// as a segment of its own, and a late unregistration would erase that.
bool remap_registered(Segment* seg, size_t old_total, size_t new_total, void* dest) {
  segment_register(dest, true);
  segment_register(seg, false);
  if (platform::remap_pages_to(seg, old_total, new_total, dest) == 0) return true;
  segment_register(seg, true);
  segment_register(dest, false);
  return false;
}

// Makes `from`, a cached mapping right after `seg` in the address space, part
// of seg (g_lock held; from is already unlinked from the cache). The merged
// range stays one VMA only when both were parts of one VMA.
static void huge_absorb(Segment* seg, Segment* from) {
  if (from->split != 0 || from->vma_base != seg->vma_base) seg->split = 1;
  seg->map_size += from->map_size;
  segment_register(from, false);  // from's header is now inside seg
}

// Merges the cached mappings right before and right after freed mapping `seg`
// into one (g_lock held) and returns the merged mapping's header, which is
// not in the cache. Cached mappings are never adjacent to one another (every
// free merges), so there is at most one of each. So the parts a block took
// of a larger cached mapping (huge_cache_split_tail) become that mapping
// again when the block is freed, and a later larger block finds it whole
// instead of growing a smaller one by mremap, whose new tail faults (issue
// 14, large_churn: two thirds of liballoc's page faults).
static Segment* huge_cache_coalesce(Segment* seg) {
  Segment** link = &g_huge_cache;
  while (*link != nullptr) {
    Segment* c = *link;
    if (reinterpret_cast<char*>(c) == reinterpret_cast<char*>(seg) + seg->map_size) {
      huge_absorb(seg, huge_cache_unlink(link));
    } else if (reinterpret_cast<char*>(c) + c->map_size == reinterpret_cast<char*>(seg)) {
      huge_absorb(huge_cache_unlink(link), seg);
      c->freed_ns = seg->freed_ns;
      seg = c;
    } else {
      link = &c->next;
    }
  }
  return seg;
}

// Makes [seg + at, seg + map_size) of a cached mapping just taken from the
// cache (`at` a multiple of 4 MiB) a cached mapping of its own, with its
// header at `at`, and cuts `seg` to `at` bytes. The tail keeps its resident
// pages and its idle time; it is part of seg's VMAs, so it can be grown by
// mremap exactly when seg could. Without room in the cache it is unmapped.
static void huge_cache_split_tail(Segment* seg, size_t at) {
  Segment* tail = reinterpret_cast<Segment*>(reinterpret_cast<char*>(seg) + at);
  tail->kind = kSegmentHuge;
  tail->heap = nullptr;
  tail->map_size = seg->map_size - at;
  tail->huge_offset = kHugeHeader;
  tail->split = seg->split;
  tail->vma_base = seg->vma_base;
  tail->freed_ns = seg->freed_ns;
  seg->map_size = at;
  segment_register(tail, true);
  g_lock.lock();
  if (g_huge_cache_count.load(std::memory_order_relaxed) < kHugeCacheMax) {
    tail = huge_cache_coalesce(tail);  // a neighbour freed while seg was out of the cache
    tail->next = g_huge_cache;
    g_huge_cache = tail;
    g_huge_cache_bytes += tail->map_size;
    g_huge_cache_count.fetch_add(1, std::memory_order_relaxed);
    tail = nullptr;
  }
  g_lock.unlock();
  if (tail != nullptr) segment_unmap(tail, tail->map_size);
}

// Takes the best-fitting cached huge mapping for a block needing `total`
// bytes (header included): the smallest one at least that large, else, if
// `grow`, the largest smaller one, grown by moving its pages (mremap, no
// copy, only the new tail faults). A larger mapping's part past the block's
// 4 MiB boundary becomes a cached mapping of its own when it could hold a
// huge block (issue 14, large_churn: it used to be unmapped when it was
// larger than the block, and the next large block faulted it back); a
// smaller rest stays with the block unless it is larger than the block, so
// the block can regrow in place. Returns nullptr if the cache has nothing
// usable.
Segment* huge_cache_take(size_t total, bool grow) {
  if (g_huge_cache_count.load(std::memory_order_relaxed) == 0) return nullptr;  // checked again under the lock
  g_lock.lock();
  Segment** best = nullptr;
  Segment** below = nullptr;
  for (Segment** link = &g_huge_cache; *link != nullptr; link = &(*link)->next) {
    size_t sz = (*link)->map_size;
    if (sz >= total) {
      if (best == nullptr || sz < (*best)->map_size) best = link;
    } else if ((*link)->split == 0 && (below == nullptr || sz > (*below)->map_size)) {
      below = link;  // a split mapping cannot be grown by mremap
    }
  }
  Segment** pick = best != nullptr ? best : (grow ? below : nullptr);
  Segment* seg = nullptr;
  if (pick != nullptr) seg = huge_cache_unlink(pick);
  g_lock.unlock();
  if (seg == nullptr) return nullptr;
  size_t old_total = seg->map_size;
  if (old_total >= total) {
    size_t at = (total + kSegmentMask) & ~kSegmentMask;
    if (old_total > at && old_total - at > kLargeMax + kHugeHeader) {
      huge_cache_split_tail(seg, at);
    } else if (old_total - total > total) {
      platform::unmap_pages(reinterpret_cast<char*>(seg) + total, old_total - total);
      g_mapped.fetch_sub(old_total - total, std::memory_order_relaxed);
      seg->map_size = total;
    }
    return seg;
  }
  void* dest = platform::map_aligned(total, kSegmentSize);
  if (dest != nullptr && remap_registered(seg, old_total, total, dest)) {
    seg = static_cast<Segment*>(dest);
    seg->map_size = total;
    seg->vma_base = reinterpret_cast<uintptr_t>(dest);
    g_mapped.fetch_add(total - old_total, std::memory_order_relaxed);
    return seg;
  }
  if (dest != nullptr) platform::unmap_pages(dest, total);
  segment_unmap(seg, old_total);
  return nullptr;
}

// A block aligned to `alignment` >= kSegmentSize, in its own mapping: the
// block starts on an `alignment` boundary and its header 4 MiB before it
// (segment_of maps the block there). The 4 MiB before the block stay
// untouched but for the header page. Never taken from the huge cache.
void* alloc_huge_aligned(Heap* h, size_t n, size_t alignment, bool* zeroed) {
  size_t ps = platform::page_size();
  size_t body = 0;
  if (alignment > PTRDIFF_MAX / 2 || n > PTRDIFF_MAX - alignment - ps) {
    errno = ENOMEM;
    return nullptr;
  }
  body = (n + ps - 1) & ~(ps - 1);
  if (body == 0) body = ps;
  char* base = static_cast<char*>(platform::map_aligned(alignment + body, alignment));
  if (base == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  Segment* seg = reinterpret_cast<Segment*>(base + alignment - kSegmentSize);
  if (alignment > kSegmentSize) platform::unmap_pages(base, alignment - kSegmentSize);
  *zeroed = true;
  seg->map_size = kSegmentSize + body;
  seg->split = 0;
  seg->vma_base = reinterpret_cast<uintptr_t>(seg);
  segment_register(seg, true);
  g_mapped.fetch_add(seg->map_size, std::memory_order_relaxed);
  return huge_setup(h, seg, kSegmentSize);
}

// Makes mapping `seg` a live huge block at offset `off`; returns the block.
char* huge_setup(Heap* h, Segment* seg, size_t off) {
  seg->kind = kSegmentHuge;
  seg->heap = nullptr;
  seg->huge_offset = off;
  uint64_t active = g_active.fetch_add(seg->map_size, std::memory_order_relaxed) + seg->map_size;
  if (active > g_active_peak.load(std::memory_order_relaxed)) {
    g_active_peak.store(active, std::memory_order_relaxed);  // a lost race only lowers the cap a little
  }
  g_huge_live.fetch_add(1, std::memory_order_relaxed);
  count_alloc(h, seg->map_size - off);
  return reinterpret_cast<char*>(seg) + off;
}

// Directly mapped block (or a cached one), aligned to `alignment`.
// Sets *zeroed when the memory reads zero (fresh mapping).
void* alloc_huge(Heap* h, size_t n, size_t alignment, bool* zeroed) {
  if (alignment > kMaxSpanAlignment) return alloc_huge_aligned(h, n, alignment, zeroed);
  size_t off = alignment > kHugeHeader ? alignment : kHugeHeader;
  size_t ps = platform::page_size();
  if (n > PTRDIFF_MAX - off - ps) {
    errno = ENOMEM;
    return nullptr;
  }
  size_t total = (off + n + ps - 1) & ~(ps - 1);
  Segment* seg = huge_cache_take(total, true);
  *zeroed = seg == nullptr;
  if (seg == nullptr) {
    seg = static_cast<Segment*>(platform::map_aligned(total, kSegmentSize));
    if (seg == nullptr) {
      errno = ENOMEM;
      return nullptr;
    }
    seg->map_size = total;
    seg->split = 0;
    seg->vma_base = reinterpret_cast<uintptr_t>(seg);
    segment_register(seg, true);
    g_mapped.fetch_add(total, std::memory_order_relaxed);
  }
  return huge_setup(h, seg, off);
}

// Resizes a huge block: in place when it fits its mapping (the tail is
// unmapped only if it is larger than the block, as in huge_cache_take);
// else by copying into a cached mapping that is large enough (resident: no
// page faults; the old mapping is cached in turn); else by moving its pages
// to a new 4 MiB-aligned range with mremap (no copy; the new tail faults).
// Returns nullptr if that is impossible; the block is then untouched.
void* realloc_huge(Heap* h, Segment* seg, size_t n) {
  size_t ps = platform::page_size();
  size_t off = seg->huge_offset;
  size_t old_total = seg->map_size;
  if (n > PTRDIFF_MAX - off - ps) return nullptr;
  size_t new_total = (off + n + ps - 1) & ~(ps - 1);
  if (new_total <= old_total) {
    if (old_total - new_total > new_total) {
      platform::unmap_pages(reinterpret_cast<char*>(seg) + new_total, old_total - new_total);
      seg->map_size = new_total;
      g_mapped.fetch_sub(old_total - new_total, std::memory_order_relaxed);
      g_active.fetch_sub(old_total - new_total, std::memory_order_relaxed);
      count_free(h, old_total - off);
      count_alloc(h, new_total - off);
    }
    return reinterpret_cast<char*>(seg) + off;
  }
  if (off == kHugeHeader) {
    if (Segment* to = huge_cache_take(new_total, false)) {
      char* q = huge_setup(h, to, off);
      memcpy(q, reinterpret_cast<char*>(seg) + off, old_total - off);
      free_huge(h, seg);
      return q;
    }
  }
  if (seg->split != 0) return nullptr;  // several VMAs: the caller copies
  void* dest = platform::map_aligned(new_total, kSegmentSize);
  if (dest == nullptr) return nullptr;
  if (!remap_registered(seg, old_total, new_total, dest)) {
    platform::unmap_pages(dest, new_total);
    return nullptr;
  }
  seg = static_cast<Segment*>(dest);
  seg->map_size = new_total;
  seg->vma_base = reinterpret_cast<uintptr_t>(dest);
  g_mapped.fetch_add(new_total - old_total, std::memory_order_relaxed);
  g_active.fetch_add(new_total - old_total, std::memory_order_relaxed);
  count_free(h, old_total - off);
  count_alloc(h, new_total - off);
  huge_fill_tail(seg, old_total, new_total);
  return reinterpret_cast<char*>(seg) + off;
}

// Takes the cached huge mapping that best covers `bytes`: the smallest one
// at least that large, else the largest. nullptr if the cache is empty.
Segment* huge_cache_pop_for(size_t bytes) {
  if (g_huge_cache_count.load(std::memory_order_relaxed) == 0) return nullptr;  // checked again under the lock
  g_lock.lock();
  Segment** pick = nullptr;
  for (Segment** link = &g_huge_cache; *link != nullptr; link = &(*link)->next) {
    size_t sz = (*link)->map_size;
    size_t have = pick == nullptr ? 0 : (*pick)->map_size;
    bool better = pick == nullptr || (sz >= bytes ? (have < bytes || sz < have) : (have < bytes && sz > have));
    if (better) pick = link;
  }
  Segment* seg = nullptr;
  if (pick != nullptr) seg = huge_cache_unlink(pick);
  g_lock.unlock();
  return seg;
}

// A huge block grown by mremap has a fresh tail [old_total, new_total) that
// would page-fault on every page when written. Moves the resident pages of a
// cached huge mapping there instead (mremap, no copy: no faults for the part
// they cover; issue 14). The moved-in pages hold stale bytes, which realloc
// allows. The block's mapping is then several VMAs (Segment::split), so it
// is never grown by mremap again: realloc copies it, the cache reuses it only
// where it fits as it is.
void huge_fill_tail(Segment* seg, size_t old_total, size_t new_total) {
  size_t tail = new_total - old_total;
  Segment* c = huge_cache_pop_for(tail);
  if (c == nullptr) return;
  size_t have = c->map_size;
  size_t take = have < tail ? have : tail;
  segment_register(c, false);  // before the move: the old range becomes free address space
  if (platform::remap_pages_to(c, have, take, reinterpret_cast<char*>(seg) + old_total) == 0) {
    seg->split = 1;
  } else {
    platform::unmap_pages(c, have);
  }
  g_mapped.fetch_sub(have, std::memory_order_relaxed);
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
  seg = huge_cache_coalesce(seg);
  seg->next = g_huge_cache;
  g_huge_cache = seg;
  g_huge_cache_bytes += seg->map_size;
  g_huge_cache_count.fetch_add(1, std::memory_order_relaxed);
  // Active plus cached huge memory stays within kResidentCapFactor times the
  // peak of active memory over this decay epoch and the one before (as the
  // span hard cap; the peak alone evicted what large_churn's next blocks
  // faulted back, issue 14), so a program
  // that frees its live set and builds it again within a period (a phase, a
  // request cycle) finds its huge mappings resident; the decay returns them
  // after 1-2 idle periods.
  const uint64_t active = g_active.load(std::memory_order_relaxed);
  uint64_t peak = active;
  for (uint64_t a : {g_active_peak.load(std::memory_order_relaxed), g_active_peak_prev.load(std::memory_order_relaxed)}) {
    if (a > peak) peak = a;
  }
  size_t cap_bytes = static_cast<size_t>(peak * kResidentCapFactor - active);
  if (cap_bytes < kHugeCacheMaxBytes) cap_bytes = kHugeCacheMaxBytes;
  while (g_huge_cache_count.load(std::memory_order_relaxed) > kHugeCacheMax ||
         g_huge_cache_bytes > cap_bytes) {
    Segment** link = &g_huge_cache;
    while ((*link)->next != nullptr) link = &(*link)->next;  // the oldest is last
    Segment* old = huge_cache_unlink(link);  // the last: its next is null
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

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench
