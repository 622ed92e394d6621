// Trace determinism and invariants for every workload and profile.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runner/replay.h"
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
    {"larson", "default", 0x9146b052256f92ddull},
    {"larson", "small", 0x854995b2a3acf613ull},
    {"xmalloc", "default", 0xcbc8876bdc528fddull},
    {"cache_scratch", "default", 0xf1f0224be3887ddeull},
    {"cache_scratch", "long", 0x9007839304c6c2e8ull},
    {"cache_thrash", "default", 0x648fdced1ae385e5ull},
    {"cache_thrash", "long", 0xb59403b99c48f2a9ull},
    {"burst_idle", "default", 0x538898e41009ade3ull},
    {"large_churn", "default", 0xc04493de12ba8185ull},
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

// All threads' traces of one run.
std::vector<ThreadTrace> run_traces(const Workload& w, const std::string& profile, uint32_t threads,
                                    uint64_t ops) {
  std::vector<ThreadTrace> out;
  for (uint32_t t = 0; t < threads; ++t) {
    out.push_back(generate_trace(w, TraceParams{profile, 5, t, threads, ops}));
  }
  return out;
}

// Plays the channel ops of a run's traces on one core, each thread as far as
// it can go in turn (a push waits while its channel holds Channel::kCapacity
// blocks, a pop while it is empty), and checks that every channel has one
// producer and one consumer, that the consumer gets the producer's blocks in
// order with their sizes, and that every thread reaches its end. Threads with
// bounded FIFO channels end in the same state under every schedule, so the
// replay cannot wait forever either.
void expect_channels_complete(const std::vector<ThreadTrace>& traces) {
  struct Sim {
    int producer = -1, consumer = -1;
    std::deque<uint64_t> sizes;  // Blocks in the channel.
  };
  std::map<uint16_t, Sim> channels;
  std::vector<size_t> pc(traces.size(), 0);
  for (bool moved = true; moved;) {
    moved = false;
    for (size_t t = 0; t < traces.size(); ++t) {
      const int me = static_cast<int>(t);
      for (; pc[t] < traces[t].ops.size(); ++pc[t], moved = true) {
        const Op& op = traces[t].ops[pc[t]];
        if (op.kind != OpKind::kPush && op.kind != OpKind::kPop) continue;
        Sim& c = channels[op.channel];
        int& side = op.kind == OpKind::kPush ? c.producer : c.consumer;
        ASSERT_TRUE(side == -1 || side == me)
            << "channel " << op.channel << " has two "
            << (op.kind == OpKind::kPush ? "producers" : "consumers");
        side = me;
        if (op.kind == OpKind::kPush) {
          if (c.sizes.size() >= detail::Channel::kCapacity) break;
          c.sizes.push_back(op.size);
        } else {
          if (c.sizes.empty()) break;
          ASSERT_EQ(c.sizes.front(), op.size) << "thread " << t << " pops another block";
          c.sizes.pop_front();
        }
      }
    }
  }
  for (size_t t = 0; t < traces.size(); ++t) {
    EXPECT_EQ(pc[t], traces[t].ops.size()) << "thread " << t << " would wait forever";
  }
  for (const auto& [id, c] : channels) {
    EXPECT_TRUE(c.sizes.empty()) << "channel " << id << " ends with blocks nobody takes";
    EXPECT_NE(c.consumer, -1) << "channel " << id << " has no consumer";
  }
}

TEST(Trace, ChannelTracesMatchBlockForBlockAndRunToTheEnd) {
  for (const Case& c : all_cases()) {
    const bool even = c.w->requirements(c.profile).even_threads;
    for (uint32_t threads : {1u, 2u, 3u, 4u, 8u}) {
      if (even && threads % 2 != 0) continue;
      for (uint64_t ops : {101ull, 30000ull}) {
        SCOPED_TRACE(std::string(c.w->name()) + "/" + c.profile + " T=" + std::to_string(threads) +
                     " ops=" + std::to_string(ops));
        expect_channels_complete(run_traces(*c.w, c.profile, threads, ops));
      }
    }
  }
}

// larson: thread t hands its whole array to thread t+1 after every round, so
// it frees blocks other threads allocated among its own.
TEST(Trace, LarsonHandsWholeArraysToTheNextThread) {
  const Workload* w = find_workload("larson");
  ASSERT_NE(w, nullptr);
  for (uint32_t threads : {1u, 3u}) {
    std::vector<ThreadTrace> traces = run_traces(*w, "default", threads, 200000);
    for (uint32_t t = 0; t < threads; ++t) {
      SCOPED_TRACE("T=" + std::to_string(threads) + " thread " + std::to_string(t));
      const ThreadTrace& tr = traces[t];
      std::vector<char> received(tr.slot_count, 0);
      uint64_t remote_frees = 0;
      for (const Op& op : tr.ops) {
        if (op.kind == OpKind::kPush) {
          EXPECT_EQ(op.channel, t);
        }
        if (op.kind == OpKind::kPop) {
          EXPECT_EQ(op.channel, (t + threads - 1) % threads);
        }
        if (op.kind == OpKind::kAlloc || op.kind == OpKind::kPop) {
          received[op.slot] = op.kind == OpKind::kPop;
        }
        if (op.kind == OpKind::kFree && received[op.slot]) ++remote_frees;
      }
      EXPECT_EQ(tr.pushes, tr.pops);
      EXPECT_EQ(tr.pushes % 1000, 0u) << "whole arrays of 1000 slots";
      EXPECT_GE(tr.pushes, 4u * 1000u) << "at least 4 handoffs";
      EXPECT_GT(remote_frees, tr.pops / 2) << "most received blocks are replaced";
      EXPECT_GT(tr.frees, 10 * remote_frees) << "K = 10 x slots replacements a round";
    }
  }
}

// xmalloc: producers only allocate, consumers only free, one block at a time,
// each consumer taking from every producer in turn.
TEST(Trace, XmallocProducersOnlyAllocateConsumersOnlyFree) {
  const Workload* w = find_workload("xmalloc");
  ASSERT_NE(w, nullptr);
  std::vector<ThreadTrace> traces = run_traces(*w, "default", 4, 10000);
  for (uint32_t t = 0; t < 4; ++t) {
    SCOPED_TRACE("thread " + std::to_string(t));
    const ThreadTrace& tr = traces[t];
    std::set<uint16_t> channels;
    for (size_t i = 0; i < tr.ops.size(); ++i) {
      const Op& op = tr.ops[i];
      if (t % 2 == 0) {
        ASSERT_EQ(op.kind, i % 2 == 0 ? OpKind::kAlloc : OpKind::kPush);
      } else {
        ASSERT_EQ(op.kind, i % 2 == 0 ? OpKind::kPop : OpKind::kFree);
      }
      if (op.kind == OpKind::kPush || op.kind == OpKind::kPop) channels.insert(op.channel);
    }
    EXPECT_EQ(tr.ops.size(), 10000u);
    EXPECT_EQ(channels.size(), 2u) << "two producers, two consumers: each pair has a channel";
  }
}

// burst_idle: bursts reach 32 MiB live (the last block crosses it; the last
// burst may be cut short by the op budget), then
// free everything before the phase boundary; the next burst starts empty.
TEST(Trace, BurstIdleBurstsToThirtyTwoMibAndFreesAll) {
  const Workload* w = find_workload("burst_idle");
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->requirements("default").record_phase_rss);
  ThreadTrace tr = generate_trace(*w, TraceParams{"default", 7, 0, 1, 100000});
  constexpr uint64_t kBurst = uint64_t{32} << 20;
  EXPECT_GE(tr.peak_live_bytes, kBurst);
  EXPECT_LT(tr.peak_live_bytes, kBurst + 8192);
  EXPECT_GE(tr.phases, 2u) << "several bursts in 100000 ops";
  uint64_t live = 0, bursts_full = 0;
  bool freeing = false;
  for (const Op& op : tr.ops) {
    if (op.kind == OpKind::kAlloc) {
      ASSERT_FALSE(freeing) << "a burst frees all it allocated before the next allocation";
      ASSERT_GE(op.size, 16u);
      ASSERT_LE(op.size, 8192u);
      live += op.size;
    } else if (op.kind == OpKind::kFree) {
      if (!freeing && live >= kBurst) ++bursts_full;
      freeing = true;
      live -= op.size;
    } else {
      ASSERT_EQ(op.kind, OpKind::kPhase);
      EXPECT_EQ(live, 0u);
      freeing = false;
    }
  }
  EXPECT_EQ(live, 0u);
  EXPECT_GE(bursts_full + 1, tr.phases)
      << "every burst but the last (cut by the budget) reached 32 MiB";
}

// large_churn: blocks of [1, 32) MiB in five log bands, at most 4 live, every one freed, in a trace
// of --ops / 2500 ops that fills its budget and depends on the seed alone.
TEST(Trace, LargeChurnKeepsUpToFourBlocksOfOneToThirtyTwoMib) {
  const Workload* w = find_workload("large_churn");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->trace_ops(100000), 40u);
  EXPECT_EQ(w->trace_ops(1), 1u);
  EXPECT_EQ(w->trace_ops(3), 2u) << "at least one block when the budget allows one";
  EXPECT_EQ(w->requirements("default").max_size, uint64_t{32} << 20);
  constexpr uint64_t kMib = uint64_t{1} << 20;
  for (uint32_t t : {0u, 1u}) {
    SCOPED_TRACE("thread " + std::to_string(t));
    ThreadTrace tr = generate_trace(*w, TraceParams{"default", 5, t, 2, 500000});
    EXPECT_GE(tr.ops.size(), 198u) << "fills its budget of 200 ops";
    EXPECT_LE(tr.ops.size(), 200u);
    EXPECT_LE(tr.slot_count, 4u) << "slots are recycled: at most 4 live";
    std::map<uint32_t, uint64_t> live;
    std::set<int> bands;
    size_t most_live = 0, not_page_multiple = 0;
    for (const Op& op : tr.ops) {
      if (op.kind == OpKind::kAlloc) {
        ASSERT_GE(op.size, kMib);
        ASSERT_LT(op.size, 32 * kMib);
        ASSERT_EQ(live.count(op.slot), 0u);
        live[op.slot] = op.size;
        most_live = std::max(most_live, live.size());
        bands.insert(63 - __builtin_clzll(op.size / kMib));
        if (op.size % 4096 != 0) ++not_page_multiple;
      } else {
        ASSERT_EQ(op.kind, OpKind::kFree);
        ASSERT_EQ(live.count(op.slot), 1u);
        EXPECT_EQ(live[op.slot], op.size);
        live.erase(op.slot);
      }
    }
    EXPECT_TRUE(live.empty()) << "every block is freed";
    EXPECT_EQ(tr.allocs, tr.frees);
    EXPECT_EQ(tr.allocs, tr.ops.size() / 2);
    EXPECT_EQ(most_live, 4u);
    EXPECT_EQ(bands.size(), 5u) << "all five power-of-two bands of 1-32 MiB";
    EXPECT_GT(not_page_multiple, tr.allocs * 9 / 10);
    EXPECT_EQ(generate_trace(*w, TraceParams{"default", 5, t, 2, 500000}).hash, tr.hash);
    EXPECT_NE(generate_trace(*w, TraceParams{"default", 6, t, 2, 500000}).hash, tr.hash);
  }
}

// cache_thrash and cache_scratch: every object is 8 bytes and written W times
// between its allocation and its free; cache_scratch starts with thread 0
// handing one object to every other thread, which frees it first.
TEST(Trace, FalseSharingObjectsAreWrittenBetweenAllocAndFree) {
  for (const char* name : {"cache_thrash", "cache_scratch"}) {
    const Workload* w = find_workload(name);
    ASSERT_NE(w, nullptr);
    for (const char* profile : {"default", "long"}) {
      const uint64_t writes = std::string(profile) == "long" ? 1000 : 100;
      std::vector<ThreadTrace> traces = run_traces(*w, profile, 4, 6000);
      for (uint32_t t = 0; t < 4; ++t) {
        SCOPED_TRACE(std::string(name) + "/" + profile + " thread " + std::to_string(t));
        const ThreadTrace& tr = traces[t];
        size_t i = 0;
        if (std::string(name) == "cache_scratch") {
          if (t == 0) {
            for (; i < 4; ++i) ASSERT_EQ(tr.ops[i].kind, OpKind::kAlloc);
            for (uint16_t k = 1; k < 4; ++k, ++i) {
              ASSERT_EQ(tr.ops[i].kind, OpKind::kPush);
              EXPECT_EQ(tr.ops[i].channel, k);
            }
          } else {
            ASSERT_EQ(tr.ops[i].kind, OpKind::kPop);
            EXPECT_EQ(tr.ops[i++].channel, t);
          }
          ASSERT_EQ(tr.ops[i++].kind, OpKind::kFree) << "the handed object is freed first";
        }
        uint64_t objects = 0;
        for (; i + 2 < tr.ops.size(); i += 3) {
          if (tr.ops[i].kind == OpKind::kPhase) ++i;
          ASSERT_EQ(tr.ops[i].kind, OpKind::kAlloc);
          EXPECT_EQ(tr.ops[i].size, 8u);
          ASSERT_EQ(tr.ops[i + 1].kind, OpKind::kWrite);
          EXPECT_EQ(tr.ops[i + 1].size, writes);
          EXPECT_EQ(tr.ops[i + 1].slot, tr.ops[i].slot);
          ASSERT_EQ(tr.ops[i + 2].kind, OpKind::kFree);
          ++objects;
        }
        EXPECT_EQ(tr.writes, objects);
        EXPECT_GT(objects, 1900u);
      }
    }
  }
}

TEST(Trace, InvariantsHold) {
  for (const Case& c : all_cases()) {
    for (uint64_t ops : {1ull, 2ull, 3ull, 101ull, 30000ull}) {
      SCOPED_TRACE(std::string(c.w->name()) + "/" + c.profile + " ops=" + std::to_string(ops));
      ThreadTrace t = gen(c, 9, 0, ops);
      WorkloadRequirements req = c.w->requirements(c.profile);
      EXPECT_LE(t.ops.size(), ops);
      const uint64_t budget = c.w->trace_ops(ops);
      EXPECT_LE(t.ops.size(), budget);
      if (budget >= 101) {
        // Fills the budget (fixed patterns to within their per-step rounding).
        EXPECT_GE(t.ops.size(), budget - budget / 50 - 64);
      }
      std::vector<char> live(t.slot_count, 0);
      std::vector<uint64_t> size(t.slot_count, 0);
      uint64_t live_bytes = 0, peak = 0, live_count = 0;
      uint64_t allocs = 0, frees = 0, pushes = 0, pops = 0, writes = 0;
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
          case OpKind::kWrite:
            ASSERT_TRUE(live[op.slot]) << "write to a slot that is not live";
            ASSERT_GE(size[op.slot], 8u) << "kWrite writes the block's first 8 bytes";
            ASSERT_GT(op.size, 0u) << "a write op writes";
            ++writes;
            break;
        }
        if (live_bytes > peak) peak = live_bytes;
      }
      EXPECT_EQ(live_count, 0u) << "blocks still live at the end";
      EXPECT_EQ(allocs + pops, frees + pushes);
      EXPECT_EQ(pushes, t.pushes);
      EXPECT_EQ(pops, t.pops);
      EXPECT_EQ(allocs, t.allocs);
      EXPECT_EQ(writes, t.writes);
      EXPECT_EQ(peak, t.peak_live_bytes);
      if (req.resets_at_phases && ops >= 30000) {
        EXPECT_GT(t.phases, 0u);
      }
    }
  }
}

}  // namespace
}  // namespace allocbench
