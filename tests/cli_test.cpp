// The allocbench command line and the files it reads back: --force on any
// path, and run.json / context.json as written by this and earlier versions.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "runner/context.h"
#include "runner/run_files.h"
#include "tests/cli_test_util.h"

namespace allocbench {
namespace {

using namespace cli_test;

std::string fixture(const std::string& name) {
  return std::string(ALLOCBENCH_TEST_FIXTURES) + "/" + name;
}

// --force moves the old run aside without a shell, so any byte of the path
// is safe (the old `rm -rf '<path>'` broke on a quote).
TEST(Cli, ForceOnAPathWithAQuote) {
  const std::string dir = temp_dir() + "/it's \"here\"";
  // The shell quoting of the test itself: close, escaped quote, reopen.
  std::string quoted = "'";
  for (char ch : dir) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  quoted += "'";
  const std::string run = bin() + " run --allocators glibc --workloads ttl_ring --ops 1000" +
                          " --no-calibrate --out " + quoted;
  ASSERT_EQ(sh(run).code, 0);
  const std::string first_id = rows(dir + "/results.csv").at(0)["run_id"];
  for (int i = 0; i < 2; ++i) {  // The second time DIR.prev exists and is replaced.
    Result r = sh(run + " --force");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(exists(dir + ".prev/results.csv"));
    EXPECT_EQ(rows(dir + "/results.csv").size(), 1u);
  }
  EXPECT_NE(rows(dir + ".prev/results.csv").at(0)["run_id"], first_id)
      << "DIR.prev holds the run just before, not the first one";
}

TEST(Cli, ReadsRunJsonOfEarlierVersions) {
  std::string run_id;
  std::vector<std::string> args;
  BuildIdentity build;
  ASSERT_EQ(read_run_json(fixture("run_v1.json"), &run_id, &args, &build), "");
  EXPECT_EQ(run_id, "20261201T160701Z-6030");
  EXPECT_EQ(build.git_commit, "2679159ac83928c1fc3199db3f0cbace9b9ee9f8-dirty");
  EXPECT_EQ(build.build_flags, "Release:  -O2 -g");
  EXPECT_EQ(build.binaries, "3ab352c2d31035c3");
  EXPECT_EQ(args,
            (std::vector<std::string>{"--allocators", "glibc", "--workloads", "ttl_ring", "--ops",
                                      "1000", "--pin", "0", "--out", "/tmp/abrunOLD/run"}));
  // The old writer's escapes, and a file without the build fields.
  const std::string dir = temp_dir();
  {
    std::ofstream out(dir + "/run.json");
    out << "{\n  \"run_id\": \"r1\",\n  \"args\": [\"--out\", \"/tmp/a\\\"b\\\\c\\u0001\"]\n}\n";
  }
  args.clear();
  ASSERT_EQ(read_run_json(dir + "/run.json", &run_id, &args, &build), "");
  EXPECT_EQ(run_id, "r1");
  EXPECT_EQ(build.git_commit, "");
  EXPECT_EQ(args, (std::vector<std::string>{"--out", "/tmp/a\"b\\c\x01"}));
  {
    std::ofstream out(dir + "/run.json");
    out << "{\"run_id\": \"r1\", \"args\": [\"--out\", ";
  }
  EXPECT_NE(read_run_json(dir + "/run.json", &run_id, &args, &build).find("is corrupt"),
            std::string::npos);
}

TEST(Cli, RunJsonAndContextJsonRoundTrip) {
  const std::string dir = temp_dir() + "/rt";
  ASSERT_EQ(
      sh(bin() + " run --allocators glibc --workloads ttl_ring --ops 1000 --pin 0 --out " + dir)
          .code,
      0);
  std::string run_id;
  std::vector<std::string> args;
  BuildIdentity build;
  ASSERT_EQ(read_run_json(dir + "/run.json", &run_id, &args, &build), "");
  EXPECT_EQ(run_id, rows(dir + "/results.csv").at(0)["run_id"]);
  EXPECT_EQ(args.back(), dir);
  RunContext ctx;
  ASSERT_EQ(read_context(dir + "/context.json", &ctx), "");
  EXPECT_EQ(ctx.run_id, run_id);
  EXPECT_EQ(ctx.pinned_cpus, "0");
  EXPECT_EQ(ctx.allocator_versions.count("glibc"), 1u);
  EXPECT_EQ(ctx.config["allocators"], nlohmann::ordered_json({"glibc", "null"}));
  EXPECT_EQ(ctx.config["timeout_s"], 1200);
}

TEST(Cli, ReadsContextJsonOfEarlierVersions) {
  RunContext ctx;
  ASSERT_EQ(read_context(fixture("context_v1.json"), &ctx), "");
  EXPECT_EQ(ctx.run_id, "20261201T160701Z-6030");
  EXPECT_EQ(ctx.start_time, "2026-12-01T16:07:01Z");
  EXPECT_EQ(ctx.pinned_cpus, "0");
  EXPECT_FALSE(ctx.aslr_disabled);
  EXPECT_EQ(ctx.allocator_versions.at("glibc"), "2.36");
  EXPECT_EQ(ctx.config["workloads"], nlohmann::ordered_json({"ttl_ring:default"}));
  EXPECT_EQ(ctx.config["ops"], 1000);
}

}  // namespace
}  // namespace allocbench
