#include "runner/csv.h"

#include <fstream>
#include <sstream>

namespace allocbench {

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> cols = {
      "schema_version",
      "run_id",
      "host",  // The machine's name (uname nodename); ratios are taken within one host.
      "allocator",
      "workload",
      "profile",
      "threads",
      "repetition",
      "seed",
      "ops",
      "status",
      "error",
      "wall_s",
      "mops",
      "ns_per_op",
      "harness_ns_per_op",
      "net_ns_per_op",
      "replays",
      "lat_p50_ns",
      "lat_p90_ns",
      "lat_p99_ns",
      "lat_p999_ns",
      "lat_max_ns",
      "lat_samples",
      "timer_ns",
      "lat_file",
      "peak_rss_bytes",
      "final_rss_bytes",
      "baseline_rss_bytes",
      "peak_rss_net_bytes",
      "final_rss_net_bytes",
      "peak_live_bytes",
      "peak_live_method",
      "overhead_ratio",
      "overhead_ratio_raw",
      "overhead_bytes",
      "minflt",
      "majflt",
      "nvcsw",
      "nivcsw",
      "user_s",
      "sys_s",
      "allocs",
      "frees",
      "reallocs",
      "total_ops",
      "trace_hash",
      "warmup",
      "adapter_version",
      "cell_s",
      // Added in schema 2 without a version change (readers accept files
      // without them): the RSS after the settle delay (issue 14).
      "settled_rss_bytes",
      "settled_rss_net_bytes",
      // Recorded traces (trace:PATH) only: the replay's repairs (issue 13).
      "repair_dropped_frees",
      "repair_unknown_reallocs",
      "repair_leaks_freed",
  };
  return cols;
}

std::string csv_header() {
  std::string h;
  for (const std::string& c : csv_columns()) {
    if (!h.empty()) h += ',';
    h += c;
  }
  return h + '\n';
}

namespace {

std::string quote(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out + '"';
}

}  // namespace

std::string csv_row(const std::map<std::string, std::string>& values) {
  std::string row;
  bool first = true;
  for (const std::string& c : csv_columns()) {
    if (!first) row += ',';
    first = false;
    auto it = values.find(c);
    if (it != values.end()) row += quote(it->second);
  }
  return row + '\n';
}

bool csv_split(const std::string& line, std::vector<std::string>* fields) {
  fields->clear();
  std::string cur;
  bool in_quotes = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"') {
      in_quotes = true;
    } else if (c == ',') {
      fields->push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (in_quotes) return false;
  fields->push_back(cur);
  return true;
}

std::string csv_read(const std::string& path, CsvContents* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  const std::string header = csv_header();
  if (data.compare(0, header.size(), header) != 0) {
    return path + " does not start with the schema " + std::to_string(kSchemaVersion) +
           " header (is it from another version of allocbench?)";
  }
  size_t pos = header.size();
  out->valid_bytes = pos;
  const size_t ncols = csv_columns().size();
  std::vector<std::string> fields;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    bool last = nl == std::string::npos || nl + 1 >= data.size();
    std::string line = data.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    bool ok = nl != std::string::npos && csv_split(line, &fields) && fields.size() == ncols &&
              fields[0] == std::to_string(kSchemaVersion);
    if (!ok) {
      if (last) {
        out->truncated_tail = true;  // Half-written last row: cut it.
        return "";
      }
      return path + ": malformed row at byte " + std::to_string(pos) +
             " (not the last line, so not a half-written row); refusing to resume";
    }
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < ncols; ++i) row[csv_columns()[i]] = fields[i];
    out->rows.push_back(std::move(row));
    pos = nl + 1;
    out->valid_bytes = pos;
  }
  return "";
}

}  // namespace allocbench
