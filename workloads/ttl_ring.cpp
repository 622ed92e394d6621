// ttl_ring: the ephemeral-object scenario (seed 002). Each operation step
// frees the objects whose time-to-live ends now and allocates one new object
// that lives a uniformly random 1..4095 steps, so about 2048 objects are live
// at any time and they die in an order unrelated to their birth. Sizes: 90%
// 16-512 B, 10% 513 B-16 KiB (log-uniform). Kept in a timing wheel of 4096
// buckets (a ring of slots indexed by expiry time).
#include "workloads/workload.h"

namespace allocbench {
namespace {

constexpr uint32_t kWheel = 4096;  // Ring size; TTLs are 1..kWheel-1 steps.
constexpr uint32_t kNone = UINT32_MAX;

class TtlRing : public Workload {
 public:
  const char* name() const override { return "ttl_ring"; }
  const char* description() const override {
    return "ephemeral ring: each object lives a random 1-4095 ops; 16 B-16 KiB";
  }
  WorkloadRequirements requirements(const std::string&) const override {
    WorkloadRequirements r;
    r.max_size = 16384;
    r.max_alignment = 16;
    return r;
  }

  void generate(const TraceParams&, Rng& rng, TraceBuilder& b) const override {
    MappedArray<uint32_t> head;  // Bucket -> first slot expiring there.
    head.resize_zeroed(kWheel);
    for (uint32_t& h : head) h = kNone;
    MappedArray<uint32_t> next;  // Slot -> next slot in the same bucket.
    for (uint64_t t = 0; b.has_room(); ++t) {
      uint32_t bucket = static_cast<uint32_t>(t % kWheel);
      for (uint32_t s = head[bucket]; s != kNone;) {
        uint32_t after = next[s];
        b.free(s);
        s = after;
      }
      head[bucket] = kNone;
      if (!b.can_alloc()) break;
      uint64_t size = rng.chance(9, 10) ? rng.log_uniform(16, 512) : rng.log_uniform(513, 16384);
      uint32_t slot = b.alloc(size, 16);
      if (slot >= next.size()) next.resize_zeroed(slot + 1);
      uint32_t expiry = static_cast<uint32_t>((t + rng.range(1, kWheel - 1)) % kWheel);
      next[slot] = head[expiry];
      head[expiry] = slot;
    }
  }
};

}  // namespace

const Workload* ttl_ring_workload() {
  static const TtlRing w;
  return &w;
}

}  // namespace allocbench
