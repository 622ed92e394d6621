// The throwing operator new forms of liballocbench_recorder.so, and the
// new-handler loop every form runs (the nothrow forms: interpose.cpp).
//
// operator new does not forward to libstdc++'s, which would call malloc and
// be recorded twice: it runs [new.delete.single]'s loop itself over the next
// malloc / posix_memalign. std::get_new_handler and std::__throw_bad_alloc
// are weak references, so that the library needs no libstdc++ (C programs
// load it too). This file is compiled with -fexceptions and has no try/catch,
// no destructor and no noexcept function, so a bad_alloc unwinds through it
// without a personality routine. As in liballoc, a nothrow form cannot turn a
// handler's bad_alloc into nullptr: that exception propagates.
#include <stdlib.h>

#include <new>

#include "allocators/common/platform.h"
#include "recorder/recorder.h"

extern "C" {
__attribute__((weak)) std::new_handler recorder_weak_get_new_handler() noexcept
    __asm__("_ZSt15get_new_handlerv");
__attribute__((weak, noreturn)) void recorder_weak_throw_bad_alloc() __asm__(
    "_ZSt17__throw_bad_allocv");
}

namespace allocbench {
namespace detail {
namespace recorder {
namespace {

void* aligned_next(size_t alignment, size_t size) {
  void* p = nullptr;
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  return g_next.posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}

}  // namespace

void* new_impl(Kind kind, size_t size, size_t alignment, bool nothrow) {
  if (!ensure_next()) return bootstrap_alloc(size, alignment);
  size_t n = size == 0 ? 1 : size;
  for (;;) {
    void* p = alignment == 0 ? g_next.malloc(n) : aligned_next(alignment, n);
    if (__builtin_expect(p != nullptr, 1)) {
      if (recording()) record_alloc(kind, p, size, alignment);
      return p;
    }
    std::new_handler h =
        &recorder_weak_get_new_handler != nullptr ? recorder_weak_get_new_handler() : nullptr;
    if (h != nullptr) {
      h();
    } else if (nothrow) {
      return nullptr;
    } else if (&recorder_weak_throw_bad_alloc != nullptr) {
      recorder_weak_throw_bad_alloc();
    } else {
      static const char kMsg[] = "allocbench recorder: operator new failed\n";
      platform::write_fully(2, kMsg, sizeof kMsg - 1);
      abort();
    }
  }
}

}  // namespace recorder
}  // namespace detail
}  // namespace allocbench

namespace rec = allocbench::detail::recorder;
using allocbench::tracefmt::Kind;

void* operator new(size_t n) { return rec::new_impl(Kind::kNew, n, 0, false); }
void* operator new[](size_t n) { return rec::new_impl(Kind::kNewArray, n, 0, false); }
void* operator new(size_t n, std::align_val_t a) {
  return rec::new_impl(Kind::kNewAligned, n, static_cast<size_t>(a), false);
}
void* operator new[](size_t n, std::align_val_t a) {
  return rec::new_impl(Kind::kNewArrayAligned, n, static_cast<size_t>(a), false);
}
