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
                                            CalibrationPlan* plan) {
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
  if (t.pushes > 0) {
    // A ring of blocks, handed out in allocation order.
    uint64_t largest = 16;
    size_t align = 16, count = 0;
    for (const Op& op : t.ops) {
      if (!allocates(op.kind)) continue;
      largest = std::max(largest, op.size);
      align = std::max(align, size_t{1} << op.align_log2);
      ++count;
    }
    const size_t stride = round_up(largest, std::max<size_t>(align, 64));
    char* base = map_faulted(stride * kRingBlocks);
    if (base == nullptr) return no_memory;
    MappedArray<void*> stream(count + 1);
    for (size_t k = 0; k < count; ++k) stream.push_back(base + (k % kRingBlocks) * stride);
    plan->stream = stream.data();
    arrays_.push_back(std::move(stream));
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
  return "";
}

}  // namespace detail
}  // namespace allocbench
