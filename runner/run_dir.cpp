#include "runner/run_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "runner/cli_common.h"
#include "runner/csv.h"
#include "runner/fileio.h"

namespace allocbench {
namespace {

std::string parent_dir(const std::string& p) {
  std::string s = p;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  size_t slash = s.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return s.substr(0, slash);
}

// --force: moves the run in `dir` to DIR.prev (replacing an older one there)
// and closes *lock_fd, which locked what is now DIR.prev.
int move_to_prev(const std::string& out, int* lock_fd) {
  std::string dir = out;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();  // "out/" -> "out.prev"
  const std::string prev = dir + ".prev";
  if (is_dir(prev)) {
    int prev_fd = -1;
    std::string err;
    bool busy = false;
    prev_fd = lock_out_dir(prev, &err, &busy);
    if (prev_fd < 0) return busy ? usage_error("cannot --force: " + err) : io_error(err);
    close(prev_fd);
  }
  std::error_code ec;
  std::filesystem::remove_all(prev, ec);
  if (ec) return io_error("cannot remove " + prev + ": " + ec.message());
  std::filesystem::rename(dir, prev, ec);
  if (ec) return io_error("cannot move " + dir + " to " + prev + ": " + ec.message());
  close(*lock_fd);
  *lock_fd = -1;
  return kContinue;
}

}  // namespace

bool file_exists(const std::string& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

bool is_dir(const std::string& p) {
  std::error_code ec;
  return std::filesystem::is_directory(p, ec);
}

int lock_dir(const std::string& dir, int* fd) {
  std::string err;
  bool busy = false;
  *fd = lock_out_dir(dir, &err, &busy);
  if (*fd >= 0) return kContinue;
  return busy ? usage_error(err) : io_error(err);
}

int prepare_run_dir(const std::string& dir, bool force, const std::string& refusal, int* lock_fd) {
  std::string parent = parent_dir(dir);
  if (!is_dir(parent)) {
    return usage_error("output directory's parent '" + parent + "' does not exist");
  }
  if (is_dir(dir)) {
    if (int rc = lock_dir(dir, lock_fd); rc != kContinue) return rc;
  }
  if (file_exists(dir + "/results.csv") || file_exists(dir + "/run.json")) {
    if (!force) return usage_error(refusal);
    if (int rc = move_to_prev(dir, lock_fd); rc != kContinue) return rc;
  }
  if (!is_dir(dir) && mkdir(dir.c_str(), 0755) != 0) {
    return io_error("cannot create " + dir + ": " + strerror(errno));
  }
  if (*lock_fd < 0) return lock_dir(dir, lock_fd);
  return kContinue;
}

int open_results(const std::string& csv_path, int* fd) {
  *fd = open(csv_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (*fd < 0) return io_error("cannot open " + csv_path + ": " + strerror(errno));
  struct stat st;
  if (fstat(*fd, &st) == 0 && st.st_size == 0) {
    std::string err = write_all_durably(*fd, csv_header(), csv_path);
    if (!err.empty()) {
      close(*fd);
      return io_error(err);
    }
  }
  return kContinue;
}

}  // namespace allocbench
