// basic_concurrency and large_concurrency: the seed 002 concurrency tests.
// All threads share one table of pointer slots; each operation picks a random
// slot and toggles it: if it holds a block, the thread takes it and frees it,
// otherwise it allocates a block and publishes it there. Which thread frees
// which block is decided by the interleaving, so most frees are cross-thread
// when T > 1. Each slot always gets the same size (a function of the slot), so
// the live bytes never exceed the sum over slots, which the runner reports as
// peak_live_bytes (an upper bound; a slot is full about half the time).
//
// basic_concurrency: 8192 slots, 16-1024 B. large_concurrency: 65536 slots,
// 16 B-64 KiB (10% above 4 KiB); the seed ran 512 threads x 1M ops, the make
// target `bench_detailed` scales that to 8 threads x 200k ops on 2 cores.
#include "workloads/workload.h"

namespace allocbench {
namespace {

class SharedSlots : public Workload {
 public:
  explicit SharedSlots(bool large) : large_(large) {}
  const char* name() const override { return large_ ? "large_concurrency" : "basic_concurrency"; }
  const char* description() const override {
    return large_ ? "many threads toggling 65536 shared slots (16 B-64 KiB)"
                  : "threads toggling 8192 shared pointer slots (16-1024 B)";
  }
  WorkloadRequirements requirements(const std::string&) const override {
    WorkloadRequirements r;
    r.max_size = large_ ? 65536 : 1024;
    r.max_alignment = 16;
    r.cross_thread_frees = true;
    r.shared_slots = slots();
    return r;
  }
  void generate(const TraceParams&, Rng& rng, TraceBuilder& b) const override {
    while (b.has_room()) {
      uint32_t slot = static_cast<uint32_t>(rng.below(slots()));
      b.toggle(slot, slot_size(slot));
    }
  }

 private:
  uint32_t slots() const { return large_ ? 65536 : 8192; }
  // A fixed size per slot, spread log-uniformly by hashing the slot number.
  uint64_t slot_size(uint32_t slot) const {
    Rng r(mix64(0x5107 + slot));
    if (!large_) return r.log_uniform(16, 1024);
    return r.chance(9, 10) ? r.log_uniform(16, 4096) : r.log_uniform(4097, 65536);
  }
  bool large_;
};

}  // namespace

const Workload* basic_concurrency_workload() {
  static const SharedSlots w(false);
  return &w;
}
const Workload* large_concurrency_workload() {
  static const SharedSlots w(true);
  return &w;
}

}  // namespace allocbench
