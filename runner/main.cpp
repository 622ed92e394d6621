// allocbench: the benchmark runner CLI. See `allocbench --help` and README.md.
// This file wires the command line (CLI11): the commands `list`, `run` and `exec`,
// the single-run form (no command), --help and --version.
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
    fmt::print("workload {:<24} {:<12} {}\n", w->name(), "profiles=" + join(w->profiles(), "|"),
               w->description());
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
  CLI::App* help_command = nullptr;  // `allocbench help`, as --help.
  SingleArgs single;
  RunArgs run_args;
  ExecArgs exec_args;
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
  cli->help_command = app.add_subcommand("help")->group("");
  cli->help_command->allow_extras();
  cli->help->set_usage(&app, "usage: allocbench list\n" + continued(kRunUsage) +
                                 continued(kExecUsage) + kSingleUsage +
                                 "       allocbench --version\n");
  cli->help->set_usage(cli->list, "usage: allocbench list\n");
  cli->help->set_usage(cli->run, kRunUsage);
  cli->help->set_usage(cli->exec, kExecUsage);
}

// The usage error of a command line CLI11 parsed, or "".
std::string usage_problem(Cli& cli, int argc, char** argv) {
  const std::vector<std::string> extras = cli.app.remaining();
  if (!extras.empty() && argc > 1 && extras.front() == argv[1] && extras.front()[0] != '-') {
    return "unknown command '" + extras.front() + "'; choose from {list,run,exec} or see --help";
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
  if (*cli.exec) return finish_exec_options(*cli.exec, &cli.exec_args);
  return "";
}

int run_main(int argc, char** argv) {
  Cli cli;
  declare(&cli);
  if (argc < 2) {  // Nothing to do: the help, as an error.
    fmt::print(stderr, "{}", cli.app.help());
    return kExitUsage;
  }
  // exec's program comes after the first `--`, untouched by CLI11.
  if (std::string(argv[1]) == "exec") {
    for (int i = 2; i < argc; ++i) {
      if (std::string(argv[i]) != "--") continue;
      cli.exec_args.program.assign(argv + i + 1, argv + argc);
      argc = i;
      break;
    }
  }
  try {
    cli.app.parse(argc, argv);
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
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
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
