// Allocators that exist only as a shared library: --allocator-lib and
// --allocator-conf register them with no C++, their cells run under
// LD_PRELOAD, verify() checks that malloc really comes from the library, and
// the version comes from the Debian package that owns the file or from
// NAME=PATH@VERSION. The built-in library adapters (tbbmalloc, scudo) run the
// same way.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/cli_test_util.h"

namespace allocbench {
namespace {

using namespace cli_test;

const char* const kJemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
const char* const kNoMalloc = "/usr/lib/x86_64-linux-gnu/libz.so.1";  // Exports no malloc.

// A sanitizer's runtime must come first in a process: a sanitizer build's
// cells cannot preload a library (the runner skips those cells).
#ifdef ALLOCBENCH_SANITIZER_BUILD
#define SKIP_UNDER_SANITIZER() GTEST_SKIP() << "sanitizer build: no preloaded library runs"
#else
#define SKIP_UNDER_SANITIZER() (void)0
#endif

std::string quick_run(const std::string& args, const std::string& out) {
  return bin() + " run " + args + " --workloads fixed_size:64 --ops 2000 --no-calibrate --out " +
         out + " --force";
}

TEST(LibraryAdapter, RunsUnderPreloadWithTheVersionOfItsPackage) {
  SKIP_UNDER_SANITIZER();
  if (access(kJemalloc, R_OK) != 0) GTEST_SKIP() << kJemalloc << " is not installed";
  const std::string dir = temp_dir() + "/lib_ok";
  Result r = sh(quick_run(std::string("--allocator-lib je_so=") + kJemalloc + " --allocators je_so",
                          dir));
  ASSERT_EQ(r.code, 0) << r.err;
  auto rows_ = rows(dir + "/results.csv");
  ASSERT_EQ(rows_.size(), 1u);
  EXPECT_EQ(rows_[0]["allocator"], "je_so");
  EXPECT_EQ(rows_[0]["status"], "ok") << rows_[0]["error"];
  EXPECT_EQ(rows_[0]["adapter_version"].rfind("libjemalloc2 ", 0), 0u) << rows_[0]["adapter_version"];
  // --resume registers it again from run.json.
  r = sh(bin() + " run --resume --out " + dir);
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(LibraryAdapter, VersionGivenAfterTheAtSign) {
  SKIP_UNDER_SANITIZER();
  if (access(kJemalloc, R_OK) != 0) GTEST_SKIP() << kJemalloc << " is not installed";
  const std::string dir = temp_dir() + "/lib_at";
  Result r = sh(quick_run(std::string("--allocator-lib je_so=") + kJemalloc +
                              "@5.3-mine --allocators je_so",
                          dir));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(rows(dir + "/results.csv").at(0)["adapter_version"], "5.3-mine");
}

TEST(LibraryAdapter, LibraryWithoutMallocIsRefusedBeforeAnyWrite) {
  SKIP_UNDER_SANITIZER();
  const std::string dir = temp_dir() + "/lib_nomalloc";
  Result r = sh(quick_run(std::string("--allocator-lib noz=") + kNoMalloc + " --allocators noz",
                          dir));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--allocator-lib noz: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("does not provide malloc when preloaded"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(dir)) << "nothing is written for a refused library";
}

TEST(LibraryAdapter, BadSpecsAreUsageErrors) {
  const std::string dir = temp_dir() + "/lib_bad";
  struct Case {
    std::string args, message;
  } cases[] = {
      {"--allocator-lib je", "--allocator-lib takes NAME=PATH[@VERSION]"},
      {"--allocator-lib Je=/x.so", "--allocator-lib takes NAME=PATH[@VERSION]"},
      {"--allocator-lib je=/no/such.so", "no library file '/no/such.so'"},
      {std::string("--allocator-lib glibc=") + kJemalloc, "'glibc' is already an allocator"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    Result r = sh(quick_run(c.args, dir));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

TEST(LibraryAdapter, ConfFileRegistersEachLineAndNamesABadOne) {
  SKIP_UNDER_SANITIZER();
  if (access(kJemalloc, R_OK) != 0) GTEST_SKIP() << kJemalloc << " is not installed";
  const std::string conf = temp_dir() + "/allocators.conf";
  std::ofstream(conf) << "# name path\n\nje_a " << kJemalloc << "  # jemalloc again\nje_b "
                      << kJemalloc << "@custom\n";
  const std::string dir = temp_dir() + "/lib_conf";
  Result r = sh(quick_run("--allocator-conf " + conf + " --allocators je_a,je_b", dir));
  ASSERT_EQ(r.code, 0) << r.err;
  auto rows_ = rows(dir + "/results.csv");
  ASSERT_EQ(rows_.size(), 2u);
  for (auto& row : rows_) EXPECT_EQ(row["status"], "ok") << row["allocator"] << ": " << row["error"];

  std::ofstream(conf) << "je_a\n";
  r = sh(quick_run("--allocator-conf " + conf + " --allocators glibc", dir));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(conf + ":1: expected `NAME PATH[@VERSION]`"), std::string::npos) << r.err;
}

// tbbmalloc and scudo are built in: their cells run preloaded, and their
// version is their Debian package's.
TEST(LibraryAdapter, BuiltInTbbmallocAndScudoRun) {
  SKIP_UNDER_SANITIZER();
  const std::string dir = temp_dir() + "/lib_builtin";
  Result r = sh(quick_run("--allocators tbbmalloc,scudo", dir));
  ASSERT_EQ(r.code, 0) << r.err;
  auto rows_ = rows(dir + "/results.csv");
  ASSERT_EQ(rows_.size(), 2u);
  for (auto& row : rows_) {
    SCOPED_TRACE(row["allocator"]);
    if (row["status"] == "error" && row["error"].find("is not installed") != std::string::npos) {
      continue;  // scripts/setup.sh installs them; the setup_packages test checks it.
    }
    EXPECT_EQ(row["status"], "ok") << row["error"];
    const std::string pkg = row["allocator"] == "tbbmalloc" ? "libtbbmalloc2 " : "libclang-rt-14-dev ";
    EXPECT_EQ(row["adapter_version"].rfind(pkg, 0), 0u) << row["adapter_version"];
  }
}

}  // namespace
}  // namespace allocbench
