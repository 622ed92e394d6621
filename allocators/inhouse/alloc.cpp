// The public operations: the malloc family's core (calloc, realloc, aligned,
// usable size), the entry points for operator new, and the alloc_* C API.
// Compiled only through static.cpp.
#include "allocators/inhouse/internal.h"

namespace allocbench {
namespace detail {
namespace inhouse {

ALLOC_NOINLINE void* malloc_slow(size_t n) {
  ensure_init();
  if (g_debug) return debug_alloc(n, 16);
  bool zeroed;
  return core_alloc(n, 16, &zeroed);
}

ALLOC_NOINLINE void free_slow(void* p) {
  int saved = errno;
  ensure_init();  // a free before any allocation must still see the debug switch
  if (g_debug) {
    debug_free(p);
  } else {
    if (block_known(p)) {
      if (ALLOC_UNLIKELY(tl_heap == &g_empty_heap)) freeing_heap_init();
      core_free(p);
    } else {
      report_misuse("free(): invalid pointer (not allocated by liballoc)", p);  // never written
    }
  }
  errno = saved;
}

void* do_aligned(size_t alignment, size_t n) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    errno = EINVAL;
    return nullptr;
  }
  if (alignment <= 16) return do_malloc(n);
  if (n > static_cast<size_t>(PTRDIFF_MAX)) {
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
  ensure_init();  // the first call must see the debug switch
  if (g_debug) {
    size_t size;
    return debug_user_size(p, "invalid pointer passed to malloc_usable_size", &size) ? size : 0;
  }
  if (!block_known(p)) {
    report_misuse("malloc_usable_size(): invalid pointer (not allocated by liballoc)", p);
    return 0;
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
  ensure_init();  // the first call must see the debug switch
  if (g_debug) {
    if (!debug_user_size(p, "invalid pointer passed to realloc", &old)) {
      errno = EINVAL;  // report-only mode: the caller keeps its pointer
      return nullptr;
    }
  } else {
    Segment* seg = segment_of(p);
    if (!block_known(p)) {
      report_misuse("realloc(): invalid pointer (not allocated by liballoc)", p);
      errno = EINVAL;
      return nullptr;
    }
    if (seg->kind == kSegmentHuge && n > kLargeMax) {
      void* q = realloc_huge(tl_heap, seg, n);
      if (q != nullptr) return q;
    } else if (seg->kind == kSegmentSmall && seg->heap == tl_heap && n > kMaxClassSize / 2 && n <= kLargeMax) {
      // A large span of this thread's heap grows into the free granules after
      // it or gives back its tail, without copying.
      Page* pg = page_of(seg, p);
      if (pg->flags & kPageLarge) {
        Heap* h = tl_heap;
        uint32_t old_bytes = pg->block_size;
        size_t granules = (n + kGranule - 1) >> kGranuleShift;
        if (span_resize(h, pg, granules < kLargeMinGranules ? kLargeMinGranules : granules)) {
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
void alloc_census(alloc_census_t* out) { ih::census(out); }
int alloc_check_heap(void) {
  ih::ensure_init();
  return ih::g_debug ? ih::debug_check_heap() : 0;
}
int alloc_debug_enabled(void) {
  ih::ensure_init();
  return ih::g_debug ? 1 : 0;
}

}  // extern "C"

#ifdef ALLOC_TEST_HOOKS
alloc_test_hooks_t alloc_test_hooks = {nullptr, nullptr};
#endif
