// The functions liballocbench_recorder.so interposes (LD_PRELOAD): the malloc
// family, operator delete in every form and the nothrow operator new, exec*,
// _exit and signal actions (the throwing operator new: interpose_new.cpp).
// Each forwards to the next definition (recorder.h, Next) and records what
// happened. glibc declares the C functions noexcept in C++. Compiled without
// exceptions: a noexcept function then needs no terminate handler, hence no
// personality routine and no libstdc++.
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <new>

#include "allocators/common/platform.h"
#include "recorder/recorder.h"

namespace rec = allocbench::detail::recorder;
using rec::g_next;
using rec::Kind;

#define RECORDER_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

void free_impl(Kind kind, void* p, size_t size, size_t alignment) {
  if (p == nullptr || rec::is_bootstrap(p)) return;
  if (!rec::ensure_next()) return;  // Only dlsym's own frees, of bootstrap blocks.
  if (rec::recording()) rec::record_free(kind, p, size, alignment);
  g_next.free(p);
}

size_t al(std::align_val_t a) { return static_cast<size_t>(a); }

}  // namespace

// --- the malloc family -----------------------------------------------------------

RECORDER_EXPORT void* malloc(size_t size) noexcept {
  if (__builtin_expect(!rec::ensure_next(), 0)) return rec::bootstrap_alloc(size, 16);
  void* p = g_next.malloc(size);
  if (__builtin_expect(p != nullptr, 1) && rec::recording()) {
    rec::record_alloc(Kind::kMalloc, p, size, 0);
  }
  return p;
}

RECORDER_EXPORT void free(void* p) noexcept { free_impl(Kind::kFree, p, 0, 0); }

RECORDER_EXPORT void* calloc(size_t count, size_t size) noexcept {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) bytes = SIZE_MAX;
  if (!rec::ensure_next()) return rec::bootstrap_alloc(bytes, 16);  // Static: zeroed.
  void* p = g_next.calloc(count, size);
  if (p != nullptr && rec::recording()) rec::record_alloc(Kind::kCalloc, p, bytes, 0);
  return p;
}

RECORDER_EXPORT void* realloc(void* p, size_t size) noexcept {
  if (!rec::ensure_next()) return rec::bootstrap_alloc(size, 16);  // dlsym never reallocs.
  if (p == nullptr) {
    void* q = g_next.realloc(nullptr, size);
    if (q != nullptr && rec::recording()) rec::record_alloc(Kind::kReallocNull, q, size, 0);
    return q;
  }
  if (rec::is_bootstrap(p)) {  // Moves out of the bootstrap buffer: a new, unknown object.
    void* q = g_next.malloc(size);
    if (q == nullptr) return nullptr;
    size_t tail = rec::bootstrap_tail(p);
    memcpy(q, p, size < tail ? size : tail);
    if (rec::recording()) rec::record_alloc(Kind::kReallocNull, q, size, 0);
    return q;
  }
  if (!rec::recording()) return g_next.realloc(p, size);
  return rec::record_realloc(p, size);
}

RECORDER_EXPORT int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  if (!rec::ensure_next()) {
    *out = rec::bootstrap_alloc(size, alignment);
    return *out != nullptr ? 0 : ENOMEM;
  }
  int rc = g_next.posix_memalign(out, alignment, size);
  if (rc == 0 && rec::recording()) rec::record_alloc(Kind::kPosixMemalign, *out, size, alignment);
  return rc;
}

// The four that dlsym never calls: one shape.
#define RECORDER_ALIGNED(name, kind, params, args, size, alignment) \
  RECORDER_EXPORT void* name params noexcept {                      \
    rec::ensure_next();                                             \
    void* p = g_next.name args;                                     \
    if (p != nullptr && rec::recording()) {                         \
      rec::record_alloc(kind, p, size, alignment);                  \
    }                                                               \
    return p;                                                       \
  }

RECORDER_ALIGNED(aligned_alloc, Kind::kAlignedAlloc, (size_t alignment, size_t size),
                 (alignment, size), size, alignment)
RECORDER_ALIGNED(memalign, Kind::kMemalign, (size_t alignment, size_t size), (alignment, size),
                 size, alignment)
RECORDER_ALIGNED(valloc, Kind::kValloc, (size_t size), (size), size,
                 allocbench::platform::page_size())
RECORDER_ALIGNED(pvalloc, Kind::kPvalloc, (size_t size), (size), size,
                 allocbench::platform::page_size())

// --- operator new (nothrow) and delete ---------------------------------------------------------

using std::align_val_t;
using std::nothrow_t;

void* operator new(size_t n, const nothrow_t&) noexcept {
  return rec::new_impl(Kind::kNewNothrow, n, 0, true);
}
void* operator new[](size_t n, const nothrow_t&) noexcept {
  return rec::new_impl(Kind::kNewArrayNothrow, n, 0, true);
}
void* operator new(size_t n, align_val_t a, const nothrow_t&) noexcept {
  return rec::new_impl(Kind::kNewAlignedNothrow, n, al(a), true);
}
void* operator new[](size_t n, align_val_t a, const nothrow_t&) noexcept {
  return rec::new_impl(Kind::kNewArrayAlignedNothrow, n, al(a), true);
}

void operator delete(void* p) noexcept { free_impl(Kind::kDelete, p, 0, 0); }
void operator delete[](void* p) noexcept { free_impl(Kind::kDeleteArray, p, 0, 0); }
void operator delete(void* p, size_t n) noexcept { free_impl(Kind::kDeleteSized, p, n, 0); }
void operator delete[](void* p, size_t n) noexcept { free_impl(Kind::kDeleteArraySized, p, n, 0); }
void operator delete(void* p, align_val_t a) noexcept {
  free_impl(Kind::kDeleteAligned, p, 0, al(a));
}
void operator delete[](void* p, align_val_t a) noexcept {
  free_impl(Kind::kDeleteArrayAligned, p, 0, al(a));
}
void operator delete(void* p, size_t n, align_val_t a) noexcept {
  free_impl(Kind::kDeleteSizedAligned, p, n, al(a));
}
void operator delete[](void* p, size_t n, align_val_t a) noexcept {
  free_impl(Kind::kDeleteArraySizedAligned, p, n, al(a));
}
void operator delete(void* p, const nothrow_t&) noexcept {
  free_impl(Kind::kDeleteNothrow, p, 0, 0);
}
void operator delete[](void* p, const nothrow_t&) noexcept {
  free_impl(Kind::kDeleteArrayNothrow, p, 0, 0);
}
void operator delete(void* p, align_val_t a, const nothrow_t&) noexcept {
  free_impl(Kind::kDeleteAlignedNothrow, p, 0, al(a));
}
void operator delete[](void* p, align_val_t a, const nothrow_t&) noexcept {
  free_impl(Kind::kDeleteArrayAlignedNothrow, p, 0, al(a));
}

// --- exec, _exit, signal actions -------------------------------------------------------
// exec replaces the image: every thread's records and an exec marker are
// written first (if it fails, recording goes on after the marker). glibc's
// execl*, execv* and execvp* call execve internally, not through the PLT, so
// each is interposed.

namespace {

int no_next() {
  errno = ENOSYS;
  return -1;
}

// execl's arguments: the count of those up to the terminating NULL, `first`
// included; then argv[0 .. n] from them (argv[n] the NULL).
size_t count_args(va_list* ap) {
  size_t n = 1;
  while (va_arg(*ap, const char*) != nullptr) ++n;
  return n;
}

void fill_args(char** argv, const char* first, size_t n, va_list* ap) {
  argv[0] = const_cast<char*>(first);
  for (size_t i = 1; i <= n; ++i) argv[i] = va_arg(*ap, char*);
}

}  // namespace

RECORDER_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) noexcept {
  rec::ensure_next();
  rec::before_exec();
  return g_next.execve(path, argv, envp);
}

RECORDER_EXPORT int execv(const char* path, char* const argv[]) noexcept {
  rec::ensure_next();
  rec::before_exec();
  return g_next.execv(path, argv);
}

RECORDER_EXPORT int execvp(const char* file, char* const argv[]) noexcept {
  rec::ensure_next();
  rec::before_exec();
  return g_next.execvp(file, argv);
}

RECORDER_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) noexcept {
  rec::ensure_next();
  if (g_next.execvpe == nullptr) return no_next();
  rec::before_exec();
  return g_next.execvpe(file, argv, envp);
}

RECORDER_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) noexcept {
  rec::ensure_next();
  if (g_next.fexecve == nullptr) return no_next();
  rec::before_exec();
  return g_next.fexecve(fd, argv, envp);
}

RECORDER_EXPORT int execveat(int dirfd, const char* path, char* const argv[], char* const envp[],
                             int flags) noexcept {
  rec::ensure_next();
  if (g_next.execveat == nullptr) return no_next();
  rec::before_exec();
  return g_next.execveat(dirfd, path, argv, envp, flags);
}

// The argv is a variable-length array on the caller's stack, as in glibc.
#define RECORDER_EXECL_ARGV(argv, arg, ap) \
  va_list ap;                              \
  va_start(ap, arg);                       \
  size_t argc_ = count_args(&ap);          \
  va_end(ap);                              \
  char* argv[argc_ + 1];                   \
  va_start(ap, arg);                       \
  fill_args(argv, arg, argc_, &ap)

RECORDER_EXPORT int execl(const char* path, const char* arg, ...) noexcept {
  RECORDER_EXECL_ARGV(argv, arg, ap);
  va_end(ap);
  return execv(path, argv);
}

RECORDER_EXPORT int execlp(const char* file, const char* arg, ...) noexcept {
  RECORDER_EXECL_ARGV(argv, arg, ap);
  va_end(ap);
  return execvp(file, argv);
}

RECORDER_EXPORT int execle(const char* path, const char* arg, ...) noexcept {
  RECORDER_EXECL_ARGV(argv, arg, ap);
  char* const* envp = va_arg(ap, char* const*);
  va_end(ap);
  return execve(path, argv, envp);
}

RECORDER_EXPORT void _exit(int status) {
  rec::ensure_next();
  rec::before_underscore_exit();
  if (g_next.underscore_exit != nullptr) g_next.underscore_exit(status);
  for (;;) syscall(SYS_exit_group, status);
}

RECORDER_EXPORT void _Exit(int status) {
  rec::ensure_next();
  rec::before_underscore_exit();
  if (g_next.underscore_Exit != nullptr) g_next.underscore_Exit(status);
  for (;;) syscall(SYS_exit_group, status);
}

RECORDER_EXPORT int sigaction(int sig, const struct sigaction* act,
                              struct sigaction* old) noexcept {
  rec::ensure_next();
  return rec::program_sigaction(sig, act, old);
}

// glibc's signal(): BSD semantics (SA_RESTART, the signal blocked in its handler).
RECORDER_EXPORT sighandler_t signal(int sig, sighandler_t handler) noexcept {
  rec::ensure_next();
  if (sig <= 0 || sig >= NSIG || handler == SIG_ERR) return g_next.signal(sig, handler);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, sig);
  sa.sa_flags = SA_RESTART;
  if (rec::program_sigaction(sig, &sa, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}
