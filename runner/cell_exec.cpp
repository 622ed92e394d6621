#include "runner/cell_exec.h"

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runner/process.h"
#include "runner/skip.h"
#include "workloads/workload.h"

namespace allocbench {

volatile int g_interrupted = 0;

namespace {

void on_signal(int) { g_interrupted = 1; }

using Row = std::map<std::string, std::string>;

bool file_exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

// The whole of a small text file, or "" when it cannot be read.
std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A library adapter's cell registers it too (its path and version).
void add_library_args(const AdapterInfo& a, std::vector<std::string>* args) {
  if (a.preload.empty()) return;
  args->push_back("--allocator-lib");
  args->push_back(library_spec(a));
}

// The environment a cell of `a` adds: LD_PRELOAD of a library adapter's library.
std::vector<std::string> cell_env(const AdapterInfo& a) {
  if (a.preload.empty()) return {};
  return {"LD_PRELOAD=" + a.preload};
}

// Why a cell of `a` cannot start ("" when it can): its binary or its
// preloaded library is missing.
std::string cell_missing(const AdapterInfo& a) {
  const std::string bin = cell_binary(a);
  if (!file_exists(bin)) {
    return "cell binary " + bin + " was not built (is the allocator's library installed?)";
  }
  if (!a.preload.empty() && !file_exists(a.preload)) {
    std::string pkg = a.preload_package;
    return "library " + a.preload + " is not installed" +
           (pkg.empty() ? "" : " (Debian package " + pkg + "; run scripts/setup.sh)");
  }
  return "";
}

std::vector<std::string> cell_args(const AdapterInfo& a, const Cell& cell, const CellRun& run) {
  std::vector<std::string> args = {cell_binary(a),
                                   "--adapter",
                                   cell.allocator,
                                   "--workload",
                                   cell.workload,
                                   "--profile",
                                   cell.profile,
                                   "--threads",
                                   std::to_string(cell.threads),
                                   "--ops",
                                   std::to_string(run.ops),
                                   "--seed",
                                   std::to_string(run.seed),
                                   "--warmup",
                                   std::to_string(run.warmup),
                                   "--lat-sample",
                                   std::to_string(run.lat_sample),
                                   "--min-time",
                                   fixed(run.min_time_s, 6),
                                   "--settle-ms",
                                   std::to_string(run.settle_ms)};
  if (!run.timeline_file.empty()) {
    args.insert(args.end(), {"--timeline-out", run.timeline_file, "--sample-ms",
                             std::to_string(run.sample_ms)});
  }
  if (!run.run_dir.empty()) {
    args.push_back("--lat-out");
    args.push_back(run.run_dir + "/" + latency_file(cell));
  }
  add_library_args(a, &args);
  return args;
}

// The columns every row has, whatever happened to the cell.
Row base_row(const Cell& cell, const CellRun& run) {
  Row row;
  row["allocator"] = cell.allocator;
  row["workload"] = cell.workload;
  row["profile"] = cell.profile;
  row["threads"] = std::to_string(cell.threads);
  row["repetition"] = std::to_string(cell.rep);
  row["seed"] = std::to_string(run.seed);
  row["ops"] = std::to_string(run.ops);
  row["warmup"] = std::to_string(run.warmup);
  return row;
}

// Status and error of a child that gave no result (timeout, signal, spawn
// failure, interruption). Returns false when the child exited on its own.
bool outcome_failure(const ChildOutcome& o, double timeout_s, Row* row) {
  Row& r = *row;
  if (o.interrupted) {
    r["status"] = "interrupted";
  } else if (!o.started) {
    r["status"] = "error";
    r["error"] = o.spawn_error;
  } else if (o.timed_out) {
    r["status"] = "timeout";
    r["error"] = "no result after " + fixed(timeout_s, 0) + " s; killed";
  } else if (o.signal == SIGKILL) {
    r["status"] = "oom";
    r["error"] = "killed by SIGKILL (likely the kernel's OOM killer)";
  } else if (o.signal != 0) {
    r["status"] = "crashed";
    r["error"] = std::string("killed by signal ") + std::to_string(o.signal) + " (" +
                 strsignal(o.signal) + ")";
    std::string tail = last_line(o.err);
    if (!tail.empty()) r["error"] += ": " + tail;
  } else {
    return false;
  }
  return true;
}

// The timing and latency columns of an ok cell.
void timing_columns(std::map<std::string, std::string>& kv, Row* row) {
  Row& r = *row;
  auto u = [&](const char* k) { return std::strtoull(kv[k].c_str(), nullptr, 10); };
  const double replays = std::max<double>(1, static_cast<double>(u("replays")));
  const double wall_s = static_cast<double>(u("wall_ns")) / 1e9 / replays;  // Per replay.
  const double total = static_cast<double>(u("total_ops"));
  r["wall_s"] = fixed(wall_s, 9);
  r["mops"] = fixed(total / wall_s / 1e6, 3);
  r["ns_per_op"] = fixed(wall_s * 1e9 / total, 3);
  r["replays"] = kv["replays"];
  for (const char* k :
       {"lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns", "timer_ns"}) {
    r[k] = fixed(std::strtod(kv[k].c_str(), nullptr), 1);
  }
  for (const char* k :
       {"lat_samples", "minflt", "majflt", "nvcsw", "nivcsw", "allocs", "frees", "reallocs",
        "total_ops", "trace_hash", "user_s", "sys_s", "peak_live_bytes", "peak_live_method"}) {
    r[k] = kv[k];
  }
  for (const char* k : {"repair_dropped_frees", "repair_unknown_reallocs", "repair_leaks_freed"}) {
    if (kv.count(k) != 0) r[k] = kv[k];  // Recorded traces only.
  }
}

// The memory columns of an ok cell whose memory figures are valid.
void memory_columns(std::map<std::string, std::string>& kv, Row* row) {
  Row& r = *row;
  auto d = [&](const char* k) {
    return static_cast<double>(std::strtoull(kv[k].c_str(), nullptr, 10));
  };
  const double peak = d("peak_rss_bytes"), base = d("baseline_rss_bytes");
  const double fin = d("final_rss_bytes"), live = d("peak_live_bytes");
  const double peak_net = std::max(0.0, peak - base);
  const double settled = d("settled_rss_bytes");
  for (const char* k :
       {"peak_rss_bytes", "final_rss_bytes", "baseline_rss_bytes", "settled_rss_bytes"}) {
    r[k] = kv[k];
  }
  r["peak_rss_net_bytes"] = fixed(peak_net, 0);
  r["final_rss_net_bytes"] = fixed(std::max(0.0, fin - base), 0);
  r["settled_rss_net_bytes"] = fixed(std::max(0.0, settled - base), 0);
  r["overhead_ratio"] = live > 0 ? fixed(peak_net / live, 3) : "";
  r["overhead_ratio_raw"] = live > 0 ? fixed(peak / live, 3) : "";
  r["overhead_bytes"] = fixed(peak_net - live, 0);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  size_t nl = t.rfind('\n');
  std::string line = nl == std::string::npos ? t : t.substr(nl + 1);
  if (line.size() > 300) line = line.substr(0, 300);
  return line;
}

std::string fixed(double v, int prec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string exe_dir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  buf[n] = '\0';
  return dirname(buf);
}

std::string cell_binary(const AdapterInfo& a) {
  std::string name = "allocbench_cell";
  if (a.cell[0] != '\0') name += std::string("_") + a.cell;
  return exe_dir() + "/" + name;
}

// A profile as part of a file name: a recorded trace's profile is a path, whose
// '/' and other characters outside [A-Za-z0-9._-] become '_'.
std::string file_name_part(std::string s) {
  for (char& ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-') {
      ch = '_';
    }
  }
  return s;
}

std::string latency_file(const Cell& cell) {
  return "latency/" + cell.allocator + "." + cell.workload + "." + file_name_part(cell.profile) +
         ".t" + std::to_string(cell.threads) + ".r" + std::to_string(cell.rep) + ".f32";
}

std::map<std::string, std::string> parse_cell_output(const std::string& out) {
  std::map<std::string, std::string> kv;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("@ab ", 0) != 0) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    kv[line.substr(4, eq - 4)] = line.substr(eq + 1);
  }
  return kv;
}

std::map<std::string, std::string> execute_cell(const Cell& cell, const CellRun& run) {
  Row row = base_row(cell, run);
  const AdapterInfo* a = find_adapter(cell.allocator);
  const Workload* w = find_workload(cell.workload);
  std::string skip = skip_reason(a->caps, w->requirements(cell.profile), cell.threads);
  if (!skip.empty()) {
    row["status"] = "skipped";
    row["error"] = skip;
    return row;
  }
#ifdef ALLOCBENCH_SANITIZER_BUILD
  if (!a->preload.empty()) {
    row["status"] = "skipped";
    row["error"] = "sanitizer build: a preloaded library cannot come before the sanitizer's runtime";
    return row;
  }
#endif
  const std::string missing = cell_missing(*a);
  if (!missing.empty()) {
    row["status"] = "error";
    row["error"] = missing;
    return row;
  }
  if (!run.timeline_file.empty()) unlink(run.timeline_file.c_str());
  ChildOutcome o = run_child(cell_args(*a, cell, run), run.timeout_s, &g_interrupted, run.pid_file,
                             cell_env(*a));
  row["cell_s"] = fixed(o.seconds, 3);
  if (!run.timeline_file.empty()) {
    row["_timeline"] = read_text(run.timeline_file);  // Whatever the cell's status.
    unlink(run.timeline_file.c_str());
  }
  if (outcome_failure(o, run.timeout_s, &row)) return row;
  std::map<std::string, std::string> kv = parse_cell_output(o.out);
  if (o.exit_code != 0 || kv.count("end") == 0) {
    row["status"] = "error";
    row["error"] = "cell exited with status " + std::to_string(o.exit_code) +
                   (kv.count("end") ? "" : " without a result") +
                   (o.err.empty() ? "" : ": " + last_line(o.err));
    return row;
  }
  row["status"] = kv["status"];
  row["error"] = kv["error"];
  row["adapter_version"] = kv["adapter_version"];
  if (kv["status"] != "ok") return row;
  timing_columns(kv, &row);
  if (!run.run_dir.empty() && std::strtoull(kv["lat_samples"].c_str(), nullptr, 10) > 0 &&
      file_exists(run.run_dir + "/" + latency_file(cell))) {
    row["lat_file"] = latency_file(cell);
  }
  row["_phase_rss"] = kv["phase_rss"];  // Not a results.csv column: goes to phases.csv.
  // Not results.csv columns either: for the single-run form's alloc/s and free/s.
  row["_alloc_time_share"] = kv["alloc_time_share"];
  row["_free_time_share"] = kv["free_time_share"];
  row["error"] = kv["note"];  // A caveat on an ok row (docs/csv_schema.md).
  if (kv["memory_valid"] == "1") memory_columns(kv, &row);
  return row;
}

std::map<std::string, std::string> describe_adapter(const AdapterInfo& a, std::string* err) {
  std::vector<std::string> args = {cell_binary(a), "--describe", a.name};
  add_library_args(a, &args);
  ChildOutcome o = run_child(args, 30, &g_interrupted, "", cell_env(a));
  if (err != nullptr) *err = last_line(o.err);
  return parse_cell_output(o.out);
}

std::map<std::string, std::string> describe_allocators(const std::vector<std::string>& names) {
  std::map<std::string, std::string> versions;
  for (const std::string& name : names) {
    const AdapterInfo& a = *find_adapter(name);
    if (!cell_missing(a).empty()) {
      versions[name] = !a.preload.empty() && !file_exists(a.preload) ? "not installed" : "not built";
      continue;
    }
    std::map<std::string, std::string> kv = describe_adapter(a);
    std::string v = kv.count("version") ? kv["version"] : "unknown";
    if (!kv["verify"].empty()) v += " (verify failed: " + kv["verify"] + ")";
    versions[name] = v;
  }
  return versions;
}

namespace {

// The first line a short command prints (stdout), or "" when it fails.
std::string first_line_of(const std::vector<std::string>& argv) {
  ChildOutcome o = run_child(argv, 30, &g_interrupted);
  if (!o.started || o.exit_code != 0) return "";
  return o.out.substr(0, o.out.find('\n'));
}

// "PACKAGE VERSION" of the Debian package that owns `path` (as given, its
// target, or either without the merged /usr prefix), or "".
std::string package_version(const std::string& path) {
  std::vector<std::string> names = {path};
  char real[PATH_MAX];
  if (realpath(path.c_str(), real) != nullptr) names.push_back(real);
  for (size_t i = 0, n = names.size(); i < n; ++i) {
    if (names[i].rfind("/usr/", 0) == 0) names.push_back(names[i].substr(4));
  }
  std::string owner;
  for (size_t i = 0; i < names.size() && owner.empty(); ++i) {
    owner = first_line_of({"/usr/bin/dpkg-query", "-S", names[i]});
  }
  const size_t colon = owner.find(": ");
  if (colon == std::string::npos) return "";
  std::string pkg = owner.substr(0, colon);
  const std::string version = first_line_of({"/usr/bin/dpkg-query", "-W", "-f=${Version}", pkg});
  if (version.empty()) return "";
  const size_t arch = pkg.find(':');
  if (arch != std::string::npos) pkg.resize(arch);
  return pkg + " " + version;
}

}  // namespace

std::string prepare_library_adapters(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    const AdapterInfo& a = *find_adapter(name);
    if (a.preload.empty()) continue;
    if (a.preload_version.empty() && file_exists(a.preload)) {
      const std::string v = package_version(a.preload);
      set_library_version(name, v.empty() ? "unknown (not from a Debian package)" : v);
    }
    if (std::strcmp(a.family, "external") != 0) continue;  // Built-in: its cells report.
#ifdef ALLOCBENCH_SANITIZER_BUILD
    continue;  // Its cells are skipped (execute_cell).
#endif
    std::string err;
    std::map<std::string, std::string> kv = describe_adapter(a, &err);
    if (kv.count("verify") == 0) {
      return "--allocator-lib " + name + ": a process preloading " + a.preload +
             " does not start" + (err.empty() ? "" : ": " + err);
    }
    if (!kv["verify"].empty()) {
      return "--allocator-lib " + name + ": " + a.preload +
             " does not provide malloc when preloaded (" + kv["verify"] + ")";
    }
  }
  return "";
}

}  // namespace allocbench
