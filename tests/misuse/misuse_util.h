// Shared by the misuse programs of tests/misuse: a sink the compiler cannot
// see through, the ending of a program whose misuse went unreported, and a
// guard that checks, once liballoc has aborted, that it did not write to
// memory it never handed out.
#ifndef ALLOCBENCH_TESTS_MISUSE_MISUSE_UTIL_H_
#define ALLOCBENCH_TESTS_MISUSE_MISUSE_UTIL_H_

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

namespace allocbench {
namespace misuse {

inline void* volatile g_sink;  // main thread: the last pointer passed to keep()

// Returns `p` through a volatile store and load, so the compiler can neither
// pair an allocation with its release and elide both nor see the misuse.
template <typename T>
T* keep(T* p) {
  g_sink = p;
  return static_cast<T*>(g_sink);
}

// The end of a program that got past its misuse: exit code 3.
inline int not_detected(const char* name) {
  fprintf(stderr, "misuse not detected: %s\n", name);
  return 3;
}

constexpr unsigned char kGuardFill = 0x5a;
inline unsigned char* g_guard_mem;  // main thread, read by the SIGABRT handler
inline size_t g_guard_len;          // main thread, read by the SIGABRT handler

// Fills `mem` with a pattern and checks it from a SIGABRT handler: when
// liballoc aborts, a changed byte turns the ending into exit 4 ("foreign
// memory was written") instead of SIGABRT.
inline void guard_unwritten(unsigned char* mem, size_t len) {
  memset(mem, kGuardFill, len);
  g_guard_mem = mem;
  g_guard_len = len;
  signal(SIGABRT, [](int) {
    for (size_t i = 0; i < g_guard_len; ++i) {
      if (g_guard_mem[i] != kGuardFill) {
        static const char kMsg[] = "foreign memory was written\n";
        ssize_t ignored = write(2, kMsg, sizeof kMsg - 1);
        (void)ignored;
        _exit(4);
      }
    }
    signal(SIGABRT, SIG_DFL);
    raise(SIGABRT);  // delivered when the handler returns
  });
}

}  // namespace misuse
}  // namespace allocbench

#endif  // ALLOCBENCH_TESTS_MISUSE_MISUSE_UTIL_H_
