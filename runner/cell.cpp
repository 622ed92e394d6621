#include "runner/cell.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "adapters/adapter.h"
#include "allocators/common/platform.h"
#include "runner/calibration.h"
#include "runner/cell_timeline.h"
#include "runner/replay.h"
#include "runner/skip.h"
#include "workloads/workload.h"

namespace allocbench {
namespace {

using detail::CalibrationPlan;
using detail::CalibrationPlanner;
using detail::CallContext;
using detail::Channel;
using detail::LiveCounter;
using detail::ReplayFn;
using detail::ReplayShared;
using detail::SlotEntry;
using detail::ThreadReplay;

constexpr size_t kLatencyFileMax = 10000;  // Samples kept in a cell's latency file.
constexpr uint64_t kMinRateSpanNs = 10000000;  // Cycle-counter rate measured over >= 10 ms.


// Nearest-rank percentile of sorted samples.
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t n = sorted.size();
  size_t rank = static_cast<size_t>(q * static_cast<double>(n) + 0.999999);
  if (rank == 0) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

double tv_seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

// The median cost, in cycles, of reading the cycle counter twice back to
// back: what every latency sample includes besides the op itself.
uint64_t timer_cost_ticks() {
  constexpr int kPairs = 2001;
  uint64_t d[kPairs];  // On the stack: the allocator under test sees only the workload.
  for (int i = 0; i < kPairs; ++i) {
    uint64_t c0 = platform::read_cycles();
    uint64_t c1 = platform::read_cycles();
    d[i] = c1 - c0;
  }
  std::nth_element(d, d + kPairs / 2, d + kPairs);
  return d[kPairs / 2];
}

// What the main thread asks the workers to do in a round.
// kTail: each thread replays its trace's untimed tail (a recorded trace's
// leaks, freed after the clock), after every other round. kCount: the one
// untimed replay that counts live bytes across threads (ReplayLoops).
enum class Round : uint8_t { kWarmup, kTimed, kCount, kLatency, kTail, kExit };

// Coordinates the worker threads: they spin (yielding) at the start gate, so
// they all start within a few hundred ns of the release; that spinning is
// excluded from the usage columns, which are measured per thread around each
// timed replay. While the main thread has set the gate idle (the settle
// delay), waiting workers sleep 1 ms between checks instead, so the process
// is really idle then.
class Gate {
 public:
  // Worker: wait for round `round` to be released; returns what it is.
  Round wait_start(uint32_t round) {
    while (round_.load(std::memory_order_acquire) < round) {
      if (idle_.load(std::memory_order_relaxed)) {
        platform::sleep_until_ns(platform::now_ns() + 1000000);
      } else {
        std::this_thread::yield();
      }
    }
    return kind_;
  }
  // Main: waiting workers sleep (true) or spin (false).
  void set_idle(bool idle) { idle_.store(idle, std::memory_order_relaxed); }
  // Main: release round `round` of kind `kind`.
  void release(uint32_t round, Round kind) {
    kind_ = kind;
    round_.store(round, std::memory_order_release);
  }

  // Worker: report this round finished.
  void arrive() {
    std::lock_guard<std::mutex> lock(mu_);
    ++arrived_;
    cv_.notify_all();
  }
  // Main: wait until `count` arrivals in total.
  void wait_arrivals(uint32_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return arrived_ >= count; });
  }

 private:
  std::atomic<uint32_t> round_{0};  // Released round; written by main.
  std::atomic<bool> idle_{false};   // Workers sleep while waiting; written by main.
  Round kind_ = Round::kWarmup;     // Kind of the released round; written by main before it.
  std::mutex mu_;
  std::condition_variable cv_;
  uint32_t arrived_ = 0;  // Guarded by mu_.
};

// One worker thread's state. Owner thread, and main between rounds.
struct Worker {
  ThreadTrace trace;
  MappedArray<SlotEntry> slots;
  MappedArray<void*> plain_slots;  // The slot table of plain mixes (8 bytes a slot).
  MappedArray<uint32_t> lat;        // Latency round: cycle counts of sampled ops.
  MappedArray<uint8_t> lat_kind;    // Latency round: the OpKind of each of them.
  MappedArray<uint64_t> phase_rss;  // Thread 0 only, first timed round only.
  MappedArray<uint64_t> phases;     // Indices of the trace's kPhase ops.
  CalibrationPlan plan;
  ThreadReplay state;
  ThreadReplay tail;         // The trace's untimed tail (n == 0: none); kTail rounds.
  uint64_t timer_ticks = 0;  // This thread's timer cost (latency round).
  uint64_t end_ns = 0;       // When its last round ended.
  uint64_t timed_toggle_allocs = 0, timed_toggle_frees = 0;
  rusage timed_usage{};      // This thread's usage summed over its timed replays only.
  uint64_t timed_cpu_ns = 0;  // Its CPU time over them (CLOCK_THREAD_CPUTIME_ID: precise;
                              // rusage's user/sys split is tick-sampled, used as a ratio).
};

uint64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// a += (after - before), field by field, for the fields the rows report.
void add_usage(rusage* a, const rusage& before, const rusage& after) {
  auto tv = [](const timeval& x) { return x.tv_sec * 1000000L + x.tv_usec; };
  auto set = [](timeval* x, long us) {
    x->tv_sec = us / 1000000;
    x->tv_usec = us % 1000000;
  };
  set(&a->ru_utime, tv(a->ru_utime) + tv(after.ru_utime) - tv(before.ru_utime));
  set(&a->ru_stime, tv(a->ru_stime) + tv(after.ru_stime) - tv(before.ru_stime));
  a->ru_minflt += after.ru_minflt - before.ru_minflt;
  a->ru_majflt += after.ru_majflt - before.ru_majflt;
  a->ru_nvcsw += after.ru_nvcsw - before.ru_nvcsw;
  a->ru_nivcsw += after.ru_nivcsw - before.ru_nivcsw;
}

// A fault the runner's tests inject: `name`=1, honoured only together with
// ALLOCBENCH_TEST_ADAPTERS=1 (the switch of the test-only adapters).
bool test_fault(const char* name) {
  const char* t = std::getenv("ALLOCBENCH_TEST_ADAPTERS");
  const char* v = std::getenv(name);
  return t != nullptr && std::strcmp(t, "1") == 0 && v != nullptr && std::strcmp(v, "1") == 0;
}

bool parse_spin(const char* s, uint64_t* out) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0' || v == 0 || v > 1000000) return false;
  *out = v;
  return true;
}

CellResult fail(const std::string& status, const std::string& why) {
  CellResult r;
  r.status = status;
  r.error = why;
  return r;
}

// CellResult::alloc_time_share and free_time_share from the latency samples
// (ns) and their op kinds. Samples are capped at the 99.9th percentile: one
// preempted or interrupted sample would otherwise decide the split.
void time_shares(const std::vector<double>& ns, const std::vector<uint8_t>& kinds, CellResult* r) {
  if (ns.empty()) return;
  std::vector<double> sorted = ns;
  std::sort(sorted.begin(), sorted.end());
  const double cap = percentile(sorted, 0.999);
  double alloc_ns = 0, free_ns = 0, all_ns = 0;
  for (size_t i = 0; i < ns.size(); ++i) {
    const double t = std::min(cap, std::max(0.0, ns[i]));
    const OpKind kind = static_cast<OpKind>(kinds[i]);
    all_ns += t;
    if (kind == OpKind::kAlloc || kind == OpKind::kCalloc) alloc_ns += t;
    if (kind == OpKind::kFree) free_ns += t;
  }
  if (all_ns <= 0) return;
  r->alloc_time_share = alloc_ns / all_ns;
  r->free_time_share = free_ns / all_ns;
}


// A mapping of whole pages, unmapped when it goes out of scope.
struct PageMapping {
  void* p = nullptr;
  size_t n = 0;
  PageMapping() = default;
  PageMapping(const PageMapping&) = delete;
  PageMapping& operator=(const PageMapping&) = delete;
  ~PageMapping() {
    if (p != nullptr) platform::unmap_pages(p, n);
  }
};

// One cell, step by step: traces, replay loops, shared tables, calibration,
// worker threads, the timed rounds, then the figures. Each step that can fail
// returns false with the result set to the failure.
class CellRun {
 public:
  explicit CellRun(const CellConfig& c) : c_(c) {}
  CellResult run();

 private:
  bool fail_with(const std::string& status, const std::string& why) {
    r_ = fail(status, why);
    return false;
  }
  bool check_config();
  bool generate_traces();
  bool select_loops();
  bool map_tables();
  void time_spin();
  bool plan_calibration();
  void prepare_threads();
  void worker_main(uint32_t i);
  void replay_tail(const CallContext& ctx, Worker& me, bool counting);
  void start_workers();
  bool any_failed() const;
  void drain_shared();
  // Whether a round of this kind counts live bytes: the warm-up replays and
  // the kCount replay, when the cell counts them at all (count_live_).
  bool counts(Round kind) const {
    return count_live_ && (kind == Round::kWarmup || kind == Round::kCount);
  }
  uint64_t run_round(Round kind);
  void reset_peak_rss();
  void run_timed_rounds();
  void settle();
  void stage(CellStage s) {
    if (timeline_ != nullptr) timeline_->set_stage(s);
  }
  void finish_timeline();
  void collect_usage();
  void collect_live_bytes();
  void finish_workers();
  bool collect_phases_and_failures();
  void collect_latency();
  void write_latency_file(const std::vector<double>& all);

  const CellConfig& c_;
  CellResult r_;
  const AdapterInfo* info_ = nullptr;
  const Workload* w_ = nullptr;
  std::unique_ptr<Adapter> adapter_;
  bool calibration_ = false;
  WorkloadRequirements req_;
  std::vector<Worker> workers_;
  unsigned mix_ = 0;
  bool any_toggle_ = false;
  bool has_tail_ = false;  // Some thread's trace has an untimed tail (kTail rounds).
  bool count_live_ = false;
  uint64_t max_trace_peak_ = 0;
  detail::ReplayLoops loops_;
  PageMapping channels_map_, shared_map_, live_map_;
  std::atomic<void*>* shared_slots_ = nullptr;
  LiveCounter* live_ = nullptr;
  MappedArray<uint64_t> shared_sizes_;
  std::atomic<bool> abort_{false};
  ReplayShared shared_;
  CalibrationPlanner planner_;
  uint64_t spin_ticks_ = 0;
  Gate gate_;
  std::vector<std::thread> threads_;
  uint32_t round_ = 0;
  uint64_t rate_n0_ = 0, rate_c0_ = 0;  // Start of the cycle-counter rate span.
  std::unique_ptr<CellTimeline> timeline_;  // --timeline-out: the RSS sampler, or null.
};

CellResult CellRun::run() {
  if (!c_.timeline_out.empty()) {
    timeline_ = std::make_unique<CellTimeline>(uint64_t{c_.sample_ms} * 1000000);
  }
  if (!check_config() || !generate_traces() || !select_loops() || !map_tables()) return r_;
  if (info_->spin_multiplier > 0) time_spin();
  if (calibration_ && !plan_calibration()) return r_;
  if (req_.shared_slots != 0) adapter_->thread_init();  // The main thread frees leftovers.
  prepare_threads();
  start_workers();
  reset_peak_rss();
  if (c_.warmup > 0) stage(CellStage::kWarmup);
  for (uint32_t k = 0; k < c_.warmup && !any_failed(); ++k) run_round(Round::kWarmup);
  run_timed_rounds();
  settle();
  collect_usage();
  // Live bytes of several threads (or of toggles): counted in the warm-up
  // replays and in a replay of their own after the settle delay, so no
  // timed replay pays for it.
  stage(CellStage::kLatency);
  if (count_live_ && !any_failed()) run_round(Round::kCount);
  collect_live_bytes();
  // The latency round: the same trace again, about one op in lat_sample timed.
  if (c_.lat_sample > 0 && !any_failed()) run_round(Round::kLatency);
  finish_workers();
  finish_timeline();
  if (!collect_phases_and_failures()) return r_;
  collect_latency();
  return r_;
}

bool CellRun::check_config() {
  info_ = find_adapter(c_.adapter);
  w_ = find_workload(c_.workload);
  if (info_ == nullptr || w_ == nullptr || !has_profile(*w_, c_.profile) || c_.threads == 0) {
    return fail_with("error", "invalid cell configuration");
  }
  const uint32_t exact = w_->requirements(c_.profile).exact_threads;
  if (exact != 0 && exact != c_.threads) {
    return fail_with("error", "the trace has " + std::to_string(exact) +
                                  " threads; it replays with exactly that many");
  }
  adapter_ = make_adapter(*info_);
  r_.adapter_version = adapter_->version();
  std::string bad = adapter_->verify();
  if (!bad.empty()) return fail_with("error", bad);
  std::string skip = skip_reason(info_->caps, w_->requirements(c_.profile), c_.threads);
  if (!skip.empty()) return fail_with("skipped", skip);
  calibration_ = info_->call_path == CallPath::kCalibration;
  req_ = w_->requirements(c_.profile);
  return true;
}

// Traces first, before the clock, in OS-mapped memory.
bool CellRun::generate_traces() {
  workers_ = std::vector<Worker>(c_.threads);
  std::vector<uint64_t> hashes(c_.threads);
  bool any_other = false;
  for (uint32_t i = 0; i < c_.threads; ++i) {
    TraceParams p{c_.profile, c_.seed, i, c_.threads, c_.ops};
    Worker& wk = workers_[i];
    wk.trace = generate_trace(*w_, p);
    const uint64_t timed_ops = wk.trace.ops.size() - wk.trace.untimed_tail;
    if (c_.lat_sample > 0) {
      wk.lat.reserve(2 * (timed_ops / c_.lat_sample) + 64);
      wk.lat_kind.reserve(2 * (timed_ops / c_.lat_sample) + 64);
    }
    hashes[i] = wk.trace.hash;
    max_trace_peak_ = std::max(max_trace_peak_, wk.trace.peak_live_bytes);
    r_.total_ops += timed_ops;
    r_.allocs += wk.trace.allocs;
    r_.frees += wk.trace.frees - wk.trace.untimed_tail;  // The tail is all kFree.
    if (wk.trace.recorded) {
      r_.recorded = true;
      r_.repair_dropped_frees += wk.trace.dropped_frees;
      r_.repair_unknown_reallocs += wk.trace.unknown_reallocs;
      r_.repair_leaks_freed += wk.trace.untimed_tail;
      has_tail_ = has_tail_ || wk.trace.untimed_tail > 0;
    }
    r_.reallocs += wk.trace.reallocs;
    if (wk.trace.toggles > 0) any_toggle_ = true;
    if (wk.trace.ops.size() > wk.trace.toggles) any_other = true;
    mix_ |= detail::trace_mix(wk.trace);
  }
  r_.trace_hash = combine_trace_hashes(hashes.data(), hashes.size());
  if (any_toggle_ && any_other) {
    return fail_with("error", "the traces mix kToggle with other ops, which no replay loop handles");
  }
  return true;
}

// The slot tables and the replay loops the traces' mix needs.
bool CellRun::select_loops() {
  // The slot table the mix uses: 8 bytes a slot for plain mixes, else 16. The
  // calibration plans into the 16-byte table and copies for a plain mix.
  const bool plain =
      (mix_ & (detail::kMixGeneral | detail::kMixChannel | detail::kMixToggle)) == 0;
  for (Worker& wk : workers_) {
    if (!plain || calibration_) wk.slots.resize_zeroed(wk.trace.slot_count + 1);
    if (plain) wk.plain_slots.resize_zeroed(wk.trace.slot_count + 1);
  }
  // Live bytes are exact from the trace for one thread; otherwise counted at replay.
  count_live_ = c_.threads > 1 || any_toggle_;
  if (count_live_) mix_ |= detail::kMixLive;
  loops_ = detail::select_loops(info_->call_path, info_->spin_multiplier > 0, mix_);
  if (loops_.timed == nullptr || loops_.sampled == nullptr || loops_.counting == nullptr) {
    return fail_with("error", "no replay loop for this mix");
  }
  return true;
}

// The channels, the shared slot table and the live-byte counters, in
// OS-mapped memory.
bool CellRun::map_tables() {
  uint32_t channel_count = 1;
  for (const Worker& wk : workers_) {
    for (const Op& op : wk.trace.ops) {
      if ((op.kind == OpKind::kPush || op.kind == OpKind::kPop) && op.channel >= channel_count) {
        channel_count = op.channel + 1u;
      }
    }
  }
  channels_map_.n = sizeof(Channel) * channel_count;
  channels_map_.p = platform::map_pages(channels_map_.n);
  auto* channels = static_cast<Channel*>(channels_map_.p);
  if (channels == nullptr) return fail_with("error", "cannot map channels");
  for (uint32_t i = 0; i < channel_count; ++i) new (&channels[i]) Channel{};

  // The shared slot table of kToggle workloads, and the size each slot holds
  // (a function of the slot, so any thread can free any slot's block).
  shared_map_.n = sizeof(std::atomic<void*>) * (req_.shared_slots + 1);
  shared_map_.p = platform::map_pages(shared_map_.n);
  shared_slots_ = static_cast<std::atomic<void*>*>(shared_map_.p);
  if (shared_slots_ == nullptr) return fail_with("error", "cannot map the shared slot table");
  for (uint32_t i = 0; i <= req_.shared_slots; ++i) {
    new (&shared_slots_[i]) std::atomic<void*>{nullptr};
  }
  shared_sizes_.resize_zeroed(req_.shared_slots + 1);
  for (const Worker& wk : workers_) {
    for (const Op& op : wk.trace.ops) {
      if (op.kind == OpKind::kToggle && op.slot < req_.shared_slots) {
        shared_sizes_[op.slot] = op.size;
      }
    }
  }
  // Live-byte counters: one per worker, then the main thread's (leftover frees).
  const size_t page = platform::page_size();
  live_map_.n = (sizeof(LiveCounter) * (c_.threads + 1) + page - 1) & ~(page - 1);
  live_map_.p = platform::map_aligned(live_map_.n, page);
  live_ = static_cast<LiveCounter*>(live_map_.p);
  if (live_ == nullptr) return fail_with("error", "cannot map the live counters");
  for (uint32_t i = 0; i <= c_.threads; ++i) new (&live_[i]) LiveCounter{};
  shared_.channels = channels;
  shared_.abort = &abort_;
  shared_.shared_slots = shared_slots_;
  shared_.live = live_;
  shared_.live_count = c_.threads + 1;
  return true;
}

// The calibration's known cost: a spin of ALLOCBENCH_SPIN_NS (default 400) x
// multiplier ns per allocation, timed here in-process without the harness
// (the fastest of 15 rounds: preemption only adds time) and reported in
// adapter_version.
void CellRun::time_spin() {
  uint64_t spin_ns = 400;
  const char* env = std::getenv("ALLOCBENCH_SPIN_NS");
  if (env != nullptr && !parse_spin(env, &spin_ns)) spin_ns = 400;
  const uint64_t n0 = platform::now_ns(), c0 = platform::read_cycles();
  while (platform::now_ns() - n0 < 2 * kMinRateSpanNs) {
  }
  const double rate = static_cast<double>(platform::read_cycles() - c0) /
                      static_cast<double>(platform::now_ns() - n0);
  spin_ticks_ = static_cast<uint64_t>(spin_ns * info_->spin_multiplier * rate + 0.5);
  constexpr int kCalls = 20000;
  std::vector<double> per_call;
  for (int round = 0; round < 15; ++round) {
    const uint64_t t0 = platform::now_ns();
    for (int k = 0; k < kCalls; ++k) detail::spin_cycles(spin_ticks_);
    per_call.push_back(static_cast<double>(platform::now_ns() - t0) / kCalls);
  }
  std::sort(per_call.begin(), per_call.end());
  char buf[128];
  std::snprintf(buf, sizeof buf, "spin %llu ns: %.3f ns per allocation in-process",
                static_cast<unsigned long long>(spin_ns * info_->spin_multiplier), per_call[0]);
  r_.adapter_version = buf;
}

// The calibration's blocks, planned and faulted in before the baseline.
bool CellRun::plan_calibration() {
  for (Worker& wk : workers_) {
    std::string err =
        planner_.plan_thread(wk.trace, wk.slots.data(), shared_sizes_.data(), req_.shared_slots,
                             (mix_ & detail::kMixChannel) != 0, &wk.plan);
    if (!err.empty()) return fail_with("error", err);
    wk.plan.spin_ticks = spin_ticks_;
    for (size_t k = 0; k < wk.plain_slots.size(); ++k) wk.plain_slots[k] = wk.slots[k].ptr;
  }
  return true;
}

void CellRun::prepare_threads() {
  for (uint32_t i = 0; i < c_.threads; ++i) {
    Worker& wk = workers_[i];
    ThreadReplay& t = wk.state;
    t.n = wk.trace.ops.size();
    const size_t tail = wk.trace.untimed_tail;
    t.n -= tail;
    for (size_t k = 0; k < t.n; ++k) {
      if (wk.trace.ops[k].kind == OpKind::kPhase) wk.phases.push_back(k);
    }
    // Padding the loop may read (prefetch) but never executes; slot 0 exists.
    for (size_t k = 0; k < detail::kReplayPadding; ++k) {
      wk.trace.ops.push_back(Op{0, 0, OpKind::kPhase, 0, 0});
    }
    t.ops = wk.trace.ops.data();
    t.phases = wk.phases.data();
    t.phase_count = wk.phases.size();
    t.slots = wk.slots.data();
    t.plain_slots = wk.plain_slots.data();
    t.index = i;
    t.reset_at_phase = !info_->caps.individual_free;
    t.live_mask = c_.threads == 1 ? 0 : 63;  // One thread: every op, so the peak is exact.
    t.sample_every = c_.lat_sample;
    t.sample_rng = mix64(c_.seed ^ (uint64_t{i} << 32));
    wk.tail = t;  // The same slots; only the ops differ.
    wk.tail.ops = t.ops + t.n;
    wk.tail.n = tail;
    wk.tail.phases = nullptr;
    wk.tail.phase_count = 0;
  }
}

// A kTail round: the frees after the clock, with the thread's live count
// when the round before counted it.
void CellRun::replay_tail(const CallContext& ctx, Worker& me, bool counting) {
  ThreadReplay& t = me.state;
  if (me.tail.n == 0) return;
  me.tail.live = t.live;
  (counting ? loops_.counting : loops_.timed)(ctx, me.tail, shared_);
  t.live = me.tail.live;
  t.failed = me.tail.failed;
}

// Worker thread i: one replay per released round until kExit.
void CellRun::worker_main(uint32_t i) {
  Worker& me = workers_[i];
  const CallContext ctx{adapter_.get(), &me.plan};
  bool first_timed = true;
  Round last = Round::kWarmup;  // The last round before a kTail.
  adapter_->thread_init();
  gate_.arrive();  // Ready.
  for (uint32_t round = 1;; ++round) {
    const Round kind = gate_.wait_start(round);
    if (kind == Round::kExit) break;
    ThreadReplay& t = me.state;
    if (!t.failed) {  // A failed thread only keeps the rounds in step.
      t.toggle_allocs = t.toggle_frees = 0;
      t.phase_rss = kind == Round::kTimed && first_timed && i == 0 && req_.record_phase_rss
                        ? &me.phase_rss
                        : nullptr;
      if (kind == Round::kTail) {
        replay_tail(ctx, me, counts(last));
      } else if (counts(kind)) {
        loops_.counting(ctx, t, shared_);
      } else if (kind == Round::kLatency) {
        me.timer_ticks = timer_cost_ticks();
        t.lat = &me.lat;
        t.lat_kind = &me.lat_kind;
        loops_.sampled(ctx, t, shared_);
      } else if (kind == Round::kTimed) {
        // Per-thread usage around the replay alone: not the gate's spinning,
        // not the main thread's frees of toggle leftovers between replays.
        rusage before, after;
        getrusage(RUSAGE_THREAD, &before);
        const uint64_t cpu0 = thread_cpu_ns();
        loops_.timed(ctx, t, shared_);
        me.timed_cpu_ns += thread_cpu_ns() - cpu0;
        getrusage(RUSAGE_THREAD, &after);
        add_usage(&me.timed_usage, before, after);
        first_timed = false;
        me.timed_toggle_allocs += t.toggle_allocs;
        me.timed_toggle_frees += t.toggle_frees;
      } else {
        loops_.timed(ctx, t, shared_);
      }
    }
    if (kind != Round::kTail) last = kind;
    me.end_ns = platform::now_ns();
    gate_.arrive();
  }
  adapter_->thread_exit();
}

void CellRun::start_workers() {
  threads_.reserve(c_.threads);
  for (uint32_t i = 0; i < c_.threads; ++i) threads_.emplace_back([this, i] { worker_main(i); });
  gate_.wait_arrivals(c_.threads);
}

bool CellRun::any_failed() const {
  for (const Worker& wk : workers_) {
    if (wk.state.failed) return true;
  }
  return false;
}

// Frees what the toggles left in the table (between rounds and at the end).
// The toggles count their live bytes in every replay (Step::toggle), so the
// frees here are always subtracted.
void CellRun::drain_shared() {
  int64_t freed = 0;
  for (uint32_t i = 0; i < req_.shared_slots; ++i) {
    void* p = shared_slots_[i].exchange(nullptr);
    if (p == nullptr) continue;
    if (!calibration_) adapter_->deallocate(p, shared_sizes_[i], 16);
    freed += static_cast<int64_t>(shared_sizes_[i]);
  }
  live_[c_.threads].bytes.fetch_sub(freed, std::memory_order_relaxed);
}

// Runs one round on every worker; returns its wall time (release to the last
// thread's end).
uint64_t CellRun::run_round(Round kind) {
  ++round_;
  const uint64_t t0 = platform::now_ns();
  gate_.release(round_, kind);
  gate_.wait_arrivals(c_.threads * (round_ + 1));
  uint64_t t_end = 0;
  for (const Worker& wk : workers_) t_end = std::max(t_end, wk.end_ns);
  drain_shared();
  if (has_tail_) {
    gate_.release(++round_, Round::kTail);
    gate_.wait_arrivals(c_.threads * (round_ + 1));
  }
  return t_end > t0 ? t_end - t0 : 1;
}

void CellRun::reset_peak_rss() {
  r_.baseline_rss_bytes = platform::resident_bytes();
  int reset_err = platform::reset_peak_resident();
  if (test_fault("ALLOCBENCH_FAULT_RSS_RESET")) reset_err = EACCES;  // Runner tests only.
  if (reset_err != 0) {
    r_.memory_valid = false;
    r_.note = std::string("the peak-RSS reset failed (") + std::strerror(reset_err) +
              "), so the memory columns are empty";
  } else if (calibration_) {
    r_.memory_valid = false;
    r_.note = "calibration: its blocks are faulted in before the baseline, no memory figures";
  }
}

// Timed replays until their sum reaches min_time (at least one), then the
// RSS and the cycle-counter rate.
void CellRun::run_timed_rounds() {
  stage(CellStage::kTimed);
  rate_n0_ = platform::now_ns();
  rate_c0_ = platform::read_cycles();
  const uint64_t min_time_ns = static_cast<uint64_t>(c_.min_time_s * 1e9);
  while (!any_failed() && r_.replays < std::max<uint32_t>(c_.max_replays, 1) &&
         (r_.replays == 0 || r_.wall_ns < min_time_ns)) {
    r_.wall_ns += run_round(Round::kTimed);
    ++r_.replays;
  }
  r_.peak_rss_bytes = platform::peak_resident_bytes();
  r_.final_rss_bytes = platform::resident_bytes();
  while (platform::now_ns() - rate_n0_ < kMinRateSpanNs) {
  }
  r_.ticks_per_ns = static_cast<double>(platform::read_cycles() - rate_c0_) /
                    static_cast<double>(platform::now_ns() - rate_n0_);
}

// The settle delay: nothing is live and no thread calls the allocator for
// settle_ms (the workers sleep at the gate), so a background reclaimer has
// time to run; then the settled RSS is read.
void CellRun::settle() {
  stage(CellStage::kSettle);
  gate_.set_idle(true);
  platform::sleep_until_ns(platform::now_ns() + uint64_t{c_.settle_ms} * 1000000);
  r_.settled_rss_bytes = platform::resident_bytes();
  gate_.set_idle(false);
}

// Stops the RSS sampler after the workers ended and writes its file.
void CellRun::finish_timeline() {
  if (timeline_ == nullptr) return;
  stage(CellStage::kExit);
  timeline_->stop();
  const std::string err = timeline_->write(c_.timeline_out);
  if (!err.empty()) r_.note += std::string(r_.note.empty() ? "" : "; ") + err;
}

// Faults, context switches and CPU time per timed replay, from the workers'
// timed usage.
void CellRun::collect_usage() {
  rusage ru{}, zero{};
  for (const Worker& wk : workers_) add_usage(&ru, zero, wk.timed_usage);
  const double replays = r_.replays > 0 ? r_.replays : 1;
  r_.minflt = static_cast<uint64_t>(ru.ru_minflt / replays + 0.5);
  r_.majflt = static_cast<uint64_t>(ru.ru_majflt / replays + 0.5);
  r_.nvcsw = static_cast<uint64_t>(ru.ru_nvcsw / replays + 0.5);
  r_.nivcsw = static_cast<uint64_t>(ru.ru_nivcsw / replays + 0.5);
  // CPU time: the precise per-thread clocks, split into user and system in the
  // proportion rusage's (tick-sampled) times give for each thread.
  double user_s = 0, sys_s = 0;
  for (const Worker& wk : workers_) {
    const double cpu = static_cast<double>(wk.timed_cpu_ns) / 1e9;
    const double u = tv_seconds(wk.timed_usage.ru_utime), k = tv_seconds(wk.timed_usage.ru_stime);
    const double user_share = u + k > 0 ? u / (u + k) : 1.0;
    user_s += cpu * user_share;
    sys_s += cpu * (1 - user_share);
  }
  r_.user_s = user_s / replays;
  r_.sys_s = sys_s / replays;
}

// Peak live bytes: exact from the trace for one thread, else counted; and the
// toggles' allocations and frees, decided at replay.
void CellRun::collect_live_bytes() {
  int64_t counted_peak = 0;
  for (const Worker& wk : workers_) counted_peak = std::max(counted_peak, wk.state.peak_live);
  if (!count_live_) {
    r_.peak_live_bytes = workers_[0].trace.peak_live_bytes;
    r_.peak_live_method = "trace";
  } else {
    r_.peak_live_bytes = static_cast<uint64_t>(std::max<int64_t>(counted_peak, 0));
    if (!any_toggle_ && mix_ == (mix_ & ~detail::kMixChannel)) {
      // Independent threads: the sum is never below the largest single trace's peak.
      r_.peak_live_bytes = std::max(r_.peak_live_bytes, max_trace_peak_);
    }
    r_.peak_live_method = c_.threads == 1 ? "replay" : "sampled";
  }
  if (any_toggle_) {
    const double replays = r_.replays > 0 ? r_.replays : 1;
    uint64_t allocs = 0, frees = 0;
    for (const Worker& wk : workers_) {
      allocs += wk.timed_toggle_allocs;
      frees += wk.timed_toggle_frees;
    }
    r_.allocs = static_cast<uint64_t>(allocs / replays + 0.5);
    r_.frees = static_cast<uint64_t>(frees / replays + 0.5);
  }
}

void CellRun::finish_workers() {
  gate_.release(++round_, Round::kExit);  // Workers leave without arriving.
  for (std::thread& t : threads_) t.join();
  if (req_.shared_slots != 0) adapter_->thread_exit();
}

// The phase RSS of thread 0; false (the result set to oom) when a worker's
// allocation returned null.
bool CellRun::collect_phases_and_failures() {
  for (uint64_t v : workers_[0].phase_rss) {
    if (!r_.phase_rss.empty()) r_.phase_rss += ';';
    r_.phase_rss += std::to_string(v);
  }
  for (const Worker& wk : workers_) {
    if (wk.state.failed && !wk.state.aborted) {
      return fail_with("oom", "allocation of " + std::to_string(wk.state.fail_size) +
                                  " bytes returned null");
    }
  }
  return true;
}

// Latency: cycles less the timer's own cost, in ns, all threads merged.
void CellRun::collect_latency() {
  std::vector<double> all;
  std::vector<uint8_t> kinds;  // The OpKind of each entry of `all`.
  double timer_sum = 0;
  for (const Worker& wk : workers_) {
    const double timer = static_cast<double>(wk.timer_ticks);
    timer_sum += timer;
    for (size_t i = 0; i < wk.lat.size(); ++i) {
      all.push_back((static_cast<double>(wk.lat[i]) - timer) / r_.ticks_per_ns);
      kinds.push_back(wk.lat_kind[i]);
    }
  }
  time_shares(all, kinds, &r_);
  // The percentiles and the file describe allocator calls: kWrite ops (the
  // workload's own writes, hundreds of cycles each) count in the shares only.
  size_t kept = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (static_cast<OpKind>(kinds[i]) != OpKind::kWrite) all[kept++] = all[i];
  }
  all.resize(kept);
  r_.timer_ns = timer_sum / c_.threads / r_.ticks_per_ns;
  if (!c_.lat_out.empty() && !all.empty()) write_latency_file(all);
  std::sort(all.begin(), all.end());
  auto clamp0 = [](double v) { return v < 0 ? 0.0 : v; };
  r_.lat_samples = all.size();
  r_.lat_p50_ns = clamp0(percentile(all, 0.50));
  r_.lat_p90_ns = clamp0(percentile(all, 0.90));
  r_.lat_p99_ns = clamp0(percentile(all, 0.99));
  r_.lat_p999_ns = clamp0(percentile(all, 0.999));
  r_.lat_max_ns = all.empty() ? 0 : clamp0(all.back());
}

// At most kLatencyFileMax samples: every k-th, in thread order.
void CellRun::write_latency_file(const std::vector<double>& all) {
  const size_t step = (all.size() + kLatencyFileMax - 1) / kLatencyFileMax;
  std::vector<float> keep;
  for (size_t i = 0; i < all.size(); i += step) keep.push_back(static_cast<float>(all[i]));
  FILE* f = std::fopen(c_.lat_out.c_str(), "wb");
  bool written =
      f != nullptr && std::fwrite(keep.data(), sizeof(float), keep.size(), f) == keep.size();
  if (f != nullptr && std::fclose(f) != 0) written = false;
  if (!written) {
    r_.note += std::string(r_.note.empty() ? "" : "; ") + "cannot write " + c_.lat_out;
    std::remove(c_.lat_out.c_str());
  }
}

}  // namespace

CellResult run_cell(const CellConfig& c) { return CellRun(c).run(); }

namespace {


// Error texts go on one line.
std::string one_line(std::string s) {
  for (char& ch : s) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  return s;
}

}  // namespace

void write_cell_result(int fd, const CellResult& r) {
  char buf[256];
  std::string out;
  auto kv = [&](const char* k, const std::string& v) {
    out += "@ab ";
    out += k;
    out += '=';
    out += one_line(v);
    out += '\n';
  };
  auto ku = [&](const char* k, uint64_t v) {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
    kv(k, buf);
  };
  auto kd = [&](const char* k, double v) {
    std::snprintf(buf, sizeof buf, "%.6f", v);
    kv(k, buf);
  };
  kv("status", r.status);
  kv("error", r.error);
  kv("adapter_version", r.adapter_version);
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r.trace_hash));
  kv("trace_hash", buf);
  ku("total_ops", r.total_ops);
  ku("allocs", r.allocs);
  ku("frees", r.frees);
  ku("reallocs", r.reallocs);
  ku("wall_ns", r.wall_ns);
  ku("replays", r.replays);
  ku("lat_samples", r.lat_samples);
  kd("lat_p50_ns", r.lat_p50_ns);
  kd("lat_p90_ns", r.lat_p90_ns);
  kd("lat_p99_ns", r.lat_p99_ns);
  kd("lat_p999_ns", r.lat_p999_ns);
  kd("lat_max_ns", r.lat_max_ns);
  kd("timer_ns", r.timer_ns);
  kd("ticks_per_ns", r.ticks_per_ns);
  kd("alloc_time_share", r.alloc_time_share);
  kd("free_time_share", r.free_time_share);
  ku("memory_valid", r.memory_valid ? 1 : 0);
  kv("note", r.note);
  kv("peak_live_method", r.peak_live_method);
  ku("baseline_rss_bytes", r.baseline_rss_bytes);
  ku("peak_rss_bytes", r.peak_rss_bytes);
  ku("final_rss_bytes", r.final_rss_bytes);
  ku("settled_rss_bytes", r.settled_rss_bytes);
  ku("peak_live_bytes", r.peak_live_bytes);
  ku("minflt", r.minflt);
  ku("majflt", r.majflt);
  ku("nvcsw", r.nvcsw);
  ku("nivcsw", r.nivcsw);
  kd("user_s", r.user_s);
  kv("phase_rss", r.phase_rss);
  kd("sys_s", r.sys_s);
  if (r.recorded) {
    ku("repair_dropped_frees", r.repair_dropped_frees);
    ku("repair_unknown_reallocs", r.repair_unknown_reallocs);
    ku("repair_leaks_freed", r.repair_leaks_freed);
  }
  out += "@ab end=1\n";
  platform::write_fully(fd, out.data(), out.size());  // the parent reports a missing "end" line
}

}  // namespace allocbench
