// Debug mode (ALLOC_DEBUG=1 or the debug build): a header before each block,
// a canary after it, poison while free; misuse aborts with a message.
// Compiled only through static.cpp.
#include "allocators/inhouse/internal.h"

namespace allocbench {
namespace detail {
namespace inhouse {

bool is_class_block(Segment* seg, Page* pg) { return seg->kind == kSegmentSmall && !(pg->flags & kPageLarge); }

// Checks the poison of free class block `raw` of `bs` bytes (all but its
// link word, its last-header-offset word and the freed header itself).
void check_poison(char* raw, size_t bs) {
  uint64_t woff;
  memcpy(&woff, raw + 8, 8);
  bool window = woff >= 32 && woff < bs && (woff & 15) == 0;
  for (size_t i = 16; i < bs; ++i) {
    if (window && i >= woff - 16 && i < woff) continue;
    if (static_cast<uint8_t>(raw[i]) != kPoisonByte) {
      report_and_abort("write after free detected (freed block modified)", raw + (window ? woff : 32));
    }
  }
}

// The quarantine (ALLOC_DEBUG_QUARANTINE=bytes, default 256 KiB; 0 turns it
// off): freed blocks wait in one global FIFO before their memory can be
// reused, so a use after free does not hit a block that was handed out
// again at once. A block leaving the quarantine has its poison checked, so a
// write during its stay is caught then (or at reuse). One lock, taken only
// in debug mode.
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
  Segment* seg = segment_of(raw);
  if (seg->kind == kSegmentSmall) {
    Page* pg = page_of(seg, raw);
    if (is_class_block(seg, pg)) check_poison(raw, pg->block_size);
  }
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

// Empties the quarantine (alloc_trim), checking each block's poison.
void quarantine_flush() {
  for (;;) {
    g_quarantine_lock.lock();
    if (g_quarantine_count == 0) {
      g_quarantine_lock.unlock();
      return;
    }
    QuarantineEntry e = g_quarantine[g_quarantine_head];
    g_quarantine_held -= e.bytes;
    g_quarantine_head = (g_quarantine_head + 1) % kQuarantineSlots;
    --g_quarantine_count;
    g_quarantine_lock.unlock();
    quarantine_release(e.raw);
  }
}

// 0-byte blocks in debug mode: unique addresses 16 bytes apart in a region
// that faults on any access, so a read or write through a 0-byte block
// traps. Freeing one is accepted (and not checked for double frees).
constexpr size_t kZeroRegionBytes = size_t{64} << 20;
std::atomic<char*> g_zero_region{nullptr};  // any thread (CAS): reserved on first use
std::atomic<size_t> g_zero_next{0};          // any thread: next 16-byte slot

bool is_zero_block(const void* p) {
  const char* r = g_zero_region.load(std::memory_order_acquire);
  const char* c = static_cast<const char*>(p);
  return r != nullptr && c >= r && c < r + kZeroRegionBytes;
}

void* zero_block() {
  char* r = g_zero_region.load(std::memory_order_acquire);
  if (r == nullptr) {
    char* fresh = static_cast<char*>(platform::reserve_inaccessible(kZeroRegionBytes));
    if (fresh == nullptr) return nullptr;
    if (g_zero_region.compare_exchange_strong(r, fresh, std::memory_order_acq_rel)) {
      r = fresh;
    } else {
      platform::unmap_pages(fresh, kZeroRegionBytes);  // another thread won; r holds its region
    }
  }
  size_t slot = g_zero_next.fetch_add(16, std::memory_order_relaxed) + 16;  // never the region's first byte
  return slot < kZeroRegionBytes ? r + slot : nullptr;  // exhausted: the caller uses a real block
}

void* debug_alloc(size_t n, size_t alignment) {
  if (n == 0 && alignment <= 16) {
    if (void* z = zero_block()) return z;
  }
  if (alignment < 16) alignment = 16;
  if (alignment > kMaxSpanAlignment) {
    // A block in its own mapping, 4 MiB past its segment header: the debug
    // header goes in the untouched gap right before the block (offset 0), so
    // the user pointer stays the block itself and segment_of still finds
    // the header.
    if (n > static_cast<size_t>(PTRDIFF_MAX) - kCanarySize) {
      errno = ENOMEM;
      return nullptr;
    }
    bool zeroed;
    char* user = static_cast<char*>(core_alloc(n + kCanarySize, alignment, &zeroed));
    if (user == nullptr) return nullptr;
    DebugHeader hdr{kMagicLive, 0, n};
    memcpy(user - 16, &hdr, sizeof hdr);
    memset(user + n, kCanaryByte, kCanarySize);
    return user;
  }
  size_t off = alignment > 32 ? alignment : 32;
  if (n > static_cast<size_t>(PTRDIFF_MAX) - off - kCanarySize) {
    errno = ENOMEM;
    return nullptr;
  }
  bool zeroed;
  char* raw = static_cast<char*>(core_alloc(off + n + kCanarySize, alignment, &zeroed));
  if (raw == nullptr) return nullptr;
  Segment* seg = segment_of(raw);
  if (seg->kind == kSegmentSmall) {
    Page* pg = page_of(seg, raw);
    if (is_class_block(seg, pg)) check_poison(raw, pg->block_size);
  }
  char* user = raw + off;
  DebugHeader hdr{kMagicLive, static_cast<uint32_t>(off), n};
  memcpy(user - 16, &hdr, sizeof hdr);
  memset(user + n, kCanaryByte, kCanarySize);
  return user;
}

// Validates a pointer passed to free/realloc/usable_size in debug mode and
// returns its header. Aborts with a message on misuse.
// Whether `p` sits where debug_alloc puts a user pointer: 32 bytes past the
// start of a block handed out in span `seg`, or an alignment (a power of two)
// past it with no live header at the 32-byte position. Used to tell an
// overwritten header (an underflow) from an interior or foreign pointer.
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
  return magic != kMagicLive && magic != kMagicLiveNew && magic != kMagicLiveNewArray;
}

DebugHeader debug_check(const void* p, const char* op_invalid, char** raw_out) {
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  Segment* seg = segment_of(p);
  if ((a & 15) != 0 || !segment_known(seg)) report_and_abort(op_invalid, p);
  size_t off_in_seg = a - reinterpret_cast<uintptr_t>(seg);
  if (seg->kind == kSegmentSmall) {
    size_t idx = off_in_seg >> kSlotShift;
    if (idx == 0 || idx >= static_cast<size_t>(kSlotsPerSegment) || !((seg->used_mask >> idx) & 1)) {
      report_and_abort("invalid free or double free (pointer is not in an allocated span)", p);
    }
  } else if (seg->kind != kSegmentHuge || off_in_seg < kHugeHeader) {
    report_and_abort(op_invalid, p);
  }
  DebugHeader hdr;
  memcpy(&hdr, static_cast<const char*>(p) - 16, sizeof hdr);
  if (hdr.magic == kMagicFreed) report_and_abort("double free detected", p);
  const bool own_mapping = seg->kind == kSegmentHuge && seg->huge_offset == kSegmentSize &&
                           off_in_seg == kSegmentSize && hdr.offset == 0;  // see debug_alloc
  const bool live = hdr.magic == kMagicLive || hdr.magic == kMagicLiveNew || hdr.magic == kMagicLiveNewArray;
  // A header that does not hold together in front of a pointer that sits
  // where user pointers sit was overwritten from below.
  const char* underflow = plausible_user_pointer(seg, static_cast<const char*>(p))
                              ? "heap buffer underflow detected (the header before the block was overwritten)"
                              : op_invalid;
  if (!live || (!own_mapping && hdr.offset < 32) || (hdr.offset & 15) != 0 ||
      hdr.offset > off_in_seg) {
    report_and_abort(underflow, p);
  }
  char* raw = const_cast<char*>(static_cast<const char*>(p)) - hdr.offset;
  size_t usable;
  if (seg->kind == kSegmentHuge) {
    if (raw != reinterpret_cast<char*>(seg) + seg->huge_offset) report_and_abort(op_invalid, p);
    usable = seg->map_size - seg->huge_offset;
  } else {
    size_t raw_idx = (reinterpret_cast<uintptr_t>(raw) - reinterpret_cast<uintptr_t>(seg)) >> kSlotShift;
    if (raw_idx == 0 || !((seg->used_mask >> raw_idx) & 1)) report_and_abort(op_invalid, p);
    Page* pg = page_of(seg, raw);
    if (raw < pg->start || pg->block_size == 0) report_and_abort(op_invalid, p);
    size_t rel = static_cast<size_t>(raw - pg->start);
    if (rel % pg->block_size != 0 || rel / pg->block_size >= pg->reserved) report_and_abort(op_invalid, p);
    usable = pg->block_size;
  }
  if (hdr.size > usable || hdr.offset + hdr.size + kCanarySize > usable) report_and_abort(underflow, p);
  *raw_out = raw;
  return hdr;
}

const char* family_name(uint32_t magic) {
  return magic == kMagicLiveNew ? "new" : magic == kMagicLiveNewArray ? "new[]" : "malloc";
}

// Frees user block `p` that the `expect` family (a kMagicLive*) must have
// allocated, with requested size `size` unless kUnsized (sized delete).
void debug_release(void* p, uint32_t expect, size_t size) {
  char* raw;
  DebugHeader hdr = debug_check(p, expect == kMagicLive ? "invalid free (not a pointer returned by malloc)"
                                                        : "invalid delete (not a pointer returned by new)",
                                &raw);
  if (hdr.magic != expect) {
    char what[96];
    size_t n = 0;
    for (const char* s : {"mismatched deallocation (block from ", family_name(hdr.magic), ", freed by ",
                          expect == kMagicLive ? "free" : expect == kMagicLiveNew ? "delete" : "delete[]", ")"}) {
      while (*s && n + 1 < sizeof what) what[n++] = *s++;
    }
    what[n] = '\0';
    report_and_abort(what, p);
  }
  if (size != kUnsized && size != hdr.size) {
    report_and_abort("sized delete with a size other than the one allocated", p);
  }
  const char* user = static_cast<const char*>(p);
  for (size_t i = 0; i < kCanarySize; ++i) {
    if (static_cast<uint8_t>(user[hdr.size + i]) != kCanaryByte) {
      report_and_abort("heap buffer overflow detected (canary after the block overwritten)", p);
    }
  }
  Segment* seg = segment_of(raw);
  if (seg->kind == kSegmentSmall) {
    Page* pg = page_of(seg, raw);
    if (is_class_block(seg, pg)) {
      memset(raw + 16, kPoisonByte, pg->block_size - 16);
      uint64_t woff = hdr.offset;
      memcpy(raw + 8, &woff, 8);
    }
  }
  hdr.magic = kMagicFreed;
  memcpy(static_cast<char*>(p) - 16, &hdr, sizeof hdr);
  quarantine_put(raw, core_usable_size(raw));
}

void debug_free(void* p) {
  if (is_zero_block(p)) return;
  debug_release(p, kMagicLive, kUnsized);
}

// Marks a block that operator new (kind 1) or new[] (kind 2) just allocated.
void debug_mark_new(void* p, int kind) noexcept {
  if (p == nullptr || is_zero_block(p)) return;
  uint32_t magic = kind == 2 ? kMagicLiveNewArray : kMagicLiveNew;
  memcpy(static_cast<char*>(p) - 16, &magic, sizeof magic);
}

void debug_delete(void* p, int kind, size_t size) noexcept {
  if (p == nullptr || is_zero_block(p)) return;
  debug_release(p, kind == 2 ? kMagicLiveNewArray : kMagicLiveNew, size);
}

}  // namespace inhouse
}  // namespace detail
}  // namespace allocbench
