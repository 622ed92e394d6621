// Real programs under LD_PRELOAD=liballoc.so. Each program under test is
// started directly with fork + execve (never through a shell or a pipeline),
// so the test knows its pid, and LD_PRELOAD is set in that program's
// environment only. Each runs twice with ALLOC_STATS=1: once without the
// preload, where no liballoc report may carry its pid, and once with it, where
// its stderr must hold "alloc stats (liballoc) pid <its pid> exe <its resolved
// path>" with allocations > 0. Both runs must exit 0 and print the same
// stdout. A report from any other process (a shell, a pipeline stage, a child
// it starts) proves nothing about the program under test and is ignored.
// Missing programs are skipped with a message.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

extern char** environ;

namespace {

// The first line of liballoc's ALLOC_STATS=1 report is
// "alloc stats (liballoc) pid PID exe PATH"; a later line is
// "  allocations:      N".
constexpr char kHeader[] = "alloc stats (liballoc)";
constexpr char kPidKey[] = " pid ";
constexpr char kExeKey[] = " exe ";
constexpr char kAllocationsKey[] = "\n  allocations:";

std::string g_dir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool have(const char* program) { return access(program, X_OK) == 0; }

// The path /proc/self/exe shows for `program` once it runs.
std::string resolved(const std::string& program) {
  char buf[PATH_MAX];
  return realpath(program.c_str(), buf) != nullptr ? std::string(buf) : program;
}

enum class Mode {
  kPlain,      // neither LD_PRELOAD nor ALLOC_STATS (setup steps)
  kStatsOnly,  // ALLOC_STATS=1 without LD_PRELOAD: the control run
  kPreload,    // LD_PRELOAD=liballoc.so ALLOC_STATS=1
};

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::kPlain:
      return "plain";
    case Mode::kStatsOnly:
      return "stats";
    case Mode::kPreload:
      return "pre";
  }
  return "?";
}

// One program under test with its arguments.
struct Spec {
  explicit Spec(std::vector<std::string> args) : argv(std::move(args)) {}

  std::vector<std::string> argv;  // argv[0] is the program's absolute path
  std::string cwd = ".";          // relative to g_dir
  std::string stdin_file;         // relative to g_dir; empty reads /dev/null
  std::string remove_before;      // file (relative to g_dir) deleted before each run
  bool expect_output = true;      // stdout must not be empty
};

struct RunResult {
  pid_t pid = -1;   // pid of the program under test
  int status = -1;  // as waitpid returns it
  std::string out;
  std::string err;
};

// Environment of the test minus LD_PRELOAD and ALLOC_STATS, plus what `mode` sets.
std::vector<std::string> child_env(Mode mode) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (strncmp(*e, "LD_PRELOAD=", 11) == 0 || strncmp(*e, "ALLOC_STATS=", 12) == 0) continue;
    env.emplace_back(*e);
  }
  if (mode != Mode::kPlain) env.emplace_back("ALLOC_STATS=1");
  if (mode == Mode::kPreload) env.emplace_back(std::string("LD_PRELOAD=") + ALLOC_SHARED_LIB);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> p;
  for (std::string& s : v) p.push_back(&s[0]);
  p.push_back(nullptr);
  return p;
}

// Runs spec.argv directly (no shell) in g_dir/spec.cwd with stdout and stderr
// captured in files named after `tag` and `mode`.
RunResult run(const Spec& spec, Mode mode, const std::string& tag) {
  RunResult r;
  std::string base = g_dir + "/" + tag + "." + mode_name(mode);
  if (!spec.remove_before.empty()) unlink((g_dir + "/" + spec.remove_before).c_str());
  std::vector<std::string> args = spec.argv;
  std::vector<std::string> env = child_env(mode);
  std::vector<char*> argv = c_strings(args);
  std::vector<char*> envp = c_strings(env);
  std::string cwd = g_dir + "/" + spec.cwd;
  std::string in_path = spec.stdin_file.empty() ? "/dev/null" : g_dir + "/" + spec.stdin_file;
  int in = open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  int out = open((base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  // O_APPEND: children of the program share this file and may write reports too.
  int err =
      open((base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (in < 0 || out < 0 || err < 0) {
    ADD_FAILURE() << tag << ": cannot open " << in_path << " or " << base
                  << ".{out,err}: " << strerror(errno);
  } else {
    r.pid = fork();
    if (r.pid == 0) {
      // Only async-signal-safe calls until execve.
      if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(126);
      if (chdir(cwd.c_str()) != 0) _exit(126);
      execve(argv[0], argv.data(), envp.data());
      static const char kMsg[] = "execve failed\n";
      ssize_t ignored = write(2, kMsg, sizeof kMsg - 1);
      (void)ignored;
      _exit(127);
    }
    if (r.pid < 0) {
      ADD_FAILURE() << tag << ": fork: " << strerror(errno);
    } else {
      while (waitpid(r.pid, &r.status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  for (int fd : {in, out, err}) {
    if (fd >= 0) close(fd);
  }
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  return r;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

::testing::AssertionResult exited_ok(const RunResult& r) {
  if (r.pid > 0 && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << describe_status(r.status) << "; stderr:\n" << r.err;
}

// Long stderr (git, g++) is cut in the middle; reports come at the end.
std::string excerpt(const std::string& s) {
  constexpr size_t kKeep = 1500;
  if (s.size() <= 2 * kKeep) return s;
  return s.substr(0, kKeep) + "\n[... " + std::to_string(s.size() - 2 * kKeep) + " bytes ...]\n" +
         s.substr(s.size() - kKeep);
}

// One liballoc report found on a stderr.
struct Report {
  long pid = -1;               // -1: the header has no "pid N exe PATH"
  std::string exe;             // as the report names it
  long long allocations = -1;  // -1: no allocations line
};

std::vector<Report> parse_reports(const std::string& err) {
  std::vector<Report> reports;
  const size_t header_len = strlen(kHeader);
  for (size_t pos = err.find(kHeader); pos != std::string::npos;) {
    size_t eol = err.find('\n', pos);
    if (eol == std::string::npos) eol = err.size();
    size_t next = err.find(kHeader, pos + header_len);
    std::string rest = err.substr(pos + header_len, eol - pos - header_len);
    Report rep;
    if (rest.compare(0, strlen(kPidKey), kPidKey) == 0) {
      size_t i = strlen(kPidKey);
      size_t digits = i;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
      if (i > digits && rest.compare(i, strlen(kExeKey), kExeKey) == 0) {
        rep.pid = strtol(rest.c_str() + digits, nullptr, 10);
        rep.exe = rest.substr(i + strlen(kExeKey));
      }
    }
    // The allocations line of this report, before the next report starts.
    size_t a = err.find(kAllocationsKey, eol);
    if (a != std::string::npos && (next == std::string::npos || a < next)) {
      rep.allocations = strtoll(err.c_str() + a + strlen(kAllocationsKey), nullptr, 10);
    }
    reports.push_back(rep);
    pos = next;
  }
  return reports;
}

std::string describe(const std::vector<Report>& reports) {
  if (reports.empty()) return "none";
  std::string s;
  for (const Report& rep : reports) {
    if (!s.empty()) s += "; ";
    s += rep.pid < 0 ? std::string("(header without pid/exe)")
                     : "pid " + std::to_string(rep.pid) + " exe " + rep.exe;
    s += " allocations " + std::to_string(rep.allocations);
  }
  return s;
}

std::vector<Report> reports_of(const RunResult& r) {
  std::vector<Report> mine;
  if (r.pid <= 0) return mine;
  for (const Report& rep : parse_reports(r.err)) {
    if (rep.pid == static_cast<long>(r.pid)) mine.push_back(rep);
  }
  return mine;
}

// Success only if liballoc reported from the process r.pid itself, running
// `program`, with at least one allocation. Reports of other pids do not count.
::testing::AssertionResult served_by_liballoc(const RunResult& r, const std::string& program) {
  const std::string exe = resolved(program);
  std::vector<Report> mine = reports_of(r);
  if (r.pid <= 0 || mine.empty()) {
    return ::testing::AssertionFailure()
           << "no \"" << kHeader << kPidKey << r.pid << kExeKey << exe
           << "\" line: liballoc did not serve the program under test; reports on its stderr: "
           << describe(parse_reports(r.err)) << "\nstderr:\n"
           << excerpt(r.err);
  }
  for (const Report& rep : mine) {
    if (rep.exe != exe) {
      return ::testing::AssertionFailure()
             << "report of pid " << r.pid << " names exe " << rep.exe << ", want " << exe;
    }
    if (rep.allocations <= 0) {
      return ::testing::AssertionFailure()
             << "report of pid " << r.pid << " counts " << rep.allocations
             << " allocations (want > 0)\nstderr:\n"
             << excerpt(r.err);
    }
  }
  return ::testing::AssertionSuccess()
         << "liballoc reported for pid " << r.pid << ": " << describe(mine);
}

// Where two outputs first differ (they may be megabytes long).
::testing::AssertionResult same_output(const std::string& plain, const std::string& pre) {
  if (plain == pre) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < plain.size() && i < pre.size() && plain[i] == pre[i]) ++i;
  return ::testing::AssertionFailure()
         << "stdout differs at byte " << i << " (plain " << plain.size() << " bytes, preloaded "
         << pre.size() << " bytes): plain \"" << plain.substr(i, 80) << "\" preloaded \""
         << pre.substr(i, 80) << "\"";
}

struct Pair {
  RunResult plain;  // ALLOC_STATS=1, no LD_PRELOAD
  RunResult pre;    // ALLOC_STATS=1 LD_PRELOAD=liballoc.so
};

// The control run must not look served; the preloaded run must be served
// and print the same output.
Pair compare(const Spec& spec, const std::string& tag) {
  Pair p{run(spec, Mode::kStatsOnly, tag), run(spec, Mode::kPreload, tag)};
  const std::string& program = spec.argv[0];
  EXPECT_TRUE(exited_ok(p.plain)) << tag << " (plain)";
  EXPECT_TRUE(exited_ok(p.pre)) << tag << " (preloaded)";
  if (spec.expect_output) {
    EXPECT_FALSE(p.plain.out.empty()) << tag;
  }
  EXPECT_TRUE(same_output(p.plain.out, p.pre.out)) << tag;
  EXPECT_FALSE(served_by_liballoc(p.plain, program)) << tag << " without LD_PRELOAD";
  EXPECT_TRUE(served_by_liballoc(p.pre, program)) << tag;
  return p;
}

class InhousePreload : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/inhouse_preload_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    g_dir = tmpl;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(g_dir, ec);
    if (ec) fprintf(stderr, "could not remove %s: %s\n", g_dir.c_str(), ec.message().c_str());
  }
};

// The check is keyed on the pid of the program under test: neither
// ALLOC_STATS=1 alone nor a report from another process satisfies it.
TEST_F(InhousePreload, CheckRejectsUnpreloadedProcess) {
  RunResult bare = run(Spec{{ALLOC_PRELOAD_PROBE}}, Mode::kStatsOnly, "control");
  EXPECT_TRUE(exited_ok(bare));
  EXPECT_TRUE(reports_of(bare).empty()) << describe(reports_of(bare));
  EXPECT_FALSE(served_by_liballoc(bare, ALLOC_PRELOAD_PROBE));
  EXPECT_NE(bare.err.find("liballoc active: no"), std::string::npos) << bare.err;

  // A preloaded helper starts the probe with LD_PRELOAD removed: the stderr
  // they share holds a valid report with the same exe, but from the helper's pid.
  RunResult helper = run(Spec{{ALLOC_PRELOAD_PROBE, "--spawn-unpreloaded", ALLOC_PRELOAD_PROBE}},
                         Mode::kPreload, "spawner");
  ASSERT_TRUE(exited_ok(helper));
  long child_pid = 0;
  // The child's own output may come first.
  size_t at = helper.out.find("child pid ");
  ASSERT_NE(at, std::string::npos) << helper.out;
  ASSERT_EQ(sscanf(helper.out.c_str() + at, "child pid %ld", &child_pid), 1) << helper.out;
  ASSERT_NE(child_pid, static_cast<long>(helper.pid));
  EXPECT_TRUE(served_by_liballoc(helper, ALLOC_PRELOAD_PROBE)) << "the helper itself";
  EXPECT_NE(helper.err.find("liballoc active: no"), std::string::npos) << helper.err;
  RunResult child = helper;
  child.pid = static_cast<pid_t>(child_pid);
  EXPECT_FALSE(served_by_liballoc(child, ALLOC_PRELOAD_PROBE)) << "the unpreloaded child";
}

TEST_F(InhousePreload, OwnProbeProgram) {
  Pair p = compare(Spec{{ALLOC_PRELOAD_PROBE}}, "probe");
  EXPECT_NE(p.plain.err.find("liballoc active: no"), std::string::npos) << p.plain.err;
  EXPECT_NE(p.pre.err.find("liballoc active: yes"), std::string::npos) << p.pre.err;
}

// A library the program links runs its constructor, which allocates, before
// liballoc.so's constructors (the preloaded library is initialized after the
// program's own dependencies): malloc must work before liballoc's start-up.
// With g_empty_heap initialized at run time this crashed (as `perf --version`
// did, through glib's constructor).
TEST_F(InhousePreload, AllocationInALibraryConstructorBeforeLiballocStarts) {
  Pair p = compare(Spec{{ALLOC_EARLY_CTOR_PROBE}}, "early_ctor");
  EXPECT_NE(p.pre.out.find("failures 0"), std::string::npos) << p.pre.out;
}

// The unit test links its own static copy of the allocator (alloc_api), which
// also reports under ALLOC_STATS=1 with the same pid and exe. liballoc.so's
// report is the one more that the preloaded run must show.
TEST_F(InhousePreload, OwnUnitTestBinary) {
  Spec spec{{ALLOC_UNIT_TEST, "--gtest_brief=1"}};
  RunResult plain = run(spec, Mode::kStatsOnly, "unit");
  RunResult pre = run(spec, Mode::kPreload, "unit");
  EXPECT_TRUE(exited_ok(plain)) << plain.out;
  EXPECT_TRUE(exited_ok(pre)) << pre.out;
  EXPECT_EQ(reports_of(pre).size(), reports_of(plain).size() + 1)
      << "preloaded: " << describe(reports_of(pre)) << "\nplain: " << describe(reports_of(plain));
  EXPECT_TRUE(served_by_liballoc(pre, ALLOC_UNIT_TEST));
}

TEST_F(InhousePreload, Python) {
  if (!have("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 not installed";
  std::ofstream(g_dir + "/work.py") << R"(
import random
random.seed(7)
total = 0
for round in range(6):
    d = {i: str(i) * (i % 7) for i in range(120000)}
    l = [[j] * (j % 13) for j in range(60000)]
    s = {random.random() for _ in range(50000)}
    total += len(d) + sum(len(x) for x in l) + len(s)
    del d, l, s
big = [bytes(100000) for _ in range(200)]
total += sum(len(b) for b in big)
del big
print(total)
)";
  compare(Spec{{"/usr/bin/python3", "work.py"}}, "python");
}

TEST_F(InhousePreload, Sqlite) {
  if (!have("/usr/bin/sqlite3")) GTEST_SKIP() << "sqlite3 not installed (apt package sqlite3)";
  std::ofstream(g_dir + "/work.sql") << R"(
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v INTEGER);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
INSERT INTO t(k, v) SELECT printf('key%08d', (x * 7919) % 200000), x % 1000 FROM c;
CREATE INDEX tk ON t(k);
SELECT count(*), sum(v), min(k), max(k) FROM t;
SELECT v, count(*) FROM t GROUP BY v ORDER BY count(*) DESC, v LIMIT 5;
SELECT k FROM t WHERE k BETWEEN 'key00100000' AND 'key00100010' ORDER BY k;
DELETE FROM t WHERE v < 500;
SELECT count(*) FROM t;
)";
  Spec spec{{"/usr/bin/sqlite3", "db.sqlite"}};
  spec.stdin_file = "work.sql";
  spec.remove_before = "db.sqlite";
  compare(spec, "sqlite");
}

TEST_F(InhousePreload, Git) {
  if (!have("/usr/bin/git")) GTEST_SKIP() << "git not installed";
  // A repository with 300 commits, made once without the preload.
  std::ofstream gen(g_dir + "/gen.sh");
  gen << "set -e\nexport GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t "
         "GIT_COMMITTER_EMAIL=t@x\n"
         "git init -q repo\ncd repo\n"
         "for i in $(seq 1 300); do\n"
         "  echo line $i >> file$((i % 10)).txt\n"
         "  GIT_AUTHOR_DATE=\"$((1700000000 + i)) +0000\" GIT_COMMITTER_DATE=\"$((1700000000 + i)) "
         "+0000\" "
         "git -c commit.gpgsign=false commit -q -a -m \"commit $i\" 2>/dev/null || "
         "{ git add .; GIT_AUTHOR_DATE=\"$((1700000000 + i)) +0000\" "
         "GIT_COMMITTER_DATE=\"$((1700000000 + i)) +0000\" "
         "git -c commit.gpgsign=false commit -q -m \"commit $i\"; }\n"
         "done\n";
  gen.close();
  RunResult made = run(Spec{{"/bin/sh", "gen.sh"}}, Mode::kPlain, "gitgen");
  ASSERT_TRUE(exited_ok(made)) << made.out;
  const std::vector<std::pair<std::string, std::vector<std::string>>> steps = {
      {"gitlog", {"/usr/bin/git", "log", "--stat", "--format=%H%n%s"}},
      {"gitfsck", {"/usr/bin/git", "fsck", "--full", "--strict"}},
      {"gitcount", {"/usr/bin/git", "rev-list", "--count", "HEAD"}},
      {"gitdiff", {"/usr/bin/git", "diff", "HEAD~200", "HEAD"}},
  };
  for (const auto& step : steps) {
    Spec spec{step.second};
    spec.cwd = "repo";
    spec.expect_output = step.first != "gitfsck";  // a sound repository: nothing to say
    compare(spec, step.first);
  }
}

TEST_F(InhousePreload, Sort) {
  if (!have("/usr/bin/sort")) GTEST_SKIP() << "sort not installed";
  std::ofstream data(g_dir + "/data.txt");
  unsigned x = 12345;
  for (int i = 0; i < 300000; ++i) {
    x = x * 1103515245u + 12345u;
    data << (x >> 8) % 1000000 << ' ' << "word" << (x % 9973) << '\n';
  }
  data.close();
  compare(Spec{{"/usr/bin/sort", "--parallel=2", "-S", "32M", "data.txt"}}, "sort");
  compare(Spec{{"/usr/bin/sort", "-k2,2", "-k1,1n", "data.txt"}}, "sortkeys");
}

// g++ is only the driver; the compiler proper (cc1plus, its child) must have
// been served too.
TEST_F(InhousePreload, CxxCompile) {
  if (!have("/usr/bin/g++")) GTEST_SKIP() << "g++ not installed";
  std::ofstream(g_dir + "/prog.cpp") << R"(
#include <map>
#include <string>
#include <system_error>
#include <utility>
#include <vector>
#include <algorithm>
template <int N> struct Fib { static constexpr long v = Fib<N - 1>::v + Fib<N - 2>::v; };
template <> struct Fib<0> { static constexpr long v = 0; };
template <> struct Fib<1> { static constexpr long v = 1; };
int main() {
  std::map<std::string, std::vector<int>> m;
  for (int i = 0; i < 100; ++i) m[std::to_string(i)].push_back(i);
  std::vector<int> v(100);
  std::sort(v.begin(), v.end());
  return static_cast<int>(Fib<40>::v % 7 + m.size() % 3);
}
)";
  Pair p = compare(Spec{{"/usr/bin/g++", "-std=c++17", "-O1", "-S", "-o", "-", "prog.cpp"}}, "gxx");
  auto cc1plus_served = [](const RunResult& r) {
    for (const Report& rep : parse_reports(r.err)) {
      bool is_cc1plus =
          rep.exe.size() >= 8 && rep.exe.compare(rep.exe.size() - 8, 8, "/cc1plus") == 0;
      if (is_cc1plus && rep.pid != static_cast<long>(r.pid) && rep.allocations > 0) return true;
    }
    return false;
  };
  EXPECT_FALSE(cc1plus_served(p.plain)) << describe(parse_reports(p.plain.err));
  EXPECT_TRUE(cc1plus_served(p.pre)) << describe(parse_reports(p.pre.err));
}

}  // namespace
