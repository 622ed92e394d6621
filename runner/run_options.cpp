#include "runner/run_options.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "adapters/adapter.h"
#include "runner/cli_options.h"
#include "runner/cli_util.h"

namespace allocbench {

const char* const kRunUsage =
    "usage: allocbench run [--allocators A,B|all] [--workloads W[:profile],...|all]\n"
    "                      [--threads 1,2] [--reps N] [--seed S] [--ops N] [--warmup N]\n"
    "                      [--order sequential|shuffled] [--lat-sample N] [--timeout SECONDS]\n"
    "                      [--min-time SECONDS] [--settle-ms MS] [--timeline [--sample-ms MS]]\n"
    "                      [--no-calibrate] [--pin CPUS] [--no-aslr]\n"
    "                      [--allocator-lib NAME=PATH[@VERSION]]... [--allocator-conf FILE]\n"
    "                      [--strict] [--force] [--shard I/N] --out DIR\n"
    "       allocbench run ... --dry-run [--shard I/N] [--out DIR]\n"
    "       allocbench run --resume [--allow-rebuild] [--strict] [--timeout SECONDS] --out DIR\n";

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

void add_allocator_options(CLI::App* app, RunArgs* a, const std::string& allocators_help) {
  add_valued(app, "--allocators", "A,B|all", allocators_help,
             [a](const std::string& v) { a->allocators = v; });
  app->add_option(
         "--allocator-lib",
         [a](const CLI::results_t& r) {
           for (const std::string& v : r) {
             if (v.empty()) fail_usage("--allocator-lib needs a value");
             a->libs.push_back(v);
           }
           return true;
         },
         "an allocator that is only a shared library, run under LD_PRELOAD\n"
         "(repeatable); its version is VERSION, else the Debian package's")
      ->option_text("NAME=PATH[@VERSION]")
      ->expected(0, 1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_valued(app, "--allocator-conf", "FILE",
             "library allocators, one `NAME PATH[@VERSION]` per line (# comments)",
             [a](const std::string& v) { a->lib_conf = v; });
}

void add_repetition_options(CLI::App* app, RunConfig* c, const std::string& reps_help,
                            const std::string& seed_help) {
  add_valued(app, "--reps", "N", reps_help + " (1..10000, default 1)", [c](const std::string& v) {
    c->reps = static_cast<uint32_t>(number_in("--reps", v, 1, kMaxReps));
  });
  add_valued(app, "--seed", "S", seed_help,
             [c](const std::string& v) { c->seed = number_in("--seed", v, 0, UINT64_MAX); });
}

void add_timeout_option(CLI::App* app, RunConfig* c, const std::string& what) {
  app->preparse_callback([c](size_t) {
    std::string err;
    c->timeout_s = default_timeout(&err);
    if (!err.empty()) fail_usage(err);
  });
  add_valued(app, "--timeout", "SECONDS",
             what + " in whole seconds, 1..604800\n(default: $BENCH_TIMEOUT or 1200)",
             [c](const std::string& v) {
               c->timeout_s =
                   static_cast<double>(number_in("--timeout", v, 1, kMaxTimeout, " seconds"));
             });
}

namespace {

// "1,2,4": thread counts, each 1..kMaxThreads, repeats merged.
std::vector<uint32_t> thread_list(const std::string& v) {
  std::vector<uint32_t> out;
  for (const std::string& t : split(v, ',')) {
    uint32_t n;
    if (!parse_u32(t, &n) || n == 0 || n > kMaxThreads) {
      fail_usage("malformed thread count '" + t + "' (each must be in 1.." +
                 std::to_string(kMaxThreads) + ")");
    }
    push_unique(&out, n);
  }
  if (out.empty()) fail_usage("--threads needs at least one count");
  return out;
}

// "0,1": CPU numbers for --pin, repeats merged.
std::vector<int> cpu_list(const std::string& v) {
  std::vector<int> out;
  for (const std::string& t : split(v, ',')) {
    uint32_t cpu;
    if (!parse_u32(t, &cpu) || cpu >= kMaxPinCpu)
      fail_usage("malformed CPU number '" + t + "' in --pin");
    push_unique(&out, static_cast<int>(cpu));
  }
  if (out.empty()) fail_usage("--pin needs at least one CPU");
  return out;
}

void add_matrix_options(CLI::App* app, RunArgs* a) {
  RunConfig* c = &a->config;
  add_allocator_options(app, a,
                        "adapters to run (`allocbench list`; default all but the test\n"
                        "ones); the `null` calibration is added unless --no-calibrate");
  add_valued(app, "--workloads", "W[:P],...|all",
             "workloads, each with all its profiles or one (W:P);\ndefault all",
             [a](const std::string& v) { a->workloads = v; });
  add_valued(app, "--threads", "LIST", "thread counts, each 1..1024 (repeated values are merged)",
             [c](const std::string& v) { c->threads = thread_list(v); });
  add_repetition_options(app, c, "repetitions of every cell", "seed of every trace (default 1)");
  add_valued(app, "--ops", "N", "operations per thread (1..1000000000, default 100000)",
             [c](const std::string& v) { c->ops = number_in("--ops", v, 1, kMaxOps); });
  add_valued(app, "--order", "{sequential,shuffled}",
             "sequential, or cells x repetitions in a random order seeded\nby --seed",
             [c](const std::string& v) {
               if (v != "sequential" && v != "shuffled") {
                 fail_usage("invalid --order '" + v + "'; choose from {sequential,shuffled}");
               }
               c->shuffled = v == "shuffled";
             });
}

void add_cell_options(CLI::App* app, RunConfig* c) {
  add_valued(app, "--warmup", "N",
             "untimed replays of the trace in the same process before the\ntimed ones (0..1000, "
             "default 0)",
             [c](const std::string& v) {
               c->warmup = static_cast<uint32_t>(number_in("--warmup", v, 0, kMaxWarmup));
             });
  add_valued(
      app, "--lat-sample", "N",
      "time about 1 op in N for the latency percentiles (0 disables;\nat most 1048576; default 64)",
      [c](const std::string& v) {
        c->lat_sample = static_cast<uint32_t>(number_in("--lat-sample", v, 0, kMaxLatSample));
      });
  add_valued(app, "--min-time", "SECONDS",
             "timed replays of a cell repeat until they sum to this many\n"
             "seconds (default 0: one replay); rows record how many (`replays`)",
             [c](const std::string& v) {
               if (!parse_seconds(v, &c->min_time_s)) {
                 fail_usage("malformed number for --min-time: '" + v + "'");
               }
             });
  add_timeout_option(app, c, "per-cell limit");
  add_valued(app, "--settle-ms", "MS",
             "idle delay after a cell's timed replays, with nothing live, before\n"
             "settled_rss_bytes is read (0..60000, default 50: five periods of\n"
             "coalesce_arena_reclaim's reclaimer)",
             [c](const std::string& v) {
               c->settle_ms = static_cast<uint32_t>(number_in("--settle-ms", v, 0, kMaxSettleMs));
             });
  app->add_flag("--timeline", c->timeline,
                "each cell samples its own RSS on a thread that is not timed,\n"
                "into DIR/timeline.csv (docs/csv_schema.md)");
  add_valued(app, "--sample-ms", "MS", "with --timeline: its period, 1..60000 (default 10)",
             [c](const std::string& v) {
               c->sample_ms =
                   static_cast<uint32_t>(number_in("--sample-ms", v, 1, kMaxCellSampleMs));
             });
  add_valued(app, "--pin", "CPUS",
             "run the runner and every cell on these CPUs (sched_setaffinity)",
             [c](const std::string& v) { c->pin = cpu_list(v); });
  app->add_flag_callback(
      "--no-calibrate", [c] { c->calibrate = false; },
      "do not add the `null` calibration cells (no harness/net columns)");
  app->add_flag("--no-aslr", c->no_aslr,
                "run the cells with address-space randomisation off (re-executes)");
}

// "I/N": shard I (0-based) of N, 1 <= N <= kMaxShards.
void parse_shard(const std::string& v, RunConfig* c) {
  const std::vector<std::string> parts = split(v, '/');
  uint32_t i = 0, n = 0;
  if (parts.size() != 2 || !parse_u32(parts[0], &i) || !parse_u32(parts[1], &n) || n == 0 ||
      n > kMaxShards || i >= n) {
    fail_usage("malformed --shard '" + v + "'; expected I/N with 0 <= I < N <= " +
               std::to_string(kMaxShards) + " (e.g. 0/4, as $SLURM_ARRAY_TASK_ID/4)");
  }
  c->shard_index = i;
  c->shard_count = n;
}

void add_output_options(CLI::App* app, RunConfig* c) {
  add_valued(app, "--shard", "I/N",
             "run only shard I (0-based) of N: whole (workload, profile,\n"
             "threads) groups balanced by estimated cost (docs/scale_out.md)",
             [c](const std::string& v) { parse_shard(v, c); });
  app->add_flag("--dry-run", c->dry_run,
                "print the plan (cells, estimated duration, the shards) and\n"
                "exit without running anything");
  add_valued(app, "--out", "DIR",
             "the run directory (results.csv, context.json, run.json,\nlatency/, phases.csv, "
             "timeline.csv)",
             [c](const std::string& v) { c->out = v; });
  app->add_flag("--strict", c->strict,
                "exit 3 when any cell of the run (test adapters aside) ends\n"
                "other than ok or skipped, naming those cells (for CI)");
  app->add_flag("--force", c->force,
                "start over in a DIR that has results (they are moved to DIR.prev)");
  app->add_flag("--resume", c->resume,
                "continue the run in DIR: cells already in results.csv are not\n"
                "rerun; refused (exit 2) when the build or a finished cell's\n"
                "trace differs");
  app->add_flag("--allow-rebuild", c->allow_rebuild,
                "with --resume: continue although the build changed (recorded)");
}

}  // namespace

void add_run_options(CLI::App* app, RunArgs* a) {
  add_matrix_options(app, a);
  add_cell_options(app, &a->config);
  add_output_options(app, &a->config);
}

std::string register_libraries(const RunArgs& args) {
  std::vector<std::string> specs;
  if (!args.lib_conf.empty()) {
    std::ifstream in(args.lib_conf);
    if (!in) return "--allocator-conf: cannot read " + args.lib_conf;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      const size_t hash = line.find('#');
      if (hash != std::string::npos) line.resize(hash);
      std::istringstream fields(line);
      std::string name, path, extra;
      if (!(fields >> name)) continue;
      if (!(fields >> path) || (fields >> extra)) {
        return args.lib_conf + ":" + std::to_string(n) +
               ": expected `NAME PATH[@VERSION]`, not '" + line + "'";
      }
      const std::string err = register_library_adapter(name + "=" + path);
      if (!err.empty()) return args.lib_conf + ":" + std::to_string(n) + ": " + err;
    }
  }
  for (const std::string& spec : args.libs) {
    const std::string err = register_library_adapter(spec);
    if (!err.empty()) return err;
  }
  return "";
}

std::string finish_run_options(const CLI::App& app, RunArgs* a) {
  std::string err = extras_problem(app);
  if (!err.empty()) return err;
  RunConfig* c = &a->config;
  if (c->out.empty() && !c->dry_run) return "run needs --out DIR";
  if (c->resume && c->dry_run) return "--dry-run prints a new plan; it does not go with --resume";
  if (!c->timeline && app.get_option("--sample-ms")->count() > 0) {
    return "--sample-ms is the period of --timeline; give --timeline too";
  }
  if (!c->resume) {
    err = register_libraries(*a);
    if (err.empty()) err = resolve_matrix(a->allocators, a->workloads, c);
    if (err.empty() && c->shard_count > group_count(*c)) {
      err = "--shard " + std::to_string(c->shard_index) + "/" + std::to_string(c->shard_count) +
            ": the plan has only " + std::to_string(group_count(*c)) +
            " (workload, profile, threads) groups and a shard runs whole groups (so that " +
            "each host has its own glibc and calibration cells); use at most " +
            std::to_string(group_count(*c)) + " shards";
    }
    return err;
  }
  // The matrix comes from DIR/run.json.
  for (const CLI::Option* o : app.get_options()) {
    const std::string name = o->get_name();
    if (o->count() > 0 && name != "--resume" && name != "--out" && name != "--timeout" &&
        name != "--strict" && name != "--allow-rebuild") {
      return "--resume takes the matrix from " + c->out +
             "/run.json; give only --out (and optionally --timeout, --strict and "
             "--allow-rebuild), not " +
             name;
    }
  }
  return "";
}

std::string parse_run_args(const std::vector<std::string>& args, RunConfig* c) {
  CLI::App app("allocbench run", "allocbench run");
  app.allow_extras();
  RunArgs a;
  add_run_options(&app, &a);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them reversed.
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  std::string err = finish_run_options(app, &a);
  if (err.empty()) *c = a.config;
  return err;
}

}  // namespace allocbench
