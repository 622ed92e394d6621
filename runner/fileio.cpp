#include "runner/fileio.h"

#include "allocators/common/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace allocbench {
namespace {

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::string dir_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string write_all_durably(int fd, const std::string& text, const std::string& what) {
  if (int e = platform::write_fully(fd, text.data(), text.size()); e != 0) {
    errno = e;
    return errno_text("cannot write", what);
  }
  if (fsync(fd) != 0 && errno != EINVAL) return errno_text("cannot write", what);
  return "";
}

std::string write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_text("cannot create", tmp);
  std::string err = write_all_durably(fd, text, tmp);
  if (close(fd) != 0 && err.empty()) err = errno_text("cannot write", tmp);
  if (!err.empty()) {
    unlink(tmp.c_str());
    return err;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno_text("cannot rename " + tmp + " to", path);
    unlink(tmp.c_str());
    return err;
  }
  int dfd = open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return "";
}

std::string append_with_header(const std::string& path, const std::string& header,
                               const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return errno_text("cannot open", path);
  struct stat st;
  std::string all = text;
  if (fstat(fd, &st) == 0 && st.st_size == 0) all = header + text;
  std::string err = write_all_durably(fd, all, path);
  if (close(fd) != 0 && err.empty()) err = errno_text("cannot write", path);
  return err;
}

int lock_out_dir(const std::string& dir, std::string* err, bool* busy) {
  *busy = false;
  const std::string path = dir + "/.allocbench.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *err = errno_text("cannot open", path);
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      char buf[32] = {0};
      ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
      std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      *busy = true;
      *err = dir + " is in use by another allocbench run" + (pid.empty() ? "" : " (pid " + pid + ")") +
             "; wait for it to finish or choose another --out";
    } else {
      *err = errno_text("cannot lock", path);
    }
    close(fd);
    return -1;
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    *err = errno_text("cannot write", path);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace allocbench
