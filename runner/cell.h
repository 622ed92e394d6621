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
  uint32_t warmup = 0;       // Untimed replays before the timed ones.
  uint32_t lat_sample = 64;  // Time about one op in this many (0: no latency sampling).
  double min_time_s = 0;     // Timed replays repeat until their sum reaches this.
  uint32_t max_replays = 10000;  // ... or until this many.
  std::string lat_out;           // File for the raw latency samples (float32 ns), or empty.
  uint32_t settle_ms = 50;       // Idle delay after the timed replays before settled RSS is read.
  std::string timeline_out;      // File for the RSS timeline (runner/cell_timeline.h), or empty.
  uint32_t sample_ms = 10;       // Period of the RSS timeline.
};

struct CellResult {
  std::string status = "ok";  // ok, skipped, oom, error.
  std::string error;          // Reason for any status but ok.
  std::string adapter_version;
  uint64_t trace_hash = 0;
  uint64_t total_ops = 0;  // Ops in one replay of the traces, all threads.
  uint64_t allocs = 0, frees = 0, reallocs = 0;  // Per replay.
  uint32_t replays = 0;     // Timed replays.
  uint64_t wall_ns = 0;     // Sum over timed replays of (release to the last thread's end).
  uint64_t lat_samples = 0;
  double timer_ns = 0;      // The cycle counter's own cost, subtracted from each sample.
  double lat_p50_ns = 0, lat_p90_ns = 0, lat_p99_ns = 0, lat_p999_ns = 0, lat_max_ns = 0;
  double ticks_per_ns = 0;  // Cycle counter rate, measured against the monotonic clock.
  // Of the sampled ops' time (latency round, timer cost taken off), the part
  // spent in allocation calls (kAlloc, kCalloc: the ops `allocs` counts) and
  // in frees (kFree: `frees`); reallocs are their own kind, in neither. 0
  // without samples of that kind.
  double alloc_time_share = 0, free_time_share = 0;
  bool memory_valid = true;      // False: the memory columns mean nothing (see note).
  std::string note;              // Caveat on an ok result (e.g. why memory is not valid).
  std::string peak_live_method;  // "trace", "replay" (exact at replay) or "sampled".
  uint64_t baseline_rss_bytes = 0;  // RSS after trace generation, before replay.
  uint64_t peak_rss_bytes = 0;      // VmHWM at the end (raw).
  uint64_t final_rss_bytes = 0;     // RSS right after the last timed replay, nothing live (raw).
  uint64_t settled_rss_bytes = 0;   // RSS after settle_ms more of idleness (raw).
  uint64_t peak_live_bytes = 0;     // Largest sum of live requested bytes (peak_live_method).
  uint64_t minflt = 0, majflt = 0, nvcsw = 0, nivcsw = 0;  // Per timed replay (mean).
  double user_s = 0, sys_s = 0;                            // Per timed replay (mean).
  // A recorded trace's repairs (docs/workloads.md): frees of objects it never
  // allocated (dropped), reallocs of such objects (replayed as allocations),
  // and the objects it never freed (freed after the clock, in every round).
  bool recorded = false;
  uint64_t repair_dropped_frees = 0, repair_unknown_reallocs = 0, repair_leaks_freed = 0;
  std::string phase_rss;  // RSS at each phase boundary of thread 0, ';'-separated (workloads
                          // that ask for it), timed pass only.
};

// Runs the cell in this process. Never throws; failures are in the status.
CellResult run_cell(const CellConfig& config);

// Writes `r` as "@ab key=value" lines (the child's answer to the parent).
void write_cell_result(int fd, const CellResult& r);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_CELL_H_
