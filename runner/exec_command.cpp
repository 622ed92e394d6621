#include "runner/exec_command.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "adapters/adapter.h"
#include "allocators/common/platform.h"
#include "runner/cell_exec.h"
#include "runner/cli_common.h"
#include "runner/cli_options.h"
#include "runner/cli_util.h"
#include "runner/context.h"
#include "runner/csv.h"
#include "runner/fileio.h"
#include "runner/plan.h"
#include "runner/process.h"
#include "runner/progress.h"
#include "runner/rss_sampler.h"
#include "runner/run_dir.h"
#include "runner/run_files.h"

namespace allocbench {

const char* const kExecUsage =
    "usage: allocbench exec --allocators A,B --out DIR [--reps N] [--sample-ms MS]\n"
    "                       [--timeout SECONDS] [--seed S] [--name NAME]\n"
    "                       [--allocator-lib NAME=PATH[@VERSION]]... [--allocator-conf FILE]\n"
    "                       [--force] -- PROGRAM [ARGS...]\n";

namespace {

using Row = std::map<std::string, std::string>;

constexpr uint32_t kMaxSampleMs = 60000;
constexpr const char* kTimelineHeader = "run_id,allocator,rep,t_ms,rss_bytes\n";

bool is_malloc_family(const AdapterInfo& a) { return a.call_path == CallPath::kProcessMalloc; }

std::vector<std::string> malloc_family_names() {
  std::vector<std::string> out;
  for (const AdapterInfo& a : adapter_registry()) {
    if (is_malloc_family(a)) out.push_back(a.name);
  }
  return out;
}

// Fills c->allocators from --allocators: names of malloc-family adapters, or
// "all" of them. Returns "" or the usage error naming the valid ones.
std::string resolve_exec_allocators(const std::string& list, RunConfig* c) {
  const std::vector<std::string> valid = malloc_family_names();
  const std::vector<std::string> names = list == "all" ? valid : split(list, ',');
  if (names.empty()) return "--allocators needs at least one name";
  for (const std::string& n : names) {
    const AdapterInfo* a = find_adapter(n);
    if (a == nullptr) {
      return "unknown allocator '" + n + "'; exec runs malloc-family allocators: choose from {" +
             join(valid, ",") + "}";
    }
    if (!is_malloc_family(*a)) {
      return "allocator '" + n + "' does not replace malloc, so it cannot run a program; " +
             "choose from {" + join(valid, ",") + "}";
    }
    push_unique(&c->allocators, n);
  }
  return "";
}

// What an allocator's runs need: the library to preload ("" for glibc), its
// version, the floor of peak_rss_bytes, or why it cannot run.
struct Preload {
  std::string library;
  std::string version;
  std::string floor_rss;  // baseline_rss_bytes: /bin/true run the same way, or "".
  std::string problem;    // Non-empty: every run of it is an `error` row with this.
};

// An exec run in progress.
struct ExecState {
  const ExecArgs* a = nullptr;
  std::string dir, csv_path, exec_dir, run_id, workload, helper;
  int lock_fd = -1;  // flock on DIR/.allocbench.lock, held until the process exits.
  std::map<std::string, Preload> preloads;
  std::string reference_hash;  // The stdout hash the others must match ("" until known).
  std::string reference_of;    // Which run it is ("glibc rep 0").
};

// The library that provides malloc for adapter `a` in a program: a library
// adapter's file, else the one its cell binary's malloc comes from. Sets
// p->library or p->problem.
void find_library(const AdapterInfo& a, Preload* p) {
  if (std::strcmp(a.name, "glibc") == 0) return;
  if (!a.preload.empty()) {
    p->library = a.preload;
    if (!file_exists(a.preload)) p->problem = "library " + a.preload + " is not installed";
    return;
  }
  const std::string bin = cell_binary(a);
  if (!file_exists(bin)) {
    p->problem = "cell binary " + bin + " was not built, so its malloc library is unknown";
    return;
  }
  std::string err;
  std::map<std::string, std::string> kv = describe_adapter(a, &err);
  const std::string lib = kv["malloc_library"];
  if (lib.empty() || lib.find("/libc.so") != std::string::npos) {
    p->problem = bin + " --describe names no malloc library but libc's" +
                 (err.empty() ? "" : " (" + err + ")");
    return;
  }
  p->library = lib;
}

// The key=value fields of an allocbench_exec report, or empty when it wrote none.
std::map<std::string, std::string> read_report(const std::string& path) {
  std::map<std::string, std::string> kv;
  std::ifstream in(path);
  std::string field;
  while (in >> field) {
    const size_t eq = field.find('=');
    if (eq != std::string::npos) kv[field.substr(0, eq)] = field.substr(eq + 1);
  }
  return kv;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// FNV-1a of a file's bytes, 16 hex digits.
std::string file_hash(const std::string& path) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : slurp(path)) {
    h ^= ch;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return buf;
}

// The helper's command line for one run of the program.
std::vector<std::string> helper_args(const ExecState& s, const std::string& library,
                                     const std::string& base, const std::string& pid_file,
                                     const std::vector<std::string>& program) {
  std::vector<std::string> args = {s.helper};
  if (!library.empty()) args.insert(args.end(), {"--preload", library});
  args.insert(args.end(), {"--pid-file", pid_file, "--stdout", base + ".stdout", "--stderr",
                           base + ".stderr", base + ".rusage", "--"});
  args.insert(args.end(), program.begin(), program.end());
  return args;
}

// peak_rss_bytes of /bin/true run through the helper with `library`
// preloaded: the helper's RSS at fork plus the library's start-up; "" if it
// did not run.
std::string measure_floor(const ExecState& s, const std::string& library) {
  const std::string base = s.exec_dir + "/floor";
  ChildOutcome o = run_child(helper_args(s, library, base, base + ".pid", {"/bin/true"}), 30,
                             &g_interrupted, "", {"LD_PRELOAD="});
  std::map<std::string, std::string> kv = read_report(base + ".rusage");
  for (const char* ext : {".stdout", ".stderr", ".rusage", ".pid"}) unlink((base + ext).c_str());
  return o.exit_code == 0 && kv["exit"] == "0" ? kv["peak_rss_bytes"] : "";
}

// Readies every allocator's Preload (library, version, floor).
void prepare_preloads(ExecState* s) {
  const std::vector<std::string>& names = s->a->run.config.allocators;
  const std::map<std::string, std::string> versions = describe_allocators(names);
  for (const std::string& name : names) {
    Preload& p = s->preloads[name];
    p.version = versions.at(name);
    find_library(*find_adapter(name), &p);
#ifdef ALLOCBENCH_SANITIZER_BUILD
    if (!p.library.empty())
      p.problem = "sanitizer build: its cells, which name the library, are not built";
#endif
    if (p.problem.empty()) p.floor_rss = measure_floor(*s, p.library);
  }
}

int write_exec_context(const ExecState& s, const std::string& command_line) {
  const ExecArgs& a = *s.a;
  RunContext ctx;
  ctx.run_id = s.run_id;
  ctx.host = host_name();
  ctx.shard = "0/1";
  ctx.command_line = command_line;
  ctx.start_time = iso_time_now();
  ctx.aslr_disabled = platform::aslr_disabled();
  nlohmann::ordered_json preloads = nlohmann::ordered_json::object();
  for (const auto& [name, p] : s.preloads) {
    ctx.allocator_versions[name] = p.version;
    preloads[name] = p.problem.empty() ? p.library : "(" + p.problem + ")";
  }
  ctx.config = {{"command", "exec"},
                {"allocators", a.run.config.allocators},
                {"workload", s.workload},
                {"program", a.program},
                {"reps", a.run.config.reps},
                {"seed", a.run.config.seed},
                {"order", "shuffled"},
                {"sample_ms", a.sample_ms},
                {"timeout_s", a.run.config.timeout_s},
                {"preloads", preloads}};
  const std::string err = write_context(s.dir + "/context.json", ctx);
  return err.empty() ? kContinue : io_error(err);
}

// The shuffled order of the runs, with the run whose output is the
// reference first (glibc's repetition 0 when glibc is among them), so every
// row can be checked, and written, as soon as its run ends.
std::vector<Cell> exec_plan(const ExecArgs& a, const std::string& workload) {
  RunConfig c = a.run.config;
  c.workloads = {{workload, "default"}};
  c.threads = {1};
  c.shuffled = true;
  std::vector<Cell> plan = build_plan(c);
  auto ref = std::find_if(plan.begin(), plan.end(),
                          [](const Cell& x) { return x.allocator == "glibc" && x.rep == 0; });
  if (ref != plan.end()) std::rotate(plan.begin(), ref, ref + 1);
  return plan;
}

// Status and error of a run whose report says the program did not exit 0;
// false when it did.
bool program_failure(std::map<std::string, std::string>& kv, const std::string& base, Row* row) {
  Row& r = *row;
  const int sig = std::atoi(kv["signal"].c_str());
  const std::string tail = last_line(slurp(base + ".stderr"));
  if (sig == SIGKILL) {
    r["status"] = "oom";
    r["error"] = "killed by SIGKILL (likely the kernel's OOM killer)";
  } else if (sig != 0) {
    r["status"] = "crashed";
    r["error"] = "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  } else if (kv["exit"] != "0") {
    r["status"] = "error";
    r["error"] = "exited with status " + kv["exit"];
  } else {
    return false;
  }
  if (!tail.empty()) r["error"] += ": " + tail;
  return true;
}

// The measurement columns of an ok run.
void measurement_columns(std::map<std::string, std::string>& kv, const Preload& p, Row* row) {
  Row& r = *row;
  for (const char* k :
       {"wall_s", "user_s", "sys_s", "peak_rss_bytes", "minflt", "majflt", "nvcsw", "nivcsw"}) {
    r[k] = kv[k];
  }
  if (p.floor_rss.empty()) return;
  r["baseline_rss_bytes"] = p.floor_rss;
  const double net = std::strtod(kv["peak_rss_bytes"].c_str(), nullptr) -
                     std::strtod(p.floor_rss.c_str(), nullptr);
  r["peak_rss_net_bytes"] = fixed(std::max(0.0, net), 0);
}

// Compares the run's stdout with the reference (the first run that exited
// 0 becomes it). Returns false, with the row's status and error set, on a mismatch.
bool output_matches(ExecState* s, const Cell& cell, const std::string& hash, Row* row) {
  if (s->reference_hash.empty()) {
    s->reference_hash = hash;
    s->reference_of = cell.allocator + " rep " + std::to_string(cell.rep);
    return true;
  }
  if (hash == s->reference_hash) return true;
  (*row)["status"] = "error";
  (*row)["error"] = "stdout differs from that of " + s->reference_of + " (hash " + hash + ", not " +
                    s->reference_hash + ")";
  return false;
}

// Runs the program once for `cell` and returns its row; `samples` gets its
// RSS timeline.
Row run_program(ExecState* s, const Cell& cell, std::vector<RssSample>* samples) {
  const ExecArgs& a = *s->a;
  const Preload& p = s->preloads.at(cell.allocator);
  Row row = {{"schema_version", std::to_string(kSchemaVersion)},
             {"run_id", s->run_id},
             {"host", host_name()},
             {"allocator", cell.allocator},
             {"workload", cell.workload},
             {"profile", cell.profile},
             {"threads", "1"},
             {"repetition", std::to_string(cell.rep)},
             {"seed", std::to_string(a.run.config.seed)},
             {"ops", "0"},
             {"warmup", "0"},
             {"adapter_version", p.version}};
  if (!p.problem.empty()) {
    row["status"] = "error";
    row["error"] = p.problem;
    return row;
  }
  const std::string base = s->exec_dir + "/" + cell.allocator + ".r" + std::to_string(cell.rep);
  const std::string pid_file = s->exec_dir + "/program.pid";
  unlink(pid_file.c_str());
  unlink((base + ".rusage").c_str());
  RssSampler sampler(pid_file, uint64_t{a.sample_ms} * 1000000);
  // LD_PRELOAD is emptied for the helper, whose RSS is the floor; the
  // program gets the library through --preload.
  ChildOutcome o = run_child(helper_args(*s, p.library, base, pid_file, a.program),
                             a.run.config.timeout_s, &g_interrupted, "", {"LD_PRELOAD="});
  *samples = sampler.stop();
  unlink(pid_file.c_str());
  row["cell_s"] = fixed(o.seconds, 3);
  std::map<std::string, std::string> kv = read_report(base + ".rusage");
  if (o.interrupted) {
    row["status"] = "interrupted";
  } else if (o.timed_out) {
    row["status"] = "timeout";
    row["error"] = "still running after " + fixed(a.run.config.timeout_s, 0) +
                   " s; its process group was killed";
  } else if (!o.started || kv.count("exit") == 0) {
    row["status"] = "error";
    row["error"] = "allocbench_exec gave no report (" +
                   (o.started ? "exit " + std::to_string(o.exit_code) : o.spawn_error) +
                   (o.err.empty() ? "" : ": " + last_line(o.err)) + ")";
  } else if (!program_failure(kv, base, &row)) {
    row["trace_hash"] = file_hash(base + ".stdout");
    if (output_matches(s, cell, row["trace_hash"], &row)) {
      row["status"] = "ok";
      measurement_columns(kv, p, &row);
    }
  }
  return row;
}

std::string timeline_rows(const ExecState& s, const Cell& cell,
                          const std::vector<RssSample>& samples) {
  std::string out;
  for (const RssSample& x : samples) {
    out += s.run_id + "," + cell.allocator + "," + std::to_string(cell.rep) + "," +
           fixed(x.t_ms, 3) + "," + std::to_string(x.rss_bytes) + "\n";
  }
  return out;
}

// Runs every run of the plan, appending its row and its timeline.
int run_all(ExecState* s, const std::vector<Cell>& plan) {
  int fd = -1;
  if (int rc = open_results(s->csv_path, &fd); rc != kContinue) return rc;
  Progress progress(plan.size());
  for (const Cell& cell : plan) {
    if (g_interrupted) break;
    std::vector<RssSample> samples;
    Row row = run_program(s, cell, &samples);
    if (row["status"] == "interrupted") break;
    // The timeline first: the row is what says the run is done.
    std::string err = samples.empty()
                          ? ""
                          : append_with_header(s->dir + "/timeline.csv", kTimelineHeader,
                                               timeline_rows(*s, cell, samples));
    if (err.empty()) err = write_all_durably(fd, csv_row(row), s->csv_path);
    if (!err.empty()) {
      close(fd);
      return io_error(err);
    }
    progress.cell_done(cell, row);
  }
  if (close(fd) != 0) return io_error("cannot write " + s->csv_path + ": " + strerror(errno));
  progress.finish();
  std::fprintf(stderr, "allocbench: %zu runs (%s ), results in %s\n", progress.ran(),
               progress.summary().c_str(), s->csv_path.c_str());
  return kContinue;
}

}  // namespace

void add_exec_options(CLI::App* app, ExecArgs* a) {
  RunConfig* c = &a->run.config;
  add_allocator_options(app, &a->run,
                        "allocators to run the program with: malloc-family adapters only\n"
                        "(glibc runs it with no preload); all: every one");
  add_repetition_options(app, c, "runs per allocator", "seed of the shuffled order (default 1)");
  add_valued(app, "--sample-ms", "MS",
             "period of the RSS timeline (DIR/timeline.csv), 1..60000, default 10",
             [a](const std::string& v) {
               a->sample_ms = static_cast<uint32_t>(number_in("--sample-ms", v, 1, kMaxSampleMs));
             });
  add_timeout_option(app, c, "per-run limit");
  add_valued(app, "--name", "NAME",
             "the rows' workload is exec:NAME (default: the program's basename)",
             [a](const std::string& v) { a->name = v; });
  add_valued(app, "--out", "DIR",
             "the run directory (results.csv, timeline.csv, context.json, exec/)",
             [c](const std::string& v) { c->out = v; });
  app->add_flag("--force", c->force,
                "start over in a DIR that has results (they are moved to DIR.prev)");
}

std::string finish_exec_options(const CLI::App& app, ExecArgs* a) {
  std::string err = extras_problem(app);
  if (!err.empty()) return err;
  RunConfig* c = &a->run.config;
  if (c->out.empty()) return "exec needs --out DIR";
  if (a->program.empty()) return "exec needs the program to run after `--`: -- PROGRAM [ARGS...]";
  if (a->name.empty()) {
    a->name = a->program[0].substr(a->program[0].rfind('/') + 1);
  }
  if (a->name.empty() || a->name.find_first_of(",\"\n\r") != std::string::npos) {
    return "--name must be non-empty without commas, quotes or newlines, not '" + a->name + "'";
  }
  err = register_libraries(a->run);
  if (!err.empty()) return err;
  return resolve_exec_allocators(a->run.allocators, c);
}

int cmd_exec(const ExecArgs& a, const std::string& command_line) {
  ExecState s;
  s.a = &a;
  s.dir = a.run.config.out;
  s.csv_path = s.dir + "/results.csv";
  s.exec_dir = s.dir + "/exec";
  s.workload = "exec:" + a.name;
  s.helper = exe_dir() + "/allocbench_exec";
  if (!file_exists(s.helper)) return io_error("the helper " + s.helper + " was not built");
  // Library adapters are checked before anything is created.
  std::string err = prepare_library_adapters(a.run.config.allocators);
  if (!err.empty()) return usage_error(err);
  int rc = prepare_run_dir(s.dir, a.run.config.force,
                           s.dir + " already holds results; use --force to start over (the old " +
                               "ones are moved to " + s.dir + ".prev)",
                           &s.lock_fd);
  if (rc != kContinue) return rc;
  if (!is_dir(s.exec_dir) && mkdir(s.exec_dir.c_str(), 0755) != 0) {
    return io_error("cannot create " + s.exec_dir + ": " + strerror(errno));
  }
  s.run_id = make_run_id();
  prepare_preloads(&s);
  if ((rc = write_exec_context(s, command_line)) != kContinue) return rc;
  if ((rc = run_all(&s, exec_plan(a, s.workload))) != kContinue) return rc;
  if (g_interrupted) {
    std::fprintf(stderr, "allocbench: interrupted; the rows written so far are in %s\n",
                 s.csv_path.c_str());
    return kExitInterrupted;
  }
  return 0;
}

}  // namespace allocbench
