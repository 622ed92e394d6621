// xmalloc: the producer/consumer test of Lever & Boreham ("malloc()
// Performance in a Multithreaded Linux Environment", USENIX 2000), written from
// its published description: some threads only allocate, the others only free
// what those allocated, as fast as they can. Even threads are producers, odd
// threads consumers (T/2 of each). Producer p allocates one block (8-512 B,
// log-uniform) at a time and hands it at once to a consumer, a different one
// each time in turn: its k-th block goes to consumer (p + k mod F) mod T/2,
// F = min(T/2, 8), through the channel of that (producer, consumer) pair. A
// consumer takes one block at a time, from each of its F producers in turn,
// and frees it at once. With 4 or more threads every consumer frees blocks of
// several producers, interleaved.
//
// Unlike cross_thread (fixed pairs, bursts of up to 64, up to 4 KiB), there
// is no batching: every block makes one trip and meets the remote-free path
// alone. Producer p's sizes come from a generator of (seed, p); a consumer
// runs every producer's generator in step, so it knows each size it frees.
#include <algorithm>

#include "workloads/workload.h"

namespace allocbench {
namespace {

constexpr uint64_t kMinSize = 8, kMaxSize = 512;
constexpr uint32_t kFanOut = 8;  // Consumers a producer feeds in turn (channels: T/2 x this).

class Xmalloc : public Workload {
 public:
  const char* name() const override { return "xmalloc"; }
  const char* description() const override {
    return "producer threads allocate, consumer threads free each block at once (even threads)";
  }
  WorkloadRequirements requirements(const std::string&) const override {
    WorkloadRequirements r = natural_requirements(kMaxSize);
    r.cross_thread_frees = true;
    r.even_threads = true;
    return r;
  }
  void generate(const TraceParams& p, Rng&, TraceBuilder& b) const override {
    const uint32_t pairs = p.threads / 2;
    const uint32_t me = p.thread_index / 2;
    if (me >= pairs) return;  // The odd one out of an odd thread count (never run).
    const bool producer = p.thread_index % 2 == 0;
    const uint32_t fan = std::min(pairs, kFanOut);
    // The size generators this thread follows: its own (producer), or those of
    // the producers it takes from, (me - j) mod pairs for shift j (consumer).
    MappedArray<Rng> gens(fan);
    for (uint32_t j = 0; j < (producer ? 1 : fan); ++j) {
      gens.push_back(size_rng(p.seed, producer ? me : (me + pairs - j) % pairs));
    }
    const uint64_t blocks = b.budget() / 2;  // Two ops each: alloc and push, or pop and free.
    for (uint64_t k = 0; k < blocks; ++k) {
      // Round k: producer q hands its block to consumer (q + shift) mod pairs.
      const uint32_t shift = static_cast<uint32_t>(k % fan);
      if (producer) {
        const uint64_t size = gens[0].log_uniform(kMinSize, kMaxSize);
        b.push(b.alloc(size, natural_alignment(size)), static_cast<uint16_t>(me * fan + shift));
        continue;
      }
      uint64_t size = 0;
      for (uint32_t j = 0; j < fan; ++j) {
        const uint64_t s = gens[j].log_uniform(kMinSize, kMaxSize);  // Every producer draws.
        if (j == shift) size = s;
      }
      const uint32_t from = (me + pairs - shift) % pairs;
      b.free(b.pop(size, natural_alignment(size), static_cast<uint16_t>(from * fan + shift)));
    }
  }

 private:
  static Rng size_rng(uint64_t seed, uint32_t producer) {
    return Rng(mix64(seed) ^ mix64(0x3a110c + producer));
  }
};

}  // namespace

const Workload* xmalloc_workload() {
  static const Xmalloc w;
  return &w;
}

}  // namespace allocbench
