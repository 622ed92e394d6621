// What liballoc needs from the OS beyond the platform layer's mapping calls:
// error reports with write(2) only, and the bitmap of live segments that the
// debug checks consult.
// Compiled only through static.cpp.
#include <unistd.h>
#include "allocators/inhouse/internal.h"

namespace allocbench {
namespace detail {
namespace inhouse {

// Error reporting (debug mode): write(2) only, never stdio or malloc.

size_t format_hex(char* out, uintptr_t v) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  out[0] = '0';
  out[1] = 'x';
  for (size_t i = 0; i < n; ++i) out[2 + i] = tmp[n - 1 - i];
  return n + 2;
}

size_t format_dec(char* out, uint64_t v) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

// Prints one line naming the misuse and the address, then aborts, unless
// ALLOC_DEBUG_ABORT=0 made it a report only: the caller then returns
// without touching the memory (a block it cannot trust is leaked).
ALLOC_NOINLINE void report_misuse(const char* what, const void* p) {
  char buf[256];
  size_t n = 0;
  const char* prefix = "alloc: ";
  for (const char* s = prefix; *s; ++s) buf[n++] = *s;
  for (const char* s = what; *s && n < 200; ++s) buf[n++] = *s;
  const char* at = " at pointer ";
  for (const char* s = at; *s; ++s) buf[n++] = *s;
  n += format_hex(buf + n, reinterpret_cast<uintptr_t>(p));
  buf[n++] = '\n';
  platform::write_fully(2, buf, n);
  g_misuse_reports.fetch_add(1, std::memory_order_relaxed);
  if (g_misuse_abort) abort();
}

// Segment registry: a bitmap of live segment addresses. free, realloc and
// malloc_usable_size consult it so that a pointer liballoc never handed out
// is reported, never written through; the debug checks consult it too.

void segment_register(void* seg, bool live) {
  uintptr_t a = reinterpret_cast<uintptr_t>(seg);
  if (a >= kAddressLimit) return;
  size_t idx = a >> kSegmentShift;
  uint64_t bit = uint64_t{1} << (idx & 63);
  if (live) {
    g_segment_map[idx >> 6].fetch_or(bit, std::memory_order_relaxed);
  } else {
    g_segment_map[idx >> 6].fetch_and(~bit, std::memory_order_relaxed);
  }
}


}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench
