// The replay loops a cell selects (runner/replay.h, select_loops): only the
// counting loop publishes and sums live bytes across threads. The timed,
// warm-up and latency loops must not touch the shared live counters, whose
// cache-line traffic between threads once cost a 2-thread replay as much as
// the rest of the harness (docs/csv_schema.md, step 7).
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "runner/replay.h"

namespace allocbench {
namespace detail {
namespace {

constexpr int64_t kSentinel = 123456789;

struct Fixture {
  std::vector<Op> ops;
  std::vector<void*> plain_slots = std::vector<void*>(4, nullptr);
  LiveCounter live[2];
  std::atomic<bool> abort{false};
  ReplayShared shared;
  ThreadReplay t;

  // 100 pairs of a 64-byte allocation and its free, then padding.
  Fixture() {
    for (int i = 0; i < 100; ++i) {
      ops.push_back(Op{64, 1, OpKind::kAlloc, 3, 0});
      ops.push_back(Op{64, 1, OpKind::kFree, 0, 0});  // A free carries its block's size.
    }
    const size_t n = ops.size();
    ops.resize(n + kReplayPadding, Op{0, 0, OpKind::kFree, 0, 0});
    shared.abort = &abort;
    shared.live = live;
    shared.live_count = 2;
    t.ops = ops.data();
    t.n = n;
    t.plain_slots = plain_slots.data();
    t.index = 0;
    t.live_mask = 0;  // Sum after every op, so the counting loop must see the live block.
    live[0].bytes.store(kSentinel);
    live[1].bytes.store(0);
  }
  void run(ReplayFn fn) {
    const CallContext ctx{nullptr, nullptr};
    fn(ctx, t, shared);
  }
};

TEST(ReplayLoops, OnlyTheCountingLoopPublishesLiveBytes) {
  const ReplayLoops loops = select_loops(CallPath::kProcessMalloc, false, kMixLive);
  ASSERT_NE(loops.timed, nullptr);
  ASSERT_NE(loops.sampled, nullptr);
  ASSERT_NE(loops.counting, nullptr);

  Fixture f;
  f.run(loops.timed);
  EXPECT_FALSE(f.t.failed);
  EXPECT_EQ(f.live[0].bytes.load(), kSentinel) << "the timed loop wrote the shared counter";
  EXPECT_EQ(f.t.peak_live, 0) << "the timed loop sampled the sum";

  f.t.sample_every = 8;
  MappedArray<uint32_t> lat;
  f.t.lat = &lat;
  f.run(loops.sampled);
  EXPECT_FALSE(f.t.failed);
  EXPECT_GT(lat.size(), 0u) << "the latency loop sampled no op";
  EXPECT_EQ(f.live[0].bytes.load(), kSentinel) << "the latency loop wrote the shared counter";

  f.run(loops.counting);
  EXPECT_FALSE(f.t.failed);
  EXPECT_EQ(f.live[0].bytes.load(), 0) << "the counting loop did not publish its live bytes";
  EXPECT_EQ(f.t.peak_live, 64) << "the counting loop missed the one live block";
}

TEST(ReplayLoops, AMixWithoutLiveCountingHasNoCountingCost) {
  // Without kMixLive (one thread, no toggles: the peak is exact from the
  // trace) every loop leaves the counters alone.
  const ReplayLoops loops = select_loops(CallPath::kProcessMalloc, false, 0);
  Fixture f;
  f.run(loops.counting);
  EXPECT_EQ(f.live[0].bytes.load(), kSentinel);
}

}  // namespace
}  // namespace detail
}  // namespace allocbench
