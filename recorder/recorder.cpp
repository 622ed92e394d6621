// The recorder's core: sequence numbers, thread buffers, the output file and
// its end markers, start-up, fork, exit, exec and fatal signals. The file
// layout and the guarantees are in docs/trace_format.md.
//
// Locks: the object map's shard locks (object_map.h) and g_file_lock, never
// nested except by the fork prepare handler (file lock first). Every holder
// of g_file_lock blocks all signals, so a fatal-signal handler never waits
// for a lock that the code it interrupted holds; the handler itself only
// tries the lock for a bounded time.
#include "recorder/recorder.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <new>

#include "allocators/common/platform.h"
#include "allocators/common/spin_lock.h"
#include "recorder/object_map.h"

namespace allocbench {
namespace detail {
namespace recorder {

namespace tf = tracefmt;

Next g_next;
std::atomic<int> g_next_state{0};
std::atomic<int> g_mode{kModePending};

namespace {

constexpr size_t kBufferBytes = 64 << 10;  // Records of one thread between two writes.
constexpr uint32_t kRecordStart = tf::kChunkHeaderBytes;  // Room for a chunk header before them.
constexpr uint32_t kFlushAt = kBufferBytes - tf::kMaxRecordBytes;
constexpr uint32_t kMaxBuffers =
    4096;  // Threads alive at once beyond this write one record a chunk.
constexpr size_t kPathMax = 4096;
constexpr int kHandlerLockTries = 200000;  // sched_yield rounds: well under a second.
constexpr int kHighFd = 700;  // The file's descriptor is moved at or above this (see write_out).

// The fatal signals whose default action the recorder replaces with
// "flush, then die of the same signal" (when the program's is the default).
constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE,  SIGILL,  SIGABRT, SIGSYS, SIGTERM,
                                 SIGINT,  SIGHUP, SIGQUIT, SIGPIPE, SIGXCPU, SIGXFSZ};

// One thread's records until they are written. The owner appends with plain
// stores and publishes each whole record with a release store of `committed`;
// a flusher (exit, exec, fatal signal) holding g_file_lock writes out what is
// committed; only the owner rewinds the buffer, under the lock.
struct Buffer {
  std::atomic<uint64_t> committed{
      0};                         // records << 32 | end of the last whole record; owner stores.
  uint32_t bytes = kRecordStart;  // End of the records; owner.
  uint32_t records = 0;           // Records in data; owner.
  uint32_t flushed_bytes = kRecordStart;  // data[kRecordStart, this) is in the file; g_file_lock.
  uint32_t flushed_records = 0;           // Records among them; g_file_lock.
  uint32_t thread = 0;                    // The owner's thread id; g_file_lock.
  bool in_use = false;                    // Owned by a live thread; g_file_lock.
  Buffer* next_free = nullptr;            // Free list; g_file_lock.
  alignas(64) uint8_t data[kBufferBytes];
};

// Per thread, in static TLS (initial-exec: no allocation, one fs-relative load).
struct ThreadState {
  Buffer* buf;        // This thread's buffer, or nullptr.
  uint64_t prev_seq;  // Seq of this thread's last record: the next delta's base.
  uint32_t thread;    // Dense id in this file, valid when has_id.
  uint8_t has_id;
  uint8_t exited;     // The key destructor ran: each record goes out as its own chunk.
  uint8_t resolving;  // This thread is inside dlsym (resolve_next_slow).
};
__thread ThreadState t_state __attribute__((tls_model("initial-exec")));
__thread sigset_t t_fork_mask __attribute__((tls_model("initial-exec")));

// The last sequence number handed out, alone on its cache line: every
// recorded call of every thread increments it.
struct alignas(64) SeqCounter {
  std::atomic<uint64_t> last{0};
  char pad[64 - sizeof(std::atomic<uint64_t>)] = {};
};
SeqCounter g_seq;
std::atomic<uint32_t> g_next_thread{0};
std::atomic<bool> g_sync{false};  // After the exit marker: every record is written at once.

ObjectMap g_objects;

// The output file and the buffers; all under g_file_lock.
SpinLock g_file_lock;
struct Output {
  int fd = -1;             // Opened at start-up; in a fork child at its first write.
  dev_t dev = 0;           // The file's device and inode, to tell it from another file
  ino_t ino = 0;           // that took over fd (the program closed or dup2'd onto it).
  char name[kPathMax + 32] = {};  // The file's path.
  bool failed = false;     // Opening or writing failed: nothing more is written.
  uint64_t records = 0;    // Records in the file's chunks.
  uint64_t first_seq = 0;  // Every record's seq is larger (the fork point in a child).
  Buffer* buffers[kMaxBuffers] = {};
  uint32_t buffer_count = 0;
  Buffer* free_buffers = nullptr;
  uint8_t header[tf::kHeaderFixedBytes + tf::kMaxCommandBytes + 1] = {};
};
Output g_out;

// Set by the constructor (a fork child updates pid and fork_child).
char g_path[kPathMax];  // ALLOCBENCH_RECORD_OUT.
uint64_t g_session = 0;
long g_root_pid = 0;  // ALLOCBENCH_RECORD_ROOT_PID: whose first image writes g_path itself.
int g_pid = 0;        // This process: a vfork child has another (and must not flush).
bool g_fork_child = false;
pthread_key_t g_key;
bool g_key_ok = false;

// The program's view of the fatal signals the recorder manages.
struct SignalView {
  bool managed;              // The recorder installed its handler at start-up.
  struct sigaction program;  // The action the program set (SIG_DFL until it sets one).
};
SignalView g_signals[NSIG];
SpinLock g_signal_lock;

alignas(64) uint8_t g_boot[64 << 10];
std::atomic<size_t> g_boot_used{0};

uint64_t pack(uint32_t records, uint32_t bytes) {
  return static_cast<uint64_t>(records) << 32 | bytes;
}

uint8_t align_log2(size_t alignment) {
  return alignment <= 1 ? 0 : static_cast<uint8_t>(64 - __builtin_clzll(alignment - 1));
}

// g_file_lock with every signal blocked.
class FileLock {
 public:
  FileLock() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old_);
    g_file_lock.lock();
  }
  ~FileLock() {
    g_file_lock.unlock();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  sigset_t old_;
};

// In a signal handler: the lock, if another thread lets it go soon enough.
bool lock_for_handler() {
  for (int i = 0; i < kHandlerLockTries; ++i) {
    if (g_file_lock.try_lock()) return true;
    sched_yield();
  }
  return false;
}

// A line on stderr, built without allocating.
class Message {
 public:
  Message& str(const char* s) {
    while (*s != '\0' && n_ < sizeof buf_ - 1) buf_[n_++] = *s++;
    return *this;
  }
  Message& num(uint64_t v) {
    uint64_t unit = 1;  // The power of ten of v's first digit.
    while (v / unit >= 10) unit *= 10;
    for (; unit != 0 && n_ < sizeof buf_ - 1; unit /= 10) {
      buf_[n_++] = static_cast<char>('0' + v / unit % 10);
    }
    return *this;
  }
  void print() {
    buf_[n_++] = '\n';
    platform::write_fully(2, buf_, n_);
  }
  const char* c_str() {
    buf_[n_] = '\0';
    return buf_;
  }

 private:
  char buf_[kPathMax + 256];
  size_t n_ = 0;
};

// Stops recording after a failure to open or write the file. Under g_file_lock.
void fail(const char* what, const char* path, int err) {
  g_out.failed = true;
  g_mode.store(kModeOff, std::memory_order_relaxed);
  Message()
      .str("allocbench recorder (pid ")
      .num(static_cast<uint64_t>(g_pid))
      .str("): ")
      .str(what)
      .str(" ")
      .str(path)
      .str(": errno ")
      .num(static_cast<uint64_t>(err))
      .str("; recording stops")
      .print();
}

// Creates the file: g_path for the first image of the started process, else
// g_path.<pid> (or g_path.<pid>.<n> when taken), and writes the header.
// Under g_file_lock.
bool open_output() {
  tf::Origin origin = g_fork_child ? tf::kOriginFork : tf::kOriginExec;
  int fd = -1;
  Message name;
  if (!g_fork_child && (g_root_pid == 0 || g_root_pid == g_pid)) {
    name.str(g_path);
    fd = open(g_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) origin = tf::kOriginRoot;
  }
  for (unsigned n = 0; fd < 0 && n < 1000; ++n) {
    name = Message();
    name.str(g_path).str(".").num(static_cast<uint64_t>(g_pid));
    if (n > 0) name.str(".").num(n);
    fd = open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    fail("cannot create", g_path, errno);
    return false;
  }
  // Out of the way of programs that dup2 onto low descriptors.
  int high = fcntl(fd, F_DUPFD_CLOEXEC, kHighFd);
  if (high >= 0) {
    close(fd);
    fd = high;
  }
  struct stat st;
  if (fstat(fd, &st) == 0) {
    g_out.dev = st.st_dev;
    g_out.ino = st.st_ino;
  }
  strcpy(g_out.name, name.c_str());
  char* command = reinterpret_cast<char*>(g_out.header + tf::kHeaderFixedBytes);
  long command_bytes =
      platform::read_text_file("/proc/self/cmdline", command, tf::kMaxCommandBytes + 1);
  tf::HeaderFields h;
  h.session = g_session;
  h.pid = static_cast<uint32_t>(g_pid);
  h.parent_pid = static_cast<uint32_t>(getppid());
  h.origin = origin;
  h.page_size = static_cast<uint32_t>(platform::page_size());
  h.first_seq = g_out.first_seq;
  h.start_ns = platform::wall_clock_ns();
  h.command_bytes = command_bytes > 0 ? static_cast<uint32_t>(command_bytes) : 0;
  tf::encode_header(g_out.header, h);
  int err = platform::write_fully(fd, g_out.header, tf::kHeaderFixedBytes + h.command_bytes);
  if (err != 0) {
    close(fd);
    fail("cannot write", g_path, err);
    return false;
  }
  g_out.fd = fd;
  return true;
}

// Writes `n` bytes holding `records` records. Under g_file_lock.
// A program may close every descriptor (daemons) or dup2 onto ours: then the
// file is opened again by name (one fstat a chunk tells).
bool ensure_same_file() {
  struct stat st;
  if (fstat(g_out.fd, &st) == 0 && st.st_dev == g_out.dev && st.st_ino == g_out.ino) return true;
  int fd = open(g_out.name, O_WRONLY | O_APPEND | O_CLOEXEC);
  int high = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, kHighFd) : -1;
  if (high >= 0) {
    close(fd);
    fd = high;
  }
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != g_out.dev || st.st_ino != g_out.ino) {
    fail("lost its file", g_out.name, fd < 0 ? errno : ESTALE);
    if (fd >= 0) close(fd);
    return false;
  }
  g_out.fd = fd;  // The old number is the program's now: not closed.
  return true;
}

void write_out(const uint8_t* p, size_t n, uint32_t records) {
  if (g_out.failed || g_path[0] == '\0') return;  // No file (yet, before start-up: dropped).
  if (g_out.fd < 0 ? !open_output() : !ensure_same_file()) return;
  int err = platform::write_fully(g_out.fd, p, n);
  if (err != 0) {
    fail("cannot write", g_path, err);
    return;
  }
  g_out.records += records;
}

// Writes what `b` holds beyond what was written, as one chunk. Under g_file_lock.
void write_pending(Buffer* b) {
  uint64_t c = b->committed.load(std::memory_order_acquire);
  uint32_t end = static_cast<uint32_t>(c), records = static_cast<uint32_t>(c >> 32);
  if (records == b->flushed_records) return;
  uint8_t* payload = b->data + b->flushed_bytes;
  uint32_t n = end - b->flushed_bytes;
  // The header goes over bytes already written (or the headroom): one write a chunk.
  uint8_t* head = payload - tf::kChunkHeaderBytes;
  tf::encode_chunk_header(head, tf::kChunkRecords, b->thread, payload, n,
                          records - b->flushed_records);
  write_out(head, tf::kChunkHeaderBytes + n, records - b->flushed_records);
  b->flushed_bytes = end;
  b->flushed_records = records;
}

void rewind(Buffer* b) {
  b->bytes = b->flushed_bytes = kRecordStart;
  b->records = b->flushed_records = 0;
  b->committed.store(pack(0, kRecordStart), std::memory_order_relaxed);
}

void write_marker(tf::EndReason reason, int sig) {
  uint8_t chunk[tf::kChunkHeaderBytes + tf::kMarkerPayloadBytes];
  uint8_t* payload = chunk + tf::kChunkHeaderBytes;
  tf::encode_marker(payload, reason, sig, g_seq.last.load(std::memory_order_relaxed),
                    g_out.records);
  tf::encode_chunk_header(chunk, tf::kChunkMarker, t_state.has_id ? t_state.thread : 0, payload,
                          tf::kMarkerPayloadBytes, 0);
  write_out(chunk, sizeof chunk, 0);
}

// Every buffer's records, then the marker. Under g_file_lock. A fork child
// that wrote nothing leaves no file.
void flush_all_locked(tf::EndReason reason, int sig) {
  for (uint32_t i = 0; i < g_out.buffer_count; ++i) {
    if (g_out.buffers[i]->in_use) write_pending(g_out.buffers[i]);
  }
  if (g_out.fd >= 0) write_marker(reason, sig);
}

void flush_all(tf::EndReason reason, int sig) {
  if (!recording() || getpid() != g_pid) return;
  FileLock lock;
  flush_all_locked(reason, sig);
}

void assign_id(ThreadState& t) {
  t.thread = g_next_thread.fetch_add(1, std::memory_order_relaxed);
  t.has_id = 1;
}

// A buffer for a thread's first record (or nullptr: none left, or no memory).
Buffer* attach(ThreadState& t) {
  if (t.exited) return nullptr;
  if (!t.has_id) assign_id(t);
  Buffer* b;
  {
    FileLock lock;
    b = g_out.free_buffers;
    if (b != nullptr) {
      g_out.free_buffers = b->next_free;
    } else if (g_out.buffer_count < kMaxBuffers) {
      void* mem = platform::map_pages(sizeof(Buffer));
      if (mem == nullptr) return nullptr;
      b = new (mem) Buffer;
      g_out.buffers[g_out.buffer_count++] = b;
    } else {
      return nullptr;
    }
    rewind(b);
    b->thread = t.thread;
    b->in_use = true;
  }
  t.buf = b;
  if (g_key_ok) pthread_setspecific(g_key, b);  // So that on_thread_exit runs.
  return b;
}

// A record of a thread without a buffer, as a chunk of its own.
void write_one(ThreadState& t, tf::RecordFields r, uint64_t seq) {
  if (!t.has_id) assign_id(t);
  uint8_t chunk[tf::kChunkHeaderBytes + tf::kMaxRecordBytes];
  r.seq_delta = seq - t.prev_seq;
  t.prev_seq = seq;
  uint8_t* payload = chunk + tf::kChunkHeaderBytes;
  uint32_t n = static_cast<uint32_t>(tf::encode_record(payload, r));
  tf::encode_chunk_header(chunk, tf::kChunkRecords, t.thread, payload, n, 1);
  FileLock lock;
  write_out(chunk, tf::kChunkHeaderBytes + n, 1);
}

__attribute__((noinline)) void flush_own(Buffer* b) {
  FileLock lock;
  write_pending(b);
  rewind(b);
}

// Appends one record to this thread's buffer. Cost: the encoding (a few
// shifts a field) and one release store; a write() every 64 KiB.
void append(tf::RecordFields r, uint64_t seq) {
  ThreadState& t = t_state;
  Buffer* b = t.buf;
  if (__builtin_expect(b == nullptr, 0)) {
    b = attach(t);
    if (b == nullptr) {
      write_one(t, r, seq);
      return;
    }
  }
  r.seq_delta = seq - t.prev_seq;
  t.prev_seq = seq;
  b->bytes += static_cast<uint32_t>(tf::encode_record(b->data + b->bytes, r));
  ++b->records;
  b->committed.store(pack(b->records, b->bytes), std::memory_order_release);
  if (__builtin_expect(b->bytes > kFlushAt || g_sync.load(std::memory_order_relaxed), 0)) {
    flush_own(b);
  }
}

uint64_t next_seq() { return g_seq.last.fetch_add(1, std::memory_order_relaxed) + 1; }

// pthread key destructor: the thread's records go out and its buffer is
// free for another thread; what it records later goes out one by one.
void on_thread_exit(void*) {
  ThreadState& t = t_state;
  t.exited = 1;
  Buffer* b = t.buf;
  if (b == nullptr) return;
  t.buf = nullptr;
  FileLock lock;
  write_pending(b);
  b->in_use = false;
  b->next_free = g_out.free_buffers;
  g_out.free_buffers = b;
}

// fork(): no table half-modified and no chunk half-written in the child.
void fork_prepare() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &t_fork_mask);
  g_signal_lock.lock();
  g_file_lock.lock();
  g_objects.lock_all();
}

void fork_parent() {
  g_objects.unlock_all();
  g_file_lock.unlock();
  g_signal_lock.unlock();
  pthread_sigmask(SIG_SETMASK, &t_fork_mask, nullptr);
}

// The child records into its own file, opened at its first write: its
// thread (id 0) keeps the seq counter, so that the ids of the objects it
// inherited (all below first_seq) stay those of the parent's file. The
// parent's buffered records are the parent's to write: dropped here.
void fork_child() {
  g_objects.unlock_all();
  g_pid = getpid();
  g_fork_child = true;
  if (g_out.fd >= 0) close(g_out.fd);
  g_out.fd = -1;
  g_out.records = 0;
  g_out.first_seq = g_seq.last.load(std::memory_order_relaxed);
  ThreadState& t = t_state;
  g_out.free_buffers = nullptr;
  for (uint32_t i = 0; i < g_out.buffer_count; ++i) {
    Buffer* b = g_out.buffers[i];
    rewind(b);
    if (b == t.buf) {
      b->thread = 0;
      continue;
    }
    b->in_use = false;
    b->next_free = g_out.free_buffers;
    g_out.free_buffers = b;
  }
  t.thread = 0;
  t.has_id = 1;
  t.prev_seq = 0;
  g_next_thread.store(1, std::memory_order_relaxed);
  g_sync.store(false, std::memory_order_relaxed);
  g_file_lock.unlock();
  g_signal_lock.unlock();
  pthread_sigmask(SIG_SETMASK, &t_fork_mask, nullptr);
}

void on_fatal_signal(int sig, siginfo_t*, void*) {
  int saved = errno;
  if (recording() && getpid() == g_pid && lock_for_handler()) {
    flush_all_locked(tf::kEndSignal, sig);
    g_file_lock.unlock();
  }
  // SA_RESETHAND restored the default action; raised again (and blocked
  // until this handler returns), the signal ends the process as it would
  // have without the recorder, core dump included.
  raise(sig);
  errno = saved;
}

int install_handler(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fatal_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
  sigfillset(&sa.sa_mask);
  return g_next.sigaction(sig, &sa, nullptr);
}

// Only signals whose action is the default: an ignored or handled one (an
// exec keeps SIG_IGN) stays as the program has it.
void install_signal_handlers() {
  for (int sig : kFatalSignals) {
    struct sigaction old;
    if (g_next.sigaction(sig, nullptr, &old) != 0) continue;
    if ((old.sa_flags & SA_SIGINFO) != 0 || old.sa_handler != SIG_DFL) continue;
    if (install_handler(sig) != 0) continue;
    g_signals[sig].managed = true;
    g_signals[sig].program = old;
  }
}

uint64_t parse_number(const char* s, unsigned base) {
  uint64_t v = 0;
  for (; s != nullptr && *s != '\0'; ++s) {
    unsigned d;
    if (*s >= '0' && *s <= '9') {
      d = static_cast<unsigned>(*s - '0');
    } else if (base == 16 && *s >= 'a' && *s <= 'f') {
      d = static_cast<unsigned>(*s - 'a' + 10);
    } else {
      return 0;
    }
    v = v * base + d;
  }
  return v;
}

template <typename F>
void load(F& slot, const char* name) {
  slot = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

__attribute__((constructor)) void recorder_init() {
  ensure_next();
  g_pid = getpid();
  const char* out = getenv("ALLOCBENCH_RECORD_OUT");
  if (out == nullptr || out[0] == '\0' || strlen(out) >= kPathMax) {
    g_mode.store(kModeOff, std::memory_order_relaxed);
    return;
  }
  strcpy(g_path, out);
  g_session = parse_number(getenv("ALLOCBENCH_RECORD_SESSION"), 16);
  g_root_pid = static_cast<long>(parse_number(getenv("ALLOCBENCH_RECORD_ROOT_PID"), 10));
  if (pthread_key_create(&g_key, on_thread_exit) == 0) {
    g_key_ok = true;
    if (t_state.buf != nullptr) pthread_setspecific(g_key, t_state.buf);
  }
  pthread_atfork(fork_prepare, fork_parent, fork_child);
  install_signal_handlers();
  {
    FileLock lock;
    if (!open_output()) return;
  }
  g_mode.store(kModeOn, std::memory_order_relaxed);
}

// Runs in _dl_fini, after the program's atexit handlers and static
// destructors. Records made later (other libraries' destructors) are
// written one by one.
__attribute__((destructor)) void recorder_fini() {
  flush_all(tf::kEndExit, 0);
  g_sync.store(true, std::memory_order_relaxed);
}

}  // namespace

bool resolve_next_slow() {
  ThreadState& t = t_state;
  if (t.resolving) return false;
  int expected = 0;
  if (!g_next_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    while (g_next_state.load(std::memory_order_acquire) != 2) sched_yield();
    return true;
  }
  t.resolving = 1;
  Next n;
  load(n.malloc, "malloc");
  load(n.free, "free");
  load(n.calloc, "calloc");
  load(n.realloc, "realloc");
  load(n.posix_memalign, "posix_memalign");
  load(n.aligned_alloc, "aligned_alloc");
  load(n.memalign, "memalign");
  load(n.valloc, "valloc");
  load(n.pvalloc, "pvalloc");
  load(n.execve, "execve");
  load(n.execv, "execv");
  load(n.execvp, "execvp");
  load(n.execvpe, "execvpe");
  load(n.fexecve, "fexecve");
  load(n.execveat, "execveat");
  load(n.underscore_exit, "_exit");
  load(n.underscore_Exit, "_Exit");
  load(n.sigaction, "sigaction");
  load(n.signal, "signal");
  t.resolving = 0;
  if (n.malloc == nullptr || n.free == nullptr || n.calloc == nullptr || n.realloc == nullptr ||
      n.posix_memalign == nullptr || n.memalign == nullptr || n.sigaction == nullptr) {
    static const char kMsg[] = "allocbench recorder: the real allocator was not found\n";
    platform::write_fully(2, kMsg, sizeof kMsg - 1);
    abort();
  }
  g_next = n;
  g_next_state.store(2, std::memory_order_release);
  return true;
}

void* bootstrap_alloc(size_t size, size_t alignment) {
  if (alignment < 16) alignment = 16;
  size_t used = g_boot_used.load(std::memory_order_relaxed), start;
  do {
    start = (used + alignment - 1) & ~(alignment - 1);
    if (start > sizeof g_boot || size > sizeof g_boot - start) return nullptr;
  } while (!g_boot_used.compare_exchange_weak(used, start + size, std::memory_order_relaxed));
  return g_boot + start;
}

bool is_bootstrap(const void* p) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  return b >= g_boot && b < g_boot + sizeof g_boot;
}

size_t bootstrap_tail(const void* p) {
  return static_cast<size_t>(g_boot + sizeof g_boot - static_cast<const uint8_t*>(p));
}

void record_alloc(Kind k, void* p, size_t size, size_t alignment) {
  uint64_t seq = next_seq();
  g_objects.insert(reinterpret_cast<uintptr_t>(p), seq);
  append(tf::RecordFields{k, false, 0, 0, size, align_log2(alignment)}, seq);
}

void record_free(Kind k, void* p, size_t size, size_t alignment) {
  uint64_t seq = next_seq();
  uint64_t id = g_objects.erase(reinterpret_cast<uintptr_t>(p));
  append(tf::RecordFields{k, id == 0, 0, id == 0 ? 0 : seq - id, size, align_log2(alignment)}, seq);
}

// The old address leaves the map before the allocator may free it (another
// thread can get it at once); a failed realloc puts it back. realloc(p, 0)
// takes its seq first, as a free does; a successful one after, as an
// allocation does. An unknown block's realloc starts a new object.
void* record_realloc(void* p, size_t n) {
  uint64_t id = g_objects.erase(reinterpret_cast<uintptr_t>(p));
  uint64_t seq = n == 0 ? next_seq() : 0;
  void* q = g_next.realloc(p, n);
  if (q == nullptr && n != 0) {
    if (id != 0) g_objects.insert(reinterpret_cast<uintptr_t>(p), id);
    return nullptr;
  }
  uint64_t delta = 0;
  if (q == nullptr) {  // glibc: realloc(p, 0) freed p.
    if (id != 0) delta = seq - id;
    append(tf::RecordFields{Kind::kReallocZero, id == 0, 0, delta, 0, 0}, seq);
    return nullptr;
  }
  if (seq == 0) seq = next_seq();
  if (id != 0) delta = seq - id;
  g_objects.insert(reinterpret_cast<uintptr_t>(q), id != 0 ? id : seq);
  append(tf::RecordFields{Kind::kRealloc, id == 0, 0, delta, n, 0}, seq);
  return q;
}

void before_exec() { flush_all(tf::kEndExec, 0); }

void before_underscore_exit() { flush_all(tf::kEndUnderscoreExit, 0); }

int program_sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (sig <= 0 || sig >= NSIG || !g_signals[sig].managed) return g_next.sigaction(sig, act, old);
  sigset_t all, mask;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &mask);
  g_signal_lock.lock();
  SignalView& v = g_signals[sig];
  struct sigaction real;
  // A one-shot handler of the program's that fired left the default action.
  if ((v.program.sa_flags & SA_RESETHAND) != 0 && g_next.sigaction(sig, nullptr, &real) == 0 &&
      (real.sa_flags & SA_SIGINFO) == 0 && real.sa_handler == SIG_DFL) {
    memset(&v.program, 0, sizeof v.program);
    v.program.sa_handler = SIG_DFL;
  }
  struct sigaction prev = v.program;
  int rc = 0;
  if (act != nullptr) {
    bool to_default = (act->sa_flags & SA_SIGINFO) == 0 && act->sa_handler == SIG_DFL;
    rc = to_default ? install_handler(sig) : g_next.sigaction(sig, act, nullptr);
    if (rc == 0) v.program = *act;
  }
  g_signal_lock.unlock();
  pthread_sigmask(SIG_SETMASK, &mask, nullptr);
  if (rc == 0 && old != nullptr) *old = prev;
  return rc;
}

}  // namespace recorder
}  // namespace detail
}  // namespace allocbench
