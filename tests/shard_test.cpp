// run --dry-run, run --shard I/N and merge: the plan split (pure functions)
// and, end to end, two shards run at once on this machine and merged.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runner/cli_util.h"
#include "runner/plan.h"
#include "runner/run_options.h"
#include "tests/cli_test_util.h"

namespace allocbench {
namespace {

using namespace cli_test;

// 3 allocators (with the calibration) x 2 workloads x threads 1,2 x 2 reps.
const char* const kMatrix =
    "--allocators glibc,pmr_monotonic --workloads fixed_size:64,rl_churn:small --threads 1,2 "
    "--reps 2 --ops 3000 --seed 7 --order shuffled";

RunConfig matrix(uint32_t shards, uint32_t index) {
  std::vector<std::string> args = split(kMatrix, ' ');
  args.push_back("--out");
  args.push_back("/nonexistent");
  args.push_back("--shard");
  args.push_back(std::to_string(index) + "/" + std::to_string(shards));
  RunConfig c;
  EXPECT_EQ(parse_run_args(args, &c), "");
  return c;
}

TEST(ShardPlan, EveryCellInExactlyOneShardAndBalanced) {
  const RunConfig whole = matrix(1, 0);
  std::set<std::string> all;
  for (const Cell& c : build_plan(whole)) all.insert(c.key());
  ASSERT_EQ(all.size(), 24u);
  for (uint32_t n = 1; n <= 4; ++n) {
    std::map<std::string, int> seen;
    std::vector<double> load;
    for (uint32_t i = 0; i < n; ++i) {
      const RunConfig c = matrix(n, i);
      EXPECT_EQ(plan_hash(c), plan_hash(matrix(n, 0))) << "one plan hash for every shard";
      double cost = 0;
      for (const Cell& cell : shard_plan(c)) {
        ++seen[cell.key()];
        cost += estimate_cell_seconds(c, cell);
      }
      load.push_back(cost);
      EXPECT_EQ(shard_plan(c).size(), shard_plan(matrix(n, i)).size()) << "deterministic";
    }
    EXPECT_EQ(seen.size(), all.size()) << n;
    for (const auto& kv : seen) EXPECT_EQ(kv.second, 1) << kv.first << " n=" << n;
    // Largest-first greedy: no shard exceeds another by more than one group.
    const RunConfig c = matrix(n, 0);
    const double group = estimate_cell_seconds(c, Cell{"", "fixed_size", "64", 2, 0}) * 3 * 2;
    EXPECT_LE(
        *std::max_element(load.begin(), load.end()) - *std::min_element(load.begin(), load.end()),
        group + 1e-9)
        << n;
  }
  EXPECT_NE(plan_hash(matrix(2, 0)), plan_hash(matrix(4, 0))) << "the shard count is in it";
}

TEST(ShardPlan, AShardHasTheBaselineCellsOfItsGroups) {
  for (uint32_t i = 0; i < 3; ++i) {
    std::map<std::string, std::set<std::string>> allocators_of;  // group -> allocators x rep
    for (const Cell& cell : shard_plan(matrix(3, i))) {
      allocators_of[group_key(cell.workload, cell.profile, cell.threads)].insert(
          cell.allocator + "#" + std::to_string(cell.rep));
    }
    for (const auto& kv : allocators_of) {
      for (const char* a : {"glibc#0", "glibc#1", "null#0", "null#1"}) {
        EXPECT_EQ(kv.second.count(a), 1u) << kv.first << " in shard " << i << " lacks " << a;
      }
    }
  }
}

TEST(ShardPlan, BadShardsAreUsageErrors) {
  const std::string run = bin() + " run " + kMatrix + " --dry-run";
  for (const char* bad : {"2/2", "1/0", "x/2", "1", "0/2/3", "-1/2"}) {
    Result r = sh(run + " --shard " + bad);
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find("malformed --shard"), std::string::npos) << bad << ": " << r.err;
  }
  Result r = sh(run + " --shard 0/5");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("only 4 (workload, profile, threads) groups"), std::string::npos) << r.err;
}

TEST(ShardPlan, DryRunPrintsThePlanAndRunsNothing) {
  const std::string dir = temp_dir();
  Result r = sh(bin() + " run " + kMatrix + " --dry-run --shard 1/2 --out " + dir + "/o");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(": 24 cells = 3 allocators x 2 workload/profile pairs x 2 thread counts x "
                       "2 repetitions"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("estimated 0:00:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("if every cell ran into --timeout"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("shard 0/2: 12 cells, 2 groups"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("shard 1/2: 12 cells, 2 groups, estimated"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<- this run"), std::string::npos) << r.out;
  EXPECT_FALSE(exists(dir + "/o"));
  std::system(("rm -rf " + dir).c_str());
}

// The rows of a results file by cell key.
std::map<std::string, std::map<std::string, std::string>> by_key(const std::string& csv) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const auto& r : rows(csv)) {
    const std::string k = r.at("allocator") + "|" + r.at("workload") + "|" + r.at("profile") + "|" +
                          r.at("threads") + "|" + r.at("repetition");
    EXPECT_EQ(out.count(k), 0u) << "duplicate " << k;
    out[k] = r;
  }
  return out;
}

// One unsharded run and two shards run at the same time, shared by the tests.
class ShardRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = temp_dir();
    const std::string run = bin() + " run " + kMatrix + " --out ";
    whole_ = sh(run + dir_ + "/whole");
    shards_ = sh(run + dir_ + "/s0 --shard 0/2 & " + run + dir_ + "/s1 --shard 1/2 & wait");
  }
  static void TearDownTestSuite() { std::system(("rm -rf " + dir_).c_str()); }
  Result merge(const std::string& args) { return sh(bin() + " merge " + args); }

  static std::string dir_;
  static Result whole_, shards_;
};
std::string ShardRun::dir_;
Result ShardRun::whole_, ShardRun::shards_;

TEST_F(ShardRun, TwoShardsAtOnceMergeToTheUnshardedCellsAndTraces) {
  ASSERT_EQ(whole_.code, 0) << whole_.err;
  ASSERT_EQ(shards_.code, 0) << shards_.err;
  Result m = merge("--out " + dir_ + "/merged " + dir_ + "/s1 " + dir_ + "/s0");
  ASSERT_EQ(m.code, 0) << m.err;
  const auto whole = by_key(dir_ + "/whole/results.csv");
  const auto merged = by_key(dir_ + "/merged/results.csv");
  ASSERT_EQ(whole.size(), 24u);
  ASSERT_EQ(merged.size(), whole.size());
  for (const auto& kv : whole) {
    auto it = merged.find(kv.first);
    ASSERT_NE(it, merged.end()) << kv.first;
    EXPECT_EQ(it->second.at("trace_hash"), kv.second.at("trace_hash")) << kv.first;
    EXPECT_EQ(it->second.at("host"), kv.second.at("host")) << kv.first;
    EXPECT_FALSE(it->second.at("host").empty());
    if (kv.second.at("status") == "ok") {
      EXPECT_FALSE(it->second.at("harness_ns_per_op").empty()) << "per-shard calibration";
    }
  }
  for (const char* f : {"hosts/shard-0-of-2/context.json", "hosts/shard-1-of-2/context.json",
                        "hosts/shard-1-of-2/run.json", "merge.json", "context.json", "run.json"}) {
    EXPECT_TRUE(exists(dir_ + "/merged/" + f)) << f;
  }
  const std::string run_json = slurp(dir_ + "/merged/run.json");
  EXPECT_EQ(run_json.find("--shard"), std::string::npos) << run_json;
  EXPECT_EQ(run_json.find("/s0"), std::string::npos) << "its own --out, not a shard's";
  // A merged run is not resumed; its shards are.
  Result r = sh(bin() + " run --resume --out " + dir_ + "/merged");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("is a merged run"), std::string::npos) << r.err;
  // The same merge again into the same DIR is refused without --force.
  Result again = merge("--out " + dir_ + "/merged " + dir_ + "/s0 " + dir_ + "/s1");
  EXPECT_EQ(again.code, 2);
  EXPECT_EQ(merge("--force --out " + dir_ + "/merged " + dir_ + "/s0 " + dir_ + "/s1").code, 0);
}

TEST_F(ShardRun, AMissingShardIsReported) {
  ASSERT_EQ(shards_.code, 0) << shards_.err;
  Result m = merge("--out " + dir_ + "/partial " + dir_ + "/s0");
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("12 of 24 cells are missing"), std::string::npos) << m.err;
  EXPECT_NE(m.err.find("shard 1/2 (not given): 12 of 12 cells missing"), std::string::npos)
      << m.err;
  EXPECT_FALSE(exists(dir_ + "/partial/results.csv"));
  m = merge("--allow-partial --out " + dir_ + "/partial " + dir_ + "/s0");
  EXPECT_EQ(m.code, 0) << m.err;
  EXPECT_EQ(by_key(dir_ + "/partial/results.csv").size(), 12u);
  EXPECT_NE(slurp(dir_ + "/partial/merge.json").find("\"shard\": \"1/2\""), std::string::npos);
}

TEST_F(ShardRun, AShardFromAnotherCommitIsRefused) {
  ASSERT_EQ(shards_.code, 0) << shards_.err;
  const std::string other = dir_ + "/s1_other";
  sh("cp -r " + dir_ + "/s1 " + other +
     " && sed -i 's/\"git_commit\": \"[^\"]*\"/\"git_commit\": \"0123abc\"/' " + other +
     "/context.json");
  Result m = merge("--out " + dir_ + "/bad " + dir_ + "/s0 " + other);
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("the shards do not belong to one run"), std::string::npos) << m.err;
  EXPECT_NE(m.err.find("git commit 0123abc"), std::string::npos) << m.err;
  EXPECT_FALSE(exists(dir_ + "/bad/results.csv"));
}

TEST_F(ShardRun, DuplicatesAndOtherPlansAreRefused) {
  ASSERT_EQ(shards_.code, 0) << shards_.err;
  Result m = merge("--out " + dir_ + "/dup " + dir_ + "/s0 " + dir_ + "/s0");
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("shard 0/2 is given twice"), std::string::npos) << m.err;
  // The unsharded run is another plan (shard count 1).
  m = merge("--out " + dir_ + "/dup " + dir_ + "/s0 " + dir_ + "/whole");
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("plan hash"), std::string::npos) << m.err;
  m = merge("--out " + dir_ + "/dup " + dir_ + "/nosuch");
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("nosuch/run.json not found"), std::string::npos) << m.err;
}

TEST_F(ShardRun, AShardResumesItsOwnCells) {
  ASSERT_EQ(shards_.code, 0) << shards_.err;
  const std::string d = dir_ + "/s1_cut";
  // Keep the header and 3 rows: the shard was interrupted.
  sh("cp -r " + dir_ + "/s1 " + d + " && head -n 4 " + dir_ + "/s1/results.csv > " + d +
     "/results.csv");
  Result r = sh(bin() + " run --resume --out " + d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("3 of 12 cells done, 9 to run"), std::string::npos) << r.err;
  EXPECT_EQ(by_key(d + "/results.csv").size(), 12u);
  EXPECT_EQ(merge("--out " + dir_ + "/resumed " + dir_ + "/s0 " + d).code, 0);
}

}  // namespace
}  // namespace allocbench
