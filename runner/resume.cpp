#include "runner/resume.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "runner/cli_util.h"
#include "runner/fileio.h"
#include "runner/results.h"
#include "workloads/workload.h"

namespace allocbench {
namespace {

using Row = std::map<std::string, std::string>;

// Every column that holds a number holds a finite, non-negative one (or
// nothing); an ok row has its timing. Returns "" or the problem.
std::string value_problem(const Row& row) {
  static const std::set<std::string> kText = {
      "schema_version", "run_id", "host",     "allocator",        "workload",   "profile",
      "status",         "error",  "lat_file", "peak_live_method", "trace_hash", "adapter_version"};
  for (const auto& kv : row) {
    if (kText.count(kv.first) || kv.second.empty()) continue;
    char* end = nullptr;
    double v = std::strtod(kv.second.c_str(), &end);
    if (end == kv.second.c_str() || *end != '\0' || !std::isfinite(v) ||
        (v < 0 && kv.first != "net_ns_per_op" && kv.first != "overhead_bytes")) {
      return "column " + kv.first + " holds '" + kv.second + "', not a number in range";
    }
  }
  if (row.at("status") == "ok") {
    for (const char* col : {"wall_s", "mops", "ns_per_op", "ops"}) {
      if (row.at(col).empty() || std::strtod(row.at(col).c_str(), nullptr) <= 0) {
        return std::string("an ok row without a positive ") + col;
      }
    }
  }
  return "";
}

// Why a results row cannot count as a finished cell of this run, or "".
std::string row_problem(const Row& row, const std::string& run_id,
                        const std::set<std::string>& plan_keys, std::string* key) {
  static const std::set<std::string> kStatuses = {"ok",  "crashed", "timeout",
                                                  "oom", "error",   "skipped"};
  if (row.at("schema_version") != std::to_string(kSchemaVersion)) {
    return "schema_version is not " + std::to_string(kSchemaVersion);
  }
  if (row.at("run_id") != run_id) return "run_id '" + row.at("run_id") + "' is not this run's";
  if (kStatuses.count(row.at("status")) == 0) return "unknown status '" + row.at("status") + "'";
  uint32_t t = 0, rep = 0;
  if (!parse_u32(row.at("threads"), &t) || !parse_u32(row.at("repetition"), &rep)) {
    return "threads or repetition is not a number";
  }
  *key = Cell{row.at("allocator"), row.at("workload"), row.at("profile"), t, rep}.key();
  if (plan_keys.count(*key) == 0) {
    return "cell " + row.at("allocator") + " " + row.at("workload") + "/" + row.at("profile") +
           " t=" + row.at("threads") + " rep=" + row.at("repetition") +
           " is not in this run's plan";
  }
  return value_problem(row);
}

// The trace hash this build generates for (workload, profile, threads).
uint64_t current_trace_hash(const Workload& w, const std::string& profile, uint32_t threads,
                            const RunConfig& c) {
  std::vector<uint64_t> hashes;
  for (uint32_t i = 0; i < threads; ++i) {
    TraceParams p{profile, c.seed, i, threads, c.ops};
    hashes.push_back(generate_trace(w, p).hash);
  }
  return combine_trace_hashes(hashes.data(), hashes.size());
}

}  // namespace

std::vector<std::string> build_differences(const BuildIdentity& saved,
                                           const BuildIdentity& current) {
  std::vector<std::string> diffs;
  if (saved.git_commit != current.git_commit) {
    diffs.push_back("git commit " + saved.git_commit + " -> " + current.git_commit);
  }
  if (saved.build_flags != current.build_flags) {
    diffs.push_back("build flags '" + saved.build_flags + "' -> '" + current.build_flags + "'");
  }
  if (saved.binaries != current.binaries) {
    diffs.push_back("executables " + saved.binaries + " -> " + current.binaries + " (rebuilt)");
  }
  return diffs;
}

std::string check_trace_hashes(const CsvContents& contents, const RunConfig& c) {
  std::map<std::string, std::string> expected;  // "workload|profile|threads" -> hash.
  for (const auto& row : contents.rows) {
    const std::string& recorded = row.at("trace_hash");
    if (row.at("status") != "ok" || recorded.empty()) continue;
    const std::string key = row.at("workload") + "|" + row.at("profile") + "|" + row.at("threads");
    auto it = expected.find(key);
    if (it == expected.end()) {
      const Workload* w = find_workload(row.at("workload"));
      uint32_t t = 0;
      if (w == nullptr || !has_profile(*w, row.at("profile")) ||
          !parse_u32(row.at("threads"), &t) || t == 0 || t > kMaxThreads) {
        return "a finished row names " + key + ", which this build does not have";
      }
      char buf[32];
      std::snprintf(
          buf, sizeof buf, "%016llx",
          static_cast<unsigned long long>(current_trace_hash(*w, row.at("profile"), t, c)));
      it = expected.emplace(key, buf).first;
    }
    if (it->second != recorded) {
      return "the trace of " + key + " was " + recorded + " in the interrupted run but is " +
             it->second +
             " now (the workload generator changed); the rows would measure "
             "different work. Start over with --force";
    }
  }
  return "";
}

std::string keep_valid_rows(const CsvContents& contents, const std::string& csv_path,
                            const std::string& dir, const std::string& run_id,
                            const std::vector<Cell>& plan, std::set<std::string>* done) {
  std::set<std::string> plan_keys;
  for (const Cell& cell : plan) plan_keys.insert(cell.key());
  std::string kept = csv_header(), rejected;
  size_t n_rejected = 0;
  for (size_t i = 0; i < contents.rows.size(); ++i) {
    const auto& row = contents.rows[i];
    std::string key;
    std::string why = row_problem(row, run_id, plan_keys, &key);
    if (why.empty() && done->count(key)) why = "a second row of the same cell";
    if (why.empty()) {
      done->insert(key);
      kept += csv_row(row);
      continue;
    }
    std::fprintf(stderr,
                 "allocbench: %s row %zu (line %zu): %s; moved to results.rejected.csv, the "
                 "cell runs again\n",
                 csv_path.c_str(), i + 1, i + 2, why.c_str());
    rejected += csv_row(row);
    ++n_rejected;
  }
  if (n_rejected == 0) return "";
  std::string err = append_with_header(dir + "/results.rejected.csv", csv_header(), rejected);
  if (!err.empty()) return err;
  return write_file_atomically(csv_path, kept);
}

std::string keep_phases_of(const std::string& path, const std::set<std::string>& done) {
  return keep_cell_rows_of(path, kPhasesHeader, 9, done);
}

std::string keep_cell_rows_of(const std::string& path, const std::string& header, size_t fields,
                              const std::set<std::string>& done) {
  std::ifstream in(path);
  if (!in) return "";
  std::string line, out = header;
  bool changed = false;
  bool first = true;
  while (std::getline(in, line)) {
    if (first && line + "\n" == header) {
      first = false;
      continue;
    }
    if (first) changed = true;  // the header was missing
    first = false;
    std::vector<std::string> f;
    uint32_t t = 0, rep = 0;
    if (!csv_split(line, &f) || f.size() != fields || !parse_u32(f[4], &t) ||
        !parse_u32(f[5], &rep) || done.count(Cell{f[1], f[2], f[3], t, rep}.key()) == 0) {
      changed = true;
      continue;
    }
    out += line + "\n";
  }
  if (first) changed = true;  // an empty file: give it its header
  return changed ? write_file_atomically(path, out) : "";
}

}  // namespace allocbench
