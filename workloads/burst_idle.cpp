// burst_idle: does an allocator give memory back once a burst is over
// (issue 14, "Reclamation that shows")? Each thread allocates a burst of
// blocks until kBurstBytes are live (or its op budget runs short), frees all
// of them in a random order, and marks a phase boundary (thread 0's RSS there
// goes to phases.csv); bursts repeat while the budget lasts. The idle period
// is the cell's settle delay after the timed replays (--settle-ms, default
// 50 ms: five periods of coalesce_arena_reclaim's reclaimer), where nothing is
// live and no thread calls the allocator: `settled_rss_bytes` is read at its
// end, and `--timeline` samples RSS through it (docs/workloads.md).
// Sizes are 16 B-8 KiB, log-uniform: small-block caches and arena blocks,
// below every peer's separate-mapping threshold.
#include "workloads/workload.h"

namespace allocbench {
namespace {

constexpr uint64_t kBurstBytes = uint64_t{32} << 20;  // Live bytes a burst reaches.
constexpr uint64_t kMinSize = 16, kMaxSize = 8192;

class BurstIdle : public Workload {
 public:
  const char* name() const override { return "burst_idle"; }
  const char* description() const override {
    return "bursts to 32 MiB live, all freed (random order); the settle delay is the idle";
  }
  WorkloadRequirements requirements(const std::string&) const override {
    WorkloadRequirements r = natural_requirements(kMaxSize);
    r.record_phase_rss = true;
    return r;
  }

  void generate(const TraceParams&, Rng& rng, TraceBuilder& b) const override {
    MappedArray<uint32_t> order;
    while (b.can_alloc()) {
      uint64_t live = 0;
      while (live < kBurstBytes && b.can_alloc()) {
        const uint64_t size = rng.log_uniform(kMinSize, kMaxSize);
        b.alloc(size, natural_alignment(size));
        live += size;
      }
      // Free the whole burst in a random order (Fisher-Yates).
      order.clear();
      for (size_t i = 0; i < b.live_count(); ++i) order.push_back(b.live_slot(i));
      for (size_t i = order.size(); i > 1; --i) {
        const size_t j = static_cast<size_t>(rng.below(i));
        const uint32_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
      }
      for (uint32_t s : order) b.free(s);
      if (!b.has_room()) break;
      b.phase();
    }
  }
};

}  // namespace

const Workload* burst_idle_workload() {
  static const BurstIdle w;
  return &w;
}

}  // namespace allocbench
