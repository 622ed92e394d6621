// --resume: which rows of an interrupted run's results.csv count as finished
// cells of its plan, and whether this build may add rows to them.
#ifndef ALLOCBENCH_RUNNER_RESUME_H_
#define ALLOCBENCH_RUNNER_RESUME_H_

#include <set>
#include <string>
#include <vector>

#include "runner/context.h"
#include "runner/csv.h"
#include "runner/plan.h"

namespace allocbench {

// What differs between the build that started the run and this one (git
// commit, build flags, executables), one entry each; empty when the same.
std::vector<std::string> build_differences(const BuildIdentity& saved,
                                           const BuildIdentity& current);

// Every finished row's trace must be the one this build generates, or its
// rows measured other work. Returns "" or what differs.
std::string check_trace_hashes(const CsvContents& contents, const RunConfig& c);

// Keeps the rows of results.csv that are finished cells of this run (`done`
// gets their keys). Any other row (a value out of its type or range, a cell
// outside the plan, a second row of one cell) is moved to
// DIR/results.rejected.csv with a message naming it, and its cell runs again.
std::string keep_valid_rows(const CsvContents& contents, const std::string& csv_path,
                            const std::string& dir, const std::string& run_id,
                            const std::vector<Cell>& plan, std::set<std::string>* done);

// Keeps the phases.csv rows of cells that are done (a cell that runs again
// writes its phases again), and makes sure the file has its header.
std::string keep_phases_of(const std::string& path, const std::set<std::string>& done);

// The same for any per-cell file whose lines start run_id, allocator,
// workload, profile, threads, repetition and have `fields` fields
// (timeline.csv).
std::string keep_cell_rows_of(const std::string& path, const std::string& header, size_t fields,
                              const std::set<std::string>& done);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_RESUME_H_
