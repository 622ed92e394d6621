// `allocbench merge`: the shard directories of one sharded plan (run
// --shard I/N) into one run directory, after checking that they belong
// together (docs/scale_out.md).
#ifndef ALLOCBENCH_RUNNER_MERGE_COMMAND_H_
#define ALLOCBENCH_RUNNER_MERGE_COMMAND_H_

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace allocbench {

struct MergeArgs {
  std::string out;                // --out DIR: the merged run.
  std::vector<std::string> dirs;  // The shard directories, as given.
  bool allow_partial = false;     // --allow-partial: merge although cells are missing.
  bool force = false;             // --force: replace a run in DIR (moved to DIR.prev).
};

extern const char* const kMergeUsage;
extern const char* const kMergeFooter;

void add_merge_options(CLI::App* app, MergeArgs* a);

// The checks after the parse: --out and at least one directory. "" or the error.
std::string finish_merge_options(const CLI::App& app, const MergeArgs& a);

// Merges. Exit status: 0, 2 when the shards do not belong together (plan
// hash, git commit, build flags, a shard or cell given twice) or cells are
// missing without --allow-partial, 1 on an I/O error.
int cmd_merge(const MergeArgs& a, const std::string& command_line);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_MERGE_COMMAND_H_
