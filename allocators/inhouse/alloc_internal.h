// Internal entry points of liballoc shared between its translation units
// (alloc.cpp: the allocator and the malloc family; alloc_cxx.cpp: operator
// new/delete). Hidden visibility: never exported from liballoc.so, so a
// program that defines its own alloc_* symbols cannot redirect our internal
// calls.
#ifndef ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_INTERNAL_H_
#define ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_INTERNAL_H_

#include <cstddef>

namespace allocbench {
namespace detail {
namespace inhouse {

#define ALLOC_HIDDEN __attribute__((visibility("hidden")))

// Same contracts as alloc_malloc / alloc_free / alloc_aligned in alloc.h.
ALLOC_HIDDEN void* malloc_impl(size_t size) noexcept;
ALLOC_HIDDEN void free_impl(void* p) noexcept;
ALLOC_HIDDEN void* aligned_impl(size_t alignment, size_t size) noexcept;

// The new-handler loop of the nothrow operator new forms (alignment 0: the
// default alignment). Lives in alloc.cpp, compiled without exceptions, so
// the noexcept operators need no exception table (and no libstdc++
// personality routine).
ALLOC_HIDDEN void* new_nothrow_impl(size_t size, size_t alignment) noexcept;

// Debug mode (g_debug) of the operators: operator new marks its block's
// family (kind 1: new, 2: new[]); operator delete checks the family and, for
// sized delete, the size (SIZE_MAX: unsized), then frees. A mismatch aborts
// with a message. In release builds the operators only test g_debug.
ALLOC_HIDDEN extern bool g_debug;
ALLOC_HIDDEN void debug_mark_new(void* p, int kind) noexcept;
ALLOC_HIDDEN void debug_delete(void* p, int kind, size_t size) noexcept;

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_INTERNAL_H_
