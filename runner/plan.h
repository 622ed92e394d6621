// The run matrix: what `allocbench run` measures (RunConfig), the cells it
// expands to, and their order. Pure data and functions; no I/O.
#ifndef ALLOCBENCH_RUNNER_PLAN_H_
#define ALLOCBENCH_RUNNER_PLAN_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace allocbench {

// Limits of the numeric arguments (also in --help). They keep every derived
// quantity (deadlines in ns, the plan's size, trace memory) far from
// overflow, and are checked before anything is written.
constexpr uint32_t kMaxReps = 10000;
constexpr uint64_t kMaxOps = 1000000000;  // per thread
constexpr uint32_t kMaxWarmup = 1000;
constexpr uint32_t kMaxLatSample = 1u << 20;
constexpr uint32_t kMaxThreads = 1024;
constexpr uint64_t kMaxTimeout = 7 * 24 * 3600;  // seconds
constexpr size_t kMaxPlanCells = 10000000;
constexpr uint32_t kMaxPinCpu = 4096;  // --pin takes CPUs 0..kMaxPinCpu-1
constexpr uint32_t kMaxShards = 4096;  // --shard I/N: N at most this
constexpr uint32_t kMaxSettleMs = 60000;      // --settle-ms
constexpr uint32_t kMaxCellSampleMs = 60000;  // --sample-ms of run

struct RunConfig {
  std::vector<std::string> allocators;
  std::vector<std::pair<std::string, std::string>> workloads;  // (workload, profile)
  std::vector<uint32_t> threads{1};
  uint32_t reps = 1;
  uint64_t seed = 1;
  uint64_t ops = 100000;
  uint32_t warmup = 0;
  uint32_t lat_sample = 64;
  bool shuffled = false;
  double timeout_s = 1200;
  double min_time_s = 0;       // Timed replays per cell repeat until they sum to this.
  uint32_t settle_ms = 50;     // --settle-ms: idle delay before settled_rss_bytes is read.
  bool timeline = false;       // --timeline: cells sample their RSS into timeline.csv.
  uint32_t sample_ms = 10;     // --sample-ms: the timeline's period.
  bool calibrate = true;       // Add the `null` calibration cells (--no-calibrate: off).
  std::vector<int> pin;        // --pin: CPUs for the runner and every cell.
  bool no_aslr = false;        // --no-aslr: cells run with ASLR off.
  bool allow_rebuild = false;  // --resume --allow-rebuild.
  std::string out;
  bool force = false;
  bool resume = false;
  bool strict = false;       // --strict: exit 3 if a non-test cell ends other than ok/skipped.
  uint32_t shard_index = 0;  // --shard I/N: this run's slice I (0-based) ...
  uint32_t shard_count = 1;  // ... of N; 1: the whole plan.
  bool dry_run = false;      // --dry-run: print the plan and its cost, run nothing.
};

// Appends `v` unless already present (repeated names are merged, first
// position kept).
template <typename T>
void push_unique(std::vector<T>* out, const T& v) {
  if (std::find(out->begin(), out->end(), v) == out->end()) out->push_back(v);
}

// One cell of the plan: one child process, one results row.
struct Cell {
  std::string allocator, workload, profile;
  uint32_t threads;
  uint32_t rep;
  // Identifies the cell in a results file ("allocator|workload|profile|threads|rep").
  std::string key() const;
};

// Names of the registered adapters and workloads, in registry order.
std::vector<std::string> adapter_names();
std::vector<std::string> workload_names();

// Fills c->allocators and c->workloads from the --allocators and --workloads
// lists ("all", or names; workloads as W or W:profile), merging repeats and
// adding the `null` calibration when c->calibrate, then checks the plan's
// size. Returns "" or the usage error, which names the valid choices.
std::string resolve_matrix(const std::string& allocators, const std::string& workloads,
                           RunConfig* c);

// Every (rep, workload, threads, allocator) cell; with c.shuffled, in a
// random order seeded by c.seed (the same seed gives the same order, which
// --resume relies on).
// The thread counts a (workload, profile) runs at: --threads, or a recorded
// trace's own thread count (workloads/recorded_replay.h).
std::vector<uint32_t> plan_threads(const RunConfig& c, const std::string& workload,
                                   const std::string& profile);
std::vector<Cell> build_plan(const RunConfig& c);

// The cost model of --dry-run and --shard: a cell's estimated seconds from
// the settings alone (never from this host's speed, so every host computes
// the same shards): a fixed start-up, trace generation, the warm-up replays,
// the timed replays (at least --min-time) and the latency replay, at
// kModelNsPerOp per operation of every thread.
constexpr double kModelNsPerOp = 50;
constexpr double kModelCellStartupS = 0.05;
double estimate_cell_seconds(const RunConfig& c, const Cell& cell);

// A shard runs whole (workload, profile, threads) groups: every allocator
// and repetition of a group, the glibc and `null` calibration cells
// included, runs in one shard and so on one host, which keeps every ratio
// and the harness cost within a host. Groups go to shards by estimated cost,
// largest first, each to the least loaded shard (lowest index on a tie):
// the same assignment for every I under the same arguments.
// shard_of_groups() maps "workload|profile|threads" to its shard.
std::string group_key(const std::string& workload, const std::string& profile, uint32_t threads);
std::vector<uint32_t> shard_of_groups(const RunConfig& c, std::vector<std::string>* keys);

// Number of (workload, profile, threads) groups: the most shards a plan has.
size_t group_count(const RunConfig& c);

// The cells of c.shard_index out of c.shard_count, in build_plan's order.
std::vector<Cell> shard_plan(const RunConfig& c);

// 16 hex digits identifying the plan: the matrix and every setting that
// changes what a cell measures, and the shard count; not --out, --timeout,
// --strict or the shard index. Shards of one plan share it.
std::string plan_hash(const RunConfig& c);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_PLAN_H_
