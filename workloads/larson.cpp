// larson: the server benchmark of Larson & Krishnan ("Memory allocation for
// long-running server applications", ISMM 1998), written from its published
// description. Each thread owns an array of slots holding blocks of random
// sizes (uniform in the profile's range). A round replaces K random slots of
// the array: free the block there, allocate one of a new random size. After a
// round the array goes to another thread, which continues on it; in the
// original a new thread takes over, here (a fixed set of threads) thread i
// pushes every block of its array through channel i to thread i+1 (mod T) and
// takes over the array of thread i-1. So the blocks thread i allocated are
// freed by thread i+1, or later ones, at a steady rate, among many frees of its
// own: the remote-free path and the memory it may strand.
//
// The replacements of array a in round r are drawn from a generator of
// (seed, profile, a, r), and every thread replays the replacements of every
// array (without emitting them), so it knows the size of each block it is
// handed. That costs T times the thread's own draws, before the clock.
//
// `default`: 10-500 B, 1000 slots, K = 10 x 1000 replacements a round.
// `small`: 8-16 B, the same shape. K shrinks (down to about the slot count)
// when the op budget would leave fewer than 4 rounds, so short runs still
// hand arrays over; the budget's last ops are replacements without a handoff.
#include <algorithm>

#include "workloads/workload.h"

namespace allocbench {
namespace {

// Slots per array. At most a channel's capacity (1024 blocks in the runner), so
// a thread can push its whole array before the next thread pops any of it
// (with one thread, the thread hands the array to itself).
constexpr uint64_t kSlots = 1000;
constexpr uint64_t kReplacementsPerSlot = 10;  // K / slots per round.
constexpr uint64_t kMinRounds = 4;

struct LarsonShape {
  uint64_t lo, hi;  // Block sizes, uniform in [lo, hi].
};

// The numbers of one trace, the same for every thread of a run.
struct LarsonPlan {
  uint64_t slots = 0;      // Blocks per array.
  uint64_t per_round = 0;  // Replacements per round (K).
  uint64_t rounds = 0;
  uint64_t tail = 0;  // Replacements after the last handoff.
};

LarsonPlan plan_for(uint64_t budget) {
  LarsonPlan p;
  p.slots = std::min<uint64_t>(kSlots, budget / 16);
  if (p.slots == 0) return p;
  // The fill and the final frees take 2 x slots ops; a round takes
  // 2 x K (free, alloc) + 2 x slots (push, pop).
  const uint64_t room = budget - 2 * p.slots;
  const uint64_t k_for_min_rounds = (room / kMinRounds - 2 * p.slots) / 2;
  p.per_round = std::max<uint64_t>(1, std::min(kReplacementsPerSlot * p.slots, k_for_min_rounds));
  const uint64_t round_ops = 2 * p.per_round + 2 * p.slots;
  p.rounds = room / round_ops;
  p.tail = (room - p.rounds * round_ops) / 2;
  return p;
}

class Larson : public Workload {
 public:
  const char* name() const override { return "larson"; }
  const char* description() const override {
    return "threads replace random slots of their array, then hand it to the next thread";
  }
  std::vector<std::string> profiles() const override { return {"default", "small"}; }
  WorkloadRequirements requirements(const std::string& profile) const override {
    WorkloadRequirements r = natural_requirements(shape(profile).hi);
    r.cross_thread_frees = true;
    return r;
  }
  void generate(const TraceParams& p, Rng&, TraceBuilder& b) const override {
    const LarsonShape s = shape(p.profile);
    const LarsonPlan plan = plan_for(b.budget());
    if (plan.slots == 0) return;
    const uint32_t threads = p.threads == 0 ? 1 : p.threads;
    const uint64_t base = mix64(p.seed) ^ mix64(hash_string(p.profile.c_str()) + 0x1a550);
    // sizes[a * slots + j]: the size of slot j of array a, for every array.
    MappedArray<uint64_t> sizes;
    sizes.resize_zeroed(threads * plan.slots);
    for (uint32_t a = 0; a < threads; ++a) {
      Rng g = round_rng(base, a, 0);
      for (uint64_t j = 0; j < plan.slots; ++j) sizes[a * plan.slots + j] = g.range(s.lo, s.hi);
    }
    const uint32_t me = p.thread_index;
    const uint16_t out = static_cast<uint16_t>(me);
    const uint16_t in = static_cast<uint16_t>((me + threads - 1) % threads);
    uint32_t held = me;             // The array this thread holds: me - r (mod T) in round r.
    MappedArray<uint32_t> slot_of;  // Position in the array -> builder slot.
    slot_of.resize_zeroed(plan.slots);
    for (uint64_t j = 0; j < plan.slots; ++j) {
      const uint64_t size = sizes[held * plan.slots + j];
      slot_of[j] = b.alloc(size, natural_alignment(size));
    }
    for (uint64_t r = 0; r < plan.rounds; ++r) {
      for (uint32_t a = 0; a < threads; ++a) {
        replace(base, a, r + 1, plan.per_round, s, sizes, plan.slots,
                a == held ? &slot_of : nullptr, b);
      }
      for (uint64_t j = 0; j < plan.slots; ++j) b.push(slot_of[j], out);
      held = (held + threads - 1) % threads;
      for (uint64_t j = 0; j < plan.slots; ++j) {
        const uint64_t size = sizes[held * plan.slots + j];
        slot_of[j] = b.pop(size, natural_alignment(size), in);
      }
    }
    replace(base, held, plan.rounds + 1, plan.tail, s, sizes, plan.slots, &slot_of, b);
  }

 private:
  static LarsonShape shape(const std::string& profile) {
    if (profile == "small") return {8, 16};
    return {10, 500};
  }
  // The generator of array a's replacements in round r (0: its first fill).
  static Rng round_rng(uint64_t base, uint32_t a, uint64_t r) {
    return Rng(base ^ mix64((uint64_t{a} << 40) ^ r));
  }
  // Replays `count` replacements of array a in round r on `sizes`; emits
  // them too when this thread holds the array (`slot_of` is then non-null).
  static void replace(uint64_t base, uint32_t a, uint64_t r, uint64_t count, LarsonShape s,
                      MappedArray<uint64_t>& sizes, uint64_t slots, MappedArray<uint32_t>* slot_of,
                      TraceBuilder& b) {
    Rng g = round_rng(base, a, r);
    for (uint64_t k = 0; k < count; ++k) {
      const uint64_t j = g.below(slots);
      const uint64_t size = g.range(s.lo, s.hi);
      sizes[a * slots + j] = size;
      if (slot_of == nullptr) continue;
      b.free((*slot_of)[j]);
      (*slot_of)[j] = b.alloc(size, natural_alignment(size));
    }
  }
};

}  // namespace

const Workload* larson_workload() {
  static const Larson w;
  return &w;
}

}  // namespace allocbench
