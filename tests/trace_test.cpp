// Trace determinism and invariants for every workload and profile.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>
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

// Pins every generator: the run trace hash of each workload and profile for a
// 2-thread run at seed 1337 with 4000 ops per thread (what `allocbench run
// --threads 2 --seed 1337 --ops 4000` records in results.csv's trace_hash). Any change to a trace changes its value, so
// results of different generator versions are never silently compared, and a
// new workload or profile fails until it is pinned too.
//
// To change a generator on purpose: make the change, run
//   build/tests/trace_test --gtest_filter=Trace.GoldenHashOfEveryWorkloadAndProfile
// which prints the table line of every case whose hash differs (or is
// missing), paste those lines here, and say in the commit which traces
// changed and why: rows recorded before hold other traces, and
// `allocbench run --resume` refuses to mix them.
struct Golden {
  const char* workload;
  const char* profile;
  uint64_t hash;
};
constexpr Golden kGolden[] = {
    {"rl_churn", "default", 0x4ea24cd870a87810ull},
    {"rl_churn", "small", 0x7e046de79fe73658ull},
    {"ttl_ring", "default", 0xfcec62f733bbe537ull},
    {"mixed_sizes", "mixed", 0x78481211262a704aull},
    {"mixed_sizes", "small", 0x92d4445cc42cd8ceull},
    {"mixed_sizes", "large", 0x48a7298e5f3d4d86ull},
    {"fixed_size", "64", 0xefcf09b56b8b0171ull},
    {"fixed_size", "256", 0x9a8586f94a1790ecull},
    {"fixed_size", "4096", 0xce5e1dbc89f6ac29ull},
    {"fixed_size_calloc", "64", 0x0a1af8e5c58fa8b3ull},
    {"fixed_size_calloc", "256", 0x2128840154e7c8f8ull},
    {"fixed_size_calloc", "4096", 0x6229e3c953bf72a5ull},
    {"contention", "default", 0xb494bca068480da7ull},
    {"cross_thread", "default", 0x3bb2012e07e97923ull},
    {"basic_concurrency", "default", 0x37513ac46b8cf321ull},
    {"large_concurrency", "default", 0x282be316953ae97aull},
    {"size_ramp", "alloc_all", 0x9eba423091f0d0a9ull},
    {"size_ramp", "immediate", 0x63dd194c98504875ull},
    {"size_ramp", "reversed", 0xef69dbc5f5ff4301ull},
    {"scatter_sizes", "default", 0xce9d85816205e01dull},
    {"sparse_sizes", "default", 0x5df428692e183df8ull},
};

uint64_t run_trace_hash(const Workload& w, const std::string& profile) {
  uint64_t hashes[2];
  for (uint32_t t = 0; t < 2; ++t) {
    hashes[t] = generate_trace(w, TraceParams{profile, 1337, t, 2, 4000}).hash;
  }
  return combine_trace_hashes(hashes, 2);
}

std::string golden_line(const std::string& workload, const std::string& profile, uint64_t h) {
  char line[160];
  std::snprintf(line, sizeof line, "    {\"%s\", \"%s\", 0x%016llxull},", workload.c_str(),
                profile.c_str(), static_cast<unsigned long long>(h));
  return line;
}

TEST(Trace, GoldenHashOfEveryWorkloadAndProfile) {
  std::set<std::string> pinned;
  for (const Golden& g : kGolden) {
    EXPECT_TRUE(pinned.insert(std::string(g.workload) + ":" + g.profile).second)
        << "pinned twice: " << g.workload << ":" << g.profile;
    const Workload* w = find_workload(g.workload);
    ASSERT_NE(w, nullptr) << "pinned workload " << g.workload << " does not exist";
    ASSERT_TRUE(has_profile(*w, g.profile))
        << "pinned " << g.workload << ":" << g.profile << " does not exist";
    uint64_t h = run_trace_hash(*w, g.profile);
    EXPECT_EQ(h, g.hash) << "trace changed; if on purpose, pin:\n"
                         << golden_line(g.workload, g.profile, h);
  }
  for (const Case& c : all_cases()) {
    EXPECT_EQ(pinned.count(std::string(c.w->name()) + ":" + c.profile), 1u)
        << "no golden hash; pin:\n"
        << golden_line(c.w->name(), c.profile, run_trace_hash(*c.w, c.profile));
  }
  EXPECT_GT(pinned.size(), 0u);
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
