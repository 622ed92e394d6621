// context.json: everything needed to judge whether two runs are comparable.
#ifndef ALLOCBENCH_RUNNER_CONTEXT_H_
#define ALLOCBENCH_RUNNER_CONTEXT_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace allocbench {

// A JSON string literal for `s` (quotes included).
std::string json_quote(const std::string& s);

// `j` as JSON text: indented by `indent` spaces (-1: one line), keys in
// insertion order. Bytes that are not UTF-8 become U+FFFD instead of failing
// (command lines and paths may hold any bytes).
std::string json_text(const nlohmann::ordered_json& j, int indent);

// Lines "component: locked X, installed Y" for each toolchain.lock entry whose
// installed Debian package version differs (empty when all match or the lock
// is missing, which is reported as one entry).
std::vector<std::string> lock_mismatches(const std::string& lock_path);

struct RunContext {
  std::string run_id;
  std::string command_line;
  std::string start_time;                                 // ISO 8601, UTC.
  std::map<std::string, std::string> allocator_versions;  // Adapter -> version it reports.
  nlohmann::ordered_json config;                          // The run's matrix (a JSON object).
  std::string pinned_cpus;                                // --pin, or "" when not pinned.
  bool aslr_disabled = false;
  std::string notes;      // e.g. "resumed with --allow-rebuild", or "".
  std::string host;       // host_name() of the machine that ran it.
  std::string shard;      // "I/N" (--shard), "0/1" for a whole plan.
  std::string plan_hash;  // plan_hash() of the run's config.
  // Read back only (write_context asks git and the build itself):
  std::string git_commit, build_flags;
  bool git_dirty = false;
};

// This machine's name (uname's nodename), the results' `host` column.
std::string host_name();

// What identifies the build that produces a run's rows: the source tree's git
// commit (with "-dirty" when it has uncommitted changes), the compile flags,
// and a fingerprint (size and modification time) of the runner's executables.
struct BuildIdentity {
  std::string git_commit;
  std::string build_flags;
  std::string binaries;  // 16 hex digits.
};
BuildIdentity build_identity(const std::string& exe_dir);

// Writes context.json (machine, toolchain, git state, lock mismatches, the run).
// Returns an empty string or an error.
std::string write_context(const std::string& path, const RunContext& ctx);

// Reads the run's part of a context.json (any written since the file had
// these fields; a missing field keeps its default). Returns "" or why the
// file cannot be read.
std::string read_context(const std::string& path, RunContext* ctx);

// The current time as ISO 8601 UTC.
std::string iso_time_now();

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_CONTEXT_H_
