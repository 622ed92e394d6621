// allocbench: the benchmark runner CLI. See `allocbench --help` and README.md.
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "allocators/common/platform.h"
#include "runner/cell.h"
#include "runner/cli_util.h"
#include "runner/context.h"
#include "runner/csv.h"
#include "runner/fileio.h"
#include "runner/process.h"
#include "runner/skip.h"
#include "workloads/workload.h"

namespace allocbench {
namespace {

constexpr int kExitUsage = 2;
constexpr const char* kVersion = "1.0";

volatile int g_interrupted = 0;

// phases.csv: RSS at each phase boundary of thread 0, for workloads that ask
// for it (size_ramp, scatter_sizes, sparse_sizes); see docs/csv_schema.md.
constexpr const char* kPhasesHeader =
    "run_id,allocator,workload,profile,threads,repetition,phase,rss_bytes,rss_net_bytes\n";

void on_signal(int) { g_interrupted = 1; }

const char* kUsage =
    "usage: allocbench list\n"
    "       allocbench run [--allocators A,B|all] [--workloads W[:profile],...|all]\n"
    "                      [--threads 1,2] [--reps N] [--seed S] [--ops N] [--warmup N]\n"
    "                      [--order sequential|shuffled] [--lat-sample N] [--timeout SECONDS]\n"
    "                      [--min-time SECONDS] [--no-calibrate] [--pin CPUS] [--no-aslr]\n"
    "                      [--strict] [--force] --out DIR\n"
    "       allocbench run --resume [--allow-rebuild] [--strict] --out DIR\n"
    "       allocbench [--seed N] [--ops N] [--profile {small,mixed,large}] [--allocator NAME]\n"
    "                  [--threads N] [--json]\n"
    "\n"
    "  list        print the adapters and workloads, one per line\n"
    "  run         run the matrix allocators x workloads x threads x reps, one child process\n"
    "              per cell, writing DIR/results.csv, DIR/context.json and DIR/run.json\n"
    "  (no command) the single-run form: mixed_sizes with one allocator, printed as text\n"
    "              or, with --json, as a JSON report\n"
    "\n"
    "  --reps N       repetitions of every cell (1..10000, default 1)\n"
    "  --threads LIST thread counts, each 1..1024 (repeated values are merged)\n"
    "  --ops N        operations per thread (1..1000000000; default 100000; single-run form 200000)\n"
    "  --warmup N     untimed replays of the trace in the same process before the timed ones (0..1000)\n"
    "  --min-time S   timed replays of a cell repeat until they sum to S seconds (default 0:\n"
    "                 one replay); rows record how many (`replays`)\n"
    "  --no-calibrate do not add the `null` calibration cells (no harness/net columns)\n"
    "  --pin CPUS     run the runner and every cell on these CPUs (sched_setaffinity)\n"
    "  --no-aslr      run the cells with address-space randomisation off (re-executes)\n"
    "  --allow-rebuild  with --resume: continue although the build changed (recorded)\n"
    "  --order        sequential, or shuffled: cells x repetitions in a seeded random order\n"
    "  --lat-sample N time about 1 op in N for the latency percentiles (0 disables; at most 1048576)\n"
    "  --timeout S    per-cell limit in whole seconds, 1..604800 (default: $BENCH_TIMEOUT or 1200)\n"
    "  --strict       exit 3 when any cell of the run (test adapters aside) ends other than\n"
    "                 ok or skipped, naming those cells (for CI)\n"
    "  --force        start over in a DIR that has results (they are moved to DIR.prev)\n"
    "  --resume       continue the run in DIR: cells already in results.csv are not rerun;\n"
    "                 refused (exit 2) when the build or a finished cell's trace differs\n"
    "\n"
    "  A run holds an exclusive lock on DIR (DIR/.allocbench.lock) while it runs; a second\n"
    "  run, --resume or --force on the same DIR is refused with exit 2.\n"
    "\n"
    "Exit status: 0 when the run finished (failed cells are rows with their status),\n"
    "2 on bad usage (or DIR in use), 1 on an I/O error (the message names the file and\n"
    "the error; no cell whose rows were not all written counts as done), 3 with --strict\n"
    "when cells failed, 130 when interrupted.\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "allocbench: %s\n", msg.c_str());
  std::fprintf(stderr, "Try 'allocbench --help'.\n");
  return kExitUsage;
}

// An I/O failure: one line with the path and errno text, exit status 1.
int io_error(const std::string& msg) {
  std::fprintf(stderr, "allocbench: %s\n", msg.c_str());
  return 1;
}

std::vector<std::string> adapter_names() {
  std::vector<std::string> out;
  for (const AdapterInfo& a : adapter_registry()) out.push_back(a.name);
  return out;
}

std::vector<std::string> workload_names() {
  std::vector<std::string> out;
  for (const Workload* w : workload_registry()) out.push_back(w->name());
  return out;
}

// Directory of this executable (cell binaries live beside it).
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

bool file_exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string parent_dir(const std::string& p) {
  std::string s = p;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  size_t slash = s.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return s.substr(0, slash);
}

int cmd_list() {
  for (const AdapterInfo& a : adapter_registry()) {
    std::printf("adapter  %-24s %-12s %s\n", a.name, a.family, a.description);
  }
  for (const Workload* w : workload_registry()) {
    std::printf("workload %-24s %-12s %s\n", w->name(),
                ("profiles=" + join(w->profiles(), "|")).c_str(), w->description());
  }
  return 0;
}

// ---------------------------------------------------------------------------
// The run matrix.

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
  double min_time_s = 0;      // Timed replays per cell repeat until they sum to this.
  bool calibrate = true;      // Add the `null` calibration cells (--no-calibrate: off).
  std::vector<int> pin;       // --pin: CPUs for the runner and every cell.
  bool no_aslr = false;       // --no-aslr: cells run with ASLR off.
  bool allow_rebuild = false; // --resume --allow-rebuild.
  std::string out;
  bool force = false;
  bool resume = false;
  bool strict = false;        // --strict: exit 3 if a non-test cell ends other than ok/skipped.
};

// Appends `v` unless already present (repeated names are merged, first
// position kept).
template <typename T>
void push_unique(std::vector<T>* out, const T& v) {
  if (std::find(out->begin(), out->end(), v) == out->end()) out->push_back(v);
}

struct Cell {
  std::string allocator, workload, profile;
  uint32_t threads;
  uint32_t rep;
  std::string key() const {
    return allocator + "|" + workload + "|" + profile + "|" + std::to_string(threads) + "|" +
           std::to_string(rep);
  }
};

// Limits of the numeric arguments (also in --help). They keep every
// derived quantity (deadlines in ns, the plan's size, trace memory) far from
// overflow, and are checked before anything is written.
constexpr uint32_t kMaxReps = 10000;
constexpr uint64_t kMaxOps = 1000000000;      // per thread
constexpr uint32_t kMaxWarmup = 1000;
constexpr uint32_t kMaxLatSample = 1u << 20;
constexpr uint64_t kMaxTimeout = 7 * 24 * 3600;  // seconds
constexpr size_t kMaxPlanCells = 10000000;

// BENCH_TIMEOUT, or 1200 s. Sets *err when the variable is set but invalid.
double default_timeout(std::string* err) {
  const char* v = std::getenv("BENCH_TIMEOUT");
  if (v == nullptr || *v == '\0') return 1200;
  uint64_t t;
  if (!parse_u64(v, &t) || t == 0 || t > kMaxTimeout) {
    *err = "BENCH_TIMEOUT must be a whole number of seconds in 1.." + std::to_string(kMaxTimeout) +
           ", not '" + v + "'";
    return 1200;
  }
  return static_cast<double>(t);
}

// Parses `run` options into `c`. Returns "" or the usage error.
std::string parse_run_args(const std::vector<std::string>& args, RunConfig* c) {
  std::string env_err;
  c->timeout_s = default_timeout(&env_err);
  if (!env_err.empty()) return env_err;
  std::string allocs = "all", works = "all";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--force") {
      c->force = true;
      continue;
    }
    if (a == "--resume") {
      c->resume = true;
      continue;
    }
    if (a == "--strict") {
      c->strict = true;
      continue;
    }
    if (a == "--no-calibrate") {
      c->calibrate = false;
      continue;
    }
    if (a == "--no-aslr") {
      c->no_aslr = true;
      continue;
    }
    if (a == "--allow-rebuild") {
      c->allow_rebuild = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) return "unexpected argument '" + a + "'";
    if (i + 1 >= args.size()) return a + " needs a value";
    const std::string& v = args[++i];
    bool ok = true;
    if (a == "--allocators")
      allocs = v;
    else if (a == "--workloads")
      works = v;
    else if (a == "--out")
      c->out = v;
    else if (a == "--reps") {
      ok = parse_u32(v, &c->reps);
      if (ok && (c->reps == 0 || c->reps > kMaxReps)) {
        return "--reps must be in 1.." + std::to_string(kMaxReps) + ", not " + v;
      }
    }
    else if (a == "--seed")
      ok = parse_u64(v, &c->seed);
    else if (a == "--ops") {
      ok = parse_u64(v, &c->ops);
      if (ok && (c->ops == 0 || c->ops > kMaxOps)) {
        return "--ops must be in 1.." + std::to_string(kMaxOps) + ", not " + v;
      }
    } else if (a == "--warmup") {
      ok = parse_u32(v, &c->warmup);
      if (ok && c->warmup > kMaxWarmup) return "--warmup must be in 0.." + std::to_string(kMaxWarmup);
    } else if (a == "--lat-sample") {
      ok = parse_u32(v, &c->lat_sample);
      if (ok && c->lat_sample > kMaxLatSample) {
        return "--lat-sample must be in 0.." + std::to_string(kMaxLatSample);
      }
    }
    else if (a == "--min-time")
      ok = parse_seconds(v, &c->min_time_s);
    else if (a == "--pin") {
      c->pin.clear();
      for (const std::string& t : split(v, ',')) {
        uint32_t cpu;
        if (!parse_u32(t, &cpu) || cpu >= 4096) return "malformed CPU number '" + t + "' in --pin";
        push_unique(&c->pin, static_cast<int>(cpu));
      }
      if (c->pin.empty()) return "--pin needs at least one CPU";
    }
    else if (a == "--timeout") {
      uint64_t t;
      ok = parse_u64(v, &t);
      if (ok && (t == 0 || t > kMaxTimeout)) {
        return "--timeout must be in 1.." + std::to_string(kMaxTimeout) + " seconds, not " + v;
      }
      c->timeout_s = static_cast<double>(t);
    } else if (a == "--order") {
      if (v != "sequential" && v != "shuffled") {
        return "invalid --order '" + v + "'; choose from {sequential,shuffled}";
      }
      c->shuffled = v == "shuffled";
    } else if (a == "--threads") {
      c->threads.clear();
      for (const std::string& t : split(v, ',')) {
        uint32_t n;
        if (!parse_u32(t, &n) || n == 0 || n > 1024) {
          return "malformed thread count '" + t + "' (each must be in 1..1024)";
        }
        push_unique(&c->threads, n);
      }
      if (c->threads.empty()) return "--threads needs at least one count";
    } else {
      return "unknown option '" + a + "'";
    }
    if (!ok) return "malformed number for " + a + ": '" + v + "'";
  }
  if (c->out.empty()) return "run needs --out DIR";
  if (c->resume) return "";  // The matrix comes from DIR/run.json.

  std::vector<std::string> names =
      allocs == "all" ? std::vector<std::string>{} : split(allocs, ',');
  if (allocs == "all") {
    for (const AdapterInfo& a : adapter_registry()) {
      if (std::strcmp(a.family, "test") != 0) names.push_back(a.name);
    }
  }
  for (const std::string& n : names) {
    if (find_adapter(n) == nullptr) {
      return "unknown allocator '" + n + "'; choose from {" + join(adapter_names(), ",") + "}";
    }
  }
  if (names.empty()) return "--allocators needs at least one name";
  c->allocators.clear();
  for (const std::string& n : names) push_unique(&c->allocators, n);
  // The calibration runs on every (workload, profile, threads) of the run.
  if (c->calibrate) push_unique(&c->allocators, std::string("null"));

  std::vector<std::string> wspecs = works == "all" ? workload_names() : split(works, ',');
  if (wspecs.empty()) return "--workloads needs at least one name";
  for (const std::string& spec : wspecs) {
    size_t colon = spec.find(':');
    std::string wname = spec.substr(0, colon);
    const Workload* w = find_workload(wname);
    if (w == nullptr) {
      return "unknown workload '" + wname + "'; choose from {" + join(workload_names(), ",") + "}";
    }
    if (colon == std::string::npos) {
      for (const std::string& p : w->profiles()) push_unique(&c->workloads, {wname, p});
    } else {
      std::string prof = spec.substr(colon + 1);
      if (!has_profile(*w, prof)) {
        return "unknown profile '" + prof + "' for workload " + wname + "; choose from {" +
               join(w->profiles(), ",") + "}";
      }
      push_unique(&c->workloads, {wname, prof});
    }
  }
  const double cells = static_cast<double>(c->reps) * static_cast<double>(c->workloads.size()) *
                       static_cast<double>(c->threads.size()) * static_cast<double>(c->allocators.size());
  if (cells > static_cast<double>(kMaxPlanCells)) {
    return "the plan has " + std::to_string(static_cast<uint64_t>(cells)) + " cells; at most " +
           std::to_string(kMaxPlanCells) + " are allowed (fewer --reps, allocators or workloads)";
  }
  return "";
}

std::vector<Cell> build_plan(const RunConfig& c) {
  std::vector<Cell> plan;
  for (uint32_t rep = 0; rep < c.reps; ++rep) {
    for (const auto& w : c.workloads) {
      for (uint32_t t : c.threads) {
        for (const std::string& a : c.allocators) {
          plan.push_back(Cell{a, w.first, w.second, t, rep});
        }
      }
    }
  }
  if (c.shuffled) {
    Rng rng(mix64(c.seed ^ 0x5eed0fde11ull));
    for (size_t i = plan.size(); i > 1; --i) std::swap(plan[i - 1], plan[rng.below(i)]);
  }
  return plan;
}

std::string config_json(const RunConfig& c) {
  std::ostringstream j;
  j << "{\"allocators\": [";
  for (size_t i = 0; i < c.allocators.size(); ++i) {
    j << (i ? ", " : "") << json_quote(c.allocators[i]);
  }
  j << "], \"workloads\": [";
  for (size_t i = 0; i < c.workloads.size(); ++i) {
    j << (i ? ", " : "") << json_quote(c.workloads[i].first + ":" + c.workloads[i].second);
  }
  j << "], \"threads\": [";
  for (size_t i = 0; i < c.threads.size(); ++i) j << (i ? ", " : "") << c.threads[i];
  j << "], \"reps\": " << c.reps << ", \"seed\": " << c.seed << ", \"ops\": " << c.ops
    << ", \"warmup\": " << c.warmup << ", \"lat_sample\": " << c.lat_sample << ", \"order\": \""
    << (c.shuffled ? "shuffled" : "sequential") << "\", \"timeout_s\": " << c.timeout_s
    << ", \"min_time_s\": " << c.min_time_s << ", \"calibrate\": " << (c.calibrate ? "true" : "false")
    << ", \"no_aslr\": " << (c.no_aslr ? "true" : "false") << "}";
  return j.str();
}

// run.json: the run id and the exact arguments, so --resume rebuilds the
// same plan in the same order.
std::string write_run_json(const std::string& path, const std::string& run_id,
                           const std::vector<std::string>& args, const RunConfig& c,
                           const BuildIdentity& build) {
  std::ostringstream out;
  out << "{\n  \"run_id\": " << json_quote(run_id) << ",\n";
  out << "  \"git_commit\": " << json_quote(build.git_commit) << ",\n";
  out << "  \"build_flags\": " << json_quote(build.build_flags) << ",\n";
  out << "  \"binaries\": " << json_quote(build.binaries) << ",\n  \"args\": [";
  for (size_t i = 0; i < args.size(); ++i) out << (i ? ", " : "") << json_quote(args[i]);
  out << "],\n  \"config\": " << config_json(c) << "\n}\n";
  return write_file_atomically(path, out.str());
}

// Reads a JSON string literal starting at s[pos] == '"'.
bool read_json_string(const std::string& s, size_t* pos, std::string* out) {
  if (*pos >= s.size() || s[*pos] != '"') return false;
  out->clear();
  for (size_t i = *pos + 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      *pos = i + 1;
      return true;
    }
    if (c == '\\' && i + 1 < s.size()) {
      char e = s[++i];
      if (e == 'n')
        *out += '\n';
      else if (e == 't')
        *out += '\t';
      else if (e == 'r')
        *out += '\r';
      else if (e == 'u' && i + 4 < s.size()) {
        *out += static_cast<char>(std::strtol(s.substr(i + 1, 4).c_str(), nullptr, 16));
        i += 4;
      } else
        *out += e;
    } else {
      *out += c;
    }
  }
  return false;
}

// The string value of top-level `"key": "..."` in a run.json, or "" if absent.
std::string json_string_field(const std::string& s, const std::string& key) {
  size_t p = s.find("\"" + key + "\":");
  if (p == std::string::npos) return "";
  p = s.find('"', p + key.size() + 3);
  std::string v;
  if (p == std::string::npos || !read_json_string(s, &p, &v)) return "";
  return v;
}

std::string read_run_json(const std::string& path, std::string* run_id,
                          std::vector<std::string>* args, BuildIdentity* build) {
  std::ifstream in(path);
  if (!in) return "cannot resume: " + path + " not found (was the run started with --out there?)";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.empty()) {
    return "cannot resume: " + path + " is empty (the run could not write it, e.g. a full disk); " +
           "start over with --force";
  }
  size_t p = s.find("\"run_id\":");
  if (p == std::string::npos) return path + " is corrupt: no run_id";
  p = s.find('"', p + 9);
  if (p == std::string::npos || !read_json_string(s, &p, run_id)) {
    return path + " is corrupt: bad run_id";
  }
  build->git_commit = json_string_field(s, "git_commit");
  build->build_flags = json_string_field(s, "build_flags");
  build->binaries = json_string_field(s, "binaries");
  p = s.find("\"args\":");
  if (p == std::string::npos) return path + " is corrupt: no args";
  p = s.find('[', p);
  if (p == std::string::npos) return path + " is corrupt: bad args";
  ++p;
  for (;;) {
    while (p < s.size() && (s[p] == ' ' || s[p] == '\n' || s[p] == ',')) ++p;
    if (p < s.size() && s[p] == ']') break;
    std::string a;
    if (!read_json_string(s, &p, &a)) return path + " is corrupt: bad args";
    args->push_back(a);
  }
  return "";
}

std::string make_run_id() {
  char buf[64];
  uint64_t r = mix64(platform::now_ns() ^ (static_cast<uint64_t>(getpid()) << 32));
  std::string t = iso_time_now();
  std::string compact;
  for (char c : t) {
    if (c != '-' && c != ':') compact += c;
  }
  std::snprintf(buf, sizeof buf, "%s-%04llx", compact.c_str(),
                static_cast<unsigned long long>(r & 0xffff));
  return buf;
}

// Parses "@ab key=value" lines.
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

std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  size_t nl = t.rfind('\n');
  std::string line = nl == std::string::npos ? t : t.substr(nl + 1);
  if (line.size() > 300) line = line.substr(0, 300);
  return line;
}

std::string fmt(double v, int prec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

// The per-cell settings of a run.
struct CellRun {
  uint64_t ops = 100000;
  uint64_t seed = 1;
  uint32_t warmup = 0;
  uint32_t lat_sample = 64;
  double timeout_s = 1200;
  double min_time_s = 0;
  std::string run_dir;  // The run directory (latency files go to its latency/), or "".
  std::string pid_file;  // Where the running cell's pid is recorded (see run_child), or "".
};

// The latency file of a cell, relative to the run directory.
std::string latency_file(const Cell& cell) {
  return "latency/" + cell.allocator + "." + cell.workload + "." + cell.profile + ".t" +
         std::to_string(cell.threads) + ".r" + std::to_string(cell.rep) + ".f32";
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
          fmt(run.min_time_s, 6)};
  if (!run.run_dir.empty()) {
    args.push_back("--lat-out");
    args.push_back(run.run_dir + "/" + latency_file(cell));
  }
  return args;
}

// Runs one cell (or decides it is skipped) and returns its CSV values.
std::map<std::string, std::string> execute_cell(const Cell& cell, const CellRun& run) {
  const double timeout_s = run.timeout_s;
  std::map<std::string, std::string> row;
  row["allocator"] = cell.allocator;
  row["workload"] = cell.workload;
  row["profile"] = cell.profile;
  row["threads"] = std::to_string(cell.threads);
  row["repetition"] = std::to_string(cell.rep);
  row["seed"] = std::to_string(run.seed);
  row["ops"] = std::to_string(run.ops);
  row["warmup"] = std::to_string(run.warmup);
  const AdapterInfo* a = find_adapter(cell.allocator);
  const Workload* w = find_workload(cell.workload);
  std::string skip = skip_reason(a->caps, w->requirements(cell.profile), cell.threads);
  if (!skip.empty()) {
    row["status"] = "skipped";
    row["error"] = skip;
    return row;
  }
  std::string bin = cell_binary(*a);
  if (!file_exists(bin)) {
    row["status"] = "error";
    row["error"] = "cell binary " + bin + " was not built (is the allocator's library installed?)";
    return row;
  }
  ChildOutcome o =
      run_child(cell_args(*a, cell, run), timeout_s, &g_interrupted, run.pid_file);
  row["cell_s"] = fmt(o.seconds, 3);
  if (o.interrupted) {
    row["status"] = "interrupted";
    return row;
  }
  if (!o.started) {
    row["status"] = "error";
    row["error"] = o.spawn_error;
    return row;
  }
  if (o.timed_out) {
    row["status"] = "timeout";
    row["error"] = "no result after " + fmt(timeout_s, 0) + " s; killed";
    return row;
  }
  if (o.signal != 0) {
    if (o.signal == SIGKILL) {
      row["status"] = "oom";
      row["error"] = "killed by SIGKILL (likely the kernel's OOM killer)";
    } else {
      row["status"] = "crashed";
      row["error"] = std::string("killed by signal ") + std::to_string(o.signal) + " (" +
                     strsignal(o.signal) + ")";
      std::string tail = last_line(o.err);
      if (!tail.empty()) row["error"] += ": " + tail;
    }
    return row;
  }
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

  auto u = [&](const char* k) { return std::strtoull(kv[k].c_str(), nullptr, 10); };
  auto d = [&](const char* k) { return std::strtod(kv[k].c_str(), nullptr); };
  const double replays = std::max<double>(1, static_cast<double>(u("replays")));
  const double wall_s = static_cast<double>(u("wall_ns")) / 1e9 / replays;  // Per replay.
  const double total = static_cast<double>(u("total_ops"));
  row["wall_s"] = fmt(wall_s, 9);
  row["mops"] = fmt(total / wall_s / 1e6, 3);
  row["ns_per_op"] = fmt(wall_s * 1e9 / total, 3);
  row["replays"] = kv["replays"];
  for (const char* k : {"lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns",
                        "timer_ns"}) {
    row[k] = fmt(d(k), 1);
  }
  for (const char* k : {"lat_samples", "minflt", "majflt", "nvcsw", "nivcsw", "allocs", "frees",
                        "reallocs", "total_ops", "trace_hash", "user_s", "sys_s",
                        "peak_live_bytes", "peak_live_method"}) {
    row[k] = kv[k];
  }
  if (!run.run_dir.empty() && u("lat_samples") > 0 &&
      file_exists(run.run_dir + "/" + latency_file(cell))) {
    row["lat_file"] = latency_file(cell);
  }
  row["_phase_rss"] = kv["phase_rss"];  // Not a results.csv column: goes to phases.csv.
  row["error"] = kv["note"];            // A caveat on an ok row (docs/csv_schema.md).
  if (kv["memory_valid"] != "1") return row;  // The memory columns stay empty.
  const double peak = static_cast<double>(u("peak_rss_bytes"));
  const double base = static_cast<double>(u("baseline_rss_bytes"));
  const double fin = static_cast<double>(u("final_rss_bytes"));
  const double live = static_cast<double>(u("peak_live_bytes"));
  const double peak_net = std::max(0.0, peak - base);
  for (const char* k : {"peak_rss_bytes", "final_rss_bytes", "baseline_rss_bytes"}) row[k] = kv[k];
  row["peak_rss_net_bytes"] = fmt(peak_net, 0);
  row["final_rss_net_bytes"] = fmt(std::max(0.0, fin - base), 0);
  row["overhead_ratio"] = live > 0 ? fmt(peak_net / live, 3) : "";
  row["overhead_ratio_raw"] = live > 0 ? fmt(peak / live, 3) : "";
  row["overhead_bytes"] = fmt(peak_net - live, 0);
  return row;
}

std::string hms(double s) {
  long t = static_cast<long>(s + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

// Appends `text` to fd and flushes it to disk.
// Fills harness_ns_per_op and net_ns_per_op of every ok row: the harness's
// cost is the median ns_per_op of the `null` calibration's ok rows on the
// same (workload, profile, threads). Rewrites results.csv through a
// temporary file and rename, so a crash leaves the old file whole.
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
      r["harness_ns_per_op"] = fmt(it->second, 3);
      r["net_ns_per_op"] = fmt(std::strtod(r.at("ns_per_op").c_str(), nullptr) - it->second, 3);
    }
    out += csv_row(r);
  }
  err = write_file_atomically(csv_path, out);
  return err.empty() ? "" : err + " (results.csv is unchanged)";
}

// Why a results row cannot count as a finished cell of this run, or "".
std::string row_problem(const std::map<std::string, std::string>& row, const std::string& run_id,
                        const std::set<std::string>& plan_keys, std::string* key) {
  static const std::set<std::string> kStatuses = {"ok", "crashed", "timeout", "oom", "error", "skipped"};
  if (row.at("schema_version") != std::to_string(kSchemaVersion)) return "schema_version is not " + std::to_string(kSchemaVersion);
  if (row.at("run_id") != run_id) return "run_id '" + row.at("run_id") + "' is not this run's";
  if (kStatuses.count(row.at("status")) == 0) return "unknown status '" + row.at("status") + "'";
  uint32_t t = 0, rep = 0;
  if (!parse_u32(row.at("threads"), &t) || !parse_u32(row.at("repetition"), &rep)) {
    return "threads or repetition is not a number";
  }
  *key = Cell{row.at("allocator"), row.at("workload"), row.at("profile"), t, rep}.key();
  if (plan_keys.count(*key) == 0) {
    return "cell " + row.at("allocator") + " " + row.at("workload") + "/" + row.at("profile") + " t=" +
           row.at("threads") + " rep=" + row.at("repetition") + " is not in this run's plan";
  }
  // Every column that holds a number holds a finite, non-negative one (or
  // nothing); an ok row has its timing.
  static const std::set<std::string> kText = {"schema_version", "run_id", "allocator", "workload", "profile",
                                              "status", "error", "lat_file", "peak_live_method", "trace_hash",
                                              "adapter_version"};
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

// --strict: every row of run `run_id` in `csv_path` whose allocator is not a
// test adapter must be ok or skipped. Names the others on stderr; returns 3
// if there are any, else 0 (1 if the file cannot be read).
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
    failed.push_back(row.at("allocator") + " " + row.at("workload") + "/" + row.at("profile") + " t=" +
                     row.at("threads") + " rep=" + row.at("repetition") + ": " + status +
                     (row.at("error").empty() ? "" : " (" + row.at("error") + ")"));
  }
  if (failed.empty()) return 0;
  std::fprintf(stderr, "allocbench: --strict: %zu cell(s) did not end ok or skipped:\n", failed.size());
  for (const std::string& f : failed) std::fprintf(stderr, "  %s\n", f.c_str());
  return 3;
}

// --resume: keeps the rows of results.csv that are finished cells of this
// run (`done` gets their keys). Any other row (a value out of its type or
// range, a cell outside the plan, a second row of one cell) is moved to
// DIR/results.rejected.csv with a message naming it, and its cell runs again.
std::string keep_valid_rows(const CsvContents& contents, const std::string& csv_path, const std::string& dir,
                            const std::string& run_id, const std::vector<Cell>& plan, std::set<std::string>* done) {
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
    std::fprintf(stderr, "allocbench: %s row %zu (line %zu): %s; moved to results.rejected.csv, the cell runs again\n",
                 csv_path.c_str(), i + 1, i + 2, why.c_str());
    rejected += csv_row(row);
    ++n_rejected;
  }
  if (n_rejected == 0) return "";
  std::string err = append_with_header(dir + "/results.rejected.csv", csv_header(), rejected);
  if (!err.empty()) return err;
  return write_file_atomically(csv_path, kept);
}

// --resume: keeps the phases.csv rows of cells that are done (a cell that
// runs again writes its phases again), and makes sure the file has its header.
std::string keep_phases_of(const std::string& path, const std::set<std::string>& done) {
  std::ifstream in(path);
  if (!in) return "";
  std::string line, out = kPhasesHeader;
  bool changed = false;
  bool first = true;
  while (std::getline(in, line)) {
    if (first && line + "\n" == kPhasesHeader) {
      first = false;
      continue;
    }
    if (first) changed = true;  // the header was missing
    first = false;
    std::vector<std::string> f;
    uint32_t t = 0, rep = 0;
    if (!csv_split(line, &f) || f.size() != 9 || !parse_u32(f[4], &t) || !parse_u32(f[5], &rep) ||
        done.count(Cell{f[1], f[2], f[3], t, rep}.key()) == 0) {
      changed = true;
      continue;
    }
    out += line + "\n";
  }
  if (first) changed = true;  // an empty file: give it its header
  return changed ? write_file_atomically(path, out) : "";
}

// --no-aslr: re-executes this runner with ASLR off (personality
// ADDR_NO_RANDOMIZE is inherited by the cells). Returns only when nothing is
// to be done (0) or on failure (1).
int reexec_without_aslr(const RunConfig& c, const std::vector<std::string>& raw_args) {
  if (!c.no_aslr || platform::aslr_disabled()) return 0;
  if (int e = platform::disable_aslr_for_exec(); e != 0) {
    std::fprintf(stderr, "allocbench: --no-aslr: cannot turn ASLR off: %s\n", strerror(e));
    return 1;
  }
  std::vector<std::string> args = {"allocbench", "run"};
  args.insert(args.end(), raw_args.begin(), raw_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  std::fprintf(stderr, "allocbench: --no-aslr: cannot re-execute: %s\n", strerror(errno));
  return 1;
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

// Resume: every finished row's trace must be the one this build generates,
// or its rows measured other work. Returns "" or what differs.
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
      if (w == nullptr || !has_profile(*w, row.at("profile")) || !parse_u32(row.at("threads"), &t) ||
          t == 0 || t > 1024) {
        return "a finished row names " + key + ", which this build does not have";
      }
      char buf[32];
      std::snprintf(buf, sizeof buf, "%016llx",
                    static_cast<unsigned long long>(current_trace_hash(*w, row.at("profile"), t, c)));
      it = expected.emplace(key, buf).first;
    }
    if (it->second != recorded) {
      return "the trace of " + key + " was " + recorded + " in the interrupted run but is " +
             it->second + " now (the workload generator changed); the rows would measure "
             "different work. Start over with --force";
    }
  }
  return "";
}

int cmd_run(const std::vector<std::string>& raw_args, const std::string& command_line) {
  RunConfig c;
  std::string err = parse_run_args(raw_args, &c);
  if (!err.empty()) return usage_error(err);
  const std::string dir = c.out;
  const std::string csv_path = dir + "/results.csv";
  std::string run_id;
  std::vector<std::string> args = raw_args;
  const BuildIdentity build = build_identity(exe_dir());
  std::string resume_note;
  int lock_fd = -1;  // Held (flock) until the process exits.

  if (c.resume) {
    for (const std::string& a : raw_args) {
      if (a != "--resume" && a != "--out" && a != dir && a != "--timeout" &&
          a != "--allow-rebuild" && a != "--strict" && a.rfind("--", 0) == 0) {
        return usage_error("--resume takes the matrix from " + dir +
                           "/run.json; give only --out (and optionally --timeout, --strict and "
                           "--allow-rebuild)");
      }
    }
    if (is_dir(dir)) {
      bool busy = false;
      lock_fd = lock_out_dir(dir, &err, &busy);
      if (lock_fd < 0) return busy ? usage_error(err) : io_error(err);
      std::string killed = kill_recorded_child(dir + "/cell.pid");
      if (!killed.empty()) std::fprintf(stderr, "allocbench: %s\n", killed.c_str());
    }
    double timeout = c.timeout_s;
    const bool allow_rebuild = c.allow_rebuild;
    const bool strict = c.strict;  // on the resume's command line, or stored with the run
    args.clear();
    BuildIdentity saved_build;
    err = read_run_json(dir + "/run.json", &run_id, &args, &saved_build);
    if (!err.empty()) return usage_error(err);
    // Rows of two different builds must not merge under one run_id.
    std::vector<std::string> diffs;
    if (saved_build.git_commit != build.git_commit) {
      diffs.push_back("git commit " + saved_build.git_commit + " -> " + build.git_commit);
    }
    if (saved_build.build_flags != build.build_flags) {
      diffs.push_back("build flags '" + saved_build.build_flags + "' -> '" + build.build_flags +
                      "'");
    }
    if (saved_build.binaries != build.binaries) {
      diffs.push_back("executables " + saved_build.binaries + " -> " + build.binaries +
                      " (rebuilt)");
    }
    if (!diffs.empty() && !allow_rebuild) {
      return usage_error("cannot resume " + dir + ": the build differs from the interrupted " +
                         "run's (" + join(diffs, "; ") +
                         "); rerun with --force, or --resume --allow-rebuild to mix them " +
                         "knowingly (recorded in context)");
    }
    if (!diffs.empty()) resume_note = "resumed with --allow-rebuild: " + join(diffs, "; ");
    RunConfig saved;
    err = parse_run_args(args, &saved);
    if (!err.empty()) return usage_error(dir + "/run.json: " + err);
    saved.out = dir;
    saved.resume = true;
    saved.timeout_s = timeout;
    saved.allow_rebuild = allow_rebuild;
    saved.strict = saved.strict || strict;
    c = saved;
    if (int rc = reexec_without_aslr(c, raw_args); rc != 0) return rc;
  } else {
    if (int rc = reexec_without_aslr(c, raw_args); rc != 0) return rc;
    std::string parent = parent_dir(dir);
    if (!is_dir(parent)) {
      return usage_error("output directory's parent '" + parent + "' does not exist");
    }
    // Lock an existing directory before looking at what it holds, so that
    // two runs cannot both find it free, and --force cannot move a live run.
    bool busy = false;
    if (is_dir(dir)) {
      lock_fd = lock_out_dir(dir, &err, &busy);
      if (lock_fd < 0) return busy ? usage_error(err) : io_error(err);
    }
    if (file_exists(csv_path) || file_exists(dir + "/run.json")) {
      if (!c.force) {
        return usage_error(dir +
                           " already holds a run; use --resume to continue it or --force "
                           "to start over (the old run is moved to " +
                           dir + ".prev)");
      }
      std::string prev = dir + ".prev";
      if (is_dir(prev)) {
        int prev_fd = lock_out_dir(prev, &err, &busy);
        if (prev_fd < 0) return busy ? usage_error("cannot --force: " + err) : io_error(err);
        close(prev_fd);
      }
      std::string rm = "rm -rf '" + prev + "'";
      if (std::system(rm.c_str()) != 0 || std::rename(dir.c_str(), prev.c_str()) != 0) {
        return io_error("cannot move " + dir + " to " + prev + ": " + strerror(errno));
      }
      close(lock_fd);  // It locked what is now DIR.prev.
      lock_fd = -1;
    }
    if (!is_dir(dir) && mkdir(dir.c_str(), 0755) != 0) {
      return io_error("cannot create " + dir + ": " + strerror(errno));
    }
    if (lock_fd < 0) {
      lock_fd = lock_out_dir(dir, &err, &busy);
      if (lock_fd < 0) return busy ? usage_error(err) : io_error(err);
    }
    run_id = make_run_id();
    // Store the arguments without --force so a resume never moves results away.
    std::vector<std::string> stored;
    for (const std::string& a : raw_args) {
      if (a != "--force") stored.push_back(a);
    }
    err = write_run_json(dir + "/run.json", run_id, stored, c, build);
    if (!err.empty()) {
      unlink((dir + "/run.json").c_str());
      return io_error(err);
    }
  }

  // Cells already done (resume), after cutting a half-written last row.
  std::set<std::string> done;
  CsvContents contents;  // Kept for the row checks once the plan is known.
  const bool have_rows = c.resume && file_exists(csv_path);
  if (have_rows) {
    err = csv_read(csv_path, &contents);
    if (!err.empty()) {
      std::fprintf(stderr, "allocbench: %s\n", err.c_str());
      return kExitUsage;
    }
    err = check_trace_hashes(contents, c);
    if (!err.empty()) return usage_error("cannot resume " + dir + ": " + err);
    if (contents.truncated_tail) {
      std::fprintf(stderr, "allocbench: discarding a half-written last row in %s\n",
                   csv_path.c_str());
      if (truncate(csv_path.c_str(), static_cast<off_t>(contents.valid_bytes)) != 0) {
        std::fprintf(stderr, "allocbench: cannot truncate %s\n", csv_path.c_str());
        return 1;
      }
    }
  }

  std::vector<Cell> plan = build_plan(c);
  if (have_rows) {
    err = keep_valid_rows(contents, csv_path, dir, run_id, plan, &done);
    if (!err.empty()) return io_error(err);
    err = keep_phases_of(dir + "/phases.csv", done);
    if (!err.empty()) return io_error(err);
  }

  // context.json (context.resume-N.json when resuming): versions come from the
  // cells themselves, since each links its own allocator.
  RunContext ctx;
  ctx.run_id = run_id;
  ctx.command_line = command_line;
  ctx.start_time = iso_time_now();
  ctx.config_json = config_json(c);
  ctx.aslr_disabled = platform::aslr_disabled();
  ctx.notes = resume_note;
  if (!c.pin.empty()) {
    if (int e = platform::set_cpu_affinity(c.pin.data(), c.pin.size()); e != 0) {
      return usage_error("--pin: cannot restrict the run to those CPUs: " +
                         std::string(strerror(e)));
    }
    for (int cpu : c.pin) {
      ctx.pinned_cpus += (ctx.pinned_cpus.empty() ? "" : ",") + std::to_string(cpu);
    }
  }
  for (const std::string& name : c.allocators) {
    const AdapterInfo* a = find_adapter(name);
    std::string bin = cell_binary(*a);
    if (!file_exists(bin)) {
      ctx.allocator_versions[name] = "not built";
      continue;
    }
    ChildOutcome o = run_child({bin, "--describe", name}, 30, &g_interrupted);
    auto kv = parse_cell_output(o.out);
    std::string v = kv.count("version") ? kv["version"] : "unknown";
    if (!kv["verify"].empty()) v += " (verify failed: " + kv["verify"] + ")";
    ctx.allocator_versions[name] = v;
  }
  std::string ctx_path = dir + "/context.json";
  if (c.resume) {
    for (int k = 1;; ++k) {
      ctx_path = dir + "/context.resume-" + std::to_string(k) + ".json";
      if (!file_exists(ctx_path)) break;
    }
  }
  err = write_context(ctx_path, ctx);
  if (!err.empty()) return io_error(err);

  int fd = open(csv_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot open " + csv_path + ": " + strerror(errno));
  struct stat csv_st;
  if (fstat(fd, &csv_st) == 0 && csv_st.st_size == 0) {
    err = write_all_durably(fd, csv_header(), csv_path);
    if (!err.empty()) {
      close(fd);
      return io_error(err);
    }
  }

  CellRun cell_run;
  cell_run.pid_file = dir + "/cell.pid";
  cell_run.ops = c.ops;
  cell_run.seed = c.seed;
  cell_run.warmup = c.warmup;
  cell_run.lat_sample = c.lat_sample;
  cell_run.timeout_s = c.timeout_s;
  cell_run.min_time_s = c.min_time_s;
  if (c.lat_sample > 0) {
    const std::string lat_dir = dir + "/latency";
    if (is_dir(lat_dir) || mkdir(lat_dir.c_str(), 0755) == 0) {
      cell_run.run_dir = dir;
    } else {
      std::fprintf(stderr, "allocbench: cannot create %s (%s); no latency files\n",
                   lat_dir.c_str(), strerror(errno));
    }
  }
  size_t todo = 0;
  for (const Cell& cell : plan) todo += done.count(cell.key()) ? 0 : 1;
  if (c.resume) {
    std::fprintf(stderr, "allocbench: resuming %s: %zu of %zu cells done, %zu to run\n",
                 run_id.c_str(), plan.size() - todo, plan.size(), todo);
  }
  std::map<std::string, int> counts;
  uint64_t t_start = platform::now_ns();
  size_t ran = 0;
  const bool tty = isatty(2);
  for (const Cell& cell : plan) {
    if (done.count(cell.key())) continue;
    if (g_interrupted) break;
    std::map<std::string, std::string> row = execute_cell(cell, cell_run);
    if (row["status"] == "interrupted") break;
    row["schema_version"] = std::to_string(kSchemaVersion);
    row["run_id"] = run_id;
    // phases.csv first: the results row is what marks the cell done, so it
    // is written only once everything else of the cell is on disk.
    if (!row["_phase_rss"].empty()) {
      std::string text;
      uint64_t base = std::strtoull(row["baseline_rss_bytes"].c_str(), nullptr, 10);
      std::vector<std::string> values = split(row["_phase_rss"], ';');
      for (size_t i = 0; i < values.size(); ++i) {
        uint64_t v = std::strtoull(values[i].c_str(), nullptr, 10);
        text += run_id + "," + cell.allocator + "," + cell.workload + "," + cell.profile + "," +
                std::to_string(cell.threads) + "," + std::to_string(cell.rep) + "," +
                std::to_string(i) + "," + std::to_string(v) + "," +
                std::to_string(v > base ? v - base : 0) + "\n";
      }
      err = append_with_header(dir + "/phases.csv", kPhasesHeader, text);
      if (!err.empty()) {
        close(fd);
        return io_error(err + "; the cell is not marked done and runs again on --resume");
      }
    }
    err = write_all_durably(fd, csv_row(row), csv_path);
    if (!err.empty()) {
      close(fd);
      // A partial row is cut by --resume; the cell then runs again.
      return io_error(err + "; the cell is not marked done and runs again on --resume");
    }
    ++ran;
    ++counts[row["status"]];
    double elapsed = static_cast<double>(platform::now_ns() - t_start) / 1e9;
    double eta = elapsed / static_cast<double>(ran) * static_cast<double>(todo - ran);
    std::fprintf(stderr, "%s[cell %zu/%zu] %s %s/%s t=%u rep=%u: %s%s%s | elapsed %s ETA %s%s",
                 tty ? "\r\033[K" : "", ran, todo, cell.allocator.c_str(), cell.workload.c_str(),
                 cell.profile.c_str(), cell.threads, cell.rep, row["status"].c_str(),
                 row["status"] == "ok" ? (" " + row["mops"] + " Mops/s").c_str() : "",
                 row["status"] != "ok" && !row["error"].empty() && !tty
                     ? (" (" + row["error"] + ")").c_str()
                     : "",
                 hms(elapsed).c_str(), hms(eta).c_str(), tty ? "" : "\n");
  }
  if (close(fd) != 0) return io_error("cannot write " + csv_path + ": " + strerror(errno));
  if (tty) std::fprintf(stderr, "\n");
  err = fill_calibration(csv_path);
  if (!err.empty()) return io_error(err);
  std::string summary;
  for (const auto& kv : counts) summary += " " + kv.first + "=" + std::to_string(kv.second);
  std::fprintf(stderr, "allocbench: %zu cells run (%s ), results in %s\n", ran, summary.c_str(),
               csv_path.c_str());
  if (g_interrupted) {
    std::fprintf(stderr,
                 "allocbench: interrupted; continue with: allocbench run --resume --out %s\n",
                 dir.c_str());
    return 130;
  }
  if (c.strict) return strict_check(csv_path, run_id);
  return 0;
}

// ---------------------------------------------------------------------------
// The single-run form of seed 001 section 3.7.

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

}  // namespace
}  // namespace allocbench

int main(int argc, char** argv) {
  using namespace allocbench;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  const std::string& cmd = args[0];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("allocbench %s\n", kVersion);
    return 0;
  }
  if (cmd == "list") {
    if (args.size() > 1) return usage_error("list takes no arguments");
    return cmd_list();
  }
  if (cmd == "run") return cmd_run({args.begin() + 1, args.end()}, command_line);
  if (cmd.rfind("--", 0) == 0) return cmd_single(args);
  return usage_error("unknown command '" + cmd + "'; choose from {list,run} or see --help");
}
