// Helpers of the tests that run the allocbench CLI as a user does: real
// processes, real files (runner_test, runner_fault_test).
#ifndef ALLOCBENCH_TESTS_CLI_TEST_UTIL_H_
#define ALLOCBENCH_TESTS_CLI_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "runner/csv.h"

namespace allocbench {
namespace cli_test {

inline std::string build_dir() {
  const char* d = std::getenv("ALLOCBENCH_BUILD_DIR");
  return d ? d : ".";
}

inline std::string bin() { return build_dir() + "/allocbench"; }

struct Result {
  int code;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs a shell command line; captures exit code, stdout and stderr.
inline Result sh(const std::string& cmd) {
  char tmpl[] = "/tmp/abtestXXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string full = "(" + cmd + ") >" + dir + "/out 2>" + dir + "/err";
  int st = std::system(full.c_str());
  Result r{WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(dir + "/out"), slurp(dir + "/err")};
  std::system(("rm -rf " + dir).c_str());
  return r;
}

inline std::string temp_dir() {
  char tmpl[] = "/tmp/abrunXXXXXX";
  return mkdtemp(tmpl);
}

inline bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

// The rows of a results file, which must read cleanly.
inline std::vector<std::map<std::string, std::string>> rows(const std::string& csv) {
  CsvContents c;
  std::string err = csv_read(csv, &c);
  EXPECT_EQ(err, "");
  EXPECT_FALSE(c.truncated_tail);
  return c.rows;
}

}  // namespace cli_test
}  // namespace allocbench

#endif  // ALLOCBENCH_TESTS_CLI_TEST_UTIL_H_
