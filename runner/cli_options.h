// How allocbench's command lines are declared with CLI11 (allocbench and
// its cell child): every option takes `--name VALUE` or `--name=VALUE`; a
// value is checked by the option's own callback, which reports a bad one
// with the message the user sees; an option given twice keeps the last value.
// Include only in the files that build a command line (CLI11 is large).
#ifndef ALLOCBENCH_RUNNER_CLI_OPTIONS_H_
#define ALLOCBENCH_RUNNER_CLI_OPTIONS_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runner/cli_util.h"

namespace allocbench {

// Ends parsing with `msg` as the whole error message (from an option callback).
[[noreturn]] inline void fail_usage(const std::string& msg) { throw CLI::ValidationError(msg); }

// Adds an option with one value, handed to `apply` as text. Without a value
// (`--name` last, `--name=`, or `--name` followed by another option) it fails
// with "NAME needs a value".
inline CLI::Option* add_valued(CLI::App* app, const std::string& name, const std::string& value,
                               const std::string& help,
                               std::function<void(const std::string&)> apply) {
  CLI::Option* o = app->add_option(
      name,
      [name, apply](const CLI::results_t& r) {
        const std::string v = r.empty() ? "" : r.back();
        if (v.empty()) fail_usage(name + " needs a value");
        apply(v);
        return true;
      },
      help);
  // Zero or one value: CLI11 then stops at the next option instead of taking
  // it as this one's value (`--threads --out D`).
  o->expected(0, 1)->option_text(value)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  return o;
}

// Strict decimal parse of an option's value in [lo, hi]: "malformed number
// for NAME: 'V'", or "NAME must be in LO..HI<unit>, not V".
inline uint64_t number_in(const std::string& name, const std::string& v, uint64_t lo, uint64_t hi,
                          const std::string& unit = "") {
  uint64_t n = 0;
  if (!parse_u64(v, &n)) fail_usage("malformed number for " + name + ": '" + v + "'");
  if (n < lo || n > hi) {
    fail_usage(name + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) + unit +
               ", not " + v);
  }
  return n;
}

// What to tell the user about arguments CLI11 did not take (the apps allow
// extras so that the message is ours): "" when there are none.
inline std::string extras_problem(const CLI::App& app) {
  const std::vector<std::string> extras = app.remaining();
  if (extras.empty()) return "";
  const std::string& a = extras.front();
  if (!a.empty() && a[0] == '-') return "unknown option '" + a + "'";
  return "unexpected argument '" + a + "'";
}

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_CLI_OPTIONS_H_
