// The single-run form of seed 001 section 3.7: `allocbench [--seed N]
// [--ops N] [--profile P] ...` runs mixed_sizes with one allocator and prints
// a short text report (or, with --json, a JSON one).
#ifndef ALLOCBENCH_RUNNER_SINGLE_RUN_H_
#define ALLOCBENCH_RUNNER_SINGLE_RUN_H_

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace allocbench {

struct SingleArgs {
  uint64_t seed = 1337;
  uint64_t ops = 200000;  // Per thread.
  uint32_t threads = 1;
  std::string profile = "mixed";    // Checked by cmd_single (the seed's message).
  std::string allocator = "glibc";  // Checked by cmd_single.
  bool json = false;
};

// Declares the single-run options on `app` (the top-level command line).
// Numbers are checked as they are parsed, with the messages of `run`.
void add_single_options(CLI::App* app, SingleArgs* args);

// The first lines of the single-run form's help.
extern const char* const kSingleUsage;

// Checks the profile and allocator, runs the cell and prints the report.
// Returns the exit status.
int cmd_single(const SingleArgs& args);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_SINGLE_RUN_H_
