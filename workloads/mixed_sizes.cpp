// mixed_sizes: random allocate / free / realloc around a target live-set
// size, freeing random live blocks (so holes appear everywhere). Profiles
// (seed 001): `small` sizes drawn from {8,16,24,32,64,128,256}, about 10k live;
// `mixed` 70% of those, 25% 257 B-32 KiB, 5% 32 KiB-1 MiB, about 4k live, 10%
// reallocs; `large` 4 KiB-4 MiB, about 256 live, 10% reallocs. Reallocs grow
// to 1.5x or shrink to 0.5x within the profile's size range.
#include "workloads/workload.h"

namespace allocbench {
namespace {

constexpr uint64_t kSmallSizes[] = {8, 16, 24, 32, 64, 128, 256};

struct Profile {
  uint64_t target_live;  // Live blocks the random walk hovers around.
  uint64_t realloc_pct;  // Percent of ops that are reallocs.
  uint64_t min_size;
  uint64_t max_size;
};

Profile profile_of(const std::string& name) {
  if (name == "small") return {10000, 0, 8, 256};
  if (name == "large") return {256, 10, 4096, uint64_t{4} << 20};
  return {4000, 10, 8, uint64_t{1} << 20};  // mixed
}

uint64_t draw_size(const std::string& profile, Rng& rng) {
  if (profile == "small") return kSmallSizes[rng.below(7)];
  if (profile == "large") return rng.log_uniform(4096, uint64_t{4} << 20);
  uint64_t r = rng.below(100);
  if (r < 70) return kSmallSizes[rng.below(7)];
  if (r < 95) return rng.log_uniform(257, 32768);
  return rng.log_uniform(32769, uint64_t{1} << 20);
}

class MixedSizes : public Workload {
 public:
  const char* name() const override { return "mixed_sizes"; }
  const char* description() const override {
    return "random alloc/free/realloc around a live-set target; profiles small, mixed, large";
  }
  std::vector<std::string> profiles() const override { return {"mixed", "small", "large"}; }
  WorkloadRequirements requirements(const std::string& profile) const override {
    WorkloadRequirements r;
    r.max_size = profile_of(profile).max_size;
    r.max_alignment = 16;
    return r;
  }

  void generate(const TraceParams& p, Rng& rng, TraceBuilder& b) const override {
    const Profile prof = profile_of(p.profile);
    while (b.has_room()) {
      size_t live = b.live_count();
      if (live > 0 && rng.below(100) < prof.realloc_pct) {
        uint32_t slot = b.live_slot(rng.below(live));
        uint64_t old = b.size_of(slot);
        uint64_t n = rng.chance(1, 2) ? old + old / 2 : old / 2;
        if (n < prof.min_size) n = prof.min_size;
        if (n > prof.max_size) n = prof.max_size;
        b.realloc(slot, n);
      } else if (live == 0 || (rng.below(2 * prof.target_live) >= live && b.can_alloc())) {
        if (!b.can_alloc()) break;
        uint64_t size = draw_size(p.profile, rng);
        b.alloc(size, natural_alignment(size));
      } else {
        b.free(b.live_slot(rng.below(live)));
      }
    }
  }
};

}  // namespace

const Workload* mixed_sizes_workload() {
  static const MixedSizes w;
  return &w;
}

}  // namespace allocbench
