// cross_thread: producer/consumer pairs. Even threads allocate blocks
// (16 B-4 KiB, log-uniform) and hand them to their partner (the next odd
// thread) through a bounded channel, in bursts of 1-64; the partner frees them.
// Every block is freed by a thread other than the one that allocated it: the
// remote-free path of thread-caching allocators.
#include "workloads/workload.h"

namespace allocbench {
namespace {

class CrossThread : public Workload {
 public:
  const char* name() const override { return "cross_thread"; }
  const char* description() const override {
    return "producer threads allocate, consumer threads free (even thread counts)";
  }
  WorkloadRequirements requirements(const std::string&) const override {
    WorkloadRequirements r;
    r.max_size = 4096;
    r.max_alignment = 16;
    r.cross_thread_frees = true;
    r.even_threads = true;
    return r;
  }
  void generate(const TraceParams& p, Rng&, TraceBuilder& b) const override {
    // Producer and consumer draw the same burst and size sequence from the
    // pair's own generator, so their traces match block for block.
    const uint32_t pair = p.thread_index / 2;
    const bool producer = p.thread_index % 2 == 0;
    Rng rng(mix64(p.seed) ^ mix64(0xc0ffee + pair));
    const uint16_t channel = static_cast<uint16_t>(pair);
    uint64_t blocks = b.budget() / 2;
    MappedArray<uint32_t> burst;
    while (blocks > 0) {
      uint64_t n = rng.range(1, 64);
      if (n > blocks) n = blocks;
      blocks -= n;
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t size = rng.log_uniform(16, 4096);
        if (producer) {
          b.push(b.alloc(size, 16), channel);
        } else {
          burst.push_back(b.pop(size, 16, channel));
        }
      }
      for (uint32_t slot : burst) b.free(slot);
      burst.clear();
    }
  }
};

}  // namespace

const Workload* cross_thread_workload() {
  static const CrossThread w;
  return &w;
}

}  // namespace allocbench
