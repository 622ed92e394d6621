// One benchmark cell, run inside a child process: generate the traces, start
// the threads, replay under the clock, measure. The parent (runner/main.cpp)
// starts one child per cell so every allocator gets a fresh heap and its own
// peak RSS, and so malloc replacements never share a process.
#ifndef ALLOCBENCH_RUNNER_CELL_H_
#define ALLOCBENCH_RUNNER_CELL_H_

#include <cstdint>
#include <string>

namespace allocbench {

struct CellConfig {
  std::string adapter;
  std::string workload;
  std::string profile;
  uint32_t threads = 1;
  uint64_t ops = 100000;  // Operations per thread.
  uint64_t seed = 1;
  uint32_t warmup = 0;       // Untimed replays before the timed one.
  uint32_t lat_sample = 64;  // Time about one op in this many (0: no latency sampling).
};

struct CellResult {
  std::string status = "ok";  // ok, skipped, oom, error.
  std::string error;          // Reason for any status but ok.
  std::string adapter_version;
  uint64_t trace_hash = 0;
  uint64_t total_ops = 0;  // Ops replayed in the timed pass, all threads.
  uint64_t allocs = 0, frees = 0, reallocs = 0;
  uint64_t wall_ns = 0;  // Barrier release to the last thread's end.
  uint64_t lat_samples = 0;
  uint64_t lat_p50_ns = 0, lat_p90_ns = 0, lat_p99_ns = 0, lat_p999_ns = 0, lat_max_ns = 0;
  uint64_t baseline_rss_bytes = 0;  // RSS after trace generation, before replay.
  uint64_t peak_rss_bytes = 0;      // VmHWM at the end (raw).
  uint64_t final_rss_bytes = 0;     // RSS after the timed pass, nothing live (raw).
  uint64_t peak_live_bytes = 0;     // Sum over threads of each trace's peak live bytes (for
                                    // shared-slot workloads: every touched slot full at once).
  uint64_t minflt = 0, majflt = 0, nvcsw = 0, nivcsw = 0;  // Timed pass only.
  double user_s = 0, sys_s = 0;                            // Timed pass only.
  std::string phase_rss;  // RSS at each phase boundary of thread 0, ';'-separated (workloads
                          // that ask for it), timed pass only.
};

// Runs the cell in this process. Never throws; failures are in the status.
CellResult run_cell(const CellConfig& config);

// Writes `r` as "@ab key=value" lines (the child's answer to the parent).
void write_cell_result(int fd, const CellResult& r);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_CELL_H_
