// Linux implementation of platform.h. The only file with OS memory calls.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "allocators/common/platform.h"

namespace allocbench {
namespace platform {
namespace {

size_t round_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

// Reads a small /proc file into `buf` without allocating. Returns bytes read.
ssize_t read_small_file(const char* path, char* buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t total = 0;
  while (static_cast<size_t>(total) + 1 < cap) {
    ssize_t n = read(fd, buf + total, cap - 1 - total);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    total += n;
  }
  close(fd);
  buf[total < 0 ? 0 : total] = '\0';
  return total;
}

// Parses "Key:   123 kB" from /proc/self/status.
size_t status_field_bytes(const char* key) {
  char buf[4096];
  if (read_small_file("/proc/self/status", buf, sizeof buf) <= 0) return 0;
  const char* p = strstr(buf, key);
  if (p == nullptr) return 0;
  p += strlen(key);
  while (*p == ' ' || *p == '\t' || *p == ':') ++p;
  size_t kb = 0;
  while (*p >= '0' && *p <= '9') kb = kb * 10 + static_cast<size_t>(*p++ - '0');
  return kb * 1024;
}

uint64_t clock_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

size_t page_size() {
  static std::atomic<size_t> cached{0};
  size_t v = cached.load(std::memory_order_relaxed);
  if (v == 0) {
    long s = sysconf(_SC_PAGESIZE);
    v = s > 0 ? static_cast<size_t>(s) : 4096;
    cached.store(v, std::memory_order_relaxed);
  }
  return v;
}

int cpu_count() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

void* reserve_inaccessible(size_t bytes) {
  size_t len = round_up(bytes == 0 ? 1 : bytes, page_size());
  if (len < bytes) return nullptr;
  void* p = mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void* map_pages(size_t bytes) {
  if (bytes == 0) bytes = 1;
  size_t len = round_up(bytes, page_size());
  if (len < bytes) {
    errno = ENOMEM;
    return nullptr;
  }
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void* map_aligned(size_t bytes, size_t alignment) {
  size_t ps = page_size();
  if (alignment < ps) alignment = ps;
  size_t len = round_up(bytes == 0 ? 1 : bytes, ps);
  size_t over = len + alignment - ps;
  if (len < bytes || over < len) {
    errno = ENOMEM;
    return nullptr;
  }
  char* raw = static_cast<char*>(map_pages(over));
  if (raw == nullptr) return nullptr;
  uintptr_t addr = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = round_up(addr, alignment);
  size_t head = aligned - addr;
  size_t tail = over - head - len;
  if (head != 0) munmap(raw, head);
  if (tail != 0) munmap(reinterpret_cast<char*>(aligned) + len, tail);
  return reinterpret_cast<void*>(aligned);
}

int unmap_pages(void* p, size_t bytes) {
  if (p == nullptr) return 0;
  return munmap(p, round_up(bytes, page_size())) == 0 ? 0 : errno;
}

int write_fully(int fd, const void* buf, size_t n) {
  const char* s = static_cast<const char*>(buf);
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno;
    if (w == 0) return EIO;
    s += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

bool same_file(const char* a, const char* b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int protect_pages(void* p, size_t bytes, bool accessible) {
  if (p == nullptr || bytes == 0) return 0;
  int prot = accessible ? PROT_READ | PROT_WRITE : PROT_NONE;
  return mprotect(p, round_up(bytes, page_size()), prot) == 0 ? 0 : errno;
}

int decommit_pages(void* p, size_t bytes) {
  if (p == nullptr || bytes == 0) return 0;
  return madvise(p, round_up(bytes, page_size()), MADV_DONTNEED) == 0 ? 0 : errno;
}

void* remap_pages(void* p, size_t old_bytes, size_t new_bytes) {
  size_t ps = page_size();
  void* q = mremap(p, round_up(old_bytes, ps), round_up(new_bytes, ps), MREMAP_MAYMOVE);
  return q == MAP_FAILED ? nullptr : q;
}

int remap_pages_to(void* p, size_t old_bytes, size_t new_bytes, void* dest) {
  size_t ps = page_size();
  void* q = mremap(p, round_up(old_bytes, ps), round_up(new_bytes, ps),
                   MREMAP_MAYMOVE | MREMAP_FIXED, dest);
  return q == MAP_FAILED ? errno : 0;
}

size_t resident_bytes() {
  char buf[256];
  if (read_small_file("/proc/self/statm", buf, sizeof buf) <= 0) return 0;
  const char* p = buf;
  while (*p >= '0' && *p <= '9') ++p;  // skip total size
  while (*p == ' ') ++p;
  size_t pages = 0;
  while (*p >= '0' && *p <= '9') pages = pages * 10 + static_cast<size_t>(*p++ - '0');
  return pages * page_size();
}

size_t peak_resident_bytes() { return status_field_bytes("VmHWM"); }

int reset_peak_resident() {
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = write(fd, "5", 1);
  int err = n == 1 ? 0 : errno;
  close(fd);
  return err;
}

uint64_t now_ns() { return clock_ns(CLOCK_MONOTONIC); }

uint64_t wall_clock_ns() { return clock_ns(CLOCK_REALTIME); }

int die_with_parent(int parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return errno;
  return getppid() == parent ? 0 : ESRCH;
}

int set_cpu_affinity(const int* cpus, size_t n) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (size_t i = 0; i < n; ++i) {
    if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return EINVAL;
    CPU_SET(cpus[i], &set);
  }
  return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}

bool aslr_disabled() {
  int p = personality(0xffffffff);
  return p != -1 && (p & ADDR_NO_RANDOMIZE) != 0;
}

int disable_aslr_for_exec() {
  int p = personality(0xffffffff);
  if (p == -1) return errno;
  return personality(static_cast<unsigned long>(p) | ADDR_NO_RANDOMIZE) == -1 ? errno : 0;
}

long read_text_file(const char* path, char* buf, size_t size) {
  if (size == 0) return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0) return -1;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) --n;
  buf[n] = '\0';
  return n;
}

}  // namespace platform
}  // namespace allocbench
