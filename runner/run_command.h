// `allocbench run`: the matrix run into an output directory, its --force
// and --resume, the per-cell loop.
#ifndef ALLOCBENCH_RUNNER_RUN_COMMAND_H_
#define ALLOCBENCH_RUNNER_RUN_COMMAND_H_

#include <string>
#include <vector>

#include "runner/plan.h"

namespace allocbench {

// Runs `config` (parsed from `raw_args`, the arguments after "run", which
// are stored in run.json and with which --no-aslr re-executes). Returns the
// exit status.
int cmd_run(const RunConfig& config, const std::vector<std::string>& raw_args,
            const std::string& command_line);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_RUN_COMMAND_H_
