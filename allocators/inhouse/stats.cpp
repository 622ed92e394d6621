// Statistics: per-heap call counters, the process-wide snapshot, the census
// of what the allocator really holds, and the ALLOC_STATS=1 report.
// Compiled only through static.cpp.
#include <unistd.h>
#include "allocators/inhouse/internal.h"

namespace allocbench {
namespace detail {
namespace inhouse {

void count_alloc(Heap* h, size_t bytes) {
  if (h != &g_empty_heap) {
    h->allocs.add(1);
    h->alloc_bytes.add(bytes);
  } else {
    ALLOC_TEST_HOOK(shared_count, nullptr);
    g_other_allocs.fetch_add(1, std::memory_order_relaxed);
    g_other_alloc_bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
}
void count_free(Heap* h, size_t bytes) {
  if (h != &g_empty_heap) {
    h->frees.add(1);
    h->free_bytes.add(bytes);
  } else {
    ALLOC_TEST_HOOK(shared_count, nullptr);
    g_other_frees.fetch_add(1, std::memory_order_relaxed);
    g_other_free_bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
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

// Walks every heap and the global caches (callers keep other threads quiet).
void census(alloc_census_t* c) {
  memset(c, 0, sizeof *c);
  g_lock.lock();
  for (Heap* h = g_all_heaps; h != nullptr; h = h->next_all) {
    if (h->state == kHeapActive) c->heaps_active++;
    if (h->state == kHeapAbandoned) c->heaps_abandoned++;
    for (Segment* seg = h->segments; seg != nullptr; seg = seg->next) {
      c->segments_owned++;
      c->bytes_dirty_free += static_cast<uint64_t>(__builtin_popcountll(free_dirty(seg))) << kSlotShift;
      // Spans in address order: the first used granule past one is the start
      // of a span, whose head descriptor is its slot's.
      size_t g = kGranulesPerSlot;
      while ((g = granules_next(seg->granule_used, g, true)) < kGranulesPerSegment) {
        Page* pg = &seg->pages[g / kGranulesPerSlot];
        size_t len = span_granules(pg);
        g += len != 0 ? len : 1;
        c->spans++;
        c->blocks_live += pg->used;
        // The word's count, which the owner's collect subtracts from `used`.
        c->blocks_remote += remote_list_count(page_xthread(pg).load(std::memory_order_relaxed));
      }
    }
    for (int cls = 1; cls < kNumClasses; ++cls) {
      for (Page* pg = h->queues[cls].first; pg != nullptr; pg = pg->next) c->pages_queued++;
    }
    for (Page* pg = h->full.first; pg != nullptr; pg = pg->next) c->pages_full++;
    for (Page* pg = h->large.first; pg != nullptr; pg = pg->next) c->large_spans++;
    for (Block* b = h->delayed.load(std::memory_order_acquire); b != nullptr; b = b->next) c->blocks_delayed++;
    for (int cls = 1; cls < kRemoteCacheClasses; ++cls) {
      for (Block* b = h->rcache[cls].free; b != nullptr; b = b->next) c->blocks_cached++;
    }
  }
  for (Segment* seg = g_segment_cache; seg != nullptr; seg = seg->next) c->segments_cached++;
  for (Segment* seg = g_huge_cache; seg != nullptr; seg = seg->next) c->huge_cached++;
  g_lock.unlock();
  c->segments = g_segments.load(std::memory_order_relaxed);
  c->huge_live = g_huge_live.load(std::memory_order_relaxed);
  c->bytes_active = g_active.load(std::memory_order_relaxed);
  c->bytes_mapped = g_mapped.load(std::memory_order_relaxed);
}

void print_stats(int fd) {
  alloc_stats_t s;
  get_stats(&s);
  char buf[1536];
  size_t n = 0;
  auto put = [&](const char* str) {
    while (*str && n < sizeof buf - 1) buf[n++] = *str++;
  };
  auto num = [&](const char* key, uint64_t v) {
    put(key);
    n += format_dec(buf + n, v);
    put("\n");
  };
  put("alloc stats (liballoc) pid ");
  n += format_dec(buf + n, static_cast<uint64_t>(getpid()));
  put(" exe ");
  char exe[512];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[len > 0 ? len : 0] = '\0';
  put(exe);
  put("\n");
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
  platform::write_fully(fd, buf, n);
}

__attribute__((destructor)) void print_stats_at_exit() {
  if (g_print_stats) print_stats(g_stats_fd >= 0 ? g_stats_fd : 2);
}

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench
