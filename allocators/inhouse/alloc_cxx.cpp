// C++ operator new/delete for liballoc (alloc_static, alloc_shared).
//
// liballoc.so must not depend on libstdc++ (C programs preload it too), yet
// operator new must call the new-handler loop and throw std::bad_alloc. So
// this file refers to std::get_new_handler and std::__throw_bad_alloc through
// weak references: in a C++ process libstdc++ is loaded and they resolve; in
// a C process nothing calls operator new. It is compiled with -fexceptions
// (and no try/catch, so no personality routine) so that the exception thrown
// by __throw_bad_alloc unwinds through these frames.
//
// Deviation: the nothrow forms call the new-handler too (loop in alloc.cpp,
// compiled without exceptions) but cannot catch a bad_alloc it throws (that
// would need libstdc++'s personality routine): such an exception propagates
// to the caller instead of becoming nullptr. With no handler installed (the
// default) or a handler that frees memory or returns, they behave as the
// standard says.
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <new>

#include "allocators/inhouse/alloc_internal.h"

namespace ih = allocbench::detail::inhouse;

extern "C" {
// std::get_new_handler() and std::__throw_bad_alloc(), by their mangled names.
__attribute__((weak)) std::new_handler alloc_weak_get_new_handler() noexcept
    __asm__("_ZSt15get_new_handlerv");
__attribute__((weak, noreturn)) void alloc_weak_throw_bad_alloc() __asm__("_ZSt17__throw_bad_allocv");
}

namespace {

[[noreturn]] void throw_bad_alloc() {
  if (&alloc_weak_throw_bad_alloc != nullptr) alloc_weak_throw_bad_alloc();
  static const char kMsg[] = "alloc: operator new failed and std::bad_alloc is unavailable\n";
  ssize_t ignored = write(2, kMsg, sizeof kMsg - 1);
  (void)ignored;
  abort();
}

std::new_handler current_handler() {
  return &alloc_weak_get_new_handler != nullptr ? alloc_weak_get_new_handler() : nullptr;
}

// The new-handler loop of [new.delete.single]: retry after each handler call.
void* new_loop(size_t size, size_t alignment) {
  for (;;) {
    void* p = alignment != 0 ? ih::aligned_impl(alignment, size) : ih::malloc_impl(size);
    if (__builtin_expect(p != nullptr, 1)) return p;
    std::new_handler h = current_handler();
    if (h == nullptr) throw_bad_alloc();
    h();
  }
}

inline void* new_fast(size_t size) {
  void* p = ih::malloc_impl(size);
  return __builtin_expect(p != nullptr, 1) ? p : new_loop(size, 0);
}

constexpr int kNew = 1;               // operator new
constexpr int kNewArray = 2;          // operator new[]
constexpr int kNewAligned = 3;        // operator new with std::align_val_t
constexpr int kNewArrayAligned = 4;   // operator new[] with std::align_val_t
constexpr size_t kUnsizedDelete = ~size_t{0};

// Release builds pay one predictable test of g_debug per call.
inline void* marked(void* p, int kind) {
  if (__builtin_expect(ih::g_debug, 0)) ih::debug_mark_new(p, kind);
  return p;
}

inline void release(void* p, int kind, size_t size) {
  if (__builtin_expect(ih::g_debug, 0)) {
    ih::debug_delete(p, kind, size);
  } else {
    ih::free_impl(p);
  }
}

}  // namespace

#define ALLOC_EXPORT __attribute__((visibility("default")))

ALLOC_EXPORT void* operator new(size_t size) { return marked(new_fast(size), kNew); }
ALLOC_EXPORT void* operator new[](size_t size) { return marked(new_fast(size), kNewArray); }
ALLOC_EXPORT void* operator new(size_t size, const std::nothrow_t&) noexcept {
  return marked(ih::new_nothrow_impl(size, 0), kNew);
}
ALLOC_EXPORT void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  return marked(ih::new_nothrow_impl(size, 0), kNewArray);
}
ALLOC_EXPORT void* operator new(size_t size, std::align_val_t al) {
  return marked(new_loop(size, static_cast<size_t>(al)), kNewAligned);
}
ALLOC_EXPORT void* operator new[](size_t size, std::align_val_t al) {
  return marked(new_loop(size, static_cast<size_t>(al)), kNewArrayAligned);
}
ALLOC_EXPORT void* operator new(size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return marked(ih::new_nothrow_impl(size, static_cast<size_t>(al)), kNewAligned);
}
ALLOC_EXPORT void* operator new[](size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return marked(ih::new_nothrow_impl(size, static_cast<size_t>(al)), kNewArrayAligned);
}

ALLOC_EXPORT void operator delete(void* p) noexcept { release(p, kNew, kUnsizedDelete); }
ALLOC_EXPORT void operator delete[](void* p) noexcept { release(p, kNewArray, kUnsizedDelete); }
ALLOC_EXPORT void operator delete(void* p, const std::nothrow_t&) noexcept { release(p, kNew, kUnsizedDelete); }
ALLOC_EXPORT void operator delete[](void* p, const std::nothrow_t&) noexcept {
  release(p, kNewArray, kUnsizedDelete);
}
ALLOC_EXPORT void operator delete(void* p, size_t n) noexcept { release(p, kNew, n); }
ALLOC_EXPORT void operator delete[](void* p, size_t n) noexcept { release(p, kNewArray, n); }
ALLOC_EXPORT void operator delete(void* p, std::align_val_t) noexcept { release(p, kNewAligned, kUnsizedDelete); }
ALLOC_EXPORT void operator delete[](void* p, std::align_val_t) noexcept {
  release(p, kNewArrayAligned, kUnsizedDelete);
}
ALLOC_EXPORT void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  release(p, kNewAligned, kUnsizedDelete);
}
ALLOC_EXPORT void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  release(p, kNewArrayAligned, kUnsizedDelete);
}
ALLOC_EXPORT void operator delete(void* p, size_t n, std::align_val_t) noexcept { release(p, kNewAligned, n); }
ALLOC_EXPORT void operator delete[](void* p, size_t n, std::align_val_t) noexcept {
  release(p, kNewArrayAligned, n);
}
