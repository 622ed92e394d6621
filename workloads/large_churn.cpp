// large_churn: blocks of 1-32 MiB allocated, touched once per page and freed
// in a loop (issue 14). What it stresses is each allocator's path for blocks
// far above its size classes: a fresh mapping per block (and a page fault per
// page the replay touches), or a cache of freed mappings or of free heap
// memory reused without faults, and how much of that it keeps resident.
//
// Each thread holds up to kMaxLive blocks. A step frees a random live block
// when kMaxLive are live, allocates when none is, and otherwise does either
// with probability 1/2 (a random walk over 0..kMaxLive live blocks), so a
// freed block's memory is asked for again at another size. Sizes are
// log-uniform in [1 MiB, 32 MiB) in bytes: one of the five power-of-two bands
// (1-2, 2-4, 4-8, 8-16, 16-32 MiB) with probability 1/5, then a uniform size
// inside it (mean about 9.3 MiB); almost none is a page multiple. The replay touches one byte in every 4 KiB page of each block it
// gets, and the last byte (runner/replay.h, touch()).
//
// Ops: a block costs 2 ops (allocation, free) but about 2,400 page touches,
// and an allocator that maps every block afresh takes 5-12 ms per op on the
// shared development VM, so the trace holds --ops / kOpsDivisor ops
// (trace_ops()): 40 ops, 20 blocks, about 190 MiB touched per thread at the
// default 100,000 (0.5 s a replay at worst).
#include "workloads/workload.h"

namespace allocbench {
namespace {

constexpr uint64_t kMinSize = uint64_t{1} << 20;
constexpr uint64_t kMaxSize = uint64_t{32} << 20;
constexpr size_t kMaxLive = 4;
constexpr uint64_t kOpsDivisor = 2500;

class LargeChurn : public Workload {
 public:
  const char* name() const override { return "large_churn"; }
  const char* description() const override {
    return "1-32 MiB blocks (log-uniform), every page touched, up to 4 live, freed in a loop";
  }
  WorkloadRequirements requirements(const std::string&) const override {
    return natural_requirements(kMaxSize);
  }
  uint64_t trace_ops(uint64_t ops) const override {
    const uint64_t scaled = ops / kOpsDivisor;
    return scaled >= 2 ? scaled : (ops < 2 ? ops : 2);
  }
  void generate(const TraceParams&, Rng& rng, TraceBuilder& b) const override {
    while (b.has_room()) {
      const size_t live = b.live_count();
      const bool grow = live == 0 || (live < kMaxLive && rng.chance(1, 2));
      if (grow && b.can_alloc()) {
        const uint64_t size = rng.log_uniform(kMinSize, kMaxSize - 1);
        b.alloc(size, natural_alignment(size));
      } else if (live > 0) {
        b.free(b.live_slot(rng.below(live)));
      } else {
        break;
      }
    }
  }
};

}  // namespace

const Workload* large_churn_workload() {
  static const LargeChurn w;
  return &w;
}

}  // namespace allocbench
