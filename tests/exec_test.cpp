// `allocbench exec`: a real program (tests/exec_probe.cpp) run per allocator
// and repetition under LD_PRELOAD, through allocbench_exec; rows in
// results.csv, stdout compared with glibc's, crashes and timeouts recorded,
// the RSS timeline sampled at the requested rate, non-malloc allocators refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <sstream>
#include <string>

#include "tests/cli_test_util.h"

namespace allocbench {
namespace {

using namespace cli_test;

// A sanitizer's runtime must come first in a process, and the jemalloc and
// mimalloc cells (which name their libraries) are not built there.
#ifdef ALLOCBENCH_SANITIZER_BUILD
#define SKIP_UNDER_SANITIZER() GTEST_SKIP() << "sanitizer build: no preloaded library runs"
#else
#define SKIP_UNDER_SANITIZER() (void)0
#endif

const std::string kProbe = ALLOCBENCH_EXEC_PROBE;

std::string exec_cmd(const std::string& args, const std::string& out, const std::string& program) {
  return bin() + " exec " + args + " --out " + out + " -- " + program;
}

// The rows of DIR/results.csv by "allocator.rREP".
std::map<std::string, std::map<std::string, std::string>> rows_by_run(const std::string& dir) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (auto& row : rows(dir + "/results.csv")) {
    out[row["allocator"] + ".r" + row["repetition"]] = row;
  }
  return out;
}

// Runs `allocbench exec ARGS --out DIR -- PROGRAM`, which must succeed, and
// returns its rows by run.
std::map<std::string, std::map<std::string, std::string>> exec_runs(const std::string& args,
                                                                    const std::string& dir,
                                                                    const std::string& program) {
  Result r = sh(exec_cmd(args, dir, program));
  EXPECT_EQ(r.code, 0) << r.err;
  return rows_by_run(dir);
}

TEST(Exec, EachAllocatorRunsTheProgramUnderItsPreloadWithTheSameOutput) {
  SKIP_UNDER_SANITIZER();
  const std::string dir = temp_dir() + "/exec_ok";
  auto runs = exec_runs("--allocators glibc,jemalloc,mimalloc --reps 2", dir, kProbe + " alloc 32");
  ASSERT_EQ(runs.size(), 6u);
  const std::map<std::string, std::string> lib = {
      {"glibc", "libc.so"}, {"jemalloc", "jemalloc"}, {"mimalloc", "mimalloc"}};
  for (auto& [key, row] : runs) {
    SCOPED_TRACE(key);
    EXPECT_EQ(row["status"], "ok") << row["error"];
    EXPECT_EQ(row["workload"], "exec:exec_probe");
    EXPECT_EQ(row["profile"], "default");
    EXPECT_EQ(row["threads"], "1");
    EXPECT_EQ(row["ops"], "0");
    EXPECT_EQ(row["trace_hash"], runs["glibc.r0"]["trace_hash"]);
    EXPECT_FALSE(row["adapter_version"].empty());
    EXPECT_FALSE(row["user_s"].empty());
    EXPECT_FALSE(row["minflt"].empty());
    const double peak = std::stod(row["peak_rss_bytes"]);
    const double floor = std::stod(row["baseline_rss_bytes"]);
    EXPECT_GT(floor, 0);
    EXPECT_GE(peak, floor + 32.0 * (1 << 20)) << "32 MiB were live at once";
    EXPECT_GT(std::stod(row["wall_s"]), 0);
    // The program really ran on the allocator (it names malloc's file on stderr).
    EXPECT_EQ(slurp(dir + "/exec/" + key + ".stdout"), "exec_probe done\n");
    const std::string err = slurp(dir + "/exec/" + key + ".stderr");
    EXPECT_NE(err.find(lib.at(row["allocator"])), std::string::npos) << err;
  }
  EXPECT_TRUE(exists(dir + "/context.json"));
  EXPECT_NE(slurp(dir + "/context.json").find("\"command\": \"exec\""), std::string::npos);
  // A DIR with results is refused without --force, and moved away with it.
  Result r = sh(exec_cmd("--allocators glibc", dir, kProbe + " alloc 1"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("already holds results"), std::string::npos) << r.err;
  r = sh(exec_cmd("--allocators glibc --force", dir, kProbe + " alloc 1"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(rows(dir + "/results.csv").size(), 1u);
  EXPECT_EQ(rows(dir + ".prev/results.csv").size(), 6u);
}

TEST(Exec, ACrashUnderOneAllocatorIsRecordedAndTheOthersRun) {
  SKIP_UNDER_SANITIZER();
  const std::string dir = temp_dir() + "/exec_crash";
  auto runs =
      exec_runs("--allocators glibc,jemalloc,mimalloc", dir, kProbe + " crash-under jemalloc");
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs["jemalloc.r0"]["status"], "crashed");
  EXPECT_NE(runs["jemalloc.r0"]["error"].find("signal 11"), std::string::npos)
      << runs["jemalloc.r0"]["error"];
  EXPECT_EQ(runs["glibc.r0"]["status"], "ok") << runs["glibc.r0"]["error"];
  EXPECT_EQ(runs["mimalloc.r0"]["status"], "ok") << runs["mimalloc.r0"]["error"];
}

TEST(Exec, OutputThatDiffersFromGlibcsOrANonZeroExitIsAnError) {
  SKIP_UNDER_SANITIZER();
  const std::string dir = temp_dir() + "/exec_differ";
  auto runs = exec_runs("--allocators jemalloc,glibc", dir, kProbe + " differ");
  EXPECT_EQ(runs["glibc.r0"]["status"], "ok") << runs["glibc.r0"]["error"];
  EXPECT_EQ(runs["jemalloc.r0"]["status"], "error");
  EXPECT_NE(runs["jemalloc.r0"]["error"].find("stdout differs from that of glibc rep 0"),
            std::string::npos)
      << runs["jemalloc.r0"]["error"];
  Result r = sh(exec_cmd("--allocators glibc --force", dir, "/bin/sh -c 'echo oops >&2; exit 3'"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto row = rows(dir + "/results.csv").at(0);
  EXPECT_EQ(row["status"], "error");
  EXPECT_EQ(row["error"], "exited with status 3: oops");
  EXPECT_EQ(row["workload"], "exec:sh");
}

TEST(Exec, TimeoutKillsTheProgram) {
  SKIP_UNDER_SANITIZER();
  const std::string dir = temp_dir() + "/exec_timeout";
  Result r = sh(exec_cmd("--allocators glibc --timeout 1 --name hang", dir, kProbe + " hang"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto row = rows(dir + "/results.csv").at(0);
  EXPECT_EQ(row["status"], "timeout");
  EXPECT_EQ(row["workload"], "exec:hang");
  // Its process group was killed: no exec_probe hang is left.
  EXPECT_NE(sh("pgrep -f 'exec_prob[e] hang'").code, 0);  // [e]: not pgrep's own shell
}

TEST(Exec, TimelineIsSampledAtTheRequestedRate) {
  SKIP_UNDER_SANITIZER();
  const std::string dir = temp_dir() + "/exec_timeline";
  Result r = sh(exec_cmd("--allocators glibc --sample-ms 10", dir, kProbe + " sleep 1000"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(rows(dir + "/results.csv").at(0)["status"], "ok");
  std::istringstream in(slurp(dir + "/timeline.csv"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "run_id,allocator,rep,t_ms,rss_bytes");
  int samples = 0;
  double last_t = -1, max_rss = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    ASSERT_TRUE(csv_split(line, &f));
    ASSERT_EQ(f.size(), 5u) << line;
    EXPECT_EQ(f[1], "glibc");
    const double t = std::stod(f[3]);
    EXPECT_GT(t, last_t) << line;
    last_t = t;
    max_rss = std::max(max_rss, std::stod(f[4]));
    ++samples;
  }
  // 1 s at one sample per 10 ms, within 20%.
  EXPECT_GE(samples, 80);
  EXPECT_LE(samples, 120);
  EXPECT_GE(max_rss, 8.0 * (1 << 20)) << "the program holds 8 MiB while it sleeps";
}

TEST(Exec, OnlyMallocFamilyAllocatorsAreAccepted) {
  const std::string dir = temp_dir() + "/exec_refused";
  Result r = sh(exec_cmd("--allocators glibc,pmr_monotonic", dir, "/bin/true"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'pmr_monotonic' does not replace malloc"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("{glibc,jemalloc,tcmalloc,mimalloc,tbbmalloc,scudo,inhouse"),
            std::string::npos)
      << r.err;
  r = sh(exec_cmd("--allocators nosuch", dir, "/bin/true"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown allocator 'nosuch'"), std::string::npos) << r.err;
  r = sh(bin() + " exec --allocators glibc --out " + dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("exec needs the program"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(dir)) << "nothing is written for a refused command line";
}

// scripts and users call the helper directly with its first usage.
TEST(Exec, HelperKeepsItsPlainUsage) {
  const std::string dir = temp_dir();
  Result r = sh(build_dir() + "/allocbench_exec " + dir + "/report -- /bin/true");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string report = slurp(dir + "/report");
  EXPECT_EQ(report.rfind("wall_s=", 0), 0u) << report;
  EXPECT_NE(report.find(" peak_rss_bytes="), std::string::npos) << report;
  EXPECT_NE(report.find(" exit=0 "), std::string::npos) << report;
  EXPECT_NE(report.find(" signal=0"), std::string::npos) << report;
}

}  // namespace
}  // namespace allocbench
