// The recorder's core (recorder.cpp), as the interposed functions
// (interpose.cpp) use it: the definitions they forward to, the bootstrap
// buffer, and one call per kind of event. See docs/trace_format.md.
#ifndef ALLOCBENCH_RECORDER_RECORDER_H_
#define ALLOCBENCH_RECORDER_RECORDER_H_

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "workloads/recorded_trace_format.h"

namespace allocbench {
namespace detail {
namespace recorder {

using tracefmt::Kind;

// The definitions that follow the recorder in symbol lookup (dlsym
// RTLD_NEXT): the real allocator, exec and _exit. Written once by
// ensure_next(), then read-only.
struct Next {
  void* (*malloc)(size_t);
  void (*free)(void*);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  int (*posix_memalign)(void**, size_t, size_t);
  void* (*aligned_alloc)(size_t, size_t);
  void* (*memalign)(size_t, size_t);
  void* (*valloc)(size_t);
  void* (*pvalloc)(size_t);
  int (*execve)(const char*, char* const[], char* const[]);
  int (*execv)(const char*, char* const[]);
  int (*execvp)(const char*, char* const[]);
  int (*execvpe)(const char*, char* const[], char* const[]);
  int (*fexecve)(int, char* const[], char* const[]);
  int (*execveat)(int, const char*, char* const[], char* const[], int);
  void (*underscore_exit)(int);  // _exit
  void (*underscore_Exit)(int);  // _Exit
  int (*sigaction)(int, const struct sigaction*, struct sigaction*);
  sighandler_t (*signal)(int, sighandler_t);
};
extern Next g_next;
extern std::atomic<int> g_next_state;  // 2 once g_next is filled.
extern std::atomic<int> g_mode;        // kModeOff: calls are only forwarded.
constexpr int kModeOff = 0;
constexpr int kModePending = 1;  // Before the constructor: records are buffered.
constexpr int kModeOn = 2;

bool resolve_next_slow();

// Fills g_next on the first call (one acquire load afterwards). False only
// on the thread that is filling it, from inside dlsym, which allocates: the
// caller then serves the call from the bootstrap buffer.
inline bool ensure_next() {
  if (__builtin_expect(g_next_state.load(std::memory_order_acquire) == 2, 1)) return true;
  return resolve_next_slow();
}

// A small static bump buffer for the allocations dlsym makes before the real
// allocator is known. Never freed; nullptr when exhausted.
void* bootstrap_alloc(size_t size, size_t alignment);
bool is_bootstrap(const void* p);
// Bytes of the bootstrap buffer from p to its end (what a realloc may copy).
size_t bootstrap_tail(const void* p);

inline bool recording() { return g_mode.load(std::memory_order_relaxed) != kModeOff; }

// Records an allocation of `size` bytes at p (non-null) by call `k`;
// `alignment` 0 for the allocator's default. Call after the allocator returned.
void record_alloc(Kind k, void* p, size_t size, size_t alignment);

// Records the free of p (non-null) by call `k`, with the size and alignment
// the call passed (0 when it passes none). Call before the allocator frees p,
// so that an allocation reusing p in another thread gets a later seq.
void record_free(Kind k, void* p, size_t size, size_t alignment);

// operator new's loop: the next malloc (or posix_memalign for an alignment),
// the new-handler after each failure, std::bad_alloc (or nullptr when
// `nothrow`) without one; records the block. interpose_new.cpp.
void* new_impl(Kind kind, size_t size, size_t alignment, bool nothrow);

// realloc(p, n), p non-null, forwarded and recorded.
void* record_realloc(void* p, size_t n);

// Before an exec* call, and before _exit/_Exit: flushes every thread's
// records and writes the end marker. Nothing in a vfork child (it shares the
// parent's memory and file).
void before_exec();
void before_underscore_exit();

// sigaction() for the program: the recorder keeps its own handler on the
// fatal signals whose action the program sees as SIG_DFL, and shows the
// program the action it set (docs/trace_format.md, "Signals").
int program_sigaction(int sig, const struct sigaction* act, struct sigaction* old);

}  // namespace recorder
}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_RECORDER_RECORDER_H_
