// cache_thrash and cache_scratch: the false-sharing tests of the Hoard paper
// (Berger, McKinley, Blumofe & Wilson, ASPLOS 2000), written from their
// published description. Both repeat, on every thread: allocate an 8-byte
// object, write it W times (one kWrite op: a load and a store of its first 8
// bytes each time), free it. Writes from two cores to one cache line make the
// line move between their caches on every write: the test measures whether
// the allocator puts different threads' objects on one line.
//
// cache_thrash (active false sharing): the threads only run that loop. An
// allocator that serves concurrent threads' requests from one heap can hand
// neighbouring 8-byte objects to different threads.
//
// cache_scratch (passive false sharing): first thread 0 allocates T objects one
// after the other (neighbours in most allocators), keeps the first and hands
// object k to thread k through channel k. Every thread frees the object it
// holds, then runs the loop. An allocator that gives a freed block to the
// thread that freed it (a per-thread cache) hands each thread its neighbour's
// line again and again; one that returns it to its owner does not.
//
// `default`: W = 100; `long`: W = 1000 (the writes dominate, as in the
// paper's setup). A phase boundary every 256 objects (nothing is live there),
// so allocators that free only by reset can run them too. The traces do not
// depend on the seed.
#include "workloads/workload.h"

namespace allocbench {
namespace {

constexpr uint64_t kObjectSize = 8;
constexpr uint64_t kObjectsPerPhase = 256;

class FalseSharing : public Workload {
 public:
  explicit FalseSharing(bool scratch) : scratch_(scratch) {}
  const char* name() const override { return scratch_ ? "cache_scratch" : "cache_thrash"; }
  const char* description() const override {
    return scratch_
               ? "passive false sharing: objects handed between threads, freed, reused, written"
               : "active false sharing: every thread allocates, writes and frees 8-byte objects";
  }
  std::vector<std::string> profiles() const override { return {"default", "long"}; }
  WorkloadRequirements requirements(const std::string&) const override {
    WorkloadRequirements r = natural_requirements(kObjectSize);
    r.fixed_size = kObjectSize;
    r.resets_at_phases = true;
    r.cross_thread_frees = scratch_;
    return r;
  }
  bool seeded() const override { return false; }
  void generate(const TraceParams& p, Rng&, TraceBuilder& b) const override {
    const uint64_t writes = p.profile == "long" ? 1000 : 100;
    if (scratch_) hand_over(p, b);
    for (uint64_t n = 1; b.emitted() + 3 <= b.budget(); ++n) {
      const uint32_t slot = b.alloc(kObjectSize, natural_alignment(kObjectSize));
      b.write(slot, writes);
      b.free(slot);
      if (n % kObjectsPerPhase == 0 && b.has_room()) b.phase();
    }
  }

 private:
  // cache_scratch's start: thread 0's objects go out one to a thread, and each
  // thread frees its own. Skipped by every thread alike when the budget is too
  // small for thread 0's share (2T ops).
  static void hand_over(const TraceParams& p, TraceBuilder& b) {
    const uint32_t threads = p.threads == 0 ? 1 : p.threads;
    if (b.budget() < 2ull * threads + 1) return;
    uint32_t mine;
    if (p.thread_index == 0) {
      MappedArray<uint32_t> objects(threads);
      for (uint32_t k = 0; k < threads; ++k) {
        objects.push_back(b.alloc(kObjectSize, natural_alignment(kObjectSize)));
      }
      for (uint32_t k = 1; k < threads; ++k) b.push(objects[k], static_cast<uint16_t>(k));
      mine = objects[0];
    } else {
      mine =
          b.pop(kObjectSize, natural_alignment(kObjectSize), static_cast<uint16_t>(p.thread_index));
    }
    b.free(mine);
  }

  bool scratch_;
};

}  // namespace

const Workload* cache_thrash_workload() {
  static const FalseSharing w(false);
  return &w;
}
const Workload* cache_scratch_workload() {
  static const FalseSharing w(true);
  return &w;
}

}  // namespace allocbench
