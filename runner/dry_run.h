// `allocbench run --dry-run`: the plan's size, its estimated duration under
// the cost model of plan.h, and how --shard splits it. Runs nothing.
#ifndef ALLOCBENCH_RUNNER_DRY_RUN_H_
#define ALLOCBENCH_RUNNER_DRY_RUN_H_

#include <string>

#include "runner/plan.h"

namespace allocbench {

// Prints the plan of `c` on stdout: cells, plan hash, estimate, upper bound
// (every cell at --timeout) and, with --shard, every shard's share. Returns 0.
int print_dry_run(const RunConfig& c);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_DRY_RUN_H_
