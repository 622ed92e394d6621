// The allocbench CLI as a user runs it: real processes, real files.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "runner/context.h"
#include "runner/csv.h"
#include "tests/cli_test_util.h"
#include "workloads/workload.h"

namespace allocbench {
namespace {

using namespace cli_test;

TEST(Runner, HelpAndList) {
  Result h = sh(bin() + " --help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("usage: allocbench"), std::string::npos);
  Result l = sh(bin() + " list");
  EXPECT_EQ(l.code, 0);
  for (const char* name : {"glibc", "jemalloc", "tcmalloc", "mimalloc", "pmr_monotonic",
                           "pmr_unsync_pool", "pmr_sync_pool", "null"}) {
    EXPECT_NE(l.out.find(std::string("adapter  ") + name + " "), std::string::npos) << name;
  }
  for (const char* name : {"rl_churn", "ttl_ring", "mixed_sizes"}) {
    EXPECT_NE(l.out.find(std::string("workload ") + name + " "), std::string::npos) << name;
  }
  EXPECT_EQ(l.out.find("test_crash"), std::string::npos) << "test adapters are hidden";
}

TEST(Runner, BadArgumentsExit2AndWriteNothing) {
  std::string dir = temp_dir();
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"run --allocators nosuch --out " + dir + "/o", "unknown allocator 'nosuch'; choose from {"},
      {"run --workloads nosuch --out " + dir + "/o", "unknown workload 'nosuch'; choose from {"},
      {"run --workloads mixed_sizes:huge --out " + dir + "/o", "unknown profile 'huge'"},
      {"run --ops 12x --out " + dir + "/o", "malformed number for --ops"},
      {"run --threads 1,zero --out " + dir + "/o", "malformed thread count"},
      {"run --order random --out " + dir + "/o", "invalid --order"},
      {"run --frobnicate 1 --out " + dir + "/o", "unknown option '--frobnicate'"},
      {"run --out " + dir + "/missing/parent/o", "does not exist"},
      {"run", "run needs --out DIR"},
      {"frobnicate", "unknown command 'frobnicate'"},
      {"--ops -5", "malformed number for --ops"},
      {"--allocator nosuch", "invalid allocator \"nosuch\""},
  };
  for (const Case& c : cases) {
    Result r = sh(bin() + " " + c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << " -> " << r.err;
    EXPECT_FALSE(exists(dir + "/o")) << c.args << " wrote output";
  }
  // Exactly the seed's transcript for an unknown profile.
  Result p = sh(bin() + " --profile unknown");
  EXPECT_EQ(p.code, 2);
  EXPECT_EQ(p.err,
            "allocbench: invalid profile \"unknown\"\n"
            "usage: allocbench --profile {small,mixed,large}\n");
  EXPECT_EQ(p.out, "");
}

TEST(Runner, SingleRunFormTextAndJson) {
  Result t = sh(bin() + " --seed 1337 --ops 20000 --profile small");
  ASSERT_EQ(t.code, 0) << t.err;
  std::istringstream lines(t.out);
  std::vector<std::string> l;
  for (std::string s; std::getline(lines, s);) l.push_back(s);
  ASSERT_EQ(l.size(), 7u) << t.out;
  EXPECT_EQ(l[0], "allocbench 1.0");
  EXPECT_EQ(l[1], "profile=small seed=1337 ops=20000 allocator=glibc");
  EXPECT_EQ(l[2].rfind("alloc/s: ", 0), 0u);
  EXPECT_EQ(l[3].rfind("free/s: ", 0), 0u);
  EXPECT_EQ(l[4].rfind("p50 latency: ", 0), 0u);
  EXPECT_EQ(l[5].rfind("p99 latency: ", 0), 0u);
  EXPECT_EQ(l[6].rfind("fragmentation: ", 0), 0u);
  EXPECT_EQ(l[6].back(), '%');

#ifdef ALLOCBENCH_SANITIZER_BUILD
  const std::string other = "pool_tls";  // a sanitizer build has no jemalloc cell
#else
  const std::string other = "jemalloc";
#endif
  Result j = sh(bin() + " --seed 1337 --ops 20000 --profile mixed --allocator " + other + " --json");
  ASSERT_EQ(j.code, 0) << j.err;
  const std::string allocator_key = "\"allocator\": \"" + other + "\"";
  for (const char* key : {"\"profile\": \"mixed\"", "\"seed\": 1337", "\"ops\": 20000",
                          "\"alloc_per_sec\": ", "\"free_per_sec\": ", "\"latency_ns\": {\"p50\": ",
                          "\"p99\": ", "\"fragmentation_pct\": ", allocator_key.c_str()}) {
    EXPECT_NE(j.out.find(key), std::string::npos) << key << " in " << j.out;
  }
}

TEST(Runner, MatrixRowsAndSkips) {
  std::string dir = temp_dir() + "/run";
  Result r = sh(bin() +
                " run --allocators glibc,pmr_monotonic --workloads ttl_ring,rl_churn:small"
                " --threads 1,2 --ops 5000 --out " +
                dir);
  ASSERT_EQ(r.code, 0) << r.err;
  auto rs = rows(dir + "/results.csv");
  ASSERT_EQ(rs.size(), 12u) << "2 allocators + the null calibration, x 2 workloads x 2 threads";
  std::set<std::string> seen;
  std::map<std::string, double> harness;  // workload/threads -> the calibration's ns/op.
  for (auto& row : rs) {
    if (row["allocator"] == "null") {
      harness[row["workload"] + "/" + row["threads"]] = std::stod(row["ns_per_op"]);
    }
  }
  for (auto& row : rs) {
    seen.insert(row["allocator"] + "/" + row["workload"] + "/" + row["threads"]);
    if (row["status"] == "ok") {
      // One repetition: the harness cost is the calibration's own time, and net = ns - harness.
      const double h = harness.at(row["workload"] + "/" + row["threads"]);
      EXPECT_NEAR(std::stod(row["harness_ns_per_op"]), h, 1e-3);
      EXPECT_NEAR(std::stod(row["net_ns_per_op"]), std::stod(row["ns_per_op"]) - h, 2e-3);
      EXPECT_GE(std::stoull(row["replays"]), 1u);
      EXPECT_LE(std::stod(row["lat_p50_ns"]), std::stod(row["lat_p99_ns"]));
      EXPECT_LE(std::stod(row["lat_p99_ns"]), std::stod(row["lat_max_ns"]));
      EXPECT_GT(std::stod(row["timer_ns"]), 0);
      EXPECT_EQ(row["peak_live_method"], row["threads"] == "1" ? "trace" : "sampled");
    }
    if (row["allocator"] == "null") {
      EXPECT_EQ(row["status"], "ok") << row["error"];
      EXPECT_EQ(row["peak_rss_bytes"], "") << "the calibration has no memory figures";
      EXPECT_EQ(row["overhead_ratio"], "");
      continue;
    }
    if (row["allocator"] == "pmr_monotonic" && row["workload"] == "ttl_ring") {
      EXPECT_EQ(row["status"], "skipped");
      EXPECT_NE(row["error"].find("frees only by reset"), std::string::npos);
    } else {
      EXPECT_EQ(row["status"], "ok") << row["error"];
      EXPECT_GT(std::stod(row["mops"]), 0);
      EXPECT_GT(std::stoull(row["peak_rss_bytes"]), 0u);
      EXPECT_GT(std::stoull(row["peak_live_bytes"]), 0u);
      EXPECT_GT(std::stoull(row["lat_samples"]), 0u);
      EXPECT_EQ(std::stoll(row["overhead_bytes"]),
                std::stoll(row["peak_rss_net_bytes"]) - std::stoll(row["peak_live_bytes"]));
      // The raw latency samples: float32 ns, at most 10000, beside results.csv.
      ASSERT_NE(row["lat_file"], "");
      struct stat st;
      ASSERT_EQ(stat((dir + "/" + row["lat_file"]).c_str(), &st), 0) << row["lat_file"];
      EXPECT_EQ(static_cast<uint64_t>(st.st_size),
                4 * std::min<uint64_t>(std::stoull(row["lat_samples"]), 10000));
    }
  }
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_TRUE(exists(dir + "/context.json"));
  std::string ctx = slurp(dir + "/context.json");
  for (const char* key :
       {"\"cpu_model\"", "\"cpu_id\"", "\"kernel\"", "\"compiler\"", "\"glibc\"", "\"git_commit\"",
        "\"git_dirty\"", "\"build_flags\"", "\"allocator_versions\"", "\"lock_mismatches\"",
        "\"command_line\"", "\"start_time\"", "\"thp_enabled\"", "\"cpu_governor\"",
        "\"loadavg_at_start\"", "\"pinned_cpus\"", "\"aslr_disabled\""}) {
    EXPECT_NE(ctx.find(key), std::string::npos) << key;
  }
  // cpu_id tells apart CPUs whose model name reads the same.
  EXPECT_NE(ctx.find(" family "), std::string::npos) << ctx;
  EXPECT_EQ(ctx.find("\"cpu_id\": \"unknown\""), std::string::npos) << ctx;
  // A second run into the same directory refuses and keeps the results.
  std::string before = slurp(dir + "/results.csv");
  Result again = sh(bin() + " run --allocators glibc --workloads ttl_ring --ops 1000 --out " + dir);
  EXPECT_EQ(again.code, 2);
  EXPECT_NE(again.err.find("already holds a run"), std::string::npos);
  EXPECT_EQ(slurp(dir + "/results.csv"), before);
}

TEST(Runner, SameSeedSameTraceHash) {
  std::string a = temp_dir() + "/a", b = temp_dir() + "/b", c = temp_dir() + "/c";
  std::string common =
      " run --allocators glibc --workloads mixed_sizes:small --ops 3000 --threads 2";
  ASSERT_EQ(sh(bin() + common + " --seed 5 --out " + a).code, 0);
  ASSERT_EQ(sh(bin() + common + " --seed 5 --out " + b).code, 0);
  ASSERT_EQ(sh(bin() + common + " --seed 6 --out " + c).code, 0);
  std::string ha = rows(a + "/results.csv")[0]["trace_hash"];
  EXPECT_EQ(ha, rows(b + "/results.csv")[0]["trace_hash"]);
  EXPECT_NE(ha, rows(c + "/results.csv")[0]["trace_hash"]);
}

// --order sequential runs repetitions x workloads x threads x allocators in
// listing order; --order shuffled runs the same cells in a seeded random
// order: a permutation of the sequential one, not the sequential one itself,
// the same for the same seed and another for another seed. Both are read from
// the order of the rows in results.csv, which is the order the cells ran in.
TEST(Runner, ShuffledOrderIsASeededPermutationOfTheSequentialOrder) {
  const std::vector<std::string> allocators = {"glibc", "null"};
  const std::vector<std::string> workloads = {"ttl_ring|default", "rl_churn|small"};
  const std::vector<std::string> threads = {"1", "2"};
  const int reps = 2;
  auto run_order = [&](const std::string& options) {
    std::string dir = temp_dir() + "/order";
    Result r = sh(bin() +
                  " run --allocators glibc,null --workloads ttl_ring,rl_churn:small --threads 1,2"
                  " --reps 2 --ops 500 --no-calibrate " +
                  options + " --out " + dir);
    EXPECT_EQ(r.code, 0) << options << ": " << r.err;
    std::vector<std::string> cells;
    for (auto& row : rows(dir + "/results.csv")) {
      cells.push_back(row["repetition"] + "|" + row["workload"] + "|" + row["profile"] + "|" +
                      row["threads"] + "|" + row["allocator"]);
    }
    return cells;
  };
  std::vector<std::string> listing_order;
  for (int rep = 0; rep < reps; ++rep) {
    for (const std::string& w : workloads) {
      for (const std::string& t : threads) {
        for (const std::string& a : allocators) {
          listing_order.push_back(std::to_string(rep) + "|" + w + "|" + t + "|" + a);
        }
      }
    }
  }
  const std::vector<std::string> sequential = run_order("--order sequential --seed 1");
  const std::vector<std::string> shuffled = run_order("--order shuffled --seed 1");
  const std::vector<std::string> again = run_order("--order shuffled --seed 1");
  const std::vector<std::string> other_seed = run_order("--order shuffled --seed 2");
  EXPECT_EQ(sequential, listing_order);
  std::vector<std::string> sorted_shuffled = shuffled, sorted_listing = listing_order;
  std::sort(sorted_shuffled.begin(), sorted_shuffled.end());
  std::sort(sorted_listing.begin(), sorted_listing.end());
  EXPECT_EQ(sorted_shuffled, sorted_listing) << "every cell exactly once";
  EXPECT_NE(shuffled, sequential) << "shuffled ran in the sequential order";
  EXPECT_EQ(again, shuffled) << "the same seed gave another order";
  EXPECT_NE(other_seed, shuffled) << "another seed gave the same order";
  std::vector<std::string> sorted_other = other_seed;
  std::sort(sorted_other.begin(), sorted_other.end());
  EXPECT_EQ(sorted_other, sorted_listing);
}

TEST(Runner, CrashHangAndOomAreRecordedAndTheRunGoesOn) {
  std::string dir = temp_dir() + "/faults";
  // Under a sanitizer the cell must die of the signal itself (not the
  // sanitizer's SEGV report), and a cell that stops at a null block must not
  // fail the leak check at exit: the faults are what is tested.
  Result r = sh("ASAN_OPTIONS=handle_segv=0:detect_leaks=0 TSAN_OPTIONS=handle_segv=0 "
                "ALLOCBENCH_TEST_ADAPTERS=1 BENCH_TIMEOUT=3 " + bin() +
                " run --allocators test_crash,test_hang,test_oom,glibc --workloads ttl_ring"
                " --ops 20000 --no-calibrate --out " +
                dir);
  ASSERT_EQ(r.code, 0) << r.err;
  auto rs = rows(dir + "/results.csv");
  ASSERT_EQ(rs.size(), 4u);
  std::map<std::string, std::map<std::string, std::string>> by;
  for (auto& row : rs) by[row["allocator"]] = row;
  EXPECT_EQ(by["test_crash"]["status"], "crashed");
  EXPECT_NE(by["test_crash"]["error"].find("signal 11"), std::string::npos);
  EXPECT_EQ(by["test_hang"]["status"], "timeout");
  EXPECT_NE(by["test_hang"]["error"].find("after 3 s"), std::string::npos);
  EXPECT_EQ(by["test_oom"]["status"], "oom");
  EXPECT_NE(by["test_oom"]["error"].find("returned null"), std::string::npos);
  EXPECT_EQ(by["glibc"]["status"], "ok");
}

// --strict: a non-test cell that does not end ok or skipped makes the run
// exit 3 and is named; test adapters' failures do not count; a resume
// checks every row of the run, including the ones it did not run.
TEST(Runner, StrictExitsThreeNamingFailedCellsButNotTestAdapters) {
  std::string tests_only = temp_dir() + "/strict_test_adapters";
  Result t = sh("ALLOCBENCH_TEST_ADAPTERS=1 " + bin() +
                " run --allocators test_crash,glibc --workloads ttl_ring --ops 20000 --no-calibrate"
                " --strict --out " + tests_only);
  EXPECT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(t.err.find("--strict"), std::string::npos) << t.err;

  std::string dir = temp_dir() + "/strict";
  // 30M ops of ttl_ring take well over the 1 s limit: the cell times out.
  Result r = sh(bin() + " run --allocators glibc --workloads ttl_ring --ops 30000000 --timeout 1"
                        " --no-calibrate --strict --out " + dir);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("--strict: 1 cell(s) did not end ok or skipped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("glibc ttl_ring/default t=1 rep=0: timeout"), std::string::npos) << r.err;
  Result again = sh(bin() + " run --resume --strict --out " + dir);
  EXPECT_EQ(again.code, 3) << again.err;
  EXPECT_NE(again.err.find("glibc ttl_ring/default t=1 rep=0: timeout"), std::string::npos) << again.err;

  std::string plain = temp_dir() + "/not_strict";
  Result p = sh(bin() + " run --allocators glibc --workloads ttl_ring --ops 30000000 --timeout 1"
                        " --no-calibrate --out " + plain);
  EXPECT_EQ(p.code, 0) << "without --strict a failed cell is a row, not an error: " << p.err;
}

TEST(Runner, KilledRunResumesWithEveryCellExactlyOnce) {
  std::string dir = temp_dir() + "/resume";
  std::string args =
      " run --allocators glibc,null,pmr_unsync_pool --workloads rl_churn,ttl_ring"
      " --threads 1,2 --reps 2 --order shuffled --ops 20000 --out " +
      dir;
  const size_t planned = 3 * 3 * 2 * 2;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", (bin() + args + " 2>/dev/null").c_str(), (char*)nullptr);
    _exit(127);
  }
  // Wait until a few rows are written, then kill the runner and its cell.
  for (int i = 0; i < 600; ++i) {
    CsvContents c;
    if (csv_read(dir + "/results.csv", &c).empty() && c.rows.size() >= 3) break;
    usleep(10000);
  }
  kill(-pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  // Simulate a half-written last row.
  {
    std::ofstream out(dir + "/results.csv", std::ios::app);
    out << "1,run,glibc,rl_churn,defau";
  }
  Result r = sh(bin() + " run --resume --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("discarding a half-written last row"), std::string::npos) << r.err;
  auto rs = rows(dir + "/results.csv");
  std::multiset<std::string> keys;
  for (auto& row : rs) {
    keys.insert(row["allocator"] + "|" + row["workload"] + "|" + row["profile"] + "|" +
                row["threads"] + "|" + row["repetition"]);
  }
  EXPECT_EQ(rs.size(), planned);
  std::set<std::string> unique(keys.begin(), keys.end());
  EXPECT_EQ(unique.size(), planned) << "a cell ran twice or is missing";
  std::set<std::string> run_ids;
  for (auto& row : rs) run_ids.insert(row["run_id"]);
  EXPECT_EQ(run_ids.size(), 1u) << "resumed rows keep the run id";
  EXPECT_TRUE(exists(dir + "/context.resume-1.json"));
  // Resuming a finished run runs nothing.
  Result again = sh(bin() + " run --resume --out " + dir);
  EXPECT_EQ(again.code, 0);
  EXPECT_EQ(rows(dir + "/results.csv").size(), planned);
}

TEST(Runner, ResumeRefusesACorruptFileAndLeavesItAlone) {
  std::string dir = temp_dir() + "/corrupt";
  ASSERT_EQ(
      sh(bin() + " run --allocators glibc,null --workloads ttl_ring --ops 2000 --out " + dir).code,
      0);
  std::string csv = dir + "/results.csv";
  std::string text = slurp(csv);
  size_t first_row = text.find('\n') + 1;
  text.insert(first_row, "garbage,line\n");
  {
    std::ofstream out(csv);
    out << text;
  }
  Result r = sh(bin() + " run --resume --out " + dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("malformed row"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(csv), text);
  // A file from another schema is refused too.
  {
    std::ofstream out(csv);
    out << "schema_version,other\n9,x\n";
  }
  Result s = sh(bin() + " run --resume --out " + dir);
  EXPECT_EQ(s.code, 2);
  EXPECT_NE(s.err.find("header"), std::string::npos) << s.err;
  // Resume without a run.json.
  Result n = sh(bin() + " run --resume --out " + temp_dir());
  EXPECT_EQ(n.code, 2);
  EXPECT_NE(n.err.find("run.json not found"), std::string::npos) << n.err;
}

TEST(Runner, PhaseRssAndSharedSlotCounts) {
  std::string dir = temp_dir() + "/phases";
  Result r = sh(bin() +
                " run --allocators glibc,pmr_unsync_pool --workloads "
                "size_ramp:alloc_all,basic_concurrency --threads 2 --ops 6000 --out " +
                dir);
  ASSERT_EQ(r.code, 0) << r.err;
  std::string phases = slurp(dir + "/phases.csv");
  ASSERT_EQ(phases.rfind("run_id,allocator,workload,profile,threads,repetition,phase,rss_bytes,"
                         "rss_net_bytes\n",
                         0),
            0u)
      << phases;
  size_t lines = 0;
  for (char ch : phases) lines += ch == '\n';
  EXPECT_GE(lines, 1u + 27u) << "one row per size step of thread 0";
  EXPECT_NE(phases.find(",glibc,size_ramp,alloc_all,2,0,0,"), std::string::npos);
  EXPECT_EQ(phases.find("pmr_unsync_pool,basic"), std::string::npos);
  for (auto& row : rows(dir + "/results.csv")) {
    if (row["workload"] != "basic_concurrency") continue;
    if (row["allocator"] == "pmr_unsync_pool") {
      EXPECT_EQ(row["status"], "skipped");
      continue;
    }
    ASSERT_EQ(row["status"], "ok") << row["error"];
    uint64_t allocs = std::stoull(row["allocs"]), frees = std::stoull(row["frees"]);
    EXPECT_GT(frees, 1000u);
    EXPECT_GE(allocs, frees) << "blocks left in the table are freed after the clock stops";
    EXPECT_LE(allocs - frees, 8192u) << "at most one block per shared slot is left";
    EXPECT_GE(allocs + frees, 2u * 6000u) << "each toggle allocates or frees (a lost race both)";
  }
}

// The classic multi-threaded workloads run on a malloc, a shared in-process
// adapter and the calibration (which every run adds), or are skipped for the
// reason their requirements give: xmalloc pairs threads, a per-thread
// instance cannot free another thread's blocks, a reset-only arena needs
// phase boundaries (the cache tests have them).
TEST(Runner, ClassicWorkloadsRunOrAreSkippedForTheirReason) {
  std::string dir = temp_dir() + "/classic";
  Result r = sh(bin() +
                " run --allocators glibc,pool_tls,pmr_unsync_pool,arena --workloads "
                "larson,xmalloc,cache_scratch,cache_thrash --threads 1,2 --ops 6000 --strict "
                "--out " +
                dir);
  ASSERT_EQ(r.code, 0) << r.err;
  auto rs = rows(dir + "/results.csv");
  EXPECT_EQ(rs.size(), 5u * 7u * 2u) << "5 adapters (with null) x 7 profiles x 2 thread counts";
  for (auto& row : rs) {
    const std::string& a = row["allocator"];
    const std::string& w = row["workload"];
    const bool one = row["threads"] == "1";
    SCOPED_TRACE(a + " " + w + ":" + row["profile"] + " t=" + row["threads"]);
    std::string why;  // The expected reason to skip, or empty.
    if (a == "arena" && (w == "larson" || w == "xmalloc")) {
      why = "frees only by reset";
    } else if (w == "xmalloc" && one) {
      why = "needs an even thread count";
    } else if ((a == "arena" || a == "pmr_unsync_pool") && !one && w != "cache_thrash") {
      why = "per-thread instances";
    }
    if (!why.empty()) {
      EXPECT_EQ(row["status"], "skipped");
      EXPECT_NE(row["error"].find(why), std::string::npos) << row["error"];
      continue;
    }
    ASSERT_EQ(row["status"], "ok") << row["error"];
    EXPECT_GT(std::stod(row["ns_per_op"]), 0);
    EXPECT_GT(std::stoull(row["frees"]), 0u);
  }
}

// large_churn on glibc and the calibration: the cells end ok, a replay runs
// --ops / 2500 ops per thread, and every page of the blocks was touched (the
// net peak RSS of one thread holds at least its trace's peak live bytes; at 2
// threads peak_live_bytes sums the threads' peaks, which need not coincide).
TEST(Runner, LargeChurnRunsOnGlibcWithScaledOpsAndTouchedPages) {
  std::string dir = temp_dir() + "/large_churn";
  Result r = sh(bin() + " run --allocators glibc --workloads large_churn --threads 1,2"
                " --ops 25000 --seed 2 --strict --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  auto rs = rows(dir + "/results.csv");
  ASSERT_EQ(rs.size(), 4u) << "glibc and null at 1 and 2 threads";
  for (auto& row : rs) {
    SCOPED_TRACE(row["allocator"] + " t=" + row["threads"]);
    ASSERT_EQ(row["status"], "ok") << row["error"];
    EXPECT_EQ(row["ops"], "25000");
    EXPECT_EQ(std::stoull(row["total_ops"]), 10u * std::stoull(row["threads"]));
    EXPECT_EQ(row["allocs"], row["frees"]);
    EXPECT_GE(std::stoull(row["peak_live_bytes"]), uint64_t{1} << 20);
    if (row["allocator"] == "glibc" && row["threads"] == "1") {
      EXPECT_GE(std::stod(row["peak_rss_net_bytes"]), 0.99 * std::stod(row["peak_live_bytes"]));
    }
  }
}

TEST(Runner, RepeatedNamesAreMergedAndMinTimeRepeatsReplays) {
  std::string dir = temp_dir() + "/dups";
  Result r = sh(bin() +
                " run --allocators glibc,null,glibc --workloads rl_churn:small,rl_churn:small"
                " --threads 1,1 --ops 5000 --min-time 0.05 --pin 0 --no-aslr --out " +
                dir);
  ASSERT_EQ(r.code, 0) << r.err;
  auto rs = rows(dir + "/results.csv");
  ASSERT_EQ(rs.size(), 2u) << "glibc and null once each";
  for (auto& row : rs) {
    ASSERT_EQ(row["status"], "ok") << row["error"];
    // 5000 ops take well under 50 ms, so the replays repeat until they add up to it.
    EXPECT_GT(std::stoull(row["replays"]), 1u);
    EXPECT_GE(std::stod(row["wall_s"]) * std::stod(row["replays"]), 0.05 * 0.999);
  }
  EXPECT_NE(slurp(dir + "/context.json").find("\"pinned_cpus\": \"0\""), std::string::npos);
  EXPECT_NE(slurp(dir + "/context.json").find("\"aslr_disabled\": true"), std::string::npos);
  Result bad = sh(bin() + " run --allocators glibc --min-time x --out " + temp_dir() + "/b");
  EXPECT_EQ(bad.code, 2);
  Result bad_pin = sh(bin() + " run --allocators glibc --pin a --out " + temp_dir() + "/b");
  EXPECT_EQ(bad_pin.code, 2);
}

// Replaces the first occurrence of `from` in a file.
void edit_file(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = slurp(path);
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in " << path;
  text.replace(at, from.size(), to);
  std::ofstream out(path);
  out << text;
}

TEST(Runner, ResumeRefusesAnotherBuildUnlessAllowed) {
  std::string dir = temp_dir() + "/rebuild";
  ASSERT_EQ(sh(bin() + " run --allocators glibc --workloads ttl_ring --ops 2000 --reps 2 --out " +
               dir).code,
            0);
  // Pretend the interrupted run came from other executables, and drop its last row.
  edit_file(dir + "/run.json", "\"binaries\": \"", "\"binaries\": \"0ther");
  std::string csv = slurp(dir + "/results.csv");
  std::string cut = csv.substr(0, csv.rfind('\n', csv.size() - 2) + 1);
  {
    std::ofstream out(dir + "/results.csv");
    out << cut;
  }
  Result r = sh(bin() + " run --resume --out " + dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("the build differs"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(dir + "/results.csv"), cut) << "a refused resume changes nothing";
  Result ok = sh(bin() + " run --resume --allow-rebuild --out " + dir);
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(rows(dir + "/results.csv").size(), 4u);
  EXPECT_NE(slurp(dir + "/context.resume-1.json").find("resumed with --allow-rebuild"),
            std::string::npos);
}

TEST(Runner, ResumeRefusesRowsOfAnotherTrace) {
  std::string dir = temp_dir() + "/trace";
  ASSERT_EQ(sh(bin() + " run --allocators glibc --workloads ttl_ring --ops 2000 --reps 2 --out " +
               dir).code,
            0);
  auto rs = rows(dir + "/results.csv");
  ASSERT_FALSE(rs.empty());
  edit_file(dir + "/results.csv", rs[0]["trace_hash"], "0123456789abcdef");
  Result r = sh(bin() + " run --resume --out " + dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("the trace of ttl_ring|default|1 was 0123456789abcdef"), std::string::npos)
      << r.err;
}

// The harness must recover a known per-allocation cost: two test adapters
// hand out the calibration's blocks and spin N and 2N ns per allocation
// (N = 400 ns, 40x the cycle counter's ~10 ns granularity on the development
// VM). Their net times must match the spins' own in-process cost, and differ
// by N per allocation.
TEST(Runner, NetTimeRecoversAKnownCost) {
  std::string dir = temp_dir() + "/spin";
  Result r = sh("ALLOCBENCH_TEST_ADAPTERS=1 ALLOCBENCH_SPIN_NS=400 " + bin() +
                " run --allocators test_spin_1x,test_spin_2x --workloads fixed_size:64"
                " --ops 20000 --reps 5 --order shuffled --min-time 0.1 --out " +
                dir);
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, std::vector<double>> net, known;
  double allocs_per_op = 0;
  for (auto& row : rows(dir + "/results.csv")) {
    ASSERT_EQ(row["status"], "ok") << row["allocator"] << ": " << row["error"];
    net[row["allocator"]].push_back(std::stod(row["net_ns_per_op"]));
    allocs_per_op = std::stod(row["allocs"]) / std::stod(row["total_ops"]);
    // "spin 40 ns: 52.5 ns per allocation in-process"
    const std::string& v = row["adapter_version"];
    if (row["allocator"] != "null") {
      size_t colon = v.find(": ");
      ASSERT_NE(colon, std::string::npos) << v;
      known[row["allocator"]].push_back(std::stod(v.substr(colon + 2)));
    }
  }
  // The fastest repetition of each: on a shared machine noise (preemption
  // during a spin) only ever adds time.
  auto fastest = [](std::vector<double> v) { return *std::min_element(v.begin(), v.end()); };
  const double n1 = fastest(net["test_spin_1x"]), n2 = fastest(net["test_spin_2x"]);
  // The per-op cost each spin adds, timed in-process without the harness.
  const double k1 = fastest(known["test_spin_1x"]) * allocs_per_op;
  const double k2 = fastest(known["test_spin_2x"]) * allocs_per_op;
  // The spins differ by exactly 400 ns per allocation (whole cycle-counter ticks).
  const double expected = 400.0 * allocs_per_op;
  // Generous bounds for a shared machine; the closing note has the exact figures.
  EXPECT_NEAR(n1, k1, 0.1 * k1) << "n1=" << n1 << " n2=" << n2;
  EXPECT_NEAR(n2, k2, 0.1 * k2) << "n1=" << n1 << " n2=" << n2;
  EXPECT_NEAR(n2 - n1, expected, 0.1 * expected) << "n1=" << n1 << " n2=" << n2;
  EXPECT_NEAR(n2 / n1, k2 / k1, 0.1 * k2 / k1) << "n1=" << n1 << " n2=" << n2;
  std::printf("spin: net 1x %.3f (known %.3f), 2x %.3f (known %.3f) ns/op; difference %.3f, "
              "expected %.3f; ratio %.3f, expected %.3f\n",
              n1, k1, n2, k2, n2 - n1, expected, n2 / n1, k2 / k1);
}

TEST(Runner, FailedPeakRssResetEmptiesTheMemoryColumns) {
  std::string dir = temp_dir() + "/rss";
  Result r = sh("ALLOCBENCH_TEST_ADAPTERS=1 ALLOCBENCH_FAULT_RSS_RESET=1 " + bin() +
                " run --allocators glibc --workloads ttl_ring --ops 2000 --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  for (auto& row : rows(dir + "/results.csv")) {
    if (row["allocator"] != "glibc") continue;
    EXPECT_EQ(row["status"], "ok");
    EXPECT_NE(row["error"].find("peak-RSS reset failed"), std::string::npos) << row["error"];
    for (const char* k : {"peak_rss_bytes", "peak_rss_net_bytes", "overhead_ratio",
                          "overhead_bytes", "final_rss_bytes"}) {
      EXPECT_EQ(row[k], "") << k;
    }
    EXPECT_NE(row["ns_per_op"], "") << "the times stay";
  }
}

// One thread toggling shared slots: the outcome of every toggle is decided by
// the trace alone, so the peak counted at replay must equal a simulation.
TEST(Runner, CountedPeakLiveIsExactForOneThread) {
  std::string dir = temp_dir() + "/live";
  Result r = sh(bin() + " run --allocators glibc --workloads basic_concurrency --threads 1"
                " --ops 60000 --seed 3 --no-calibrate --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  auto rs = rows(dir + "/results.csv");
  ASSERT_EQ(rs.size(), 1u);
  ASSERT_EQ(rs[0]["status"], "ok") << rs[0]["error"];
  EXPECT_EQ(rs[0]["peak_live_method"], "replay");
  const Workload* w = find_workload("basic_concurrency");
  ASSERT_NE(w, nullptr);
  ThreadTrace t = generate_trace(*w, TraceParams{"default", 3, 0, 1, 60000});
  std::map<uint32_t, bool> full;
  uint64_t live = 0, peak = 0;
  for (const Op& op : t.ops) {
    if (full[op.slot]) {
      live -= op.size;
    } else {
      live += op.size;
      peak = std::max(peak, live);
    }
    full[op.slot] = !full[op.slot];
  }
  EXPECT_EQ(std::stoull(rs[0]["peak_live_bytes"]), peak);
}

// About one op in --lat-sample is timed, across phase boundaries too (a
// sample due on a kPhase op moves to the next op instead of stopping).
TEST(Runner, LatencySamplesCoverTheWholeTrace) {
  std::string dir = temp_dir() + "/lat";
  Result r = sh(bin() + " run --allocators glibc --workloads contention,fixed_size:64 --ops 200000"
                " --lat-sample 64 --no-calibrate --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  for (auto& row : rows(dir + "/results.csv")) {
    ASSERT_EQ(row["status"], "ok") << row["error"];
    const double expected = std::stod(row["total_ops"]) / 64;
    EXPECT_GT(std::stod(row["lat_samples"]), 0.8 * expected) << row["workload"];
    EXPECT_LT(std::stod(row["lat_samples"]), 1.2 * expected) << row["workload"];
  }
}

TEST(Runner, LockMismatchesAreReported) {
  std::string dir = temp_dir();
  std::string libc = sh("dpkg-query -W -f='${Version}' libc6").out;
  ASSERT_FALSE(libc.empty());
  {
    std::ofstream out(dir + "/toolchain.lock");
    out << "# comment\n";
    out << "glibc libc6 " << libc << "\n";
    out << "jemalloc libjemalloc2 0.0.1-not-this\n";
    out << "ghost no-such-package-xyz 1.0\n";
    out << "scaleout no-such-package-abc 1.0 optional\n";  // not installed: no mismatch
  }
  std::vector<std::string> m = lock_mismatches(dir + "/toolchain.lock");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_NE(m[0].find("jemalloc (libjemalloc2): locked 0.0.1-not-this, installed "),
            std::string::npos)
      << m[0];
  EXPECT_NE(m[1].find("not installed"), std::string::npos) << m[1];
  EXPECT_EQ(lock_mismatches(dir + "/missing.lock").size(), 1u);
}

}  // namespace
}  // namespace allocbench
