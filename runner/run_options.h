// The options of `allocbench run`, parsed into a RunConfig.
#ifndef ALLOCBENCH_RUNNER_RUN_OPTIONS_H_
#define ALLOCBENCH_RUNNER_RUN_OPTIONS_H_

#include <string>
#include <vector>

#include "runner/plan.h"

namespace allocbench {

// BENCH_TIMEOUT, or 1200 s. Sets *err when the variable is set but invalid.
double default_timeout(std::string* err);

// Parses `run` options into `c`. Returns "" or the usage error.
std::string parse_run_args(const std::vector<std::string>& args, RunConfig* c);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_RUN_OPTIONS_H_
