#include "runner/results.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "adapters/adapter.h"
#include "runner/cell_exec.h"
#include "runner/cli_common.h"
#include "runner/cli_util.h"
#include "runner/csv.h"
#include "runner/fileio.h"

namespace allocbench {

const char* const kPhasesHeader =
    "run_id,allocator,workload,profile,threads,repetition,phase,rss_bytes,rss_net_bytes\n";

std::string phases_rows(const std::string& run_id, const Cell& cell,
                        const std::map<std::string, std::string>& row) {
  auto at = [&](const char* k) {
    auto it = row.find(k);
    return it == row.end() ? std::string() : it->second;
  };
  std::string text;
  uint64_t base = std::strtoull(at("baseline_rss_bytes").c_str(), nullptr, 10);
  std::vector<std::string> values = split(at("_phase_rss"), ';');
  for (size_t i = 0; i < values.size(); ++i) {
    uint64_t v = std::strtoull(values[i].c_str(), nullptr, 10);
    text += run_id + "," + cell.allocator + "," + cell.workload + "," + cell.profile + "," +
            std::to_string(cell.threads) + "," + std::to_string(cell.rep) + "," +
            std::to_string(i) + "," + std::to_string(v) + "," +
            std::to_string(v > base ? v - base : 0) + "\n";
  }
  return text;
}

const char* const kCellTimelineHeader =
    "run_id,allocator,workload,profile,threads,repetition,t_ms,stage,rss_bytes,rss_net_bytes\n";

std::string cell_timeline_rows(const std::string& run_id, const Cell& cell,
                               const std::map<std::string, std::string>& row) {
  auto at = [&](const char* k) {
    auto it = row.find(k);
    return it == row.end() ? std::string() : it->second;
  };
  const std::string base_text = at("baseline_rss_bytes");
  const long long base = std::strtoll(base_text.c_str(), nullptr, 10);
  const std::string prefix = run_id + "," + cell.allocator + "," + cell.workload + "," +
                             cell.profile + "," + std::to_string(cell.threads) + "," +
                             std::to_string(cell.rep) + ",";
  std::string text;
  for (const std::string& line : split(at("_timeline"), '\n')) {
    const std::vector<std::string> f = split(line, ',');  // t_ms, stage, rss_bytes
    if (f.size() != 3) continue;
    const long long rss = std::strtoll(f[2].c_str(), nullptr, 10);
    // Signed: samples taken before the baseline (setup) can be below it.
    text += prefix + line + "," + (base_text.empty() ? "" : std::to_string(rss - base)) + "\n";
  }
  return text;
}

std::string fill_calibration(const std::string& csv_path) {
  CsvContents contents;
  std::string err = csv_read(csv_path, &contents);
  if (!err.empty()) return err;
  std::map<std::string, std::vector<double>> null_times;
  auto key_of = [](const std::map<std::string, std::string>& r) {
    return r.at("workload") + "|" + r.at("profile") + "|" + r.at("threads");
  };
  for (const auto& r : contents.rows) {
    if (r.at("allocator") == "null" && r.at("status") == "ok" && !r.at("ns_per_op").empty()) {
      null_times[key_of(r)].push_back(std::strtod(r.at("ns_per_op").c_str(), nullptr));
    }
  }
  std::map<std::string, double> harness;  // Median calibration ns/op per key.
  for (auto& kv : null_times) {
    std::vector<double>& v = kv.second;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    harness[kv.first] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
  std::string out = csv_header();
  for (auto& r : contents.rows) {
    r["harness_ns_per_op"] = r["net_ns_per_op"] = "";
    auto it = harness.find(key_of(r));
    if (r.at("status") == "ok" && it != harness.end() && !r.at("ns_per_op").empty()) {
      r["harness_ns_per_op"] = fixed(it->second, 3);
      r["net_ns_per_op"] = fixed(std::strtod(r.at("ns_per_op").c_str(), nullptr) - it->second, 3);
    }
    out += csv_row(r);
  }
  err = write_file_atomically(csv_path, out);
  return err.empty() ? "" : err + " (results.csv is unchanged)";
}

int strict_check(const std::string& csv_path, const std::string& run_id) {
  CsvContents contents;
  std::string err = csv_read(csv_path, &contents);
  if (!err.empty()) return io_error("--strict: " + err);
  std::vector<std::string> failed;
  for (const auto& row : contents.rows) {
    if (row.at("run_id") != run_id) continue;
    const std::string& status = row.at("status");
    if (status == "ok" || status == "skipped") continue;
    const AdapterInfo* a = find_adapter(row.at("allocator"));
    if (a != nullptr && std::string(a->family) == "test") continue;
    failed.push_back(row.at("allocator") + " " + row.at("workload") + "/" + row.at("profile") +
                     " t=" + row.at("threads") + " rep=" + row.at("repetition") + ": " + status +
                     (row.at("error").empty() ? "" : " (" + row.at("error") + ")"));
  }
  if (failed.empty()) return 0;
  std::fprintf(stderr, "allocbench: --strict: %zu cell(s) did not end ok or skipped:\n",
               failed.size());
  for (const std::string& f : failed) std::fprintf(stderr, "  %s\n", f.c_str());
  return kExitStrict;
}

}  // namespace allocbench
