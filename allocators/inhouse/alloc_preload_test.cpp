// Real programs under LD_PRELOAD=liballoc.so: each runs once with and once
// without the preload and must print the same output; the preloaded run must
// show liballoc's ALLOC_STATS=1 report on stderr (proof it was active).
// Missing programs are skipped with a message.
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace {

std::string g_dir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool have(const char* program) { return access(program, X_OK) == 0; }

struct RunResult {
  int status;
  std::string out;
  std::string err;
};

// Runs `cmd` (a shell command line) in g_dir, optionally preloaded.
RunResult run(const std::string& cmd, bool preload, const std::string& tag) {
  std::string out = g_dir + "/" + tag + (preload ? ".pre" : ".plain") + ".out";
  std::string err = g_dir + "/" + tag + (preload ? ".pre" : ".plain") + ".err";
  std::string env = preload ? std::string("env LD_PRELOAD=") + ALLOC_SHARED_LIB + " ALLOC_STATS=1 "
                            : std::string("env -u LD_PRELOAD ");
  std::string full = "cd '" + g_dir + "' && " + env + "sh -c '" + cmd + "' >'" + out + "' 2>'" + err + "'";
  int status = system(full.c_str());
  return RunResult{status, slurp(out), slurp(err)};
}

void compare(const std::string& cmd, const std::string& tag) {
  RunResult plain = run(cmd, false, tag);
  RunResult pre = run(cmd, true, tag);
  EXPECT_EQ(plain.status, 0) << tag << ": " << plain.err;
  EXPECT_EQ(pre.status, 0) << tag << ": " << pre.err;
  EXPECT_FALSE(plain.out.empty()) << tag;
  EXPECT_EQ(plain.out, pre.out) << tag;
  EXPECT_NE(pre.err.find("alloc stats (liballoc)"), std::string::npos) << tag << " stderr: " << pre.err;
}

class InhousePreload : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/inhouse_preload_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    g_dir = tmpl;
  }
  static void TearDownTestSuite() {
    std::string rm = "rm -rf '" + g_dir + "'";
    if (system(rm.c_str()) != 0) fprintf(stderr, "could not remove %s\n", g_dir.c_str());
  }
};

TEST_F(InhousePreload, OwnProbeProgram) {
  compare(ALLOC_PRELOAD_PROBE, "probe");
  RunResult pre = run(ALLOC_PRELOAD_PROBE, true, "probe");
  EXPECT_NE(pre.err.find("liballoc active: yes"), std::string::npos) << pre.err;
}

TEST_F(InhousePreload, OwnUnitTestBinary) {
  RunResult pre = run(std::string(ALLOC_UNIT_TEST) + " --gtest_brief=1", true, "unit");
  EXPECT_EQ(pre.status, 0) << pre.out << pre.err;
  EXPECT_NE(pre.err.find("alloc stats (liballoc)"), std::string::npos);
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
  compare("/usr/bin/python3 work.py", "python");
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
  compare("/usr/bin/sqlite3 db.sqlite < work.sql; rm -f db.sqlite", "sqlite");
}

TEST_F(InhousePreload, Git) {
  if (!have("/usr/bin/git")) GTEST_SKIP() << "git not installed";
  // A repository with 300 commits, made once without the preload.
  std::ofstream gen(g_dir + "/gen.sh");
  gen << "set -e\nexport GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x\n"
         "git init -q repo\ncd repo\n"
         "for i in $(seq 1 300); do\n"
         "  echo line $i >> file$((i % 10)).txt\n"
         "  GIT_AUTHOR_DATE=\"$((1700000000 + i)) +0000\" GIT_COMMITTER_DATE=\"$((1700000000 + i)) +0000\" "
         "git -c commit.gpgsign=false commit -q -a -m \"commit $i\" 2>/dev/null || "
         "{ git add .; GIT_AUTHOR_DATE=\"$((1700000000 + i)) +0000\" GIT_COMMITTER_DATE=\"$((1700000000 + i)) +0000\" "
         "git -c commit.gpgsign=false commit -q -m \"commit $i\"; }\n"
         "done\n";
  gen.close();
  std::string make = "cd '" + g_dir + "' && env -u LD_PRELOAD sh gen.sh > gen.log 2>&1";
  ASSERT_EQ(system(make.c_str()), 0) << slurp(g_dir + "/gen.log");
  compare("cd repo && git log --stat --format=%H%n%s | sha1sum && git fsck --full --strict && git rev-list --count HEAD "
          "&& git diff HEAD~200 HEAD | sha1sum",
          "git");
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
  compare("/usr/bin/sort --parallel=2 -S 32M data.txt | sha1sum && /usr/bin/sort -k2,2 -k1,1n data.txt | tail -3",
          "sort");
}

TEST_F(InhousePreload, CxxCompile) {
  if (!have("/usr/bin/g++")) GTEST_SKIP() << "g++ not installed";
  std::ofstream(g_dir + "/prog.cpp") << R"(
#include <map>
#include <string>
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
  compare("/usr/bin/g++ -std=c++17 -O1 -S -o - prog.cpp | grep -v '\\.ident' | sha1sum", "gxx");
}

}  // namespace
