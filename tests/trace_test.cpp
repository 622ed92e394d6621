// Trace determinism and invariants for every workload and profile.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "workloads/workload.h"

namespace allocbench {
namespace {

struct Case {
  const Workload* w;
  std::string profile;
};

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (const Workload* w : workload_registry()) {
    for (const std::string& p : w->profiles()) out.push_back({w, p});
  }
  return out;
}

ThreadTrace gen(const Case& c, uint64_t seed, uint32_t thread, uint64_t ops) {
  return generate_trace(*c.w, TraceParams{c.profile, seed, thread, 2, ops});
}

TEST(Trace, SameSeedSameHashOtherSeedOtherHash) {
  for (const Case& c : all_cases()) {
    SCOPED_TRACE(std::string(c.w->name()) + "/" + c.profile);
    ThreadTrace a = gen(c, 42, 0, 20000);
    ThreadTrace b = gen(c, 42, 0, 20000);
    ThreadTrace other_seed = gen(c, 43, 0, 20000);
    ThreadTrace other_thread = gen(c, 42, 1, 20000);
    EXPECT_EQ(a.hash, b.hash);
    ASSERT_EQ(a.ops.size(), b.ops.size());
    for (size_t i = 0; i < a.ops.size(); ++i) {
      ASSERT_EQ(a.ops[i].size, b.ops[i].size);
      ASSERT_EQ(a.ops[i].slot, b.ops[i].slot);
      ASSERT_EQ(a.ops[i].kind, b.ops[i].kind);
    }
    if (c.w->seeded()) {
      EXPECT_NE(a.hash, other_seed.hash);
      EXPECT_NE(a.hash, other_thread.hash);
    } else {
      EXPECT_EQ(a.hash, other_seed.hash) << "declared unseeded";
    }
  }
}

TEST(Trace, WorkloadsDifferForTheSameSeed) {
  std::set<uint64_t> hashes;
  std::vector<Case> cases = all_cases();
  for (const Case& c : cases) {
    hashes.insert(gen(c, 7, 0, 5000).hash);
  }
  EXPECT_EQ(hashes.size(), cases.size());
}

// Pins the generators: any change to a trace changes this value, so results
// from different versions are never silently compared. Integer-only
// generation makes it the same on every machine.
TEST(Trace, GoldenHash) {
  const Workload* w = find_workload("rl_churn");
  ASSERT_NE(w, nullptr);
  ThreadTrace t = generate_trace(*w, TraceParams{"default", 1337, 0, 1, 10000});
  EXPECT_EQ(t.hash, 0x89c9da09bad0f2e1ull) << std::hex << "actual 0x" << t.hash;
}

// Producer and consumer traces of a pair hand over the same blocks in the
// same order, so the replay can never wait forever.
TEST(Trace, CrossThreadPairsMatch) {
  const Workload* w = find_workload("cross_thread");
  ASSERT_NE(w, nullptr);
  for (uint32_t pair = 0; pair < 2; ++pair) {
    ThreadTrace prod = generate_trace(*w, TraceParams{"default", 3, 2 * pair, 4, 5001});
    ThreadTrace cons = generate_trace(*w, TraceParams{"default", 3, 2 * pair + 1, 4, 5001});
    std::vector<uint64_t> pushed, popped;
    for (const Op& op : prod.ops) {
      EXPECT_NE(op.kind, OpKind::kFree) << "a producer frees nothing itself";
      if (op.kind == OpKind::kPush) {
        pushed.push_back(op.size);
        EXPECT_EQ(op.channel, pair);
      }
    }
    for (const Op& op : cons.ops) {
      EXPECT_NE(op.kind, OpKind::kAlloc) << "a consumer allocates nothing itself";
      if (op.kind == OpKind::kPop) {
        popped.push_back(op.size);
        EXPECT_EQ(op.channel, pair);
      }
    }
    EXPECT_GT(pushed.size(), 1000u);
    EXPECT_EQ(pushed, popped);
  }
}

TEST(Trace, InvariantsHold) {
  for (const Case& c : all_cases()) {
    for (uint64_t ops : {1ull, 2ull, 3ull, 101ull, 30000ull}) {
      SCOPED_TRACE(std::string(c.w->name()) + "/" + c.profile + " ops=" + std::to_string(ops));
      ThreadTrace t = gen(c, 9, 0, ops);
      WorkloadRequirements req = c.w->requirements(c.profile);
      EXPECT_LE(t.ops.size(), ops);
      if (ops >= 101) {
        // Fills the budget (fixed patterns to within their per-step rounding).
        EXPECT_GE(t.ops.size(), ops - ops / 50 - 64);
      }
      std::vector<char> live(t.slot_count, 0);
      std::vector<uint64_t> size(t.slot_count, 0);
      uint64_t live_bytes = 0, peak = 0, live_count = 0;
      uint64_t allocs = 0, frees = 0, pushes = 0, pops = 0;
      for (const Op& op : t.ops) {
        if (op.kind == OpKind::kToggle) {
          ASSERT_LT(op.slot, req.shared_slots);
          ASSERT_GE(op.size, 8u) << "a toggled block stores its size in its first 8 bytes";
          ASSERT_LE(op.size, req.max_size);
          continue;
        }
        if (op.kind != OpKind::kPhase) {
          ASSERT_LT(op.slot, t.slot_count);
        }
        switch (op.kind) {
          case OpKind::kAlloc:
          case OpKind::kCalloc:
          case OpKind::kPop:
            ASSERT_FALSE(live[op.slot]) << "alloc into a live slot";
            ASSERT_LE(op.size, req.max_size);
            ASSERT_LE(size_t{1} << op.align_log2, req.max_alignment);
            if (req.fixed_size) {
              ASSERT_EQ(op.size, req.fixed_size);
            }
            live[op.slot] = 1;
            size[op.slot] = op.size;
            live_bytes += op.size;
            ++live_count;
            if (op.kind == OpKind::kPop) {
              ++pops;
            } else {
              ++allocs;
            }
            break;
          case OpKind::kFree:
          case OpKind::kPush:
            ASSERT_TRUE(live[op.slot]) << "free of a slot that is not live";
            ASSERT_EQ(op.size, size[op.slot]) << "free names the wrong size";
            live[op.slot] = 0;
            live_bytes -= op.size;
            --live_count;
            if (op.kind == OpKind::kPush) {
              ++pushes;
            } else {
              ++frees;
            }
            break;
          case OpKind::kRealloc:
            ASSERT_TRUE(live[op.slot]) << "realloc of a slot that is not live";
            ASSERT_LE(op.size, req.max_size);
            live_bytes = live_bytes - size[op.slot] + op.size;
            size[op.slot] = op.size;
            break;
          case OpKind::kPhase:
            ASSERT_EQ(live_count, 0u) << "phase boundary with live blocks";
            break;
          case OpKind::kToggle:
            break;
        }
        if (live_bytes > peak) peak = live_bytes;
      }
      EXPECT_EQ(live_count, 0u) << "blocks still live at the end";
      EXPECT_EQ(allocs + pops, frees + pushes);
      EXPECT_EQ(pushes, t.pushes);
      EXPECT_EQ(pops, t.pops);
      EXPECT_EQ(allocs, t.allocs);
      EXPECT_EQ(peak, t.peak_live_bytes);
      if (req.resets_at_phases && ops >= 30000) {
        EXPECT_GT(t.phases, 0u);
      }
    }
  }
}

}  // namespace
}  // namespace allocbench
