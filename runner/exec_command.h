// `allocbench exec`: a real program run once per allocator and repetition
// under LD_PRELOAD, its time, memory and faults measured by allocbench_exec,
// its RSS sampled over time, rows in results.csv (docs/exec.md).
#ifndef ALLOCBENCH_RUNNER_EXEC_COMMAND_H_
#define ALLOCBENCH_RUNNER_EXEC_COMMAND_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runner/run_options.h"

namespace CLI {
class App;
}

namespace allocbench {

// The exec options as parsed. `run` holds what exec shares with run:
// --allocators, --allocator-lib, --allocator-conf, and in its config
// --reps, --seed, --timeout, --out, --force; config.allocators gets the
// checked list.
struct ExecArgs {
  RunArgs run;
  uint32_t sample_ms = 10;           // --sample-ms: the RSS timeline's period.
  std::string name;                  // --name, else the program's basename.
  std::vector<std::string> program;  // PROGRAM ARGS... (after `--`).
};

// Declares exec's options on `app`.
void add_exec_options(CLI::App* app, ExecArgs* args);

// After the parse (the program already in args->program): no unknown
// arguments, --out and a program given, the library allocators registered,
// and every allocator known and of the malloc family. Returns "" or the
// usage error, which names the valid allocators.
std::string finish_exec_options(const CLI::App& app, ExecArgs* args);

// Runs the command. Returns the exit status.
int cmd_exec(const ExecArgs& args, const std::string& command_line);

// The help text's first lines for `allocbench exec`.
extern const char* const kExecUsage;

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_EXEC_COMMAND_H_
