// What every part of the allocbench CLI shares: its version, its exit
// statuses and how it reports a failure (one line on stderr).
#ifndef ALLOCBENCH_RUNNER_CLI_COMMON_H_
#define ALLOCBENCH_RUNNER_CLI_COMMON_H_

#include <string>

namespace allocbench {

constexpr const char* kVersion = "1.0";

constexpr int kExitIo = 1;      // An I/O error; the message names the file and errno.
constexpr int kExitUsage = 2;   // Bad usage, or the output directory is in use.
constexpr int kExitStrict = 3;  // --strict and some cell failed.
constexpr int kExitBadTrace = 4;  // trace-info: the file is not a valid trace.
constexpr int kExitInterrupted = 130;

// "allocbench: <msg>" and "Try 'allocbench --help'." on stderr; returns kExitUsage.
int usage_error(const std::string& msg);

// "allocbench: <msg>" on stderr; returns kExitIo.
int io_error(const std::string& msg);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_CLI_COMMON_H_
