// A program for recorder_test to record: N rounds of every call the recorder
// interposes, a worker thread that frees blocks of the main thread and hands
// back blocks of its own, a forked child, and an ending chosen by MODE.
//
//   recorder_probe MODE N
//     MODE  run: return from main | exec: exec itself as `run 1` at the end
//           segv, abort, term, int: die of that signal at the end
//           closefds: first close every descriptor above 2 and put /dev/null
//           on 700 (where the recorder keeps its file), as daemons do
//   recorder_probe stress N
//     kStressThreads threads, N iterations each of malloc, realloc and a swap
//     through shared slots whose previous block it frees (cross-thread frees
//     by chance), while the main thread forks children that allocate too.
//
// Round 0 of nothing (N = 0) does all the rest, so the difference between
// the traces of N = k and N = 0 is exactly k rounds (kPerRound in the test).
// Output goes through write(), not stdio, so that no buffer is allocated.
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <new>

extern "C" void* __libc_malloc(size_t);  // Not interposed: an unknown block.

namespace {

constexpr int kMaxRounds = 64;
const std::align_val_t kAlign{64};
long g_stress_iterations = 0;

// Writes to the block and hides it from the optimiser (no call is elided).
void keep(void* p) {
  *static_cast<volatile char*>(p) = 1;
  asm volatile("" : : "r"(p) : "memory");
}

void* must(void* p) {
  if (p == nullptr) abort();
  keep(p);
  return p;
}

void say(const char* s) {
  ssize_t ignored = write(1, s, strlen(s));
  (void)ignored;
}

void c_family() {
  free(must(malloc(100)));
  free(must(calloc(10, 10)));
  void* volatile null = nullptr;  // The compiler would make realloc(NULL, n) a malloc.
  void* p = must(realloc(null, 50));
  p = must(realloc(p, 5000));
  if (realloc(p, 0) != nullptr) abort();  // glibc frees it.
  void* q = nullptr;
  if (posix_memalign(&q, 64, 200) != 0) abort();
  free(must(q));
  free(must(aligned_alloc(128, 256)));
  free(must(memalign(256, 300)));
  free(must(valloc(1000)));
  free(must(pvalloc(1000)));
  free(must(__libc_malloc(40)));                     // A free of an unknown pointer.
  free(must(realloc(must(__libc_malloc(40)), 80)));  // A realloc of one.
}

void cxx_family() {
  const std::nothrow_t& nt = std::nothrow;
  ::operator delete(must(::operator new(24)));
  ::operator delete[](must(::operator new[](24)));
  ::operator delete(must(::operator new(24, nt)), nt);
  ::operator delete[](must(::operator new[](24, nt)), nt);
  ::operator delete(must(::operator new(24, kAlign)), kAlign);
  ::operator delete[](must(::operator new[](24, kAlign)), kAlign);
  ::operator delete(must(::operator new(24, kAlign, nt)), kAlign, nt);
  ::operator delete[](must(::operator new[](24, kAlign, nt)), kAlign, nt);
  ::operator delete(must(::operator new(32)), 32);
  ::operator delete[](must(::operator new[](32)), 32);
  ::operator delete(must(::operator new(32, kAlign)), 32, kAlign);
  ::operator delete[](must(::operator new[](32, kAlign)), 32, kAlign);
}

struct Handoff {
  int rounds;
  void* from_main[kMaxRounds];    // Allocated by main, freed by the worker.
  void* from_worker[kMaxRounds];  // Allocated by the worker, deleted by main.
};

void* worker(void* arg) {
  Handoff* h = static_cast<Handoff*>(arg);
  free(must(malloc(33)));  // Also in round 0: the worker is a thread of every trace.
  for (int i = 0; i < h->rounds; ++i) {
    free(h->from_main[i]);
    h->from_worker[i] = must(::operator new(48));
  }
  return nullptr;
}

// The child frees what the parent allocated before the fork (inherited
// objects), allocates and frees its own, and leaves by _exit.
void fork_child_rounds(int rounds) {
  void* inherited[kMaxRounds];
  for (int i = 0; i < rounds; ++i) inherited[i] = must(malloc(55));
  pid_t pid = fork();
  if (pid < 0) abort();
  if (pid == 0) {
    for (int i = 0; i < rounds; ++i) {
      free(inherited[i]);
      free(must(malloc(10)));
    }
    _exit(0);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) abort();
  for (int i = 0; i < rounds; ++i) free(inherited[i]);
}

constexpr int kStressThreads = 4;
constexpr int kStressSlots = 64;
std::atomic<void*> g_slots[kStressSlots];

void* stress_worker(void* arg) {
  uint64_t x = reinterpret_cast<uintptr_t>(arg) * 0x9e3779b97f4a7c15ull + 1;
  const long n = g_stress_iterations;
  for (long i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    void* p = must(malloc(16 + x % 2000));
    p = must(realloc(p, 16 + (x >> 16) % 5000));
    void* old = g_slots[(x >> 32) % kStressSlots].exchange(p);
    if (old != nullptr) free(old);
  }
  return nullptr;
}

// Every block a worker allocates is freed (by a worker or at the end): the
// trace has N x kStressThreads of each of malloc, realloc and free.
void stress(long iterations) {
  g_stress_iterations = iterations;
  pthread_t t[kStressThreads];
  for (long i = 0; i < kStressThreads; ++i) {
    if (pthread_create(&t[i], nullptr, stress_worker, reinterpret_cast<void*>(i + 1)) != 0) {
      abort();
    }
  }
  for (int i = 0; i < 3; ++i) {  // fork() while the workers allocate.
    pid_t pid = fork();
    if (pid < 0) abort();
    if (pid == 0) {
      free(must(malloc(100)));
      _exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      abort();
    }
  }
  for (pthread_t& th : t) pthread_join(th, nullptr);
  for (std::atomic<void*>& slot : g_slots) free(slot.exchange(nullptr));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    say("usage: recorder_probe run|exec|segv|abort|term|int|stress N\n");
    return 2;
  }
  const char* mode = argv[1];
  if (strcmp(mode, "stress") == 0) {
    stress(atol(argv[2]));
    return 0;
  }
  int rounds = atoi(argv[2]);
  if (rounds < 0 || rounds > kMaxRounds) return 2;
  if (strcmp(mode, "closefds") == 0) {
    close_range(3, ~0u, 0);
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 700) != 700) abort();
  }
  static Handoff h;
  h.rounds = rounds;
  for (int i = 0; i < rounds; ++i) {
    c_family();
    cxx_family();
    must(malloc(77));  // Leaked.
    h.from_main[i] = must(malloc(64));
  }
  pthread_t t;
  if (pthread_create(&t, nullptr, worker, &h) != 0 || pthread_join(t, nullptr) != 0) abort();
  for (int i = 0; i < rounds; ++i) ::operator delete(h.from_worker[i]);
  fork_child_rounds(rounds);
  say("probe done\n");
  if (strcmp(mode, "exec") == 0) {
    execl(argv[0], argv[0], "run", "1", static_cast<char*>(nullptr));
    abort();
  }
  if (strcmp(mode, "segv") == 0) {
    volatile int* volatile null = nullptr;
    *null = 1;
  }
  if (strcmp(mode, "abort") == 0) abort();
  if (strcmp(mode, "term") == 0) kill(getpid(), SIGTERM);
  if (strcmp(mode, "int") == 0) raise(SIGINT);
  return strcmp(mode, "run") == 0 || strcmp(mode, "closefds") == 0 ? 0 : 3;
}
