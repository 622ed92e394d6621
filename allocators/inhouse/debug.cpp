// Debug mode (ALLOC_DEBUG=1 or the debug build): a header before each block,
// a canary after it, poison while free, a quarantine, guard pages around
// large blocks; misuse is reported with one line and aborts (or, with
// ALLOC_DEBUG_ABORT=0, is only reported). Compiled only through static.cpp.
//
// Layouts in debug mode:
// * class blocks (header + request + canary fit in 64 KiB): [0,8) a tag
//   word while live (kLiveTag << 32 | offset of the user pointer), the
//   free-list link while free; [8,16) the offset of the last freed header;
//   the header at user-16; user bytes; 8 canary bytes. Free blocks are
//   poisoned from byte 16 on, but for the freed header.
// * larger blocks: a mapping of their own, the block pushed against a
//   PROT_NONE guard page at its end (an overflow past the canary's 16-byte
//   rounding faults). Freed, the block's pages are made PROT_NONE and given
//   back, and the mapping is kept reserved for a while (kFreedMappings), so
//   a use after free faults and a double free is recognised.
// * blocks aligned to 4 MiB and more: own mapping, the header in the gap
//   right before the block, a guard page after it.
#include "allocators/inhouse/internal.h"

namespace allocbench {
namespace detail {
namespace inhouse {

constexpr uint32_t kLiveTag = 0xa110b10c;  // high half of word 0 of a live class block
constexpr uint32_t kMappingFreed = 0xf4ee;  // Segment::pad0 of a freed debug mapping
constexpr size_t kFreedMappings = 64;       // freed debug mappings kept reserved

bool is_class_block(Segment* seg, Page* pg) { return seg->kind == kSegmentSmall && !(pg->flags & kPageLarge); }

// --- exclusion of alloc_check_heap -----------------------------------------
// Every debug-mode operation that changes blocks or heaps runs between
// debug_enter and debug_leave (a shared hold); alloc_check_heap waits for
// them to drain and holds new ones off, so it walks quiescent heaps.

std::atomic<uint32_t> g_debug_active{0};    // any thread: operations inside
std::atomic<bool> g_debug_checking{false};  // any thread: a heap check runs

void debug_enter() {
  for (;;) {
    g_debug_active.fetch_add(1, std::memory_order_seq_cst);
    if (!g_debug_checking.load(std::memory_order_seq_cst)) return;
    g_debug_active.fetch_sub(1, std::memory_order_seq_cst);
    while (g_debug_checking.load(std::memory_order_relaxed)) sched_yield();
  }
}

void debug_leave() { g_debug_active.fetch_sub(1, std::memory_order_release); }

struct DebugScope {
  DebugScope() { debug_enter(); }
  ~DebugScope() { debug_leave(); }
};

// --- poison ----------------------------------------------------------------

// A page of poison bytes to compare against (memcmp is the C library's
// vectorised loop); filled by debug_init, so release runs never touch it.
constexpr size_t kPoisonRef = 4096;
alignas(64) char g_poison_ref[kPoisonRef];  // set once in init (debug mode)

void debug_init() { memset(g_poison_ref, g_poison_byte, kPoisonRef); }

// Index of the first byte of raw[from, to) that is not the poison byte, or `to`.
size_t first_unpoisoned(const char* raw, size_t from, size_t to) {
  for (size_t i = from; i < to; i += kPoisonRef) {
    size_t n = to - i < kPoisonRef ? to - i : kPoisonRef;
    if (memcmp(raw + i, g_poison_ref, n) == 0) continue;
    for (size_t k = i;; ++k) {
      if (static_cast<uint8_t>(raw[k]) != g_poison_byte) return k;
    }
  }
  return to;
}

// Whether free class block `raw` of `bs` bytes still holds its poison (all
// but its link word, its last-header-offset word and the freed header).
// Reports a write after free otherwise.
bool check_poison(char* raw, size_t bs) {
  uint64_t woff;
  memcpy(&woff, raw + 8, 8);
  const bool window = woff >= 32 && woff < bs && (woff & 15) == 0;
  const size_t hole = window ? woff - 16 : bs;
  if (first_unpoisoned(raw, 16, hole) == hole && (!window || first_unpoisoned(raw, woff, bs) == bs)) return true;
  report_misuse("write after free detected (freed block modified)", raw + (window ? woff : 32));
  return false;
}

void poison_block(char* raw, size_t bs, size_t user_offset) {
  memset(raw, 0, 8);  // the live tag goes; the link takes its place
  memset(raw + 16, g_poison_byte, bs - 16);
  uint64_t woff = user_offset;
  memcpy(raw + 8, &woff, 8);
}

// --- freed debug mappings ----------------------------------------------------

Segment* g_freed_maps[kFreedMappings];  // g_quarantine_lock: ring of freed debug mappings
uint32_t g_freed_head = 0;              // g_quarantine_lock: oldest entry
uint32_t g_freed_count = 0;             // g_quarantine_lock

// Bytes at the start of a debug mapping that stay accessible once it is freed.
size_t header_room() {
  size_t ps = platform::page_size();
  return kHugeHeader > ps ? kHugeHeader : ps;
}

bool is_freed_mapping(const Segment* seg) { return seg->kind == kSegmentHuge && seg->pad0 == kMappingFreed; }

// First byte of mapping `seg` that a freed block makes inaccessible: what
// follows the header page(s), which double-free detection still reads.
char* mapping_body(Segment* seg) {
  char* base = reinterpret_cast<char*>(seg);
  if (seg->huge_offset == kSegmentSize) return base + kSegmentSize;  // header in the gap's last page
  return base + header_room();
}

// Frees debug mapping `seg`: its body becomes PROT_NONE and is given back,
// and it stays reserved (and registered) until kFreedMappings later frees.
void free_mapping(Segment* seg) {
  size_t total = seg->map_size;
  count_free(tl_heap, total - seg->huge_offset);
  g_active.fetch_sub(total, std::memory_order_relaxed);
  g_huge_live.fetch_sub(1, std::memory_order_relaxed);
  char* body = mapping_body(seg);
  size_t body_bytes = reinterpret_cast<char*>(seg) + total - body;
  platform::decommit_pages(body, body_bytes);
  platform::protect_pages(body, body_bytes, false);
  seg->pad0 = kMappingFreed;
  Segment* evicted = nullptr;
  g_quarantine_lock.lock();
  if (g_freed_count == kFreedMappings) {
    evicted = g_freed_maps[g_freed_head];
    g_freed_head = (g_freed_head + 1) % kFreedMappings;
    --g_freed_count;
  }
  g_freed_maps[(g_freed_head + g_freed_count) % kFreedMappings] = seg;
  ++g_freed_count;
  g_quarantine_lock.unlock();
  if (evicted != nullptr) segment_unmap(evicted, evicted->map_size);
}

// A block of `n` bytes aligned to `alignment` (<= kMaxSpanAlignment) in a
// mapping of its own, its user bytes, canary and 16-byte padding ending at
// a guard page. Returns the block start (the user pointer minus 32).
char* alloc_mapping(size_t n, size_t alignment) {
  size_t ps = platform::page_size();
  Heap* h = nullptr;
  if (n > static_cast<size_t>(PTRDIFF_MAX) - kHugeHeader - 2 * alignment - 2 * ps - 64 ||
      (h = current_heap_for_alloc()) == &g_empty_heap) {
    errno = ENOMEM;
    return nullptr;
  }
  size_t tail = (n + kCanarySize + 15) & ~size_t{15};
  size_t body = (header_room() + 32 + alignment + tail + ps - 1) & ~(ps - 1);
  size_t total = body + ps;
  char* base = static_cast<char*>(platform::map_aligned(total, kSegmentSize));
  if (base == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  platform::protect_pages(base + body, ps, false);
  Segment* seg = reinterpret_cast<Segment*>(base);
  seg->map_size = total;
  seg->pad0 = 0;
  segment_register(seg, true);
  g_mapped.fetch_add(total, std::memory_order_relaxed);
  uintptr_t user = (reinterpret_cast<uintptr_t>(base) + body - tail) & ~(uintptr_t{alignment} - 1);
  return huge_setup(h, seg, user - 32 - reinterpret_cast<uintptr_t>(base));
}

// --- the quarantine ------------------------------------------------------------
// ALLOC_DEBUG_QUARANTINE=bytes, default 256 KiB; 0 turns it off. Freed class
// blocks wait in one global FIFO before their memory can be reused, so a use
// after free does not hit a block that was handed out again at once. A block
// leaving the quarantine has its poison checked, so a write during its stay
// is caught then; a write after that is caught when the block is handed out
// again (or by alloc_check_heap). One lock, taken only in debug mode.
constexpr uint32_t kQuarantineSlots = 1u << 16;
struct QuarantineEntry {
  char* raw;     // block start
  size_t bytes;  // usable bytes it holds
};
QuarantineEntry* g_quarantine = nullptr;  // g_quarantine_lock: ring, mapped on first use
uint32_t g_quarantine_head = 0;           // g_quarantine_lock: oldest entry
uint32_t g_quarantine_count = 0;          // g_quarantine_lock
size_t g_quarantine_held = 0;             // g_quarantine_lock: bytes in the ring

void quarantine_release(char* raw) {
  check_poison(raw, page_of(segment_of(raw), raw)->block_size);
  core_free(raw);
}

void quarantine_put(char* raw, size_t bytes) {
  if (g_quarantine_max == 0 || bytes > g_quarantine_max) {
    core_free(raw);
    return;
  }
  char* evicted[64];
  int n = 0;
  g_quarantine_lock.lock();
  if (g_quarantine == nullptr) {
    g_quarantine = static_cast<QuarantineEntry*>(platform::map_pages(kQuarantineSlots * sizeof(QuarantineEntry)));
    if (g_quarantine == nullptr) {
      g_quarantine_lock.unlock();
      core_free(raw);
      return;
    }
  }
  while (g_quarantine_count > 0 && n < 64 &&
         (g_quarantine_count == kQuarantineSlots || g_quarantine_held + bytes > g_quarantine_max)) {
    QuarantineEntry& e = g_quarantine[g_quarantine_head];
    evicted[n++] = e.raw;
    g_quarantine_held -= e.bytes;
    g_quarantine_head = (g_quarantine_head + 1) % kQuarantineSlots;
    --g_quarantine_count;
  }
  if (g_quarantine_count < kQuarantineSlots) {
    g_quarantine[(g_quarantine_head + g_quarantine_count) % kQuarantineSlots] = QuarantineEntry{raw, bytes};
    ++g_quarantine_count;
    g_quarantine_held += bytes;
    raw = nullptr;
  }
  g_quarantine_lock.unlock();
  for (int i = 0; i < n; ++i) quarantine_release(evicted[i]);
  if (raw != nullptr) core_free(raw);
}

// Empties the quarantine (checking each block's poison) and unmaps the
// freed debug mappings (alloc_trim).
void debug_flush() {
  DebugScope scope;
  for (;;) {
    g_quarantine_lock.lock();
    if (g_quarantine_count == 0) {
      g_quarantine_lock.unlock();
      break;
    }
    QuarantineEntry e = g_quarantine[g_quarantine_head];
    g_quarantine_held -= e.bytes;
    g_quarantine_head = (g_quarantine_head + 1) % kQuarantineSlots;
    --g_quarantine_count;
    g_quarantine_lock.unlock();
    quarantine_release(e.raw);
  }
  for (;;) {
    g_quarantine_lock.lock();
    Segment* seg = nullptr;
    if (g_freed_count > 0) {
      seg = g_freed_maps[g_freed_head];
      g_freed_head = (g_freed_head + 1) % kFreedMappings;
      --g_freed_count;
    }
    g_quarantine_lock.unlock();
    if (seg == nullptr) return;
    segment_unmap(seg, seg->map_size);
  }
}

// --- 0-byte blocks --------------------------------------------------------------
// Unique addresses 16 bytes apart in a region that faults on any access, so
// a read or write through a 0-byte block traps. A bitmap beside the region
// marks the freed ones, so a double free is caught; slots are never reused.
constexpr size_t kZeroRegionBytes = size_t{64} << 20;
constexpr size_t kZeroSlots = kZeroRegionBytes / 16;
std::atomic<char*> g_zero_region{nullptr};     // any thread (CAS): reserved on first use
std::atomic<uint64_t>* g_zero_freed = nullptr;  // set with g_zero_region: bit per slot, set once freed
std::atomic<size_t> g_zero_next{0};             // any thread: next 16-byte slot

bool is_zero_block(const void* p) {
  const char* r = g_zero_region.load(std::memory_order_acquire);
  const char* c = static_cast<const char*>(p);
  return r != nullptr && c >= r && c < r + kZeroRegionBytes;
}

void* zero_block() {
  char* r = g_zero_region.load(std::memory_order_acquire);
  if (r == nullptr) {
    // The bitmap sits in the region's first pages, made accessible.
    char* fresh = static_cast<char*>(platform::reserve_inaccessible(kZeroRegionBytes));
    if (fresh == nullptr) return nullptr;
    if (platform::protect_pages(fresh, kZeroSlots / 8, true) != 0) {
      platform::unmap_pages(fresh, kZeroRegionBytes);
      return nullptr;
    }
    if (g_zero_region.compare_exchange_strong(r, fresh, std::memory_order_acq_rel)) {
      r = fresh;
    } else {
      platform::unmap_pages(fresh, kZeroRegionBytes);  // another thread won; r holds its region
    }
  }
  // Slots start after the bitmap.
  size_t slot = g_zero_next.fetch_add(16, std::memory_order_relaxed) + kZeroSlots / 8;
  return slot < kZeroRegionBytes ? r + slot : nullptr;  // exhausted: the caller uses a real block
}

std::atomic<uint64_t>* zero_freed_bits() {
  return reinterpret_cast<std::atomic<uint64_t>*>(g_zero_region.load(std::memory_order_acquire));
}

// Validates 0-byte block `p`; if `release`, marks it freed. Reports misuse.
bool zero_block_check(const void* p, const char* op_invalid, bool release) {
  size_t off = static_cast<size_t>(static_cast<const char*>(p) - g_zero_region.load(std::memory_order_acquire));
  if (off < kZeroSlots / 8 || (off & 15) != 0 || off - kZeroSlots / 8 >= g_zero_next.load(std::memory_order_relaxed)) {
    report_misuse(op_invalid, p);
    return false;
  }
  size_t slot = off / 16;
  uint64_t bit = uint64_t{1} << (slot & 63);
  std::atomic<uint64_t>& word = zero_freed_bits()[slot >> 6];
  uint64_t old = release ? word.fetch_or(bit, std::memory_order_relaxed) : word.load(std::memory_order_relaxed);
  if (old & bit) {
    report_misuse(release ? "double free detected (0-byte block)" : "use after free detected (freed 0-byte block)", p);
    return false;
  }
  return true;
}

// --- allocation ------------------------------------------------------------------

void write_live(char* raw, char* user, size_t n, uint32_t offset) {
  if (offset != 0) {
    uint64_t tag = uint64_t{kLiveTag} << 32 | offset;
    memcpy(raw, &tag, 8);
  }
  DebugHeader hdr{kMagicLive, offset, n};
  memcpy(user - 16, &hdr, sizeof hdr);
  memset(user + n, kCanaryByte, kCanarySize);
}

void* debug_alloc(size_t n, size_t alignment) {
  if (n == 0 && alignment <= 16) {
    if (void* z = zero_block()) return z;
  }
  if (alignment < 16) alignment = 16;
  DebugScope scope;
  if (alignment > kMaxSpanAlignment) {
    // A block in its own mapping, 4 MiB past its segment header: the debug
    // header goes in the untouched gap right before the block (offset 0), so
    // the user pointer stays the block itself and segment_of still finds
    // the header. One more page at the end becomes the guard page.
    size_t ps = platform::page_size();
    if (n > static_cast<size_t>(PTRDIFF_MAX) - kCanarySize - 2 * ps) {
      errno = ENOMEM;
      return nullptr;
    }
    bool zeroed;
    char* user = static_cast<char*>(core_alloc(n + kCanarySize + ps, alignment, &zeroed));
    if (user == nullptr) return nullptr;
    Segment* seg = segment_of(user);
    seg->pad0 = 0;
    platform::protect_pages(reinterpret_cast<char*>(seg) + seg->map_size - ps, ps, false);
    write_live(user, user, n, 0);
    return user;
  }
  size_t off = alignment > 32 ? alignment : 32;
  if (n > static_cast<size_t>(PTRDIFF_MAX) - off - kCanarySize - kSegmentSize) {
    errno = ENOMEM;
    return nullptr;
  }
  if (off + n + kCanarySize > kMaxClassSize) {
    char* raw = alloc_mapping(n, alignment);
    if (raw == nullptr) return nullptr;
    write_live(raw, raw + 32, n, 32);
    return raw + 32;
  }
  bool zeroed;
  char* raw = static_cast<char*>(core_alloc(off + n + kCanarySize, alignment, &zeroed));
  if (raw == nullptr) return nullptr;
  Page* pg = page_of(segment_of(raw), raw);
  check_poison(raw, pg->block_size);
  char* user = raw + off;
  write_live(raw, user, n, static_cast<uint32_t>(off));
  return user;
}

// --- checks ----------------------------------------------------------------------

// Whether `p` sits where debug_alloc puts a user pointer: 32 bytes past the
// start of a block handed out in span `seg`, or an alignment (a power of two)
// past it with no live header at the 32-byte position. Used to tell an
// overwritten header (an underflow) from an interior or foreign pointer.
// The allocating families: header magic, how the misuse report names the
// allocation and the matching release. Index: 0 malloc, then the kinds of
// alloc_cxx.cpp (1 new, 2 new[], 3 aligned new, 4 aligned new[]).
struct Family {
  uint32_t magic;
  const char* allocated_by;
  const char* freed_by;
};
constexpr Family kFamilies[] = {
    {kMagicLive, "malloc", "free"},
    {kMagicLiveNew, "new", "delete"},
    {kMagicLiveNewArray, "new[]", "delete[]"},
    {kMagicLiveNewAligned, "aligned new", "aligned delete"},
    {kMagicLiveNewArrayAligned, "aligned new[]", "aligned delete[]"},
};

const Family* family_of(uint32_t magic) {
  for (const Family& f : kFamilies) {
    if (f.magic == magic) return &f;
  }
  return nullptr;
}

bool is_live_magic(uint32_t m) { return family_of(m) != nullptr; }

bool plausible_user_pointer(Segment* seg, const char* p) {
  const char* block;
  if (seg->kind == kSegmentHuge) {
    block = reinterpret_cast<const char*>(seg) + seg->huge_offset;
    if (p == block && seg->huge_offset == kSegmentSize) return true;  // own mapping, header in the gap
    if (p < block) return false;
  } else {
    Page* pg = page_of(seg, p);
    if (pg->block_size == 0 || p < pg->start) return false;
    size_t rel = static_cast<size_t>(p - pg->start);
    if (rel / pg->block_size >= pg->reserved) return false;
    block = p - rel % pg->block_size;
  }
  size_t u = static_cast<size_t>(p - block);
  if (u == 32) return true;
  if (u < 64 || (u & (u - 1)) != 0) return false;
  uint32_t magic;
  memcpy(&magic, block + 16, sizeof magic);  // the header of a block allocated at offset 32
  return !is_live_magic(magic);
}

// Validates a pointer passed to free/realloc/usable_size in debug mode. On
// success fills its header and block start and returns true; on misuse
// reports it and returns false.
// `op_freed` names the misuse when `p` was freed already.
bool debug_check(const void* p, const char* op_invalid, const char* op_freed, DebugHeader* hdr_out, char** raw_out) {
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  Segment* seg = segment_of(p);
  if ((a & 15) != 0 || !segment_known(seg)) {
    report_misuse(op_invalid, p);
    return false;
  }
  size_t off_in_seg = a - reinterpret_cast<uintptr_t>(seg);
  if (seg->kind == kSegmentSmall) {
    size_t idx = off_in_seg >> kSlotShift;
    if (idx == 0 || idx >= static_cast<size_t>(kSlotsPerSegment) || !((seg->used_mask >> idx) & 1)) {
      report_misuse("invalid free or double free (pointer is not in an allocated span)", p);
      return false;
    }
  } else if (seg->kind != kSegmentHuge || off_in_seg < kHugeHeader || off_in_seg >= seg->map_size) {
    report_misuse(op_invalid, p);
    return false;
  } else if (is_freed_mapping(seg)) {
    // Its body is inaccessible now; the header page says it was freed.
    const char* block = reinterpret_cast<const char*>(seg) + seg->huge_offset;
    bool at_user = a == reinterpret_cast<uintptr_t>(block) + (seg->huge_offset == kSegmentSize ? 0 : 32);
    report_misuse(at_user ? op_freed : op_invalid, p);
    return false;
  }
  DebugHeader hdr;
  memcpy(&hdr, static_cast<const char*>(p) - 16, sizeof hdr);
  if (hdr.magic == kMagicFreed) {
    report_misuse(op_freed, p);
    return false;
  }
  const bool own_mapping = seg->kind == kSegmentHuge && seg->huge_offset == kSegmentSize &&
                           off_in_seg == kSegmentSize && hdr.offset == 0;  // see debug_alloc
  // A header that does not hold together in front of a pointer that sits
  // where user pointers sit was overwritten from below (worked out only
  // when a check fails).
  auto underflow = [&] {
    return plausible_user_pointer(seg, static_cast<const char*>(p))
               ? "heap buffer underflow detected (the header before the block was overwritten)"
               : op_invalid;
  };
  if (!is_live_magic(hdr.magic) || (!own_mapping && hdr.offset < 32) || (hdr.offset & 15) != 0 ||
      hdr.offset > off_in_seg) {
    report_misuse(underflow(), p);
    return false;
  }
  char* raw = const_cast<char*>(static_cast<const char*>(p)) - hdr.offset;
  size_t usable;
  if (seg->kind == kSegmentHuge) {
    if (raw != reinterpret_cast<char*>(seg) + seg->huge_offset) {
      report_misuse(op_invalid, p);
      return false;
    }
    usable = seg->map_size - seg->huge_offset;
  } else {
    size_t raw_idx = (reinterpret_cast<uintptr_t>(raw) - reinterpret_cast<uintptr_t>(seg)) >> kSlotShift;
    Page* pg = page_of(seg, raw);
    bool ok = raw_idx != 0 && ((seg->used_mask >> raw_idx) & 1) && raw >= pg->start && pg->block_size != 0;
    if (ok) {
      size_t rel = static_cast<size_t>(raw - pg->start);
      ok = rel % pg->block_size == 0 && rel / pg->block_size < pg->reserved;
    }
    if (!ok) {
      report_misuse(op_invalid, p);
      return false;
    }
    usable = pg->block_size;
  }
  if (hdr.size > usable || hdr.offset + hdr.size + kCanarySize > usable) {
    report_misuse(underflow(), p);
    return false;
  }
  *hdr_out = hdr;
  *raw_out = raw;
  return true;
}

bool canary_intact(const char* user, size_t n) {
  for (size_t i = 0; i < kCanarySize; ++i) {
    if (static_cast<uint8_t>(user[n + i]) != kCanaryByte) return false;
  }
  return true;
}

// The requested size of live block `p` (realloc, malloc_usable_size).
bool debug_user_size(const void* p, const char* op_invalid, size_t* size) {
  if (is_zero_block(p)) {
    *size = 0;
    return zero_block_check(p, op_invalid, false);
  }
  DebugScope scope;
  DebugHeader hdr;
  char* raw;
  if (!debug_check(p, op_invalid, "use after free detected (a freed block passed to realloc or malloc_usable_size)",
                   &hdr, &raw)) {
    return false;
  }
  *size = hdr.size;
  return true;
}

// Frees user block `p` that the `expect` family (a kMagicLive*) must have
// allocated, with requested size `size` unless kUnsized (sized delete). A
// block whose checks fail is reported and, in report-only mode, leaked.
void debug_release(void* p, uint32_t expect, size_t size) {
  const char* invalid =
      expect == kMagicLive ? "invalid free (not a pointer returned by malloc)" : "invalid delete (not a pointer returned by new)";
  if (is_zero_block(p)) {
    zero_block_check(p, invalid, true);
    return;
  }
  DebugScope scope;
  char* raw;
  DebugHeader hdr;
  if (!debug_check(p, invalid, "double free detected", &hdr, &raw)) return;
  if (hdr.magic != expect) {
    char what[96];
    size_t n = 0;
    for (const char* s : {"mismatched deallocation (block from ", family_of(hdr.magic)->allocated_by,
                          ", freed by ", family_of(expect)->freed_by, ")"}) {
      while (*s && n + 1 < sizeof what) what[n++] = *s++;
    }
    what[n] = '\0';
    report_misuse(what, p);  // a valid block: freed all the same in report-only mode
  }
  if (size != kUnsized && size != hdr.size) {
    report_misuse("sized delete with a size other than the one allocated", p);
  }
  if (!canary_intact(static_cast<const char*>(p), hdr.size)) {
    report_misuse("heap buffer overflow detected (canary after the block overwritten)", p);
    return;
  }
  Segment* seg = segment_of(raw);
  if (seg->kind == kSegmentHuge) {
    free_mapping(seg);
    return;
  }
  Page* pg = page_of(seg, raw);
  poison_block(raw, pg->block_size, hdr.offset);
  hdr.magic = kMagicFreed;
  memcpy(static_cast<char*>(p) - 16, &hdr, sizeof hdr);
  quarantine_put(raw, pg->block_size);
}

void debug_free(void* p) { debug_release(p, kMagicLive, kUnsized); }

// Marks a block that an operator new of `kind` (1-4, see kFamilies) just
// allocated.
void debug_mark_new(void* p, int kind) noexcept {
  if (p == nullptr || is_zero_block(p)) return;
  memcpy(static_cast<char*>(p) - 16, &kFamilies[kind].magic, sizeof(uint32_t));
}

void debug_delete(void* p, int kind, size_t size) noexcept {
  if (p == nullptr) return;
  debug_release(p, kFamilies[kind].magic, size);
}

// --- alloc_check_heap --------------------------------------------------------------

// Checks live block `user` (header at user-16, `offset` past its block
// start, `usable` bytes from that start): header and canary. Returns the
// problems reported (0 or 1).
int check_live(char* user, uint32_t offset, size_t usable) {
  DebugHeader hdr;
  memcpy(&hdr, user - 16, sizeof hdr);
  if (!is_live_magic(hdr.magic) || hdr.offset != offset || hdr.size > usable ||
      offset + hdr.size + kCanarySize > usable) {
    report_misuse("heap buffer underflow detected (the header before the block was overwritten)", user);
    return 1;
  }
  if (!canary_intact(user, hdr.size)) {
    report_misuse("heap buffer overflow detected (canary after the block overwritten)", user);
    return 1;
  }
  return 0;
}

// Checks block `raw` of `bs` bytes of a class page: live (tagged) or free.
int check_class_block(char* raw, size_t bs) {
  uint64_t w0;
  memcpy(&w0, raw, 8);
  if (static_cast<uint32_t>(w0 >> 32) == kLiveTag) {
    uint32_t off = static_cast<uint32_t>(w0);
    if (off < 32 || off + kCanarySize > bs || (off & 15) != 0) {
      report_misuse("heap buffer underflow detected (the block's tag was overwritten)", raw + 32);
      return 1;
    }
    return check_live(raw + off, off, bs);
  }
  return check_poison(raw, bs) ? 0 : 1;
}

int check_segment(Segment* seg) {
  char* base = reinterpret_cast<char*>(seg);
  if (seg->kind != kSegmentSmall && seg->kind != kSegmentHuge) return 0;  // a cached segment, decommitted
  if (seg->kind == kSegmentHuge) {
    if (is_freed_mapping(seg)) return 0;
    char* raw = base + seg->huge_offset;
    size_t usable = seg->map_size - seg->huge_offset;
    if (seg->huge_offset == kSegmentSize) return check_live(raw, 0, usable);
    return check_live(raw + 32, 32, usable);
  }
  int problems = 0;
  for (int idx = 1; idx < kSlotsPerSegment; ++idx) {
    if (!((seg->used_mask >> idx) & 1)) continue;
    Page* pg = &seg->pages[idx];
    if (pg->delta != 0 || pg->block_size == 0 || pg->start == nullptr) continue;
    if (!is_class_block(seg, pg)) continue;  // none in debug mode: larger blocks have mappings
    for (uint32_t i = 0; i < pg->reserved; ++i) {
      problems += check_class_block(pg->start + static_cast<size_t>(i) * pg->block_size, pg->block_size);
    }
  }
  return problems;
}

// Checks every block liballoc holds, in every heap: live blocks' headers and
// canaries, free and quarantined blocks' poison. Waits for the debug-mode
// operations in flight and holds new ones off while it runs.
int debug_check_heap() {
  bool expected = false;
  while (!g_debug_checking.compare_exchange_weak(expected, true, std::memory_order_seq_cst)) {
    expected = false;
    sched_yield();
  }
  while (g_debug_active.load(std::memory_order_seq_cst) != 0) sched_yield();
  int problems = 0;
  for (size_t w = 0; w < kSegmentMapWords; ++w) {
    uint64_t bits = g_segment_map[w].load(std::memory_order_relaxed);
    while (bits != 0) {
      size_t b = static_cast<size_t>(__builtin_ctzll(bits));
      bits &= bits - 1;
      problems += check_segment(reinterpret_cast<Segment*>((w * 64 + b) << kSegmentShift));
    }
  }
  g_debug_checking.store(false, std::memory_order_release);
  return problems;
}

// The child of a fork has only the forking thread: nothing is in flight.
void debug_atfork_child() {
  g_debug_active.store(0, std::memory_order_relaxed);
  g_debug_checking.store(false, std::memory_order_relaxed);
}

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench
