#include "runner/dry_run.h"

#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include "runner/progress.h"

namespace allocbench {

namespace {

double plan_seconds(const RunConfig& c, const std::vector<Cell>& cells) {
  double total = 0;
  for (const Cell& cell : cells) total += estimate_cell_seconds(c, cell);
  return total;
}

// One line per shard: its cells, groups and estimate; the spread of the
// estimates (the slowest shard is the run's wall time).
void print_shards(const RunConfig& c) {
  std::printf(
      "shards: %u, each whole (workload, profile, threads) groups with their glibc and "
      "calibration cells, balanced by estimated cost\n",
      c.shard_count);
  RunConfig s = c;
  double slowest = 0;
  for (uint32_t i = 0; i < c.shard_count; ++i) {
    s.shard_index = i;
    const std::vector<Cell> cells = shard_plan(s);
    std::set<std::string> groups;
    for (const Cell& cell : cells)
      groups.insert(group_key(cell.workload, cell.profile, cell.threads));
    const double est = plan_seconds(c, cells);
    slowest = std::max(slowest, est);
    std::printf("  shard %u/%u: %zu cells, %zu groups, estimated %s%s\n", i, c.shard_count,
                cells.size(), groups.size(), hms(est).c_str(),
                i == c.shard_index ? "  <- this run" : "");
  }
  std::printf("wall time with every shard on its own machine: about %s (the slowest shard)\n",
              hms(slowest).c_str());
}

}  // namespace

int print_dry_run(const RunConfig& c) {
  const std::vector<Cell> all = build_plan(c);
  std::printf(
      "plan %s: %zu cells = %zu allocators x %zu workload/profile pairs x %zu thread "
      "counts x %u repetitions\n",
      plan_hash(c).c_str(), all.size(), c.allocators.size(), c.workloads.size(), c.threads.size(),
      c.reps);
  const double total = plan_seconds(c, all);
  std::printf(
      "estimated %s on one machine (model: %.0f ns per op per thread, %.2f s start-up per "
      "cell, --min-time %.3g s, --warmup %u; docs/scale_out.md), at most %s if every "
      "cell ran into --timeout %.0f s\n",
      hms(total).c_str(), kModelNsPerOp, kModelCellStartupS, c.min_time_s, c.warmup,
      hms(static_cast<double>(all.size()) * c.timeout_s).c_str(), c.timeout_s);
  if (c.shard_count > 1) print_shards(c);
  return 0;
}

}  // namespace allocbench
