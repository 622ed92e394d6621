// The size-pattern tests of seed 003, each phase followed by an RSS reading
// (the seed's "committed physical pages" line): the runner records RSS at
// every phase boundary into phases.csv.
//
// size_ramp: sizes 1, 2, 4, ... 8192 ascending, then 8192 ... 1 descending
//   (28 steps). Profiles are the seed's three modes:
//   `alloc_all` allocate K blocks of the step's size, then free them in
//               allocation order;
//   `immediate` K times allocate and free at once;
//   `reversed`  allocate K blocks, free them newest first.
// scatter_sizes: groups of three neighbouring powers of two, [8,16,32] ...
//   [1024,2048,4096]; each phase allocates K blocks cycling through its group,
//   then frees them.
// sparse_sizes: ten phases, each allocating K blocks of sizes drawn from
//   {8, 16, ..., 1024}, then freeing them in random order.
// K is chosen so the whole trace fits the op budget.
#include "workloads/workload.h"

namespace allocbench {
namespace {

void free_in_order(TraceBuilder& b, MappedArray<uint32_t>& slots, bool newest_first) {
  if (newest_first) {
    for (size_t i = slots.size(); i > 0; --i) b.free(slots[i - 1]);
  } else {
    for (uint32_t s : slots) b.free(s);
  }
  slots.clear();
}

WorkloadRequirements phased(size_t max_size) {
  WorkloadRequirements r;
  r.max_size = max_size;
  r.max_alignment = 16;
  r.resets_at_phases = true;
  r.record_phase_rss = true;
  return r;
}

class SizeRamp : public Workload {
 public:
  const char* name() const override { return "size_ramp"; }
  const char* description() const override {
    return "sizes 1..8192 up then down, K blocks per step; RSS after each step";
  }
  std::vector<std::string> profiles() const override {
    return {"alloc_all", "immediate", "reversed"};
  }
  bool seeded() const override { return false; }
  WorkloadRequirements requirements(const std::string&) const override { return phased(8192); }
  void generate(const TraceParams& p, Rng&, TraceBuilder& b) const override {
    uint64_t sizes[28];
    for (int i = 0; i < 14; ++i) sizes[i] = sizes[27 - i] = uint64_t{1} << i;
    const uint64_t k = b.budget() > 28 * 3 ? (b.budget() - 28) / 56 : 1;
    MappedArray<uint32_t> slots;
    for (uint64_t size : sizes) {
      for (uint64_t i = 0; i < k && b.can_alloc(); ++i) {
        uint32_t s = b.alloc(size, natural_alignment(size));
        if (p.profile == "immediate") {
          b.free(s);
        } else {
          slots.push_back(s);
        }
      }
      free_in_order(b, slots, p.profile == "reversed");
      if (!b.has_room()) break;
      b.phase();
    }
  }
};

class ScatterSizes : public Workload {
 public:
  const char* name() const override { return "scatter_sizes"; }
  const char* description() const override {
    return "groups [8,16,32] .. [1024,2048,4096], K blocks per group; RSS after each";
  }
  bool seeded() const override { return false; }
  WorkloadRequirements requirements(const std::string&) const override { return phased(4096); }
  void generate(const TraceParams&, Rng&, TraceBuilder& b) const override {
    const uint64_t k = b.budget() > 8 * 3 ? (b.budget() - 8) / 16 : 1;
    MappedArray<uint32_t> slots;
    for (int g = 3; g <= 10; ++g) {
      for (uint64_t i = 0; i < k && b.can_alloc(); ++i) {
        uint64_t size = uint64_t{1} << (g + static_cast<int>(i % 3));
        slots.push_back(b.alloc(size, natural_alignment(size)));
      }
      free_in_order(b, slots, false);
      if (!b.has_room()) break;
      b.phase();
    }
  }
};

class SparseSizes : public Workload {
 public:
  const char* name() const override { return "sparse_sizes"; }
  const char* description() const override {
    return "ten phases of K blocks of random sizes in {8..1024}, freed at random; RSS after each";
  }
  WorkloadRequirements requirements(const std::string&) const override { return phased(1024); }
  void generate(const TraceParams&, Rng& rng, TraceBuilder& b) const override {
    const uint64_t k = b.budget() > 10 * 3 ? (b.budget() - 10) / 20 : 1;
    MappedArray<uint32_t> slots;
    for (int phase = 0; phase < 10; ++phase) {
      for (uint64_t i = 0; i < k && b.can_alloc(); ++i) {
        uint64_t size = uint64_t{8} << rng.below(8);
        slots.push_back(b.alloc(size, natural_alignment(size)));
      }
      while (!slots.empty()) {
        size_t i = rng.below(slots.size());
        b.free(slots[i]);
        slots[i] = slots.back();
        slots.pop_back();
      }
      if (!b.has_room()) break;
      b.phase();
    }
  }
};

}  // namespace

const Workload* size_ramp_workload() {
  static const SizeRamp w;
  return &w;
}
const Workload* scatter_sizes_workload() {
  static const ScatterSizes w;
  return &w;
}
const Workload* sparse_sizes_workload() {
  static const SparseSizes w;
  return &w;
}

}  // namespace allocbench
