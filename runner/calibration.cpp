#include "runner/calibration.h"

#include <algorithm>

#include "allocators/common/platform.h"

namespace allocbench {
namespace detail {
namespace {

constexpr size_t kRingBlocks = 2048;  // > Channel::kCapacity + a consumer's largest burst.
constexpr size_t kMaxAlignment = size_t{1} << 16;

size_t round_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

bool allocates(OpKind k) {
  return k == OpKind::kAlloc || k == OpKind::kCalloc || k == OpKind::kRealloc;
}

}  // namespace

CalibrationPlanner::~CalibrationPlanner() {
  for (const Mapping& m : maps_) platform::unmap_pages(m.base, m.bytes);
}

char* CalibrationPlanner::map_faulted(size_t bytes) {
  bytes = round_up(bytes == 0 ? 1 : bytes, platform::page_size());
  void* p = platform::map_aligned(bytes, kMaxAlignment);
  if (p == nullptr) return nullptr;
  maps_.push_back({p, bytes});
  bytes_ += bytes;
  volatile char* c = static_cast<volatile char*>(p);
  for (size_t off = 0; off < bytes; off += platform::page_size()) c[off] = 1;
  return static_cast<char*>(p);
}

std::string CalibrationPlanner::plan_thread(const ThreadTrace& t, SlotEntry* slots,
                                            const uint64_t* shared_sizes, uint32_t shared_slots,
                                            bool channel_mix, CalibrationPlan* plan) {
  const std::string no_memory = "cannot map the calibration's blocks";
  if (t.toggles > 0) {
    // One block per shared slot this thread toggles.
    MappedArray<void*> table;
    table.resize_zeroed(shared_slots == 0 ? 1 : shared_slots);
    MappedArray<uint64_t> offset;
    offset.resize_zeroed(shared_slots == 0 ? 1 : shared_slots);
    size_t total = 0;
    for (const Op& op : t.ops) {
      if (op.kind != OpKind::kToggle || op.slot >= shared_slots || offset[op.slot] != 0) continue;
      offset[op.slot] = total + 1;  // +1: zero means "not planned yet".
      total += round_up(std::max<uint64_t>(shared_sizes[op.slot], 1), 16);
    }
    char* base = map_faulted(total);
    if (base == nullptr) return no_memory;
    for (uint32_t j = 0; j < shared_slots; ++j) {
      if (offset[j] != 0) table[j] = base + offset[j] - 1;
    }
    plan->toggle_region = table.data();
    arrays_.push_back(std::move(table));
    return "";
  }
  // One block per slot, as large and as aligned as the slot's largest request.
  MappedArray<uint64_t> largest, align;
  largest.resize_zeroed(t.slot_count + 1);
  align.resize_zeroed(t.slot_count + 1);
  for (const Op& op : t.ops) {
    if (!allocates(op.kind)) continue;
    largest[op.slot] = std::max(largest[op.slot], op.size);
    align[op.slot] = std::max<uint64_t>(align[op.slot], uint64_t{1} << op.align_log2);
  }
  MappedArray<uint64_t> offset;
  offset.resize_zeroed(t.slot_count + 1);
  size_t total = 0;
  for (uint32_t s = 0; s < t.slot_count; ++s) {
    total = round_up(total, std::max<size_t>(align[s], 16));
    offset[s] = total;
    total += round_up(std::max<uint64_t>(largest[s], 1), 16);
  }
  char* base = map_faulted(total);
  if (base == nullptr) return no_memory;
  for (uint32_t s = 0; s < t.slot_count; ++s) slots[s].ptr = base + offset[s];
  return channel_mix ? plan_stream(t, slots, plan) : "";
}

// A channel mix's replay takes every kAlloc's block from plan->stream, in
// order: the slot's own block when the thread frees it itself (LIFO reuse, as
// in local traces), the next block of a ring when it is handed to another
// thread. The ring holds more blocks than the thread can have in flight
// (Channel::kCapacity + a consumer's burst) and 4 times its most live blocks
// at once (larson hands whole arrays, whose blocks live on in the next threads
// for a few handoffs), so blocks in flight stay distinct.
std::string CalibrationPlanner::plan_stream(const ThreadTrace& t, const SlotEntry* slots,
                                            CalibrationPlan* plan) {
  MappedArray<uint8_t> pushed;  // Per kAlloc, in order: 1 if the block is handed over.
  MappedArray<uint8_t> ends_pushed;
  ends_pushed.resize_zeroed(t.slot_count + 1);
  uint64_t largest = 16, live = 0, peak_live = 0, allocs = 0;
  size_t align = 16;
  for (size_t i = t.ops.size(); i-- > 0;) {
    const Op& op = t.ops[i];
    if (op.kind == OpKind::kPush) ends_pushed[op.slot] = 1;
    if (op.kind == OpKind::kFree) ends_pushed[op.slot] = 0;
    if (op.kind == OpKind::kAlloc) {
      pushed.push_back(ends_pushed[op.slot]);
      ++allocs;
    }
    if (allocates(op.kind)) {
      largest = std::max(largest, op.size);
      align = std::max(align, size_t{1} << op.align_log2);
    }
  }
  size_t ring_blocks = 0;
  for (const Op& op : t.ops) {
    if (op.kind == OpKind::kAlloc || op.kind == OpKind::kCalloc || op.kind == OpKind::kPop) {
      peak_live = std::max(peak_live, ++live);
    } else if (op.kind == OpKind::kFree || op.kind == OpKind::kPush) {
      --live;
    }
  }
  for (uint8_t p : pushed) ring_blocks += p;
  char* ring = nullptr;
  const size_t ring_size = std::max<size_t>(kRingBlocks, 4 * peak_live);
  const size_t stride = round_up(largest, std::max<size_t>(align, 64));
  if (ring_blocks > 0) {
    ring = map_faulted(stride * ring_size);
    if (ring == nullptr) return "cannot map the calibration's blocks";
  }
  MappedArray<void*> stream(allocs + 1);
  size_t next_ring = 0, k = allocs;  // `pushed` is in reverse order.
  for (const Op& op : t.ops) {
    if (op.kind != OpKind::kAlloc) continue;
    if (pushed[--k] != 0) {
      stream.push_back(ring + (next_ring++ % ring_size) * stride);
    } else {
      stream.push_back(slots[op.slot].ptr);
    }
  }
  plan->stream = stream.data();
  arrays_.push_back(std::move(stream));
  return "";
}

}  // namespace detail
}  // namespace allocbench
