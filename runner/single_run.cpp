#include "runner/single_run.h"

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "adapters/adapter.h"
#include "runner/cell_exec.h"
#include "runner/cli_common.h"
#include "runner/cli_options.h"
#include "runner/cli_util.h"
#include "runner/context.h"
#include "runner/plan.h"
#include "runner/run_options.h"
#include "workloads/workload.h"

namespace allocbench {

const char* const kSingleUsage =
    "       allocbench [--seed N] [--ops N] [--profile {small,mixed,large}] [--allocator NAME]\n"
    "                  [--threads N] [--json]\n";

namespace {

// The profiles in the order of seed 001's usage line.
constexpr const char* kSeedProfiles = "small,mixed,large";

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v);
  std::string out;
  int n = 0;
  for (size_t i = s.size(); i > 0; --i) {
    out.insert(out.begin(), s[i - 1]);
    if (++n % 3 == 0 && i > 1) out.insert(out.begin(), ',');
  }
  return out;
}

// An unknown profile or allocator, in the form of seed 001's transcript:
// `allocbench: invalid profile "unknown"` and the usage line with the choices.
int invalid_choice(const char* what, const std::string& value, const std::string& choices) {
  fmt::print(stderr, "allocbench: invalid {} \"{}\"\n", what, value);
  fmt::print(stderr, "usage: allocbench --{} {{{}}}\n", what, choices);
  return kExitUsage;
}

// What the report shows, from the cell's row.
struct Report {
  uint64_t alloc_per_sec = 0, free_per_sec = 0;
  std::string p50, p99;  // ns, as in the row.
  double fragmentation_pct = 0;
};

// Calls of one kind per second of the time spent in them. `share` is that
// kind's part of the sampled ops' time (CellResult::alloc_time_share), so the
// time in them is share x wall; without samples of the kind (share 0), the
// calls per second of the whole replay.
uint64_t calls_per_sec(const std::string& calls, const std::string& share, double wall_s) {
  const double n = static_cast<double>(std::strtoull(calls.c_str(), nullptr, 10));
  const double f = std::strtod(share.c_str(), nullptr);
  const double seconds = f > 0 ? f * wall_s : wall_s;
  return seconds > 0 ? static_cast<uint64_t>(n / seconds) : 0;
}

// alloc/s: allocations (kAlloc and kCalloc, the `allocs` column) per second
// spent allocating; free/s: frees (kFree, `frees`) per second spent freeing.
// A realloc counts in neither, as in the CSV (its own `reallocs` column), and
// its time in neither. Each is thus the rate of that operation alone, not
// `allocs` over the whole replay's time (which equalled frees over it, since
// mixed_sizes frees every block it allocates).
Report report_of(std::map<std::string, std::string>& row) {
  Report r;
  const double wall = std::strtod(row["wall_s"].c_str(), nullptr);
  r.alloc_per_sec = calls_per_sec(row["allocs"], row["_alloc_time_share"], wall);
  r.free_per_sec = calls_per_sec(row["frees"], row["_free_time_share"], wall);
  r.p50 = row["lat_p50_ns"];
  r.p99 = row["lat_p99_ns"];
  double live = std::strtod(row["peak_live_bytes"].c_str(), nullptr);
  double net = std::strtod(row["peak_rss_net_bytes"].c_str(), nullptr);
  r.fragmentation_pct = net > live && net > 0 ? 100.0 * (net - live) / net : 0.0;
  return r;
}

void print_report(const SingleArgs& a, const Report& r) {
  if (a.json) {
    fmt::print(
        "{{\"profile\": {}, \"seed\": {}, \"ops\": {}, \"allocator\": {}, \"threads\": {}, "
        "\"alloc_per_sec\": {}, \"free_per_sec\": {}, \"latency_ns\": {{\"p50\": {}, "
        "\"p99\": {}}}, \"fragmentation_pct\": {:.1f}}}\n",
        json_quote(a.profile), a.seed, a.ops, json_quote(a.allocator), a.threads, r.alloc_per_sec,
        r.free_per_sec, r.p50, r.p99, r.fragmentation_pct);
    return;
  }
  fmt::print("allocbench {}\n", kVersion);
  fmt::print("profile={} seed={} ops={} allocator={}\n", a.profile, a.seed, a.ops, a.allocator);
  fmt::print("alloc/s: {}\n", with_commas(r.alloc_per_sec));
  fmt::print("free/s: {}\n", with_commas(r.free_per_sec));
  fmt::print("p50 latency: {} ns\n", r.p50);
  fmt::print("p99 latency: {} ns\n", r.p99);
  fmt::print("fragmentation: {:.1f}%\n", r.fragmentation_pct);
}

}  // namespace

void add_single_options(CLI::App* app, SingleArgs* a) {
  const std::string group = "Options of the single-run form";
  add_valued(app, "--seed", "N", "seed of the trace (default 1337)", [a](const std::string& v) {
    a->seed = number_in("--seed", v, 0, UINT64_MAX);
  })->group(group);
  add_valued(app, "--ops", "N", "operations per thread (1..1000000000, default 200000)",
             [a](const std::string& v) { a->ops = number_in("--ops", v, 1, kMaxOps); })
      ->group(group);
  add_valued(app, "--threads", "N", "threads (1..1024, default 1)", [a](const std::string& v) {
    uint32_t n = 0;
    if (!parse_u32(v, &n) || n == 0 || n > kMaxThreads) {
      fail_usage("malformed thread count '" + v + "' (must be in 1.." +
                 std::to_string(kMaxThreads) + ")");
    }
    a->threads = n;
  })->group(group);
  add_valued(app, "--profile", "{small,mixed,large}", "mixed_sizes' profile (default mixed)",
             [a](const std::string& v) { a->profile = v; })
      ->group(group);
  add_valued(app, "--allocator", "NAME", "an adapter of `allocbench list` (default glibc)",
             [a](const std::string& v) { a->allocator = v; })
      ->group(group);
  app->add_flag("--json", a->json, "print the report as one JSON object")->group(group);
}

int cmd_single(const SingleArgs& a) {
  const Workload* w = find_workload("mixed_sizes");
  if (!has_profile(*w, a.profile)) return invalid_choice("profile", a.profile, kSeedProfiles);
  if (find_adapter(a.allocator) == nullptr) {
    return invalid_choice("allocator", a.allocator, join(adapter_names(), ","));
  }
  CellRun run;
  run.ops = a.ops;
  run.seed = a.seed;
  run.lat_sample = 16;
  std::string env_err;
  run.timeout_s = default_timeout(&env_err);
  if (!env_err.empty()) return usage_error(env_err);
  auto row = execute_cell(Cell{a.allocator, "mixed_sizes", a.profile, a.threads, 0}, run);
  if (row["status"] != "ok") {
    fmt::print(stderr, "allocbench: {} on mixed_sizes/{}: {}{}{}\n", a.allocator, a.profile,
               row["status"], row["error"].empty() ? "" : ": ", row["error"]);
    return 1;  // The cell failed; its status says how.
  }
  print_report(a, report_of(row));
  return 0;
}

}  // namespace allocbench
