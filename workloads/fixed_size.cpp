// fixed_size and fixed_size_calloc: the pool seed's head-to-head (seed 000).
// Every request has the profile's block size (64, 256 or 4096 bytes). The
// first half of the budget is allocate/free pairs (the single-operation cost);
// the second half is batches of "allocate 10,000 blocks, then free them all"
// in a random order (the batch cost). A phase boundary follows every 4096 pairs and every batch,
// so a reset-only allocator stays bounded. fixed_size_calloc asks for zeroed
// blocks (calloc) instead.
#include "workloads/workload.h"

namespace allocbench {
namespace {

constexpr uint64_t kBatch = 10000;
constexpr uint64_t kPairsPerPhase = 4096;

uint64_t block_size(const std::string& profile) {
  if (profile == "256") return 256;
  if (profile == "4096") return 4096;
  return 64;
}

class FixedSize : public Workload {
 public:
  explicit FixedSize(bool zeroed) : zeroed_(zeroed) {}
  const char* name() const override { return zeroed_ ? "fixed_size_calloc" : "fixed_size"; }
  const char* description() const override {
    return zeroed_ ? "calloc of one block size: pairs, then allocate 10k and free all"
                   : "one block size (64/256/4096 B): pairs, then allocate 10k and free all";
  }
  std::vector<std::string> profiles() const override { return {"64", "256", "4096"}; }
  WorkloadRequirements requirements(const std::string& profile) const override {
    WorkloadRequirements r;
    r.max_size = r.fixed_size = block_size(profile);
    r.max_alignment = 16;
    r.resets_at_phases = true;
    return r;
  }

  void generate(const TraceParams& p, Rng& rng, TraceBuilder& b) const override {
    const uint64_t size = block_size(p.profile);
    auto alloc = [&] { return zeroed_ ? b.calloc(size, 16) : b.alloc(size, 16); };
    const uint64_t half = b.budget() / 2;
    uint64_t pairs = 0;
    while (b.emitted() + 3 <= half && b.can_alloc()) {
      b.free(alloc());
      if (++pairs % kPairsPerPhase == 0) b.phase();
    }
    if (b.has_room()) b.phase();
    MappedArray<uint32_t> batch;
    while (b.can_alloc()) {
      for (uint64_t i = 0; i < kBatch && b.can_alloc(); ++i) batch.push_back(alloc());
      while (!batch.empty()) {
        size_t i = rng.below(batch.size());
        b.free(batch[i]);
        batch[i] = batch.back();
        batch.pop_back();
      }
      if (!b.has_room()) break;
      b.phase();
    }
  }

 private:
  bool zeroed_;
};

}  // namespace

const Workload* fixed_size_workload() {
  static const FixedSize w(false);
  return &w;
}
const Workload* fixed_size_calloc_workload() {
  static const FixedSize w(true);
  return &w;
}

}  // namespace allocbench
