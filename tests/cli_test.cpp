// The allocbench command line (CLI11): help on every command, --opt=value,
// missing values, choices, --version, --force on any path; and run.json /
// context.json as written by this and earlier versions.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
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

std::string source_dir() { return std::string(ALLOCBENCH_TEST_FIXTURES) + "/../.."; }

TEST(Cli, HelpOnEveryCommand) {
  struct Case {
    std::string args, usage;
  } cases[] = {
      {"--help", "usage: allocbench list\n"},
      {"-h", "usage: allocbench list\n"},
      {"help", "usage: allocbench list\n"},
      {"run --help", "usage: allocbench run [--allocators"},
      {"run -h", "usage: allocbench run [--allocators"},
      {"run --ops 5 --help", "usage: allocbench run [--allocators"},
      {"list --help", "usage: allocbench list\n"},
      {"--seed 3 --help", "usage: allocbench list\n"},
      {"record --help", "usage: allocbench record --out FILE -- PROGRAM [ARGS...]\n"},
      {"trace-info --help", "usage: allocbench trace-info FILE\n"},
  };
  for (const Case& c : cases) {
    Result r = sh(bin() + " " + c.args);
    EXPECT_EQ(r.code, 0) << c.args << ": " << r.err;
    EXPECT_EQ(r.out.rfind(c.usage, 0), 0u) << c.args << " -> " << r.out;
    EXPECT_EQ(r.err, "") << c.args;
  }
  EXPECT_NE(sh(bin() + " run --help").out.find("--min-time SECONDS"), std::string::npos);
  EXPECT_NE(sh(bin() + " --help").out.find("--allocator NAME"), std::string::npos);
  EXPECT_NE(sh(bin() + " --help").out.find("       allocbench trace-info FILE\n"),
            std::string::npos);
  // No arguments at all: the help, on stderr, as a usage error.
  Result none = sh(bin());
  EXPECT_EQ(none.code, 2);
  EXPECT_EQ(none.err.rfind("usage: allocbench", 0), 0u) << none.err;
}

TEST(Cli, OptionEqualsValueIsTheSameAsTwoWords) {
  const std::string a = temp_dir() + "/a", b = temp_dir() + "/b";
  const std::string common = " run --allocators glibc --workloads mixed_sizes:small --no-calibrate";
  Result r1 = sh(bin() + common + " --ops 5 --threads 2 --out " + a);
  ASSERT_EQ(r1.code, 0) << r1.err;
  Result r2 = sh(bin() + common + " --ops=5 --threads=2 --out=" + b);
  ASSERT_EQ(r2.code, 0) << r2.err;
  auto ra = rows(a + "/results.csv"), rb = rows(b + "/results.csv");
  ASSERT_EQ(ra.size(), 1u);
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(rb[0]["ops"], "5");
  EXPECT_EQ(rb[0]["threads"], "2");
  EXPECT_EQ(ra[0]["trace_hash"], rb[0]["trace_hash"]);
  // The single-run form too.
  Result s = sh(bin() + " --ops=500 --profile=small --seed=3");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("profile=small seed=3 ops=500 allocator=glibc"), std::string::npos) << s.out;
}

// An option followed by another option has no value; before CLI11 the
// runner took "--out" as the thread count.
TEST(Cli, MissingValueIsAUsageErrorNamingTheOption) {
  const std::string dir = temp_dir();
  for (const std::string& args :
       {"run --threads --out " + dir + "/o", "run --out " + dir + "/o --threads",
        "run --out " + dir + "/o --threads="}) {
    Result r = sh(bin() + " " + args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(r.err, "allocbench: --threads needs a value\nTry 'allocbench --help'.\n") << args;
    EXPECT_FALSE(exists(dir + "/o")) << args << " wrote output";
  }
  Result s = sh(bin() + " --ops --json");
  EXPECT_EQ(s.code, 2);
  EXPECT_NE(s.err.find("--ops needs a value"), std::string::npos) << s.err;
}

// Every validated choice names the valid ones, in either spelling of the
// option, and in the cell child too.
TEST(Cli, UnknownChoicesNameTheValidOnes) {
  const std::string dir = temp_dir();
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"run --allocators nosuch --out " + dir + "/o", "unknown allocator 'nosuch'; choose from {"},
      {"run --allocators=glibc,nosuch --out " + dir + "/o",
       "unknown allocator 'nosuch'; choose from {"},
      {"run --workloads=nosuch --out " + dir + "/o", "unknown workload 'nosuch'; choose from {"},
      {"run --workloads=ttl_ring:huge --out " + dir + "/o",
       "unknown profile 'huge' for workload ttl_ring; choose from {default}"},
      {"run --order=random --out " + dir + "/o",
       "invalid --order 'random'; choose from {sequential,shuffled}"},
      {"--allocator=nosuch",
       "allocbench: invalid allocator \"nosuch\"\nusage: allocbench --allocator {"},
      {"--profile=huge",
       "allocbench: invalid profile \"huge\"\nusage: allocbench --profile {small,mixed,large}"},
  };
  for (const Case& c : cases) {
    Result r = sh(bin() + " " + c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << " -> " << r.err;
    if (c.expect.find("allocator") != std::string::npos) {
      EXPECT_NE(r.err.find("glibc,jemalloc,"), std::string::npos) << c.args << " -> " << r.err;
    }
  }
  EXPECT_FALSE(exists(dir + "/o"));
  Result cell = sh(build_dir() + "/allocbench_cell --describe nosuch");
  EXPECT_EQ(cell.code, 2);
  EXPECT_NE(cell.err.find("unknown adapter 'nosuch'; choose from {"), std::string::npos)
      << cell.err;
  EXPECT_NE(cell.err.find("glibc"), std::string::npos) << cell.err;
}

TEST(Cli, VersionPrintsTheBuildsGitCommit) {
  Result v = sh(bin() + " --version");
  ASSERT_EQ(v.code, 0) << v.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(v.out, m,
                               std::regex("allocbench 1\\.0 \\(git ([0-9a-f]{40})(-dirty)?\\)\n")))
      << v.out;
  EXPECT_EQ(m[1].str(), sh("git -C " + source_dir() + " rev-parse HEAD").out.substr(0, 40));
}

// The number after "label: " in the single-run report, commas dropped.
double report_value(const std::string& out, const std::string& label) {
  size_t at = out.find("\n" + label + ": ");
  if (at == std::string::npos) return -1;
  std::string digits;
  for (size_t i = at + label.size() + 3; i < out.size() && out[i] != '\n'; ++i) {
    if (out[i] != ',') digits += out[i];
  }
  return std::stod(digits);
}

// alloc/s is allocations per second spent allocating, free/s frees per
// second spent freeing (they were both calls over the whole replay's time,
// hence always equal). A test adapter spins 4 us in every allocation and
// frees at no cost: noise only adds time, so alloc/s stays under 1/4 us, and
// frees are many times faster. The spin is long against the timing's own
// cost, which is about 0.6 us a call under ThreadSanitizer (at a 400 ns spin
// the ratio there was 3.9 and this test failed in CI).
TEST(Cli, SingleRunAllocAndFreeRatesEachCountTheirOwnTime) {
  constexpr double kSpinNs = 4000;
  Result r = sh("ALLOCBENCH_TEST_ADAPTERS=1 ALLOCBENCH_SPIN_NS=4000 " + bin() +
                " --ops 20000 --profile small --allocator test_spin_1x");
  ASSERT_EQ(r.code, 0) << r.err;
  const double alloc = report_value(r.out, "alloc/s"), free = report_value(r.out, "free/s");
  EXPECT_GT(alloc, 0) << r.out;
  EXPECT_LT(alloc, 1.1e9 / kSpinNs) << r.out;
  EXPECT_GT(free, 4 * alloc) << r.out;
}

// The cell child reads its (internal) command line like allocbench.
TEST(Cli, CellChildCommandLine) {
  const std::string cell = build_dir() + "/allocbench_cell";
  Result d = sh(cell + " --describe=glibc");
  EXPECT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find("@ab version="), std::string::npos) << d.out;
  Result r = sh(cell +
                " --adapter=glibc --workload ttl_ring --profile=default --threads=1 --ops=500"
                " --seed 1 --lat-sample=0");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("@ab status=ok"), std::string::npos) << r.out;
  for (const char* bad : {"--ops 12x", "--threads --ops 5", "--max-replays 0", "--bogus 1"}) {
    Result b = sh(cell + " --adapter glibc " + bad);
    EXPECT_EQ(b.code, 2) << bad;
    EXPECT_EQ(b.err.rfind("allocbench_cell: ", 0), 0u) << bad << " -> " << b.err;
  }
  EXPECT_EQ(sh(cell + " --help").code, 0);
}

// The slab adapter's depot knobs: a bad value fails the cell with a message
// naming it (verify()), a good one runs.
TEST(Cli, SlabDepotEnvironmentIsChecked) {
  const std::string cell = build_dir() + "/allocbench_cell";
  const std::string run =
      " --adapter=slab --workload fixed_size --profile=64 --threads=1 --ops=2000 --seed 1"
      " --lat-sample=0";
  for (const char* bad :
       {"ALLOCBENCH_SLAB_DEPOT_HALVES=x", "ALLOCBENCH_SLAB_DEPOT_HALVES=-1",
        "ALLOCBENCH_SLAB_DEPOT_HALVES=2000000", "ALLOCBENCH_SLAB_DEPOT_CHECK=2"}) {
    Result d = sh(std::string(bad) + " " + cell + " --describe=slab");
    EXPECT_EQ(d.code, 0) << bad;
    EXPECT_NE(d.out.find("@ab verify=" + std::string(bad) + ": not an integer in 0.."),
              std::string::npos)
        << bad << " -> " << d.out;
    Result r = sh(std::string(bad) + " " + cell + run);
    EXPECT_NE(r.out.find("@ab status=error"), std::string::npos) << bad << " -> " << r.out;
  }
  for (const char* good : {"ALLOCBENCH_SLAB_DEPOT_HALVES=0", "ALLOCBENCH_SLAB_DEPOT_CHECK=1"}) {
    Result r = sh(std::string(good) + " " + cell + run);
    EXPECT_EQ(r.code, 0) << good << " -> " << r.err;
    EXPECT_NE(r.out.find("@ab status=ok"), std::string::npos) << good << " -> " << r.out;
  }
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
