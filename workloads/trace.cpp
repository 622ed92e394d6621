#include <cstring>

#include "workloads/workload.h"

namespace allocbench {
namespace {

constexpr uint32_t kNotLive = UINT32_MAX;
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

uint64_t fnv_u64(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
  return h;
}

uint8_t log2_exact(size_t alignment) {
  return static_cast<uint8_t>(63 - __builtin_clzll(alignment == 0 ? 1 : alignment));
}

}  // namespace

TraceBuilder::TraceBuilder(uint64_t op_budget) : budget_(op_budget) {
  trace_.hash = kFnvOffset;
  trace_.ops.reserve(op_budget == 0 ? 1 : op_budget);
}

void TraceBuilder::emit(OpKind kind, uint64_t size, uint32_t slot, uint8_t align_log2,
                        uint16_t channel) {
  trace_.ops.push_back(Op{size, slot, kind, align_log2, channel});
  uint64_t h = trace_.hash;
  h = fnv_u64(h, static_cast<uint64_t>(kind) | (static_cast<uint64_t>(align_log2) << 8) |
                     (static_cast<uint64_t>(channel) << 16));
  h = fnv_u64(h, size);
  h = fnv_u64(h, slot);
  trace_.hash = h;
  ++emitted_;
}

uint32_t TraceBuilder::make_live(uint64_t size, size_t alignment) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = trace_.slot_count++;
    live_pos_.push_back(kNotLive);
    slot_size_.push_back(0);
    slot_align_.push_back(0);
  }
  live_pos_[slot] = static_cast<uint32_t>(live_.size());
  live_.push_back(slot);
  slot_size_[slot] = size;
  slot_align_[slot] = log2_exact(alignment);
  live_bytes_ += size;
  if (live_bytes_ > trace_.peak_live_bytes) trace_.peak_live_bytes = live_bytes_;
  return slot;
}

void TraceBuilder::drop_live(uint32_t slot) {
  uint32_t pos = live_pos_[slot];
  uint32_t last = live_.back();
  live_[pos] = last;
  live_pos_[last] = pos;
  live_.pop_back();
  live_pos_[slot] = kNotLive;
  live_bytes_ -= slot_size_[slot];
  free_slots_.push_back(slot);
}

uint32_t TraceBuilder::alloc(uint64_t size, size_t alignment) {
  uint32_t slot = make_live(size, alignment);
  ++trace_.allocs;
  emit(OpKind::kAlloc, size, slot, slot_align_[slot]);
  return slot;
}

uint32_t TraceBuilder::calloc(uint64_t size, size_t alignment) {
  uint32_t slot = make_live(size, alignment);
  ++trace_.allocs;
  emit(OpKind::kCalloc, size, slot, slot_align_[slot]);
  return slot;
}

void TraceBuilder::free(uint32_t slot) {
  drop_live(slot);
  ++trace_.frees;
  emit(OpKind::kFree, slot_size_[slot], slot, slot_align_[slot]);
}

void TraceBuilder::push(uint32_t slot, uint16_t channel) {
  drop_live(slot);
  ++trace_.pushes;
  emit(OpKind::kPush, slot_size_[slot], slot, slot_align_[slot], channel);
}

uint32_t TraceBuilder::pop(uint64_t size, size_t alignment, uint16_t channel) {
  uint32_t slot = make_live(size, alignment);
  ++trace_.pops;
  emit(OpKind::kPop, size, slot, slot_align_[slot], channel);
  return slot;
}

void TraceBuilder::toggle(uint32_t shared_slot, uint64_t size) {
  ++trace_.toggles;
  emit(OpKind::kToggle, size, shared_slot, 4);  // 16-byte alignment
}

void TraceBuilder::write(uint32_t slot, uint64_t count) {
  ++trace_.writes;
  emit(OpKind::kWrite, count, slot, 0);
}

void TraceBuilder::realloc(uint32_t slot, uint64_t new_size) {
  live_bytes_ = live_bytes_ - slot_size_[slot] + new_size;
  if (live_bytes_ > trace_.peak_live_bytes) trace_.peak_live_bytes = live_bytes_;
  slot_size_[slot] = new_size;
  ++trace_.reallocs;
  emit(OpKind::kRealloc, new_size, slot, slot_align_[slot]);
}

void TraceBuilder::phase() {
  ++trace_.phases;
  emit(OpKind::kPhase, 0, 0, 0);
}

ThreadTrace TraceBuilder::finish() {
  // Oldest slots first: a deterministic order independent of the live set's.
  for (uint32_t slot = 0; slot < trace_.slot_count; ++slot) {
    if (live_pos_[slot] != kNotLive) free(slot);
  }
  return std::move(trace_);
}

ThreadTrace Workload::make_trace(const TraceParams& p) const {
  uint64_t seed = mix64(p.seed) ^ mix64(hash_string(name()) + hash_string(p.profile.c_str())) ^
                  mix64(0x1000 + p.thread_index);
  Rng rng(seed);
  TraceBuilder b(trace_ops(p.ops));
  generate(p, rng, b);
  return b.finish();
}

ThreadTrace generate_trace(const Workload& w, const TraceParams& p) { return w.make_trace(p); }

std::string Workload::profile_error(const std::string& profile) const {
  for (const std::string& p : profiles()) {
    if (p == profile) return "";
  }
  std::string choices;
  for (const std::string& p : profiles()) choices += (choices.empty() ? "" : ",") + p;
  return "unknown profile '" + profile + "' for workload " + name() + "; choose from {" + choices +
         "}";
}

uint64_t combine_trace_hashes(const uint64_t* hashes, size_t n) {
  uint64_t h = kFnvOffset;
  for (size_t i = 0; i < n; ++i) h = fnv_u64(h, hashes[i]);
  return h;
}

const Workload* find_workload(const std::string& name) {
  for (const Workload* w : workload_registry()) {
    if (name == w->name()) return w;
  }
  return nullptr;
}

bool has_profile(const Workload& w, const std::string& profile) {
  return w.profile_error(profile).empty();
}

}  // namespace allocbench
