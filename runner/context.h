// context.json: everything needed to judge whether two runs are comparable.
#ifndef ALLOCBENCH_RUNNER_CONTEXT_H_
#define ALLOCBENCH_RUNNER_CONTEXT_H_

#include <map>
#include <string>
#include <vector>

namespace allocbench {

// A JSON string literal for `s` (quotes included).
std::string json_quote(const std::string& s);

// Lines "component: locked X, installed Y" for each toolchain.lock entry whose
// installed Debian package version differs (empty when all match or the lock
// is missing, which is reported as one entry).
std::vector<std::string> lock_mismatches(const std::string& lock_path);

struct RunContext {
  std::string run_id;
  std::string command_line;
  std::string start_time;                                 // ISO 8601, UTC.
  std::map<std::string, std::string> allocator_versions;  // Adapter -> version it reports.
  std::string config_json;                                // The run's matrix, as a JSON object.
  std::string pinned_cpus;  // --pin, or "" when not pinned.
  bool aslr_disabled = false;
  std::string notes;        // e.g. "resumed with --allow-rebuild", or "".
};

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

// The current time as ISO 8601 UTC.
std::string iso_time_now();

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_CONTEXT_H_
