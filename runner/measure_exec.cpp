// allocbench_exec: runs a program and reports its resource usage.
//
//   allocbench_exec [--preload LIB] [--pid-file FILE] [--stdout FILE]
//                   [--stderr FILE] OUTFILE -- PROGRAM [ARGS...]
//
// Writes one line of key=value fields to OUTFILE:
//   wall_s=<s> peak_rss_bytes=<bytes> exit=<code> user_s=<s> sys_s=<s>
//   minflt=<n> majflt=<n> nvcsw=<n> nivcsw=<n> signal=<n> cpu_s=<user + sys s>
// (`exit` is 128 + the signal when the program was killed by one, `signal` 0
// when it was not), and exits with `exit`. It is a small process of its own
// because Linux carries the peak RSS across exec: the program's peak RSS is
// at least this helper's RSS at fork, not that of a large parent such as
// Python or allocbench. `allocbench exec` measures that floor by running
// /bin/true the same way.
//
// --preload sets LD_PRELOAD for the program only (the helper itself never
// loads the library). --pid-file gets the program's pid as soon as it is
// forked (written to FILE.tmp and renamed, so a reader never sees half of
// it). --stdout and --stderr send the program's output to files; without
// them it inherits the helper's.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "allocators/common/platform.h"

namespace {

struct Options {
  const char* preload = nullptr;
  const char* pid_file = nullptr;
  const char* out_path = nullptr;  // --stdout
  const char* err_path = nullptr;  // --stderr
  const char* report = nullptr;    // OUTFILE
  char** program = nullptr;        // PROGRAM ARGS..., null-terminated.
};

int usage() {
  std::fprintf(stderr,
               "usage: allocbench_exec [--preload LIB] [--pid-file FILE] [--stdout FILE]\n"
               "                       [--stderr FILE] OUTFILE -- PROGRAM [ARGS...]\n");
  return 2;
}

// Parses argv into *o; false on bad usage.
bool parse(int argc, char** argv, Options* o) {
  int i = 1;
  for (; i + 1 < argc && std::strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0'; i += 2) {
    const char* v = argv[i + 1];
    if (std::strcmp(argv[i], "--preload") == 0) {
      o->preload = v;
    } else if (std::strcmp(argv[i], "--pid-file") == 0) {
      o->pid_file = v;
    } else if (std::strcmp(argv[i], "--stdout") == 0) {
      o->out_path = v;
    } else if (std::strcmp(argv[i], "--stderr") == 0) {
      o->err_path = v;
    } else {
      return false;
    }
  }
  if (i + 2 >= argc || std::strcmp(argv[i + 1], "--") != 0) return false;
  o->report = argv[i];
  o->program = argv + i + 2;
  return true;
}

// Opens an output file of the program (close-on-exec: dup2 in the child
// clears it on the copy), or -1 with a message.
int open_output(const char* path) {
  if (path == nullptr) return -1;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) std::fprintf(stderr, "allocbench_exec: cannot open %s: %s\n", path, strerror(errno));
  return fd;
}

void write_pid_file(const char* path, pid_t pid) {
  const std::string tmp = std::string(path) + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return;
  std::fprintf(f, "%d\n", static_cast<int>(pid));
  if (std::fclose(f) == 0) std::rename(tmp.c_str(), path);
}

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, &o)) return usage();
  const int out_fd = open_output(o.out_path), err_fd = open_output(o.err_path);
  if ((o.out_path != nullptr && out_fd < 0) || (o.err_path != nullptr && err_fd < 0)) return 1;
  const pid_t helper = getpid();
  const uint64_t t0 = allocbench::platform::now_ns();
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    if (allocbench::platform::die_with_parent(helper) != 0) _exit(127);
    if (out_fd >= 0) dup2(out_fd, 1);
    if (err_fd >= 0) dup2(err_fd, 2);
    if (o.preload != nullptr) setenv("LD_PRELOAD", o.preload, 1);
    execvp(o.program[0], o.program);
    std::fprintf(stderr, "allocbench_exec: cannot execute %s: %s\n", o.program[0], strerror(errno));
    _exit(127);
  }
  if (o.pid_file != nullptr) write_pid_file(o.pid_file, pid);
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) return 1;
  const double wall = static_cast<double>(allocbench::platform::now_ns() - t0) / 1e9;
  FILE* f = std::fopen(o.report, "w");
  if (f == nullptr) return 1;
  const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + sig;
  std::fprintf(f,
               "wall_s=%.6f peak_rss_bytes=%ld exit=%d user_s=%.6f sys_s=%.6f minflt=%ld "
               "majflt=%ld nvcsw=%ld nivcsw=%ld signal=%d cpu_s=%.6f\n",
               wall, ru.ru_maxrss * 1024L, code, seconds(ru.ru_utime), seconds(ru.ru_stime),
               ru.ru_minflt, ru.ru_majflt, ru.ru_nvcsw, ru.ru_nivcsw, sig,
               seconds(ru.ru_utime) + seconds(ru.ru_stime));
  if (std::fclose(f) != 0) return 1;
  return code;
}
