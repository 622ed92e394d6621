#include "runner/single_run.h"

#include <cstdio>
#include <cstdlib>

#include "adapters/adapter.h"
#include "runner/cell_exec.h"
#include "runner/cli_common.h"
#include "runner/cli_util.h"
#include "runner/context.h"
#include "runner/run_options.h"
#include "workloads/workload.h"

namespace allocbench {
namespace {

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

}  // namespace

int cmd_single(const std::vector<std::string>& args) {
  uint64_t seed = 1337, ops = 200000;
  uint32_t threads = 1;
  std::string profile = "mixed", allocator = "glibc";
  bool json = false;
  const Workload* w = find_workload("mixed_sizes");
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
      continue;
    }
    if (i + 1 >= args.size()) return usage_error(a + " needs a value");
    const std::string& v = args[++i];
    bool ok = true;
    if (a == "--seed")
      ok = parse_u64(v, &seed);
    else if (a == "--ops")
      ok = parse_u64(v, &ops) && ops > 0;
    else if (a == "--threads")
      ok = parse_u32(v, &threads) && threads > 0 && threads <= 1024;
    else if (a == "--allocator")
      allocator = v;
    else if (a == "--profile")
      profile = v;
    else
      return usage_error("unknown option '" + a + "'");
    if (!ok) return usage_error("malformed number for " + a + ": '" + v + "'");
  }
  if (!has_profile(*w, profile)) {
    std::fprintf(stderr, "allocbench: invalid profile \"%s\"\n", profile.c_str());
    std::fprintf(stderr, "usage: allocbench --profile {%s}\n", "small,mixed,large");
    return kExitUsage;
  }
  const AdapterInfo* a = find_adapter(allocator);
  if (a == nullptr) {
    std::fprintf(stderr, "allocbench: invalid allocator \"%s\"\n", allocator.c_str());
    std::fprintf(stderr, "usage: allocbench --allocator {%s}\n",
                 join(adapter_names(), ",").c_str());
    return kExitUsage;
  }
  Cell cell{allocator, "mixed_sizes", profile, threads, 0};
  CellRun run;
  run.ops = ops;
  run.seed = seed;
  run.lat_sample = 16;
  std::string env_err;
  run.timeout_s = default_timeout(&env_err);
  if (!env_err.empty()) return usage_error(env_err);
  auto row = execute_cell(cell, run);
  if (row["status"] != "ok") {
    std::fprintf(stderr, "allocbench: %s on mixed_sizes/%s: %s%s%s\n", allocator.c_str(),
                 profile.c_str(), row["status"].c_str(), row["error"].empty() ? "" : ": ",
                 row["error"].c_str());
    return 1;
  }
  double wall = std::strtod(row["wall_s"].c_str(), nullptr);
  uint64_t allocs = std::strtoull(row["allocs"].c_str(), nullptr, 10);
  uint64_t frees = std::strtoull(row["frees"].c_str(), nullptr, 10);
  uint64_t alloc_ps = static_cast<uint64_t>(static_cast<double>(allocs) / wall);
  uint64_t free_ps = static_cast<uint64_t>(static_cast<double>(frees) / wall);
  double live = std::strtod(row["peak_live_bytes"].c_str(), nullptr);
  double net = std::strtod(row["peak_rss_net_bytes"].c_str(), nullptr);
  double frag = net > live && net > 0 ? 100.0 * (net - live) / net : 0.0;
  if (json) {
    std::printf(
        "{\"profile\": %s, \"seed\": %llu, \"ops\": %llu, \"allocator\": %s, \"threads\": %u, "
        "\"alloc_per_sec\": %llu, \"free_per_sec\": %llu, \"latency_ns\": {\"p50\": %s, "
        "\"p99\": %s}, \"fragmentation_pct\": %.1f}\n",
        json_quote(profile).c_str(), static_cast<unsigned long long>(seed),
        static_cast<unsigned long long>(ops), json_quote(allocator).c_str(), threads,
        static_cast<unsigned long long>(alloc_ps), static_cast<unsigned long long>(free_ps),
        row["lat_p50_ns"].c_str(), row["lat_p99_ns"].c_str(), frag);
  } else {
    std::printf("allocbench %s\n", kVersion);
    std::printf("profile=%s seed=%llu ops=%llu allocator=%s\n", profile.c_str(),
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(ops),
                allocator.c_str());
    std::printf("alloc/s: %s\n", with_commas(alloc_ps).c_str());
    std::printf("free/s: %s\n", with_commas(free_ps).c_str());
    std::printf("p50 latency: %s ns\n", row["lat_p50_ns"].c_str());
    std::printf("p99 latency: %s ns\n", row["lat_p99_ns"].c_str());
    std::printf("fragmentation: %.1f%%\n", frag);
  }
  return 0;
}

}  // namespace allocbench
