// rl_churn: the allocation pattern of an RL / inference step loop.
//
// An episode is 8-32 steps. Each step allocates a burst of 16-128 small
// objects (16-512 B, log-uniform: tensor metadata, small activations); 3 in 4
// are temporaries freed at the end of the step (in random order), the rest are
// kept until the episode ends (rollout storage). Profile `default` also
// allocates 0-2 alignment-heavy buffers per step (4 KiB-1 MiB, log-uniform,
// 64-byte aligned); half are freed at the step's end, half kept to the
// episode's end. At the episode end everything is freed in one batch (random
// order) and a phase boundary is emitted. Profile `small` has no buffers.
#include "workloads/workload.h"

namespace allocbench {
namespace {

constexpr size_t kSmallAlign = 16;
constexpr size_t kBufferAlign = 64;
constexpr uint64_t kBufferMin = 4096;
constexpr uint64_t kBufferMax = uint64_t{1} << 20;

// Frees every slot in `slots` in a random order and empties it.
void free_shuffled(Rng& rng, TraceBuilder& b, MappedArray<uint32_t>& slots) {
  while (!slots.empty()) {
    size_t i = rng.below(slots.size());
    b.free(slots[i]);
    slots[i] = slots.back();
    slots.pop_back();
  }
}

class RlChurn : public Workload {
 public:
  const char* name() const override { return "rl_churn"; }
  const char* description() const override {
    return "RL/inference steps: small-object bursts, 64B-aligned 4KiB-1MiB buffers, batch frees";
  }
  std::vector<std::string> profiles() const override { return {"default", "small"}; }
  WorkloadRequirements requirements(const std::string& profile) const override {
    WorkloadRequirements r;
    r.max_size = profile == "small" ? 512 : kBufferMax;
    r.max_alignment = profile == "small" ? kSmallAlign : kBufferAlign;
    r.resets_at_phases = true;
    return r;
  }

  void generate(const TraceParams& p, Rng& rng, TraceBuilder& b) const override {
    const bool buffers = p.profile != "small";
    MappedArray<uint32_t> step_scope;     // Freed at the end of the step.
    MappedArray<uint32_t> episode_scope;  // Freed at the end of the episode.
    while (b.has_room()) {
      uint64_t steps = rng.range(8, 32);
      for (uint64_t s = 0; s < steps && b.can_alloc(); ++s) {
        uint64_t burst = rng.range(16, 128);
        for (uint64_t i = 0; i < burst && b.can_alloc(); ++i) {
          uint32_t slot = b.alloc(rng.log_uniform(16, 512), kSmallAlign);
          (rng.chance(3, 4) ? step_scope : episode_scope).push_back(slot);
        }
        if (buffers) {
          uint64_t n = rng.below(3);
          for (uint64_t i = 0; i < n && b.can_alloc(); ++i) {
            uint32_t slot = b.alloc(rng.log_uniform(kBufferMin, kBufferMax), kBufferAlign);
            (rng.chance(1, 2) ? step_scope : episode_scope).push_back(slot);
          }
        }
        free_shuffled(rng, b, step_scope);
      }
      free_shuffled(rng, b, episode_scope);
      if (!b.has_room()) break;
      b.phase();
    }
  }
};

}  // namespace

const Workload* rl_churn_workload() {
  static const RlChurn w;
  return &w;
}

}  // namespace allocbench
