// A recorded trace (allocbench record) turned into one op trace per recorded
// thread, for the `trace:PATH` workload (docs/workloads.md, "Recorded traces").
//
// Order between threads is kept where the program's objects cross threads,
// and only there: an object freed or reallocated by another thread than the
// one holding it is handed over through a channel (kPush in the holder at its
// last event before the free's sequence number, kPop then the free in the
// freeing thread). Every other op runs as fast as its thread can, as in the
// synthetic workloads; the recorded timestamps are not replayed.
//
// Repairs, as fleetbench repairs its traces: frees of objects the trace never
// allocated (allocated before the recorder was loaded, inherited at fork, or
// lost) are dropped; a realloc of such an object becomes an allocation; the
// objects still live at the end are freed after the clock (ThreadTrace's
// untimed_tail).
#ifndef ALLOCBENCH_WORKLOADS_RECORDED_REPLAY_H_
#define ALLOCBENCH_WORKLOADS_RECORDED_REPLAY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "workloads/recorded_trace.h"
#include "workloads/workload.h"

namespace allocbench {

// Read-only once built (then thread-safe).
struct RecordedReplay {
  std::vector<ThreadTrace> threads;    // One per recorded thread that has ops, in id order.
  std::vector<uint32_t> recorded_ids;  // threads[i] replays the file's thread recorded_ids[i].
  WorkloadRequirements req;            // Sizes, alignments, exact_threads, cross-thread frees.
  uint64_t file_hash = 0;              // FNV-1a of the file's bytes.
  uint64_t transfers = 0;              // Objects handed between threads (kPush/kPop pairs).
  uint32_t channels = 0;               // Channels the transfers use.
};

// The most replay threads a trace may have (one per recorded thread with ops).
constexpr uint32_t kMaxReplayThreads = 1024;

// Converts `trace` (whose file hashes to `file_hash`); "" or why it cannot be
// replayed (too many threads, or more blocks in flight than the channels hold).
std::string build_recorded_replay(const RecordedTrace& trace, uint64_t file_hash,
                                  RecordedReplay* out);

// Reads the trace file at `path` and converts it; "" or the reader's message.
std::string load_recorded_replay(const std::string& path, RecordedReplay* out);

}  // namespace allocbench

#endif  // ALLOCBENCH_WORKLOADS_RECORDED_REPLAY_H_
