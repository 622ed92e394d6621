// The runner under faults and misuse (issue 10, H1-H8): concurrent use of one
// --out, a killed runner, full disks (writes redirected to /dev/full, which
// fails every write with ENOSPC), out-of-range numbers, and tampered rows.
// Real processes and real files, as a user would meet them.
#include <gtest/gtest.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "runner/csv.h"
#include "tests/cli_test_util.h"

namespace allocbench {
namespace {

using namespace cli_test;

std::string key(std::map<std::string, std::string>& r) {
  return r["allocator"] + "|" + r["workload"] + "|" + r["profile"] + "|" + r["threads"] + "|" +
         r["repetition"];
}

// Starts the runner (no shell in between) with `env` added; returns its pid.
pid_t spawn_runner(const std::string& args, const std::string& env, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    std::string cmd = "exec env " + env + " " + bin() + " " + args + " >" + log + " 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
    _exit(127);
  }
  return pid;
}

bool wait_for_file(const std::string& path, int ms) {
  for (int i = 0; i < ms / 10; ++i) {
    if (exists(path)) return true;
    usleep(10000);
  }
  return exists(path);
}

// The pid of a cell child of `parent` running a workload (from /proc), or 0
// after `ms`.
pid_t wait_for_child(pid_t parent, int ms) {
  for (int i = 0; i < ms / 10; ++i) {
    DIR* d = opendir("/proc");
    while (dirent* e = d ? readdir(d) : nullptr) {
      pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
      if (pid <= 0) continue;
      std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
      size_t paren = stat.rfind(')');
      if (paren == std::string::npos) continue;
      std::istringstream rest(stat.substr(paren + 2));
      std::string state;
      long ppid = 0;
      rest >> state >> ppid;
      // A cell's run, not the short `--describe` probes the runner starts first.
      if (ppid == parent && stat.find("(allocbench_cel") != std::string::npos &&
          slurp("/proc/" + std::to_string(pid) + "/cmdline").find("--workload") != std::string::npos) {
        closedir(d);
        return pid;
      }
    }
    if (d) closedir(d);
    usleep(10000);
  }
  return 0;
}

bool alive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

const char* kHang = "ALLOCBENCH_TEST_ADAPTERS=1 BENCH_TIMEOUT=60";

// H1: one --out, one run at a time; --force cannot move a live run.
TEST(RunnerFaults, H1_SecondRunOnTheSameOutIsRefused) {
  std::string dir = temp_dir() + "/busy";
  const std::string log = dir + ".log";
  pid_t first = spawn_runner("run --allocators test_hang --workloads ttl_ring --ops 2000 --no-calibrate --out " + dir,
                             kHang, log);
  pid_t cell = wait_for_child(first, 10000);
  ASSERT_GT(cell, 0) << "no cell started: " << slurp(log);
  for (const char* extra : {"", " --force"}) {
    Result r = sh(bin() + " run --allocators glibc --workloads ttl_ring --ops 2000 --no-calibrate" + extra +
                  " --out " + dir);
    EXPECT_EQ(r.code, 2) << extra << ": " << r.err;
    EXPECT_NE(r.err.find("is in use by another allocbench run (pid "), std::string::npos) << r.err;
  }
  Result resume = sh(bin() + " run --resume --out " + dir);
  EXPECT_EQ(resume.code, 2) << resume.err;
  EXPECT_NE(resume.err.find("is in use"), std::string::npos) << resume.err;
  EXPECT_FALSE(exists(dir + ".prev")) << "--force moved a live run";
  EXPECT_TRUE(alive(first));
  kill(-first, SIGKILL);
  kill(-cell, SIGKILL);
  waitpid(first, nullptr, 0);
  EXPECT_FALSE(exists(dir + "/results.csv") && !rows(dir + "/results.csv").empty())
      << "the refused runs wrote rows";
}

// H2: a cell child dies with its runner, and resume kills a recorded one.
TEST(RunnerFaults, H2_CellChildDiesWithItsRunner) {
  std::string dir = temp_dir() + "/orphan";
  const std::string log = dir + ".log";
  pid_t runner = spawn_runner("run --allocators test_hang --workloads ttl_ring --ops 2000 --no-calibrate --out " + dir,
                              kHang, log);
  pid_t child = wait_for_child(runner, 10000);
  ASSERT_GT(child, 1) << "no cell started: " << slurp(log);
  ASSERT_TRUE(alive(child));
  EXPECT_TRUE(wait_for_file(dir + "/cell.pid", 2000)) << "the running cell is not recorded";
  kill(runner, SIGKILL);  // the runner only, not its group
  waitpid(runner, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    gone = !alive(child);
    if (!gone) usleep(10000);
  }
  EXPECT_TRUE(gone) << "cell " << child << " outlived its runner";
  if (!gone) kill(-child, SIGKILL);
}

// H3: a failed phases.csv write ends the run with status 1 and the errno,
// the cell is not counted as done, and resume writes the header with the
// first row.
TEST(RunnerFaults, H3_FailedPhasesWriteIsAnErrorAndResumeRepairsIt) {
  std::string dir = temp_dir() + "/phases";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(symlink("/dev/full", (dir + "/phases.csv").c_str()), 0);
  const std::string args = " run --allocators glibc --workloads size_ramp:alloc_all --ops 3000 --reps 2"
                           " --no-calibrate --out " + dir;
  Result r = sh(bin() + args);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("phases.csv: No space left on device"), std::string::npos) << r.err;
  EXPECT_TRUE(rows(dir + "/results.csv").empty()) << "a cell whose phases were lost counts as done";
  unlink((dir + "/phases.csv").c_str());
  { std::ofstream empty(dir + "/phases.csv"); }  // what a full disk leaves: a 0-byte file
  Result again = sh(bin() + " run --resume --out " + dir);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(rows(dir + "/results.csv").size(), 2u);
  std::string phases = slurp(dir + "/phases.csv");
  EXPECT_EQ(phases.rfind("run_id,allocator,workload,profile,threads,repetition,phase,", 0), 0u) << phases;
  EXPECT_NE(phases.find(",glibc,size_ramp,alloc_all,1,1,0,"), std::string::npos) << phases;
}

// H4 and H5: out-of-range numbers are refused before anything is written.
TEST(RunnerFaults, H4_H5_OutOfRangeNumbersAreRefusedBeforeAnyWrite) {
  std::string dir = temp_dir();
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"--reps 4294967295", "--reps must be in 1..10000"},
      {"--reps 0", "--reps must be in 1..10000"},
      {"--ops 99999999999", "--ops must be in 1..1000000000"},
      {"--warmup 100000", "--warmup must be in 0..1000"},
      {"--lat-sample 99999999", "--lat-sample must be in 0.."},
      {"--timeout 20000000000", "--timeout must be in 1..604800"},
      {"--threads 1,5000", "malformed thread count '5000'"},
  };
  for (const Case& c : cases) {
    Result r = sh(bin() + " run --allocators glibc --workloads ttl_ring " + c.args + " --out " + dir + "/o");
    EXPECT_EQ(r.code, 2) << c.args << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << " -> " << r.err;
    EXPECT_FALSE(exists(dir + "/o")) << c.args << " wrote output";
  }
  Result env = sh("BENCH_TIMEOUT=20000000000 " + bin() + " run --allocators glibc --workloads ttl_ring --out " +
                  dir + "/o");
  EXPECT_EQ(env.code, 2) << env.err;
  EXPECT_NE(env.err.find("BENCH_TIMEOUT must be"), std::string::npos) << env.err;
  EXPECT_FALSE(exists(dir + "/o"));
  // A large but valid timeout does not time the cell out at once.
  Result ok = sh(bin() + " run --allocators glibc --workloads ttl_ring --ops 2000 --no-calibrate --timeout 604800 --out " +
                 dir + "/ok");
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto rs = rows(dir + "/ok/results.csv");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0]["status"], "ok") << rs[0]["error"];
}

// H6: resume keeps only rows that are valid finished cells of the plan.
TEST(RunnerFaults, H6_ResumeRejectsCorruptAndForeignRows) {
  std::string dir = temp_dir() + "/tamper";
  Result r = sh(bin() + " run --allocators glibc,null --workloads ttl_ring,rl_churn:small --ops 3000 --reps 2"
                        " --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  auto rs = rows(dir + "/results.csv");
  ASSERT_EQ(rs.size(), 8u);
  std::string original_mops = rs[3]["mops"];
  rs[3]["mops"] = "banana";               // a corrupted value in a middle row
  std::string real = key(rs[5]);
  rs[5]["allocator"] = "jemalloc";        // a phantom cell, not in the plan
  rs.push_back(rs[0]);                    // a duplicate of a finished cell
  std::string text = csv_header();
  for (auto& row : rs) text += csv_row(row);
  { std::ofstream out(dir + "/results.csv"); out << text; }
  Result again = sh(bin() + " run --resume --out " + dir);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("row 4 (line 5): column mops holds 'banana'"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("row 6 (line 7): cell jemalloc ttl_ring"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("row 9 (line 10): a second row of the same cell"), std::string::npos) << again.err;
  auto after = rows(dir + "/results.csv");
  std::multiset<std::string> keys;
  for (auto& row : after) {
    keys.insert(key(row));
    EXPECT_NE(row["allocator"], "jemalloc") << "phantom cell kept";
    EXPECT_NE(row["mops"], "banana");
  }
  EXPECT_EQ(after.size(), 8u);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 8u) << "a cell twice or missing";
  EXPECT_EQ(keys.count(real), 1u) << "the tampered cell was not run again";
  EXPECT_EQ(rows(dir + "/results.rejected.csv").size(), 3u);
  (void)original_mops;
}

// H7: repeated list entries make one cell each.
TEST(RunnerFaults, H7_DuplicateListEntriesAreMerged) {
  std::string dir = temp_dir() + "/dup";
  Result r = sh(bin() + " run --allocators glibc,glibc --workloads ttl_ring,ttl_ring:default --threads 1,1"
                        " --ops 2000 --no-calibrate --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(rows(dir + "/results.csv").size(), 1u);
}

// H8: a full disk at the start: run.json is never left 0 bytes, the
// message names run.json and the errno, and resume says what happened.
TEST(RunnerFaults, H8_FullDiskAtStartLeavesNoEmptyRunJson) {
  std::string dir = temp_dir() + "/full";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(symlink("/dev/full", (dir + "/run.json.tmp").c_str()), 0);
  Result r = sh(bin() + " run --allocators glibc --workloads ttl_ring --ops 2000 --out " + dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("run.json.tmp: No space left on device"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(dir + "/run.json")) << "a run.json was left behind";
  // The old failure mode: a 0-byte run.json. Resume must say so, not "not found".
  { std::ofstream empty(dir + "/run.json"); }
  Result resume = sh(bin() + " run --resume --out " + dir);
  EXPECT_EQ(resume.code, 2);
  EXPECT_NE(resume.err.find("run.json is empty"), std::string::npos) << resume.err;
  // context.json hits the full disk too: the message names it with the errno.
  std::string dir2 = temp_dir() + "/full2";
  ASSERT_EQ(mkdir(dir2.c_str(), 0755), 0);
  ASSERT_EQ(symlink("/dev/full", (dir2 + "/context.json.tmp").c_str()), 0);
  Result ctx = sh(bin() + " run --allocators glibc --workloads ttl_ring --ops 2000 --out " + dir2);
  EXPECT_EQ(ctx.code, 1) << ctx.err;
  EXPECT_NE(ctx.err.find("context.json.tmp: No space left on device"), std::string::npos) << ctx.err;
}

}  // namespace
}  // namespace allocbench
