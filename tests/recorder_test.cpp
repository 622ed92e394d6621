// `allocbench record` end to end: the probe (every interposed call, threads,
// fork, exec, death by signal) counted exactly by `allocbench trace-info`,
// and real programs (python3, sqlite3, g++ -c) that must print the same with
// the recorder as without it and leave sane traces.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli_test_util.h"
#include "workloads/recorded_trace.h"

namespace allocbench {
namespace {

using namespace cli_test;
using Counts = std::map<std::string, uint64_t>;

// What one round of the probe adds to its own trace (recorder_probe.cpp).
const Counts kPerRound = {
    {"events", 51},
    {"allocations", 24},
    {"frees", 25},
    {"reallocs", 2},
    {"op malloc", 4},
    {"op calloc", 1},
    {"op realloc", 2},
    {"op realloc_null", 1},
    {"op realloc_zero", 1},
    {"op free", 11},
    {"op posix_memalign", 1},
    {"op aligned_alloc", 1},
    {"op memalign", 1},
    {"op valloc", 1},
    {"op pvalloc", 1},
    {"op new", 3},
    {"op new[]", 2},
    {"op new_nothrow", 1},
    {"op new[]_nothrow", 1},
    {"op new_aligned", 2},
    {"op new[]_aligned", 2},
    {"op new_aligned_nothrow", 1},
    {"op new[]_aligned_nothrow", 1},
    {"op delete", 2},
    {"op delete[]", 1},
    {"op delete_sized", 1},
    {"op delete[]_sized", 1},
    {"op delete_aligned", 1},
    {"op delete[]_aligned", 1},
    {"op delete_sized_aligned", 1},
    {"op delete[]_sized_aligned", 1},
    {"op delete_nothrow", 1},
    {"op delete[]_nothrow", 1},
    {"op delete_aligned_nothrow", 1},
    {"op delete[]_aligned_nothrow", 1},
    {"cross_thread_frees", 2},
    {"unknown_frees", 1},
    {"unknown_reallocs", 1},
    {"leaked_objects", 1},
    {"leaked_bytes", 77},
};

std::string probe() { return RECORDER_PROBE; }

struct Info {
  int code = -1;
  std::string out, err;
  Counts counts;                            // Every "key  number" line.
  std::map<std::string, std::string> text;  // Every line: key -> the rest.
};

Info trace_info(const std::string& file) {
  Info info;
  Result r = sh(bin() + " trace-info " + file);
  info.code = r.code;
  info.out = r.out;
  info.err = r.err;
  std::istringstream in(r.out);
  std::string line;
  static const std::regex kLine("^(\\S+(?: \\S+)?) +(.*)$");
  static const std::regex kNumber("^[0-9]+$");
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, kLine)) continue;
    info.text[m[1]] = m[2];
    if (std::regex_match(m[2].str(), kNumber)) info.counts[m[1]] = std::stoull(m[2]);
  }
  return info;
}

struct Recording {
  Result run;
  std::vector<std::string> files;  // From "allocbench: trace FILE: ..." lines, root first.
};

Recording record(const std::string& out, const std::string& command) {
  Recording rec;
  rec.run = sh(bin() + " record --out " + out + " -- " + command);
  std::istringstream in(rec.run.err);
  std::string line;
  static const std::regex kTrace("^allocbench: trace (\\S+): pid .*$");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kTrace)) rec.files.push_back(m[1]);
  }
  return rec;
}

// The file of `rec` whose trace-info says `process` matches `origin`.
std::string file_with_origin(const Recording& rec, const std::string& origin) {
  for (const std::string& f : rec.files) {
    if (trace_info(f).text["process"].find("(" + origin + ")") != std::string::npos) return f;
  }
  return "";
}

// trace(N = k) - trace(N = 0) is k rounds, for every count, exactly; every
// count not in kPerRound (the other op kinds, thread count, ...) is equal.
void expect_rounds(const Info& base, const Info& with, uint64_t k, const std::string& what) {
  for (const auto& [key, v] : with.counts) {
    if (key.rfind("peak_", 0) == 0 || key.rfind("size ", 0) == 0) continue;
    if (key.rfind("thread ", 0) == 0) continue;  // Per thread: they share the rounds.
    auto per = kPerRound.find(key);
    uint64_t want = base.counts.count(key) ? base.counts.at(key) : 0;
    if (per != kPerRound.end()) want += k * per->second;
    EXPECT_EQ(v, want) << what << ": " << key;
  }
  for (const auto& [key, v] : kPerRound) EXPECT_TRUE(with.counts.count(key)) << key;
  EXPECT_EQ(with.counts.at("unmatched"), 0u) << what;
  EXPECT_EQ(with.counts.at("missing_seqs"), 0u) << what;
}

TEST(Recorder, ProbeCountsAreExactAndTheForkChildHasItsOwnFile) {
  const std::string dir = temp_dir();
  Recording r0 = record(dir + "/n0.trace", probe() + " run 0");
  Recording r3 = record(dir + "/n3.trace", probe() + " run 3");
  ASSERT_EQ(r0.run.code, 0) << r0.run.err;
  ASSERT_EQ(r3.run.code, 0) << r3.run.err;
  EXPECT_EQ(r3.run.out, "probe done\n");
  ASSERT_FALSE(r0.files.empty());
  ASSERT_EQ(r0.files[0], dir + "/n0.trace");
  Info base = trace_info(dir + "/n0.trace"), with = trace_info(dir + "/n3.trace");
  ASSERT_EQ(base.code, 0) << base.err;
  ASSERT_EQ(with.code, 0) << with.err;
  EXPECT_EQ(with.text["ended"], "exit");
  EXPECT_EQ(with.counts["threads"], 2u);  // main and the worker
  EXPECT_NE(with.text["process"].find("(root)"), std::string::npos) << with.text["process"];
  EXPECT_NE(with.text["command"].find("recorder_probe run 3"), std::string::npos);
  expect_rounds(base, with, 3, "run");
  // The child that recorded nothing left no file; the one that did, one of its own.
  EXPECT_EQ(r0.files.size(), 1u) << r0.run.err;
  ASSERT_EQ(r3.files.size(), 2u) << r3.run.err;
  Info child = trace_info(r3.files[1]);
  ASSERT_EQ(child.code, 0) << child.err;
  EXPECT_NE(child.text["process"].find("(fork)"), std::string::npos) << child.text["process"];
  EXPECT_EQ(child.text["ended"], "_exit");
  EXPECT_EQ(child.counts["threads"], 1u);
  EXPECT_EQ(child.counts["events"], 9u);
  EXPECT_EQ(child.counts["op malloc"], 3u);
  EXPECT_EQ(child.counts["op free"], 6u);
  EXPECT_EQ(child.counts["inherited_frees"], 3u);
  EXPECT_EQ(child.counts["leaked_objects"], 0u);
  EXPECT_EQ(child.counts["unknown_frees"], 0u);
}

TEST(Recorder, DeathBySignalLosesNoEvent) {
  const std::string dir = temp_dir();
  const struct {
    const char* mode;
    int sig;
    const char* name;
  } cases[] = {{"segv", 11, "SIGSEGV"},
               {"abort", 6, "SIGABRT"},
               {"term", 15, "SIGTERM"},
               {"int", 2, "SIGINT"}};
  for (const auto& c : cases) {
    const std::string base_file = dir + "/" + c.mode + "0.trace";
    const std::string file = dir + "/" + c.mode + "2.trace";
    Recording r0 = record(base_file, probe() + " " + c.mode + " 0");
    Recording r2 = record(file, probe() + " " + c.mode + " 2");
    EXPECT_EQ(r2.run.code, 128 + c.sig) << c.mode << ": " << r2.run.err;
    EXPECT_NE(r2.run.err.find(std::string("died of ") + c.name), std::string::npos) << r2.run.err;
    Info base = trace_info(base_file), with = trace_info(file);
    ASSERT_EQ(with.code, 0) << with.err;
    EXPECT_EQ(with.text["ended"], "signal " + std::to_string(c.sig) + " (" + c.name + ")");
    expect_rounds(base, with, 2, c.mode);
  }
}

// A program that closes every descriptor and puts another file where the
// recorder's was: the recorder notices (fstat before each chunk), opens its
// file again, and loses nothing.
TEST(Recorder, TheProgramClosingItsDescriptorsLosesNothing) {
  const std::string dir = temp_dir();
  Recording r0 = record(dir + "/c0.trace", probe() + " closefds 0");
  Recording r2 = record(dir + "/c2.trace", probe() + " closefds 2");
  ASSERT_EQ(r2.run.code, 0) << r2.run.err;
  EXPECT_EQ(r2.run.err.find("recording stops"), std::string::npos) << r2.run.err;
  Info base = trace_info(dir + "/c0.trace"), with = trace_info(dir + "/c2.trace");
  ASSERT_EQ(with.code, 0) << with.err;
  EXPECT_EQ(with.text["ended"], "exit");
  expect_rounds(base, with, 2, "closefds");
}

TEST(Recorder, ExecFlushesAndTheNewImageWritesItsOwnFile) {
  const std::string dir = temp_dir();
  Recording r = record(dir + "/e.trace", probe() + " exec 0");
  ASSERT_EQ(r.run.code, 0) << r.run.err;
  EXPECT_EQ(r.run.out, "probe done\nprobe done\n");
  Info root = trace_info(dir + "/e.trace");
  EXPECT_EQ(root.text["ended"], "exec");
  const std::string image = file_with_origin(r, "exec");
  ASSERT_NE(image, "") << r.run.err;
  Info img = trace_info(image);
  EXPECT_EQ(img.text["ended"], "exit");
  EXPECT_NE(img.text["command"].find("run 1"), std::string::npos) << img.text["command"];
  EXPECT_EQ(img.counts["op pvalloc"], 1u);
  EXPECT_EQ(img.counts["op delete[]_sized_aligned"], 1u);
  // Same pid: the image is <file>.<pid> of the root's pid.
  EXPECT_EQ(image.rfind(dir + "/e.trace.", 0), 0u);
  EXPECT_NE(file_with_origin(r, "fork"), "") << "the exec'd image's fork child";
  EXPECT_EQ(r.files.size(), 3u) << r.run.err;
}

// Threads racing through malloc, realloc and frees of each other's blocks,
// and forks in the middle: the map of addresses to ids never loses an entry
// to a reused address (no unknown frees), no event is lost or out of order
// (the reader refuses a free before its allocation), and the fork children
// neither deadlock nor leave bad files.
TEST(Recorder, ThreadsRacingAndForkingLoseNothing) {
  const std::string dir = temp_dir();
  const uint64_t n = 20000, threads = 4;
  Recording r0 = record(dir + "/s0.trace", probe() + " stress 0");
  Recording r = record(dir + "/s.trace", probe() + " stress " + std::to_string(n));
  ASSERT_EQ(r.run.code, 0) << r.run.err;
  Info base = trace_info(dir + "/s0.trace"), i = trace_info(dir + "/s.trace");
  ASSERT_EQ(i.code, 0) << i.err;
  EXPECT_EQ(i.text["ended"], "exit");
  EXPECT_EQ(i.counts["threads"], base.counts["threads"] + threads);
  EXPECT_EQ(i.counts["op malloc"], base.counts["op malloc"] + n * threads);
  EXPECT_EQ(i.counts["op realloc"], base.counts["op realloc"] + n * threads);
  EXPECT_EQ(i.counts["op free"], base.counts["op free"] + n * threads);
  EXPECT_EQ(i.counts["unknown_frees"], 0u);
  EXPECT_EQ(i.counts["unmatched"], 0u);
  EXPECT_EQ(i.counts["missing_seqs"], 0u);
  EXPECT_EQ(i.counts["leaked_objects"], base.counts["leaked_objects"]);
  EXPECT_GT(i.counts["cross_thread_frees"], 0u);  // As the threads happen to overlap.
  ASSERT_EQ(r.files.size(), 4u) << r.run.err;
  for (size_t f = 1; f < r.files.size(); ++f) {
    Info c = trace_info(r.files[f]);
    EXPECT_EQ(c.code, 0) << c.err;
    EXPECT_EQ(c.text["ended"], "_exit");
    EXPECT_EQ(c.counts["op malloc"], 1u);
    EXPECT_EQ(c.counts["op free"], 1u);
  }
}

// A real multi-threaded recording (threads freeing each other's blocks)
// replays as trace:FILE with every thread's handovers, on allocators of
// every kind, and finishes: no handover waits forever.
TEST(Recorder, ARealMultiThreadedRecordingReplays) {
  const std::string dir = temp_dir();
  Recording r = record(dir + "/s.trace", probe() + " stress 3000");
  ASSERT_EQ(r.run.code, 0) << r.run.err;
  Info i = trace_info(dir + "/s.trace");
  Result run = sh(bin() + " run --allocators glibc,jemalloc,mimalloc,pool_tls --reps 1 " +
                  "--timeout 60 --workloads trace:" + dir + "/s.trace --out " + dir + "/run");
  ASSERT_EQ(run.code, 0) << run.err;
  auto rs = rows(dir + "/run/results.csv");
  ASSERT_EQ(rs.size(), 5u);  // and the calibration
  for (auto& row : rs) {
    EXPECT_EQ(row["status"], "ok") << row["allocator"] << ": " << row["error"];
    EXPECT_EQ(row["threads"], std::to_string(i.counts["threads"]));
    EXPECT_EQ(row["repair_leaks_freed"], std::to_string(i.counts["leaked_objects"]));
    EXPECT_EQ(row["repair_dropped_frees"], std::to_string(i.counts["unknown_frees"]));
  }
}

TEST(Recorder, UsageAndProgramErrors) {
  const std::string dir = temp_dir();
  const struct {
    std::string args;
    int code;
    std::string message;
  } cases[] = {
      {"-- true", 2, "allocbench: record needs --out FILE\n"},
      {"--out " + dir + "/x.trace", 2, "allocbench: record needs the program to run after --\n"},
      {"--out " + dir + "/x.trace true", 2,
       "allocbench: unexpected argument 'true' (the program goes after --)\n"},
      {"--out " + dir + "/nosuch/x.trace -- true", 2,
       "allocbench: --out's directory '" + dir + "/nosuch' does not exist\n"},
      {"--out " + dir + " -- true", 2, "allocbench: --out '" + dir + "' is a directory\n"},
      {"--out " + dir + "/x.trace -- /nonexistent/prog", 127,
       "allocbench: cannot run '/nonexistent/prog': No such file or directory\n"},
  };
  for (const auto& c : cases) {
    Result r = sh(bin() + " record " + c.args);
    EXPECT_EQ(r.code, c.code) << c.args << ": " << r.err;
    EXPECT_EQ(r.err.rfind(c.message, 0), 0u) << c.args << ": " << r.err;
  }
  // The program's status is record's; an old trace is replaced.
  Result fails = sh(bin() + " record --out " + dir + "/f.trace -- sh -c 'exit 7'");
  EXPECT_EQ(fails.code, 7) << fails.err;
  Result again = sh(bin() + " record --out " + dir + "/f.trace -- true");
  EXPECT_EQ(again.code, 0) << again.err;
  Info info = trace_info(dir + "/f.trace");
  EXPECT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.text["command"].find("true"), std::string::npos) << info.text["command"];
}

// The checks every real program's trace must pass.
void expect_sane(const std::string& file, bool root) {
  Info i = trace_info(file);
  ASSERT_EQ(i.code, 0) << file << ": " << i.err;
  EXPECT_EQ(i.err, "") << file;
  EXPECT_EQ(i.text["ended"], "exit") << file;
  EXPECT_GT(i.counts["events"], root ? 100u : 10u) << file;
  EXPECT_EQ(i.counts["allocations"] + i.counts["frees"] + i.counts["reallocs"], i.counts["events"]);
  EXPECT_LE(i.counts["frees"], i.counts["allocations"] + i.counts["unknown_frees"] +
                                   i.counts["inherited_frees"] + i.counts["unknown_reallocs"]);
  EXPECT_EQ(i.counts["unmatched"], 0u) << file;
  EXPECT_EQ(i.counts["missing_seqs"], 0u) << file;
  EXPECT_GT(i.counts["peak_live_bytes"], 0u) << file;
  EXPECT_LE(i.counts["leaked_objects"], i.counts["allocations"]) << file;
}

// Runs `command` (a shell command line) without and with the recorder: the
// same output and status, and sane traces. Returns the recording.
Recording same_with_recorder(const std::string& name, const std::string& command) {
  const std::string dir = temp_dir();
  Result plain = sh(command);
  Recording rec = record(dir + "/" + name + ".trace", command);
  EXPECT_EQ(rec.run.code, plain.code) << name << ": " << rec.run.err;
  EXPECT_EQ(rec.run.out, plain.out) << name;
  EXPECT_FALSE(rec.files.empty()) << rec.run.err;
  for (size_t i = 0; i < rec.files.size(); ++i) expect_sane(rec.files[i], i == 0);
  return rec;
}

TEST(Recorder, Python) {
  const std::string script =
      "import json, threading\n"
      "d = {i: [str(i)] * (i % 5) for i in range(20000)}\n"
      "t = threading.Thread(target=lambda: sorted(str(x) for x in range(30000)))\n"
      "t.start(); t.join()\n"
      "print(len(json.dumps(d)), sum(map(len, d.values())))\n";
  Recording rec = same_with_recorder("python", "/usr/bin/python3 -c '" + script + "'");
  EXPECT_NE(rec.run.out, "");
  Info i = trace_info(rec.files.at(0));
  EXPECT_GE(i.counts["threads"], 2u);
  EXPECT_GT(i.counts["op malloc"], 1000u);
}

// CPython installs its KeyboardInterrupt handler only when SIGINT's action is
// the default: the recorder's own handler must not show. Python then dies of
// SIGINT itself, after its traceback, and the trace ends with that signal.
TEST(Recorder, PythonSeesTheDefaultSigintAction) {
  const std::string command =
      "/usr/bin/python3 -c 'import os, signal; os.kill(os.getpid(), signal.SIGINT)'";
  Result plain = sh(command);
  const std::string dir = temp_dir();
  Recording rec = record(dir + "/int.trace", command);
  EXPECT_EQ(plain.code, 130);  // Killed by SIGINT (the shell's 128 + 2).
  EXPECT_NE(plain.err.find("KeyboardInterrupt"), std::string::npos) << plain.err;
  EXPECT_EQ(rec.run.code, 130) << rec.run.err;
  EXPECT_NE(rec.run.err.find("KeyboardInterrupt"), std::string::npos) << rec.run.err;
  Info i = trace_info(dir + "/int.trace");
  EXPECT_EQ(i.text["ended"], "signal 2 (SIGINT)");
  EXPECT_EQ(i.counts["unmatched"], 0u);
}

TEST(Recorder, Sqlite3) {
  const std::string dir = temp_dir();
  std::ofstream sql(dir + "/rows.sql");
  sql << "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);\nBEGIN;\n";
  for (int i = 0; i < 5000; ++i) {
    sql << "INSERT INTO t(name, v) VALUES ('name" << i % 97 << "', " << i * 0.5 << ");\n";
  }
  sql << "COMMIT;\nCREATE INDEX ti ON t(name);\n"
         "SELECT name, count(*), sum(v) FROM t GROUP BY name ORDER BY name LIMIT 5;\n";
  sql.close();
  Recording rec = same_with_recorder("sqlite3", "sqlite3 :memory: < " + dir + "/rows.sql");
  EXPECT_NE(rec.run.out.find("name0|"), std::string::npos) << rec.run.out;
}

TEST(Recorder, GxxCompile) {
  const std::string dir = temp_dir();
  std::ofstream(dir + "/small.cpp") << "#include <map>\n#include <string>\n"
                                       "int f(int n) { std::map<int, std::string> m;\n"
                                       "  for (int i = 0; i < n; ++i) m[i] = std::to_string(i);\n"
                                       "  return static_cast<int>(m.size()); }\n";
  Recording rec = same_with_recorder(
      "gxx", "g++ -std=c++17 -O1 -c " + dir + "/small.cpp -o " + dir + "/small.o");
  EXPECT_TRUE(exists(dir + "/small.o"));
  // The driver runs cc1plus and as (vfork and exec): each has its file.
  int images = 0;
  for (const std::string& f : rec.files) {
    std::string cmd = trace_info(f).text["command"];
    if (cmd.find("cc1plus") != std::string::npos || cmd.rfind("as ", 0) == 0) ++images;
  }
  EXPECT_GE(images, 2) << rec.run.err;
}

}  // namespace
}  // namespace allocbench
