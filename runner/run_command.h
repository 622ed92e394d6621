// `allocbench run`: the matrix run into an output directory, its --force
// and --resume, the per-cell loop.
#ifndef ALLOCBENCH_RUNNER_RUN_COMMAND_H_
#define ALLOCBENCH_RUNNER_RUN_COMMAND_H_

#include <string>
#include <vector>

namespace allocbench {

// `raw_args`: the arguments after "run" (stored in run.json; --no-aslr
// re-executes with them). Returns the exit status.
int cmd_run(const std::vector<std::string>& raw_args, const std::string& command_line);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_RUN_COMMAND_H_
