// OS page primitives: the only place in the project that calls mmap, munmap,
// madvise or sysconf. Every function is async-signal-safe in the sense that it
// never calls malloc, so the interposing allocator may use it during its own
// initialisation.
//
// Contract (modelled on mimalloc's prim.h): each primitive states its
// preconditions; failures return nullptr or an errno value, never throw.
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_PLATFORM_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_PLATFORM_H_

#include <cstddef>
#include <cstdint>

namespace allocbench {
namespace platform {

// The OS page size in bytes (a power of two). Cached after the first call.
size_t page_size();

// Number of online CPUs (at least 1).
int cpu_count();

// Maps `bytes` of zeroed, readable and writable anonymous memory, committed on
// first touch. `bytes` is rounded up to the page size. Returns nullptr on
// failure with errno set.
void* map_pages(size_t bytes);

// Reserves `bytes` of address space that faults on any access (PROT_NONE),
// for guard regions. Returns nullptr on failure. Release with unmap_pages.
void* reserve_inaccessible(size_t bytes);

// As map_pages, but the returned address is a multiple of `alignment`
// (a power of two, at least the page size). The excess is unmapped.
void* map_aligned(size_t bytes, size_t alignment);

// Unmaps a range returned by map_pages/map_aligned (or a page-aligned part of
// it). `p` must be page-aligned. Returns 0 or an errno value.
int unmap_pages(void* p, size_t bytes);

// Writes all `n` bytes of `buf` to `fd`, retrying after partial writes and
// EINTR. Returns 0, or the errno of the failed write (EIO when write made no
// progress). Async-signal-safe; does not allocate.
int write_fully(int fd, const void* buf, size_t n);

// True when both paths name one existing file (same device and inode, so
// through any symlink).
bool same_file(const char* a, const char* b);

// Makes a page-aligned range of a mapping inaccessible (PROT_NONE: any access
// faults) or readable and writable again. Returns 0 or an errno value.
int protect_pages(void* p, size_t bytes, bool accessible);

// Gives the physical pages of a mapped range back to the OS; the range stays
// mapped and reads as zero afterwards (MADV_DONTNEED). `p` page-aligned.
// Returns 0 or an errno value.
int decommit_pages(void* p, size_t bytes);

// Resizes a mapping made by map_pages, possibly moving it (mremap). Returns
// the new address or nullptr (the old mapping is then untouched).
void* remap_pages(void* p, size_t old_bytes, size_t new_bytes);

// Moves the pages of a mapping made by map_pages/map_aligned (p, old_bytes)
// to `dest`, resized to new_bytes, without copying data (mremap with
// MREMAP_FIXED). `dest` must be a page-aligned range of new_bytes that the
// caller mapped (e.g. with map_aligned, to get an aligned destination); it is
// replaced. Returns 0, or an errno value with both mappings untouched.
int remap_pages_to(void* p, size_t old_bytes, size_t new_bytes, void* dest);

// Resident set size of this process in bytes (from /proc/self/statm), or 0 if
// unavailable. Does not allocate.
size_t resident_bytes();

// Peak resident set size (VmHWM) in bytes, or 0 if unavailable.
size_t peak_resident_bytes();

// Resets the peak-RSS mark to the current RSS (writes "5" to
// /proc/self/clear_refs). Returns 0 or an errno value.
int reset_peak_resident();

// Monotonic clock in nanoseconds.
uint64_t now_ns();

// Wall-clock time (CLOCK_REALTIME) in nanoseconds since the Unix epoch.
// Async-signal-safe.
uint64_t wall_clock_ns();

// A cycle counter for timing single operations. On x86-64 it is the TSC read
// with rdtscp and then lfence (rdtscp waits for earlier instructions; the
// lfence keeps later ones from starting before the read). It ticks at a
// constant rate on CPUs with constant_tsc (check cycle_counter_is_tsc());
// elsewhere it falls back to now_ns(). Cost: about 30-40 cycles on Zen 3.
inline uint64_t read_cycles() {
#if defined(__x86_64__)
  unsigned aux;
  uint64_t t = __builtin_ia32_rdtscp(&aux);
  __builtin_ia32_lfence();
  return t;
#else
  return now_ns();
#endif
}

// True when read_cycles() is the TSC (x86-64), false when it is now_ns().
constexpr bool cycle_counter_is_tsc() {
#if defined(__x86_64__)
  return true;
#else
  return false;
#endif
}

// Makes the calling process receive SIGKILL when its parent dies
// (prctl PR_SET_PDEATHSIG; survives exec), then checks that the parent is
// still `parent` (it may have died before the call). Returns 0, ESRCH if
// the parent is already gone, or another errno value.
int die_with_parent(int parent);

// Restricts the calling process (all its threads created later) to the CPUs
// in cpus[0..n). Returns 0 or an errno value.
int set_cpu_affinity(const int* cpus, size_t n);

// Whether this process runs with address-space layout randomisation off.
bool aslr_disabled();

// Turns ASLR off for the programs this process execs next (personality
// ADDR_NO_RANDOMIZE; the current process keeps its layout). Returns 0 or an
// errno value.
int disable_aslr_for_exec();

// Reads a small text file (e.g. a sysfs setting) into `buf` (NUL-terminated,
// trailing newline removed). Returns the length, or -1 if unreadable. Does
// not allocate.
long read_text_file(const char* path, char* buf, size_t size);

}  // namespace platform
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_PLATFORM_H_
