// The single-run form of seed 001 section 3.7: `allocbench [--seed N]
// [--ops N] [--profile P] ...` runs mixed_sizes with one allocator and prints
// a short text report (or, with --json, a JSON one).
#ifndef ALLOCBENCH_RUNNER_SINGLE_RUN_H_
#define ALLOCBENCH_RUNNER_SINGLE_RUN_H_

#include <string>
#include <vector>

namespace allocbench {

int cmd_single(const std::vector<std::string>& args);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_SINGLE_RUN_H_
