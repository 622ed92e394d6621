// Start-up, interposition, fork and thread exit. Also the globals.
// Compiled only through static.cpp.
#include <fcntl.h>
#include <unistd.h>
#include "allocators/inhouse/internal.h"

namespace allocbench {
namespace detail {
namespace inhouse {

ALLOC_CONSTINIT Page g_empty_page{};       // never has blocks: forces the slow path
ALLOC_CONSTINIT Heap g_empty_heap(&g_empty_page);  // every thread's heap until its first allocation
__thread Heap* tl_heap ALLOC_TLS = &g_empty_heap;  // the calling thread's heap (owner)
__thread bool tl_exiting ALLOC_TLS = false;

ALLOC_CONSTINIT GlobalLock g_lock;         // heap registry, abandoned list, segment cache
Heap* g_all_heaps = nullptr;               // g_lock
Heap* g_abandoned = nullptr;               // g_lock
Heap* g_free_heaps = nullptr;              // g_lock
char* g_heap_chunk = nullptr;              // g_lock: bump area for new heaps
size_t g_heap_chunk_left = 0;              // g_lock
Segment* g_segment_cache = nullptr;        // g_lock: empty segments, newest first
std::atomic<int> g_segment_cache_count{0};  // written under g_lock, peeked by anyone
Segment* g_huge_cache = nullptr;           // g_lock: freed huge mappings, newest first
size_t g_huge_cache_bytes = 0;             // g_lock: bytes mapped by g_huge_cache
std::atomic<int> g_huge_cache_count{0};    // written under g_lock, peeked by anyone
std::atomic<uint64_t> g_decay_tick_ns{0};  // any thread (CAS): last decay tick of the caches
uint64_t g_decay_ns = kDecayMsDefault * 1000000;  // set once in init (ALLOC_DECAY_MS)
std::atomic<uint32_t> g_abandoned_count{0};  // any thread

std::atomic<int> g_init_state{0};          // 0 none, 1 running, 2 done
std::atomic<bool> g_atfork_done{false};    // pthread_atfork registered
bool g_debug = ALLOC_DEBUG_DEFAULT != 0;   // set once in init, before any allocation
size_t g_quarantine_max = size_t{256} << 10;  // set once in init (ALLOC_DEBUG_QUARANTINE)
bool g_misuse_abort = true;                   // set once in init (ALLOC_DEBUG_ABORT=0: report only)
uint8_t g_poison_byte = kPoisonByte;          // set once in init (ALLOC_DEBUG_ZERO_ON_FREE=1: 0)
std::atomic<uint64_t> g_misuse_reports{0};    // any thread
GlobalLock g_quarantine_lock;              // the debug quarantine (debug.cpp)
bool g_print_stats = false;                // set once in init
int g_stats_fd = 2;                        // set once in init: where ALLOC_STATS=1 reports
pthread_key_t g_thread_key;                // destructor abandons the thread's heap
std::atomic<uint64_t> g_segment_map[kSegmentMapWords];  // bit per live 4 MiB segment (any thread)

// Process-wide counters (any thread, relaxed).
std::atomic<uint64_t> g_mapped{0};
std::atomic<uint64_t> g_active{0};
std::atomic<uint64_t> g_purged{0};
std::atomic<uint64_t> g_segments{0};
std::atomic<uint64_t> g_huge_live{0};
std::atomic<uint64_t> g_active_peak{0};       // most g_active seen by the huge path this decay epoch
std::atomic<uint64_t> g_active_peak_prev{0};  // ...and in the epoch before
std::atomic<uint64_t> g_heap_count{0};
std::atomic<uint64_t> g_other_allocs{0};       // huge and heap-less allocations
std::atomic<uint64_t> g_other_alloc_bytes{0};
std::atomic<uint64_t> g_other_frees{0};
std::atomic<uint64_t> g_other_free_bytes{0};

void atfork_prepare() {
  g_quarantine_lock.lock();
  g_lock.lock();
}
void atfork_parent() {
  g_lock.unlock();
  g_quarantine_lock.unlock();
}
// Only the forking thread exists in the child. The heaps of the parent's
// other threads (and any a thread was reclaiming) are abandoned, so their
// remote frees are collected and their memory reused. Like mimalloc, this
// cannot repair a heap whose owner was inside malloc at the fork; POSIX
// allows only async-signal-safe calls in such a child anyway.
void atfork_child() {
  Heap* self = tl_heap;  // g_lock is held, taken by atfork_prepare
  for (Heap* h = g_all_heaps; h != nullptr; h = h->next_all) {
    if (h != self && (h->state == kHeapActive || h->state == kHeapReclaiming)) heap_park_locked(h);
  }
  g_lock.reset();
  g_quarantine_lock.reset();
  debug_atfork_child();
}

bool env_is_one(const char* name) {
  const char* v = getenv(name);
  return v != nullptr && v[0] == '1' && v[1] == '\0';
}

// Runs once, before the first allocation. Must not allocate: getenv,
// sysconf, mmap and pthread_key_create do not.
ALLOC_NOINLINE void ensure_init() {
  if (g_init_state.load(std::memory_order_acquire) == 2) return;
  int expected = 0;
  if (g_init_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    platform::page_size();
    if (env_is_one("ALLOC_DEBUG")) g_debug = true;
    if (const char* a = getenv("ALLOC_DEBUG_ABORT")) g_misuse_abort = !(a[0] == '0' && a[1] == '\0');
    if (env_is_one("ALLOC_DEBUG_ZERO_ON_FREE")) g_poison_byte = 0;
    if (g_debug) debug_init();
    g_print_stats = env_is_one("ALLOC_STATS");
    if (const char* q = getenv("ALLOC_DEBUG_QUARANTINE")) {
      size_t bytes = 0;
      for (; *q >= '0' && *q <= '9' && bytes < (size_t{1} << 40); ++q) bytes = bytes * 10 + static_cast<size_t>(*q - '0');
      g_quarantine_max = bytes;
    }
    if (const char* d = getenv("ALLOC_DECAY_MS")) {
      uint64_t ms = 0;
      for (; *d >= '0' && *d <= '9' && ms < 1000000000; ++d) ms = ms * 10 + static_cast<uint64_t>(*d - '0');
      g_decay_ns = ms * 1000000;
    }
    // Programs such as coreutils close stderr in an atexit handler; keep a
    // private close-on-exec copy so the report still gets out.
    if (g_print_stats) g_stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
    pthread_key_create(&g_thread_key, &thread_done);
    g_init_state.store(2, std::memory_order_release);
  } else {
    while (g_init_state.load(std::memory_order_acquire) != 2) sched_yield();
  }
  // May allocate (glibc grows its handler list with malloc): done after the
  // state is 2 so a re-entrant malloc proceeds.
  if (!g_atfork_done.exchange(true, std::memory_order_acq_rel)) {
    pthread_atfork(&atfork_prepare, &atfork_parent, &atfork_child);
  }
}

// pthread key destructor: the thread is exiting. Its heap gives back what it
// can and is parked: recycled if empty, else abandoned for adoption.
void thread_done(void* arg) {
  Heap* h = static_cast<Heap*>(arg);
  if (h == nullptr || h == &g_empty_heap) return;
  int saved = errno;
  tl_heap = &g_empty_heap;
  tl_exiting = true;
  if (g_debug) debug_enter();  // alloc_check_heap must not see the heap half collected
  heap_collect_all(h);
  if (g_debug) debug_leave();
  g_lock.lock();
  heap_park_locked(h);
  g_lock.unlock();
  errno = saved;
}

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench

#ifdef ALLOC_INTERPOSE
#include "allocators/inhouse/alloc_interpose.inc"
#endif
