// The options of `allocbench run` (CLI11), checked into a RunConfig.
#ifndef ALLOCBENCH_RUNNER_RUN_OPTIONS_H_
#define ALLOCBENCH_RUNNER_RUN_OPTIONS_H_

#include <string>
#include <vector>

#include "runner/plan.h"

namespace CLI {
class App;
}

namespace allocbench {

// BENCH_TIMEOUT, or 1200 s. Sets *err when the variable is set but invalid.
double default_timeout(std::string* err);

// The run options as parsed: the settings, and the lists resolved only once
// the whole command line is read (they depend on --no-calibrate).
struct RunArgs {
  RunConfig config;
  std::string allocators = "all";  // --allocators, as given.
  std::string workloads = "all";   // --workloads, as given.
  std::vector<std::string> libs;   // --allocator-lib NAME=PATH[@VERSION], in order.
  std::string lib_conf;            // --allocator-conf FILE, or "".
};

// Registers the library adapters of --allocator-conf FILE (lines `NAME
// PATH[@VERSION]`; blank lines and # comments skipped), then of each
// --allocator-lib. Returns "" or the error (naming the file and line).
std::string register_libraries(const RunArgs& args);

// Declares run's options on `app`, each checked as it is parsed (a bad value
// ends the parse with its message). BENCH_TIMEOUT is checked first.
void add_run_options(CLI::App* app, RunArgs* args);

// The checks that need the whole command line, after `app` parsed: no
// unknown arguments, --out given, --resume alone, the lists. Returns "" or
// the usage error.
std::string finish_run_options(const CLI::App& app, RunArgs* args);

// Parses run's arguments (as stored in run.json) into `c`, exactly as the
// command line would be. Returns "" or the usage error.
std::string parse_run_args(const std::vector<std::string>& args, RunConfig* c);

// The help text's first lines for `allocbench run`.
extern const char* const kRunUsage;

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_RUN_OPTIONS_H_
