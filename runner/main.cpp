// allocbench: the benchmark runner CLI. See `allocbench --help` and README.md.
#include <cstdio>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "runner/cell_exec.h"
#include "runner/cli_common.h"
#include "runner/cli_util.h"
#include "runner/run_command.h"
#include "runner/single_run.h"
#include "workloads/workload.h"

namespace allocbench {
namespace {

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
    "  --ops N        operations per thread (1..1000000000; default 100000; single-run form "
    "200000)\n"
    "  --warmup N     untimed replays of the trace in the same process before the timed ones "
    "(0..1000)\n"
    "  --min-time S   timed replays of a cell repeat until they sum to S seconds (default 0:\n"
    "                 one replay); rows record how many (`replays`)\n"
    "  --no-calibrate do not add the `null` calibration cells (no harness/net columns)\n"
    "  --pin CPUS     run the runner and every cell on these CPUs (sched_setaffinity)\n"
    "  --no-aslr      run the cells with address-space randomisation off (re-executes)\n"
    "  --allow-rebuild  with --resume: continue although the build changed (recorded)\n"
    "  --order        sequential, or shuffled: cells x repetitions in a seeded random order\n"
    "  --lat-sample N time about 1 op in N for the latency percentiles (0 disables; at most "
    "1048576)\n"
    "  --timeout S    per-cell limit in whole seconds, 1..604800 (default: $BENCH_TIMEOUT or "
    "1200)\n"
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

}  // namespace
}  // namespace allocbench

int main(int argc, char** argv) {
  using namespace allocbench;
  install_interrupt_handlers();
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
