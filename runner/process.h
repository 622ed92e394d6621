// Running a cell's child process with a timeout.
#ifndef ALLOCBENCH_RUNNER_PROCESS_H_
#define ALLOCBENCH_RUNNER_PROCESS_H_

#include <string>
#include <vector>

namespace allocbench {

struct ChildOutcome {
  bool started = false;      // fork/exec succeeded.
  bool timed_out = false;    // Killed by us after the timeout.
  bool interrupted = false;  // Killed by us because the runner was interrupted.
  int exit_code = -1;        // Valid when exited normally.
  int signal = 0;            // Nonzero when killed by a signal.
  std::string out;           // Everything written to stdout.
  std::string err;           // Last 4 KiB written to stderr.
  double seconds = 0;        // Wall time of the child.
  std::string spawn_error;   // Why it did not start.
};

// Runs argv[0] with argv, in its own process group, stdin from /dev/null.
// Kills the whole group with SIGKILL after `timeout_s` seconds or when
// `*interrupt` becomes true (checked every 100 ms). The child gets SIGKILL
// when this process dies (PR_SET_PDEATHSIG, set before exec and checked
// against a parent that died first). If `pid_file` is not empty, the child's
// pid (= its process group) is written there while it runs, so a later run
// can kill a child that outlived its runner anyway (kill_recorded_child).
// `env` entries (NAME=VALUE) are set in the child's environment, replacing
// any variable of the same name (e.g. LD_PRELOAD of a library adapter).
ChildOutcome run_child(const std::vector<std::string>& argv, double timeout_s,
                       const volatile int* interrupt, const std::string& pid_file = "",
                       const std::vector<std::string>& env = {});

// Kills the process group recorded in `pid_file` by run_child if it still is
// an allocbench cell, and removes the file. Returns a message for the user
// when it killed one, else "".
std::string kill_recorded_child(const std::string& pid_file);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_PROCESS_H_
