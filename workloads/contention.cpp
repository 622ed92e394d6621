// contention: every thread in a tight loop allocating and freeing small
// blocks (16-256 B from 8 sizes), at most 8 live per thread, so the cost is
// the allocator's synchronisation and cache-line traffic, not memory.
#include "workloads/workload.h"

namespace allocbench {
namespace {

class Contention : public Workload {
 public:
  const char* name() const override { return "contention"; }
  const char* description() const override {
    return "every thread in a tight alloc/free loop of small blocks (<= 8 live per thread)";
  }
  WorkloadRequirements requirements(const std::string&) const override {
    WorkloadRequirements r;
    r.max_size = 256;
    r.max_alignment = 16;
    r.resets_at_phases = true;
    return r;
  }
  void generate(const TraceParams&, Rng& rng, TraceBuilder& b) const override {
    static constexpr uint64_t kSizes[] = {16, 32, 48, 64, 96, 128, 192, 256};
    uint32_t live[8];
    while (b.can_alloc()) {
      uint64_t n = rng.range(1, 8);
      uint64_t k = 0;
      for (; k < n && b.can_alloc(); ++k) live[k] = b.alloc(kSizes[rng.below(8)], 16);
      for (uint64_t i = 0; i < k; ++i) b.free(live[i]);
      if (!b.has_room()) break;
      if (rng.below(512) == 0) b.phase();
    }
  }
};

}  // namespace

const Workload* contention_workload() {
  static const Contention w;
  return &w;
}

}  // namespace allocbench
