// Memory over time of a benchmark cell (`allocbench run --timeline`): the
// cell's own RSS, sampled on a thread of the cell that replays nothing and is
// never timed, into OS-mapped memory (the allocator under test sees none of
// it), tagged with what the cell was doing then.
#ifndef ALLOCBENCH_RUNNER_CELL_TIMELINE_H_
#define ALLOCBENCH_RUNNER_CELL_TIMELINE_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "workloads/mapped_array.h"

namespace allocbench {

// What the cell is doing; the names are those of timeline.csv's `stage`.
enum class CellStage : uint8_t {
  kSetup = 0,    // Trace generation, tables, thread start ("setup").
  kWarmup = 1,   // Untimed warm-up replays ("warmup").
  kTimed = 2,    // The timed replays ("timed").
  kSettle = 3,   // The settle delay: nothing live, no allocator call ("settle").
  kLatency = 4,  // The untimed replays after settle: live-byte count, latency ("latency").
  kExit = 5,     // The workers have called thread_exit and ended ("exit").
};
const char* cell_stage_name(CellStage s);

// Samples this process's RSS (/proc/self/statm) every `period_ns` at
// absolute deadlines t0 + k * period (a late wake-up skips the deadlines it
// missed), plus one sample at every stage change, taken by set_stage() at
// the change, so a stage shorter than the period still has its sample.
// Cost to the cell: one statm read (a few us) per periodic sample on the
// sampling thread, one per set_stage() on the caller's (no stage change is
// inside a timed replay), and 24 bytes a sample. Thread-safe: set_stage()
// from any thread; stop() and write() by the owner.
class CellTimeline {
 public:
  explicit CellTimeline(uint64_t period_ns);
  ~CellTimeline() { stop(); }
  CellTimeline(const CellTimeline&) = delete;
  CellTimeline& operator=(const CellTimeline&) = delete;

  void set_stage(CellStage s);
  // Takes a last sample, stops and joins the sampling thread.
  void stop();
  // Writes "t_ms,stage,rss_bytes" lines (no header) to `path`, after stop().
  // Returns "" or why it cannot.
  std::string write(const std::string& path) const;

 private:
  struct Sample {
    uint64_t t_ns;  // Since the timeline started.
    uint64_t rss;   // Resident bytes.
    uint64_t stage;
  };
  void run();
  void sample_locked();  // Appends a sample now; mu_ held.

  const uint64_t period_ns_;
  const uint64_t t0_ns_;
  std::mutex mu_;                // Guards the fields below (samples_ until joined).
  std::condition_variable cv_;   // Wakes the sampler to stop.
  uint8_t stage_ = 0;            // mu_.
  bool stop_ = false;            // mu_.
  MappedArray<Sample> samples_;  // mu_: the sampler and set_stage() append.
  std::thread thread_;           // Started by the constructor after the first sample.
};

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_CELL_TIMELINE_H_
