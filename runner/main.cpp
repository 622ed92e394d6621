// allocbench: the benchmark runner CLI. See `allocbench --help` and README.md.
// This file wires the command line (CLI11): the commands `list`, `run`,
// `exec`, `record` and `trace-info`, the single-run form (no command), --help
// and --version.
#include <fmt/core.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "runner/cell_exec.h"
#include "runner/cli_common.h"
#include "runner/cli_options.h"
#include "runner/cli_util.h"
#include "runner/context.h"
#include "runner/exec_command.h"
#include "runner/merge_command.h"
#include "runner/record_command.h"
#include "runner/run_command.h"
#include "runner/run_options.h"
#include "runner/single_run.h"
#include "workloads/workload.h"

namespace allocbench {
namespace {

const char* const kAbout =
    "The allocator benchmark runner. Without a command it is the single-run form:\n"
    "mixed_sizes with one allocator, printed as text or, with --json, as a JSON report.";

const char* const kFooter =
    "Every option takes its value as `--name VALUE` or `--name=VALUE`; given twice,\n"
    "the last one counts. `allocbench COMMAND --help` describes a command.\n";

const char* const kRunFooter =
    "A run holds an exclusive lock on DIR (DIR/.allocbench.lock) while it runs; a second\n"
    "run, --resume or --force on the same DIR is refused with exit 2.\n";

const char* const kExitStatus =
    "\n"
    "Exit status: 0 when the run finished (failed cells are rows with their status),\n"
    "2 on bad usage (or DIR in use), 1 on an I/O error (the message names the file and\n"
    "the error; no cell whose rows were not all written counts as done), 3 with --strict\n"
    "when cells failed, 130 when interrupted.\n";

const char* const kRecordFooter =
    "The program runs with liballocbench_recorder.so preloaded (LD_PRELOAD); every\n"
    "malloc-family call and operator new/delete goes to FILE. A forked child that records,\n"
    "and every program a recorded process execs, writes FILE.<pid> (FILE.<pid>.<n> when\n"
    "taken); the files written are listed on stderr. Format: docs/trace_format.md.\n"
    "\n"
    "Exit status: the program's (128 + N when it died of signal N), 127 when it cannot\n"
    "be run, 2 on bad usage, 1 when the recorder is missing or no trace was written.\n";

const char* const kTraceInfoFooter =
    "Exit status: 0 (a trace without an end marker is read, with a warning), 1 when FILE\n"
    "cannot be read, 4 when it is not a valid trace (the message says where and why),\n"
    "2 on bad usage.\n";

// CLI11's layout with our usage lines first. Shared by all the commands.
class HelpFormatter : public CLI::Formatter {
 public:
  void set_usage(const CLI::App* app, std::string text) { usage_[app] = std::move(text); }

  std::string make_usage(const CLI::App* app, std::string) const override {
    auto it = usage_.find(app);
    return it == usage_.end() ? "" : it->second;
  }

  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override {
    std::string out = make_usage(app, name);
    if (!app->get_description().empty()) out += "\n" + app->get_description() + "\n";
    out += make_groups(app, mode) + make_subcommands(app, mode) + "\n" + make_footer(app);
    // CLI11 puts a blank line both after a group and before the next one.
    for (size_t at; (at = out.find("\n\n\n")) != std::string::npos;) out.erase(at, 1);
    return out;
  }

 private:
  std::map<const CLI::App*, std::string> usage_;  // App -> its "usage: ..." lines.
};

// `text` with its "usage: " replaced by indentation (a continuation line).
std::string continued(const std::string& text) { return "       " + text.substr(7); }

int cmd_list() {
  for (const AdapterInfo& a : adapter_registry()) {
    fmt::print("adapter  {:<24} {:<12} {}\n", a.name, a.family, a.description);
  }
  for (const Workload* w : workload_registry()) {
    const std::string profiles = w->profiles().empty() ? "PATH" : join(w->profiles(), "|");
    fmt::print("workload {:<24} {:<12} {}\n", w->name(), "profiles=" + profiles, w->description());
  }
  return 0;
}

// The command line's parts and what they were parsed into.
struct Cli {
  CLI::App app{kAbout, "allocbench"};
  std::shared_ptr<HelpFormatter> help = std::make_shared<HelpFormatter>();
  CLI::App* list = nullptr;
  CLI::App* run = nullptr;
  CLI::App* exec = nullptr;
  CLI::App* record = nullptr;
  CLI::App* trace_info = nullptr;
  CLI::App* merge = nullptr;
  CLI::App* help_command = nullptr;  // `allocbench help`, as --help.
  SingleArgs single;
  RunArgs run_args;
  ExecArgs exec_args;
  RecordArgs record_args;
  TraceInfoArgs trace_info_args;
  MergeArgs merge_args;
  std::vector<std::string> program;  // record: what follows `--`.
};

const char* const kExecFooter =
    "The program runs under LD_PRELOAD of each allocator's library (glibc: none), forked by\n"
    "allocbench_exec; its stdout and stderr are kept in DIR/exec/. See docs/exec.md.\n"
    "\n"
    "Exit status: 0 when every run was made (failed runs are rows with their status), 2 on\n"
    "bad usage (or DIR in use), 1 on an I/O error, 130 when interrupted.\n";

void declare(Cli* cli) {
  CLI::App& app = cli->app;
  app.formatter(cli->help);  // Before the subcommands, which copy it.
  cli->help->column_width(28);
  app.set_help_flag("-h,--help", "print this help and exit");
  app.set_version_flag(
      "--version",
      [] {
        return fmt::format("allocbench {} (git {})", kVersion,
                           build_identity(exe_dir()).git_commit);
      },
      "print the version and the build's git commit, and exit");
  app.require_subcommand(0, 1);
  app.allow_extras();
  app.footer(std::string(kFooter) + kExitStatus);
  add_single_options(&app, &cli->single);
  cli->list = app.add_subcommand("list", "print the adapters and workloads, one per line");
  cli->list->allow_extras()->group("Commands")->footer("");
  cli->run =
      app.add_subcommand("run",
                         "run the matrix allocators x workloads x threads x reps, one child\n"
                         "process per cell, writing DIR/results.csv, DIR/context.json and\n"
                         "DIR/run.json");
  cli->run->allow_extras()->group("Commands");
  cli->run->footer(std::string(kRunFooter) + kExitStatus);
  add_run_options(cli->run, &cli->run_args);
  cli->exec = app.add_subcommand(
      "exec",
      "run a real program once per allocator per repetition under LD_PRELOAD, in a\n"
      "shuffled order, writing DIR/results.csv, DIR/timeline.csv and DIR/context.json");
  cli->exec->allow_extras()->group("Commands");
  cli->exec->footer(kExecFooter);
  add_exec_options(cli->exec, &cli->exec_args);
  cli->record = app.add_subcommand("record",
                                   "run PROGRAM under the allocation recorder, writing its trace "
                                   "to FILE");
  cli->record->allow_extras()->group("Commands")->footer(kRecordFooter);
  add_record_options(cli->record, &cli->record_args);
  cli->trace_info = app.add_subcommand(
      "trace-info",
      "print what a trace holds: op counts by kind, threads, size histogram, peak live\n"
      "bytes, cross-thread frees, unknown frees, leaks");
  cli->trace_info->allow_extras()->group("Commands")->footer(kTraceInfoFooter);
  add_trace_info_options(cli->trace_info, &cli->trace_info_args);
  cli->merge = app.add_subcommand(
      "merge",
      "merge the shard directories of one `run --shard I/N` plan into DIR, checking\n"
      "plan hash, git commit and build flags, duplicates and missing cells");
  cli->merge->allow_extras()->group("Commands")->footer(kMergeFooter);
  add_merge_options(cli->merge, &cli->merge_args);
  cli->help_command = app.add_subcommand("help")->group("");
  cli->help_command->allow_extras();
  cli->help->set_usage(&app, "usage: allocbench list\n" + continued(kRunUsage) +
                                 continued(kExecUsage) + continued(kRecordUsage) +
                                 continued(kTraceInfoUsage) + continued(kMergeUsage) +
                                 kSingleUsage + "       allocbench --version\n");
  cli->help->set_usage(cli->list, "usage: allocbench list\n");
  cli->help->set_usage(cli->run, kRunUsage);
  cli->help->set_usage(cli->exec, kExecUsage);
  cli->help->set_usage(cli->record, kRecordUsage);
  cli->help->set_usage(cli->trace_info, kTraceInfoUsage);
  cli->help->set_usage(cli->merge, kMergeUsage);
}

// The usage error of a command line CLI11 parsed, or "".
std::string usage_problem(Cli& cli, int argc, char** argv) {
  const std::vector<std::string> extras = cli.app.remaining();
  if (!extras.empty() && argc > 1 && extras.front() == argv[1] && extras.front()[0] != '-') {
    return "unknown command '" + extras.front() +
           "'; choose from {list,run,exec,record,trace-info,merge} or see --help";
  }
  std::string err = extras_problem(cli.app);
  if (!err.empty()) return err;
  if (cli.app.get_subcommands().empty()) return "";
  for (const CLI::Option* o : cli.app.get_options()) {
    if (o->count() > 0) {
      return o->get_name() + " belongs to the single-run form, which takes no command";
    }
  }
  if (*cli.list && !cli.list->remaining().empty()) return "list takes no arguments";
  if (*cli.run) return finish_run_options(*cli.run, &cli.run_args);
  if (*cli.record) {
    if (!(err = extras_problem(*cli.record)).empty()) return err + " (the program goes after --)";
    if (cli.record_args.out.empty()) return "record needs --out FILE";
    if (cli.program.empty()) return "record needs the program to run after --";
  }
  if (*cli.trace_info) {
    if (!(err = extras_problem(*cli.trace_info)).empty()) return err;
    if (cli.trace_info_args.file.empty()) return "trace-info needs a FILE";
  }
  if (*cli.exec) return finish_exec_options(*cli.exec, &cli.exec_args);
  if (*cli.merge) return finish_merge_options(*cli.merge, cli.merge_args);
  return "";
}

int run_main(int argc, char** argv) {
  Cli cli;
  declare(&cli);
  if (argc < 2) {  // Nothing to do: the help, as an error.
    fmt::print(stderr, "{}", cli.app.help());
    return kExitUsage;
  }
  // exec's and record's program comes after the first `--`, untouched by CLI11.
  int parsed = argc;
  const std::string command = argv[1];
  if (command == "record" || command == "exec") {
    for (int i = 2; i < argc; ++i) {
      if (std::string(argv[i]) != "--") continue;
      (command == "exec" ? cli.exec_args.program : cli.program).assign(argv + i + 1, argv + argc);
      parsed = i;
      if (command == "exec") argc = i;  // Its command line gets " -- PROGRAM" appended.
      break;
    }
  }
  try {
    cli.app.parse(parsed, argv);
  } catch (const CLI::CallForHelp&) {
    fmt::print("{}", cli.app.help());
    return 0;
  } catch (const CLI::CallForVersion& e) {
    fmt::print("{}\n", e.what());
    return 0;
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  std::string err = usage_problem(cli, argc, argv);
  if (!err.empty()) return usage_error(err);
  if (*cli.help_command) {
    fmt::print("{}", cli.help->make_help(&cli.app, "allocbench", CLI::AppFormatMode::Normal));
    return 0;
  }
  if (*cli.list) return cmd_list();
  if (*cli.record) return cmd_record(cli.record_args, cli.program);
  if (*cli.trace_info) return cmd_trace_info(cli.trace_info_args);
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  if (*cli.merge) return cmd_merge(cli.merge_args, command_line);
  if (*cli.exec) {
    command_line += " --";
    for (const std::string& a : cli.exec_args.program) command_line += " " + a;
    return cmd_exec(cli.exec_args, command_line);
  }
  if (*cli.run) {
    // Nothing may come before "run" (the single-run options are refused with it).
    int at = 1;
    while (at < argc && std::string(argv[at]) != "run") ++at;
    return cmd_run(cli.run_args.config, {argv + at + 1, argv + argc}, command_line);
  }
  return cmd_single(cli.single);
}

}  // namespace
}  // namespace allocbench

int main(int argc, char** argv) {
  allocbench::install_interrupt_handlers();
  return allocbench::run_main(argc, argv);
}
