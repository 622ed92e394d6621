// What a run writes besides the rows themselves: phases.csv, the
// calibration columns filled in at the end, and the --strict verdict.
#ifndef ALLOCBENCH_RUNNER_RESULTS_H_
#define ALLOCBENCH_RUNNER_RESULTS_H_

#include <map>
#include <string>

#include "runner/plan.h"

namespace allocbench {

// phases.csv: RSS at each phase boundary of thread 0, for workloads that ask
// for it (size_ramp, scatter_sizes, sparse_sizes); see docs/csv_schema.md.
extern const char* const kPhasesHeader;

// The phases.csv lines of a cell's row (from its "_phase_rss"), or "".
std::string phases_rows(const std::string& run_id, const Cell& cell,
                        const std::map<std::string, std::string>& row);

// timeline.csv of `run --timeline`: each cell's RSS samples, identified by
// the cell (docs/csv_schema.md).
extern const char* const kCellTimelineHeader;
constexpr size_t kCellTimelineFields = 10;

// The timeline.csv lines of a cell's row (from its "_timeline"), or "".
std::string cell_timeline_rows(const std::string& run_id, const Cell& cell,
                               const std::map<std::string, std::string>& row);

// Fills harness_ns_per_op and net_ns_per_op of every ok row: the harness's
// cost is the median ns_per_op of the `null` calibration's ok rows on the
// same (workload, profile, threads). Rewrites results.csv through a
// temporary file and rename, so a crash leaves the old file whole.
std::string fill_calibration(const std::string& csv_path);

// --strict: every row of run `run_id` in `csv_path` whose allocator is not a
// test adapter must be ok or skipped. Names the others on stderr; returns
// kExitStrict if there are any, else 0 (kExitIo if the file cannot be read).
int strict_check(const std::string& csv_path, const std::string& run_id);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_RESULTS_H_
