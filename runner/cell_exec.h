// Running one cell of a plan in its child process (allocbench_cell[_<cell>])
// and turning the child's "@ab key=value" answer into a results row.
#ifndef ALLOCBENCH_RUNNER_CELL_EXEC_H_
#define ALLOCBENCH_RUNNER_CELL_EXEC_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "runner/plan.h"

namespace allocbench {

// Set by SIGINT/SIGTERM (install_interrupt_handlers); a running cell is
// killed and the run stops after it.
extern volatile int g_interrupted;
void install_interrupt_handlers();

// The per-cell settings of a run.
struct CellRun {
  uint64_t ops = 100000;
  uint64_t seed = 1;
  uint32_t warmup = 0;
  uint32_t lat_sample = 64;
  double timeout_s = 1200;
  double min_time_s = 0;
  uint32_t settle_ms = 50;
  std::string timeline_file;  // Where a cell writes its RSS timeline (--timeline), or "".
  uint32_t sample_ms = 10;
  std::string run_dir;   // The run directory (latency files go to its latency/), or "".
  std::string pid_file;  // Where the running cell's pid is recorded (see run_child), or "".
};

// Directory of this executable (the cell binaries live beside it).
std::string exe_dir();

// The cell executable of an adapter.
std::string cell_binary(const AdapterInfo& a);

// The latency file of a cell, relative to the run directory.
std::string latency_file(const Cell& cell);

// Parses "@ab key=value" lines.
std::map<std::string, std::string> parse_cell_output(const std::string& out);

// Runs one cell (or decides it is skipped) and returns its results row:
// CSV columns, plus some that are not ("_phase_rss" for phases.csv;
// "_timeline", the cell's "t_ms,stage,rss_bytes" lines, for timeline.csv;
// "_alloc_time_share" and "_free_time_share", see CellResult).
std::map<std::string, std::string> execute_cell(const Cell& cell, const CellRun& run);

// What the cell binary of `a` says about it (`--describe`): "version",
// "verify" (empty when it passed) and "malloc_library" (the file defining
// malloc there). Empty when the cell gave no answer; *err (if given) gets the
// last line it wrote to stderr.
std::map<std::string, std::string> describe_adapter(const AdapterInfo& a,
                                                    std::string* err = nullptr);

// The version each allocator's cell binary reports (`--describe`), or why
// there is none ("not built", "verify failed: ...").
std::map<std::string, std::string> describe_allocators(const std::vector<std::string>& names);

// Readies the library adapters among `names` (tbbmalloc, scudo, and those of
// --allocator-lib): each gets its version (NAME=PATH@VERSION, else the
// Debian package that owns the file, else "unknown"), and one given with
// --allocator-lib must really provide malloc when preloaded: its --describe
// child's verify() must pass. Returns "" or the usage error naming it.
std::string prepare_library_adapters(const std::vector<std::string>& names);

// The last non-empty line of `s` (at most 300 characters), for an error column.
std::string last_line(const std::string& s);

// `v` with `prec` digits after the point.
std::string fixed(double v, int prec);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_CELL_EXEC_H_
