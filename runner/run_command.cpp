#include "runner/run_command.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "allocators/common/platform.h"
#include "runner/cell_exec.h"
#include "runner/cli_common.h"
#include "runner/cli_util.h"
#include "runner/context.h"
#include "runner/csv.h"
#include "runner/dry_run.h"
#include "runner/fileio.h"
#include "runner/plan.h"
#include "runner/process.h"
#include "runner/progress.h"
#include "runner/results.h"
#include "runner/resume.h"
#include "runner/run_dir.h"
#include "runner/run_files.h"
#include "runner/run_options.h"

namespace allocbench {
namespace {

// A run in progress: its settings, where it writes, and the directory lock.
struct RunState {
  RunConfig c;
  std::string dir, csv_path;
  std::string run_id;
  std::string resume_note;  // For context.json's "notes" (--allow-rebuild).
  BuildIdentity build;
  std::string host;  // The `host` column of every row.
  int lock_fd = -1;  // flock on DIR/.allocbench.lock, held until the process exits.
};

// --no-aslr: re-executes this runner with ASLR off (personality
// ADDR_NO_RANDOMIZE is inherited by the cells). Returns kContinue when
// nothing is to be done, else the exit status of a failure.
int reexec_without_aslr(const RunConfig& c, const std::vector<std::string>& raw_args) {
  if (!c.no_aslr || platform::aslr_disabled()) return kContinue;
  if (int e = platform::disable_aslr_for_exec(); e != 0) {
    std::fprintf(stderr, "allocbench: --no-aslr: cannot turn ASLR off: %s\n", strerror(e));
    return kExitIo;
  }
  std::vector<std::string> args = {"allocbench", "run"};
  args.insert(args.end(), raw_args.begin(), raw_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  std::fprintf(stderr, "allocbench: --no-aslr: cannot re-execute: %s\n", strerror(errno));
  return kExitIo;
}

// --resume: the settings come from DIR/run.json, with this invocation's
// --timeout, --strict and --allow-rebuild; the build must be the same one
// unless --allow-rebuild.
int prepare_resume(const std::vector<std::string>& raw_args, RunState* s) {
  if (is_dir(s->dir)) {
    if (int rc = lock_dir(s->dir, &s->lock_fd); rc != kContinue) return rc;
    std::string killed = kill_recorded_child(s->dir + "/cell.pid");
    if (!killed.empty()) std::fprintf(stderr, "allocbench: %s\n", killed.c_str());
  }
  if (file_exists(s->dir + "/merge.json")) {
    return usage_error(s->dir + " is a merged run (merge.json); resume its shards and merge again");
  }
  std::vector<std::string> args;
  BuildIdentity saved_build;
  std::string err = read_run_json(s->dir + "/run.json", &s->run_id, &args, &saved_build);
  if (!err.empty()) return usage_error(err);
  // Rows of two different builds must not merge under one run_id.
  std::vector<std::string> diffs = build_differences(saved_build, s->build);
  if (!diffs.empty() && !s->c.allow_rebuild) {
    return usage_error("cannot resume " + s->dir + ": the build differs from the interrupted " +
                       "run's (" + join(diffs, "; ") +
                       "); rerun with --force, or --resume --allow-rebuild to mix them " +
                       "knowingly (recorded in context)");
  }
  if (!diffs.empty()) s->resume_note = "resumed with --allow-rebuild: " + join(diffs, "; ");
  RunConfig saved;
  err = parse_run_args(args, &saved);
  if (!err.empty()) return usage_error(s->dir + "/run.json: " + err);
  saved.out = s->dir;
  saved.resume = true;
  saved.timeout_s = s->c.timeout_s;
  saved.allow_rebuild = s->c.allow_rebuild;
  saved.strict = saved.strict || s->c.strict;  // on the resume's command line, or stored
  s->c = saved;
  return reexec_without_aslr(s->c, raw_args);
}

// A new run in DIR: refuses a DIR that holds a run unless --force, creates
// and locks DIR, and writes run.json.
int prepare_fresh(const std::vector<std::string>& raw_args, RunState* s) {
  if (int rc = reexec_without_aslr(s->c, raw_args); rc != kContinue) return rc;
  const std::string& dir = s->dir;
  const std::string refusal = dir + " already holds a run; use --resume to continue it or " +
                              "--force to start over (the old run is moved to " + dir + ".prev)";
  if (int rc = prepare_run_dir(dir, s->c.force, refusal, &s->lock_fd); rc != kContinue) return rc;
  s->run_id = make_run_id();
  // Store the arguments without --force so a resume never moves results away.
  std::vector<std::string> stored;
  for (const std::string& a : raw_args) {
    if (a != "--force" && a.rfind("--force=", 0) != 0) stored.push_back(a);
  }
  std::string err = write_run_json(dir + "/run.json", s->run_id, stored, s->c, s->build);
  if (!err.empty()) {
    unlink((dir + "/run.json").c_str());
    return io_error(err);
  }
  return kContinue;
}

// --resume: reads the rows written so far (cutting a half-written last one)
// and checks their traces; `done` gets the cells that need not run again.
int load_done_rows(const RunState& s, const std::vector<Cell>& plan, std::set<std::string>* done) {
  if (!s.c.resume || !file_exists(s.csv_path)) return kContinue;
  CsvContents contents;
  std::string err = csv_read(s.csv_path, &contents);
  if (!err.empty()) {
    std::fprintf(stderr, "allocbench: %s\n", err.c_str());
    return kExitUsage;
  }
  err = check_trace_hashes(contents, s.c);
  if (!err.empty()) return usage_error("cannot resume " + s.dir + ": " + err);
  if (contents.truncated_tail) {
    std::fprintf(stderr, "allocbench: discarding a half-written last row in %s\n",
                 s.csv_path.c_str());
    if (truncate(s.csv_path.c_str(), static_cast<off_t>(contents.valid_bytes)) != 0) {
      std::fprintf(stderr, "allocbench: cannot truncate %s\n", s.csv_path.c_str());
      return kExitIo;
    }
  }
  err = keep_valid_rows(contents, s.csv_path, s.dir, s.run_id, plan, done);
  if (err.empty()) err = keep_phases_of(s.dir + "/phases.csv", *done);
  if (err.empty()) {
    err =
        keep_cell_rows_of(s.dir + "/timeline.csv", kCellTimelineHeader, kCellTimelineFields, *done);
  }
  return err.empty() ? kContinue : io_error(err);
}

// Pins the runner (--pin) and writes context.json (context.resume-N.json
// when resuming); versions come from the cells themselves, since each links
// its own allocator.
int write_run_context(const RunState& s, const std::string& command_line) {
  RunContext ctx;
  ctx.run_id = s.run_id;
  ctx.command_line = command_line;
  ctx.start_time = iso_time_now();
  ctx.config = config_json(s.c);
  ctx.aslr_disabled = platform::aslr_disabled();
  ctx.notes = s.resume_note;
  ctx.host = s.host;
  ctx.shard = std::to_string(s.c.shard_index) + "/" + std::to_string(s.c.shard_count);
  ctx.plan_hash = plan_hash(s.c);
  if (!s.c.pin.empty()) {
    if (int e = platform::set_cpu_affinity(s.c.pin.data(), s.c.pin.size()); e != 0) {
      return usage_error("--pin: cannot restrict the run to those CPUs: " +
                         std::string(strerror(e)));
    }
    for (int cpu : s.c.pin) {
      ctx.pinned_cpus += (ctx.pinned_cpus.empty() ? "" : ",") + std::to_string(cpu);
    }
  }
  ctx.allocator_versions = describe_allocators(s.c.allocators);
  std::string path = s.dir + "/context.json";
  for (int k = 1; s.c.resume; ++k) {
    path = s.dir + "/context.resume-" + std::to_string(k) + ".json";
    if (!file_exists(path)) break;
  }
  std::string err = write_context(path, ctx);
  return err.empty() ? kContinue : io_error(err);
}

CellRun cell_run_of(const RunState& s) {
  CellRun run;
  run.pid_file = s.dir + "/cell.pid";
  run.ops = s.c.ops;
  run.seed = s.c.seed;
  run.warmup = s.c.warmup;
  run.lat_sample = s.c.lat_sample;
  run.timeout_s = s.c.timeout_s;
  run.min_time_s = s.c.min_time_s;
  run.settle_ms = s.c.settle_ms;
  run.sample_ms = s.c.sample_ms;
  if (s.c.timeline) run.timeline_file = s.dir + "/timeline.cell.tmp";
  if (s.c.lat_sample > 0) {
    const std::string lat_dir = s.dir + "/latency";
    if (is_dir(lat_dir) || mkdir(lat_dir.c_str(), 0755) == 0) {
      run.run_dir = s.dir;
    } else {
      std::fprintf(stderr, "allocbench: cannot create %s (%s); no latency files\n", lat_dir.c_str(),
                   strerror(errno));
    }
  }
  return run;
}

// Writes a finished cell: phases.csv and timeline.csv first, then its results row, which is
// what marks the cell done, so it is written only once everything else of
// the cell is on disk.
std::string write_cell(const RunState& s, int fd, const Cell& cell,
                       std::map<std::string, std::string>* row) {
  (*row)["schema_version"] = std::to_string(kSchemaVersion);
  (*row)["run_id"] = s.run_id;
  (*row)["host"] = s.host;
  const std::string phases = phases_rows(s.run_id, cell, *row);
  std::string err;
  if (!phases.empty()) err = append_with_header(s.dir + "/phases.csv", kPhasesHeader, phases);
  const std::string timeline = cell_timeline_rows(s.run_id, cell, *row);
  if (err.empty() && !timeline.empty()) {
    err = append_with_header(s.dir + "/timeline.csv", kCellTimelineHeader, timeline);
  }
  // A partial row is cut by --resume; the cell then runs again.
  if (err.empty()) err = write_all_durably(fd, csv_row(*row), s.csv_path);
  return err.empty() ? "" : err + "; the cell is not marked done and runs again on --resume";
}

// Runs the cells of `plan` not in `done`, appending their rows.
int run_cells(const RunState& s, const std::vector<Cell>& plan, const std::set<std::string>& done) {
  int fd = -1;
  if (int rc = open_results(s.csv_path, &fd); rc != kContinue) return rc;
  const CellRun cell_run = cell_run_of(s);
  size_t todo = 0;
  for (const Cell& cell : plan) todo += done.count(cell.key()) ? 0 : 1;
  if (s.c.resume) {
    std::fprintf(stderr, "allocbench: resuming %s: %zu of %zu cells done, %zu to run\n",
                 s.run_id.c_str(), plan.size() - todo, plan.size(), todo);
  }
  Progress progress(todo);
  for (const Cell& cell : plan) {
    if (done.count(cell.key())) continue;
    if (g_interrupted) break;
    std::map<std::string, std::string> row = execute_cell(cell, cell_run);
    if (row["status"] == "interrupted") break;
    std::string err = write_cell(s, fd, cell, &row);
    if (!err.empty()) {
      close(fd);
      return io_error(err);
    }
    progress.cell_done(cell, row);
  }
  if (close(fd) != 0) return io_error("cannot write " + s.csv_path + ": " + strerror(errno));
  progress.finish();
  std::string err = fill_calibration(s.csv_path);
  if (!err.empty()) return io_error(err);
  std::fprintf(stderr, "allocbench: %zu cells run (%s ), results in %s\n", progress.ran(),
               progress.summary().c_str(), s.csv_path.c_str());
  return kContinue;
}

}  // namespace

int cmd_run(const RunConfig& config, const std::vector<std::string>& raw_args,
            const std::string& command_line) {
  if (config.dry_run) return print_dry_run(config);
  RunState s;
  s.c = config;
  s.host = host_name();
  s.dir = s.c.out;
  s.csv_path = s.dir + "/results.csv";
  s.build = build_identity(exe_dir());
  // Library adapters are checked before a fresh run creates anything.
  std::string err = s.c.resume ? "" : prepare_library_adapters(s.c.allocators);
  if (!err.empty()) return usage_error(err);
  int rc = s.c.resume ? prepare_resume(raw_args, &s) : prepare_fresh(raw_args, &s);
  if (rc != kContinue) return rc;
  err = s.c.resume ? prepare_library_adapters(s.c.allocators) : "";
  if (!err.empty()) return usage_error(err);
  const std::vector<Cell> plan = shard_plan(s.c);
  std::set<std::string> done;
  if ((rc = load_done_rows(s, plan, &done)) != kContinue) return rc;
  if ((rc = write_run_context(s, command_line)) != kContinue) return rc;
  if ((rc = run_cells(s, plan, done)) != kContinue) return rc;
  if (g_interrupted) {
    std::fprintf(stderr,
                 "allocbench: interrupted; continue with: allocbench run --resume --out %s\n",
                 s.dir.c_str());
    return kExitInterrupted;
  }
  if (s.c.strict) return strict_check(s.csv_path, s.run_id);
  return 0;
}

}  // namespace allocbench
