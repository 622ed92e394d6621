// The calibration adapter's block plan: before the clock, every allocation of
// a `null` (or test spin) cell is given a distinct block of its requested size
// in memory that is already faulted in, laid out as a simple size-segregated
// allocator would lay it out, so touch() and the slot traffic cost what they
// cost for a real allocator while the allocator itself costs nothing.
//
//   - Local traces: one block per slot of the trace, as large as the largest
//     request that slot ever holds. The trace builder reuses the most recently
//     freed slot first, so the calibration reuses memory in LIFO order, like a
//     free list.
//   - Channel mixes (some thread hands blocks to another, kPush): each
//     allocation gets, in order, its slot's block as above when this thread
//     frees it itself, or the next block of a ring when it is handed over. The
//     ring (per thread) holds at least 2048 blocks, more than a channel and a
//     consumer's burst can hold, and 4 times the thread's most live blocks, so
//     blocks in flight stay distinct.
//   - Shared-slot traces (kToggle): one block per (thread, shared slot).
// kWrite needs nothing of its own: every planned block has at least 16 bytes.
#ifndef ALLOCBENCH_RUNNER_CALIBRATION_H_
#define ALLOCBENCH_RUNNER_CALIBRATION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runner/replay.h"
#include "workloads/mapped_array.h"
#include "workloads/workload.h"

namespace allocbench {
namespace detail {

// Owns the planned blocks of every thread of one cell. Main thread only.
class CalibrationPlanner {
 public:
  CalibrationPlanner() = default;
  CalibrationPlanner(const CalibrationPlanner&) = delete;
  CalibrationPlanner& operator=(const CalibrationPlanner&) = delete;
  ~CalibrationPlanner();

  // Plans thread `t`'s blocks: fills slots[].ptr and `plan`. `shared_sizes`
  // has `shared_slots` entries (kToggle traces); `channel_mix`: the cell
  // replays a channel mix, whose allocations take their blocks from
  // plan->stream. Returns an empty string or why the memory could not be
  // mapped.
  std::string plan_thread(const ThreadTrace& t, SlotEntry* slots, const uint64_t* shared_sizes,
                          uint32_t shared_slots, bool channel_mix, CalibrationPlan* plan);

  // Bytes mapped and faulted in for all threads.
  size_t bytes() const { return bytes_; }

 private:
  char* map_faulted(size_t bytes);
  std::string plan_stream(const ThreadTrace& t, const SlotEntry* slots, CalibrationPlan* plan);

  struct Mapping {
    void* base;
    size_t bytes;
  };
  std::vector<Mapping> maps_;
  std::vector<MappedArray<void*>> arrays_;  // Streams and toggle tables.
  size_t bytes_ = 0;
};

}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_CALIBRATION_H_
