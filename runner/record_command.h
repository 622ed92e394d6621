// `allocbench record` (run a program under the recorder, writing a trace)
// and `allocbench trace-info` (what a trace holds). Format and guarantees:
// docs/trace_format.md.
#ifndef ALLOCBENCH_RUNNER_RECORD_COMMAND_H_
#define ALLOCBENCH_RUNNER_RECORD_COMMAND_H_

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace allocbench {

// The LD_PRELOAD library, found beside the allocbench executable.
constexpr const char* kRecorderLibrary = "liballocbench_recorder.so";

struct RecordArgs {
  std::string out;  // --out FILE
};

struct TraceInfoArgs {
  std::string file;
};

// Declares the two commands' options on their subcommands.
void add_record_options(CLI::App* app, RecordArgs* args);
void add_trace_info_options(CLI::App* app, TraceInfoArgs* args);

// Runs `program` (argv, after `--`) with the recorder preloaded, the trace
// going to args.out (and, for forked children and exec'd images, to
// args.out.<pid>[.<n>], listed on stderr). Returns the program's exit status
// (128 + N when it died of signal N), or 1 / 2 for allocbench's own errors.
int cmd_record(const RecordArgs& args, const std::vector<std::string>& program);

// Prints a trace's counts (op kinds, threads, size histogram, peak live
// bytes, cross-thread and unknown frees, leaks). Exit status: 0, 1 when the
// file cannot be read, kExitBadTrace when it is not a valid trace.
int cmd_trace_info(const TraceInfoArgs& args);

extern const char* const kRecordUsage;
extern const char* const kTraceInfoUsage;

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_RECORD_COMMAND_H_
